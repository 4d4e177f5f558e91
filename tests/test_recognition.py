"""Recognition and reviews at service level: badges awarded exactly once whatever triggers them
again (and at the same moment, on PostgreSQL), badges exported as Open Badges 3.0 credentials
valid against the standard's schema, personal recognition only between colleagues and from
managers, the team wall, and managers' competency reviews with their development plans."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from jsonschema import Draft201909Validator
from sqlalchemy import func, select

from lms.content import get_course
from lms.extensions import db
from lms.models import (
    Badge,
    BadgeKind,
    CompetencyEvidence,
    CompetencyLevel,
    CompetencyReview,
    DevelopmentAction,
    EvidenceKind,
    Goal,
    Notification,
    NotificationKind,
    Recognition,
    Role,
    Team,
    User,
)
from lms.services import certificates, competencies, progress, recognition, reviews
from lms.services.recognition import RecognitionRefused
from lms.services.reviews import PlannedAction, Rating, ReviewRefused
from tests.conftest import ROOT
from tests.test_completion import complete_course, complete_module

FIRST = "client-centricity"  # builds client-understanding and ownership
COMPETENCY = "ownership"
OTHER_COMPETENCY = "co-design"
SCHEMA_PATH = ROOT / "tests" / "fixtures" / "openbadges-3.0" / "achievementcredential.schema.json"
SHARED_SCHEMA_PATH = (
    ROOT.parent / "shared" / "standards" / "openbadges-3.0" / "achievementcredential.schema.json"
)
GOAL_ID = 48213  # distinctive, so that it cannot turn up in a URL by chance
GOAL_TITLE = "Halve the waiting time at the reception desk"
ENGLISH = {"Accept-Language": "en"}
T0 = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)


# Helpers: counting what was written ----------------------------------------------------------


def count(model: type) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def badges_of(user: User) -> list[tuple[str, str]]:
    db.session.expire_all()
    rows = db.session.scalars(select(Badge).where(Badge.user_id == user.id).order_by(Badge.id))
    return [(badge.kind, badge.subject) for badge in rows]


def notifications_of(user: User, kind: NotificationKind | None = None) -> list[Notification]:
    db.session.expire_all()
    query = select(Notification).where(Notification.user_id == user.id)
    if kind is not None:
        query = query.where(Notification.kind == kind)
    return list(db.session.scalars(query.order_by(Notification.id)))


def badge_notices(user: User) -> list[tuple[str, str]]:
    """The (badge kind, subject) of each BADGE_AWARDED notification the person got."""
    return [
        (notice.params["badge_kind"], notice.params["subject"])
        for notice in notifications_of(user, NotificationKind.BADGE_AWARDED)
    ]


def current_level(user: User, competency_id: str) -> int | None:
    return db.session.scalar(
        select(CompetencyLevel.level)
        .where(CompetencyLevel.user_id == user.id, CompetencyLevel.competency_id == competency_id)
        .order_by(CompetencyLevel.set_at.desc(), CompetencyLevel.id.desc())
        .limit(1)
    )


def level_history(user: User, competency_id: str) -> list[int]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(CompetencyLevel.level)
            .where(
                CompetencyLevel.user_id == user.id, CompetencyLevel.competency_id == competency_id
            )
            .order_by(CompetencyLevel.id)
        )
    )


def written_counts() -> dict[str, int]:
    """Rows of every table a recognition or a review writes to."""
    models = (
        Recognition,
        CompetencyReview,
        CompetencyEvidence,
        CompetencyLevel,
        DevelopmentAction,
        Badge,
        Notification,
    )
    return {model.__name__: count(model) for model in models}


def make_goal(owner: User, goal_id: int | None = None, title: str = GOAL_TITLE) -> Goal:
    goal = Goal(
        id=goal_id,
        user_id=owner.id,
        title=title,
        measure="Minutes from arrival to the first conversation, from the queue system",
        target="15 minutes",
        relevance="Clients wait less and are seen sooner",
        due_on=date.today() + timedelta(days=60),
    )
    db.session.add(goal)
    db.session.commit()
    return goal


def snapshot(rows: list[Any], *fields: str) -> list[tuple]:
    return [tuple(getattr(row, field) for field in fields) for row in rows]


# Fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def ctx(app: Flask) -> Iterator[Flask]:
    """A request in English around the test: refusals are worded in the reader's language."""
    with app.test_request_context(headers=ENGLISH):
        yield app


@pytest.fixture
def team(make) -> Team:
    return make.team("Северная", centre="Центр Северный", region="Северный край")


