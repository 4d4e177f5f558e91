"""In-app notifications: what needs someone's attention, shown until they have read it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.models.base import Base, utcnow
from lms.models.users import User


class NotificationKind(StrEnum):
    GOAL_SUBMITTED = "goal_submitted"  # to the managers: a goal waits for approval
    GOAL_APPROVED = "goal_approved"
    GOAL_RETURNED = "goal_returned"  # to the owner: change it and submit again
    REVIEW_DONE = "review_done"
    RECOGNITION_RECEIVED = "recognition_received"
    BADGE_AWARDED = "badge_awarded"
    REMINDER = "reminder"  # from a manager or HR: the course is waiting


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(32))
    # What the texts and the link are made of when shown, in the reader's language.
    params: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
