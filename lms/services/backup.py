"""The whole database in one portable archive (``lms backup``), and back (``lms restore``).

The archive is written by the app itself, not by ``pg_dump`` or ``sqlite3``, so a backup of
SQLite restores into PostgreSQL and the other way round. It is one gzip-compressed file of
JSON lines (UTF-8):

- line 1, the header: ``{"format": "lms-backup", "version": 1, "created_at": "<UTC, ISO
  8601>", "revision": "<Alembic revision>" or null, "dialect": "sqlite" | "postgresql",
  "tables": [{"name": ..., "columns": [...], "rows": N}, ...]}``. The tables come in the
  order of their rows below, parents before children (``db.metadata.sorted_tables``); the
  columns are those the database has. ``alembic_version`` is only the header's revision;
  ``user_sessions`` is left out (after a restore everyone signs in again).
- then one line per row, a table's rows together and in primary-key order:
  ``{"t": "<table>", "r": [<values in the header's column order>]}``.

Values are JSON; the rest is converted back by the column's type on restore: datetimes,
dates and times as ISO 8601 strings (with their UTC offset), ``Decimal`` as a string, bytes
as base64, UUIDs as strings. A JSON column is kept as the JSON text the database holds,
which a parsed value could not do: JSON ``null`` and SQL ``NULL`` would both read as None.

A backup reads one snapshot: a read-only REPEATABLE READ transaction on PostgreSQL, one
read transaction on SQLite; rows stream (server-side cursors), so memory stays flat. It goes
to a temporary file beside the target, renamed only once complete: a failed backup leaves
no file that looks like one.

A restore is one transaction: into an empty database at the archive's migration revision
(a database with no tables at all is migrated to it first), or with ``replace`` into one
whose every table is emptied in the same transaction. Rows go in by batches (INSERTs, or
COPY on PostgreSQL); row counts are checked against the header and, on PostgreSQL, every
serial column's sequence moves past the largest id. Any failure, such as a damaged line, a truncated file or a row the database
refuses, names the line and leaves the data as it was (the caller rolls back; only the
migrations applied to a database that had no tables stay).
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import tempfile
import time as clock
import uuid
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import current_app
from sqlalchemy import Connection, Table, TableClause, func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.types import TypeDecorator, TypeEngine

from lms.extensions import db
from lms.services import audit

FORMAT = "lms-backup"
VERSION = 1
BATCH = 2_000  # rows per INSERT (executemany) or COPY, and per fetch from a cursor
PROGRESS_EVERY = 250_000  # rows between two progress reports within a table
ALEMBIC_TABLE = "alembic_version"
# Sign-ins are not records to keep: a restored database starts with nobody signed in.
NOT_BACKED_UP = frozenset({"user_sessions"})

# Called with a table's name, its rows done so far and its rows in all.
Progress = Callable[[str, int, int], None]


class BackupError(Exception):
    """The backup or restore was refused or failed; the message says why in one line."""


@dataclass(frozen=True)
class Summary:
    """What a backup wrote or a restore loaded."""

    tables: dict[str, int]  # rows per table, in the archive's order
    revision: str | None
    created_at: str  # when the backup was taken
    dialect: str  # the database the backup was taken from
    seconds: float
    migrated: bool = False  # restore only: the database had no tables and was migrated first

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def default_name(now: datetime | None = None) -> str:
    """``lms-backup-2026-12-05-161552.jsonl.gz``: the time (UTC) the backup was started."""
    return f"lms-backup-{(now or datetime.now(UTC)):%Y-%m-%d-%H%M%S}.jsonl.gz"


# --- backup ------------------------------------------------------------------------------


def write_backup(
    target: str | os.PathLike[str] | IO[bytes],
    *,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> Summary:
    """Write the whole database to ``target``: a path (an existing file is refused unless
    ``overwrite``) or a binary stream."""
    if not isinstance(target, str | os.PathLike):
        return _write(target, progress)
    path = Path(target)
    if path.exists() and not overwrite:
        raise BackupError(f"{path} exists already (--force overwrites it)")
    # A temporary file beside the target, readable by its owner only (mkstemp): the archive
    # holds personal data and password hashes.
    try:
        handle, partial = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".partial"
        )
    except OSError as error:
        raise BackupError(f"cannot write in {path.parent}: {error.strerror}") from error
    try:
        with os.fdopen(handle, "wb") as stream:
            summary = _write(stream, progress)
            stream.flush()
            os.fsync(stream.fileno())
        if path.exists() and not overwrite:
            raise BackupError(f"{path} appeared while the backup was written; it is left alone")
        os.replace(partial, path)
    except OSError as error:
        Path(partial).unlink(missing_ok=True)
        raise BackupError(f"cannot write {path}: {error.strerror}") from error
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return summary


def _write(stream: IO[bytes], progress: Progress | None) -> Summary:
    started = clock.monotonic()
    created_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with _snapshot() as connection:
        plan = _backup_plan(connection)
        revision = _revision(connection)
        counts = {
            table.name: connection.scalar(select(func.count()).select_from(table)) or 0
            for table, _ in plan
        }
        header = {
            "format": FORMAT,
            "version": VERSION,
            "created_at": created_at,
            "revision": revision,
            "dialect": connection.dialect.name,
            "tables": [
                {
                    "name": table.name,
                    "columns": [c.name for c in columns],
                    "rows": counts[table.name],
                }
                for table, columns in plan
            ],
        }
        with gzip.GzipFile(filename="", mode="wb", fileobj=stream, compresslevel=6) as archive:
            archive.write(_json(header).encode() + b"\n")
            for table, columns in plan:
                written = _write_table(connection, archive, table, columns, progress, counts)
                if written != counts[table.name]:
                    raise BackupError(
                        f"{table.name}: counted {counts[table.name]} rows but read {written}"
                    )
    return Summary(
        tables=counts,
        revision=revision,
        created_at=created_at,
        dialect=connection.dialect.name,
        seconds=clock.monotonic() - started,
    )


@contextmanager
def _snapshot() -> Iterator[Connection]:
    """A connection whose reads all see the database at one moment."""
    engine = db.engine
    if engine.dialect.name == "postgresql":
        options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        with engine.connect().execution_options(**options) as connection, connection.begin():
            yield connection
    elif engine.dialect.name == "sqlite":
        # The sqlite3 module begins transactions only before writes; a backup's reads are
        # one transaction only with an explicit BEGIN, which needs the driver's autocommit.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("BEGIN")
            try:
                yield connection
            finally:
                connection.exec_driver_sql("ROLLBACK")
    else:
        with engine.connect() as connection, connection.begin():
            yield connection


def _backup_plan(connection: Connection) -> list[tuple[Table, list[sa.Column[Any]]]]:
    """Every table of the models that the database has, with the columns the database has.

    The models may be ahead of the database (a migration not yet applied): what the
    database lacks is not read. What the database has and the models do not know cannot be
    converted back, so it stops the backup rather than being left out unsaid.
    """
    inspector = sa.inspect(connection)
    present = set(inspector.get_table_names())
    unknown = sorted(present - set(db.metadata.tables) - {ALEMBIC_TABLE})
    if unknown:
        raise BackupError(
            f"the database has tables this version of the app does not know "
            f"({', '.join(unknown)}): back up with the version that matches its migrations"
        )
    plan = []
    for table in db.metadata.sorted_tables:
        if table.name not in present or table.name in NOT_BACKED_UP:
            continue
        in_database = {column["name"] for column in inspector.get_columns(table.name)}
        strange = sorted(in_database - set(table.columns.keys()))
        if strange:
            raise BackupError(
                f"the table {table.name} has columns this version of the app does not know "
                f"({', '.join(strange)}): back up with the version that matches its migrations"
            )
        plan.append((table, [column for column in table.columns if column.name in in_database]))
    return plan


def _revision(connection: Connection) -> str | None:
    if not sa.inspect(connection).has_table(ALEMBIC_TABLE):
        return None
    versions = sorted(connection.scalars(text(f"SELECT version_num FROM {ALEMBIC_TABLE}")))  # noqa: S608
    return ",".join(versions) or None


def _write_table(
    connection: Connection,
    archive: gzip.GzipFile,
    table: Table,
    columns: list[sa.Column[Any]],
    progress: Progress | None,
    counts: dict[str, int],
) -> int:
    total = counts[table.name]
    selected = [
        sa.cast(column, sa.Text).label(column.name) if _is_raw(column.type) else column
        for column in columns
    ]
    query = select(*selected).order_by(*table.primary_key.columns)
    prefix = '{"t":' + json.dumps(table.name) + ',"r":'
    written = 0
    result = connection.execution_options(yield_per=BATCH).execute(query)
    for row in result:
        try:
            line = prefix + _json(tuple(row)) + "}\n"
        except (TypeError, ValueError) as error:
            raise BackupError(f"{table.name}, row {written + 1}: {error}") from error
        archive.write(line.encode("utf-8", "surrogatepass"))
        written += 1
        if progress is not None and written % PROGRESS_EVERY == 0 and written < total:
            progress(table.name, written, total)
    if progress is not None:
        progress(table.name, written, total)
    return written


def _json(value: Any) -> str:
    return json.dumps(value, default=_encode, ensure_ascii=False, separators=(",", ":"))


def _encode(value: Any) -> Any:
    """A value json cannot write by itself, as the JSON its column's type reads back."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"a value of type {type(value).__name__} cannot be written")


