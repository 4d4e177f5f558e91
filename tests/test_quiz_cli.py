"""``lms quiz allow-attempt``: one more attempt for someone who used them all without passing."""

import pytest

from lms.content import get_course
from lms.extensions import db
from lms.models import ExtraAttempt
from lms.services import quizzes
from lms.services.publishing import publish_course

SLUG = "client-centricity"


@pytest.fixture
def course(app):
    course = get_course()
    publish_course(course)
    db.session.commit()
    return course


def fail_every_attempt(user, course) -> None:
    module = course.module(SLUG)
    for _ in range(course.quizzes[SLUG].settings.attempts):
        attempt = quizzes.start_attempt(user, course, module)
        quizzes.submit(attempt, course, module, {})
    db.session.commit()


def test_an_extra_attempt_opens_the_quiz_again_once(runner, make, course):
    person = make.user("learner@example.test")
    fail_every_attempt(person, course)
    module = course.module(SLUG)
    assert quizzes.quiz_state(person, course, module).closed is quizzes.Closed.NO_ATTEMPTS_LEFT

    result = runner.invoke(args=["quiz", "allow-attempt", "learner@example.test", SLUG, "--reason", "sick leave"])  # fmt: skip

    assert result.exit_code == 0, result.output
    state = quizzes.quiz_state(person, course, module)
    assert state.closed is None
    assert state.remaining == 1
    grant = db.session.scalar(db.select(ExtraAttempt))
    assert grant.reason == "sick leave"
    assert grant.user_id == person.id
    fourth = quizzes.start_attempt(person, course, module)
    assert fourth.number == course.quizzes[SLUG].settings.attempts + 1
    quizzes.submit(fourth, course, module, {})
    db.session.commit()
    assert quizzes.quiz_state(person, course, module).closed is quizzes.Closed.NO_ATTEMPTS_LEFT


def test_no_allowance_is_given_in_advance(runner, make, course):
    make.user("learner@example.test")

    result = runner.invoke(args=["quiz", "allow-attempt", "learner@example.test", SLUG])

    assert result.exit_code != 0
    assert "can still take" in result.output
    assert db.session.scalar(db.select(ExtraAttempt)) is None


@pytest.mark.parametrize(
    ("email", "slug", "message"),
    [
        ("nobody@example.test", SLUG, "no account"),
        ("learner@example.test", "no-such-module", "no module"),
    ],
)
def test_unknown_person_or_module_is_refused(runner, make, course, email, slug, message):
    make.user("learner@example.test")

    result = runner.invoke(args=["quiz", "allow-attempt", email, slug])

    assert result.exit_code != 0
    assert message in result.output
