"""Manager and HR dashboards (/team, /team/<id>, /hr) and reminders.

The numbers are checked against a small organisation whose every record is written here with
an explicit timestamp, so that each expected count, score and date below is worked out by hand
from the fixture (see ``World``), never recomputed with the code under test:

    North / Alpha / Sales:   Anna (all seven modules done), Boris (1 done, 2 in progress),
                             Clara (never started)
    North / Alpha / Support: Dmitry (in progress, quiet since 12 May), Elena (module 1 done
                             on 16 June), Fedor (deactivated; module 1 done on 7 May)
    South / Beta  / Field:   Galina (1 done, quiet since 3 June), Hugo (in progress since
                             exactly 4 June 00:00 UTC, fourteen days before "today")

"Today" is Wednesday 18 June 2025.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from lms.extensions import db
from lms.i18n import PoDomain
from lms.models import (
    AttemptState,
    AuditEvent,
    CheckIn,
    CompetencyEvidence,
    CompetencyLevel,
    CourseModule,
    EvidenceKind,
    Goal,
    GoalEvent,
    GoalState,
    ModuleCompletion,
    Notification,
    NotificationKind,
    QuizAttempt,
    Role,
    SectionRead,
    TaskCompletion,
    Team,
    User,
)
from lms.services import reports
from lms.services.reports import (
    COMPLETE,
    IN_PROGRESS,
    NOT_STARTED,
    BadFilter,
    Filters,
    Period,
)
from tests.conftest import PASSWORD, Factory, csrf_token

TODAY = date(2025, 6, 18)  # a Wednesday
M1, M2, M3, M4, M5, M6, M7 = (
    "client-centricity",
    "cx-system",
    "star-index",
    "myths",
    "listening-and-co-design",
    "client-centric-culture",
    "beyond-the-conveyor",
)
MODULES = (M1, M2, M3, M4, M5, M6, M7)
COMPETENCIES = [
    "client-understanding",
    "journeys-and-pain-points",
    "clarity-of-support",
    "co-design",
    "feedback-and-measurement",
    "ownership",
]
M1_TITLE = "Client-centricity in the employment service"
M2_TITLE = "The client-experience management system"
UNDERSTANDING = "Understanding the client"  # client-understanding, in English
PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1")
SUBJECT_EN = "Your client-centricity course is waiting"


pytestmark = pytest.mark.usefixtures("cheap_passwords")  # many people are made per test


def at(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2025) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- The fixture: an organisation and its records ----------------------------------------------


@dataclass
class World:
    teams: dict[str, Team] = field(default_factory=dict)
    people: dict[str, User] = field(default_factory=dict)
    viewers: dict[str, User] = field(default_factory=dict)
    goals: dict[str, Goal] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)  # slug -> short content hash

    def id(self, name: str) -> int:
        return self.people[name].id


class Recorder:
    """Writes progress straight into the tables, with the timestamps given."""

    def __init__(self) -> None:
        self.modules = {m.slug: m for m in db.session.scalars(select(CourseModule))}
        self.numbers: dict[tuple[int, str], int] = {}

    def _ids(self, slug: str) -> dict[str, Any]:
        module = self.modules[slug]
        return {"module_id": module.id, "content_version_id": module.current_version_id}

    def read(self, user: User, slug: str, when: datetime) -> None:
        db.session.add(
            SectionRead(user_id=user.id, section_id="s1", read_at=when, **self._ids(slug))
        )

    def task(self, user: User, slug: str, when: datetime) -> None:
        db.session.add(
            TaskCompletion(user_id=user.id, task_id="memo", completed_at=when, **self._ids(slug))
        )

    def attempt(
        self,
        user: User,
        slug: str,
        started: datetime,
        submitted: datetime | None = None,
        score: int | None = None,
    ) -> None:
        number = self.numbers.get((user.id, slug), 0) + 1
        self.numbers[(user.id, slug)] = number
        db.session.add(
            QuizAttempt(
                user_id=user.id,
                number=number,
                state=AttemptState.SUBMITTED if submitted else AttemptState.IN_PROGRESS,
                layout=[],
                pass_mark=70,
                started_at=started,
                submitted_at=submitted,
                score=score,
                passed=None if score is None else score >= 70,
                **self._ids(slug),
            )
        )

    def complete(
        self, user: User, slug: str, when: datetime, score: int | None, attempts: int
    ) -> None:
        db.session.add(
            ModuleCompletion(
                user_id=user.id,
                completed_at=when,
                score=score,
                attempts=attempts,
                **self._ids(slug),
            )
        )

    def finish(self, user: User, slug: str, day: datetime, score: int) -> None:
        """Read at 09:00, one passing attempt 09:30-09:50, completed at 10:00."""
        self.read(user, slug, day.replace(hour=9))
        self.attempt(
            user, slug, day.replace(hour=9, minute=30), day.replace(hour=9, minute=50), score
        )
        self.complete(user, slug, day.replace(hour=10), score, 1)

    def level(self, user: User, competency: str, level: int, when: datetime) -> None:
        evidence = CompetencyEvidence(
            user_id=user.id,
            competency_id=competency,
            kind=EvidenceKind.SELF,
            level=level,
            recorded_at=when,
        )
        db.session.add(evidence)
        db.session.flush()
        db.session.add(
            CompetencyLevel(
                user_id=user.id,
                competency_id=competency,
                level=level,
                evidence_id=evidence.id,
                set_at=when,
            )
        )
        db.session.flush()


def add_goal(
    owner: User,
    state: GoalState,
    due_on: date,
    updated_at: datetime,
    approver: User | None = None,
    approved_at: datetime | None = None,
    check_ins: tuple[datetime, ...] = (),
) -> Goal:
    goal = Goal(
        user_id=owner.id,
        title=f"Goal of {owner.full_name} ({state})",
        measure="The call log",
        target="8 of 10",
        relevance="Fewer repeated calls",
        due_on=due_on,
        state=state,
        created_at=at(3, 1),
        updated_at=updated_at,
    )
    db.session.add(goal)
    db.session.flush()
    if approved_at is not None:
        assert approver is not None
        db.session.add(
            GoalEvent(
                goal_id=goal.id,
                action="approve",
                from_state=GoalState.SUBMITTED,
                to_state=GoalState.APPROVED,
                actor_id=approver.id,
                created_at=approved_at,
            )
        )
    for moment in check_ins:
        db.session.add(CheckIn(goal_id=goal.id, progress=50, author_id=owner.id, created_at=moment))
    db.session.flush()
    return goal


def name(user: User, full_name: str) -> User:
    user.full_name = full_name
    return user


def build_world(make: Factory) -> World:
    w = World()
    sales = make.team("Sales", centre="Alpha", region="North")
    support = make.team("Support", centre="Alpha", region="North")
    field_team = make.team("Field", centre="Beta", region="South")
    w.teams = {"sales": sales, "support": support, "field": field_team}
    north = sales.centre.region

    def person(key: str, full_name: str, team: Team, **kwargs: Any) -> User:
        user = make.user(f"{key}@example.test", team=team, locale="en", **kwargs)
        w.people[key] = name(user, full_name)
        return user

    anna = person("anna", "Anna Abel", sales)
    boris = person("boris", "Boris Bell", sales)
    person("clara", "Clara Cole", sales)
    dmitry = person("dmitry", "Dmitry Dahl", support)
    elena = person("elena", "Elena Eck", support)
    fedor = person("fedor", "Fedor Fox", support, active=False)
    galina = person("galina", "Galina Gray", field_team)
    hugo = person("hugo", "Hugo Hart", field_team)

    def viewer(key: str, full_name: str, **kwargs: Any) -> User:
        user = make.user(f"{key}@example.test", locale="en", **kwargs)
        w.viewers[key] = name(user, full_name)
        return user

    m_sales = viewer("m_sales", "Maria Sales", roles=(Role.MANAGER,), manages=(sales,))
    viewer("m_support", "Mark Support", roles=(Role.MANAGER,), manages=(support,))
    viewer("m_field", "Mila Field", roles=(Role.MANAGER,), manages=(field_team,))
    viewer("hr_north", "Nina North", roles=(Role.HR,), hr_region=north)
    viewer("hr_all", "Olga Everywhere", roles=(Role.HR,))
    viewer("admin", "Adam Admin", roles=(Role.ADMIN,))
    db.session.commit()

    r = Recorder()
    w.versions = {
        slug: module.current_version.content_hash[:12] for slug, module in r.modules.items()
    }
    # Anna: the whole course in May.
    r.read(anna, M1, at(5, 5, 9))
    r.attempt(anna, M1, at(5, 5, 9, 30), at(5, 5, 9, 50), 90)
    r.complete(anna, M1, at(5, 5, 10), 90, 1)
    r.read(anna, M2, at(5, 6, 9))
    r.attempt(anna, M2, at(5, 6, 9, 10), at(5, 6, 9, 20), 60)
    r.attempt(anna, M2, at(5, 6, 9, 30), at(5, 6, 9, 50), 80)
    r.complete(anna, M2, at(5, 6, 10), 80, 2)
    r.finish(anna, M3, at(5, 20), 100)
    r.read(anna, M4, at(5, 21, 9))
    r.complete(anna, M4, at(5, 21, 10), None, 0)  # a completion without a score
    r.finish(anna, M5, at(5, 22), 75)
    r.finish(anna, M6, at(5, 27), 88)
    r.finish(anna, M7, at(5, 28), 92)
    # Boris: module 1 done on the second attempt; module 2 read and a quiz open; module 3 a
    # task done and a failed attempt.
    r.read(boris, M1, at(5, 30, 12))
    r.attempt(boris, M1, at(6, 1, 8), at(6, 1, 8, 20), 50)
    r.attempt(boris, M1, at(6, 2, 8, 30), at(6, 2, 8, 50), 70)
    r.complete(boris, M1, at(6, 2, 9), 70, 2)
    r.read(boris, M2, at(6, 10, 10))
    r.attempt(boris, M2, at(6, 11, 10))  # in progress: no score, not counted
    r.task(boris, M3, at(6, 12, 9))
    r.attempt(boris, M3, at(6, 12, 10), at(6, 12, 10, 20), 40)
    # Clara: nothing at all.
    # Dmitry: module 1 begun in May, nothing since 12 May.
    r.read(dmitry, M1, at(5, 10))
    r.task(dmitry, M1, at(5, 12))
    # Elena: module 1 read on 15 June, completed on 16 June.
    r.read(elena, M1, at(6, 15, 12))
    r.attempt(elena, M1, at(6, 16, 9), at(6, 16, 9, 30), 95)
    r.complete(elena, M1, at(6, 16, 10), 95, 1)
    # Fedor (deactivated): module 1 done on 7 May.
    r.read(fedor, M1, at(5, 7, 9))
    r.attempt(fedor, M1, at(5, 7, 9, 10), at(5, 7, 9, 40), 60)
    r.complete(fedor, M1, at(5, 7, 10), 60, 1)
    # Galina: module 2 looked at in April; module 1 done on 3 June, nothing since.
    r.read(galina, M2, at(4, 1))
    r.read(galina, M1, at(6, 2))
    r.attempt(galina, M1, at(6, 3, 8), at(6, 3, 8, 30), 85)
    r.complete(galina, M1, at(6, 3, 9), 85, 1)
    # Hugo: one section read exactly fourteen days before today, at midnight UTC.
    r.read(hugo, M1, at(6, 4, 0))

    # Competency levels (the newest before the period's end counts).
    r.level(anna, "client-understanding", 2, at(5, 5))
    r.level(anna, "ownership", 1, at(5, 6))
    r.level(fedor, "client-understanding", 1, at(5, 7))
    r.level(anna, "client-understanding", 3, at(5, 28))
    r.level(galina, "client-understanding", 4, at(6, 3))
    r.level(boris, "client-understanding", 2, at(6, 5))
    r.level(elena, "co-design", 3, at(6, 16))

    # Goals.
    w.goals = {
        "to_approve": add_goal(boris, GoalState.SUBMITTED, date(2025, 7, 1), at(6, 15)),
        "overdue": add_goal(
            dmitry, GoalState.APPROVED, date(2025, 6, 10), at(4, 1), m_sales, at(4, 1)
        ),
        "quiet": add_goal(
            galina,
            GoalState.APPROVED,
            date(2025, 9, 1),
            at(5, 1),
            m_sales,
            at(4, 1),
            check_ins=(at(4, 20), at(5, 1)),
        ),
        "recent_check_in": add_goal(
            hugo, GoalState.APPROVED, date(2025, 9, 1), at(6, 1), m_sales, at(4, 1), (at(6, 1),)
        ),
        "recent_approval": add_goal(
            elena, GoalState.APPROVED, date(2025, 9, 1), at(6, 10), m_sales, at(6, 10)
        ),
        # Approved exactly thirty days before today at midnight: not yet quiet.
        "approved_at_limit": add_goal(
            anna, GoalState.APPROVED, date(2025, 9, 1), at(5, 19, 0), m_sales, at(5, 19, 0)
        ),
        "due_today": add_goal(
            anna, GoalState.APPROVED, TODAY, at(6, 1), m_sales, at(6, 1), (at(6, 1),)
        ),
        "achieved_late": add_goal(hugo, GoalState.ACHIEVED, date(2025, 5, 1), at(4, 1)),
        "draft": add_goal(w.people["clara"], GoalState.DRAFT, date(2025, 9, 1), at(1, 1)),
        "deactivated": add_goal(fedor, GoalState.SUBMITTED, date(2025, 6, 20), at(5, 1)),
    }
    # Dmitry was reminded the day before.
    db.session.add(
        Notification(
            user_id=dmitry.id,
            kind=NotificationKind.REMINDER,
            actor_id=w.viewers["m_support"].id,
            params={"modules_left": "7"},
            created_at=at(6, 17, 12),
        )
    )
    db.session.commit()
    return w


@pytest.fixture
def world(published: None, make: Factory) -> World:
    return build_world(make)


def ids(world: World, *names: str) -> set[int]:
    return {world.id(n) for n in names}


# --- Filters ------------------------------------------------------------------------------------


def test_filters_are_read_from_the_query_string(app):
    filters = Filters.from_args(
        {
            "region": "1",
            "centre": " 2 ",
            "team": "3",
            "module": M2,
            "since": "2025-05-01",
            "until": "2025-06-18",
            "inactive": "1",
        }
    )
    assert filters == Filters(1, 2, 3, M2, date(2025, 5, 1), date(2025, 6, 18), True)
    assert Filters.from_args(filters.as_args()) == filters
    assert Filters.from_args({"region": "", "since": "", "inactive": "0"}) == Filters()
    assert Filters().as_args() == {}
    # The day ends at midnight in the organisation's time zone (Moscow, UTC+3).
    assert Filters(until=date(2025, 6, 15)).cutoff == at(6, 15, 21)


@pytest.mark.parametrize(
    ("args", "field_name"),
    [
        ({"region": "abc"}, "region"),
        ({"centre": "-1"}, "centre"),
        ({"team": "1.5"}, "team"),
        ({"since": "notadate"}, "since"),
        ({"until": "2025-02-30"}, "until"),
        ({"since": "2025-06-10", "until": "2025-06-01"}, "until"),
    ],
)
def test_a_bad_filter_names_its_field(args, field_name):
    with pytest.raises(BadFilter) as raised:
        Filters.from_args(args)
    assert raised.value.field == field_name


# --- Completion records -------------------------------------------------------------------------


def records(viewer: User, filters: Filters | None = None) -> dict[tuple[str, str], tuple]:
    """(full name, module) -> (status, score, attempts, started, completed, version)."""
    return {
        (row.full_name, row.module): (
            row.status,
            row.score,
            row.attempts,
            row.started_at,
            row.completed_at,
            row.content_version,
        )
        for row in reports.completion_rows(viewer, filters or Filters())
    }


def test_completion_rows_one_per_person_and_module_in_order(world):
    rows = list(reports.completion_rows(world.viewers["admin"], Filters()))
    assert len(rows) == 7 * 7  # seven active people, seven modules, not started included
    order = [row.full_name for row in rows[::7]]
    assert order == [
        "Anna Abel",  # North / Alpha / Sales
        "Boris Bell",
        "Clara Cole",
        "Dmitry Dahl",  # North / Alpha / Support (Fedor is deactivated)
        "Elena Eck",
        "Galina Gray",  # South / Beta / Field
        "Hugo Hart",
    ]
    assert [row.module for row in rows[:7]] == list(MODULES)
    boris = rows[7]
    assert (boris.email, boris.region, boris.centre, boris.team, boris.team_id, boris.active) == (
        "boris@example.test",
        "North",
        "Alpha",
        "Sales",
        world.teams["sales"].id,
        True,
    )
    statuses = [row.status for row in rows]
    assert (statuses.count(COMPLETE), statuses.count(IN_PROGRESS), statuses.count(NOT_STARTED)) == (
        10,  # Anna 7, Boris 1, Elena 1, Galina 1
        5,  # Boris 2 and 3, Dmitry 1, Galina 2, Hugo 1
        34,
    )


def test_completion_rows_have_status_score_attempts_dates_and_version(world):
    got = records(world.viewers["admin"])
    v = world.versions
    assert got["Boris Bell", M1] == (COMPLETE, 70, 2, at(5, 30, 12), at(6, 2, 9), v[M1])
    # Read, and an attempt still open: started, no score, no attempt counted.
    assert got["Boris Bell", M2] == (IN_PROGRESS, None, 0, at(6, 10, 10), None, None)
    # A task, then a failed attempt: the best submitted score shows.
    assert got["Boris Bell", M3] == (IN_PROGRESS, 40, 1, at(6, 12, 9), None, None)
    assert got["Boris Bell", M4] == (NOT_STARTED, None, 0, None, None, None)
    assert got["Anna Abel", M2] == (COMPLETE, 80, 2, at(5, 6, 9), at(5, 6, 10), v[M2])
    assert got["Anna Abel", M4] == (COMPLETE, None, 0, at(5, 21, 9), at(5, 21, 10), v[M4])
    assert got["Clara Cole", M1] == (NOT_STARTED, None, 0, None, None, None)
    assert got["Dmitry Dahl", M1] == (IN_PROGRESS, None, 0, at(5, 10), None, None)
    assert got["Elena Eck", M1] == (COMPLETE, 95, 1, at(6, 15, 12), at(6, 16, 10), v[M1])
    assert got["Galina Gray", M2] == (IN_PROGRESS, None, 0, at(4, 1), None, None)
    assert got["Hugo Hart", M1] == (IN_PROGRESS, None, 0, at(6, 4, 0), None, None)
    assert len(v[M1]) == 12
    assert ("Fedor Fox", M1) not in got


def test_inactive_filter_includes_deactivated_people(world):
    got = records(world.viewers["admin"], Filters(inactive=True))
    assert len(got) == 8 * 7
    assert got["Fedor Fox", M1] == (
        COMPLETE,
        60,
        1,
        at(5, 7, 9),
        at(5, 7, 10),
        world.versions[M1],
    )
    rows = list(reports.completion_rows(world.viewers["admin"], Filters(inactive=True)))
    assert {row.active for row in rows if row.full_name == "Fedor Fox"} == {False}


def test_module_filter_keeps_one_module(world):
    rows = list(reports.completion_rows(world.viewers["admin"], Filters(module=M2)))
    assert {row.module for row in rows} == {M2}
    assert len(rows) == 7
    assert [row.status for row in rows] == [
        COMPLETE,  # Anna
        IN_PROGRESS,  # Boris
        NOT_STARTED,  # Clara
        NOT_STARTED,  # Dmitry
        NOT_STARTED,  # Elena
        IN_PROGRESS,  # Galina
        NOT_STARTED,  # Hugo
    ]
    assert list(reports.completion_rows(world.viewers["admin"], Filters(module="nope"))) == []


def test_until_shows_records_as_they_stood_at_the_end_of_that_day(world):
    admin = world.viewers["admin"]
    # Elena read on 15 June and completed on 16 June.
    on_15 = records(admin, Filters(until=date(2025, 6, 15)))
    assert on_15["Elena Eck", M1] == (IN_PROGRESS, None, 0, at(6, 15, 12), None, None)
    on_14 = records(admin, Filters(until=date(2025, 6, 14)))
    assert on_14["Elena Eck", M1] == (NOT_STARTED, None, 0, None, None, None)
    on_16 = records(admin, Filters(until=date(2025, 6, 16)))
    assert on_16["Elena Eck", M1][0] == COMPLETE
    # Boris on 1 June: one failed attempt submitted, the passing one was the next day.
    on_1 = records(admin, Filters(until=date(2025, 6, 1)))
    assert on_1["Boris Bell", M1] == (IN_PROGRESS, 50, 1, at(5, 30, 12), None, None)
    assert on_1["Boris Bell", M2] == (NOT_STARTED, None, 0, None, None, None)
    assert on_1["Galina Gray", M1] == (NOT_STARTED, None, 0, None, None, None)
    assert on_1["Galina Gray", M2][0] == IN_PROGRESS
    # ``since`` alone changes no record: it only sets where the charts begin.
    assert records(admin, Filters(since=date(2025, 6, 17))) == records(admin)


def test_until_ends_the_day_in_the_organisation_time_zone(world):
    """Hugo completes module 1 at 22:30 UTC on 15 June, i.e. 01:30 on 16 June in Moscow: on
    the evening of 15 June he had not completed it yet."""
    r = Recorder()
    r.complete(world.people["hugo"], M1, at(6, 15, 22, 30), 80, 1)
    db.session.commit()
    got = records(world.viewers["admin"], Filters(until=date(2025, 6, 15)))
    assert got["Hugo Hart", M1][0] == IN_PROGRESS


# --- Module summaries ---------------------------------------------------------------------------


def summaries(viewer: User, filters: Filters | None = None) -> dict[str, tuple]:
    return {
        s.module: (
            s.counts[COMPLETE],
            s.counts[IN_PROGRESS],
            s.counts[NOT_STARTED],
            s.average_score,
        )
        for s in reports.module_summaries(viewer, filters or Filters())
    }


def test_module_summaries_count_statuses_and_average_scores(world):
    got = summaries(world.viewers["admin"])
    assert list(got) == list(MODULES)
    assert got == {
        M1: (4, 2, 1, 85.0),  # Anna 90, Boris 70, Elena 95, Galina 85; Dmitry, Hugo; Clara
        M2: (1, 2, 4, 80.0),  # Anna 80; Boris, Galina
        M3: (1, 1, 5, 100.0),  # Anna 100; Boris
        M4: (1, 0, 6, None),  # Anna, without a score
        M5: (1, 0, 6, 75.0),
        M6: (1, 0, 6, 88.0),
        M7: (1, 0, 6, 92.0),
    }
    first = reports.module_summaries(world.viewers["admin"], Filters())[0]
    assert (first.people, first.percent_complete) == (7, 57)


def test_module_summaries_with_filters(world):
    admin = world.viewers["admin"]
    with_inactive = summaries(admin, Filters(inactive=True))
    assert with_inactive[M1] == (5, 2, 1, 80.0)  # Fedor's 60 joins
    assert with_inactive[M7] == (1, 0, 7, 92.0)
    assert summaries(admin, Filters(module=M2)) == {M2: (1, 2, 4, 80.0)}
    south = world.teams["field"].centre.region.id
    got = summaries(admin, Filters(region=south))
    assert got[M1] == (1, 1, 0, 85.0)
    assert got[M2] == (0, 1, 1, None)
    alpha = world.teams["sales"].centre.id
    assert summaries(admin, Filters(centre=alpha))[M1] == (3, 1, 1, 85.0)  # 90, 70, 95
    assert summaries(admin, Filters(team=world.teams["support"].id))[M1] == (1, 1, 0, 95.0)
    on_15 = summaries(admin, Filters(until=date(2025, 6, 15)))
    assert on_15[M1][:3] == (3, 3, 1)  # Elena back in progress
    assert on_15[M1][3] == pytest.approx(245 / 3)  # 90, 70, 85
    on_1 = summaries(admin, Filters(until=date(2025, 6, 1)))
    assert on_1[M1] == (1, 2, 4, 90.0)  # Anna; Boris, Dmitry; Clara, Elena, Galina, Hugo
    assert on_1[M2] == (1, 1, 5, 80.0)  # Anna; Galina


# --- Completions over time ----------------------------------------------------------------------


def buckets(viewer: User, filters: Filters, period: Period) -> list[tuple[date, date, int]]:
    return [
        (b.start, b.end, b.count) for b in reports.completions_over_time(viewer, filters, period)
    ]


def d(month: int, day: int, year: int = 2025) -> date:
    return date(year, month, day)


def test_completions_per_week(world):
    period = Period(d(5, 1), d(6, 18))
    assert buckets(world.viewers["admin"], Filters(), period) == [
        (d(5, 1), d(5, 4), 0),  # from Thursday to Sunday
        (d(5, 5), d(5, 11), 2),  # Anna 1 and 2
        (d(5, 12), d(5, 18), 0),
        (d(5, 19), d(5, 25), 3),  # Anna 3, 4, 5
        (d(5, 26), d(6, 1), 2),  # Anna 6, 7
        (d(6, 2), d(6, 8), 2),  # Boris, Galina
        (d(6, 9), d(6, 15), 0),
        (d(6, 16), d(6, 18), 1),  # Elena
    ]
    counts = [c for _s, _e, c in buckets(world.viewers["admin"], Filters(inactive=True), period)]
    assert counts == [0, 3, 0, 3, 2, 2, 0, 1]  # Fedor on 7 May
    counts = [c for _s, _e, c in buckets(world.viewers["admin"], Filters(module=M1), period)]
    assert counts == [0, 1, 0, 0, 0, 2, 0, 1]
    counts = [c for _s, _e, c in buckets(world.viewers["m_sales"], Filters(), period)]
    assert counts == [0, 2, 0, 3, 2, 1, 0, 0]


def test_completions_per_month_past_half_a_year(world):
    admin = world.viewers["admin"]
    assert buckets(admin, Filters(), Period(d(12, 1, 2024), d(6, 30))) == [
        (d(12, 1, 2024), d(12, 31, 2024), 0),
        (d(1, 1), d(1, 31), 0),
        (d(2, 1), d(2, 28), 0),
        (d(3, 1), d(3, 31), 0),
        (d(4, 1), d(4, 30), 0),
        (d(5, 1), d(5, 31), 7),
        (d(6, 1), d(6, 30), 3),
    ]
    got = buckets(admin, Filters(), Period(d(1, 15), d(8, 10)))
    assert [(s, e) for s, e, _c in got][0] == (d(1, 15), d(1, 31))
    assert [(s, e) for s, e, _c in got][-1] == (d(8, 1), d(8, 10))
    assert [c for _s, _e, c in got] == [0, 0, 0, 0, 7, 3, 0, 0]
    # 183 days are still counted by week, 184 by month.
    assert buckets(admin, Filters(), Period(d(1, 1), d(7, 2)))[0][:2] == (d(1, 1), d(1, 5))
    assert buckets(admin, Filters(), Period(d(1, 1), d(7, 3)))[0][:2] == (d(1, 1), d(1, 31))


def test_report_period():
    assert reports.report_period(Filters(), TODAY) == Period(d(3, 27), d(6, 18))  # 12 weeks
    assert reports.report_period(Filters(since=d(5, 1)), TODAY) == Period(d(5, 1), d(6, 18))
    assert reports.report_period(Filters(until=d(5, 31)), TODAY) == Period(d(3, 9), d(5, 31))
    assert Period(d(3, 27), d(6, 18)).days == 84


# --- Competency levels --------------------------------------------------------------------------


def zeros(**levels: int) -> dict[int, int]:
    return {0: 0, 1: 0, 2: 0, 3: 0, 4: 0} | {int(k[1:]): v for k, v in levels.items()}


def test_level_distribution(world):
    got = reports.level_distribution(world.viewers["admin"], Filters(), COMPETENCIES)
    assert got == {
        "client-understanding": zeros(L0=4, L2=1, L3=1, L4=1),  # Boris, Anna, Galina
        "journeys-and-pain-points": zeros(L0=7),
        "clarity-of-support": zeros(L0=7),
        "co-design": zeros(L0=6, L3=1),  # Elena
        "feedback-and-measurement": zeros(L0=7),
        "ownership": zeros(L0=6, L1=1),  # Anna
    }
    got = reports.level_distribution(world.viewers["admin"], Filters(inactive=True), COMPETENCIES)
    assert got["client-understanding"] == zeros(L0=4, L1=1, L2=1, L3=1, L4=1)  # and Fedor
    got = reports.level_distribution(world.viewers["admin"], Filters(until=d(5, 20)), COMPETENCIES)
    assert got["client-understanding"] == zeros(L0=6, L2=1)  # Anna's level 3 came on 28 May
    assert got["ownership"] == zeros(L0=6, L1=1)
    assert got["co-design"] == zeros(L0=7)
    got = reports.level_distribution(world.viewers["m_sales"], Filters(), COMPETENCIES)
    assert got["client-understanding"] == zeros(L0=1, L2=1, L3=1)
    assert got["ownership"] == zeros(L0=2, L1=1)
    assert got["co-design"] == zeros(L0=3)


def test_current_levels_are_the_newest(world):
    admin = world.viewers["admin"]
    rows = db.session.execute(reports.current_levels(admin, Filters())).all()
    assert sorted((u, c, lvl) for u, c, lvl in rows) == sorted(
        [
            (world.id("anna"), "client-understanding", 3),
            (world.id("anna"), "ownership", 1),
            (world.id("galina"), "client-understanding", 4),
            (world.id("boris"), "client-understanding", 2),
            (world.id("elena"), "co-design", 3),
        ]
    )


# --- Goals needing action and who is behind -----------------------------------------------------


def goal_lists(viewer: User, filters: Filters | None = None) -> tuple[list, list, list]:
    got = reports.goals_needing_action(viewer, filters or Filters(), TODAY)
    return (
        [g.id for g in got.to_approve],
        [g.id for g in got.overdue],
        [(g.id, last) for g, last in got.no_check_in],
    )


def test_goals_needing_action(world):
    g = {key: goal.id for key, goal in world.goals.items()}
    assert goal_lists(world.viewers["admin"]) == (
        [g["to_approve"]],
        [g["overdue"]],
        [(g["quiet"], at(5, 1))],  # last check-in on 1 May; the limit is 19 May
    )
    got = reports.goals_needing_action(world.viewers["admin"], Filters(), TODAY)
    assert got.total == 3
    # Deactivated people's goals only with the inactive filter (ordered by due date).
    assert goal_lists(world.viewers["admin"], Filters(inactive=True))[0] == [
        g["deactivated"],
        g["to_approve"],
    ]
    assert goal_lists(world.viewers["m_sales"]) == ([g["to_approve"]], [], [])
    assert goal_lists(world.viewers["m_support"]) == ([], [g["overdue"]], [])
    assert goal_lists(world.viewers["m_field"]) == ([], [], [(g["quiet"], at(5, 1))])
    assert goal_lists(world.viewers["hr_north"]) == ([g["to_approve"]], [g["overdue"]], [])


def test_long_goal_lists_show_the_first_page_and_the_whole_count(world):
    owner = world.goals["to_approve"].user
    for day in range(1, 56):  # 55 more waiting for approval, due one a day from June
        add_goal(owner, GoalState.SUBMITTED, date(2026, 6, 1) + timedelta(days=day), at(5, 1))
    db.session.commit()
    got = reports.goals_needing_action(world.viewers["admin"], Filters(), TODAY)
    assert got.to_approve_total == 56
    assert len(got.to_approve) == reports.PAGE_SIZE
    assert [goal.due_on for goal in got.to_approve] == sorted(g.due_on for g in got.to_approve)
    assert got.total == 58


def behind(viewer: User, filters: Filters | None = None) -> list[tuple]:
    return [
        (b.user.full_name, b.team.name, b.modules_complete, b.last_activity, b.last_reminded)
        for b in reports.who_is_behind(viewer, filters or Filters(), TODAY, 7)
    ]


@pytest.mark.parametrize("limit", [1, 2, 50])
def test_the_dashboards_behind_page_is_the_list_and_its_count_in_one_query(world, limit):
    for viewer in world.viewers.values():
        page, total = reports.behind_page(viewer, Filters(), TODAY, 7, limit)
        assert [b.user.id for b in page] == [
            b.user.id for b in reports.who_is_behind(viewer, Filters(), TODAY, 7, limit=limit)
        ]
        assert total == reports.count_behind(viewer, Filters(), TODAY, 7)


def test_who_is_behind(world):
    # Not Anna (finished), Boris (active on 12 June), Elena (16 June), Hugo (exactly 14 days
    # ago), Fedor (deactivated); never started first, then the longest quiet.
    expected = [
        ("Clara Cole", "Sales", 0, None, None),
        ("Dmitry Dahl", "Support", 0, at(5, 12), at(6, 17, 12)),
        ("Galina Gray", "Field", 1, at(6, 3, 8), None),
    ]
    assert behind(world.viewers["admin"]) == expected
    assert behind(world.viewers["admin"], Filters(inactive=True)) == expected
    assert behind(world.viewers["m_sales"]) == [expected[0]]
    assert behind(world.viewers["m_support"]) == [expected[1]]
    assert behind(world.viewers["m_field"]) == [expected[2]]
    assert behind(world.viewers["hr_north"]) == expected[:2]
    # A day later Hugo's fourteen days have passed.
    later = reports.who_is_behind(world.viewers["m_field"], Filters(), d(6, 19), 7)
    assert [b.user.full_name for b in later] == ["Galina Gray", "Hugo Hart"]


def test_the_dashboard_puts_it_together(world):
    dash = reports.dashboard(world.viewers["m_sales"], Filters(), COMPETENCIES, TODAY)
    assert dash.period == Period(d(3, 27), d(6, 18))
    assert dash.completed_in_period == 8  # Anna's seven and Boris's first
    assert [row.user.full_name for row in dash.people.rows] == [
        "Anna Abel",
        "Boris Bell",
        "Clara Cole",
    ]
    assert (dash.people.page, dash.people.pages, dash.people.total) == (1, 1, 3)
    boris = dash.people.rows[1]
    assert boris.complete_count == 1
    assert boris.levels == {"client-understanding": 2}
    assert {slug: rec.status for slug, rec in boris.modules.items()} == {
        M1: COMPLETE,
        M2: IN_PROGRESS,
        M3: IN_PROGRESS,
    } | dict.fromkeys((M4, M5, M6, M7), NOT_STARTED)
    assert dash.people.rows[0].levels == {"client-understanding": 3, "ownership": 1}
    assert dash.people.rows[0].complete_count == 7
    assert [b.user.full_name for b in dash.behind] == ["Clara Cole"]
    assert dash.goals.total == 1


# --- Scope: whom each viewer sees ---------------------------------------------------------------


SCOPES = {
    "m_sales": ("anna", "boris", "clara"),
    "m_support": ("dmitry", "elena"),
    "m_field": ("galina", "hugo"),
    "hr_north": ("anna", "boris", "clara", "dmitry", "elena"),
    "hr_all": ("anna", "boris", "clara", "dmitry", "elena", "galina", "hugo"),
    "admin": ("anna", "boris", "clara", "dmitry", "elena", "galina", "hugo"),
}


@pytest.mark.parametrize("viewer", list(SCOPES))
def test_each_viewer_sees_only_their_scope_in_every_report(world, viewer):
    who = world.viewers[viewer]
    expected = ids(world, *SCOPES[viewer])
    assert {row.user_id for row in reports.completion_rows(who, Filters())} == expected
    page = reports.people_page(who, Filters())
    assert {row.user.id for row in page.rows} == expected
    assert page.total == len(expected)
    assert {s.people for s in reports.module_summaries(who, Filters())} == {len(expected)}
    levels = reports.level_distribution(who, Filters(), COMPETENCIES)
    assert {sum(counts.values()) for counts in levels.values()} == {len(expected)}
    assert {b.user.id for b in reports.who_is_behind(who, Filters(), TODAY, 7)} <= expected
    goals = reports.goals_needing_action(who, Filters(), TODAY)
    owners = {g.user_id for g in goals.to_approve + goals.overdue}
    owners |= {g.user_id for g, _last in goals.no_check_in}
    assert owners <= expected
    level_rows = db.session.execute(reports.current_levels(who, Filters())).all()
    assert {user_id for user_id, _c, _l in level_rows} <= expected


def test_filters_never_widen_a_scope(world):
    """A manager asking for another team, regional HR for another region: nobody."""
    field_team = world.teams["field"]
    cases = [
        (world.viewers["m_sales"], Filters(team=field_team.id)),
        (world.viewers["m_sales"], Filters(region=field_team.centre.region.id)),
        (world.viewers["hr_north"], Filters(region=field_team.centre.region.id)),
        (world.viewers["hr_north"], Filters(centre=field_team.centre.id)),
        (world.viewers["hr_north"], Filters(team=field_team.id)),
    ]
    period = Period(d(5, 1), d(6, 18))
    for viewer, filters in cases:
        assert list(reports.completion_rows(viewer, filters)) == []
        assert reports.people_page(viewer, filters).total == 0
        assert {s.people for s in reports.module_summaries(viewer, filters)} == {0}
        assert sum(b.count for b in reports.completions_over_time(viewer, filters, period)) == 0
        assert reports.who_is_behind(viewer, filters, TODAY, 7) == []
        assert reports.goals_needing_action(viewer, filters, TODAY).total == 0
        levels = reports.level_distribution(viewer, filters, COMPETENCIES)
        assert {sum(counts.values()) for counts in levels.values()} == {0}


def test_an_employee_sees_nobody(world):
    anna = world.people["anna"]
    assert list(reports.completion_rows(anna, Filters())) == []
    assert reports.people_page(anna, Filters()).total == 0
    assert reports.who_is_behind(anna, Filters(), TODAY, 7) == []


# --- Pages --------------------------------------------------------------------------------------


@pytest.fixture
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> date:
    monkeypatch.setattr(reports, "today", lambda: TODAY)
    return TODAY


def page(client: FlaskClient, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, path
    return response.get_data(as_text=True)


COUNTS_ROW = re.compile(
    r'<tr><th scope="row">([^<]+)</th>\s*<td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>\s*'
    r"<td>(\d+) %</td><td>([^<]+)</td></tr>"
)
LEVELS_ROW = re.compile(r'<tr><th scope="row">([^<]+)</th>((?:<td>\d+</td>){5})</tr>')


def counts_table(html: str) -> dict[str, tuple[str, ...]]:
    return {title: tuple(rest) for title, *rest in COUNTS_ROW.findall(html)}


def levels_table(html: str) -> dict[str, list[int]]:
    return {
        title: [int(n) for n in re.findall(r"\d+", cells)]
        for title, cells in LEVELS_ROW.findall(html)
    }


def matrix_row(html: str, person: User) -> list[str]:
    """The person's cells in the people x modules matrix: "✓ 70", "◐", "—", then "done"."""
    matrix = html[html.index('id="matrix"') : html.index('id="heatmap"')]
    start = matrix.index(f'<a href="/people/{person.id}">{person.full_name}</a>')
    row = matrix[start : matrix.index("</tr>", start)]
    cells = []
    for kind, content in re.findall(r'<td class="cell-(\w+)">(.*?)</td>', row, re.S):
        if kind == "complete":
            cells.append(("✓ " + re.search(r"✓</span> (\d*)", content).group(1)).strip())
        else:
            cells.append({"progress": "◐", "none": "—"}[kind])
    cells.append(re.findall(r"<td>(\d+ / \d+)</td>", row)[-1])
    return cells


