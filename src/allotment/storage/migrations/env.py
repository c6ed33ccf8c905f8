"""Alembic environment: uses the engine handed over by allotment.storage.migrate.

SQLite: a batch migration recreates a table (copy, drop, rename), and dropping a table that
other tables reference fails while foreign keys are enforced. So they are off while migrating
(the pragma only takes effect outside a transaction), every reference is checked before the
commit (`PRAGMA foreign_key_check`: a dangling one rolls the migration back), and they are back
on afterwards, whatever happened (the connection returns to the pool).
"""

from __future__ import annotations

from alembic import context

from allotment.storage.tables import metadata

engine = context.config.attributes["engine"]
sqlite = engine.dialect.name == "sqlite"

with engine.connect() as connection:
    driver = connection.connection.driver_connection  # outside SQLAlchemy's transaction
    if sqlite:
        driver.execute("PRAGMA foreign_keys=OFF")
        connection = connection.execution_options(sqlite_begin="IMMEDIATE")
    try:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=sqlite,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                if dangling:
                    raise RuntimeError(f"migration left dangling references: {dangling[:5]}")
        connection.commit()
    finally:
        if sqlite:
            driver.execute("PRAGMA foreign_keys=ON")
