"""Bad input never crashes a page or corrupts data.

Through the pages, as the people who use them: uploads over the size limit, CSV files that
are malformed or in the wrong encoding, ids that do not exist or are not someone's to use,
invalid values in every main form, and forms sent without their CSRF token. Each answer is
a page that says what is wrong (or a plain 400, 403, 404, 405 or 413), never a 500, and the
database holds exactly what it held before: every table keeps its number of rows, and what
a refused form would have changed is unchanged.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from lms.content import get_course
from lms.extensions import db
from lms.models import Base, Goal, GoalState, QuizAttempt, Recognition, Role, User
from lms.services import goals, grading, quizzes
from lms.services.goals import GoalFields
from tests.conftest import PASSWORD, Auth, Factory, csrf_token

TODAY = date.today()
DUE = (TODAY + timedelta(days=30)).isoformat()
SLUG = "client-centricity"
HEADER = "email,full_name,employee_number,region,centre,team,roles"
REGION_A, REGION_B = "Region A", "Region B"
ENGLISH = {"Accept-Language": "en"}  # for pages seen before signing in

Form = dict[str, Any]


# Helpers ------------------------------------------------------------------------------------


def row_counts() -> dict[str, int]:
    """The number of rows in every table: what a refused request must leave as it was."""
    db.session.expire_all()
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table)) or 0
        for table in Base.metadata.sorted_tables
    }


def sign_in(client: FlaskClient, who: str) -> str:
    """Sign ``who`` in; the CSRF token of their session."""
    response = Auth(client).login(f"{who}@example.test")
    assert response.status_code == 302, response.get_data(as_text=True)
    return csrf_token(client, "/me")


def post(client: FlaskClient, path: str, data: Form, token: str | None) -> TestResponse:
    form = dict(data)
    if token is not None:
        form["csrf_token"] = token
    return client.post(path, data=form)


def shows(response: TestResponse, message: str) -> bool:
    """Whether the page says ``message`` (as the template writes it: escaped)."""
    return str(escape(message)) in response.get_data(as_text=True)


def csv_file(*rows: str, header: str = HEADER) -> str:
    return "\r\n".join((header, *rows)) + "\r\n"


def person_row(email: str = "new.person@example.test", name: str = "Anna Morozova") -> str:
    return f"{email},{name},T-1,{REGION_A},North,Own,employee"


def upload(
    client: FlaskClient, data: bytes, token: str | None, filename: str = "people.csv"
) -> TestResponse:
    """Send ``data`` as the import's file. The body is encoded in memory: the test client
    would spool a large one to a temporary file that a 413 leaves unread and unclosed."""
    form: Form = {"file": FileStorage(io.BytesIO(data), filename, content_type="text/csv")}
    if token is not None:
        form["csrf_token"] = token
    boundary, body = encode_multipart(form)
    return client.post(
        "/hr/import", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


@pytest.fixture
def org(app, make: Factory, cheap_passwords: None) -> dict[str, Any]:
    """Two regions with a team each; people who read English (so messages can be checked
    word for word): an employee and a colleague in the first team, a stranger in the other,
    the first team's manager, HR of the first region and an admin."""
    own = make.team("Own", centre="North", region=REGION_A)
    other = make.team("Other", centre="South", region=REGION_B)
    people = {
        "employee": make.user("employee@example.test", team=own, locale="en"),
        "colleague": make.user("colleague@example.test", team=own, locale="en"),
        "stranger": make.user("stranger@example.test", team=other, locale="en"),
        "manager": make.user(
            "manager@example.test", roles=(Role.MANAGER,), manages=(own,), locale="en"
        ),
        "hr": make.user(
            "hr@example.test", roles=(Role.HR,), hr_region=own.centre.region, locale="en"
        ),
        "admin": make.user("admin@example.test", roles=(Role.ADMIN,), locale="en"),
    }
    return {"own": own, "other": other, **people}


def new_goal(owner: User, *moves: tuple[str, User]) -> Goal:
    goal = goals.create(
        owner,
        GoalFields(
            title="Answer in the first call",
            measure="The call log",
            target="8 of 10 calls",
            relevance="Fewer calls for the same question",
            due_on=TODAY + timedelta(days=30),
            competency_ids=("ownership",),
        ),
    )
    for action, actor in moves:
        goals.perform(goal, actor, action, "Agreed.")
    db.session.commit()
    return goal


# Uploads ------------------------------------------------------------------------------------


def test_an_upload_over_the_size_limit_is_the_friendly_413_page_and_writes_nothing(
    app, client, org
):
    token = sign_in(client, "admin")
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit == 10 * 1024 * 1024
    data = csv_file(person_row()).encode() + b"x" * limit
    before = row_counts()

    response = upload(client, data, token)

    assert response.status_code == 413
    assert shows(response, "The file is too large")
    assert shows(response, "Please choose a smaller file.")
    assert row_counts() == before


def _latin1_file() -> bytes:
    """A file saved in Latin-1: not UTF-8, and read as Windows-1251 its names turn into
    words of Latin and Cyrillic letters (Müller would become Mьller)."""
    data = csv_file(person_row("j.muller@example.test", "Jürgen Müller")).encode("latin-1")
    assert "Mьller" in data.decode("cp1251")
    return data