@pytest.fixture
def people(make, team, ctx) -> SimpleNamespace:
    """A team with two employees and its manager, and another team with its own people."""
    other_team = make.team("Южная", centre="Центр Южный", region="Южный край")

    return SimpleNamespace(
        anna=make.user("anna@example.test", team=team),
        boris=make.user("boris@example.test", team=team),
        manager=make.user("manager@example.test", roles=(Role.MANAGER,), manages=(team,)),
        stranger=make.user("stranger@example.test", team=other_team),
        other_manager=make.user(
            "other.manager@example.test", roles=(Role.MANAGER,), manages=(other_team,)
        ),
        hr=make.user("hr@example.test", roles=(Role.HR,), hr_region=team.centre.region),
        hr_everywhere=make.user("hr.all@example.test", roles=(Role.HR,)),
        admin=make.user("admin@example.test", roles=(Role.ADMIN,)),
    )


@pytest.fixture
def postgresql_only(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip(
            "SQLite serialises writes, so simultaneous awards cannot race; needs PostgreSQL"
        )


# 1. Badges: exactly once, whatever triggers them again ---------------------------------------


def test_a_completed_module_earns_its_badge_once(make, published):
    """The module badge (subject: the slug) and its notification come once, however often the
    completion is refreshed."""
    person = make.user()
    complete_module(person, FIRST)

    assert badges_of(person) == [(BadgeKind.MODULE_COMPLETED, FIRST)]
    assert badge_notices(person) == [(BadgeKind.MODULE_COMPLETED, FIRST)]

    course, module = get_course(), get_course().module(FIRST)
    for _ in range(3):
        assert progress.refresh_completion(person, course, module) is not None
    db.session.commit()

    assert badges_of(person) == [(BadgeKind.MODULE_COMPLETED, FIRST)]
    assert badge_notices(person) == [(BadgeKind.MODULE_COMPLETED, FIRST)]


def test_a_completed_course_earns_its_badge_once(make, published):
    """Seven module badges and one course badge (subject "course"), each with one notification;
    issuing the certificate again or refreshing every module adds nothing."""
    person = make.user()
    complete_course(person)
    modules = [(BadgeKind.MODULE_COMPLETED, module.slug) for module in get_course().modules]
    expected = sorted([*modules, (BadgeKind.COURSE_COMPLETED, "course")])

    assert sorted(badges_of(person)) == expected
    assert sorted(badge_notices(person)) == expected

    course = get_course()
    code = certificates.certificate_of(person).code
    for _ in range(2):
        assert certificates.issue_if_course_complete(person, course).code == code
    for module in course.modules:
        progress.refresh_completion(person, course, module)
    db.session.commit()

    assert sorted(badges_of(person)) == expected
    assert sorted(badge_notices(person)) == expected


def test_a_module_badge_held_already_is_not_awarded_again(make, published):
    """After the module is complete, awarding its badge directly returns None, adds nothing."""
    person = make.user()
    complete_module(person, FIRST)

    again = recognition.award_badge(person, BadgeKind.MODULE_COMPLETED, FIRST)
    db.session.commit()

    assert again is None
    assert badges_of(person) == [(BadgeKind.MODULE_COMPLETED, FIRST)]
    assert badge_notices(person) == [(BadgeKind.MODULE_COMPLETED, FIRST)]


def test_reaching_level_3_again_earns_no_second_badge(make, people):
    """Reviews at 3, then 4, then 3 again: the level changes three times, one badge."""
    for level in (3, 4, 3):
        reviews.record_review(people.manager, people.anna, {COMPETENCY: Rating(level)})
        db.session.commit()

    assert level_history(people.anna, COMPETENCY) == [3, 4, 3]
    assert badges_of(people.anna) == [(BadgeKind.COMPETENCY_LEVEL_3, COMPETENCY)]
    assert badge_notices(people.anna) == [(BadgeKind.COMPETENCY_LEVEL_3, COMPETENCY)]

    assert recognition.award_badge(people.anna, BadgeKind.COMPETENCY_LEVEL_3, COMPETENCY) is None
    competencies.record_evidence(
        people.anna, COMPETENCY, EvidenceKind.REVIEW, 4, recorded_by=people.manager
    )
    db.session.commit()
    assert badges_of(people.anna) == [(BadgeKind.COMPETENCY_LEVEL_3, COMPETENCY)]
    assert badge_notices(people.anna) == [(BadgeKind.COMPETENCY_LEVEL_3, COMPETENCY)]


def test_award_badge_returns_the_new_badge(make):
    """A new badge is returned as stored, with a fresh public id; another subject, kind or
    person is a different badge, each with one notification to its owner."""
    person, other = make.user(), make.user()
    before = datetime.now(UTC)

    badge = recognition.award_badge(person, BadgeKind.MODULE_COMPLETED, FIRST)
    db.session.commit()

    assert badge is not None
    assert (badge.user_id, badge.kind, badge.subject) == (
        person.id,
        BadgeKind.MODULE_COMPLETED,
        FIRST,
    )
    assert len(badge.public_id) == 36
    assert before - timedelta(seconds=1) <= badge.awarded_at <= datetime.now(UTC)

    assert recognition.award_badge(person, BadgeKind.MODULE_COMPLETED, "myths") is not None
    assert recognition.award_badge(person, BadgeKind.COMPETENCY_LEVEL_3, FIRST) is not None
    assert recognition.award_badge(other, BadgeKind.MODULE_COMPLETED, FIRST) is not None
    db.session.commit()

    assert badges_of(person) == [
        (BadgeKind.MODULE_COMPLETED, FIRST),
        (BadgeKind.MODULE_COMPLETED, "myths"),
        (BadgeKind.COMPETENCY_LEVEL_3, FIRST),
    ]
    assert badges_of(other) == [(BadgeKind.MODULE_COMPLETED, FIRST)]
    assert badge_notices(person) == badges_of(person)
    assert badge_notices(other) == badges_of(other)
    assert count(Badge) == count(Notification) == 4


@pytest.mark.parametrize(
    ("kind", "subject"),
    [
        (BadgeKind.MODULE_COMPLETED, FIRST),
        (BadgeKind.COURSE_COMPLETED, "course"),
        (BadgeKind.COMPETENCY_LEVEL_3, COMPETENCY),
        (BadgeKind.GOAL_ACHIEVED, "1"),
    ],
)
def test_award_badge_returns_none_for_a_badge_held_already(make, kind, subject):
    """Twice in one transaction and once more after the commit: one badge, one notification."""
    person = make.user()
    first = recognition.award_badge(person, kind, subject)
    assert first is not None
    assert recognition.award_badge(person, kind, subject) is None
    db.session.commit()
    assert recognition.award_badge(person, kind, subject) is None
    db.session.commit()

    assert badges_of(person) == [(kind, subject)]
    assert badge_notices(person) == [(kind, subject)]


# 2. Badges awarded at the same moment (PostgreSQL) -------------------------------------------


def test_simultaneous_awards_store_one_badge(app: Flask, make, postgresql_only):
    """Eight requests award the same badge at once, each in its own session: one row, one
    notification, and exactly one of them is told it awarded it."""
    person = make.user()
    person_id = person.id
    db.session.commit()  # the test holds no transaction while the threads run
    threads_count = 8
    barrier = threading.Barrier(threads_count, timeout=30)
    results: list[bool] = []
    errors: list[str] = []
    lock = threading.Lock()

    def award() -> None:
        with app.app_context():
            try:
                user = db.session.get(User, person_id)
                barrier.wait()
                badge = recognition.award_badge(user, BadgeKind.MODULE_COMPLETED, FIRST)
                db.session.commit()
                with lock:
                    results.append(badge is not None)
            except Exception as error:  # noqa: BLE001 - reported to the test below
                with lock:
                    errors.append(repr(error))
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=award) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(results) == [False] * (threads_count - 1) + [True]
    assert badges_of(person) == [(BadgeKind.MODULE_COMPLETED, FIRST)]
    assert badge_notices(person) == [(BadgeKind.MODULE_COMPLETED, FIRST)]