def names_in(html: str, world: World) -> set[str]:
    return {key for key, person in world.people.items() if person.full_name in html}


def test_manager_team_page_shows_their_people_and_numbers(world, fixed_today, client, auth):
    auth.login("m_sales@example.test")
    html = page(client, "/team")
    assert names_in(html, world) == {"anna", "boris", "clara"}
    for key in ("anna", "boris", "clara"):
        assert f'href="/people/{world.id(key)}"' in html
    assert counts_table(html)[M1_TITLE] == ("2", "0", "1", "67", "80")
    assert counts_table(html)[M2_TITLE] == ("1", "1", "1", "33", "80")
    assert matrix_row(html, world.people["boris"]) == [
        "✓ 70",
        "◐",
        "◐",
        "—",
        "—",
        "—",
        "—",
        "1 / 7",
    ]
    assert matrix_row(html, world.people["anna"]) == [
        "✓ 90",
        "✓ 80",
        "✓ 100",
        "✓",  # completed without a score
        "✓ 75",
        "✓ 88",
        "✓ 92",
        "7 / 7",
    ]
    assert levels_table(html)[UNDERSTANDING] == [0, 1, 1, 0, 1]  # levels 4, 3, 2, 1, none
    # Three charts drawn as SVG, each with its table of numbers.
    assert html.count('<svg class="chart-svg"') == 3
    assert html.count('<table class="data-table numbers">') == 3
    # Who is behind: Clara, never started, with a reminder button.
    behind_section = html[html.index('id="behind-title"') : html.index('id="goals-action-title"')]
    assert "Clara Cole" in behind_section
    assert "never started" in behind_section
    assert f'action="/team/people/{world.id("clara")}/remind"' in behind_section
    assert "Boris Bell" not in behind_section
    # Goals: Boris's goal waits for approval.
    assert f'href="/goals/{world.goals["to_approve"].id}"' in html
    assert f'href="/goals/{world.goals["quiet"].id}"' not in html
    # The manager's teams, linked to their pages; no other team.
    assert f'href="/team/{world.teams["sales"].id}"' in html
    assert f'href="/team/{world.teams["support"].id}"' not in html


