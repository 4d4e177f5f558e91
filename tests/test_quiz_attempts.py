"""Quiz attempts over HTTP: start and resume, saving, grading, one result per attempt, the time
limit, the attempts limit, other people's attempts, forged forms, and a page that never says
which option is right."""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import func, select

from lms.content import get_course
from lms.content.quizzes import QUESTION_TYPES
from lms.extensions import db
from lms.models import AttemptState, QuizAttempt, Role, TaskCompletion, utcnow
from lms.services import grading, quizzes
from tests.conftest import Auth, csrf_token

SLUG = "client-centricity"
OTHER_SLUG = "cx-system"
OVERVIEW = f"/modules/{SLUG}/quiz"
FETCH = {"X-Requested-With": "fetch"}
# A page without side effects to take a CSRF token from (the quiz pages grade expired attempts).
TOKEN_PAGE = "/modules"
ALREADY_SUBMITTED = "This attempt was already submitted. Here is its result."
TIME_RAN_OUT = "Time ran out. The attempt was graded with the answers saved in time."
# Words that would mark the right option if an attribute carried them.
TELLING_WORDS = re.compile(r"correct|right|key|answer|solution", re.IGNORECASE)
# Messages for the page's script (autosave, timer, confirmation): interface text, not markers.
SCRIPT_MESSAGES = {"data-saved", "data-save-failed", "data-time-left", "data-confirm-unanswered"}

Form = dict[str, Any]
Layout = list[dict[str, Any]]


# --- Pages ------------------------------------------------------------------------------------


class Page(HTMLParser):
    """A parsed page: every start tag with its attributes, the text, the quiz's form fields
    (name -> [(value, chosen)]) and the text of elements with role="alert"."""

    VOID = frozenset({"br", "col", "hr", "img", "input", "link", "meta", "path", "source", "wbr"})

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.texts: list[str] = []
        self.fields: dict[str, list[tuple[str, bool]]] = {}
        self.alerts: list[str] = []
        self._select: str | None = None
        self._open: list[bool] = []  # for each open element: is it (inside) an alert?
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        self.tags.append((tag, attributes))
        if tag == "input" and attributes.get("type") in ("radio", "checkbox"):
            field = self.fields.setdefault(attributes["name"], [])
            field.append((attributes["value"], "checked" in attributes))
        elif tag == "select":
            self._select = attributes["name"]
            self.fields.setdefault(self._select, [])
        elif tag == "option" and self._select is not None:
            self.fields[self._select].append((attributes["value"], "selected" in attributes))
        if tag not in self.VOID:
            inside = bool(self._open and self._open[-1])
            self._open.append(inside or attributes.get("role") == "alert")
            if attributes.get("role") == "alert":
                self.alerts.append("")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self._open.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        if tag not in self.VOID and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.texts.append(data.strip())
        if self._open and self._open[-1]:
            self.alerts[-1] += data

    @property
    def chosen(self) -> dict[str, list[str]]:
        """The values checked or selected, per field (a blank choice is no answer)."""
        found = {
            name: sorted(value for value, chosen in values if chosen and value)
            for name, values in self.fields.items()
        }
        return {name: values for name, values in found.items() if values}

    def count(self, tag: str) -> int:
        return sum(1 for name, _attributes in self.tags if name == tag)


def questions_part(html: str) -> str:
    """The list of questions of an attempt page, without the page around it."""
    start = html.index('<ol class="quiz-questions">')
    return html[start : html.index("</ol>", start) + len("</ol>")]


