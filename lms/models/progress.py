"""A person's progress through the course: tasks done and memos downloaded."""

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