def test_the_period_counts_on_the_team_page(world, fixed_today, client, auth):
    auth.login("m_sales@example.test")
    html = page(client, "/team?since=2025-05-01&until=2025-06-18")
    assert re.search(r"<strong>8</strong><br>modules completed", html)
    assert "<tr><td>May 5, 2025</td><td>May 11, 2025</td><td>2</td></tr>" in html
    assert "<tr><td>June 2, 2025</td><td>June 8, 2025</td><td>1</td></tr>" in html
    # As at 1 June, Boris had not completed module 1.
    html = page(client, "/team?until=2025-06-01")
    assert matrix_row(html, world.people["boris"])[0] == "◐"
    assert counts_table(html)[M1_TITLE] == ("1", "1", "1", "33", "90")


def test_manager_team_filter_and_team_pages(world, fixed_today, client, auth):
    auth.login("m_sales@example.test")
    sales, support, field_team = (world.teams[k].id for k in ("sales", "support", "field"))
    html = page(client, f"/team?team={sales}")
    assert names_in(html, world) == {"anna", "boris", "clara"}
    for other in (support, field_team):
        html = page(client, f"/team?team={other}")
        assert names_in(html, world) == set()
        assert "Nobody here yet." in html
        assert counts_table(html)[M1_TITLE] == ("0", "0", "0", "0", "—")
    html = page(client, f"/team/{sales}")
    assert names_in(html, world) == {"anna", "boris", "clara"}
    assert "Maria Sales" in html  # the team's manager
    # The detail page stays on its own team, whatever the query says.
    assert names_in(page(client, f"/team/{sales}?team={support}"), world) == {
        "anna",
        "boris",
        "clara",
    }
    page(client, f"/team/{support}", 403)
    page(client, f"/team/{field_team}", 403)
    page(client, "/team/999999", 404)
    page(client, "/hr", 403)