def structure(html: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """The page's tags and attributes without its texts; what differs between two people's
    attempts for other reasons (the attempt id in addresses, the CSRF token) is blanked."""
    shape = []
    for tag, attributes in Page(html).tags:
        normal = []
        for name, value in sorted(attributes.items()):
            if attributes.get("name") == "csrf_token" and name == "value":
                value = "<token>"
            normal.append((name, re.sub(r"/attempts/\d+", "/attempts/<id>", value)))
        shape.append((tag, normal))
    return shape


def score_shown(html: str) -> int:
    match = re.search(r'id="score-title">Your score: (\d+)%', html)
    assert match, "no score on the page"
    return int(match[1])


# --- Attempts ---------------------------------------------------------------------------------


def attempt_url(attempt_id: int, slug: str = SLUG) -> str:
    return f"/modules/{slug}/quiz/attempts/{attempt_id}"


def token(client: FlaskClient) -> str:
    return csrf_token(client, TOKEN_PAGE)


def start(client: FlaskClient, slug: str = SLUG) -> int:
    """Press "Start" on the quiz page; the id of the attempt it leads to."""
    response = client.post(f"/modules/{slug}/quiz/start", data={"csrf_token": token(client)})
    assert response.status_code == 302
    match = re.fullmatch(rf"/modules/{slug}/quiz/attempts/(\d+)", urlsplit(response.location).path)
    assert match, response.location
    return int(match[1])


def start_with_every_type(user: Any, slug: str = SLUG) -> int:
    """Start an attempt (through the service, with a seeded draw) that has every question type."""
    course = get_course()
    bank = course.quizzes[slug]
    seed = next(
        seed
        for seed in range(1000)
        if {entry["type"] for entry in grading.draw(bank, random.Random(seed))}
        == set(QUESTION_TYPES)
    )
    attempt = quizzes.start_attempt(user, course, course.module(slug), rng=random.Random(seed))
    db.session.commit()
    return attempt.id


def load(attempt_id: int) -> QuizAttempt:
    """The attempt as stored now (requests run in sessions of their own)."""
    db.session.expire_all()
    attempt = db.session.get(QuizAttempt, attempt_id)
    assert attempt is not None
    return attempt


def attempts_of(user: Any) -> list[QuizAttempt]:
    db.session.expire_all()
    return list(db.session.scalars(select(QuizAttempt).where(QuizAttempt.user_id == user.id)))


def quiz_tasks_done(user: Any) -> int:
    return db.session.scalar(
        select(func.count(TaskCompletion.id)).where(
            TaskCompletion.user_id == user.id, TaskCompletion.task_id == "quiz"
        )
    )


def send(
    client: FlaskClient,
    attempt_id: int,
    answers: Form,
    action: str = "submit",
    slug: str = SLUG,
    **kwargs: Any,
) -> Any:
    data = {**answers, "action": action, "csrf_token": token(client)}
    return client.post(attempt_url(attempt_id, slug), data=data, **kwargs)


def position(ids: list[str], wanted: str) -> str:
    return str(ids.index(wanted) + 1)


def right_answers(layout: Layout) -> Form:
    """The form a person who knows every answer sends: positions as shown on the page."""
    form: Form = {}
    for number, entry in enumerate(layout, start=1):
        field, kind = f"q{number}", entry["type"]
        if kind == "single":
            form[field] = position(entry["options"], entry["key"][0])
        elif kind == "multiple":
            form[field] = [position(entry["options"], option) for option in entry["key"]]
        elif kind == "true_false":
            form[field] = "true" if entry["key"] else "false"
        elif kind == "matching":
            for row, left in enumerate(entry["left"], start=1):
                form[f"{field}-{row}"] = position(entry["right"], left)
        else:
            for row, item in enumerate(entry["items"], start=1):
                form[f"{field}-{row}"] = position(entry["key"], item)
    return form


def wrong_answers(layout: Layout) -> Form:
    """A form that answers every question and scores nothing."""
    form: Form = {}
    for number, entry in enumerate(layout, start=1):
        field, kind = f"q{number}", entry["type"]
        if kind in ("single", "multiple"):
            wrong = [str(p) for p, o in enumerate(entry["options"], 1) if o not in entry["key"]]
            form[field] = wrong[0] if kind == "single" else wrong
        elif kind == "true_false":
            form[field] = "false" if entry["key"] else "true"
        elif kind == "matching":
            lefts = entry["left"]
            for row in range(1, len(lefts) + 1):  # each line gets the next line's description
                form[f"{field}-{row}"] = position(entry["right"], lefts[row % len(lefts)])
        else:
            key = entry["key"]
            for row, item in enumerate(entry["items"], start=1):  # each step one place off
                form[f"{field}-{row}"] = str((key.index(item) + 1) % len(key) + 1)
    return form


def question_number(field: str) -> int:
    match = re.match(r"q(\d+)", field)
    assert match, field
    return int(match[1])


def fields_of(form: Form, numbers: set[int]) -> Form:
    """The part of a form that answers the questions with these numbers."""
    return {name: value for name, value in form.items() if question_number(name) in numbers}


def as_lists(form: Form) -> dict[str, list[str]]:
    return {
        name: sorted(value if isinstance(value, list) else [value]) for name, value in form.items()
    }


def stored(layout: Layout, form: Form) -> dict[str, Any]:
    """The answers a form is stored as."""
    return grading.parse_answers(layout, as_lists(form))


# --- Fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def learner(make, auth, published):
    """An employee, signed in, who reads the site in English."""
    person = make.user("learner@example.test", locale="en")
    auth.login(person.email)
    return person


@pytest.fixture
def timed_quiz(monkeypatch, published):
    """The module's quiz with a ten-minute time limit (the loaded bank is restored after)."""
    banks = get_course().quizzes
    bank = banks[SLUG]
    monkeypatch.setitem(
        banks, SLUG, replace(bank, settings=replace(bank.settings, time_limit_minutes=10))
    )


# --- 1. Start ---------------------------------------------------------------------------------


def test_start_leads_to_an_attempt_with_eight_questions(client, learner):
    """Starting opens an attempt whose page asks the bank's eight drawn questions."""
    attempt_id = start(client)
    response = client.get(attempt_url(attempt_id))
    assert response.status_code == 200
    page = Page(response.get_data(as_text=True))
    assert page.count("fieldset") == 8
    assert len(load(attempt_id).layout) == 8
    assert load(attempt_id).state == AttemptState.IN_PROGRESS


def test_starting_again_resumes_the_open_attempt(client, learner):
    """A second start while an attempt is open leads back to it; no second row is created."""
    first = start(client)
    second = start(client)
    assert second == first
    assert [attempt.id for attempt in attempts_of(learner)] == [first]
    overview = client.get(OVERVIEW).get_data(as_text=True)
    assert "Continue the attempt" in overview
    assert attempt_url(first) in overview


def test_two_starts_at_the_same_moment_open_one_attempt(app, client, auth, make, published):
    """Two tabs pressing "Start" at once are led to the same attempt; one row is created."""
    person = make.user("learner@example.test", locale="en")
    other = app.test_client()
    auth.login(person.email)
    Auth(other).login(person.email)
    clients = (client, other)
    tokens = [token(browser) for browser in clients]
    db.session.commit()  # the test holds no transaction while the requests run
    barrier = threading.Barrier(2, timeout=30)

    def press_start(browser: FlaskClient, csrf: str) -> Any:
        barrier.wait()
        return browser.post(f"{OVERVIEW}/start", data={"csrf_token": csrf})

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(press_start, *pair) for pair in zip(clients, tokens, strict=True)]
        responses = [future.result(timeout=60) for future in futures]

    assert [response.status_code for response in responses] == [302, 302]
    rows = attempts_of(person)
    assert len(rows) == 1
    assert {urlsplit(response.location).path for response in responses} == {attempt_url(rows[0].id)}