# 3. Open Badges 3.0 ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def validator() -> Draft201909Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft201909Validator.check_schema(schema)
    return Draft201909Validator(schema, format_checker=Draft201909Validator.FORMAT_CHECKER)


def badge_of_each_kind(person: User) -> dict[BadgeKind, Badge]:
    goal = make_goal(person, GOAL_ID)
    subjects = {
        BadgeKind.MODULE_COMPLETED: FIRST,
        BadgeKind.COURSE_COMPLETED: "course",
        BadgeKind.COMPETENCY_LEVEL_3: COMPETENCY,
        BadgeKind.GOAL_ACHIEVED: str(goal.id),
    }
    badges = {
        kind: recognition.award_badge(person, kind, subject) for kind, subject in subjects.items()
    }
    db.session.commit()
    assert set(badges) == set(BadgeKind)
    return badges


def identifier(credential: dict, hashed: bool) -> dict:
    [found] = [
        item for item in credential["credentialSubject"]["identifier"] if item["hashed"] is hashed
    ]
    return found


def test_the_committed_schema_is_the_shared_standard():
    """The schema the tests use is byte for byte the one in the shared standards folder."""
    if not SHARED_SCHEMA_PATH.exists():
        pytest.skip(f"no shared standards folder at {SHARED_SCHEMA_PATH.parent}")
    assert SCHEMA_PATH.read_bytes() == SHARED_SCHEMA_PATH.read_bytes()


