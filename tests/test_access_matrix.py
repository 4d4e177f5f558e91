"""Every registered page, opened by every kind of person: the expected status for each.

Built from ``app.url_map``: a new view that is not in ``EXPECTED`` fails this test, so its
access rule is decided and written down when it is added.
"""

import pytest
from flask import Flask

from lms.content import get_course
from lms.extensions import db
from lms.models import Certificate, Role
from lms.services import quizzes
from lms.services.publishing import publish_course
from tests.conftest import Auth

PEOPLE = ("anonymous", "employee", "own_manager", "other_manager", "regional_hr", "admin")
SIGNED_IN_OK = {"anonymous": 302} | dict.fromkeys(PEOPLE[1:], 200)
STAFF_OK = {"anonymous": 302, "employee": 403} | dict.fromkeys(PEOPLE[2:], 200)

# endpoint -> (path, {person: status})
EXPECTED: dict[str, tuple[str, dict[str, int]]] = {
    "health.healthz": ("/healthz", dict.fromkeys(PEOPLE, 200)),
    "auth.login": ("/login", {"anonymous": 200} | dict.fromkeys(PEOPLE[1:], 302)),
    "me.home": ("/", SIGNED_IN_OK),
    "me.learning": ("/me", SIGNED_IN_OK),
    "learn.catalog": ("/modules", SIGNED_IN_OK),
    "learn.module": ("/modules/client-centricity", SIGNED_IN_OK),
    "learn.memo": ("/modules/client-centricity/memos/client-groups", SIGNED_IN_OK),
    "learn.memo_download": ("/modules/client-centricity/memos/client-groups.pdf", SIGNED_IN_OK),
    "learn.competencies": ("/competencies", SIGNED_IN_OK),
    "me.competencies": ("/me/competencies", SIGNED_IN_OK),
    "quiz.overview": ("/modules/client-centricity/quiz", SIGNED_IN_OK),
    # Someone's own attempt; to anyone else it does not exist.
    "quiz.attempt": (
        "/modules/client-centricity/quiz/attempts/{attempt}",
        {"anonymous": 302, "employee": 200} | dict.fromkeys(PEOPLE[2:], 404),
    ),
    "certificates.lookup": ("/certificates", dict.fromkeys(PEOPLE, 200)),
    "certificates.verify": ("/certificates/{certificate}", dict.fromkeys(PEOPLE, 200)),
    "certificates.download": (
        "/me/certificate.pdf",
        {"anonymous": 302, "employee": 200} | dict.fromkeys(PEOPLE[2:], 404),
    ),
    "team.index": ("/team", STAFF_OK),
    "team.detail": (
        "/team/{own_team}",
        {
            "anonymous": 302,
            "employee": 403,
            "own_manager": 200,
            "other_manager": 403,
            "regional_hr": 200,
            "admin": 200,
        },
    ),  # fmt: skip
}
# POST-only endpoints: checked for CSRF and method elsewhere (test_auth.py).
POST_ONLY = {"auth.logout", "auth.set_locale", "learn.mark_read", "quiz.start", "quiz.answer",
             "me.self_assess"}  # fmt: skip


@pytest.fixture
def world(app: Flask, make):
    publish_course(get_course())
    db.session.commit()
    own = make.team("Own", centre="North", region="Region A")
    other = make.team("Other", centre="South", region="Region B")
    employee = make.user("employee@example.test", team=own)
    make.user("own_manager@example.test", roles=(Role.MANAGER,), manages=(own,))
    make.user("other_manager@example.test", roles=(Role.MANAGER,), manages=(other,))
    make.user("regional_hr@example.test", roles=(Role.HR,), hr_region=own.centre.region)
    make.user("admin@example.test", roles=(Role.ADMIN,))
    course = get_course()
    attempt = quizzes.start_attempt(employee, course, course.modules[0])
    db.session.add(Certificate(user_id=employee.id, code="7KQ2M9XD4HTB", full_name="Person"))
    db.session.commit()
    return {"own_team": own.id, "attempt": attempt.id, "certificate": "7KQ2-M9XD-4HTB"}


def test_every_endpoint_has_an_expected_row(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    missing = endpoints - set(EXPECTED) - POST_ONLY
    assert not missing, f"add these endpoints to EXPECTED in {__file__}: {sorted(missing)}"
    assert not (set(EXPECTED) | POST_ONLY) - endpoints, "EXPECTED names endpoints that are gone"


@pytest.mark.parametrize("person", PEOPLE)
def test_each_person_gets_the_expected_status_everywhere(app, world, person):
    client = app.test_client()
    if person != "anonymous":
        Auth(client).login(f"{person}@example.test")
    wrong = {}
    for endpoint, (path, statuses) in EXPECTED.items():
        response = client.get(path.format(**world))
        response.close()
        if response.status_code != statuses[person]:
            wrong[endpoint] = (response.status_code, statuses[person])
    assert not wrong, f"{person}: endpoint -> (got, expected): {wrong}"
