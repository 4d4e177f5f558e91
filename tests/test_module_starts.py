"""``module_starts``, kept by the database layer: the first and last activity of each person in
each module, whatever writes the activity (a service, or a plain insert)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from lms.content import get_course
from lms.extensions import db
from lms.models import CourseModule, ModuleStart, QuizAttempt, SectionRead, TaskCompletion
from lms.services import progress, quizzes
from lms.services.reports import as_utc


def start_of(user_id: int) -> list[tuple[int, datetime, datetime]]:
    return [
        (row.module_id, as_utc(row.started_at), as_utc(row.last_activity_at))
        for row in db.session.scalars(select(ModuleStart).where(ModuleStart.user_id == user_id))
    ]


def test_activity_through_the_services_is_noted(app, published, make):
    person = make.user()
    course = get_course()
    module = course.modules[0]
    section = progress.section_ids(course, module)[0]
    progress.mark_section_read(person, course, module, section)
    db.session.commit()
    [(module_id, first, last)] = start_of(person.id)
    assert first == last
    attempt = quizzes.start_attempt(person, course, module)
    db.session.commit()
    [(same_module, first_again, later)] = start_of(person.id)
    assert (same_module, first_again) == (module_id, first)
    assert later == as_utc(attempt.started_at) >= first


def test_plain_inserts_move_the_start_back_and_the_last_activity_on(app, published, make):
    person, other = make.user(), make.user()
    module = db.session.scalars(select(CourseModule).order_by(CourseModule.position)).first()
    assert module is not None
    ids = {"module_id": module.id, "content_version_id": module.current_version_id}
    now = datetime.now(UTC).replace(microsecond=0)
    db.session.add(SectionRead(user_id=person.id, section_id="a", read_at=now, **ids))
    db.session.flush()
    db.session.add(
        TaskCompletion(user_id=person.id, task_id="t", completed_at=now - timedelta(days=3), **ids)
    )
    db.session.add(
        QuizAttempt(
            user_id=person.id,
            number=1,
            layout=[],
            pass_mark=75,
            answers={},
            started_at=now + timedelta(hours=2),
            **ids,
        )  # fmt: skip
    )
    db.session.add(SectionRead(user_id=other.id, section_id="a", read_at=now, **ids))
    db.session.commit()
    assert start_of(person.id) == [(module.id, now - timedelta(days=3), now + timedelta(hours=2))]
    assert start_of(other.id) == [(module.id, now, now)]
