"""a member's library

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 09:10:00

- library_items: the papers each member saved (private to them), newest first by saved_at.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "library_items",
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("paper_id", _ID, nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["papers.id"], name=op.f("fk_library_items_paper_id_papers"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_library_items_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "paper_id", name=op.f("pk_library_items")),
    )
    op.create_index("ix_library_items_user_id", "library_items", ["user_id", "saved_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_library_items_user_id", table_name="library_items")
    op.drop_table("library_items")