MALFORMED = {
    "binary garbage": (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
        "This is not a CSV text file.",
    ),
    "binary without NUL bytes": (bytes(range(0x80, 0x100)) * 16, "neither UTF-8 nor Windows-1251"),
    # A quote left open takes the rest of the file into one value: in the last column that
    # value could pass for a name, and the rows after it would silently not be imported.
    "an unterminated quote in the last column": (
        csv_file(
            'a@example.test,T-1,Region A,North,Own,employee,"Anna Morozova',
            "b@example.test,T-2,Region A,North,Own,employee,Boris Volkov",
            header="email,employee_number,region,centre,team,roles,full_name",
        ).encode(),
        "A line break inside the value: is a closing double quote missing?",
    ),
    "an unterminated quote in the middle": (
        csv_file(
            'a@example.test,Anna,T-1,Region A,"North,Own,employee',
            person_row("b@example.test", "Boris Volkov"),
        ).encode(),
        "A line break inside the value: is a closing double quote missing?",
    ),
    "a header only": (csv_file().encode(), "The file lists no people."),
    "missing columns": (
        csv_file("a@example.test,Anna", header="email,full_name").encode(),
        "Missing columns: employee_number, region, centre, team, roles.",
    ),
    "NUL bytes": (csv_file(person_row()).replace("Anna", "An\x00na").encode(), "not a CSV text"),
    "an empty file": (b"", "The file is empty."),
    "UTF-16": (csv_file(person_row()).encode("utf-16"), "This is not a CSV text file."),
    "Latin-1": (_latin1_file(), "mixes Latin and Cyrillic letters in one word (“Jьrgen”)"),
    "a cell over the CSV field limit": (
        csv_file(person_row(name="A" * 200_000)).encode(),
        "The file cannot be read as CSV: field larger than field limit",
    ),
    "an absurdly long name": (
        csv_file(person_row(name="A" * 5_000)).encode(),
        "At most 200 characters.",
    ),
    "an absurdly long e-mail": (
        csv_file(person_row(email="a" * 5_000 + "@example.test")).encode(),
        "At most 254 characters.",
    ),
}


@pytest.mark.parametrize(("data", "message"), MALFORMED.values(), ids=MALFORMED)
def test_a_malformed_file_is_refused_with_a_clear_message_and_nothing_written(
    client, org, data, message
):
    token = sign_in(client, "admin")
    before = row_counts()

    response = upload(client, data, token)

    assert response.status_code == 400
    assert shows(response, message), response.get_data(as_text=True)
    assert shows(response, "Nothing was saved.")
    assert row_counts() == before


def test_a_file_that_is_not_csv_by_its_name_is_refused(client, org):
    token = sign_in(client, "admin")
    before = row_counts()

    response = upload(client, csv_file(person_row()).encode(), token, filename="people.exe")

    assert response.status_code == 400
    assert shows(response, "Save the spreadsheet as CSV and upload that file.")
    assert row_counts() == before


# Ids that name nothing, or nothing of one's own ---------------------------------------------


MISSING = [
    "/people/999999999",
    "/people/0",
    "/people/99999999999999999999",
    "/people/-1",
    "/people/abc",
    "/people/999999999/transcript.pdf",
    "/people/999999999/review",
    "/goals/0",
    "/goals/99999999999999999999",
    "/goals/2147483648",
    "/goals/999999999/edit",
    "/team/999999999",
    "/team/0/wall",
    "/recognise/999999999",
    f"/modules/{SLUG}/quiz/attempts/999999999",
    f"/modules/{SLUG}/quiz/attempts/99999999999999999999",
    "/modules/no-such-module/quiz",
    "/me/badges/no-such-badge.json",
    "/achievements/no-such-kind",
]


@pytest.mark.parametrize("path", MISSING)
def test_an_id_that_names_nothing_is_404(client, org, published, path):
    sign_in(client, "admin")  # who may see everything that exists

    assert client.get(path).status_code == 404


def _someone_elses_goal(world: dict[str, Any]) -> Goal:
    return new_goal(world["stranger"])


def _approved_goal_of_a_stranger(world: dict[str, Any]) -> Goal:
    manager = world["manager"]
    manager.managed_teams.append(world["other"])
    goal = new_goal(world["stranger"], ("submit", world["stranger"]), ("approve", manager))
    manager.managed_teams.remove(world["other"])
    db.session.commit()
    return goal