# --- 2. Resume --------------------------------------------------------------------------------


def test_saved_answers_are_shown_again_on_the_same_questions(client, learner):
    """Saved answers come back checked and selected at their positions, on the same questions."""
    attempt_id = start_with_every_type(learner)
    layout = load(attempt_id).layout
    before = client.get(attempt_url(attempt_id)).get_data(as_text=True)
    assert Page(before).chosen == {}
    saved = fields_of(right_answers(layout), {1, 3, 5, 7}) | fields_of(
        wrong_answers(layout), {2, 4}
    )

    response = send(client, attempt_id, saved, action="save", follow_redirects=True)
    assert response.request.path == attempt_url(attempt_id)
    assert "Your answers are saved." in response.get_data(as_text=True)

    after = client.get(attempt_url(attempt_id)).get_data(as_text=True)
    assert Page(after).chosen == as_lists(saved)
    unmarked = re.sub(r" (checked|selected)", "", questions_part(after))
    assert unmarked == questions_part(before)
    assert load(attempt_id).answers == stored(layout, saved)
    assert load(attempt_id).state == AttemptState.IN_PROGRESS


def test_autosave_answers_json_and_keeps_the_answers(client, learner):
    """The page's autosave (a fetch request) gets JSON back and the answers are kept."""
    attempt_id = start(client)
    layout = load(attempt_id).layout
    answers = fields_of(right_answers(layout), {1, 2})
    response = send(client, attempt_id, answers, action="save", headers=FETCH)
    assert response.status_code == 200
    assert response.is_json
    assert response.get_json()["saved"] is True
    assert load(attempt_id).answers == stored(layout, answers)
    assert Page(client.get(attempt_url(attempt_id)).get_data(as_text=True)).chosen == as_lists(
        answers
    )


