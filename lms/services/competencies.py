"""Competency levels from evidence.

The rules, in the words a person reads on their competencies page:

- a passed module quiz shows that you know what the competency involves: level 1 for each
  competency the module builds (its front matter says which);
- your own assessment counts up to level 2: applying a competency with support is something
  you can judge yourself, while levels 3 and 4 are seen in daily work and need your manager;
- a goal you achieved, approved by your manager, shows the competencies it linked in
  practice: up to level 2, like your own assessment;
- your manager's latest rating in a review sets the level (1 to 4); a self-assessment or an
  achieved goal from before that review no longer counts, a later one does (up to level 2).

Reaching level 3 earns a badge, once per competency.

The level is the highest that the evidence supports. Evidence and levels are only ever added,
so the history is complete. Functions flush; the view commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from lms.content import Course, Module
from lms.content.loader import Competency
from lms.extensions import db
from lms.models import BadgeKind, CompetencyEvidence, CompetencyLevel, EvidenceKind, User
from lms.services import recognition

QUIZ_LEVEL = 1
SELF_ASSESSMENT_CAP = 2
BADGE_LEVEL = 3
LEVELS = (1, 2, 3, 4)


@dataclass(frozen=True)
class Evidence:
    kind: str
    level: int
    recorded_at: datetime


def level_from(evidence: Iterable[Evidence]) -> int | None:
    """The level the evidence supports; None when there is none."""
    items = sorted(evidence, key=lambda item: item.recorded_at)
    if not items:
        return None
    reviews = [item for item in items if item.kind == EvidenceKind.REVIEW]
    review = reviews[-1] if reviews else None
    since_review = [
        item for item in items if review is None or item.recorded_at > review.recorded_at
    ]
    own = [item for item in since_review if item.kind == EvidenceKind.SELF]
    candidates = [QUIZ_LEVEL for item in items if item.kind == EvidenceKind.QUIZ]
    if review is not None:
        candidates.append(review.level)
    if own:
        candidates.append(min(own[-1].level, SELF_ASSESSMENT_CAP))
    candidates += [
        min(item.level, SELF_ASSESSMENT_CAP)
        for item in since_review
        if item.kind == EvidenceKind.GOAL
    ]
    return max(candidates) if candidates else None


def record_evidence(
    user: User,
    competency_id: str,
    kind: EvidenceKind,
    level: int,
    *,
    comment: str = "",
    source: str = "",
    recorded_by: User | None = None,
    review_id: int | None = None,
) -> CompetencyEvidence | None:
    """Add evidence and, when it changes the person's level, a new level in the history.

    A quiz is evidence once per module: recording it again returns None and changes nothing.
    """
    if level not in LEVELS:
        raise ValueError(f"a level is one of {LEVELS}, not {level!r}")
    evidence = CompetencyEvidence(
        user_id=user.id,
        competency_id=competency_id,
        kind=kind,
        level=level,
        comment=comment.strip(),
        source=source,
        recorded_by_id=recorded_by.id if recorded_by else None,
        review_id=review_id,
    )
    if kind == EvidenceKind.QUIZ:
        # Guarded by a unique index; it follows the attempt's own UPDATE in the same
        # transaction, so on SQLite too the savepoint is not the transaction's first write.
        try:
            with db.session.begin_nested():
                db.session.add(evidence)
        except IntegrityError:
            return None  # this quiz was counted already
    else:
        db.session.add(evidence)
        db.session.flush()
    _update_level(user, competency_id, evidence)
    return evidence


def _update_level(user: User, competency_id: str, latest: CompetencyEvidence) -> None:
    owned = (
        CompetencyEvidence.user_id == user.id,
        CompetencyEvidence.competency_id == competency_id,
    )
    rows = db.session.execute(
        select(
            CompetencyEvidence.kind, CompetencyEvidence.level, CompetencyEvidence.recorded_at
        ).where(*owned)
    )
    level = level_from(Evidence(kind, value, at) for kind, value, at in rows)
    current = db.session.scalar(
        select(CompetencyLevel.level)
        .where(CompetencyLevel.user_id == user.id, CompetencyLevel.competency_id == competency_id)
        .order_by(CompetencyLevel.set_at.desc(), CompetencyLevel.id.desc())
        .limit(1)
    )
    if level is not None and level != current:
        db.session.add(
            CompetencyLevel(
                user_id=user.id, competency_id=competency_id, level=level, evidence_id=latest.id
            )
        )
        db.session.flush()
        if level >= BADGE_LEVEL:
            recognition.award_badge(user, BadgeKind.COMPETENCY_LEVEL_3, competency_id)


def record_quiz_passed(user: User, module: Module) -> None:
    """A passed quiz is level-1 evidence for every competency its module builds."""
    for competency_id in module.competencies:
        record_evidence(user, competency_id, EvidenceKind.QUIZ, QUIZ_LEVEL, source=module.slug)


@dataclass(frozen=True)
class CompetencyStatus:
    competency: Competency
    level: int | None
    evidence: Sequence[CompetencyEvidence]  # newest first
    history: Sequence[CompetencyLevel]  # newest first

    @property
    def self_assessment(self) -> CompetencyEvidence | None:
        return next((item for item in self.evidence if item.kind == EvidenceKind.SELF), None)


def current_level_condition(before: datetime | None = None) -> ColumnElement[bool]:
    """Whether a ``CompetencyLevel`` row is the person's current level in its competency: no
    newer row (by ``set_at``, then id, as ``competency_statuses`` reads it) exists; with
    ``before``, the level as it stood just before that moment."""
    newer = aliased(CompetencyLevel)
    conditions = [
        newer.user_id == CompetencyLevel.user_id,
        newer.competency_id == CompetencyLevel.competency_id,
        or_(
            newer.set_at > CompetencyLevel.set_at,
            and_(newer.set_at == CompetencyLevel.set_at, newer.id > CompetencyLevel.id),
        ),
    ]
    if before is not None:
        conditions.append(newer.set_at < before)
    return ~exists().where(*conditions)


def competency_statuses(user: User, course: Course) -> list[CompetencyStatus]:
    """Every competency of the framework with the person's level, evidence and history."""
    evidence: dict[str, list[CompetencyEvidence]] = {}
    for item in db.session.scalars(
        select(CompetencyEvidence)
        .where(CompetencyEvidence.user_id == user.id)
        .order_by(CompetencyEvidence.recorded_at.desc(), CompetencyEvidence.id.desc())
    ):
        evidence.setdefault(item.competency_id, []).append(item)
    history: dict[str, list[CompetencyLevel]] = {}
    for row in db.session.scalars(
        select(CompetencyLevel)
        .where(CompetencyLevel.user_id == user.id)
        .order_by(CompetencyLevel.set_at.desc(), CompetencyLevel.id.desc())
    ):
        history.setdefault(row.competency_id, []).append(row)
    return [
        CompetencyStatus(
            competency=competency,
            level=history[competency_id][0].level if competency_id in history else None,
            evidence=tuple(evidence.get(competency_id, ())),
            history=tuple(history.get(competency_id, ())),
        )
        for competency_id, competency in course.competencies.items()
    ]