def _storage_type(type_: TypeEngine[Any]) -> TypeEngine[Any]:
    while isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance
    return type_


def _is_raw(type_: TypeEngine[Any]) -> bool:
    """Columns kept as the text the database holds (see the module's docstring)."""
    return isinstance(_storage_type(type_), sa.JSON | sa.Enum)


# --- restore -----------------------------------------------------------------------------


def restore_backup(
    source: str | os.PathLike[str] | IO[bytes],
    *,
    replace: bool = False,
    progress: Progress | None = None,
) -> Summary:
    """Load the archive ``source`` (a path or a binary stream) into the database.

    Everything is written in the session's transaction, ending with an entry in the audit
    log; the caller commits, or rolls back on :class:`BackupError` (or any other error).
    """
    started = clock.monotonic()
    name = os.fspath(source) if isinstance(source, str | os.PathLike) else "the archive"
    with _archive_lines(source, name) as lines:
        header = _read_header(lines)
        plans = _restore_plans(header)
        migrated = _prepare_schema(header["revision"])
        connection = db.session.connection()
        _take_the_tables(connection)
        if replace:
            _empty_every_table(connection)
        else:
            _refuse_data(connection)
        _load(connection, lines, plans, progress)
    _check_counts(connection, plans)
    for plan in plans:
        plan.apply_deferred(connection)
    if connection.dialect.name == "postgresql":
        _move_sequences(connection, plans)
    counts = {plan.name: plan.expected for plan in plans}
    audit.record(
        None,
        "backup.restore",
        archive=Path(name).name,
        created_at=header["created_at"],
        dialect=header["dialect"],
        revision=header["revision"],
        rows=sum(counts.values()),
        replaced=replace,
    )
    return Summary(
        tables=counts,
        revision=header["revision"],
        created_at=header["created_at"],
        dialect=header["dialect"],
        seconds=clock.monotonic() - started,
        migrated=migrated,
    )


