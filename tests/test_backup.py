"""``lms backup`` and ``lms restore``: every row comes back, on SQLite and PostgreSQL and from
one to the other; a restore is all or nothing.

Each test has databases of its own (SQLite files, or PostgreSQL databases made next to
TEST_DATABASE_URL's and dropped afterwards), built with the migrations as in production.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy.engine import make_url
from werkzeug.security import generate_password_hash

from lms import create_app
from lms.cli import main
from lms.content import get_course
from lms.extensions import db
from lms.models import AuditEvent, QuizAttempt, Region, User, UserSession
from lms.services import audit, backup
from lms.services.backup import BackupError, restore_backup, write_backup
from lms.services.demo import create_demo_organisation
from lms.services.publishing import publish_course

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
POSTGRESQL = TEST_DATABASE_URL.startswith("postgresql")
KIND = "postgresql" if POSTGRESQL else "sqlite"

Rows = dict[str, list[tuple[Any, ...]]]


class Databases:
    """Databases for this module: new empty ones and copies, all dropped at its end."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.made: list[str] = []

    def new(self, kind: str = KIND, template: str | None = None) -> str:
        name = f"lms_backup_{uuid.uuid4().hex[:12]}"
        if kind == "sqlite":
            path = self.directory / f"{name}.sqlite3"
            if template is not None:
                shutil.copyfile(make_url(template).database or "", path)
            return "sqlite:///" + str(path)
        if not POSTGRESQL:
            pytest.skip("set TEST_DATABASE_URL to a PostgreSQL database to run this test")
        copy = f' TEMPLATE "{make_url(template).database}"' if template else ""
        self._server(f'CREATE DATABASE "{name}"{copy}')
        self.made.append(name)
        return make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)

    def copy(self, url: str) -> str:
        return self.new(make_url(url).get_backend_name(), template=url)

    def drop_all(self) -> None:
        for name in self.made:
            self._server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @staticmethod
    def _server(statement: str) -> None:
        engine = sa.create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(sa.text(statement))
        engine.dispose()


@contextmanager
def using(url: str) -> Iterator[Flask]:
    """The app on the database at ``url``; its connections are closed afterwards, so that
    the database can be copied or dropped."""
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def restore(url: str, archive: Path, *, replace: bool = False) -> backup.Summary:
    with using(url):
        try:
            summary = restore_backup(archive, replace=replace)
        except BaseException:
            db.session.rollback()
            raise
        db.session.commit()
        return summary


def every_row(url: str) -> Rows:
    """Every row of every table, JSON as the text the database holds (JSON null and SQL
    NULL must stay apart), and the migration."""
    with using(url), db.engine.connect() as connection:
        inspector = sa.inspect(connection)
        rows: Rows = {}
        for table in db.metadata.sorted_tables:
            present = {column["name"] for column in inspector.get_columns(table.name)}
            columns = [
                sa.cast(c, sa.Text) if isinstance(c.type, sa.JSON) else c
                for c in table.columns
                if c.name in present
            ]
            query = sa.select(*columns).order_by(*table.primary_key.columns)
            rows[table.name] = [tuple(row) for row in connection.execute(query)]
        rows["alembic_version"] = [
            tuple(row) for row in connection.execute(sa.text("SELECT * FROM alembic_version"))
        ]
        return rows


def without_restores(rows: Rows) -> Rows:
    """The rows, less the audit log's entries for restores (a restore adds its own)."""
    actions = AuditEvent.__table__.c.keys().index("action")
    kept = [row for row in rows["audit_events"] if row[actions] != "backup.restore"]
    return {**rows, "audit_events": kept}


def restores_logged(rows: Rows) -> int:
    return len(rows["audit_events"]) - len(without_restores(rows)["audit_events"])


def archive_lines(archive: Path) -> list[bytes]:
    with gzip.open(archive, "rb") as stream:
        return stream.read().splitlines(keepends=True)


def write_archive(path: Path, lines: list[bytes]) -> Path:
    with gzip.open(path, "wb") as stream:
        stream.write(b"".join(lines))
    return path


@dataclass(frozen=True)
class Source:
    url: str
    archive: Path
    rows: Rows

    @property
    def archive_rows(self) -> str:
        """The rows in the backup, as the commands print them."""
        return f"{sum(len(rows) for rows in self.rows.values()) - 1:,}"  # not alembic_version


@pytest.fixture(scope="module")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    made = Databases(tmp_path_factory.mktemp("backup"))
    yield made
    made.drop_all()