@pytest.mark.parametrize(
    ("language", "academy"),
    [("en", "Client-Centricity Academy"), ("ru", "Академия клиентоцентричности")],
)
@pytest.mark.parametrize("kind", list(BadgeKind))
def test_each_badge_is_a_valid_open_badges_credential(
    app, make, validator, kind, language, academy
):
    """Valid against the OB 3.0 AchievementCredential schema, naming the issuer, the
    achievement and the person: their name in plain text, their e-mail only salted and hashed."""
    person = make.user("Anna.Smirnova@Example.TEST")
    person.full_name = "Анна Смирнова"
    db.session.commit()
    badge = badge_of_each_kind(person)[kind]

    with app.test_request_context(headers={"Accept-Language": language}):
        credential = recognition.credential(badge)
        text = recognition.badge_text(badge.kind, badge.subject)

    errors = [error.message for error in validator.iter_errors(credential)]
    assert errors == []
    assert "OpenBadgeCredential" in credential["type"]
    assert credential["id"] == f"urn:uuid:{badge.public_id}"
    assert credential["issuer"]["name"] == academy
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["name"] == text.title == credential["name"]
    if kind == BadgeKind.MODULE_COMPLETED:
        assert get_course().module(FIRST).text(language).title in achievement["name"]
    if kind == BadgeKind.COMPETENCY_LEVEL_3:
        assert get_course().competencies[COMPETENCY].names[language] in achievement["name"]

    name = identifier(credential, hashed=False)
    assert name["identityHash"] == "Анна Смирнова"
    email = identifier(credential, hashed=True)
    assert email["identityType"] == "emailAddress"
    expected = hashlib.sha256(("anna.smirnova@example.test" + email["salt"]).encode()).hexdigest()
    assert email["identityHash"] == "sha256$" + expected
    assert "anna.smirnova" not in json.dumps(credential, ensure_ascii=False).lower()

    issued = credential["issuanceDate"]
    assert issued.endswith("Z")
    parsed = datetime.fromisoformat(issued[:-1] + "+00:00")
    assert parsed == badge.awarded_at.astimezone(UTC).replace(microsecond=0)


def test_a_goal_badge_does_not_name_the_goal_publicly(app, make):
    """The goal badge's achievement id is the same generic page for every goal: no goal id."""
    person = make.user()
    badge = badge_of_each_kind(person)[BadgeKind.GOAL_ACHIEVED]
    assert badge.subject == str(GOAL_ID)
    other_goal = make_goal(person, title="Another goal")
    other = recognition.award_badge(person, BadgeKind.GOAL_ACHIEVED, str(other_goal.id))
    db.session.commit()

    with app.test_request_context():
        first = recognition.credential(badge)["credentialSubject"]["achievement"]["id"]
        second = recognition.credential(other)["credentialSubject"]["achievement"]["id"]

    assert str(GOAL_ID) not in first
    assert first == second
    assert first.startswith("http://localhost/")


def test_the_validator_refuses_a_credential_without_an_issuer(app, make, validator):
    """The schema check is live: the same credential without "issuer" fails."""
    badge = badge_of_each_kind(make.user())[BadgeKind.MODULE_COMPLETED]
    with app.test_request_context():
        credential = recognition.credential(badge)
    assert validator.is_valid(credential)

    del credential["issuer"]

    errors = [error.message for error in validator.iter_errors(credential)]
    assert "'issuer' is a required property" in errors


