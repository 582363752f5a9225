"""vectors in the database where PostgreSQL has pgvector

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 15:00:00

- On PostgreSQL whose server offers the `vector` extension (pgvector 0.7 or later, for
  `halfvec`): the extension, and `paper_embeddings.embedding halfvec`, a copy of each vector
  that PostgreSQL searches (storage/pgvector.py). The HNSW index, one per model, needs the
  model's dimensions: `paperboy index` creates it (and after each embedding batch, when missing).
- Elsewhere (SQLite; Debian's PostgreSQL, which has no pgvector) nothing: the per-host index
  stays (docs/search.md). A server that gets pgvector later is set up by `paperboy index`.
"""

from alembic import op

from paperboy.storage.pgvector import enable_pgvector

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    enable_pgvector(op.get_bind())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # the extension stays: others may use it
        op.execute("ALTER TABLE paper_embeddings DROP COLUMN IF EXISTS embedding")