TAMPERED_POSTS: dict[str, tuple[Callable[[dict[str, Any]], str], Form, int]] = {
    "a move of a goal that does not exist": (lambda w: "/goals/999999999/submit", {}, 404),
    "a move of a goal beyond any id": (lambda w: "/goals/99999999999999999999/submit", {}, 404),
    "a move of someone else's goal": (
        lambda w: f"/goals/{_someone_elses_goal(w).id}/submit",
        {},
        404,
    ),
    "an edit of someone else's goal": (
        lambda w: f"/goals/{_someone_elses_goal(w).id}/edit",
        {
            "title": "Mine now",
            "measure": "m",
            "target": "t",
            "relevance": "r",
            "due_on": DUE,
            "competency_ids": "ownership",
        },
        404,
    ),
    "a check-in on someone else's goal": (
        lambda w: f"/goals/{_approved_goal_of_a_stranger(w).id}/check-ins",
        {"progress": "50"},
        404,
    ),
    "an unknown move": (lambda w: f"/goals/{_someone_elses_goal(w).id}/delete", {}, 404),
    "a notification that does not exist": (lambda w: "/me/notifications/999999999", {}, 404),
    "a self-assessment of an unknown competency": (
        lambda w: "/me/competencies/no-such/self-assessment",
        {"level": "2"},
        404,
    ),
    "recognition of nobody": (
        lambda w: "/recognise/999999999",
        {"target": "competency:ownership", "message": "Thank you"},
        404,
    ),
    "recognition of someone of another team": (
        lambda w: f"/recognise/{w['stranger'].id}",
        {"target": "competency:ownership", "message": "Thank you"},
        403,
    ),
    "a review of someone one does not manage": (
        lambda w: f"/people/{w['colleague'].id}/review",
        {"ratings-ownership-level": "3"},
        403,
    ),
    "a reminder by an employee": (lambda w: f"/team/people/{w['colleague'].id}/remind", {}, 403),
    "an import by an employee": (lambda w: "/hr/import", {}, 403),
    "a token revoked by an employee": (lambda w: "/admin/tokens/1/revoke", {}, 403),
}


@pytest.mark.parametrize(("target", "data", "status"), TAMPERED_POSTS.values(), ids=TAMPERED_POSTS)
def test_a_post_naming_what_is_not_ones_own_is_refused_and_changes_nothing(
    client, org, target, data, status
):
    path = target(org)
    token = sign_in(client, "employee")
    before = row_counts()

    response = post(client, path, data, token)

    assert response.status_code == status
    assert row_counts() == before


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("manager", "/team/people/999999999/remind"),
        ("admin", "/admin/tokens/999999999/revoke"),
        ("admin", "/admin/tokens/99999999999999999999/revoke"),
        ("hr", "/people/999999999/review"),
    ],
)
def test_a_post_with_an_id_that_names_nothing_is_404(client, org, who, path):
    token = sign_in(client, who)
    before = row_counts()

    assert post(client, path, {}, token).status_code == 404
    assert row_counts() == before


def test_a_person_of_another_region_is_403_for_regional_hr(client, org):
    sign_in(client, "hr")

    assert client.get(f"/people/{org['stranger'].id}").status_code == 403
    assert client.get(f"/people/{org['employee'].id}").status_code == 200


# Quiz attempts ------------------------------------------------------------------------------