def test_each_achievement_id_is_a_public_page_of_the_site(app, client, make):
    """Whoever checks a credential can open its achievement, signed out; a goal's page is the
    generic one and shows neither the goal's title nor its id."""
    badges = badge_of_each_kind(make.user())
    with app.test_request_context(headers=ENGLISH):
        ids = {
            kind: recognition.credential(badge)["credentialSubject"]["achievement"]["id"]
            for kind, badge in badges.items()
        }

    for kind, url in ids.items():
        assert url.startswith("http://localhost/"), url
        response = client.get(url.removeprefix("http://localhost"), headers=ENGLISH)
        assert response.status_code == 200, (kind, url)
        page = response.get_data(as_text=True)
        if kind == BadgeKind.GOAL_ACHIEVED:
            assert GOAL_TITLE not in page
            assert str(GOAL_ID) not in page
            assert "Client-centric goal achieved" in page
        if kind == BadgeKind.MODULE_COMPLETED:
            assert get_course().module(FIRST).text("en").title in page


# 4. Personal recognition ----------------------------------------------------------------------


def test_a_colleague_recognises_a_competency(people):
    """A colleague in the same team: one recognition, one notification to the recipient only."""
    given = recognition.give_recognition(
        people.boris, people.anna, "  Explained the benefit rules patiently.  ",
        competency_id=COMPETENCY,
    )  # fmt: skip
    db.session.commit()

    [stored] = db.session.scalars(select(Recognition)).all()
    assert stored.id == given.id
    assert (stored.recipient_id, stored.giver_id) == (people.anna.id, people.boris.id)
    assert stored.message == "Explained the benefit rules patiently."
    assert (stored.competency_id, stored.goal_id) == (COMPETENCY, None)
    [notice] = notifications_of(people.anna)
    assert notice.kind == NotificationKind.RECOGNITION_RECEIVED
    assert notice.actor_id == people.boris.id
    assert notifications_of(people.boris) == []


def test_the_manager_recognises_work_on_a_goal(people):
    """The recipient's manager, outside the team, may recognise work on the person's goal."""
    goal = make_goal(people.anna)
    recognition.give_recognition(people.manager, people.anna, "Great progress!", goal=goal)
    db.session.commit()

    [stored] = db.session.scalars(select(Recognition)).all()
    assert (stored.giver_id, stored.goal_id, stored.competency_id) == (
        people.manager.id,
        goal.id,
        None,
    )
    assert [n.kind for n in notifications_of(people.anna)] == [
        NotificationKind.RECOGNITION_RECEIVED
    ]


def test_a_message_of_exactly_the_maximum_is_accepted(people):
    message = "x" * recognition.MESSAGE_MAX
    recognition.give_recognition(people.boris, people.anna, message, competency_id=COMPETENCY)
    db.session.commit()
    assert db.session.scalar(select(Recognition.message)) == message


NOT_ALLOWED = "You can recognise colleagues in your team and people you manage"
GIVERS = ["anna", "stranger", "other_manager", "hr", "hr_everywhere", "admin"]


@pytest.mark.parametrize("giver", GIVERS)
def test_only_colleagues_and_managers_may_recognise(people, giver):
    """Oneself, another team's employee or manager, HR and admins outside the team: refused,
    and nothing is written."""
    before = written_counts()
    with pytest.raises(RecognitionRefused, match=NOT_ALLOWED):
        recognition.give_recognition(
            getattr(people, giver), people.anna, "Thank you", competency_id=COMPETENCY
        )
    assert written_counts() == before


def test_an_inactive_person_cannot_be_recognised(make, people, team):
    gone = make.user(team=team, active=False)
    before = written_counts()
    for giver in (people.boris, people.manager):
        with pytest.raises(RecognitionRefused, match=NOT_ALLOWED):
            recognition.give_recognition(giver, gone, "Thank you", competency_id=COMPETENCY)
    assert written_counts() == before


def other_persons_goal(people) -> dict:  # noqa: ANN001
    return {"goal": make_goal(people.boris)}


WRITE = "Write a few words"
CHOOSE = "Choose the competency or the goal"
FRAMEWORK = "Choose a competency of the framework"
INVALID = [
    pytest.param("", {"competency_id": COMPETENCY}, WRITE, id="empty message"),
    pytest.param("   \n ", {"competency_id": COMPETENCY}, WRITE, id="blank message"),
    pytest.param(
        "x" * 1001,
        {"competency_id": COMPETENCY},
        "under 1000 characters",
        id="over 1000 characters",
    ),
    pytest.param("Thank you", {}, CHOOSE, id="neither competency nor goal"),
    pytest.param("Thank you", {"competency_id": "patience"}, FRAMEWORK, id="unknown competency"),
    pytest.param("Thank you", {"competency_id": ""}, FRAMEWORK, id="empty competency"),
    pytest.param("Thank you", other_persons_goal, "person's own goals", id="another's goal"),
]


