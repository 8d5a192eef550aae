"""A migrated template database, and a fresh clone of it per test (CREATE DATABASE … TEMPLATE)."""

from __future__ import annotations

import itertools
import os

import asyncpg

from walletflow.db.engine import plain_url, with_database
from walletflow.db.migrate import upgrade_async

_counter = itertools.count()


def _quote(name: str) -> str:
    assert name.replace("_", "").isalnum(), name
    return f'"{name}"'


async def _admin(server_url: str) -> asyncpg.Connection:
    return await asyncpg.connect(plain_url(server_url))


async def create_template(server_url: str) -> str:
    """Create and migrate this run's template database; return its name."""
    name = f"wf_template_{os.getpid()}"
    admin = await _admin(server_url)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {_quote(name)}")
    finally:
        await admin.close()
    await upgrade_async(with_database(server_url, name))
    return name


async def clone_database(server_url: str, template: str) -> str:
    """A fresh database cloned from the template; return its URL."""
    name = f"wf_test_{os.getpid()}_{next(_counter)}"
    admin = await _admin(server_url)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {_quote(name)} TEMPLATE {_quote(template)}")
    finally:
        await admin.close()
    return with_database(server_url, name)


async def drop_database(server_url: str, database_url: str) -> None:
    name = database_url.rsplit("/", 1)[1].split("?", 1)[0]
    admin = await _admin(server_url)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")
    finally:
        await admin.close()
