"""Command handlers: one small async function per command, `handler(command, uow)`."""
