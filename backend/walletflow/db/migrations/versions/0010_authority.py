"""authority: payout ids a merchant supplies are its own (holds.merchant_payout_id, unique per
merchant), so two merchants may use the same id and a conflict names only the caller's

Revision ID: 0010_authority
Revises: 0011_audit_approvals
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_authority"
down_revision: str | None = "0011_audit_approvals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("holds", sa.Column("merchant_payout_id", sa.Text(), nullable=True))
    op.create_unique_constraint(
        op.f("uq_holds_merchant_id_merchant_payout_id"),
        "holds",
        ["merchant_id", "merchant_payout_id"],
    )


def downgrade() -> None:
    op.drop_constraint(op.f("uq_holds_merchant_id_merchant_payout_id"), "holds", type_="unique")
    op.drop_column("holds", "merchant_payout_id")
