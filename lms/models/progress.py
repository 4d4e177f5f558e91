"""A person's progress through the course: sections read, tasks done, memos downloaded,
modules completed and the course certificate."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
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
