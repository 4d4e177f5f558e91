"""Competency evidence and the levels it gives a person, with their history.

Nothing here is ever updated or deleted: a new piece of evidence is a new row, and a new
level is a new row, so the history is the table itself.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.models.base import Base, utcnow
from lms.models.users import User

QUIZ = text("kind = 'quiz'")


class EvidenceKind(StrEnum):
    QUIZ = "quiz"  # a passed module quiz, for each competency the module builds
    SELF = "self"  # the person's own assessment
    REVIEW = "review"  # a manager's rating in a competency review
    GOAL = "goal"  # an approved goal, achieved, that put the competency into practice


class CompetencyEvidence(Base):
    __tablename__ = "competency_evidence"
    __table_args__ = (
        CheckConstraint("level BETWEEN 1 AND 4", name="level_range"),
        # A passed quiz is evidence once per competency, however often it is looked at.
        Index(
            "uq_competency_evidence_one_per_quiz",
            "user_id",
            "competency_id",
            "source",
            unique=True,
            sqlite_where=QUIZ,
            postgresql_where=QUIZ,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    competency_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    level: Mapped[int]
    comment: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(100), default="")  # e.g. the module's slug
    review_id: Mapped[int | None] = mapped_column(ForeignKey("competency_reviews.id"), index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])


class CompetencyLevel(Base):
    """A person's level in a competency from ``set_at`` on; the newest row is the current one."""

    __tablename__ = "competency_levels"
    __table_args__ = (
        CheckConstraint("level BETWEEN 1 AND 4", name="level_range"),
        # The newest row of a person and competency is found by this index (reports).
        Index("ix_competency_levels_current", "user_id", "competency_id", "set_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    competency_id: Mapped[str] = mapped_column(String(64))
    level: Mapped[int]
    evidence_id: Mapped[int] = mapped_column(ForeignKey("competency_evidence.id"))
    set_at: Mapped[datetime] = mapped_column(default=utcnow)

    evidence: Mapped[CompetencyEvidence] = relationship()