# --- 3. Nothing on the page says which option is right ----------------------------------------


@pytest.mark.parametrize("locale", ["ru", "en"])
def test_the_attempt_page_does_not_reveal_the_right_options(client, make, auth, published, locale):
    """No bank id, explanation or telling attribute on the page; field values are positions."""
    person = make.user("learner@example.test", locale=locale)
    auth.login(person.email)
    attempt_id = start_with_every_type(person)
    layout = load(attempt_id).layout
    bank = get_course().quizzes[SLUG]
    html = client.get(attempt_url(attempt_id)).get_data(as_text=True)
    page = Page(html)

    expected_fields: dict[str, list[str]] = {}
    bank_ids: set[str] = set()
    for number, entry in enumerate(layout, start=1):
        question = bank.question(entry["id"])
        assert question is not None
        assert entry["id"] not in html
        bank_ids |= {choice.id for choice in question.options + question.items}
        bank_ids |= {pair.id for pair in question.pairs}
        positions = [str(n) for n in range(1, len(entry.get("options", [])) + 1)]
        if entry["type"] in ("single", "multiple"):
            expected_fields[f"q{number}"] = positions
        elif entry["type"] == "true_false":
            expected_fields[f"q{number}"] = ["true", "false"]
        else:
            rows = entry["left"] if entry["type"] == "matching" else entry["items"]
            for row in range(1, len(rows) + 1):
                expected_fields[f"q{number}-{row}"] = [""] + [
                    str(n) for n in range(1, len(rows) + 1)
                ]
    assert {name: [v for v, _c in values] for name, values in page.fields.items()} == (
        expected_fields
    )
    assert page.chosen == {}

    for tag, attributes in page.tags:
        for name, value in attributes.items():
            if name == "value" or name.startswith("data-"):
                assert not set(value.split()) & bank_ids, (tag, name, value)
            if name in SCRIPT_MESSAGES and tag in ("form", "button"):
                continue
            assert not TELLING_WORDS.search(name), (tag, name)
            assert not TELLING_WORDS.search(value), (tag, name, value)

    for question in bank.questions:
        for text in question.explanation.values():
            assert str(escape(text)) not in html
            assert str(escape(text[:40])) not in html


def moved_right_options(layout: Layout) -> Layout:
    """The same questions with every option list turned by one: the right ones move."""
    moved = []
    for entry in layout:
        entry = dict(entry)
        for part in ("options", "right", "items"):
            if part in entry:
                entry[part] = entry[part][1:] + entry[part][:1]
        moved.append(entry)
    return moved


def test_two_attempts_differ_only_in_their_texts(client, make, auth, published):
    """Where the right option sits changes no tag and no attribute of the page."""
    first_person = make.user("first@example.test", locale="en")
    second_person = make.user("second@example.test", locale="en")
    first_id = start_with_every_type(first_person)
    second_id = start_with_every_type(second_person)
    second = load(second_id)
    second.layout = moved_right_options(load(first_id).layout)
    db.session.commit()
    first_layout, second_layout = load(first_id).layout, load(second_id).layout
    for number in range(1, len(first_layout) + 1):
        if first_layout[number - 1]["type"] != "true_false":
            assert fields_of(right_answers(first_layout), {number}) != fields_of(
                right_answers(second_layout), {number}
            )

    auth.login(first_person.email)
    first_html = client.get(attempt_url(first_id)).get_data(as_text=True)
    auth.logout()
    auth.login(second_person.email)
    second_html = client.get(attempt_url(second_id)).get_data(as_text=True)

    assert structure(first_html) == structure(second_html)
    assert Page(first_html).texts != Page(second_html).texts


# --- 4. Grading -------------------------------------------------------------------------------


