"""lexical index

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 10:00:00.000000

PostgreSQL: the table paper_search (a weighted tsvector per paper) with a GIN index.
SQLite: the same table exists (schema.py declares it) but stays empty; the index is the
contentless FTS5 table paper_fts, whose rowid is papers.id, plus a trigger that takes a deleted
paper's text out of it (a contentless table forgets a row only when told its indexed text).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Kept in step with storage/lexical_index.py's _SQLITE_AUTHORS: the trigger must give FTS5 exactly the
# authors text that was indexed.
_AUTHORS = (
    "(SELECT group_concat(name, ', ') FROM "
    "(SELECT name FROM paper_authors WHERE paper_id = OLD.id ORDER BY position))"
)


def upgrade() -> None:
    op.create_table(
        "paper_search",
        sa.Column("paper_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("document", postgresql.TSVECTOR().with_variant(sa.Text(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["papers.id"],
            name=op.f("fk_paper_search_paper_id_papers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("paper_id", name=op.f("pk_paper_search")),
    )
    with op.batch_alter_table("paper_search", schema=None) as batch_op:
        batch_op.create_index("ix_paper_search_document", ["document"], unique=False, postgresql_using="gin")
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE paper_fts USING fts5(title, abstract, authors, content='', "
            "tokenize='porter unicode61 remove_diacritics 2')"
        )
        op.execute(
            "CREATE TRIGGER paper_fts_forget BEFORE DELETE ON papers "
            "WHEN EXISTS (SELECT 1 FROM paper_fts_docsize WHERE id = OLD.id) BEGIN "
            "INSERT INTO paper_fts(paper_fts, rowid, title, abstract, authors) "
            f"VALUES ('delete', OLD.id, OLD.title, OLD.abstract, coalesce({_AUTHORS}, '')); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS paper_fts_forget")
        op.execute("DROP TABLE IF EXISTS paper_fts")
    with op.batch_alter_table("paper_search", schema=None) as batch_op:
        batch_op.drop_index("ix_paper_search_document", postgresql_using="gin")
    op.drop_table("paper_search")