def _single_choice(layout: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    """The number and entry of an attempt's first single-choice question."""
    return next((n, entry) for n, entry in enumerate(layout, start=1) if entry["type"] == "single")


def attempt_path(attempt: QuizAttempt) -> str:
    return f"/modules/{SLUG}/quiz/attempts/{attempt.id}"


@pytest.fixture
def attempt(org, published) -> QuizAttempt:
    """The employee's attempt in progress (drawn with a single-choice question), with the
    answer to that question saved."""
    course = get_course()
    bank = course.quizzes[SLUG]
    seed = next(
        seed
        for seed in range(1000)
        if any(entry["type"] == "single" for entry in grading.draw(bank, random.Random(seed)))
    )
    found = quizzes.start_attempt(
        org["employee"], course, course.module(SLUG), rng=random.Random(seed)
    )
    _number, question = _single_choice(found.layout)
    assert quizzes.save_answers(found, {question["id"]: question["options"][0]})
    db.session.commit()
    return found


FORGED_ANSWERS: dict[str, tuple[Callable[[list[dict[str, Any]]], Form], str]] = {
    "a question that is not in the attempt": (
        lambda layout: {f"q{len(layout) + 1}": "1"},
        "The form contained answers to questions that are not in this attempt.",
    ),
    "a field that is no question": (
        lambda layout: {"question_id": "cx-definition"},
        "The form contained answers to questions that are not in this attempt.",
    ),
    "a question number beyond any": (
        lambda layout: {"q99999999999999999999": "1"},
        "The form contained answers to questions that are not in this attempt.",
    ),
    "an option that is not a number": (
        lambda layout: {f"q{_single_choice(layout)[0]}": "abc"},
        "Some answers could not be read",
    ),
    "an option beyond the question's": (
        lambda layout: {f"q{_single_choice(layout)[0]}": "99999999999999999999"},
        "Some answers could not be read",
    ),
    "an option id instead of a position": (
        lambda layout: {f"q{_single_choice(layout)[0]}": _single_choice(layout)[1]["options"][0]},
        "Some answers could not be read",
    ),
    "a negative option": (
        lambda layout: {f"q{_single_choice(layout)[0]}": "-1"},
        "Some answers could not be read",
    ),
}


@pytest.mark.parametrize("action", ["save", "submit"])
@pytest.mark.parametrize(("forge", "message"), FORGED_ANSWERS.values(), ids=FORGED_ANSWERS)
def test_a_quiz_form_with_forged_answers_is_400_and_saves_nothing(
    client, org, attempt, forge, message, action
):
    token = sign_in(client, "employee")
    answers = dict(attempt.answers or {})
    before = row_counts()

    response = post(
        client, attempt_path(attempt), {**forge(attempt.layout), "action": action}, token
    )

    assert response.status_code == 400
    assert shows(response, message), response.get_data(as_text=True)
    assert row_counts() == before
    db.session.refresh(attempt)
    assert attempt.in_progress
    assert (attempt.answers or {}) == answers


def test_an_unknown_quiz_action_is_400(client, org, attempt):
    token = sign_in(client, "employee")
    before = row_counts()

    response = post(client, attempt_path(attempt), {"action": "grade"}, token)

    assert response.status_code == 400
    assert row_counts() == before


@pytest.mark.parametrize("action", ["save", "submit"])
def test_someone_elses_attempt_is_404_and_stays_as_it_was(client, org, attempt, action):
    token = sign_in(client, "colleague")
    answers = dict(attempt.answers or {})
    before = row_counts()

    page = client.get(attempt_path(attempt))
    sent = post(client, attempt_path(attempt), {"q1": "1", "action": action}, token)

    assert (page.status_code, sent.status_code) == (404, 404)
    assert row_counts() == before
    db.session.refresh(attempt)
    assert attempt.in_progress
    assert (attempt.answers or {}) == answers


def test_an_attempt_under_another_modules_address_is_404(client, org, attempt):
    sign_in(client, "employee")
    other = next(module.slug for module in get_course().modules if module.slug != SLUG)

    assert client.get(f"/modules/{other}/quiz/attempts/{attempt.id}").status_code == 404


# Goals --------------------------------------------------------------------------------------


GOAL = {
    "title": "Answer in the first call",
    "measure": "The call log",
    "target": "8 of 10 calls",
    "relevance": "Fewer calls for the same question",
    "due_on": DUE,
    "competency_ids": "ownership",
}
REQUIRED = "This field is required."
BAD_DATE = "Not a valid date value."
BAD_GOALS = {
    "an empty title": ({"title": ""}, REQUIRED),
    "a blank title": ({"title": "   "}, REQUIRED),
    "an overlong title": ({"title": "x" * 201}, "Field cannot be longer than 200 characters."),
    "a huge title": ({"title": "x" * 100_000}, "Field cannot be longer than 200 characters."),
    "an overlong measure": (
        {"measure": "x" * 2001},
        "Field cannot be longer than 2000 characters.",
    ),
    "no due date": ({"due_on": ""}, REQUIRED),
    "February 30th": ({"due_on": f"{TODAY.year + 1}-02-30"}, BAD_DATE),
    "a date in words": ({"due_on": "next week"}, BAD_DATE),
    "a day and month swapped": ({"due_on": f"{TODAY.year + 1}-31-12"}, BAD_DATE),
    "a year beyond 9999": ({"due_on": "10000-01-01"}, BAD_DATE),
    "a due date in the past": ({"due_on": "2020-01-01"}, "The due date has passed"),
    "no competency": ({"competency_ids": []}, "Choose at least one competency."),
    "an unknown competency": (
        {"competency_ids": ["ownership", "no-such"]},
        "is not a valid choice for this field.",
    ),
    "an org goal id that is not a number": (
        {"org_goal_id": "abc"},
        "Invalid Choice: could not coerce.",
    ),
    "an org goal id beyond any": ({"org_goal_id": "99999999999999999999"}, "Not a valid choice."),
}


@pytest.mark.parametrize(("changes", "message"), BAD_GOALS.values(), ids=BAD_GOALS)
def test_a_new_goal_with_an_invalid_value_shows_the_error_and_saves_nothing(
    client, org, changes, message
):
    token = sign_in(client, "employee")
    before = row_counts()

    response = post(client, "/me/goals/new", {**GOAL, **changes}, token)

    assert response.status_code == 400
    assert shows(response, message), response.get_data(as_text=True)
    assert row_counts() == before


BAD_EDITS = (
    "an empty title",
    "a huge title",
    "February 30th",
    "a due date in the past",
    "an unknown competency",
)


@pytest.mark.parametrize(
    ("changes", "message"), [BAD_GOALS[case] for case in BAD_EDITS], ids=BAD_EDITS
)
def test_an_edit_with_an_invalid_value_keeps_the_goal_as_it_was(client, org, changes, message):
    goal = new_goal(org["employee"])
    kept = goals.fields_of(goal)
    token = sign_in(client, "employee")
    before = row_counts()

    response = post(client, f"/goals/{goal.id}/edit", {**GOAL, **changes}, token)

    assert response.status_code == 400
    assert shows(response, message), response.get_data(as_text=True)
    assert row_counts() == before
    db.session.refresh(goal)
    assert goals.fields_of(goal) == kept


def test_a_goal_cannot_serve_an_organisational_goal_of_another_region(client, org):
    elsewhere = goals.create_org_goal(
        org["admin"],
        title="Shortlists in five days",
        measure="The journal",
        target="90 %",
        starts_on=TODAY - timedelta(days=1),
        ends_on=TODAY + timedelta(days=90),
        region=org["other"].centre.region,
    )
    db.session.commit()
    token = sign_in(client, "employee")
    before = row_counts()

    response = post(client, "/me/goals/new", {**GOAL, "org_goal_id": str(elsewhere.id)}, token)

    assert response.status_code == 400
    assert shows(response, "Not a valid choice.")
    assert row_counts() == before


def approved_goal_of(world: dict[str, Any]) -> Goal:
    """The employee's goal, approved by their manager."""
    employee = world["employee"]
    return new_goal(employee, ("submit", employee), ("approve", world["manager"]))


@pytest.fixture
def approved_goal(org) -> Goal:
    return approved_goal_of(org)


BAD_CHECK_INS = {
    "over 100 %": ({"progress": "101"}, "Number must be between 0 and 100."),
    "below 0 %": ({"progress": "-1"}, "Number must be between 0 and 100."),
    "a huge number": ({"progress": "9" * 40}, "Number must be between 0 and 100."),
    "a word": ({"progress": "lots"}, "Not a valid integer value."),
    "a fraction": ({"progress": "50.5"}, "Not a valid integer value."),
    "nothing": ({"progress": ""}, REQUIRED),
    "an overlong note": (
        {"progress": "50", "note": "x" * 2001},
        "Field cannot be longer than 2000 characters.",
    ),
}


@pytest.mark.parametrize(("data", "message"), BAD_CHECK_INS.values(), ids=BAD_CHECK_INS)
def test_an_invalid_check_in_shows_the_error_and_saves_nothing(
    client, org, approved_goal, data, message
):
    token = sign_in(client, "employee")
    before = row_counts()

    response = post(client, f"/goals/{approved_goal.id}/check-ins", data, token)

    assert response.status_code == 400
    assert shows(response, message), response.get_data(as_text=True)
    assert row_counts() == before
    db.session.refresh(approved_goal)
    assert approved_goal.progress == 0


def test_a_move_with_an_overlong_comment_is_refused(client, org):
    goal = new_goal(org["employee"], ("submit", org["employee"]))
    token = sign_in(client, "manager")
    before = row_counts()

    response = post(client, f"/goals/{goal.id}/return", {"comment": "x" * 2001}, token)

    assert response.status_code == 400
    assert shows(response, "Field cannot be longer than 2000 characters.")
    assert row_counts() == before
    db.session.refresh(goal)
    assert goal.state == GoalState.SUBMITTED


ORG_GOAL = {
    "title": "Shortlists in five days",
    "measure": "The journal of visits",
    "target": "90 %",
    "starts_on": TODAY.isoformat(),
    "ends_on": (TODAY + timedelta(days=90)).isoformat(),
}
BAD_ORG_GOALS: dict[str, tuple[Callable[[dict[str, Any]], Form], str]] = {
    "dates in the wrong order": (
        lambda w: {"starts_on": DUE, "ends_on": TODAY.isoformat()},
        "The period ends before it starts.",
    ),
    "February 30th": (lambda w: {"ends_on": f"{TODAY.year + 1}-02-30"}, BAD_DATE),
    "no start": (lambda w: {"starts_on": ""}, REQUIRED),
    "an empty title": (lambda w: {"title": ""}, REQUIRED),
    "an overlong target": (
        lambda w: {"target": "x" * 201},
        "Field cannot be longer than 200 characters.",
    ),
    "another region": (
        lambda w: {"scope": f"region:{w['other'].centre.region_id}"},
        "Not a valid choice.",
    ),
    "a centre of another region": (
        lambda w: {"scope": f"centre:{w['other'].centre_id}"},
        "Not a valid choice.",
    ),
    "a region that is not a number": (lambda w: {"scope": "region:abc"}, "Not a valid choice."),
    "no scope": (lambda w: {"scope": ""}, REQUIRED),
}


@pytest.mark.parametrize(("changes", "message"), BAD_ORG_GOALS.values(), ids=BAD_ORG_GOALS)
def test_an_invalid_organisational_goal_shows_the_error_and_saves_nothing(
    client, org, changes, message
):
    token = sign_in(client, "hr")
    scope = f"region:{org['own'].centre.region_id}"
    before = row_counts()

    response = post(client, "/hr/goals", {**ORG_GOAL, "scope": scope, **changes(org)}, token)

    assert response.status_code == 400
    assert shows(response, message), response.get_data(as_text=True)
    assert row_counts() == before


# Reviews, self-assessment and recognition ---------------------------------------------------


BAD_REVIEWS = {
    "a level above the scale": ({"ratings-ownership-level": "5"}, "Not a valid choice."),
    "a level below the scale": ({"ratings-ownership-level": "0"}, "Not a valid choice."),
    "a negative level": ({"ratings-ownership-level": "-1"}, "Not a valid choice."),
    "a level that is a word": ({"ratings-ownership-level": "expert"}, "Not a valid choice."),
    "no rating at all": ({}, "Rate at least one competency."),
    "an overlong comment": (
        {"ratings-ownership-level": "3", "ratings-ownership-comment": "x" * 2001},
        "Field cannot be longer than 2000 characters.",
    ),
    "an impossible action date": (
        {
            "ratings-ownership-level": "3",
            "actions-0-text": "Shadow a colleague",
            "actions-0-due_on": f"{TODAY.year + 1}-02-30",
        },
        BAD_DATE,
    ),
    "an action for an unknown competency": (
        {
            "ratings-ownership-level": "3",
            "actions-0-text": "Shadow a colleague",
            "actions-0-due_on": DUE,
            "actions-0-competency_id": "no-such",
        },
        "Not a valid choice.",
    ),
    "an action without a date": (
        {"ratings-ownership-level": "3", "actions-0-text": "Shadow a colleague"},
        "Give the action a due date.",
    ),
}


@pytest.mark.parametrize(("data", "message"), BAD_REVIEWS.values(), ids=BAD_REVIEWS)
def test_an_invalid_review_shows_the_error_and_saves_nothing(client, org, data, message):
    token = sign_in(client, "manager")
    before = row_counts()

    response = post(client, f"/people/{org['employee'].id}/review", data, token)

    assert response.status_code == 400
    assert shows(response, message), response.get_data(as_text=True)
    assert row_counts() == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"level": "9"}, "Not a valid choice."),
        ({"level": "0"}, REQUIRED),
        ({"level": "abc"}, REQUIRED),
        ({"level": ""}, REQUIRED),
        ({"level": "2", "comment": "x" * 1001}, "Field cannot be longer than 1000 characters."),
    ],
    ids=["above the scale", "below the scale", "a word", "nothing", "an overlong comment"],
)
def test_an_invalid_self_assessment_shows_the_error_and_saves_nothing(client, org, data, message):
    token = sign_in(client, "employee")
    before = row_counts()

    response = post(client, "/me/competencies/ownership/self-assessment", data, token)

    assert response.status_code == 400
    assert shows(response, message), response.get_data(as_text=True)
    assert row_counts() == before