def test_right_answers_pass_and_mark_the_quiz_task(client, learner):
    """All right: 100 %, passed, the quiz task done, and a review with the explanations."""
    attempt_id = start(client)
    layout = load(attempt_id).layout
    response = send(client, attempt_id, right_answers(layout))
    assert response.status_code == 302
    assert urlsplit(response.location).path == attempt_url(attempt_id)

    attempt = load(attempt_id)
    assert (attempt.state, attempt.score, attempt.passed) == (AttemptState.SUBMITTED, 100, True)
    assert attempt.points == [1.0] * 8
    assert quiz_tasks_done(learner) == 1

    html = client.get(attempt_url(attempt_id)).get_data(as_text=True)
    assert score_shown(html) == 100
    assert "Passed: the pass mark is 75%." in html
    bank = get_course().quizzes[SLUG]
    for entry in layout:
        assert str(escape(bank.question(entry["id"]).explanation["en"])) in html
    assert "Try again" not in html


@pytest.mark.parametrize("answers", [wrong_answers, lambda layout: {}], ids=["wrong", "empty"])
def test_a_failed_submission_uses_up_an_attempt(client, learner, answers: Callable):
    """Wrong or no answers: 0 %, not passed, no quiz task, one attempt fewer left."""
    assert "3 attempts left." in client.get(OVERVIEW).get_data(as_text=True)
    attempt_id = start(client)
    response = send(client, attempt_id, answers(load(attempt_id).layout), follow_redirects=True)
    html = response.get_data(as_text=True)
    assert score_shown(html) == 0
    assert "Not passed yet: the pass mark is 75%." in html
    assert "2 attempts left." in html
    attempt = load(attempt_id)
    assert (attempt.state, attempt.score, attempt.passed) == (AttemptState.SUBMITTED, 0, False)
    assert quiz_tasks_done(learner) == 0
    assert "2 attempts left." in client.get(OVERVIEW).get_data(as_text=True)


# --- 5. Submitting twice ----------------------------------------------------------------------


def test_a_second_submit_shows_the_first_result(client, learner):
    """Submitting the same attempt again changes nothing and says it was already submitted."""
    attempt_id = start(client)
    layout = load(attempt_id).layout
    assert send(client, attempt_id, right_answers(layout)).status_code == 302
    first = load(attempt_id)
    recorded = (first.score, first.answers, first.submitted_at)

    response = send(client, attempt_id, wrong_answers(layout), follow_redirects=True)
    assert response.request.path == attempt_url(attempt_id)
    html = response.get_data(as_text=True)
    assert ALREADY_SUBMITTED in html
    assert score_shown(html) == 100
    again = load(attempt_id)
    assert (again.score, again.answers, again.submitted_at) == recorded
    assert len(attempts_of(learner)) == 1
    assert quiz_tasks_done(learner) == 1


def test_two_submits_at_the_same_moment_record_one_result(app, client, auth, make, published):
    """Two browsers submit one attempt at once: one result, both see it, one quiz task at most."""
    person = make.user("learner@example.test", locale="en")
    other = app.test_client()
    auth.login(person.email)
    Auth(other).login(person.email)
    attempt_id = start(client)
    layout = load(attempt_id).layout
    clients = (client, other)
    forms = (right_answers(layout), wrong_answers(layout))
    bodies = [
        {**form, "action": "submit", "csrf_token": token(browser)}
        for browser, form in zip(clients, forms, strict=True)
    ]
    db.session.commit()  # the test holds no transaction while the requests run
    barrier = threading.Barrier(2, timeout=30)

    def submit(browser: FlaskClient, body: Form) -> Any:
        barrier.wait()
        return browser.post(attempt_url(attempt_id), data=body)

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(submit, c, body) for c, body in zip(clients, bodies, strict=True)]
        responses = [future.result(timeout=60) for future in futures]

    assert [response.status_code for response in responses] == [302, 302]
    assert {urlsplit(response.location).path for response in responses} == {attempt_url(attempt_id)}
    attempt = load(attempt_id)
    assert attempt.state == AttemptState.SUBMITTED
    assert attempt.score in (100, 0)
    assert len(attempts_of(person)) == 1
    assert quiz_tasks_done(person) == (1 if attempt.passed else 0)
    pages = [browser.get(attempt_url(attempt_id)).get_data(as_text=True) for browser in clients]
    assert [score_shown(page) for page in pages] == [attempt.score, attempt.score]
    told_already_submitted = [ALREADY_SUBMITTED in page for page in pages]
    assert sorted(told_already_submitted) == [False, True]
    winner = told_already_submitted.index(False)
    assert attempt.answers == stored(layout, forms[winner])