@pytest.mark.parametrize(("message", "about", "reason"), INVALID)
def test_invalid_recognition_is_refused_and_nothing_written(people, message, about, reason):
    about = about(people) if callable(about) else about
    before = written_counts()
    with pytest.raises(RecognitionRefused, match=reason):
        recognition.give_recognition(people.manager, people.anna, message, **about)
    assert written_counts() == before


def set_time(row: Recognition | Badge, minutes: int) -> None:
    moment = T0 + timedelta(minutes=minutes)
    if isinstance(row, Badge):
        row.awarded_at = moment
    else:
        row.created_at = moment


def test_recognitions_of_lists_the_newest_first(people):
    """Ordered by when they were given, not by when they were stored; only the person's own."""
    given = [
        recognition.give_recognition(
            people.boris, people.anna, f"Thanks {n}", competency_id=COMPETENCY
        )
        for n in range(3)
    ]
    recognition.give_recognition(people.anna, people.boris, "Back", competency_id=COMPETENCY)
    for row, minutes in zip(given, (20, 10, 30), strict=True):
        set_time(row, minutes)
    db.session.commit()

    listed = recognition.recognitions_of(people.anna)

    assert [row.message for row in listed] == ["Thanks 2", "Thanks 0", "Thanks 1"]


def test_the_team_wall_shows_active_members_newest_first(make, people, team):
    """Badges and recognitions of the team's active people, merged by time; not a former
    colleague's (deactivated) nor another team's."""
    leaver = make.user("leaver@example.test", team=team)
    entries = {
        "anna thanked": recognition.give_recognition(
            people.boris, people.anna, "For Anna", competency_id=COMPETENCY
        ),
        "boris thanked": recognition.give_recognition(
            people.manager, people.boris, "For Boris", competency_id=OTHER_COMPETENCY
        ),
        "leaver thanked": recognition.give_recognition(
            people.anna, leaver, "For the leaver", competency_id=COMPETENCY
        ),
        "stranger thanked": recognition.give_recognition(
            people.other_manager, people.stranger, "Elsewhere", competency_id=COMPETENCY
        ),
        "anna badge": recognition.award_badge(people.anna, BadgeKind.MODULE_COMPLETED, FIRST),
        "boris badge": recognition.award_badge(people.boris, BadgeKind.COURSE_COMPLETED, "course"),
        "leaver badge": recognition.award_badge(leaver, BadgeKind.MODULE_COMPLETED, FIRST),
        "stranger badge": recognition.award_badge(
            people.stranger, BadgeKind.MODULE_COMPLETED, FIRST
        ),
    }
    times = {
        "anna thanked": 10,
        "boris badge": 40,
        "boris thanked": 20,
        "anna badge": 30,
        "leaver thanked": 50,
        "leaver badge": 60,
        "stranger thanked": 70,
        "stranger badge": 80,
    }
    for key, minutes in times.items():
        set_time(entries[key], minutes)
    leaver.active = False
    db.session.commit()

    wall = recognition.team_wall(team)

    shown = [(entry.recognition or entry.badge) for entry in wall]
    assert shown == [
        entries["boris badge"],
        entries["anna badge"],
        entries["boris thanked"],
        entries["anna thanked"],
    ]
    assert [entry.person.id for entry in wall] == [
        people.boris.id,
        people.anna.id,
        people.boris.id,
        people.anna.id,
    ]
    assert [entry.at for entry in wall] == [T0 + timedelta(minutes=m) for m in (40, 30, 20, 10)]
    assert all((entry.recognition is None) != (entry.badge is None) for entry in wall)


# 5. Competency reviews ------------------------------------------------------------------------

IN_A_MONTH = date.today() + timedelta(days=30)


def evidence_of(user: User) -> list[CompetencyEvidence]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(CompetencyEvidence)
            .where(CompetencyEvidence.user_id == user.id)
            .order_by(CompetencyEvidence.id)
        )
    )