@pytest.fixture(scope="module")
def source(databases: Databases) -> Source:
    """The demo organisation with its people's progress, goals and recognition, in a
    database built by the migrations, and its backup."""
    url = databases.new()
    with pytest.MonkeyPatch.context() as patch, using(url) as app:
        # Cheap password hashes: the demo makes a dozen people.
        patch.setattr(
            "lms.models.users.generate_password_hash",
            lambda password: generate_password_hash(password, method="pbkdf2:sha256:1"),
        )
        upgrade(directory=app.config["MIGRATIONS_DIR"])
        publish_course(get_course())
        create_demo_organisation()
        db.session.flush()
        # JSON null and SQL NULL in one column; text that JSON must escape; nested JSON.
        first, second = db.session.scalars(sa.select(QuizAttempt.id).limit(2))
        db.session.execute(sa.update(QuizAttempt).where(QuizAttempt.id == first).values(points=None))  # fmt: skip
        db.session.execute(
            sa.update(QuizAttempt).where(QuizAttempt.id == second).values(points=sa.null())
        )
        audit.record(
            None,
            "test.values",
            text='Привет, «мир»: "quoted"\n\ttab \\ slash \u2028',
            nested={"list": [1, 2.5, None, True], "empty": {}},
        )
        db.session.commit()
        archive = databases.directory / "source.jsonl.gz"
        write_backup(archive)
    rows = every_row(url)
    assert all(rows[name] for name in ("users", "goals", "quiz_attempts", "content_versions"))
    return Source(url, archive, rows)


@pytest.fixture(scope="module")
def restored(source: Source, databases: Databases) -> str:
    """A database the source's backup was restored into; tests change copies of it."""
    url = databases.new()
    restore(url, source.archive)
    return url


@pytest.fixture(scope="module")
def changed(restored: str, databases: Databases) -> str:
    """A copy of ``restored`` changed since the backup: a failed restore must leave it so.
    Shared by the tests of failures (each compares it before and after)."""
    url = databases.copy(restored)
    with using(url):
        db.session.execute(sa.update(Region).values(name="Changed after the backup"))
        db.session.commit()
    return url


def test_a_restore_brings_back_every_row(source, databases):
    target = databases.new()

    summary = restore(target, source.archive)

    assert summary.migrated
    assert summary.revision == source.rows["alembic_version"][0][0]
    assert f"{summary.rows:,}" == source.archive_rows
    rows = every_row(target)
    assert without_restores(rows) == source.rows
    assert restores_logged(rows) == 1
    points = QuizAttempt.__table__.c.keys().index("points")
    assert {row[points] for row in rows["quiz_attempts"]} >= {None, "null"}


def test_sign_ins_are_not_kept_and_a_replace_ends_them(source, restored, databases):
    """Sessions are not records: the archive has none, and a restore over a database signs
    everyone out of it."""
    header = json.loads(archive_lines(source.archive)[0])
    assert "user_sessions" not in {table["name"] for table in header["tables"]}
    target = databases.copy(restored)
    with using(target):
        person = db.session.scalars(sa.select(User).limit(1)).one()
        db.session.add(UserSession(user_id=person.id, token_hash="0" * 64))
        db.session.commit()

    restore(target, source.archive, replace=True)

    with using(target):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)) == 0


def test_new_rows_get_ids_after_the_restored_ones(restored, databases):
    target = databases.copy(restored)
    with using(target):
        last_region = db.session.scalar(sa.select(sa.func.max(Region.id)))
        last_user = db.session.scalar(sa.select(sa.func.max(User.id)))
        region = Region(name="Новая область")
        user = User(email="new@example.test", full_name="New Person")
        db.session.add_all([region, user])
        db.session.commit()

        assert (region.id, user.id) == (last_region + 1, last_user + 1)


def test_a_database_holding_data_is_refused_unless_replaced(source, restored, databases):
    target = databases.copy(restored)
    with using(target):
        db.session.execute(sa.update(Region).values(name="Changed after the backup"))
        db.session.commit()
    before = every_row(target)

    with pytest.raises(BackupError, match="holds data already"):
        restore(target, source.archive)
    assert every_row(target) == before

    restore(target, source.archive, replace=True)
    rows = every_row(target)
    assert without_restores(rows) == source.rows
    assert restores_logged(rows) == 1