@contextmanager
def _archive_lines(source: str | os.PathLike[str] | IO[bytes], name: str) -> Iterator[Lines]:
    try:
        stream: IO[bytes] = open(source, "rb") if isinstance(source, str | os.PathLike) else source  # noqa: SIM115
    except OSError as error:
        raise BackupError(f"{name}: {error.strerror}") from error
    try:
        with gzip.GzipFile(filename="", mode="rb", fileobj=stream) as archive:
            yield Lines(archive, name)
    finally:
        if stream is not source:
            stream.close()


class Lines:
    """The archive's lines with their numbers; a damaged or truncated file is a BackupError."""

    def __init__(self, archive: gzip.GzipFile, name: str) -> None:
        self.archive = archive
        self.name = name
        self.number = 0

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        return self

    def __next__(self) -> tuple[int, bytes]:
        try:
            line = self.archive.readline()
        except (OSError, EOFError, zlib.error) as error:
            if self.number == 0 and isinstance(error, gzip.BadGzipFile):
                raise BackupError(f"{self.name} is not a gzip-compressed lms backup") from error
            where = f"after line {self.number}" if self.number else "at its start"
            raise BackupError(f"{self.name} is damaged or truncated {where} ({error})") from error
        if not line:
            raise StopIteration
        self.number += 1
        return self.number, line


