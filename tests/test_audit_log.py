"""The audit log: what is written (who, what, when, from where) and the admins' page."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from lms.content import get_course
from lms.extensions import db
from lms.models import AuditEvent, Role, utcnow
from lms.services import audit, goals, recognition, reviews
from lms.services.goals import GoalFields
from lms.services.reviews import Rating

ENGLISH = {"Accept-Language": "en"}


def actions() -> list[tuple[str, int | None]]:
    return [
        (event.action, event.actor_id)
        for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
    ]


@pytest.fixture
def team_people(app, make):
    team = make.team("Support", "Moscow", "Central")
    return {
        "anna": make.user("anna@example.test", team=team),
        "boss": make.user("boss@example.test", roles=(Role.MANAGER,), manages=(team,)),
        "admin": make.user("admin@example.test", roles=(Role.ADMIN,)),
        "hr": make.user("hr@example.test", roles=(Role.HR,)),
    }


def test_goal_decisions_reviews_and_recognition_are_written(app, team_people, published):
    anna, boss = team_people["anna"], team_people["boss"]
    competency = next(iter(get_course().competencies))
    with app.test_request_context(headers=ENGLISH, environ_base={"REMOTE_ADDR": "10.1.2.3"}):
        goal = goals.create(
            anna,
            GoalFields(
                title="Call back the same day",
                measure="Callbacks in the CRM",
                target="9 of 10",
                relevance="Nobody waits",
                due_on=date.today() + timedelta(days=30),
                competency_ids=(competency,),
            ),
        )
        goals.perform(goal, anna, "submit")
        goals.perform(goal, boss, "return", "Say how you count")
        goals.perform(goal, anna, "submit")
        goals.perform(goal, boss, "approve")
        reviews.record_review(boss, anna, {competency: Rating(3)})
        recognition.give_recognition(boss, anna, "Thank you", competency_id=competency)
        db.session.commit()

    assert [a for a in actions()] == [
        ("goal.submit", anna.id),
        ("goal.return", boss.id),
        ("goal.submit", anna.id),
        ("goal.approve", boss.id),
        ("review.record", boss.id),
        ("recognition.give", boss.id),
    ]
    approve = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "goal.approve")
    ).one()
    assert approve.details == {
        "goal_id": goal.id, "person_id": anna.id, "before": "submitted", "after": "approved"
    }  # fmt: skip
    assert approve.ip == "10.1.2.3"
    review = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "review.record")
    ).one()
    assert review.details["ratings"] == {competency: 3}
    assert review.details["person_id"] == anna.id


def test_roles_given_by_an_import_are_written_one_by_one(app, team_people):
    from lms.services.user_import import import_people

    data = (
        b"email,full_name,employee_number,region,centre,team,roles\n"
        b'anna@example.test,Anna,E-1,Central,Moscow,Support,"employee,manager"\n'
        b'new.hr@example.test,Nina,E-2,Central,Moscow,Support,"employee,hr"\n'
        b"plain@example.test,Oleg,E-3,Central,Moscow,Support,employee\n"
    )
    with app.test_request_context(headers=ENGLISH):
        import_people(data, filename="people.csv", importer=team_people["admin"])
        db.session.commit()
    changes = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "roles.change").order_by(AuditEvent.id)
    ).all()
    assert [(e.actor_id, e.details["email"], e.details["before"], e.details["after"])
            for e in changes] == [
        (team_people["admin"].id, "anna@example.test", ["employee"], ["employee", "manager"]),
        (team_people["admin"].id, "new.hr@example.test", [], ["employee", "hr"]),
    ]  # fmt: skip
    assert [a for a, _actor in actions()].count("users.import") == 1


def test_the_command_line_leaves_no_address(app, team_people):
    audit.record(team_people["admin"], "users.import", rows=1)
    db.session.commit()
    assert db.session.scalar(select(AuditEvent.ip)) is None


def add_events(actor, count: int, action: str = "reminder.send", **details) -> None:
    for number in range(count):
        db.session.add(
            AuditEvent(actor_id=actor.id, action=action, details={"n": number, **details})
        )
    db.session.commit()


def signed_in(app, auth, email):
    auth.login(email)
    return auth.client


def page(client, query: str = "") -> tuple[int, str]:
    response = client.get("/admin/audit" + query, headers=ENGLISH)
    return response.status_code, response.get_data(as_text=True)


def test_admins_read_the_log_newest_first_a_page_at_a_time(app, auth, team_people):
    client = signed_in(app, auth, "admin@example.test")  # writes "login" first
    add_events(team_people["boss"], 120)

    status, body = page(client)
    assert status == 200
    numbers = [int(n) for n in re.findall(r"<dt>n</dt><dd>(\d+)</dd>", body)]
    assert numbers == list(range(119, 69, -1))  # the newest 50
    assert "Reminder sent" in body
    assert "boss@example.test" in body
    older = re.search(r'href="(/admin/audit\?before=\d+)"', body)
    assert older

    status, body = page(client, older.group(1).removeprefix("/admin/audit"))
    numbers = [int(n) for n in re.findall(r"<dt>n</dt><dd>(\d+)</dd>", body)]
    assert numbers == list(range(69, 19, -1))
    assert "Newest entries" in body
    third = re.search(r'href="/admin/audit(\?before=\d+)"', body.split("Newest entries")[1])
    assert third
    status, body = page(client, third.group(1))
    numbers = [int(n) for n in re.findall(r"<dt>n</dt><dd>(\d+)</dd>", body)]
    assert numbers == list(range(19, -1, -1))
    assert "Signed in" in body  # the admin's own sign-in, the oldest entry
    assert "Older entries" not in body


def test_filters_narrow_the_log(app, auth, team_people):
    client = signed_in(app, auth, "admin@example.test")
    old = AuditEvent(actor_id=team_people["hr"].id, action="export.completions_csv",
                     details={}, ip="192.168.7.9", at=utcnow() - timedelta(days=40))  # fmt: skip
    db.session.add(old)
    db.session.commit()
    add_events(team_people["boss"], 2, action="goal.approve")
    add_events(team_people["anna"], 3, action="goal.submit")

    def shown(query: str) -> list[str]:
        status, body = page(client, query)
        assert status == 200, body
        return re.findall(r'<code class="meta">([a-z_.]+)</code>', body)

    assert shown("?group=goal") == ["goal.submit"] * 3 + ["goal.approve"] * 2
    assert shown("?who=BOSS@") == ["goal.approve"] * 2
    assert shown("?who=person") == ["goal.submit"] * 3 + ["goal.approve"] * 2 + [
        "export.completions_csv",
        "login",
    ]  # fmt: skip  (the factory names everyone "Person N")
    assert shown("?address=192.168.") == ["export.completions_csv"]
    assert shown("?group=login") == ["login"]
    until = (date.today() - timedelta(days=30)).isoformat()
    assert shown(f"?until={until}") == ["export.completions_csv"]
    since = (date.today() - timedelta(days=1)).isoformat()
    assert "export.completions_csv" not in shown(f"?since={since}")
    assert shown("?who=%25") == []  # a % is looked for as a character, not a wildcard


def test_failed_sign_ins_are_found_by_the_account_tried(app, auth, client, team_people):
    auth.login("anna@example.test", "a guess")
    auth.login("admin@example.test")
    status, body = page(client, "?who=anna@")
    assert re.findall(r'<code class="meta">([a-z_.]+)</code>', body) == ["login.failed"]


@pytest.mark.parametrize(
    "query",
    [
        "?since=2026-02-30",
        "?group=nothing",
        "?since=2026-05-02&until=2026-05-01",
        "?until=9999-12-31",
        "?since=0001-01-01",
    ],
)
def test_bad_filters_are_a_400_with_the_reason(app, auth, team_people, query):
    client = signed_in(app, auth, "admin@example.test")
    status, body = page(client, query)
    assert status == 400
    assert 'class="field-error"' in body


def test_details_are_shown_as_text(app, auth, team_people):
    client = signed_in(app, auth, "admin@example.test")
    add_events(team_people["anna"], 1, action="users.import", file="<script>alert(1)</script>")
    status, body = page(client)
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


@pytest.mark.parametrize("email", ["hr@example.test", "boss@example.test", "anna@example.test"])
def test_only_admins_read_the_log(app, auth, team_people, email):
    client = signed_in(app, auth, email)
    assert client.get("/admin/audit").status_code == 403