def test_a_review_records_ratings_strengths_actions_and_levels(people):
    """One review row, one piece of review evidence per rating pointing back at it, the
    development actions, the levels the ratings set, and one notification to the person."""
    review = reviews.record_review(
        people.manager,
        people.anna,
        {
            COMPETENCY: Rating(2, "  Follows cases through  "),
            OTHER_COMPETENCY: Rating(1),
        },
        strengths="  Listens to clients  ",
        actions=[
            PlannedAction("  Shadow a co-design session  ", IN_A_MONTH, OTHER_COMPETENCY),
            PlannedAction("Read the module again", date.today()),
        ],
    )
    db.session.commit()

    [stored] = db.session.scalars(select(CompetencyReview)).all()
    assert stored.id == review.id
    assert (stored.user_id, stored.reviewer_id) == (people.anna.id, people.manager.id)
    assert stored.strengths == "Listens to clients"
    rows = {
        (e.competency_id, e.kind, e.level, e.comment, e.source, e.review_id, e.recorded_by_id)
        for e in evidence_of(people.anna)
    }
    assert rows == {
        (COMPETENCY, "review", 2, "Follows cases through", f"review:{review.id}", review.id,
         people.manager.id),
        (OTHER_COMPETENCY, "review", 1, "", f"review:{review.id}", review.id, people.manager.id),
    }  # fmt: skip
    actions = db.session.scalars(select(DevelopmentAction).order_by(DevelopmentAction.id)).all()
    assert snapshot(actions, "review_id", "text", "due_on", "competency_id") == [
        (review.id, "Shadow a co-design session", IN_A_MONTH, OTHER_COMPETENCY),
        (review.id, "Read the module again", date.today(), None),
    ]
    assert current_level(people.anna, COMPETENCY) == 2
    assert current_level(people.anna, OTHER_COMPETENCY) == 1
    [notice] = notifications_of(people.anna)
    assert (notice.kind, notice.actor_id) == (NotificationKind.REVIEW_DONE, people.manager.id)
    assert notifications_of(people.manager) == []
    assert badges_of(people.anna) == []


@pytest.mark.parametrize("level", [1, 4])
def test_the_lowest_and_highest_levels_are_accepted(people, level):
    reviews.record_review(people.manager, people.anna, {COMPETENCY: Rating(level)})
    db.session.commit()
    assert current_level(people.anna, COMPETENCY) == level


def test_the_latest_review_sets_the_level_even_below_a_self_assessment(people):
    """A self-assessment of 2, then a review at 1: the level is 1."""
    competencies.record_evidence(people.anna, COMPETENCY, EvidenceKind.SELF, 2)
    db.session.commit()
    assert current_level(people.anna, COMPETENCY) == 2

    reviews.record_review(people.manager, people.anna, {COMPETENCY: Rating(1)})
    db.session.commit()

    assert current_level(people.anna, COMPETENCY) == 1
    assert level_history(people.anna, COMPETENCY) == [2, 1]


def test_a_second_review_adds_to_the_history_and_changes_nothing_before(people):
    """The first review's rows stay as they were; the second adds its own; newest listed first."""
    first = reviews.record_review(
        people.manager,
        people.anna,
        {COMPETENCY: Rating(2, "First")},
        strengths="First strengths",
        actions=[PlannedAction("First action", IN_A_MONTH)],
    )
    db.session.commit()
    fields = ("id", "competency_id", "kind", "level", "comment", "review_id", "recorded_at")
    evidence_before = snapshot(evidence_of(people.anna), *fields)
    first_review = snapshot([first], "id", "strengths", "reviewer_id", "created_at")
    actions_before = snapshot(
        db.session.scalars(select(DevelopmentAction)).all(), "id", "review_id", "text", "due_on"
    )

    second = reviews.record_review(
        people.manager,
        people.anna,
        {COMPETENCY: Rating(1, "Second"), OTHER_COMPETENCY: Rating(2)},
        strengths="Second strengths",
        actions=[PlannedAction("Second action", IN_A_MONTH)],
    )
    db.session.commit()

    evidence_after = snapshot(evidence_of(people.anna), *fields)
    assert evidence_after[: len(evidence_before)] == evidence_before
    assert [row[5] for row in evidence_after[len(evidence_before) :]] == [second.id, second.id]
    db.session.expire_all()
    assert (
        snapshot(
            [db.session.get(CompetencyReview, first.id)],
            "id",
            "strengths",
            "reviewer_id",
            "created_at",
        )
        == first_review
    )
    actions_after = snapshot(
        db.session.scalars(select(DevelopmentAction).order_by(DevelopmentAction.id)).all(),
        "id", "review_id", "text", "due_on",
    )  # fmt: skip
    assert actions_after[:1] == actions_before
    assert [row[1:3] for row in actions_after[1:]] == [(second.id, "Second action")]
    assert level_history(people.anna, COMPETENCY) == [2, 1]

    listed = reviews.reviews_of(people.anna)
    assert [review.id for review in listed] == [second.id, first.id]
    assert [review.strengths for review in listed] == ["Second strengths", "First strengths"]
    assert [r.competency_id for r in listed[0].ratings] == sorted([COMPETENCY, OTHER_COMPETENCY])
    assert [r.comment for r in listed[1].ratings] == ["First"]
    assert [a.text for a in listed[1].actions] == ["First action"]
    assert len(notifications_of(people.anna, NotificationKind.REVIEW_DONE)) == 2


