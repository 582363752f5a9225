from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from paperboy.storage.migrate import pending_revisions
from paperboy.storage.schema import is_declared, metadata


def test_migrations_match_the_schema(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": is_declared})
        diff = compare_metadata(context, metadata)
    assert diff == []
    assert not pending_revisions(engine)
