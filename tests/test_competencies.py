"""Competency levels: the rules that turn evidence into a level, quiz evidence recorded once per
module, a history that only grows, and the My competencies page with its self-assessment form."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from itertools import permutations

import pytest
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select
from werkzeug.test import TestResponse

from lms.content import get_course
from lms.extensions import db
from lms.models import CompetencyEvidence, CompetencyLevel, EvidenceKind, Role, User
from lms.services import competencies
from lms.services.competencies import Evidence, level_from
from tests.conftest import csrf_token
from tests.test_completion import take_quiz

PAGE = "/me/competencies"
FIRST = "client-centricity"  # builds client-understanding and ownership
MYTHS = "myths"  # builds the same two competencies
COMPETENCY = "ownership"
SAVED = "Your self-assessment is saved."

QUIZ, SELF, REVIEW = EvidenceKind.QUIZ, EvidenceKind.SELF, EvidenceKind.REVIEW
START = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


# Helpers -------------------------------------------------------------------------------------


def at(minute: int, kind: str, level: int) -> Evidence:
    """Evidence recorded ``minute`` minutes after a fixed start."""
    return Evidence(kind, level, START + timedelta(minutes=minute))


def self_url(competency_id: str) -> str:
    return f"/me/competencies/{competency_id}/self-assessment"


def evidence_rows(user: User) -> list[tuple]:
    db.session.expire_all()
    return [
        (row.id, row.competency_id, row.kind, row.level, row.comment, row.source, row.recorded_at)
        for row in db.session.scalars(
            select(CompetencyEvidence)
            .where(CompetencyEvidence.user_id == user.id)
            .order_by(CompetencyEvidence.id)
        )
    ]


def level_rows(user: User, competency_id: str | None = None) -> list[tuple]:
    db.session.expire_all()
    query = select(CompetencyLevel).where(CompetencyLevel.user_id == user.id)
    if competency_id is not None:
        query = query.where(CompetencyLevel.competency_id == competency_id)
    return [
        (row.id, row.competency_id, row.level, row.evidence_id, row.set_at)
        for row in db.session.scalars(query.order_by(CompetencyLevel.id))
    ]


def levels_in_history(user: User, competency_id: str) -> list[int]:
    return [row[2] for row in level_rows(user, competency_id)]


def section(html: str, competency_id: str) -> str:
    """The page's section about one competency."""
    match = re.search(
        rf'<section class="competency panel" id="{re.escape(competency_id)}".*?</section>',
        html,
        re.DOTALL,
    )
    assert match, f"no section for {competency_id}"
    return match.group(0)


def assess(client: FlaskClient, competency_id: str, level: str, comment: str = "") -> TestResponse:
    """Post the self-assessment form as a browser would, with the page's CSRF token."""
    return client.post(
        self_url(competency_id),
        data={"csrf_token": csrf_token(client, PAGE), "level": level, "comment": comment},
    )


# level_from: the rules, without a database ---------------------------------------------------

