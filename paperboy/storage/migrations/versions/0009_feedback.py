"""a member's feedback on papers

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 09:40:00

- paper_feedback: "not interested" per member and paper (hidden from their feeds).
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "paper_feedback",
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("paper_id", _ID, nullable=False),
        sa.Column("signal", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["papers.id"], name=op.f("fk_paper_feedback_paper_id_papers"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_paper_feedback_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "paper_id", name=op.f("pk_paper_feedback")),
    )
    op.create_index("ix_paper_feedback_user_id", "paper_feedback", ["user_id", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_paper_feedback_user_id", table_name="paper_feedback")
    op.drop_table("paper_feedback")