BAD_RECOGNITION: dict[str, tuple[Callable[[dict[str, Any]], Form], str]] = {
    "an empty message": (
        lambda w: {"message": ""},
        "Write a few words about what the person did.",
    ),
    "a blank message": (
        lambda w: {"message": " \r\n\t "},
        "Write a few words about what the person did.",
    ),
    "an overlong message": (
        lambda w: {"message": "x" * 1001},
        "Field cannot be longer than 1000 characters.",
    ),
    "no target": (lambda w: {"target": ""}, "Choose the competency or the goal this is for."),
    "an unknown competency": (lambda w: {"target": "competency:no-such"}, "Not a valid choice."),
    "a goal id that is not a number": (lambda w: {"target": "goal:abc"}, "Not a valid choice."),
    "someone else's goal": (
        lambda w: {"target": f"goal:{_someone_elses_goal(w).id}"},
        "Not a valid choice.",
    ),
}


@pytest.mark.parametrize(("changes", "message"), BAD_RECOGNITION.values(), ids=BAD_RECOGNITION)
def test_invalid_recognition_shows_the_error_and_saves_nothing(client, org, changes, message):
    data = {"target": "competency:ownership", "message": "Thank you", **changes(org)}
    token = sign_in(client, "colleague")
    before = row_counts()

    response = post(client, f"/recognise/{org['employee'].id}", data, token)

    assert response.status_code == 400
    assert shows(response, message), response.get_data(as_text=True)
    assert row_counts() == before


