"""Quiz attempts: start or resume, save answers, submit once, expire at the time limit.

A submit is recorded by one conditional UPDATE (``... WHERE state = 'in_progress'``): of two
submits of the same attempt, from two tabs at once or one after the other, exactly one
changes the row and grades it; the other finds it submitted and shows that result.
Functions flush; the view commits.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from lms.config import SUPPORTED_LOCALES
from lms.content import Course, Module
from lms.content.quizzes import QuizBank
from lms.extensions import db
from lms.models import AttemptState, ExtraAttempt, QuizAttempt, User, utcnow
from lms.services import competencies, grading, progress

# A submit sent in the last seconds before the deadline may arrive a little after it.
GRACE = timedelta(seconds=30)


class Closed(StrEnum):
    """Why no new attempt can be started."""

    PASSED = "passed"
    NO_ATTEMPTS_LEFT = "no_attempts_left"


class QuizClosed(Exception):
    def __init__(self, reason: Closed) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class QuizState:
    bank: QuizBank
    attempts: tuple[QuizAttempt, ...]  # newest first
    extra: int = 0  # attempts allowed on top of the quiz's own, one by one
    graded_now: bool = False  # an attempt past its time limit was graded while loading

    @property
    def open_attempt(self) -> QuizAttempt | None:
        return next((attempt for attempt in self.attempts if attempt.in_progress), None)

    @property
    def used(self) -> int:
        return len(self.attempts)

    @property
    def allowed(self) -> int | None:
        limit = self.bank.settings.attempts
        return None if limit is None else limit + self.extra

    @property
    def remaining(self) -> int | None:
        return None if self.allowed is None else max(0, self.allowed - self.used)

    @property
    def passed_attempt(self) -> QuizAttempt | None:
        return next((attempt for attempt in self.attempts if attempt.passed), None)

    @property
    def closed(self) -> Closed | None:
        if self.open_attempt is not None:
            return None
        if self.passed_attempt is not None:
            return Closed.PASSED
        if self.remaining == 0:
            return Closed.NO_ATTEMPTS_LEFT
        return None


def quiz_state(
    user: User, course: Course, module: Module, now: datetime | None = None
) -> QuizState:
    """The person's attempts at this module's quiz; an attempt past its time limit is graded
    first, with the answers it had."""
    bank = course.quizzes[module.slug]
    record, _version = progress.published_version(module.slug)
    attempts = tuple(
        db.session.scalars(
            select(QuizAttempt)
            .where(QuizAttempt.user_id == user.id, QuizAttempt.module_id == record.id)
            .order_by(QuizAttempt.number.desc())
        )
    )
    graded_now = False
    for attempt in attempts:
        if attempt.in_progress:
            graded_now = finish_if_expired(attempt, course, module, now) or graded_now
    extra = db.session.scalar(
        select(func.count(ExtraAttempt.id)).where(
            ExtraAttempt.user_id == user.id, ExtraAttempt.module_id == record.id
        )
    )
    return QuizState(bank=bank, attempts=attempts, extra=extra or 0, graded_now=graded_now)


def allow_extra_attempt(
    user: User, course: Course, module: Module, granted_by: User | None = None, reason: str = ""
) -> ExtraAttempt:
    """Let someone who has used every attempt (without passing) try once more.

    Refused (``ValueError``) while they still have attempts, have one open, or have passed,
    so that an allowance is never given in advance.
    """
    state = quiz_state(user, course, module)
    if state.closed is not Closed.NO_ATTEMPTS_LEFT:
        raise ValueError(f"{user.email} can still take the {module.slug} quiz or has passed it")
    record, _version = progress.published_version(module.slug)
    grant = ExtraAttempt(
        user_id=user.id,
        module_id=record.id,
        granted_by_id=granted_by.id if granted_by else None,
        reason=reason,
    )
    db.session.add(grant)
    db.session.flush()
    return grant


def start_attempt(
    user: User, course: Course, module: Module, rng: random.Random | None = None
) -> QuizAttempt:
    """The attempt in progress, or a new one if the person may start one (``QuizClosed`` if not)."""
    state = quiz_state(user, course, module)
    if state.open_attempt is not None:
        return state.open_attempt
    if state.closed is not None:
        raise QuizClosed(state.closed)
    record, version = progress.published_version(module.slug)
    started = utcnow()
    limit = state.bank.settings.time_limit_minutes
    attempt = QuizAttempt(
        user_id=user.id,
        module_id=record.id,
        content_version_id=version.id,
        number=state.used + 1,
        layout=grading.draw(state.bank, rng),
        pass_mark=state.bank.settings.pass_mark,
        answers={},
        started_at=started,
        deadline=started + timedelta(minutes=limit) if limit else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
    except IntegrityError:
        # Another "start" (a second tab) created the attempt a moment ago: resume that one.
        resumed = quiz_state(user, course, module).open_attempt
        if resumed is None:
            raise
        return resumed
    return attempt


def expired(attempt: QuizAttempt, now: datetime | None = None, grace: timedelta = GRACE) -> bool:
    return attempt.deadline is not None and (now or utcnow()) > attempt.deadline + grace


def save_answers(attempt: QuizAttempt, answers: dict[str, Any]) -> bool:
    """Keep the answers of an attempt in progress; False if it is submitted already."""
    result = db.session.execute(
        update(QuizAttempt)
        .where(QuizAttempt.id == attempt.id, QuizAttempt.state == AttemptState.IN_PROGRESS)
        .values(answers=answers)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(attempt)
    return bool(result.rowcount)  # type: ignore[attr-defined]


def submit(
    attempt: QuizAttempt,
    course: Course,
    module: Module,
    answers: dict[str, Any],
    now: datetime | None = None,
) -> bool:
    """Grade and record the attempt; True if this call recorded it, False if it was already.

    Past the deadline (and its grace), the answers saved in time are graded, not ``answers``.
    """
    now = now or utcnow()
    timed_out = expired(attempt, now)
    if timed_out:
        answers = dict(attempt.answers)
    return _record(attempt, course, module, answers, now, timed_out=timed_out)


def finish_if_expired(
    attempt: QuizAttempt, course: Course, module: Module, now: datetime | None = None
) -> bool:
    """Grade an attempt whose time (and grace) ran out with the answers it had; True if so."""
    now = now or utcnow()
    if not attempt.in_progress or not expired(attempt, now):
        return False
    return _record(attempt, course, module, dict(attempt.answers), now, timed_out=True)


def _record(
    attempt: QuizAttempt,
    course: Course,
    module: Module,
    answers: dict[str, Any],
    now: datetime,
    *,
    timed_out: bool,
) -> bool:
    bank = course.quizzes[module.slug]
    # A question taken out of the bank since the attempt began could not be answered: it
    # does not count either way.
    removed = {entry["id"] for entry in attempt.layout if bank.question(entry["id"]) is None}
    result = grading.grade(attempt.layout, answers, attempt.pass_mark, excluded=removed)
    changed = db.session.execute(
        update(QuizAttempt)
        .where(QuizAttempt.id == attempt.id, QuizAttempt.state == AttemptState.IN_PROGRESS)
        .values(
            state=AttemptState.SUBMITTED,
            answers=answers,
            submitted_at=now,
            points=[float(points) for points in result.points],
            score=result.score,
            passed=result.passed,
            timed_out=timed_out,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(attempt)
    if not changed.rowcount:  # type: ignore[attr-defined]
        return False
    if result.passed:
        _complete_quiz_task(attempt, course, module)
    return True


def _complete_quiz_task(attempt: QuizAttempt, course: Course, module: Module) -> None:
    record, version = progress.published_version(module.slug)
    user = attempt.user
    for task in module.text(SUPPORTED_LOCALES[0]).tasks:
        if task.kind == "quiz":
            progress.complete_task(user, record, version, task.id)
    db.session.flush()
    competencies.record_quiz_passed(user, module)
    progress.refresh_completion(user, course, module)
