"""A manager's competency review: a level and a comment per competency, the person's
strengths, and development actions with due dates.

Each rating becomes competency evidence of kind ``review`` (so the level rules and the
history see it), pointing back to its review. Only a manager of the person's team reviews,
and never themselves. Functions flush; the view commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.content import get_course
from lms.extensions import db
from lms.models import (
    CompetencyReview,
    DevelopmentAction,
    EvidenceKind,
    NotificationKind,
    User,
)
from lms.permissions import manages
from lms.services import audit, competencies, notifications

TEXT_MAX = 2000


class ReviewRefused(Exception):
    """A review the rules do not allow; the message says why."""


@dataclass(frozen=True)
class Rating:
    level: int
    comment: str = ""


@dataclass(frozen=True)
class PlannedAction:
    text: str
    due_on: date
    competency_id: str | None = None


def record_review(
    reviewer: User,
    person: User,
    ratings: Mapping[str, Rating],
    *,
    strengths: str = "",
    actions: Sequence[PlannedAction] = (),
) -> CompetencyReview:
    if not manages(reviewer, person):
        raise ReviewRefused(_("Only a manager of the person's team can review their competencies."))
    course = get_course()
    if not ratings:
        raise ReviewRefused(_("Rate at least one competency."))
    problems = []
    if any(c not in course.competencies for c in ratings):
        problems.append(_("Rate competencies of the framework only."))
    if any(rating.level not in competencies.LEVELS for rating in ratings.values()):
        problems.append(_("A level is from 1 to 4."))
    if (
        any(len(rating.comment) > TEXT_MAX for rating in ratings.values())
        or len(strengths) > TEXT_MAX
    ):
        problems.append(_("Keep each text under %(max)d characters.", max=TEXT_MAX))
    for action in actions:
        if not action.text.strip():
            problems.append(_("Each development action needs a description."))
        if action.due_on < date.today():
            problems.append(_("A development action is due today or later."))
        if action.competency_id is not None and action.competency_id not in course.competencies:
            problems.append(_("Rate competencies of the framework only."))
    if problems:
        raise ReviewRefused(" ".join(dict.fromkeys(problems)))
    review = CompetencyReview(
        user_id=person.id, reviewer_id=reviewer.id, strengths=strengths.strip()
    )
    db.session.add(review)
    db.session.flush()
    for competency_id in course.competencies:  # in the framework's order
        rating = ratings.get(competency_id)
        if rating is None:
            continue
        competencies.record_evidence(
            person,
            competency_id,
            EvidenceKind.REVIEW,
            rating.level,
            comment=rating.comment,
            source=f"review:{review.id}",
            recorded_by=reviewer,
            review_id=review.id,
        )
    for action in actions:
        db.session.add(
            DevelopmentAction(
                review_id=review.id,
                text=action.text.strip(),
                due_on=action.due_on,
                competency_id=action.competency_id,
            )
        )
    db.session.flush()
    audit.record(
        reviewer,
        "review.record",
        person_id=person.id,
        review_id=review.id,
        ratings={competency_id: rating.level for competency_id, rating in ratings.items()},
        actions=len(actions),
    )
    notifications.notify([person], NotificationKind.REVIEW_DONE, actor=reviewer)
    return review


def reviews_of(person: User) -> list[CompetencyReview]:
    query = (
        select(CompetencyReview)
        .where(CompetencyReview.user_id == person.id)
        .options(
            selectinload(CompetencyReview.ratings),
            selectinload(CompetencyReview.actions),
            selectinload(CompetencyReview.reviewer),
        )
        .order_by(CompetencyReview.created_at.desc(), CompetencyReview.id.desc())
    )
    return list(db.session.scalars(query))
