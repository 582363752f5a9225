"""a member's "For you" scores, shared by every process

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 15:10:00

- reader_scores: a member's fitted "For you" scores of one period and category, stored by the
  process that first fitted them and read by the others (services/recommend_store.py).
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "reader_scores",
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("scores", sa.LargeBinary(), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_reader_scores_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "scope", name=op.f("pk_reader_scores")),
    )


def downgrade() -> None:
    op.drop_table("reader_scores")
