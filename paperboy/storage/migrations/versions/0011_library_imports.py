"""imports into a member's library

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 11:40:00

- library_imports: one per uploaded file or list of ids, with its progress and what was not matched.
- library_import_items: the papers an import must still fetch from arXiv, in the file's order.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "library_imports",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("collection_id", _ID, nullable=True),
        sa.Column("collection_offset", sa.Integer(), nullable=False),
        sa.Column("collections", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("fetched", sa.Integer(), nullable=False),
        sa.Column("unmatched", sa.Text(), nullable=False),
        sa.Column("document", sa.Text(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
        sa.Column("finished_at", _AT, nullable=True),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["collections.id"],
            name=op.f("fk_library_imports_collection_id_collections"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_library_imports_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_imports")),
    )
    op.create_index("ix_library_imports_user_id", "library_imports", ["user_id", "created_at"], unique=False)
    op.create_index("ix_library_imports_status", "library_imports", ["status"], unique=False)
    op.create_table(
        "library_import_items",
        sa.Column("import_id", _ID, nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("arxiv_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["library_imports.id"],
            name=op.f("fk_library_import_items_import_id_library_imports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("import_id", "position", name=op.f("pk_library_import_items")),
    )


def downgrade() -> None:
    op.drop_table("library_import_items")
    op.drop_index("ix_library_imports_status", table_name="library_imports")
    op.drop_index("ix_library_imports_user_id", table_name="library_imports")
    op.drop_table("library_imports")
