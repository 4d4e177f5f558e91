"""Declarative base with a constraint naming convention and UTC timestamps."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, String, event
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, registry
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores timezone-aware UTC datetimes; SQLite hands them back naive, this makes them aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use lms.models.base.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


def include_in_migrations(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Alembic's filter: the trigram indexes a migration adds on PostgreSQL for searching
    people (``ix_users_*_trgm``) are the database's own, not the models'."""
    return not (type_ == "index" and reflected and (name or "").endswith("_trgm"))


def render_migration_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Alembic autogenerate hook: write our UTC type as the plain column type it stores."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


class folded(FunctionElement[str]):  # noqa: N801  (used like func.lower)
    """A text in lower case for searching, in every alphabet: PostgreSQL's ``lower`` folds
    Cyrillic, SQLite's only ASCII, so SQLite is given Python's (``lms_lower``) on connecting."""

    type = String()
    name = "folded"
    inherit_cache = True


@compiles(folded)
def _fold(element: folded, compiler: SQLCompiler, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(folded, "sqlite")
def _fold_on_sqlite(element: folded, compiler: SQLCompiler, **kw: Any) -> str:
    return f"lms_lower({compiler.process(element.clauses, **kw)})"


@event.listens_for(Engine, "connect")
def _sqlite_functions(connection: Any, _record: Any) -> None:
    if isinstance(connection, sqlite3.Connection):
        connection.create_function(
            "lms_lower",
            1,
            lambda text: text.lower() if isinstance(text, str) else text,
            deterministic=True,
        )
