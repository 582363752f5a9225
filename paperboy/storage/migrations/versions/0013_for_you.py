"""a member's "For you" settings

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 12:00:00

- reader_preferences: the blend of personal relevance and trending, and the reset time.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "reader_preferences",
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("personal_share", sa.SmallInteger(), nullable=False),
        sa.Column("reset_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_reader_preferences_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_reader_preferences")),
    )


def downgrade() -> None:
    op.drop_table("reader_preferences")