# --- 7. Time limit ----------------------------------------------------------------------------


def run_out_of_time(attempt_id: int, past: timedelta) -> None:
    attempt = load(attempt_id)
    attempt.deadline = utcnow() - past
    db.session.commit()


def test_a_time_limit_gives_the_attempt_a_deadline(client, learner, timed_quiz):
    """With a time limit the attempt has a deadline, shown to the page's timer."""
    attempt_id = start(client)
    attempt = load(attempt_id)
    assert attempt.deadline == attempt.started_at + timedelta(minutes=10)
    html = client.get(attempt_url(attempt_id)).get_data(as_text=True)
    assert "data-deadline=" in html


def test_opening_an_attempt_past_its_deadline_grades_the_saved_answers(client, learner, timed_quiz):
    """Past the deadline and its grace, opening the attempt grades what was saved in time."""
    attempt_id = start(client)
    layout = load(attempt_id).layout
    saved = fields_of(right_answers(layout), {1, 2, 3, 4})
    send(client, attempt_id, saved, action="save")
    run_out_of_time(attempt_id, quizzes.GRACE + timedelta(seconds=5))

    response = client.get(attempt_url(attempt_id))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert TIME_RAN_OUT in html
    assert score_shown(html) == 50
    attempt = load(attempt_id)
    assert (attempt.state, attempt.timed_out, attempt.score) == (AttemptState.SUBMITTED, True, 50)
    assert attempt.answers == stored(layout, saved)


def test_a_submit_after_the_grace_grades_only_the_answers_saved_in_time(
    client, learner, timed_quiz
):
    """Answers sent after the deadline and its grace do not count; the saved ones do."""
    attempt_id = start(client)
    layout = load(attempt_id).layout
    saved = fields_of(right_answers(layout), {1, 2, 3, 4})
    send(client, attempt_id, saved, action="save")
    run_out_of_time(attempt_id, quizzes.GRACE + timedelta(seconds=5))

    response = send(client, attempt_id, right_answers(layout), follow_redirects=True)
    assert response.request.path == attempt_url(attempt_id)
    assert TIME_RAN_OUT in response.get_data(as_text=True)
    attempt = load(attempt_id)
    assert (attempt.timed_out, attempt.score, attempt.passed) == (True, 50, False)
    assert attempt.answers == stored(layout, saved)
    assert quiz_tasks_done(learner) == 0


def test_a_submit_within_the_grace_counts(client, learner, timed_quiz):
    """A submit that arrives a few seconds after the deadline still counts in full."""
    attempt_id = start(client)
    layout = load(attempt_id).layout
    send(client, attempt_id, fields_of(right_answers(layout), {1}), action="save")
    run_out_of_time(attempt_id, quizzes.GRACE - timedelta(seconds=10))

    response = send(client, attempt_id, right_answers(layout), follow_redirects=True)
    assert TIME_RAN_OUT not in response.get_data(as_text=True)
    attempt = load(attempt_id)
    assert (attempt.timed_out, attempt.score, attempt.passed) == (False, 100, True)
    assert quiz_tasks_done(learner) == 1


# --- 8. Attempts limit ------------------------------------------------------------------------


def assert_start_refused(client: FlaskClient, person: Any) -> None:
    rows = len(attempts_of(person))
    response = client.post(f"{OVERVIEW}/start", data={"csrf_token": token(client)})
    assert response.status_code == 302
    assert urlsplit(response.location).path == OVERVIEW
    page = Page(client.get(OVERVIEW).get_data(as_text=True))
    assert any("A new attempt cannot be started." in alert for alert in page.alerts)
    assert len(attempts_of(person)) == rows
    assert not any(attempt.in_progress for attempt in attempts_of(person))


def test_no_new_attempt_after_every_attempt_failed(client, learner):
    """After three failed attempts the quiz is closed: no start, and the page says so."""
    for _ in range(3):
        attempt_id = start(client)
        send(client, attempt_id, wrong_answers(load(attempt_id).layout))
    overview = client.get(OVERVIEW).get_data(as_text=True)
    assert "You have used all your attempts without reaching the pass mark." in overview
    assert f"{OVERVIEW}/start" not in overview
    assert_start_refused(client, learner)
    assert len(attempts_of(learner)) == 3