def test_recognition_with_markup_is_kept_as_typed_and_shown_escaped(client, org):
    message = '<script>alert("hi")</script><img src=x onerror=alert(1)> Thanks & well done'
    token = sign_in(client, "colleague")

    response = post(
        client,
        f"/recognise/{org['employee'].id}",
        {"target": "competency:ownership", "message": message},
        token,
    )

    assert response.status_code == 302
    stored = db.session.scalar(select(Recognition.message))
    assert stored == message
    pages = {"colleague": f"/team/{org['own'].id}/wall", "manager": f"/people/{org['employee'].id}"}
    for who, page in pages.items():
        if who != "colleague":
            Auth(client).logout()
            sign_in(client, who)
        html = client.get(page).get_data(as_text=True)
        assert str(escape(message)) in html, page
        assert "<script>alert(" not in html, page
        assert "<img src=x" not in html, page


# Signing in and the language ----------------------------------------------------------------


BAD_LOGINS = {
    "a 10,000-character e-mail": (
        {"email": "a" * 10_000 + "@example.test", "password": "secret"},
        "email",
        "Field cannot be longer than 254 characters.",
    ),
    "a 10,000-character password": (
        {"email": "employee@example.test", "password": "p" * 10_000},
        "password",
        "Field cannot be longer than 256 characters.",
    ),
    "no e-mail": ({"email": "", "password": "secret"}, "email", REQUIRED),
    "no password": ({"email": "employee@example.test", "password": ""}, "password", REQUIRED),
}


def _log_in(client: FlaskClient, data: Form) -> TestResponse:
    token = csrf_token(client, "/login")
    return client.post("/login", data={**data, "csrf_token": token}, headers=ENGLISH)


