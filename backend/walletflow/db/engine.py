"""Database URLs and the async SQLAlchemy engine (asyncpg)."""

from __future__ import annotations

from urllib.parse import urlparse, urlunparse

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

POOL_SIZE = 20
POOL_MAX_OVERFLOW = 10
POOL_TIMEOUT_S = 10.0
POOL_RECYCLE_S = 1800
STATEMENT_TIMEOUT_MS = 30_000


def asyncpg_url(url: str) -> str:
    """Normalise postgres:// and postgresql:// URLs to SQLAlchemy's asyncpg dialect."""
    parsed = urlparse(url)
    if parsed.scheme in {"postgres", "postgresql"}:
        parsed = parsed._replace(scheme="postgresql+asyncpg")
    return urlunparse(parsed)


def plain_url(url: str) -> str:
    """A libpq-style URL (postgresql://) for tools that speak plain PostgreSQL."""
    parsed = urlparse(url)
    return urlunparse(parsed._replace(scheme="postgresql"))


def with_database(url: str, database: str) -> str:
    """The same server URL pointed at another database."""
    parsed = urlparse(url)
    return urlunparse(parsed._replace(path=f"/{database}"))


def create_engine(url: str, *, pool_size: int = POOL_SIZE) -> AsyncEngine:
    return create_async_engine(
        asyncpg_url(url),
        pool_size=pool_size,
        max_overflow=POOL_MAX_OVERFLOW,
        pool_timeout=POOL_TIMEOUT_S,
        # No pre-ping: it costs a round trip per checkout. A dead connection fails the unit of
        # work with a retryable error (Unavailable) and the command bus runs it again.
        pool_pre_ping=False,
        pool_recycle=POOL_RECYCLE_S,
        connect_args={
            "server_settings": {
                "statement_timeout": str(STATEMENT_TIMEOUT_MS),
                "application_name": "walletflow",
            }
        },
    )
