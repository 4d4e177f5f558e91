"""A person's progress through the course: sections read, tasks done, memos downloaded,
modules completed and the course certificate."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, ForeignKey, Index, String, UniqueConstraint, case, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.models.base import Base, utcnow
from lms.models.content import ContentVersion, CourseModule


class TaskCompletion(Base):
    """A module task done by a person, on the content version they did it on; done once."""

    __tablename__ = "task_completions"
    __table_args__ = (UniqueConstraint("user_id", "module_id", "task_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("course_modules.id"))
    task_id: Mapped[str] = mapped_column(String(64))
    content_version_id: Mapped[int] = mapped_column(ForeignKey("content_versions.id"))
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)

    module: Mapped[CourseModule] = relationship()
    content_version: Mapped[ContentVersion] = relationship()


class MemoDownload(Base):
    """Every download of a memo, for counting; the task it completes is kept separately."""

    __tablename__ = "memo_downloads"
    __table_args__ = (Index("ix_memo_downloads_module_id_memo_id", "module_id", "memo_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("course_modules.id"))
    memo_id: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(8))
    content_version_id: Mapped[int] = mapped_column(ForeignKey("content_versions.id"))
    downloaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class SectionRead(Base):
    """A section of a module that a person has marked as read."""

    __tablename__ = "section_reads"
    __table_args__ = (UniqueConstraint("user_id", "module_id", "section_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("course_modules.id"))
    section_id: Mapped[str] = mapped_column(String(100))
    content_version_id: Mapped[int] = mapped_column(ForeignKey("content_versions.id"))
    read_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModuleStart(Base):
    """When a person first and last did something in a module: one row per person and module.

    Kept by the database layer itself (``record_activity`` below, on every insert of a
    section read, a task done or a quiz attempt), so that reports over a whole country count
    these few rows instead of millions of activity rows. Never changed by hand.
    """

    __tablename__ = "module_starts"
    __table_args__ = (UniqueConstraint("user_id", "module_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    module_id: Mapped[int] = mapped_column(ForeignKey("course_modules.id"))
    started_at: Mapped[datetime]
    last_activity_at: Mapped[datetime]


class ModuleCompletion(Base):
    """A module completed: every required step done. Written once and never changed."""

    __tablename__ = "module_completions"
    __table_args__ = (UniqueConstraint("user_id", "module_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("course_modules.id"))
    content_version_id: Mapped[int] = mapped_column(ForeignKey("content_versions.id"))
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)
    score: Mapped[int | None]
    attempts: Mapped[int]

    module: Mapped[CourseModule] = relationship()
    content_version: Mapped[ContentVersion] = relationship()


class Certificate(Base):
    """The course completed; the code lets anyone check the certificate at /certificates/<code>.

    The name is kept as it was on the day, as it is printed on the PDF.
    """

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)


# What counts as doing something in a module: a section read, a task done, a quiz begun.
ACTIVITY: tuple[tuple[type[Base], str], ...] = (
    (SectionRead, "read_at"),
    (TaskCompletion, "completed_at"),
)


def record_activity(connection: Connection, user_id: int, module_id: int, at: datetime) -> None:
    """Note activity in ``module_starts``: a new row, or an earlier start or later last
    activity on the existing one. One statement, safe when two requests do it at once."""
    table = ModuleStart.__table__
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(
        user_id=user_id, module_id=module_id, started_at=at, last_activity_at=at
    )
    new = statement.excluded
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.user_id, table.c.module_id],
            set_={
                "started_at": case(
                    (new.started_at < table.c.started_at, new.started_at),
                    else_=table.c.started_at,
                ),
                "last_activity_at": case(
                    (new.last_activity_at > table.c.last_activity_at, new.last_activity_at),
                    else_=table.c.last_activity_at,
                ),
            },
        )
    )


def _on_insert(column: str) -> Callable[[Any, Connection, Any], None]:
    def listener(_mapper: Any, connection: Connection, target: Any) -> None:
        record_activity(connection, target.user_id, target.module_id, getattr(target, column))

    return listener


for _model, _column in ACTIVITY:
    event.listen(_model, "after_insert", _on_insert(_column))
