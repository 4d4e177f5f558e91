"""Every registered page, opened by every kind of person: the expected status for each.

Built from ``app.url_map``: a new view that is not in ``EXPECTED`` fails this test, so its
access rule is decided and written down when it is added.
"""

from collections import defaultdict
from datetime import date, timedelta

import pytest
from flask import Flask

from lms.content import get_course
from lms.extensions import db
from lms.models import BadgeKind, Certificate, Role
from lms.services import goals, quizzes, recognition
from lms.services.goals import GoalFields
from lms.services.publishing import publish_course
from tests.conftest import Auth

PEOPLE = ("anonymous", "employee", "own_manager", "other_manager", "regional_hr", "admin")
SIGNED_IN_OK = {"anonymous": 302} | dict.fromkeys(PEOPLE[1:], 200)
STAFF_OK = {"anonymous": 302, "employee": 403} | dict.fromkeys(PEOPLE[2:], 200)
EVERYONE_OK = dict.fromkeys(PEOPLE, 200)
# HR (within their region) and admins; managers see their teams at /team instead.
HR_OK = {"anonymous": 302} | dict.fromkeys(PEOPLE[1:4], 403) | dict.fromkeys(PEOPLE[4:], 200)
# Only the employee: to the others it does not exist.
OWN_ONLY = {"anonymous": 302, "employee": 200} | dict.fromkeys(PEOPLE[2:], 404)

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
    "auth.change_password": ("/me/password", SIGNED_IN_OK),
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
    "goals.index": ("/me/goals", SIGNED_IN_OK),
    "goals.new": ("/me/goals/new", SIGNED_IN_OK),
    # The employee's goal: seen by whoever may see the person (their page), a 404 to the rest.
    "goals.detail": (
        "/goals/{goal}",
        {
            "anonymous": 302,
            "employee": 200,
            "own_manager": 200,
            "other_manager": 404,
            "regional_hr": 200,
            "admin": 200,
        },
    ),  # fmt: skip
    # Only the owner changes a goal; those who may see it are told so (403).
    "goals.edit": (
        "/goals/{goal}/edit",
        {
            "anonymous": 302,
            "employee": 200,
            "own_manager": 403,
            "other_manager": 404,
            "regional_hr": 403,
            "admin": 403,
        },
    ),  # fmt: skip
    "people.person": (
        "/people/{employee}",
        {
            "anonymous": 302,
            "employee": 200,
            "own_manager": 200,
            "other_manager": 403,
            "regional_hr": 200,
            "admin": 200,
        },
    ),  # fmt: skip
    # The training transcript (PDF): whoever may see the person's page.
    "people.transcript": (
        "/people/{employee}/transcript.pdf",
        {
            "anonymous": 302,
            "employee": 200,
            "own_manager": 200,
            "other_manager": 403,
            "regional_hr": 200,
            "admin": 200,
        },
    ),  # fmt: skip
    # Only the person's manager reviews, never the person, HR or an admin.
    "people.review": (
        "/people/{employee}/review",
        {
            "anonymous": 302,
            "employee": 403,
            "own_manager": 200,
            "other_manager": 403,
            "regional_hr": 403,
            "admin": 403,
        },
    ),  # fmt: skip
    # One's own team's wall; people outside any team (the managers, HR, admin here) have none.
    "recognition.my_wall": (
        "/wall",
        # Members go to their team's wall, managers to the first team they manage.
        {"anonymous": 302, "employee": 302, "own_manager": 302, "other_manager": 302}
        | {"regional_hr": 404, "admin": 404},
    ),
    "recognition.wall": (
        "/team/{own_team}/wall",
        {
            "anonymous": 302,
            "employee": 200,
            "own_manager": 200,
            "other_manager": 403,
            "regional_hr": 200,
            "admin": 200,
        },
    ),  # fmt: skip
    # Colleagues of the same team and the person's managers; never oneself.
    "recognition.give": (
        "/recognise/{employee}",
        {
            "anonymous": 302,
            "employee": 403,
            "own_manager": 200,
            "other_manager": 403,
            "regional_hr": 403,
            "admin": 403,
        },
    ),  # fmt: skip
    "recognition.badges": ("/me/badges", SIGNED_IN_OK),
    "recognition.credential": ("/me/badges/{badge}.json", OWN_ONLY),
    # What a badge stands for is public: anyone checking a credential follows its link.
    "recognition.achievement": ("/achievements/goal_achieved", EVERYONE_OK),
    "notifications.index": ("/me/notifications", SIGNED_IN_OK),
    "hr.org_goals": ("/hr/goals", HR_OK),
    # HR's reports: HR (their region) and admins; managers have /team.
    "hr.reports": ("/hr", HR_OK),
    "hr.import_people": ("/hr/import", HR_OK),
    # Exports of completion records: HR (their region) and admins only, never managers.
    "hr.export_csv": ("/hr/exports/completions.csv", HR_OK),
    "hr.export_xlsx": ("/hr/exports/completions.xlsx", HR_OK),
    "hr.export_xapi": ("/hr/exports/statements.jsonl", HR_OK),
    "admin.tokens": (
        "/admin/tokens",
        {"anonymous": 302} | dict.fromkeys(PEOPLE[1:5], 403) | {"admin": 200},
    ),
    "admin.audit_log": (
        "/admin/audit",
        {"anonymous": 302} | dict.fromkeys(PEOPLE[1:5], 403) | {"admin": 200},
    ),
    "admin.content": (
        "/admin/content",
        {"anonymous": 302} | dict.fromkeys(PEOPLE[1:5], 403) | {"admin": 200},
    ),
    # People and the organisation: HR within their region, admins everywhere.
    "admin.people": ("/admin", HR_OK),
    "admin.new_person": ("/admin/people/new", HR_OK),
    "admin.person": ("/admin/people/{employee}", HR_OK),
    "admin.org": ("/admin/org", HR_OK),
    "admin.region": ("/admin/org/regions/{own_region}", HR_OK),
    "admin.centre": ("/admin/org/centres/{own_centre}", HR_OK),
    "admin.team": ("/admin/org/teams/{own_team}", HR_OK),
    "admin.handover": ("/admin/org/handover", HR_OK),
    # An activation link that does not work is the same page for everyone (a working one
    # signs out whoever opens it: tests/test_admin_people.py).
    "auth.activate": ("/activate/no-such-link", dict.fromkeys(PEOPLE, 410)),
    # The read API opens only to bearer tokens: a signed-in browser is as anonymous (401).
    "api.people": ("/api/v1/people", dict.fromkeys(PEOPLE, 401)),
    "api.completions": ("/api/v1/completions", dict.fromkeys(PEOPLE, 401)),
    "api.competencies": ("/api/v1/competencies", dict.fromkeys(PEOPLE, 401)),
    "api.goals": ("/api/v1/goals", dict.fromkeys(PEOPLE, 401)),
    "api.openapi_document": ("/api/v1/openapi.json", EVERYONE_OK),
}
# Further URL rules of an endpoint already in EXPECTED (one row per rule, same shape).
# Outside the regional HR person's region: only admins.
ADMIN_ONLY = {"anonymous": 302} | dict.fromkeys(PEOPLE[1:5], 403) | {"admin": 200}
MORE_RULES: list[tuple[str, str, dict[str, int]]] = [
    ("recognition.achievement", "/achievements/module_completed/client-centricity", EVERYONE_OK),
    ("admin.person", "/admin/people/{other_employee}", ADMIN_ONLY),
    ("admin.region", "/admin/org/regions/{other_region}", ADMIN_ONLY),
    ("admin.centre", "/admin/org/centres/{other_centre}", ADMIN_ONLY),
    ("admin.team", "/admin/org/teams/{other_team}", ADMIN_ONLY),
]
# POST-only endpoints: checked for CSRF and method elsewhere (test_auth.py, test_goal_pages.py).
POST_ONLY = {"auth.logout", "auth.set_locale", "learn.mark_read", "quiz.start", "quiz.answer",
             "me.self_assess", "goals.act", "goals.check_in", "notifications.open_one",
             "notifications.read_all", "admin.revoke_token", "team.remind",
             "admin.deactivate", "admin.reactivate", "admin.activation_link",
             "admin.temporary_password", "admin.bulk_links", "admin.create_region",
             "admin.create_centre", "admin.create_team", "admin.move_team",
             "admin.publish_content"}  # fmt: skip