@pytest.mark.parametrize(("data", "field", "message"), BAD_LOGINS.values(), ids=BAD_LOGINS)
def test_an_invalid_login_form_shows_the_error_and_signs_nobody_in(
    client, org, data, field, message
):
    before = row_counts()

    response = _log_in(client, data)

    assert response.status_code == 400
    assert f'<p class="field-error" id="{field}-error">' in response.get_data(as_text=True)
    assert row_counts() == before
    assert client.get("/me").status_code == 302  # still anonymous


@pytest.mark.parametrize(
    ("data", "field", "message"), list(BAD_LOGINS.values())[:2], ids=list(BAD_LOGINS)[:2]
)
def test_the_login_page_says_what_is_wrong_with_an_overlong_value(
    client, org, data, field, message
):
    response = _log_in(client, data)

    assert shows(response, message)


NEW_PASSWORD = "seven quiet rivers under glass"
BAD_PASSWORD_CHANGES = {
    "a wrong current password": (
        {"current_password": "not my password"},
        401,
        "This is not your current password.",
    ),
    "a confirmation that differs": (
        {"confirm_password": NEW_PASSWORD + "!"},
        400,
        "The two new passwords differ.",
    ),
    "a 10,000-character password": (
        {"new_password": "p" * 10_000, "confirm_password": "p" * 10_000},
        400,
        "Field cannot be longer than 256 characters.",
    ),
    "a short password": (
        {"new_password": "short", "confirm_password": "short"},
        400,
        "Use at least 10 characters.",
    ),
    "no current password": ({"current_password": ""}, 400, REQUIRED),
}


@pytest.mark.parametrize(
    ("changes", "status", "message"), BAD_PASSWORD_CHANGES.values(), ids=BAD_PASSWORD_CHANGES
)
def test_an_invalid_password_change_shows_the_error_and_keeps_the_password(
    client, org, changes, status, message
):
    token = sign_in(client, "employee")
    data = {
        "current_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
        **changes,
    }
    password_hash = org["employee"].password_hash
    before = row_counts()

    response = post(client, "/me/password", data, token)

    assert response.status_code == status
    assert shows(response, message), response.get_data(as_text=True)
    after = row_counts()
    if status == 401:  # a wrong current password is a guess: written to the audit log
        after["audit_events"] -= 1
    assert after == before
    db.session.refresh(org["employee"])
    assert org["employee"].password_hash == password_hash


@pytest.mark.parametrize("locale", ["xx", "", "EN", "ru_RU", "e" * 10_000])
def test_an_unknown_locale_is_refused_and_the_persons_language_kept(client, org, locale):
    token = sign_in(client, "employee")
    before = row_counts()

    response = post(client, "/locale", {"locale": locale, "next": "/me"}, token)

    assert response.status_code == 302
    assert response.headers["Location"] == "/me"
    page = client.get("/me")
    assert shows(page, "That language is not available.")
    assert row_counts() == before
    db.session.refresh(org["employee"])
    assert org["employee"].locale == "en"


def test_a_locale_switch_never_leads_off_the_site(client, org):
    token = sign_in(client, "employee")

    response = post(client, "/locale", {"locale": "ru", "next": "https://evil.example/"}, token)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/")
    assert not response.headers["Location"].startswith("//")


# Forms without their CSRF token, and methods a page does not take ---------------------------


# Valid forms, sent by the person who may send them (each is accepted with its token).
VALID_POSTS: dict[str, tuple[str, Callable[[dict[str, Any]], tuple[str, Form]]]] = {
    "a new goal": ("employee", lambda w: ("/me/goals/new", GOAL)),
    "a check-in": (
        "employee",
        lambda w: (f"/goals/{approved_goal_of(w).id}/check-ins", {"progress": "50"}),
    ),
    "a review": (
        "manager",
        lambda w: (f"/people/{w['employee'].id}/review", {"ratings-ownership-level": "3"}),
    ),
    "recognition": (
        "colleague",
        lambda w: (
            f"/recognise/{w['employee'].id}",
            {"target": "competency:ownership", "message": "Thank you"},
        ),
    ),
    "an organisational goal": (
        "hr",
        lambda w: ("/hr/goals", {**ORG_GOAL, "scope": f"region:{w['own'].centre.region_id}"}),
    ),
    "the language": ("employee", lambda w: ("/locale", {"locale": "ru", "next": "/me"})),
    "logging out": ("employee", lambda w: ("/logout", {})),
}


@pytest.mark.parametrize("forged", [False, True], ids=["no token", "a forged token"])
@pytest.mark.parametrize(("who", "request_of"), VALID_POSTS.values(), ids=VALID_POSTS)
def test_a_post_without_its_csrf_token_is_400_and_changes_nothing(
    client, org, who, request_of, forged
):
    path, data = request_of(org)
    sign_in(client, who)
    before = row_counts()

    response = post(client, path, data, "forged-token" if forged else None)

    assert response.status_code == 400
    assert row_counts() == before
    assert client.get("/me").status_code == 200  # still signed in
    db.session.refresh(org["employee"])
    assert org["employee"].locale == "en"


