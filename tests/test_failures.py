"""When the database fails part-way through a change, the person gets the friendly 503 page and
nothing is half-written: a quiz submit or an import is all or nothing."""

import io

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from lms.extensions import db
from lms.models import AttemptState, AuditEvent, Badge, Role, TaskCompletion, User
from lms.services import progress, user_import
from tests.conftest import csrf_token
from tests.test_quiz_attempts import load, right_answers, send, start


def lost_connection(*args, **kwargs):
    raise OperationalError("UPDATE ...", {}, Exception("server closed the connection"))


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_quiz_submit_cut_short_records_nothing_and_can_be_sent_again(
    client, learner, monkeypatch
):
    attempt_id = start(client)
    answers = right_answers(load(attempt_id).layout)

    # The grade is written, then the module's completion fails: all of it is rolled back.
    with monkeypatch.context() as patch:
        patch.setattr(progress, "refresh_completion", lost_connection)
        response = send(client, attempt_id, answers)
    assert response.status_code == 503
    assert "The service is temporarily unavailable" in response.get_data(as_text=True)
    attempt = load(attempt_id)
    assert attempt.state == AttemptState.IN_PROGRESS
    assert attempt.score is None
    assert count(TaskCompletion, TaskCompletion.user_id == learner.id) == 0
    assert count(Badge, Badge.user_id == learner.id) == 0

    # Sent again once the database is back: graded once, passed.
    response = send(client, attempt_id, answers)
    assert response.status_code == 302
    attempt = load(attempt_id)
    assert (attempt.state, attempt.score, attempt.passed) == (AttemptState.SUBMITTED, 100, True)


def test_an_import_cut_short_creates_nobody(client, auth, make, monkeypatch):
    make.team("Support", "Moscow", "Central")
    make.user("admin@example.test", roles=(Role.ADMIN,))
    auth.login("admin@example.test")
    people_before = count(User)
    data = (
        "email,full_name,employee_number,region,centre,team,roles\n"
        + "".join(
            f"p{n}@example.test,Person {n},N-{n},Central,Moscow,Support,employee\n"
            for n in range(30)
        )
    ).encode()

    def fail_at_the_end(*args, **kwargs):  # every row is applied, then the audit entry fails
        raise OperationalError("INSERT INTO audit_events ...", {}, Exception("disk full"))

    with monkeypatch.context() as patch:
        patch.setattr(user_import.audit, "record", fail_at_the_end)
        response = client.post(
            "/hr/import",
            data={
                "csrf_token": csrf_token(client, "/hr/import"),
                "file": (io.BytesIO(data), "people.csv"),
            },
            content_type="multipart/form-data",
        )
    assert response.status_code == 503
    db.session.expire_all()
    assert count(User) == people_before
    assert count(AuditEvent, AuditEvent.action == "users.import") == 0


@pytest.fixture
def learner(make, auth, published):
    person = make.user("learner@example.test", locale="en")
    auth.login(person.email)
    return person
