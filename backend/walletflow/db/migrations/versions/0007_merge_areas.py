"""merge the reporting, api and workers branches into one head

The three areas were built in parallel, each branching from 0003_service; from here on the
schema has a single head again.

Revision ID: 0007_merge_areas
Revises: 0004_reporting, 0005_api, 0006_workers
Create Date: 2026-11-28
"""

from collections.abc import Sequence

revision: str = "0007_merge_areas"
down_revision: str | Sequence[str] | None = ("0004_reporting", "0005_api", "0006_workers")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
