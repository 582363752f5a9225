"""papers a member has seen, and their "hide seen" choice

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 11:50:00

- seen_papers: per member and paper, when they first opened it or were mailed it (saved papers
  count as seen through library_items).
- users.hide_seen: whether the member's listings leave out the papers they have seen.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "seen_papers",
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("paper_id", _ID, nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("how", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["papers.id"], name=op.f("fk_seen_papers_paper_id_papers"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_seen_papers_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "paper_id", name=op.f("pk_seen_papers")),
    )
    # A plain ADD COLUMN (no table copy on SQLite: users is referenced by every member's rows).
    op.add_column("users", sa.Column("hide_seen", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    op.drop_column("users", "hide_seen")
    op.drop_table("seen_papers")
