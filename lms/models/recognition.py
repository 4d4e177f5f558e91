"""Recognition: badges the system awards, and thanks people give each other."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.models.base import Base, utcnow
from lms.models.goals import Goal
from lms.models.users import User


class BadgeKind(StrEnum):
    MODULE_COMPLETED = "module_completed"  # subject: the module's slug
    COURSE_COMPLETED = "course_completed"  # subject: "course"
    COMPETENCY_LEVEL_3 = "competency_level_3"  # subject: the competency's id
    GOAL_ACHIEVED = "goal_achieved"  # subject: the goal's id


class Badge(Base):
    """A badge awarded automatically; the unique key makes each one happen exactly once."""

    __tablename__ = "badges"
    __table_args__ = (UniqueConstraint("user_id", "kind", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True)  # the credential's uuid
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(100))
    awarded_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()


class Recognition(Base):
    """Personal thanks from a manager or colleague, always for a competency or a goal."""

    __tablename__ = "recognitions"
    __table_args__ = (
        CheckConstraint(
            "competency_id IS NOT NULL OR goal_id IS NOT NULL", name="for_competency_or_goal"
        ),
        Index("ix_recognitions_recipient_created", "recipient_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    giver_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    message: Mapped[str] = mapped_column(Text)
    competency_id: Mapped[str | None] = mapped_column(String(64))
    goal_id: Mapped[int | None] = mapped_column(ForeignKey("goals.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    recipient: Mapped[User] = relationship(foreign_keys=[recipient_id])
    giver: Mapped[User] = relationship(foreign_keys=[giver_id])
    goal: Mapped[Goal | None] = relationship()
