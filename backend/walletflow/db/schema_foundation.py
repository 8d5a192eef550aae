"""Cross-cutting tables: the permanent idempotency claims.

A claim is `(scope, key)` with the hash of the request that made it. It is inserted with
`INSERT … ON CONFLICT DO NOTHING` in the same database transaction as the work it guards and
holds the stored response once that work commits. Claims never expire (rule 2 of DESIGN.md):
there is deliberately no TTL column and no job that deletes them.
"""

from sqlalchemy import Column, DateTime, Table, Text, func
from sqlalchemy.dialects.postgresql import JSONB

from walletflow.db.metadata import metadata

idempotency_claims = Table(
    "idempotency_claims",
    metadata,
    Column("scope", Text, primary_key=True),
    Column("key", Text, primary_key=True),
    Column("request_hash", Text, nullable=False),
    Column("response", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
