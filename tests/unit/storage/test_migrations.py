from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from paperboy.storage.migrate import pending_revisions
from paperboy.storage.schema import metadata


def test_migrations_match_the_schema(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    assert not pending_revisions(engine)