def _read_header(lines: Lines) -> dict[str, Any]:
    number, line = next(lines, (1, b""))
    try:
        header = json.loads(line)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BackupError(f"{lines.name} is not an lms backup (line {number} is no header)")
    if not isinstance(header.get("version"), int) or header["version"] > VERSION:
        raise BackupError(
            f"{lines.name} is a backup of format version {header.get('version')}; "
            f"this version of the app reads version {VERSION} and older"
        )
    tables = header.get("tables")
    if not isinstance(tables, list) or not all(
        isinstance(table, dict)
        and isinstance(table.get("name"), str)
        and isinstance(table.get("columns"), list)
        and all(isinstance(column, str) for column in table["columns"])
        and isinstance(table.get("rows"), int)
        for table in tables
    ):
        raise BackupError(f"{lines.name}, line 1: the header's list of tables is damaged")
    if not isinstance(header.get("revision"), str | None):
        raise BackupError(f"{lines.name}, line 1: the header's revision is damaged")
    for key in ("created_at", "revision", "dialect"):
        header.setdefault(key, None)
    return header


def _prepare_schema(revision: str | None) -> bool:
    """Make sure the database is at the archive's revision; migrate it if it has no tables.
    True when it was migrated."""
    with db.engine.connect() as connection:
        tables = set(sa.inspect(connection).get_table_names()) - {ALEMBIC_TABLE}
        current = _revision(connection)
    if tables:
        if current != revision:
            raise BackupError(
                f"the database is at migration {current or '(none)'} and the backup at "
                f"{revision or '(none)'}: restore into an empty database, or migrate this one "
                f"to {revision or 'the same state'} first"
            )
        return False
    if revision is None or "," in revision:
        raise BackupError(
            "the database has no tables and the backup names no single migration to create "
            "them with: create the schema first"
        )
    migrate = current_app.extensions["migrate"]
    config = migrate.migrate.get_config(current_app.config["MIGRATIONS_DIR"])
    try:
        ScriptDirectory.from_config(config).get_revision(revision)  # before creating anything
        command.upgrade(config, revision)
    except CommandError as error:
        raise BackupError(
            f"this version of the app cannot create the schema at migration {revision} "
            f"({error}): restore with the version the backup was taken with"
        ) from error
    return True


@dataclass
class _TablePlan:
    """How one table of the archive goes into the database."""

    name: str
    expected: int  # rows, as the header says
    insert: Any  # an INSERT of the archive's columns, values bound as v0, v1, ...
    copy: str | None  # on PostgreSQL: COPY ... FROM STDIN, used instead of the INSERT
    decoders: list[tuple[int, Callable[[Any], Any]]]  # (position, from JSON) where needed
    processors: list[tuple[int, Callable[[Any], Any]]]  # (position, the type's bind) for COPY
    deferred: list[tuple[int, str]]  # nullable references to rows loaded later
    key: list[tuple[int, str]]  # the primary key's positions and names
    width: int
    table: TableClause
    loaded: int = 0
    later: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def row(self, values: list[Any]) -> list[Any]:
        if len(values) != self.width:
            raise ValueError(f"{len(values)} values for the {self.width} columns of {self.name}")
        for position, decode in self.decoders:
            if values[position] is not None:
                try:
                    values[position] = decode(values[position])
                except (TypeError, ValueError) as error:
                    raise ValueError(f"{self.name}, value {position + 1}: {error}") from error
        for position, column in self.deferred:
            if values[position] is not None:
                self.later.setdefault(column, []).append({
                    "value": values[position],
                    **{f"k{p}": values[p] for p, _ in self.key},
                })  # fmt: skip
                values[position] = None
        return values

    def write(self, connection: Connection, rows: list[list[Any]]) -> None:
        if self.copy is None:
            batch = [{f"v{p}": value for p, value in enumerate(row)} for row in rows]
            connection.execute(self.insert, batch)
            return
        # COPY takes a million rows several times faster than INSERTs (as in federal.py); the
        # columns' types still prepare each value, as they would for an INSERT.
        driver: Any = connection.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(self.copy) as copy:
            for row in rows:
                for position, process in self.processors:
                    row[position] = process(row[position])
                copy.write_row(row)

    def apply_deferred(self, connection: Connection) -> None:
        for column, updates in self.later.items():
            statement = (
                sa.update(self.table)
                .where(*(self.table.c[name] == sa.bindparam(f"k{p}") for p, name in self.key))
                .values({column: sa.bindparam("value")})
            )
            for start in range(0, len(updates), BATCH):
                connection.execute(statement, updates[start : start + BATCH])