@pytest.fixture
def world(app: Flask, make):
    publish_course(get_course())
    db.session.commit()
    own = make.team("Own", centre="North", region="Region A")
    other = make.team("Other", centre="South", region="Region B")
    employee = make.user("employee@example.test", team=own)
    other_employee = make.user("other_employee@example.test", team=other)
    make.user("own_manager@example.test", roles=(Role.MANAGER,), manages=(own,))
    make.user("other_manager@example.test", roles=(Role.MANAGER,), manages=(other,))
    make.user("regional_hr@example.test", roles=(Role.HR,), hr_region=own.centre.region)
    make.user("admin@example.test", roles=(Role.ADMIN,))
    course = get_course()
    attempt = quizzes.start_attempt(employee, course, course.modules[0])
    db.session.add(Certificate(user_id=employee.id, code="7KQ2M9XD4HTB", full_name="Person"))
    fields = GoalFields(
        title="Answer in the first call",
        measure="The call log",
        target="8 of 10 calls",
        relevance="Fewer calls for the same question",
        due_on=date.today() + timedelta(days=30),
        competency_ids=("ownership",),
    )
    goal = goals.create(employee, fields)
    badge = recognition.award_badge(employee, BadgeKind.MODULE_COMPLETED, "client-centricity")
    assert badge is not None
    db.session.commit()
    return {
        "own_team": own.id,
        "own_centre": own.centre_id,
        "own_region": own.centre.region_id,
        "other_team": other.id,
        "other_centre": other.centre_id,
        "other_region": other.centre.region_id,
        "other_employee": other_employee.id,
        "attempt": attempt.id,
        "certificate": "7KQ2-M9XD-4HTB",
        "employee": employee.id,
        "goal": goal.id,
        "badge": badge.public_id,
    }