CASES = [
    pytest.param([], None, id="no evidence"),
    pytest.param([at(0, QUIZ, 1)], 1, id="a quiz"),
    pytest.param([at(0, QUIZ, 1), at(1, QUIZ, 1)], 1, id="two quizzes"),
    pytest.param([at(0, SELF, 4)], 2, id="self 4 alone is capped at 2"),
    pytest.param([at(0, SELF, 3)], 2, id="self 3 alone is capped at 2"),
    pytest.param([at(0, SELF, 1)], 1, id="self 1"),
    pytest.param([at(0, QUIZ, 1), at(1, SELF, 2)], 2, id="quiz and self 2"),
    pytest.param([at(0, SELF, 2), at(1, QUIZ, 1)], 2, id="self 2 before a quiz"),
    pytest.param([at(0, QUIZ, 1), at(1, SELF, 1)], 1, id="quiz and self 1"),
    pytest.param([at(0, QUIZ, 1), at(1, SELF, 2), at(2, REVIEW, 3)], 3, id="review 3"),
    pytest.param([at(0, QUIZ, 1), at(1, REVIEW, 4)], 4, id="review 4"),
    pytest.param([at(0, REVIEW, 4)], 4, id="review 4 alone"),
    pytest.param([at(0, SELF, 2), at(1, REVIEW, 1)], 1, id="review 1 after self 2"),
    pytest.param(
        [at(0, QUIZ, 1), at(1, SELF, 2), at(2, REVIEW, 1)], 1, id="review 1 after quiz, self 2"
    ),
    pytest.param([at(0, REVIEW, 1), at(1, SELF, 3)], 2, id="self 3 after review 1 counts as 2"),
    pytest.param([at(0, REVIEW, 1), at(1, SELF, 2)], 2, id="self 2 after review 1"),
    pytest.param([at(0, REVIEW, 3), at(1, SELF, 2)], 3, id="self 2 after review 3"),
    pytest.param([at(0, REVIEW, 3), at(1, SELF, 4)], 3, id="self 4 after review 3"),
    pytest.param([at(0, REVIEW, 4), at(1, REVIEW, 2)], 2, id="latest review wins, lower"),
    pytest.param([at(0, REVIEW, 1), at(1, REVIEW, 3)], 3, id="latest review wins, higher"),
    pytest.param(
        [at(0, SELF, 2), at(1, REVIEW, 3), at(2, REVIEW, 1)],
        1,
        id="self before both reviews does not count",
    ),
    pytest.param(
        [at(0, REVIEW, 3), at(1, SELF, 2), at(2, REVIEW, 1)],
        1,
        id="self between reviews does not count",
    ),
    pytest.param(
        [at(0, REVIEW, 4), at(1, REVIEW, 1), at(2, SELF, 2)],
        2,
        id="self after the latest review counts",
    ),
]


@pytest.mark.parametrize(("evidence", "expected"), CASES)
def test_level_from_evidence(evidence: list[Evidence], expected: int | None) -> None:
    """The level follows the documented rules for quizzes, self-assessments and reviews."""
    assert level_from(evidence) == expected


@pytest.mark.parametrize(("evidence", "expected"), CASES)
def test_level_from_ignores_the_order_of_the_list(
    evidence: list[Evidence], expected: int | None
) -> None:
    """Only the times of the evidence matter, not the order in which it is handed over."""
    assert {level_from(list(order)) for order in permutations(evidence)} == {expected}


def test_level_from_takes_any_iterable() -> None:
    """A generator (as the service passes it) gives the same level as a list."""
    evidence = [at(0, REVIEW, 1), at(1, SELF, 3)]
    assert level_from(item for item in evidence) == 2


# Quiz evidence, through the services ---------------------------------------------------------


def test_passing_a_quiz_gives_level_one_in_each_competency_of_the_module(make, published) -> None:
    """Quiz evidence (level 1, source = the module's slug) for every competency it builds."""
    user = make.user()
    module = get_course().module(FIRST)
    assert len(module.competencies) >= 2
    take_quiz(user, FIRST)
    db.session.commit()
    evidence = {(row[1], row[2], row[3], row[5]) for row in evidence_rows(user)}
    assert evidence == {(competency, "quiz", 1, FIRST) for competency in module.competencies}
    for competency in module.competencies:
        assert levels_in_history(user, competency) == [1]
    statuses = {
        s.competency.id: s.level for s in competencies.competency_statuses(user, get_course())
    }
    assert statuses == {
        competency: 1 if competency in module.competencies else None
        for competency in get_course().competencies
    }


def test_a_passed_quiz_is_recorded_once_per_competency(make, published) -> None:
    """Recording the same passed quiz again adds no evidence and no level."""
    user = make.user()
    module = get_course().module(FIRST)
    take_quiz(user, FIRST)
    db.session.commit()
    evidence, levels = evidence_rows(user), level_rows(user)

    competencies.record_quiz_passed(user, module)
    db.session.commit()

    assert evidence_rows(user) == evidence
    assert level_rows(user) == levels
    assert competencies.record_evidence(user, COMPETENCY, QUIZ, 1, source=FIRST) is None
    db.session.commit()
    assert evidence_rows(user) == evidence