def test_regional_hr_sees_only_their_region(world, fixed_today, client, auth):
    auth.login("hr_north@example.test")
    north_people = {"anna", "boris", "clara", "dmitry", "elena"}
    html = page(client, "/hr")
    assert names_in(html, world) == north_people
    assert "Field" not in html
    assert "South" not in html
    assert counts_table(html)[M1_TITLE] == ("3", "1", "1", "60", "85")
    south = world.teams["field"].centre.region.id
    html = page(client, f"/hr?region={south}")
    assert names_in(html, world) == set()
    html = page(client, f"/hr?team={world.teams['field'].id}")
    assert names_in(html, world) == set()
    html = page(client, f"/hr?team={world.teams['support'].id}")
    assert names_in(html, world) == {"dmitry", "elena"}
    # /team too: their region's teams, not the others.
    html = page(client, "/team")
    assert names_in(html, world) == north_people
    page(client, f"/team/{world.teams['field'].id}", 403)
    page(client, f"/team/{world.teams['support'].id}")


def test_hr_page_with_filters_for_an_admin(world, fixed_today, client, auth):
    auth.login("admin@example.test")
    html = page(client, "/hr")
    assert names_in(html, world) == set(world.people) - {"fedor"}
    table = counts_table(html)
    assert table[M1_TITLE] == ("4", "2", "1", "57", "85")
    assert table[M2_TITLE] == ("1", "2", "4", "14", "80")
    assert levels_table(html)[UNDERSTANDING] == [1, 1, 1, 0, 4]
    assert html.count('<svg class="chart-svg"') == 3
    assert "Fedor Fox" not in html
    html = page(client, "/hr?inactive=1")
    assert "Fedor Fox" in html
    assert "(deactivated)" in html
    assert counts_table(html)[M1_TITLE][:3] == ("5", "2", "1")  # Fedor joins
    assert counts_table(html)[M1_TITLE][4] == "80"
    html = page(client, f"/hr?module={M2}")
    assert list(counts_table(html)) == [M2_TITLE]
    html = page(client, f"/hr?centre={world.teams['field'].centre.id}")
    assert names_in(html, world) == {"galina", "hugo"}
    html = page(client, "/hr?until=2025-06-15")
    assert counts_table(html)[M1_TITLE][:3] == ("3", "3", "1")
    # The export links carry the filters.
    html = page(client, f"/hr?module={M2}&until=2025-06-15")
    assert f'href="/hr/exports/completions.xlsx?module={M2}&amp;until=2025-06-15"' in html
    csv_links = re.findall(r'href="(/hr/exports/completions\.csv\?[^"]*)"', html)
    assert csv_links
    for link in csv_links:
        assert f"module={M2}" in link
        assert "until=2025-06-15" in link