def rows() -> list[tuple[str, str, dict[str, int]]]:
    """Every row of the table: (endpoint, path, {person: status})."""
    return [(endpoint, path, statuses) for endpoint, (path, statuses) in EXPECTED.items()] + list(
        MORE_RULES
    )


def test_every_endpoint_has_an_expected_row(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    missing = endpoints - set(EXPECTED) - POST_ONLY
    assert not missing, f"add these endpoints to EXPECTED in {__file__}: {sorted(missing)}"
    assert not (set(EXPECTED) | POST_ONLY) - endpoints, "EXPECTED names endpoints that are gone"
    assert {endpoint for endpoint, _path, _statuses in MORE_RULES} <= set(EXPECTED)


def test_every_get_rule_has_a_row_of_its_own(app):
    """An endpoint with two URL rules (e.g. with and without a subject) is opened by both."""
    adapter = app.url_map.bind("localhost")
    placeholders = defaultdict(lambda: "1")  # every id in the table's paths is an int or a slug
    covered = set()
    for endpoint, path, _statuses in rows():
        rule, _args = adapter.match(path.format_map(placeholders), method="GET", return_rule=True)
        assert rule.endpoint == endpoint, f"{path} is {rule.endpoint}, not {endpoint}"
        covered.add(rule.rule)
    get_rules = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and "GET" in (rule.methods or ())
    }
    assert not get_rules - covered, f"add rows to MORE_RULES for {sorted(get_rules - covered)}"


def test_post_only_endpoints_answer_no_get(app):
    """POST_ONLY is left out of the table because GET reaches nothing there."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint in POST_ONLY:
            assert "GET" not in (rule.methods or ()), rule.rule


@pytest.mark.parametrize("person", PEOPLE)
def test_each_person_gets_the_expected_status_everywhere(app, world, person):
    client = app.test_client()
    if person != "anonymous":
        Auth(client).login(f"{person}@example.test")
    wrong = {}
    for endpoint, path, statuses in rows():
        response = client.get(path.format(**world))
        response.close()
        if response.status_code != statuses[person]:
            wrong[f"{endpoint} {path}"] = (response.status_code, statuses[person])
    assert not wrong, f"{person}: endpoint -> (got, expected): {wrong}"
