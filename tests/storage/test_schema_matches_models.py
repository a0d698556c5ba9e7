"""The Alembic migrations build exactly the schema the models describe (indexes included), on
the test database of the run (SQLite or PostgreSQL): a model change without its migration fails."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from storage.db import Database
from storage.models import Base


def test_the_migrations_build_the_models_schema(db: Database) -> None:
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
