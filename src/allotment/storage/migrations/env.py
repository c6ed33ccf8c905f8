"""Alembic environment: uses the engine handed over by allotment.storage.migrate."""

from __future__ import annotations

from alembic import context

from allotment.storage.tables import metadata

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    if engine.dialect.name == "sqlite":
        connection = connection.execution_options(sqlite_begin="IMMEDIATE")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=engine.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