def test_global_hr_sees_everyone(world, fixed_today, client, auth):
    auth.login("hr_all@example.test")
    assert names_in(page(client, "/hr"), world) == set(world.people) - {"fedor"}


@pytest.mark.parametrize(
    "path",
    [
        "/team?since=notadate",
        "/team?until=2025-13-01",
        "/team?team=abc",
        "/team?since=2025-06-10&until=2025-06-01",
        "/team/{team}?since=yesterday",
        "/hr?since=notadate",
        "/hr?region=abc",
        "/hr?centre=1;2",
        "/hr?team=-3",
        "/hr?since=2025-06-10&until=2025-06-01",
    ],
)
def test_bad_filters_are_a_400(world, client, auth, path):
    auth.login("admin@example.test")
    page(client, path.format(team=world.teams["sales"].id), 400)


@pytest.mark.parametrize(
    "query",
    ["region=%C2%B2", "team=99999999999999999999", "centre=9223372036854775808"],
)
def test_numbers_that_are_no_ids_are_bad_filters(world, client, auth, query):
    auth.login("admin@example.test")
    page(client, f"/hr?{query}", 400)


@pytest.mark.parametrize("query", ["until=9999-12-31", "until=0001-01-05"])
def test_the_ends_of_the_calendar_are_no_server_error(world, client, auth, query):
    auth.login("admin@example.test")
    response = client.get(f"/hr?{query}")
    assert response.status_code in (200, 400)