def test_reviews_of_lists_by_date_newest_first(people):
    """Ordered by when the review was made, not by id."""
    made = [
        reviews.record_review(people.manager, people.anna, {COMPETENCY: Rating(2)}, strengths=s)
        for s in ("a", "b", "c")
    ]
    for review, minutes in zip(made, (20, 30, 10), strict=True):
        review.created_at = T0 + timedelta(minutes=minutes)
    db.session.commit()

    assert [r.strengths for r in reviews.reviews_of(people.anna)] == ["b", "a", "c"]
    assert reviews.reviews_of(people.boris) == []


ONLY_MANAGERS = "Only a manager of the person's team"
REVIEWERS = ["anna", "other_manager", "hr", "hr_everywhere", "admin", "boris"]


@pytest.mark.parametrize("reviewer", REVIEWERS)
def test_only_a_manager_of_the_team_reviews(people, reviewer):
    """The person, another team's manager, HR, an admin and a colleague are refused."""
    before = written_counts()
    with pytest.raises(ReviewRefused, match=ONLY_MANAGERS):
        reviews.record_review(getattr(people, reviewer), people.anna, {COMPETENCY: Rating(3)})
    assert written_counts() == before


def test_a_manager_does_not_review_themselves(make, team, ctx):
    """Even a manager who is a member of the team they manage."""
    lead = make.user(roles=(Role.MANAGER,), team=team, manages=(team,))
    colleague = make.user(team=team)
    before = written_counts()
    with pytest.raises(ReviewRefused, match=ONLY_MANAGERS):
        reviews.record_review(lead, lead, {COMPETENCY: Rating(3)})
    assert written_counts() == before

    reviews.record_review(lead, colleague, {COMPETENCY: Rating(2)})
    db.session.commit()
    assert count(CompetencyReview) == 1


YESTERDAY = date.today() - timedelta(days=1)
RATED = {COMPETENCY: Rating(2)}
LEVEL = "A level is from 1 to 4"
UNKNOWN = "Rate competencies of the framework only"
DESCRIBE = "Each development action needs a description"
DUE = "A development action is due today or later"
INVALID_REVIEWS = [
    pytest.param({}, [], "Rate at least one competency", id="no rating"),
    pytest.param({COMPETENCY: Rating(0)}, [], LEVEL, id="level 0"),
    pytest.param({COMPETENCY: Rating(5)}, [], LEVEL, id="level 5"),
    pytest.param({COMPETENCY: Rating(-1)}, [], LEVEL, id="level -1"),
    pytest.param({"patience": Rating(2)}, [], UNKNOWN, id="unknown competency"),
    pytest.param({**RATED, "patience": Rating(2)}, [], UNKNOWN, id="one unknown of two"),
    pytest.param({COMPETENCY: Rating(2, "x" * 2001)}, [], "under 2000", id="comment too long"),
    pytest.param(RATED, [PlannedAction("", IN_A_MONTH)], DESCRIBE, id="empty action"),
    pytest.param(RATED, [PlannedAction(" \n ", IN_A_MONTH)], DESCRIBE, id="blank action"),
    pytest.param(RATED, [PlannedAction("Do it", YESTERDAY)], DUE, id="past due"),
    pytest.param(
        RATED,
        [PlannedAction("Fine", IN_A_MONTH), PlannedAction("Late", YESTERDAY)],
        DUE,
        id="one of two actions past due",
    ),
    pytest.param(
        RATED,
        [PlannedAction("Do it", IN_A_MONTH, "patience")],
        UNKNOWN,
        id="action for an unknown competency",
    ),
]


@pytest.mark.parametrize(("ratings", "actions", "reason"), INVALID_REVIEWS)
def test_an_invalid_review_is_refused_and_nothing_written(people, ratings, actions, reason):
    before = written_counts()
    with pytest.raises(ReviewRefused, match=reason):
        reviews.record_review(people.manager, people.anna, ratings, actions=actions)
    assert written_counts() == before


def test_too_long_strengths_are_refused(people):
    before = written_counts()
    with pytest.raises(ReviewRefused, match="under 2000 characters"):
        reviews.record_review(people.manager, people.anna, RATED, strengths="x" * 2001)
    assert written_counts() == before
