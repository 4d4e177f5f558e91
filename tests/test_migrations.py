"""Migrations build the schema from empty, agree with the models, and go down again."""

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy.engine import make_url

from lms import create_app
from lms.extensions import db
from lms.models.base import include_in_migrations


@pytest.fixture
def empty_sqlite(tmp_path) -> Iterator[str]:
    return "sqlite:///" + str(tmp_path / "empty.sqlite3")


@pytest.fixture
def empty_postgresql() -> Iterator[str]:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("set TEST_DATABASE_URL to a PostgreSQL database to run this test")
    server = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"lms_migrations_{uuid.uuid4().hex[:12]}"
    with server.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


# SQLite cannot reflect the index on lower(email), so autogenerate skips comparing it there.
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.parametrize("database", ["empty_sqlite", "empty_postgresql"])
def test_migrations_build_the_models_schema_from_empty(request, database):
    url = request.getfixturevalue(database)
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        directory = app.config["MIGRATIONS_DIR"]
        upgrade(directory=directory)
        with db.engine.connect() as connection:
            options = {"compare_type": True, "include_object": include_in_migrations}
            context = MigrationContext.configure(connection, opts=options)
            assert compare_metadata(context, db.metadata) == []
        downgrade(directory=directory, revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade(directory=directory)
        assert "users" in sa.inspect(db.engine).get_table_names()
        db.engine.dispose()
