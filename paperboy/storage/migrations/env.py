"""Alembic environment: the engine comes from paperboy, never from an ini file."""

from alembic import context

from paperboy.storage.schema import is_declared, metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_name=is_declared,  # autogenerate must not propose dropping the FTS5 tables
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
