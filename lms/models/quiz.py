"""Quiz attempts: the questions drawn for one person, their answers and the result."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Connection, ForeignKey, Index, String, UniqueConstraint, event, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.models.base import Base, utcnow
from lms.models.content import ContentVersion, CourseModule
from lms.models.progress import record_activity
from lms.models.users import User

OPEN = text("state = 'in_progress'")


class AttemptState(StrEnum):
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"


class QuizAttempt(Base):
    """One attempt at a module's quiz.

    ``layout`` is what was drawn: the questions in order, their options in the order shown and
    the answer key, so that grading and review do not change when the bank is edited later.
    It never leaves the server. A partial unique index keeps one attempt in progress per person
    and quiz, even when two "start" requests arrive at once.
    """

    __tablename__ = "quiz_attempts"
    __table_args__ = (
        UniqueConstraint("user_id", "module_id", "number"),
        Index(
            "uq_quiz_attempts_one_in_progress",
            "user_id",
            "module_id",
            unique=True,
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("course_modules.id"))
    content_version_id: Mapped[int] = mapped_column(ForeignKey("content_versions.id"))
    number: Mapped[int]
    state: Mapped[str] = mapped_column(String(16), default=AttemptState.IN_PROGRESS)
    layout: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    pass_mark: Mapped[int]  # as it was when the attempt began
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    deadline: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    points: Mapped[list[float] | None] = mapped_column(JSON)
    score: Mapped[int | None]
    passed: Mapped[bool | None]
    timed_out: Mapped[bool] = mapped_column(default=False)

    user: Mapped[User] = relationship()
    module: Mapped[CourseModule] = relationship()
    content_version: Mapped[ContentVersion] = relationship()

    @property
    def in_progress(self) -> bool:
        return self.state == AttemptState.IN_PROGRESS


class ExtraAttempt(Base):
    """One more attempt allowed to a person who used all of a quiz's attempts."""

    __tablename__ = "quiz_extra_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("course_modules.id"))
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(String(500), default="")


@event.listens_for(QuizAttempt, "after_insert")
def _attempt_started(_mapper: Any, connection: Connection, attempt: QuizAttempt) -> None:
    """Beginning a quiz is activity in its module (``module_starts``)."""
    record_activity(connection, attempt.user_id, attempt.module_id, attempt.started_at)
