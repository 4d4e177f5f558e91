"""A manager's competency review of a person: ratings, strengths and a development plan.

The ratings themselves are competency evidence of kind ``review`` that point back here, so a
review feeds the level rules like any other evidence. A review is never edited; the next
review is a new row.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.models.base import Base, utcnow
from lms.models.competencies import CompetencyEvidence
from lms.models.users import User


class CompetencyReview(Base):
    __tablename__ = "competency_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    strengths: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    reviewer: Mapped[User] = relationship(foreign_keys=[reviewer_id])
    ratings: Mapped[list[CompetencyEvidence]] = relationship(
        order_by="CompetencyEvidence.competency_id"
    )
    actions: Mapped[list[DevelopmentAction]] = relationship(
        back_populates="review", order_by="DevelopmentAction.due_on, DevelopmentAction.id"
    )


class DevelopmentAction(Base):
    """One step of the development plan agreed in a review, with its due date."""

    __tablename__ = "development_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("competency_reviews.id"), index=True)
    competency_id: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date]

    review: Mapped[CompetencyReview] = relationship(back_populates="actions")