def test_a_page_that_is_no_number_shows_the_first(world, fixed_today, client, auth):
    auth.login("m_sales@example.test")
    assert "Anna Abel" in page(client, "/team?page=%C2%B2")


def test_a_team_id_beyond_any_id_is_a_404(world, client, auth):
    auth.login("admin@example.test")
    page(client, "/team/99999999999999999999", 404)


def test_who_may_open_the_dashboards(world, client, auth):
    sales = world.teams["sales"].id
    for path in ("/team", f"/team/{sales}", "/hr"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    auth.login("anna@example.test")
    for path in ("/team", f"/team/{sales}", "/hr"):
        page(client, path, 403)


def test_pages_render_in_russian(world, fixed_today, client, auth):
    admin = world.viewers["admin"]
    admin.locale = "ru"
    db.session.commit()
    auth.login("admin@example.test")
    html = page(client, "/hr")
    assert "Клиентоцентричность в службе занятости" in html  # module 1's Russian title
    assert counts_table(html)["Клиентоцентричность в службе занятости"] == (
        "4",
        "2",
        "1",
        "57",
        "85",
    )
    assert page(client, "/team").count('<svg class="chart-svg"') == 3


# --- Pagination ---------------------------------------------------------------------------------


@pytest.fixture
def crowd(published: None, make: Factory) -> tuple[Team, list[User]]:
    team = make.team("Crowd", centre="Big", region="East")
    people = [
        User(
            email=f"crowd{n:02d}@example.test",
            full_name=f"Crowd Member {n:02d}",
            team=team,
            password_hash=PASSWORD_HASH,
        )
        for n in range(1, 56)
    ]
    db.session.add_all(people)
    db.session.commit()
    make.user("crowd_boss@example.test", roles=(Role.MANAGER,), manages=(team,), locale="en")
    make.user("crowd_hr@example.test", roles=(Role.HR,), hr_region=team.centre.region, locale="en")
    return team, people


def matrix(html: str) -> str:
    return html[html.index('id="matrix"') : html.index('id="heatmap"')]


def test_more_than_fifty_people_are_paged(crowd, fixed_today, client, auth):
    _team, people = crowd
    auth.login("crowd_boss@example.test")
    html = page(client, "/team")
    assert re.search(r"<strong>55</strong><br>people", html)
    assert "Crowd Member 50" in matrix(html)
    assert "Crowd Member 51" not in matrix(html)
    assert "Page 1 of 2" in html
    assert 'href="/team?page=2#matrix" rel="next"' in html
    html = page(client, "/team?page=2")
    assert "Crowd Member 51" in matrix(html)
    assert "Crowd Member 55" in matrix(html)
    assert "Crowd Member 50" not in matrix(html)
    assert f'href="/people/{people[54].id}"' in matrix(html)
    assert 'href="/team?page=1#matrix" rel="prev"' in html
    assert 'rel="next"' not in html
    # Past the end, and nonsense, show a page that exists.
    assert "Crowd Member 55" in matrix(page(client, "/team?page=9"))
    assert "Crowd Member 01" in matrix(page(client, "/team?page=x"))


def test_hr_pages_keep_their_filters(crowd, fixed_today, client, auth):
    team, _people = crowd
    auth.login("crowd_hr@example.test")
    region = team.centre.region.id
    html = page(client, f"/hr?region={region}&inactive=1")
    assert f'href="/hr?region={region}&amp;inactive=1&amp;page=2#matrix"' in html
    html = page(client, f"/hr?region={region}&inactive=1&page=2")
    assert "Crowd Member 55" in matrix(html)
    assert "Crowd Member 01" not in matrix(html)


# --- Reminders ----------------------------------------------------------------------------------


@dataclass
class Office:
    team: Team
    manager: User
    person: User
    colleague: User
    gone: User
    other_manager: User
    hr: User
    other_hr: User


@pytest.fixture
def office(published: None, make: Factory) -> Office:
    team = make.team("Desk", centre="Main", region="West")
    other = make.team("Elsewhere", centre="Far", region="Faraway")
    manager = make.user(
        "boss@example.test", roles=(Role.MANAGER,), team=team, manages=(team,), locale="en"
    )
    name(manager, "Bella Boss")
    person = name(make.user("pat@example.test", team=team, locale="en"), "Pat Late")
    colleague = make.user("col@example.test", team=team, locale="en")
    gone = name(make.user("gone@example.test", team=team, active=False), "Gus Gone")
    other_manager = make.user(
        "other@example.test", roles=(Role.MANAGER,), manages=(other,), locale="en"
    )
    hr = make.user("hr@example.test", roles=(Role.HR,), hr_region=team.centre.region, locale="en")
    other_hr = make.user(
        "far_hr@example.test", roles=(Role.HR,), hr_region=other.centre.region, locale="en"
    )
    db.session.commit()
    return Office(team, manager, person, colleague, gone, other_manager, hr, other_hr)


def remind(client: FlaskClient, person: User, next_path: str = "/team", **extra: str):
    data = {"csrf_token": csrf_token(client, "/me"), "next": next_path, **extra}
    return client.post(f"/team/people/{person.id}/remind", data=data)


def reminders_of(person: User) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(
                Notification.user_id == person.id, Notification.kind == NotificationKind.REMINDER
            )
        )
    )


