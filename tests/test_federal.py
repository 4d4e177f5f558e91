"""``lms demo --scale federal``: the organisation's shape, records that obey the same rules as
the services that write them one click at a time, accounts that sign in, and a second run
that changes nothing. Built small here (the shape scales with ``--people``)."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest
from sqlalchemy import func, select, union_all

from lms.content import get_course
from lms.extensions import db
from lms.models import (
    Badge,
    BadgeKind,
    Certificate,
    CompetencyEvidence,
    CompetencyLevel,
    CourseModule,
    Goal,
    GoalEvent,
    ModuleCompletion,
    ModuleStart,
    QuizAttempt,
    Region,
    Role,
    SectionRead,
    TaskCompletion,
    Team,
    User,
    team_managers,
)
from lms.services import federal
from lms.services.competencies import Evidence, level_from
from lms.services.demo import create_demo_organisation
from lms.services.progress import required_tasks, section_ids
from lms.services.reports import as_utc
from tests.conftest import CSRF_PATTERN

PEOPLE = 400


@pytest.fixture
def built(app, published):
    create_demo_organisation()
    db.session.commit()
    steps = []
    summary = federal.build_federal(PEOPLE, progress=lambda *step: steps.append(step))
    assert summary.built
    return summary, steps


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_the_shape_of_the_organisation(built):
    summary, steps = built
    regions = PEOPLE // (federal.BIG_TEAM * 4)
    assert count(Region) == regions + 1  # and the small demo's own region
    fed = select(User).where(User.email.like("fed.%"))
    people = db.session.scalars(fed).all()
    hr = [user for user in people if user.email.startswith("fed.hr.")]
    assert len(hr) == regions
    assert all(user.has_role(Role.HR) for user in hr)
    assert len(people) == PEOPLE + regions  # the HR people work outside the teams
    assert steps == [("regions", n, regions) for n in range(1, regions + 1)]
    assert summary.rows["users"] == len(people)
    # The first team of each region has 50 people and its manager is fed.manager.RR.
    for number in range(1, regions + 1):
        manager = db.session.scalar(
            select(User).where(User.email == f"fed.manager.{number:02d}@demo.local")
        )
        assert manager is not None
        [team] = manager.managed_teams
        assert len(team.members) == federal.BIG_TEAM
        assert manager in team.members
    # Every team has a manager.
    managed = set(db.session.scalars(select(team_managers.c.team_id)))
    assert managed == set(db.session.scalars(select(Team.id)))


def test_learners_have_not_started(built):
    learners = db.session.scalars(select(User.id).where(User.email.like("fed.learner.%"))).all()
    assert len(learners) == PEOPLE // 25
    for model in (SectionRead, QuizAttempt, ModuleCompletion, CompetencyEvidence, Goal):
        column = model.user_id
        assert not db.session.scalar(select(func.count()).where(column.in_(learners)))


def test_every_completion_is_complete_by_the_rules(built):
    course = get_course()
    modules = {record.id: record for record in db.session.scalars(select(CourseModule))}
    reads = defaultdict(set)
    for user_id, module_id, section in db.session.execute(
        select(SectionRead.user_id, SectionRead.module_id, SectionRead.section_id)
    ):
        reads[user_id, module_id].add(section)
    tasks = defaultdict(set)
    for user_id, module_id, task in db.session.execute(
        select(TaskCompletion.user_id, TaskCompletion.module_id, TaskCompletion.task_id)
    ):
        tasks[user_id, module_id].add(task)
    passed = {
        (user_id, module_id)
        for user_id, module_id in db.session.execute(
            select(QuizAttempt.user_id, QuizAttempt.module_id).where(QuizAttempt.passed)
        )
    }
    completions = db.session.scalars(select(ModuleCompletion)).all()
    assert len(completions) > PEOPLE * 4  # most people have finished most of the course
    for completion in completions:
        module = course.module(modules[completion.module_id].slug)
        key = completion.user_id, completion.module_id
        assert reads[key] == set(section_ids(course, module))
        assert tasks[key] >= required_tasks(module)
        assert key in passed
    # Attempts: numbered from 1 without gaps, one passed at most, none left open.
    numbers = defaultdict(list)
    for user_id, module_id, number, passed_it, state in db.session.execute(
        select(
            QuizAttempt.user_id,
            QuizAttempt.module_id,
            QuizAttempt.number,
            QuizAttempt.passed,
            QuizAttempt.state,
        )
    ):
        numbers[user_id, module_id].append((number, passed_it))
        assert state == "submitted"
    for attempts in numbers.values():
        assert sorted(n for n, _ in attempts) == list(range(1, len(attempts) + 1))
        assert sum(1 for _, ok in attempts if ok) <= 1
    # Certificates and course badges for everyone who finished all seven modules.
    done = Counter(completion.user_id for completion in completions)
    finished = {user_id for user_id, n in done.items() if n == len(course.modules)}
    assert set(db.session.scalars(select(Certificate.user_id))) == finished
    course_badges = select(Badge.user_id).where(Badge.kind == BadgeKind.COURSE_COMPLETED)
    assert set(db.session.scalars(course_badges)) == finished


def test_module_starts_are_what_the_activity_gives(built):
    activity = union_all(
        select(SectionRead.user_id, SectionRead.module_id, SectionRead.read_at.label("at")),
        select(TaskCompletion.user_id, TaskCompletion.module_id, TaskCompletion.completed_at),
        select(QuizAttempt.user_id, QuizAttempt.module_id, QuizAttempt.started_at),
    ).subquery()
    expected = {
        (user_id, module_id): (as_utc(first), as_utc(last))
        for user_id, module_id, first, last in db.session.execute(
            select(
                activity.c.user_id,
                activity.c.module_id,
                func.min(activity.c.at),
                func.max(activity.c.at),
            ).group_by(activity.c.user_id, activity.c.module_id)
        )
    }
    got = {
        (start.user_id, start.module_id): (as_utc(start.started_at), as_utc(start.last_activity_at))
        for start in db.session.scalars(select(ModuleStart))
    }
    assert got == expected
    assert len(got) > PEOPLE * 4


def test_levels_follow_the_evidence_as_the_services_would_set_them(built):
    evidence = defaultdict(list)
    for item in db.session.scalars(select(CompetencyEvidence)):
        evidence[item.user_id, item.competency_id].append(
            Evidence(item.kind, item.level, item.recorded_at)
        )
    history = defaultdict(list)
    for level in db.session.scalars(
        select(CompetencyLevel).order_by(CompetencyLevel.set_at, CompetencyLevel.id)
    ):
        history[level.user_id, level.competency_id].append(level.level)
    assert set(history) == set(evidence)
    for key, items in evidence.items():
        assert history[key][-1] == level_from(items)
        assert all(a != b for a, b in zip(history[key], history[key][1:], strict=False))
    reviewed_high = {key for key, levels in history.items() if max(levels) >= 3}
    level_3_badges = {
        (user_id, subject)
        for user_id, subject in db.session.execute(
            select(Badge.user_id, Badge.subject).where(Badge.kind == BadgeKind.COMPETENCY_LEVEL_3)
        )
    }
    assert level_3_badges == reviewed_high
    assert reviewed_high  # reviews do rate some people at 3 or 4


def test_goals_have_a_history_that_leads_to_their_state(built):
    goals = db.session.scalars(select(Goal)).all()
    assert len(goals) > PEOPLE // 5
    assert len({goal.state for goal in goals}) == 6
    for goal in goals:
        events = db.session.scalars(
            select(GoalEvent).where(GoalEvent.goal_id == goal.id).order_by(GoalEvent.id)
        ).all()
        assert events[0].action == "created"
        assert events[-1].to_state == goal.state
        for before, after in zip(events, events[1:], strict=False):
            assert after.from_state == before.to_state


def test_accounts_sign_in_and_pages_open(built, client):
    for email, path in (
        ("fed.manager.01@demo.local", "/team"),
        ("fed.hr.02@demo.local", "/hr"),
        ("fed.learner.0001@demo.local", "/me"),
        ("fed.person.000010@demo.local", "/me/competencies"),
    ):
        found = CSRF_PATTERN.search(client.get("/login").get_data(as_text=True))
        assert found is not None
        data = {"email": email, "password": "demo", "csrf_token": found.group(1)}
        assert client.post("/login", data=data).status_code == 302
        assert client.get(path).status_code == 200
        client.delete_cookie("session")


def test_a_second_run_changes_nothing(built):
    before = count(User), count(ModuleCompletion)
    again = federal.build_federal(PEOPLE)
    assert not again.built
    assert (count(User), count(ModuleCompletion)) == before


def test_the_command_shows_progress_and_refuses_too_few_people(runner, published):
    result = runner.invoke(args=["demo", "--scale", "federal", "--people", "400"])
    assert result.exit_code == 0, result.output
    assert "regions 2/2 (100 %)" in result.output
    assert "module_completions" in result.output
    again = runner.invoke(args=["demo", "--scale", "federal", "--people", "400"])
    assert "nothing changed" in again.output
    refused = runner.invoke(args=["demo", "--scale", "federal", "--people", "5"])
    assert refused.exit_code == 2