def _restore_plans(header: dict[str, Any]) -> list[_TablePlan]:
    order = [table["name"] for table in header["tables"]]
    plans = []
    for position, entry in enumerate(header["tables"]):
        table = db.metadata.tables.get(entry["name"])
        if table is None:
            raise BackupError(
                f"the backup has a table this version of the app does not know: {entry['name']}"
            )
        names = entry["columns"]
        unknown = [name for name in names if name not in table.c]
        if unknown:
            raise BackupError(
                f"the backup's table {entry['name']} has columns this version of the app does "
                f"not know: {', '.join(unknown)}"
            )
        columns = [table.c[name] for name in names]
        plans.append(_table_plan(entry, columns, order[position:]))
    return plans


def _table_plan(
    entry: dict[str, Any], columns: list[sa.Column[Any]], rest: list[str]
) -> _TablePlan:
    dialect = db.engine.dialect
    postgresql = dialect.name == "postgresql"
    # Only the archive's columns: the models' defaults for any others must not be added.
    clause = sa.table(entry["name"], *(sa.column(c.name, c.type) for c in columns))
    values: dict[str, Any] = {}
    decoders = []
    processors: list[tuple[int, Callable[[Any], Any]]] = []
    for position, column in enumerate(columns):
        bound = f"v{position}"
        if _is_raw(column.type):
            parameter = sa.bindparam(bound, type_=sa.Text)
            # PostgreSQL takes text into a json (or enum) column only when it is cast.
            values[column.name] = sa.cast(parameter, column.type) if postgresql else parameter
        else:
            values[column.name] = sa.bindparam(bound, type_=column.type)
            decoder = _decoder(column.type)
            if decoder is not None:
                decoders.append((position, decoder))
            process = column.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                processors.append((position, process))
    key = [(position, column.name) for position, column in enumerate(columns) if column.primary_key]
    # A reference to a row that comes later (the same table, or one further down the
    # archive: course_modules.current_version_id) goes in as NULL and is set at the end.
    deferred = [
        (position, column.name)
        for position, column in enumerate(columns)
        if key
        and column.nullable
        and not column.primary_key
        and any(foreign.column.table.name in rest for foreign in column.foreign_keys)
    ]
    preparer = dialect.identifier_preparer
    names = ", ".join(preparer.quote(column.name) for column in columns)
    return _TablePlan(
        name=entry["name"],
        expected=entry["rows"],
        insert=sa.insert(clause).values(values),
        copy=f"COPY {preparer.quote(entry['name'])} ({names}) FROM STDIN" if postgresql else None,
        decoders=decoders,
        processors=processors,
        deferred=deferred,
        key=key,
        width=len(columns),
        table=clause,
    )


def _decoder(type_: TypeEngine[Any]) -> Callable[[Any], Any] | None:
    """From the archive's JSON to what the column's type binds; None where it is the same."""
    storage = _storage_type(type_)
    if isinstance(storage, sa.DateTime):
        return datetime.fromisoformat
    if isinstance(storage, sa.Date):
        return date.fromisoformat
    if isinstance(storage, sa.Time):
        return time.fromisoformat
    if isinstance(storage, sa.Numeric) and storage.asdecimal:
        return lambda value: Decimal(str(value))
    if isinstance(storage, sa.LargeBinary):
        return lambda value: base64.b64decode(value, validate=True)
    if isinstance(storage, sa.Uuid) and storage.as_uuid:
        return uuid.UUID
    return None


def _existing_tables(connection: Connection) -> list[Table]:
    present = set(sa.inspect(connection).get_table_names())
    return [table for table in db.metadata.sorted_tables if table.name in present]


def _take_the_tables(connection: Connection) -> None:
    """Make the checks and the load one transaction no one else writes into."""
    if connection.dialect.name == "postgresql":
        names = ", ".join(_quoted(connection, t) for t in _existing_tables(connection))
        connection.exec_driver_sql(f"LOCK TABLE {names} IN EXCLUSIVE MODE")
    elif connection.dialect.name == "sqlite":
        driver = connection.connection.dbapi_connection
        if driver is not None and not driver.in_transaction:
            # The sqlite3 module would begin only at the first write, after the checks.
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def _refuse_data(connection: Connection) -> None:
    holding = [
        table.name
        for table in _existing_tables(connection)
        if connection.scalar(select(sa.literal(1)).select_from(table).limit(1)) is not None
    ]
    if holding:
        shown = ", ".join(holding[:5]) + (" …" if len(holding) > 5 else "")
        raise BackupError(
            f"the database holds data already ({shown}): restore into an empty database, "
            f"or with --replace to replace everything in it"
        )