def test_a_manager_reminds_their_person(office, client, auth):
    auth.login("boss@example.test")
    back = f"/team?team={office.team.id}"
    response = remind(client, office.person, back)
    assert response.status_code == 302
    assert response.headers["Location"] == back
    assert "A reminder was sent to Pat Late in the app." in page(client, back)
    [notification] = reminders_of(office.person)
    assert notification.kind == NotificationKind.REMINDER
    assert notification.actor_id == office.manager.id
    assert notification.params == {"modules_left": "7"}
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "reminder.send"))
    assert event.actor_id == office.manager.id
    assert event.details == {"person_id": office.person.id}
    # The person sees it.
    auth.logout()
    auth.login("pat@example.test")
    html = page(client, "/me/notifications")
    assert "Bella Boss reminds you about the course: 7 module(s) left to complete." in html


def test_modules_left_counts_completions(office, client, auth):
    r = Recorder()
    r.complete(office.person, M1, at(6, 1), 90, 1)
    r.complete(office.person, M2, at(6, 2), 80, 1)
    db.session.commit()
    auth.login("boss@example.test")
    assert remind(client, office.person).status_code == 302
    assert reminders_of(office.person)[0].params == {"modules_left": "5"}


def test_one_reminder_a_day_whoever_sends_it(office, client, auth):
    auth.login("boss@example.test")
    assert remind(client, office.person).status_code == 302
    response = remind(client, office.person, "/team")
    assert response.status_code == 302
    assert response.headers["Location"] == "/team"
    assert "Pat Late was already reminded in the last 24 hours." in page(client, "/team")
    auth.logout()
    auth.login("hr@example.test")
    assert remind(client, office.person).status_code == 302
    assert len(reminders_of(office.person)) == 1
    assert (
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "reminder.send")
        )
        == 1
    )


@pytest.mark.parametrize(("hours_ago", "reminders"), [(23, 1), (25, 2)])
def test_a_day_after_a_reminder_another_is_allowed(office, client, auth, hours_ago, reminders):
    old = Notification(
        user_id=office.person.id,
        kind=NotificationKind.REMINDER,
        actor_id=office.manager.id,
        params={"modules_left": "7"},
        created_at=datetime.now(UTC) - timedelta(hours=hours_ago),
    )
    db.session.add(old)
    db.session.commit()
    auth.login("boss@example.test")
    assert remind(client, office.person).status_code == 302
    assert len(reminders_of(office.person)) == reminders