def test_another_module_adds_evidence_but_not_a_level(make, published) -> None:
    """A second module's quiz for the same competency is new evidence; the level stays 1."""
    user = make.user()
    shared = set(get_course().module(FIRST).competencies) & set(
        get_course().module(MYTHS).competencies
    )
    assert COMPETENCY in shared
    take_quiz(user, FIRST)
    take_quiz(user, MYTHS)
    db.session.commit()
    sources = {row[5] for row in evidence_rows(user) if row[1] == COMPETENCY}
    assert sources == {FIRST, MYTHS}
    assert levels_in_history(user, COMPETENCY) == [1]


def test_a_failed_quiz_records_nothing(make, published) -> None:
    """No evidence and no level for a quiz that was not passed."""
    user = make.user()
    attempt = take_quiz(user, FIRST, right=0)
    db.session.commit()
    assert not attempt.passed
    assert evidence_rows(user) == []
    assert level_rows(user) == []


# The history only grows ----------------------------------------------------------------------


def test_the_same_self_assessment_twice_adds_one_level(make, app) -> None:
    """Two self-assessments of 2 are two pieces of evidence but one change of level."""
    user = make.user()
    for _ in range(2):
        competencies.record_evidence(user, COMPETENCY, SELF, 2)
        db.session.commit()
    assert [row[3] for row in evidence_rows(user)] == [2, 2]
    assert levels_in_history(user, COMPETENCY) == [2]


def test_a_changed_self_assessment_adds_a_level(make, app) -> None:
    """Self 1 and then self 2 are two levels in the history, oldest first."""
    user = make.user()
    competencies.record_evidence(user, COMPETENCY, SELF, 1)
    db.session.commit()
    competencies.record_evidence(user, COMPETENCY, SELF, 2)
    db.session.commit()
    assert levels_in_history(user, COMPETENCY) == [1, 2]


def test_evidence_and_levels_are_only_ever_added(make, published) -> None:
    """Each step keeps every earlier row unchanged; a level row follows each change only."""
    user = make.user()
    manager = make.user(roles=(Role.MANAGER,))
    steps = [
        (lambda: take_quiz(user, FIRST), 1),
        (lambda: competencies.record_evidence(user, COMPETENCY, SELF, 2, comment="a"), 2),
        (lambda: competencies.record_evidence(user, COMPETENCY, SELF, 4, comment="b"), 2),
        (lambda: competencies.record_evidence(user, COMPETENCY, REVIEW, 3, recorded_by=manager), 3),
        (lambda: competencies.record_evidence(user, COMPETENCY, SELF, 1), 3),
        (lambda: competencies.record_evidence(user, COMPETENCY, REVIEW, 1, recorded_by=manager), 1),
        (lambda: competencies.record_evidence(user, COMPETENCY, SELF, 2), 2),
    ]
    evidence: list[tuple] = []
    levels: list[tuple] = []
    for step, level in steps:
        step()
        db.session.commit()
        now_evidence, now_levels = evidence_rows(user), level_rows(user, COMPETENCY)
        assert now_evidence[: len(evidence)] == evidence
        assert len(now_evidence) > len(evidence)
        assert now_levels[: len(levels)] == levels
        assert now_levels[-1][2] == level
        evidence, levels = now_evidence, now_levels
    assert [row[2] for row in levels] == [1, 2, 3, 1, 2]


def test_recorded_evidence_is_undone_by_the_callers_rollback(make, app) -> None:
    """The service only flushes: when the caller rolls back, no evidence and no level remain."""
    user = make.user()
    assert competencies.record_evidence(user, COMPETENCY, SELF, 2) is not None
    db.session.rollback()
    assert evidence_rows(user) == []
    assert level_rows(user) == []


def test_an_invalid_level_is_refused(make, app) -> None:
    """The service accepts levels 1 to 4 only and records nothing else."""
    user = make.user()
    for level in (0, 5):
        with pytest.raises(ValueError, match="level"):
            competencies.record_evidence(user, COMPETENCY, SELF, level)
    assert evidence_rows(user) == []


# The page ------------------------------------------------------------------------------------