def _empty_every_table(connection: Connection) -> None:
    tables = _existing_tables(connection)
    if connection.dialect.name == "postgresql":
        names = ", ".join(_quoted(connection, table) for table in tables)
        connection.exec_driver_sql(f"TRUNCATE TABLE {names}")
        return
    # Children before parents; references that go the other way are cleared first.
    order = [table.name for table in tables]
    for position, table in enumerate(tables):
        backwards = {
            column.name: None
            for column in table.columns
            if column.nullable
            and any(f.column.table.name in order[position:] for f in column.foreign_keys)
        }
        if backwards:
            connection.execute(sa.update(table).values(backwards))
    for table in reversed(tables):
        connection.execute(sa.delete(table))


def _load(
    connection: Connection, lines: Lines, plans: list[_TablePlan], progress: Progress | None
) -> None:
    position = -1  # the plan whose rows are being read
    batch: list[list[Any]] = []
    first = last = 0  # the lines of the batch's first and last rows
    refused = (SQLAlchemyError, connection.dialect.loaded_dbapi.Error)

    def write() -> None:
        plan = plans[position]
        try:
            plan.write(connection, batch)
        except refused as error:
            reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            span = f"line {first}" if first == last else f"lines {first}-{last}"
            raise BackupError(
                f"{lines.name}, {span} ({plan.name}): the database refused a row: {reason}"
            ) from error
        plan.loaded += len(batch)
        batch.clear()

    def finish() -> None:
        if position < 0:
            return
        plan = plans[position]
        if batch:
            write()
        if plan.loaded != plan.expected:
            raise BackupError(
                f"{lines.name}: {plan.name} has {plan.loaded} rows where the header says "
                f"{plan.expected}; the archive is incomplete"
            )
        if progress is not None:
            progress(plan.name, plan.loaded, plan.expected)

    names = [plan.name for plan in plans]
    for number, line in lines:
        try:
            record = json.loads(line)
            name, values = record["t"], record["r"]
            if not isinstance(values, list):
                raise TypeError("r is not a list")
        except (ValueError, TypeError, KeyError) as error:
            raise BackupError(f"{lines.name}, line {number}: not a row ({error})") from error
        if position < 0 or name != plans[position].name:
            if name not in names[position + 1 :]:
                raise BackupError(
                    f"{lines.name}, line {number}: a row of {name!r}, which the header does "
                    f"not list at this point"
                )
            finish()
            while plans[position + 1].name != name:  # tables without rows
                position += 1
                finish()
            position += 1
        try:
            row = plans[position].row(values)
        except ValueError as error:
            raise BackupError(f"{lines.name}, line {number}: {error}") from error
        if not batch:
            first = number
        last = number
        batch.append(row)
        if len(batch) >= BATCH:
            write()
            plan = plans[position]
            if progress is not None and plan.loaded % PROGRESS_EVERY < BATCH:
                progress(plan.name, plan.loaded, plan.expected)
    finish()
    while position + 1 < len(plans):
        position += 1
        finish()


def _check_counts(connection: Connection, plans: Sequence[_TablePlan]) -> None:
    for plan in plans:
        found = connection.scalar(select(func.count()).select_from(sa.table(plan.name)))
        if found != plan.expected:
            raise BackupError(
                f"{plan.name} holds {found} rows after the restore where the backup had "
                f"{plan.expected}"
            )


def _move_sequences(connection: Connection, plans: Sequence[_TablePlan]) -> None:
    """New rows get ids after the restored ones: each serial column's sequence moves on."""
    preparer = connection.dialect.identifier_preparer
    for plan in plans:
        table = db.metadata.tables[plan.name]
        for column in table.primary_key.columns:
            if not isinstance(_storage_type(column.type), sa.Integer):
                continue
            # setval(NULL, ...) is NULL: a column without a sequence is left alone.
            largest = f"SELECT max({preparer.quote(column.name)}) FROM {_quoted(connection, table)}"  # noqa: S608
            connection.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence(:table, :column), "
                    f"coalesce(({largest}), 0) + 1, false)"
                ),
                {"table": _quoted(connection, table), "column": column.name},
            )


def _quoted(connection: Connection, table: Table) -> str:
    return connection.dialect.identifier_preparer.format_table(table)