@pytest.mark.parametrize(("who", "request_of"), VALID_POSTS.values(), ids=VALID_POSTS)
def test_the_same_post_with_its_token_is_accepted(client, org, who, request_of):
    """The control: what the other tests send is refused for the one thing they change."""
    path, data = request_of(org)
    token = sign_in(client, who)

    assert post(client, path, data, token).status_code == 302


def test_an_upload_without_its_csrf_token_is_400_and_writes_nothing(client, org):
    sign_in(client, "admin")
    before = row_counts()

    response = upload(client, csv_file(person_row()).encode(), token=None)

    assert response.status_code == 400
    assert row_counts() == before


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/logout", {"POST"}),
        ("PUT", "/me/goals/new", {"GET", "HEAD", "OPTIONS", "POST"}),
        ("DELETE", "/hr/import", {"GET", "HEAD", "OPTIONS", "POST"}),
    ],
)
def test_a_method_a_page_does_not_take_is_405_with_the_methods_it_does(
    client, org, method, path, allowed
):
    sign_in(client, "admin")
    before = row_counts()

    response = client.open(path, method=method)

    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= allowed
    assert shows(response, "This action is not allowed here")
    assert row_counts() == before


# Query strings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/hr?region=abc", "region must be a number."),
        ("/hr?team=-1", "team must be a number."),
        ("/hr?centre=99999999999999999999", "centre must be a number."),
        ("/hr?since=2026-02-30", "since must be a date as YYYY-MM-DD."),
        ("/hr?since=2025-02-01&until=2025-01-01", "The period ends before it starts."),
        ("/hr?until=0001-01-01", "until must be between"),
        ("/hr/exports/completions.csv?since=yesterday", "since must be a date as YYYY-MM-DD."),
        ("/team?team=abc", "team must be a number."),
    ],
)
def test_a_filter_that_is_not_valid_is_400_with_the_reason(client, org, path, message):
    sign_in(client, "admin")

    response = client.get(path)

    assert response.status_code == 400
    assert shows(response, message), response.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/team?page=99999999999999999999",
        "/team?page=-3",
        "/hr?module=no-such-module",
        "/hr?region=999999999",
        "/certificates?code=" + "A" * 10_000,
    ],
)
def test_a_query_that_names_nothing_shows_nothing_rather_than_failing(client, org, path):
    sign_in(client, "admin")

    assert client.get(path).status_code in {200, 404}


# NUL characters -----------------------------------------------------------------------------

NUL_POSTS: dict[str, tuple[str, Callable[[dict[str, Any]], tuple[str, Form]]]] = {
    "a goal's title": ("employee", lambda w: ("/me/goals/new", {**GOAL, "title": "Answer\x00"})),
    "recognition": (
        "colleague",
        lambda w: (
            f"/recognise/{w['employee'].id}",
            {"target": "competency:ownership", "message": "Thank\x00you"},
        ),
    ),
    "a self-assessment": (
        "employee",
        lambda w: (
            "/me/competencies/ownership/self-assessment",
            {"level": "2", "comment": "a\x00"},
        ),
    ),
    "an organisational goal": (
        "hr",
        lambda w: (
            "/hr/goals",
            {**ORG_GOAL, "title": "x\x00", "scope": f"region:{w['own'].centre.region_id}"},
        ),
    ),
    "a review": (
        "manager",
        lambda w: (
            f"/people/{w['employee'].id}/review",
            {"ratings-ownership-level": "3", "strengths": "a\x00b"},
        ),
    ),
    "a token's name": ("admin", lambda w: ("/admin/tokens", {"name": "a\x00b"})),
}


@pytest.mark.parametrize(("who", "request_of"), NUL_POSTS.values(), ids=NUL_POSTS)
def test_a_nul_character_in_a_form_is_refused(client, org, who, request_of):
    path, data = request_of(org)
    token = sign_in(client, who)
    before = row_counts()

    response = post(client, path, data, token)

    assert response.status_code == 400, response.status_code
    assert row_counts() == before


@pytest.mark.parametrize(
    "path",
    [
        "/hr?module=%00",
        "/certificates/%00",
        "/certificates?code=A%00",
        "/me/badges/%00.json",
        "/modules/%00",
        "/people/1?x=%00",
    ],
)
def test_a_nul_character_in_an_address_is_refused(client, org, path):
    sign_in(client, "admin")

    assert client.get(path).status_code == 400


def test_a_nul_character_in_the_login_form_is_refused(client, org):
    before = row_counts()

    response = _log_in(client, {"email": "employee\x00@example.test", "password": "secret"})

    assert response.status_code == 400
    assert row_counts() == before


def test_a_nul_character_in_a_header_is_refused(client, org):
    """HTTP forbids it; the sign-in would have kept the browser's name with the session."""
    token = csrf_token(client, "/login")
    before = row_counts()

    response = client.post(
        "/login",
        data={"email": "employee@example.test", "password": PASSWORD, "csrf_token": token},
        headers={"User-Agent": "Browser\x00"},
    )

    assert response.status_code == 400
    assert row_counts() == before
    assert client.get("/me").status_code == 302  # not signed in