def test_the_page_lists_every_competency_with_no_evidence_yet(make, auth, client) -> None:
    """Every competency of the framework is on the page, none of them with a level yet."""
    make.user("en@example.test", locale="en")
    auth.login("en@example.test")
    response = client.get(PAGE)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    framework = get_course().competencies
    assert framework
    for competency in framework.values():
        part = section(html, competency.id)
        assert str(escape(competency.names["en"])) in part
        assert "No evidence yet" in part
        assert f'action="{self_url(competency.id)}"' in part
    assert html.count("no evidence yet") == len(framework)
    assert "level 1 of 4" not in html


def test_the_page_shows_the_level_and_evidence_after_a_quiz(make, auth, client, published) -> None:
    """Level 1 with the passed module's title in the evidence; other competencies untouched."""
    user = make.user("en@example.test", locale="en")
    take_quiz(user, FIRST)
    db.session.commit()
    auth.login("en@example.test")
    html = client.get(PAGE).get_data(as_text=True)
    module = get_course().module(FIRST)
    title = module.text("en").title
    for competency_id in get_course().competencies:
        part = section(html, competency_id)
        if competency_id in module.competencies:
            assert "Level 1: Aware" in part
            assert f"Quiz passed: module “{escape(title)}”" in part
            assert "No evidence yet" not in part
        else:
            assert "No evidence yet" in part
            assert "Quiz passed" not in part
    assert html.count("level 1 of 4") == len(module.competencies)
    assert html.count("no evidence yet") == len(get_course().competencies) - len(
        module.competencies
    )


def test_a_self_assessment_is_saved(make, auth, client) -> None:
    """The form saves the evidence, redirects to the competency and says so."""
    user = make.user("en@example.test", locale="en")
    auth.login("en@example.test")
    response = assess(client, COMPETENCY, "2", "  I run the weekly feedback review.  ")
    assert response.status_code == 302
    assert response.headers["Location"] == f"{PAGE}#{COMPETENCY}"
    [row] = evidence_rows(user)
    assert row[1:6] == (COMPETENCY, "self", 2, "I run the weekly feedback review.", "")
    saved = db.session.scalar(select(CompetencyEvidence.recorded_by_id))
    assert saved == user.id
    assert levels_in_history(user, COMPETENCY) == [2]

    html = client.get(PAGE).get_data(as_text=True)
    assert SAVED in html
    part = section(html, COMPETENCY)
    assert "Level 2: Practising" in part
    assert "Your self-assessment" in part
    assert "I run the weekly feedback review." in part
    assert re.search(r'<option selected value="2">', part)


def test_a_self_assessment_above_two_counts_as_two(make, auth, client) -> None:
    """Self 4 is shown as given, with a note, and the level is 2."""
    user = make.user("en@example.test", locale="en")
    auth.login("en@example.test")
    assert assess(client, COMPETENCY, "4").status_code == 302
    assert levels_in_history(user, COMPETENCY) == [2]
    part = section(client.get(PAGE).get_data(as_text=True), COMPETENCY)
    assert "Level 2: Practising" in part
    assert '<span class="level-badge">4</span>' in part
    assert "counts as level 2 until your manager confirms more" in part
    assert re.search(r'<option selected value="4">', part)


def test_the_page_shows_the_history(make, auth, client) -> None:
    """Self 1 and then self 2 are both in the history on the page, newest first."""
    make.user("en@example.test", locale="en")
    auth.login("en@example.test")
    assert assess(client, COMPETENCY, "1").status_code == 302
    part = section(client.get(PAGE).get_data(as_text=True), COMPETENCY)
    assert "History" not in part  # one level is not yet a history
    assert assess(client, COMPETENCY, "2").status_code == 302
    part = section(client.get(PAGE).get_data(as_text=True), COMPETENCY)
    assert "History" in part
    history = re.findall(r"Level (\d) from ", part)
    assert history == ["2", "1"]


def test_a_review_is_shown_with_the_managers_name(make, auth, client) -> None:
    """A manager's rating sets the level and names the manager."""
    user = make.user("en@example.test", locale="en")
    manager = make.user(roles=(Role.MANAGER,))
    competencies.record_evidence(user, COMPETENCY, REVIEW, 3, recorded_by=manager)
    db.session.commit()
    auth.login("en@example.test")
    part = section(client.get(PAGE).get_data(as_text=True), COMPETENCY)
    assert "Level 3: Proficient" in part
    assert f"Review by {manager.full_name}" in part