def _last_line_cut(lines: list[bytes]) -> list[bytes]:
    return [*lines[:-1], lines[-1][: len(lines[-1]) // 2]]


def _value_dropped(lines: list[bytes]) -> list[bytes]:
    record = json.loads(lines[-1])
    record["r"].pop()
    return [*lines[:-1], json.dumps(record).encode() + b"\n"]


def _row_twice(lines: list[bytes]) -> list[bytes]:
    user = next(n for n, line in enumerate(lines) if line.startswith(b'{"t":"users"'))
    return [*lines[: user + 1], lines[user], *lines[user + 1 :]]


def _row_missing(lines: list[bytes]) -> list[bytes]:
    return [*lines[:-2], lines[-1]]


def _row_out_of_place(lines: list[bytes]) -> list[bytes]:
    region = next(line for line in lines if line.startswith(b'{"t":"regions"'))
    return [*lines, region]


def _bad_date(lines: list[bytes]) -> list[bytes]:
    record = json.loads(lines[-1])
    record["r"][-1] = "yesterday"
    return [*lines[:-1], json.dumps(record).encode() + b"\n"]


def _other_format(lines: list[bytes]) -> list[bytes]:
    return [b'{"format": "something-else"}\n', *lines[1:]]


def _newer_version(lines: list[bytes]) -> list[bytes]:
    header = json.loads(lines[0])
    header["version"] = backup.VERSION + 1
    return [json.dumps(header).encode() + b"\n", *lines[1:]]


DAMAGES: dict[str, tuple[Callable[[list[bytes]], list[bytes]], str]] = {
    "a line cut short": (_last_line_cut, r"line (?P<last>\d+): not a row"),
    "a value missing": (_value_dropped, r"line (?P<last>\d+): \d+ values for the \d+ columns"),
    "a value of the wrong kind": (_bad_date, r"line (?P<last>\d+): .*Invalid isoformat"),
    "a row twice": (_row_twice, r"lines? \d+.*\(users\): the database refused a row"),
    "a row missing": (_row_missing, r"has \d+ rows where the header says \d+"),
    "a row out of place": (_row_out_of_place, r"line (?P<last>\d+): a row of 'regions'"),
    "another format": (_other_format, r"is not an lms backup"),
    "a newer version": (_newer_version, r"format version 2"),
}


@pytest.mark.parametrize("damage", DAMAGES, ids=list(DAMAGES))
def test_a_damaged_archive_changes_nothing(source, changed, tmp_path, damage):
    change, message = DAMAGES[damage]
    lines = change(archive_lines(source.archive))
    damaged = write_archive(tmp_path / "damaged.jsonl.gz", lines)
    before = every_row(changed)

    with pytest.raises(BackupError, match=message) as refused:
        restore(changed, damaged, replace=True)

    match = re.search(message, str(refused.value))
    if match and "last" in match.groupdict():
        assert int(match["last"]) == len(lines)
    assert every_row(changed) == before


@pytest.mark.parametrize(
    ("cut", "message"),
    [
        (lambda data: data[: len(data) * 2 // 3], "damaged or truncated after line"),
        (lambda data: data[:20] + bytes(b ^ 0xFF for b in data[20:60]) + data[60:], "damaged"),
        (lambda data: gzip.decompress(data), "is not a gzip-compressed lms backup"),
    ],
    ids=["truncated", "bytes flipped", "not compressed"],
)
def test_a_damaged_file_changes_nothing(source, changed, tmp_path, cut, message):
    damaged = tmp_path / "damaged.jsonl.gz"
    damaged.write_bytes(cut(source.archive.read_bytes()))
    before = every_row(changed)

    with pytest.raises(BackupError, match=message):
        restore(changed, damaged, replace=True)

    assert every_row(changed) == before


def test_a_failed_restore_into_a_new_database_leaves_it_without_data(source, databases, tmp_path):
    damaged = write_archive(tmp_path / "damaged.jsonl.gz", _row_missing(archive_lines(source.archive)))  # fmt: skip
    target = databases.new()

    with pytest.raises(BackupError, match="where the header says"):
        restore(target, damaged)

    rows = every_row(target)  # the schema the restore migrated to stays, empty
    assert rows.pop("alembic_version") == source.rows["alembic_version"]
    assert not any(rows.values())


def test_an_archive_of_another_migration_is_refused(source, changed, databases, tmp_path):
    with using(changed) as app:
        script = ScriptDirectory(app.config["MIGRATIONS_DIR"])
    head = source.rows["alembic_version"][0][0]
    previous = script.get_revision(head).down_revision
    lines = archive_lines(source.archive)
    header = json.loads(lines[0])
    header["revision"] = previous
    older = write_archive(tmp_path / "older.jsonl.gz", [json.dumps(header).encode() + b"\n", *lines[1:]])  # fmt: skip
    before = every_row(changed)

    with pytest.raises(BackupError, match=f"database is at migration {head} and the backup at {previous}"):  # fmt: skip
        restore(changed, older, replace=True)
    assert every_row(changed) == before

    header["revision"] = "0123456789ab"
    unknown = write_archive(tmp_path / "unknown.jsonl.gz", [json.dumps(header).encode() + b"\n", *lines[1:]])  # fmt: skip
    empty = databases.new()
    with pytest.raises(BackupError, match="cannot create the schema at migration 0123456789ab"):
        restore(empty, unknown)
    with using(empty):
        assert sa.inspect(db.engine).get_table_names() == []


def test_a_database_with_tables_the_app_does_not_know_is_not_backed_up(restored, databases, tmp_path):  # fmt: skip
    target = databases.copy(restored)
    with using(target):
        with db.engine.begin() as connection:
            connection.execute(sa.text("CREATE TABLE notes_from_elsewhere (id INTEGER)"))
        with pytest.raises(BackupError, match="tables this version of the app does not know"):
            write_backup(tmp_path / "backup.jsonl.gz")
    assert list(tmp_path.iterdir()) == []  # not even a partial file


def test_backup_and_restore_on_the_command_line(source, databases, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "")  # FlaskGroup sets it; put back afterwards
    with using(source.url) as app:
        runner = app.test_cli_runner()
        result = runner.invoke(main, ["backup"])
        assert result.exit_code == 0, result.output
        (archive,) = tmp_path.glob("lms-backup-*.jsonl.gz")
        assert "  users " in result.stderr
        assert f"Backed up {source.archive_rows} rows" in result.stderr
        assert result.stdout == ""

        again = runner.invoke(main, ["backup", archive.name])
        assert again.exit_code == 1
        assert "exists already" in again.stderr
        forced = runner.invoke(main, ["backup", archive.name, "--force"])
        assert forced.exit_code == 0, forced.output

    target = databases.new()
    with using(target) as app:
        runner = app.test_cli_runner()
        result = runner.invoke(main, ["restore", str(archive)])
        assert result.exit_code == 0, result.output
        assert f"Restored {source.archive_rows} rows" in result.stderr
        refused = runner.invoke(main, ["restore", str(archive)])
        assert refused.exit_code == 1
        assert "holds data already" in refused.stderr
        replaced = runner.invoke(main, ["restore", str(archive), "--replace"])
        assert replaced.exit_code == 0, replaced.output
    assert without_restores(every_row(target)) == source.rows


@pytest.mark.skipif(not POSTGRESQL, reason="set TEST_DATABASE_URL to a PostgreSQL database")
def test_a_backup_restores_from_postgresql_to_sqlite_and_back(source, databases, tmp_path):
    in_sqlite = databases.new("sqlite")
    restore(in_sqlite, source.archive)
    with using(in_sqlite):
        write_backup(tmp_path / "from-sqlite.jsonl.gz")
    back_in_postgresql = databases.new("postgresql")

    restore(back_in_postgresql, tmp_path / "from-sqlite.jsonl.gz")

    assert without_restores(every_row(in_sqlite)) == source.rows
    rows = every_row(back_in_postgresql)
    assert without_restores(rows) == source.rows
    assert restores_logged(rows) == 2  # the first restore's entry came along


@pytest.mark.parametrize(
    ("column_type", "value"),
    [
        (sa.DateTime(timezone=True), datetime(2026, 12, 5, 16, 15, 52, 195112, tzinfo=UTC)),
        (sa.DateTime(), datetime(2026, 12, 5, 16, 15, 52)),
        (sa.Date(), date(2027, 2, 3)),
        (sa.Time(), time(9, 30, 0, 5)),
        (sa.Numeric(12, 4), Decimal("12345678.0001")),
        (sa.Float(), 0.1),
        (sa.LargeBinary(), bytes(range(256))),
        (sa.Uuid(), uuid.UUID("12345678-1234-5678-1234-567812345678")),
        (sa.Boolean(), False),
        (sa.Text(), "строка \x00 \ud800"),
    ],
)
def test_values_of_every_type_come_back_as_they_were(column_type, value):
    written = backup._json([value])
    (read,) = json.loads(written.encode("utf-8", "surrogatepass"))
    decode = backup._decoder(column_type)

    assert (decode(read) if decode else read) == value