def test_no_new_attempt_after_a_pass(client, learner):
    """A passed quiz cannot be taken again; the quiz page shows the pass."""
    attempt_id = start(client)
    send(client, attempt_id, right_answers(load(attempt_id).layout))
    overview = client.get(OVERVIEW).get_data(as_text=True)
    assert "Passed with 100%." in overview
    assert f"{OVERVIEW}/start" not in overview
    assert_start_refused(client, learner)
    assert len(attempts_of(learner)) == 1


# --- 9. Someone else's attempt ----------------------------------------------------------------


@pytest.mark.parametrize(
    "intruder_roles",
    [(Role.EMPLOYEE,), (Role.MANAGER,), (Role.ADMIN,)],
    ids=["colleague", "manager", "admin"],
)
def test_someone_elses_attempt_does_not_exist(client, auth, make, published, intruder_roles):
    """Another employee, the person's own manager and an admin get 404 and change nothing."""
    team = make.team("Front desk")
    owner = make.user("owner@example.test", team=team, locale="en")
    intruder = make.user(
        "intruder@example.test",
        roles=intruder_roles,
        team=team,
        manages=(team,) if Role.MANAGER in intruder_roles else (),
        locale="en",
    )
    auth.login(owner.email)
    attempt_id = start(client)
    layout = load(attempt_id).layout
    send(client, attempt_id, fields_of(wrong_answers(layout), {1, 2}), action="save")
    before = load(attempt_id)
    kept = (before.state, before.answers, before.score)
    auth.logout()

    auth.login(intruder.email)
    assert client.get(attempt_url(attempt_id)).status_code == 404
    for action in ("save", "submit"):
        assert send(client, attempt_id, right_answers(layout), action=action).status_code == 404
    assert send(client, attempt_id, {}, action="save", headers=FETCH).status_code == 404
    after = load(attempt_id)
    assert (after.state, after.answers, after.score) == kept


def test_an_attempt_of_another_modules_quiz_is_not_found_here(client, learner):
    """An attempt at one module's quiz cannot be opened or answered under another module."""
    attempt_id = start(client, OTHER_SLUG)
    layout = load(attempt_id).layout
    assert client.get(attempt_url(attempt_id, OTHER_SLUG)).status_code == 200
    assert client.get(attempt_url(attempt_id)).status_code == 404
    for action in ("save", "submit"):
        assert send(client, attempt_id, right_answers(layout), action=action).status_code == 404
    attempt = load(attempt_id)
    assert (attempt.state, attempt.answers) == (AttemptState.IN_PROGRESS, {})


# --- 10. Forged forms -------------------------------------------------------------------------


def first_of(layout: Layout, kind: str) -> int:
    return next(n for n, entry in enumerate(layout, start=1) if entry["type"] == kind)


def forge_unknown_field(layout: Layout) -> tuple[Form, str]:
    return {"comment": "1"}, "not in this attempt"


def forge_position_out_of_range(layout: Layout) -> tuple[Form, str]:
    number = first_of(layout, "single")
    count = len(layout[number - 1]["options"])
    return {f"q{number}": str(count + 1)}, f"questions: {number}"


def forge_row_out_of_range(layout: Layout) -> tuple[Form, str]:
    number = first_of(layout, "matching")
    count = len(layout[number - 1]["left"])
    return {f"q{number}-{count + 1}": "1"}, f"questions: {number}"


def forge_question_not_in_attempt(layout: Layout) -> tuple[Form, str]:
    return {f"q{len(layout) + 1}": "1"}, "not in this attempt"


def forge_two_values_for_one_choice(layout: Layout) -> tuple[Form, str]:
    number = first_of(layout, "single")
    return {f"q{number}": ["1", "2"]}, f"questions: {number}"