@pytest.mark.parametrize(
    ("sender", "whom", "status"),
    [
        ("other@example.test", "person", 403),  # manager of another team
        ("far_hr@example.test", "person", 403),  # HR of another region
        ("col@example.test", "person", 403),  # an employee, even a colleague
        ("boss@example.test", "manager", 403),  # oneself
        ("boss@example.test", "gone", 403),  # someone deactivated
    ],
)
def test_reminders_that_are_refused(office, client, auth, sender, whom, status):
    auth.login(sender)
    target = getattr(office, whom)
    assert remind(client, target).status_code == status
    assert reminders_of(target) == []
    assert (
        db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action != "login"))
        == 0
    )


def test_hr_and_admin_may_remind_within_their_scope(office, client, auth, make):
    auth.login("hr@example.test")
    assert remind(client, office.person).status_code == 302
    assert len(reminders_of(office.person)) == 1
    auth.logout()
    make.user("root@example.test", roles=(Role.ADMIN,), locale="en")
    auth.login("root@example.test")
    assert remind(client, office.colleague).status_code == 302
    assert len(reminders_of(office.colleague)) == 1


def test_reminding_nobody_is_a_404(office, client, auth):
    auth.login("boss@example.test")
    assert remind(client, SimpleNamespace(id=999999)).status_code == 404


def test_a_reminder_needs_csrf_and_a_post(office, client, auth):
    auth.login("boss@example.test")
    response = client.post(f"/team/people/{office.person.id}/remind", data={"next": "/team"})
    assert response.status_code == 400
    assert client.get(f"/team/people/{office.person.id}/remind").status_code == 405
    assert reminders_of(office.person) == []


def test_anonymous_cannot_remind(office, client):
    token = csrf_token(client, "/login")
    response = client.post(
        f"/team/people/{office.person.id}/remind", data={"csrf_token": token, "next": "/team"}
    )
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]
    assert reminders_of(office.person) == []


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "/\t/evil.example",
        "\t//evil.example",
        "javascript:alert(1)",
        "",
    ],
)
def test_an_outside_next_is_not_followed(office, client, auth, target):
    auth.login("boss@example.test")
    response = remind(client, office.person, target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/team"


def test_the_behind_list_shows_the_reminder(office, fixed_today, client, auth):
    auth.login("boss@example.test")
    html = page(client, "/team")
    assert f'action="/team/people/{office.person.id}/remind"' in html
    assert 'name="next" value="/team?"' in html
    # No button for oneself; deactivated people are not listed.
    assert f'action="/team/people/{office.manager.id}/remind"' not in html
    assert "Gus Gone" not in html
    remind(client, office.person)
    assert 'class="meta">reminded ' in page(client, "/team")


def test_names_are_escaped(office, fixed_today, client, auth):
    office.person.full_name = '<script>alert("x")</script>'
    office.manager.full_name = "<b>Bella</b>"
    db.session.commit()
    auth.login("boss@example.test")
    html = page(client, "/team")
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html
    remind(client, office.person)
    html = page(client, "/team")
    assert "<script>alert" not in html
    assert "A reminder was sent to &lt;script&gt;" in html
    auth.logout()
    auth.login("pat@example.test")
    html = page(client, "/me/notifications")
    assert "<b>Bella</b>" not in html
    assert "&lt;b&gt;Bella&lt;/b&gt; reminds you" in html


def test_without_mail_server_no_email_is_sent(office, smtp, client, auth):
    auth.login("boss@example.test")
    assert remind(client, office.person).status_code == 302
    assert smtp.instances == []
    html = page(client, "/team")
    assert "A reminder was sent to Pat Late in the app." in html
    assert "by e-mail" not in html


def translated(locale: str, message: str) -> str:
    return PoDomain()._catalogs[locale].gettext(message)


class TestWithMailServer:
    @pytest.fixture
    def app_config(self, app_config: dict[str, Any]) -> dict[str, Any]:
        return {
            **app_config,
            "MAIL_SERVER": "smtp.example.test",
            "MAIL_PORT": 587,
            "MAIL_USE_TLS": True,
            "MAIL_USERNAME": "academy",
            "MAIL_PASSWORD": "mail-secret",
            "MAIL_FROM": "academy@example.test",
        }

    def test_the_person_gets_an_email_in_their_language(self, office, smtp, client, auth):
        auth.login("boss@example.test")
        assert remind(client, office.person).status_code == 302
        [connection] = smtp.instances
        assert (connection.host, connection.port, connection.tls) == (
            "smtp.example.test",
            587,
            True,
        )
        assert connection.credentials == ("academy", "mail-secret")
        [message] = connection.messages
        assert message["To"] == "pat@example.test"
        assert message["From"] == "academy@example.test"
        assert message["Subject"] == SUBJECT_EN
        body = message.get_content()
        assert "Pat Late" in body
        assert "Bella Boss" in body
        assert "7 module(s)" in body
        assert "http://localhost/me" in body
        assert "A reminder was sent to Pat Late in the app and by e-mail." in page(client, "/team")
        assert len(reminders_of(office.person)) == 1

    def test_the_email_is_plain_text(self, office, smtp, client, auth):
        office.person.full_name = "Pat O'Late & Sons"
        db.session.commit()
        auth.login("boss@example.test")
        remind(client, office.person)
        [message] = smtp.instances[0].messages
        assert message.get_content_type() == "text/plain"
        assert "Pat O'Late & Sons" in message.get_content()

    def test_a_russian_speaker_gets_it_in_russian(self, office, smtp, client, auth):
        office.person.locale = "ru"
        db.session.commit()
        auth.login("boss@example.test")  # the sender reads English
        remind(client, office.person)
        [message] = smtp.instances[0].messages
        assert message["Subject"] == translated("ru", SUBJECT_EN)
        assert "http://localhost/me" in message.get_content()

    def test_no_email_when_the_reminder_is_refused(self, office, smtp, client, auth):
        auth.login("boss@example.test")
        remind(client, office.person)
        remind(client, office.person)
        assert len(smtp.instances) == 1
        auth.logout()
        auth.login("other@example.test")
        remind(client, office.person)
        assert len(smtp.instances) == 1

    def test_a_mail_failure_keeps_the_reminder_in_the_app(self, office, smtp, client, auth):
        smtp.fail = True
        auth.login("boss@example.test")
        response = remind(client, office.person, "/team")
        assert response.status_code == 302
        assert response.headers["Location"] == "/team"
        html = page(client, "/team")
        assert "A reminder was sent to Pat Late in the app." in html
        assert "by e-mail" not in html
        assert len(reminders_of(office.person)) == 1
        assert (
            db.session.scalar(
                select(func.count(AuditEvent.id)).where(AuditEvent.action == "reminder.send")
            )
            == 1
        )


def test_database_is_untouched_by_reading(world):
    """The reports only read: nothing is left pending in the session."""
    reports.dashboard(world.viewers["admin"], Filters(inactive=True), COMPETENCIES, TODAY)
    assert not db.session.new
    assert not db.session.dirty
    assert not db.session.deleted


def test_centre_and_team_choices_come_one_region_at_a_time(published, make, client, auth):
    north = make.team("Desk N", centre="North centre", region="North")
    south = make.team("Desk S", centre="South centre", region="South")
    make.user("admin@example.test", roles=(Role.ADMIN,), locale="en")
    make.user("hr@example.test", roles=(Role.HR,), hr_region=north.centre.region, locale="en")
    auth.login("admin@example.test")
    country = page(client, "/hr")
    assert "North centre" not in country
    assert "Desk S" not in country
    assert "choose the region first" in country
    region = page(client, f"/hr?region={south.centre.region.id}")
    assert f'<option value="{south.centre.id}"' in region
    assert f'<option value="{south.id}"' in region
    assert "North centre" not in region
    assert "choose the region first" not in region
    by_centre = page(client, f"/hr?centre={north.centre.id}")
    assert f'<option value="{north.centre.id}" selected' in by_centre
    auth.logout()
    auth.login("hr@example.test")
    own = page(client, "/hr")
    assert f'<option value="{north.id}"' in own
    assert "South centre" not in own
