"""each paper's nearest neighbours, precomputed

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 15:00:00

- paper_neighbours: a paper's nearest papers by one model's vectors, with the vector versions
  they were computed from (services/paper_neighbours.py writes them, storage/neighbours.py reads
  them); empty until `paperboy index` or the next embedding fills it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

IdType = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "paper_neighbours",
        sa.Column("paper_id", IdType, nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("neighbour_id", IdType, nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("neighbour_version", sa.Integer(), nullable=False),
        sa.Column("listed", sa.Integer(), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["papers.id"], name=op.f("fk_paper_neighbours_paper_id_papers"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["neighbour_id"],
            ["papers.id"],
            name=op.f("fk_paper_neighbours_neighbour_id_papers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("paper_id", "model", "rank", name=op.f("pk_paper_neighbours")),
    )
    op.create_index("ix_paper_neighbours_neighbour", "paper_neighbours", ["neighbour_id"])


def downgrade() -> None:
    op.drop_index("ix_paper_neighbours_neighbour", table_name="paper_neighbours")
    op.drop_table("paper_neighbours")