@pytest.mark.parametrize(
    "forge",
    [
        forge_unknown_field,
        forge_position_out_of_range,
        forge_row_out_of_range,
        forge_question_not_in_attempt,
        forge_two_values_for_one_choice,
    ],
)
def test_a_forged_form_is_refused_and_nothing_is_saved(client, learner, forge: Callable):
    """A form no honest page sends: 400 with an alert; saved answers and state stay."""
    attempt_id = start_with_every_type(learner)
    layout = load(attempt_id).layout
    saved = fields_of(wrong_answers(layout), {1, 2, 3})
    send(client, attempt_id, saved, action="save")
    forged, message = forge(layout)
    form = right_answers(layout) | forged

    for action in ("save", "submit"):
        response = send(client, attempt_id, form, action=action)
        assert response.status_code == 400
        alerts = Page(response.get_data(as_text=True)).alerts
        assert any(message in alert for alert in alerts), alerts
    response = send(client, attempt_id, form, action="save", headers=FETCH)
    assert response.status_code == 400
    assert response.get_json()["saved"] is False

    attempt = load(attempt_id)
    assert attempt.state == AttemptState.IN_PROGRESS
    assert attempt.answers == stored(layout, saved)
    assert quiz_tasks_done(learner) == 0


def test_a_form_without_a_csrf_token_is_refused(client, learner):
    """Saving or submitting without the CSRF token is a 400 and changes nothing."""
    attempt_id = start(client)
    layout = load(attempt_id).layout
    for action in ("save", "submit"):
        response = client.post(
            attempt_url(attempt_id), data={**right_answers(layout), "action": action}
        )
        assert response.status_code == 400
    attempt = load(attempt_id)
    assert (attempt.state, attempt.answers) == (AttemptState.IN_PROGRESS, {})


# --- 11. Unknown module -----------------------------------------------------------------------


def test_the_quiz_of_an_unknown_module_is_not_found(client, learner):
    """A slug that names no module has no quiz page, no start and no attempts."""
    assert client.get("/modules/no-such-module/quiz").status_code == 404
    response = client.post("/modules/no-such-module/quiz/start", data={"csrf_token": token(client)})
    assert response.status_code == 404
    attempt_id = start(client)
    assert client.get(attempt_url(attempt_id, "no-such-module")).status_code == 404


# --- 12. The bank changing during an attempt ---------------------------------------------------


def test_the_pass_mark_is_the_one_the_attempt_began_with(client, learner, monkeypatch):
    """Raising the pass mark while someone answers does not fail them retroactively."""
    attempt_id = start(client)
    layout = load(attempt_id).layout
    banks = get_course().quizzes
    bank = banks[SLUG]
    monkeypatch.setitem(banks, SLUG, replace(bank, settings=replace(bank.settings, pass_mark=100)))
    # Six of eight right: 75 %, the mark the attempt began with.
    form = {**wrong_answers(layout), **fields_of(right_answers(layout), set(range(1, 7)))}

    page = send(client, attempt_id, form, follow_redirects=True).get_data(as_text=True)

    assert load(attempt_id).score == 75
    assert load(attempt_id).passed is True
    assert load(attempt_id).pass_mark == bank.settings.pass_mark
    assert f"{bank.settings.pass_mark}%" in page


def test_a_question_taken_out_of_the_bank_does_not_count(client, learner, monkeypatch):
    """A question removed from the bank mid-attempt cannot be answered, so it is not scored."""
    attempt_id = start(client)
    layout = load(attempt_id).layout
    banks = get_course().quizzes
    bank = banks[SLUG]
    removed = layout[0]["id"]
    kept = tuple(question for question in bank.questions if question.id != removed)
    monkeypatch.setitem(banks, SLUG, replace(bank, questions=kept))
    page = client.get(attempt_url(attempt_id)).get_data(as_text=True)
    assert page.count("<fieldset") == 8

    send(client, attempt_id, fields_of(right_answers(layout), set(range(2, 9))))

    assert load(attempt_id).score == 100
    assert load(attempt_id).passed is True


def test_a_save_after_another_tab_submitted_says_so(client, learner):
    """A save that arrives after the submit is not reported as saved."""
    attempt_id = start(client)
    attempt = load(attempt_id)
    course = get_course()
    module = course.module(SLUG)
    quizzes.submit(attempt, course, module, {})
    db.session.commit()

    assert quizzes.save_answers(attempt, {"x": "a"}) is False
    response = send(client, attempt_id, {}, action="save", headers=FETCH)
    assert response.status_code == 409
    assert response.get_json()["submitted"] is True
