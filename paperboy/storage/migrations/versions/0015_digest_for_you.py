"""a digest ranked "For you"

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 12:30:00

- digest_subscriptions.for_you: a member's digest ranked by their "For you" order instead of
  trending (subscriptions without an account never have it).
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN with a default: no table copy on SQLite, no rewrite on PostgreSQL 11+.
    op.add_column(
        "digest_subscriptions",
        sa.Column("for_you", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("digest_subscriptions", "for_you")