def test_the_comment_is_escaped(make, auth, client) -> None:
    """A comment with markup is shown as text, never as markup."""
    make.user("en@example.test", locale="en")
    auth.login("en@example.test")
    comment = "<script>alert(1)</script>"
    assert assess(client, COMPETENCY, "2", comment).status_code == 302
    html = client.get(PAGE).get_data(as_text=True)
    assert str(escape(comment)) in section(html, COMPETENCY)
    assert comment not in html


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"level": "9"}, id="9"),
        pytest.param({"level": "0"}, id="0"),
        pytest.param({"level": "abc"}, id="abc"),
        pytest.param({"level": ""}, id="empty"),
        pytest.param({}, id="missing"),
    ],
)
def test_an_invalid_level_is_an_error(make, auth, client, fields: dict[str, str]) -> None:
    """400 with the error in an alert next to that competency's form; nothing is saved."""
    user = make.user("en@example.test", locale="en")
    auth.login("en@example.test")
    token = csrf_token(client, PAGE)
    response = client.post(
        self_url(COMPETENCY), data={"csrf_token": token, "comment": "kept", **fields}
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    part = section(html, COMPETENCY)
    assert 'role="alert"' in part
    assert html.count('role="alert"') == 1
    assert '<details class="self-assessment" open>' in part
    assert evidence_rows(user) == []
    assert level_rows(user) == []


def test_a_comment_over_1000_characters_is_an_error(make, auth, client) -> None:
    """1001 characters are refused with 400 and nothing saved; 1000 are accepted."""
    user = make.user("en@example.test", locale="en")
    auth.login("en@example.test")
    response = assess(client, COMPETENCY, "2", "x" * 1001)
    assert response.status_code == 400
    assert 'role="alert"' in section(response.get_data(as_text=True), COMPETENCY)
    assert evidence_rows(user) == []
    assert assess(client, COMPETENCY, "2", "x" * 1000).status_code == 302
    assert [len(row[4]) for row in evidence_rows(user)] == [1000]


def test_an_unknown_competency_is_not_found(make, auth, client) -> None:
    """A self-assessment of a competency outside the framework is 404 and saves nothing."""
    user = make.user()
    auth.login(user.email)
    assert assess(client, "no-such-competency", "2").status_code == 404
    assert evidence_rows(user) == []


def test_a_self_assessment_without_csrf_is_refused(make, auth, client) -> None:
    """No CSRF token: 400 and nothing saved."""
    user = make.user()
    auth.login(user.email)
    response = client.post(self_url(COMPETENCY), data={"level": "2", "comment": "x"})
    assert response.status_code == 400
    assert evidence_rows(user) == []


def test_the_self_assessment_url_takes_only_post(make, auth, client) -> None:
    """GET on the form's target is 405."""
    user = make.user()
    auth.login(user.email)
    assert client.get(self_url(COMPETENCY)).status_code == 405


def test_a_person_sees_only_their_own_evidence(make, auth, client) -> None:
    """Someone else's self-assessment and comment are not on my page."""
    make.user("other@example.test", locale="en")
    me = make.user("me@example.test", locale="en")
    auth.login("other@example.test")
    assert assess(client, COMPETENCY, "2", "Other person's private note").status_code == 302
    auth.logout()

    auth.login("me@example.test")
    html = client.get(PAGE).get_data(as_text=True)
    assert "Other person&#39;s private note" not in html
    assert "private note" not in html
    assert "No evidence yet" in section(html, COMPETENCY)
    assert html.count("no evidence yet") == len(get_course().competencies)
    assert evidence_rows(me) == []


def test_anonymous_visitors_are_sent_to_log_in(client: FlaskClient, app) -> None:
    """The page needs a signed-in person."""
    response = client.get(PAGE)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_anonymous_self_assessment_saves_nothing(client: FlaskClient, app) -> None:
    """Posting the form without signing in leads to the login page and saves nothing."""
    token = csrf_token(client, "/login")
    response = client.post(self_url(COMPETENCY), data={"csrf_token": token, "level": "2"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert db.session.scalar(select(CompetencyEvidence.id)) is None
