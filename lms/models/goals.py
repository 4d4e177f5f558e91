"""Organisational goals set by HR, and people's individual client-centric goals.

A goal's life is a state machine (``lms.services.goals``). Every step of it is a new row in
``goal_events`` and every check-in a new row in ``goal_check_ins``: who, when, and what was
said are never overwritten.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.models.base import Base, utcnow
from lms.models.org import Centre, Region
from lms.models.users import User


class GoalState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    RETURNED = "returned"
    ACHIEVED = "achieved"
    NOT_ACHIEVED = "not_achieved"


class OrgGoal(Base):
    """A client-centric goal of a whole centre or region, which individual goals serve."""

    __tablename__ = "org_goals"
    __table_args__ = (
        CheckConstraint("(region_id IS NULL) <> (centre_id IS NULL)", name="one_region_or_centre"),
        CheckConstraint("starts_on <= ends_on", name="period_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    measure: Mapped[str] = mapped_column(Text)
    target: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centres.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    region: Mapped[Region | None] = relationship()
    centre: Mapped[Centre | None] = relationship()
    created_by: Mapped[User] = relationship()


class Goal(Base):
    """A person's individual client-centric goal, SMART: what, measure, target, why, when."""

    __tablename__ = "goals"
    __table_args__ = (CheckConstraint("progress BETWEEN 0 AND 100", name="progress_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))  # what
    measure: Mapped[str] = mapped_column(Text)  # how it is measured
    target: Mapped[str] = mapped_column(String(200))
    relevance: Mapped[str] = mapped_column(Text)  # why it matters for clients
    due_on: Mapped[date]
    org_goal_id: Mapped[int | None] = mapped_column(ForeignKey("org_goals.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default=GoalState.DRAFT, index=True)
    progress: Mapped[int] = mapped_column(default=0)  # from the latest check-in
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()
    org_goal: Mapped[OrgGoal | None] = relationship()
    events: Mapped[list[GoalEvent]] = relationship(
        back_populates="goal", order_by="GoalEvent.id.desc()"
    )
    check_ins: Mapped[list[CheckIn]] = relationship(
        back_populates="goal", order_by="CheckIn.id.desc()"
    )

    competency_links: Mapped[list[GoalCompetency]] = relationship(
        cascade="all, delete-orphan", order_by="GoalCompetency.competency_id", lazy="selectin"
    )

    @property
    def competency_ids(self) -> list[str]:
        return [link.competency_id for link in self.competency_links]


class GoalCompetency(Base):
    """A competency of the framework that a goal puts into practice."""

    __tablename__ = "goal_competencies"

    goal_id: Mapped[int] = mapped_column(
        ForeignKey("goals.id", ondelete="CASCADE"), primary_key=True
    )
    competency_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class GoalEvent(Base):
    """One step of a goal's life: created, edited, submitted, approved, returned, closed."""

    __tablename__ = "goal_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    comment: Mapped[str] = mapped_column(Text, default="")
    snapshot: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)  # the SMART fields
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    goal: Mapped[Goal] = relationship(back_populates="events")
    actor: Mapped[User] = relationship()


class CheckIn(Base):
    __tablename__ = "goal_check_ins"
    __table_args__ = (CheckConstraint("progress BETWEEN 0 AND 100", name="progress_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), index=True)
    progress: Mapped[int]
    note: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    goal: Mapped[Goal] = relationship(back_populates="check_ins")
    author: Mapped[User] = relationship()
