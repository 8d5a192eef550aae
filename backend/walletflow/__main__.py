"""`python -m walletflow` is the `walletflow` command."""

from walletflow.entrypoints.cli import run

run()
