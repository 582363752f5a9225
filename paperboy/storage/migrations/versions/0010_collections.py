"""collections, notes and read marks of a member's library

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 11:45:00

- collections: a member's named, ordered lists of papers, public or private.
- collection_items: the papers of each collection, in its order.
- library_notes: a member's private note per paper.
- library_items.read_at: when the member marked a saved paper read.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("library_items", sa.Column("read_at", _AT, nullable=True))
    op.create_table(
        "collections",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_collections_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collections")),
        sa.UniqueConstraint("user_id", "slug", name="uq_collections_user_id_slug"),
    )
    op.create_index("ix_collections_user_id", "collections", ["user_id", "position"], unique=False)
    op.create_table(
        "collection_items",
        sa.Column("collection_id", _ID, nullable=False),
        sa.Column("paper_id", _ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("added_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["collections.id"],
            name=op.f("fk_collection_items_collection_id_collections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["papers.id"], name=op.f("fk_collection_items_paper_id_papers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("collection_id", "paper_id", name=op.f("pk_collection_items")),
    )
    op.create_index(
        "ix_collection_items_collection_id", "collection_items", ["collection_id", "position"], unique=False
    )
    op.create_index("ix_collection_items_paper_id", "collection_items", ["paper_id"], unique=False)
    op.create_table(
        "library_notes",
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("paper_id", _ID, nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["papers.id"], name=op.f("fk_library_notes_paper_id_papers"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_library_notes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "paper_id", name=op.f("pk_library_notes")),
    )


def downgrade() -> None:
    op.drop_table("library_notes")
    op.drop_index("ix_collection_items_paper_id", table_name="collection_items")
    op.drop_index("ix_collection_items_collection_id", table_name="collection_items")
    op.drop_table("collection_items")
    op.drop_index("ix_collections_user_id", table_name="collections")
    op.drop_table("collections")
    with op.batch_alter_table("library_items") as batch_op:
        batch_op.drop_column("read_at")
