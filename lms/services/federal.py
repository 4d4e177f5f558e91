"""A federal-size organisation for load tests and benchmarks: ``lms demo --scale federal``.

85 regions, about 2,500 centres and 50,000 people, with what a year and a half of the course
leaves behind: sections read, memos downloaded, quiz attempts (about 500,000), module
completions (about 300,000) with their badges and competency evidence, certificates,
individual goals with their history and check-ins, managers' reviews and thanks.

The rows follow the same rules as the services that write them one click at a time (a
completion has every required task, a passed quiz is level-1 evidence for each competency of
its module, a review's rating sets the level, level 3 earns a badge), but they are written in
bulk, region by region, with ids given here, because the services would take hours. Nothing
is sent: no notifications, no e-mail.

Every account's password is the demo's (``demo``). Accounts that load tests rely on:

- ``fed.hr.RR@demo.local``: HR of region RR (01 to 85);
- ``fed.manager.RR@demo.local``: manager of the first team of region RR, which has 50 people;
- ``fed.learner.NNNN@demo.local``: people who have not started the course (up to 2,000);
- everyone else is ``fed.person.NNNNNN@demo.local`` or, for other team managers,
  ``fed.lead.NNNNN@demo.local``.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, column, func, insert, select, table, text
from werkzeug.security import generate_password_hash

from lms.content import get_course
from lms.content.loader import Course, Module
from lms.extensions import db
from lms.models import (
    Badge,
    BadgeKind,
    Centre,
    Certificate,
    CheckIn,
    CompetencyEvidence,
    CompetencyLevel,
    CompetencyReview,
    CourseModule,
    DevelopmentAction,
    EvidenceKind,
    Goal,
    GoalCompetency,
    GoalEvent,
    GoalState,
    MemoDownload,
    ModuleCompletion,
    ModuleStart,
    OrgGoal,
    QuizAttempt,
    Recognition,
    Region,
    Role,
    RoleAssignment,
    SectionRead,
    TaskCompletion,
    Team,
    User,
    team_managers,
)
from lms.models.quiz import AttemptState
from lms.services.certificates import new_code
from lms.services.competencies import BADGE_LEVEL, QUIZ_LEVEL, Evidence, level_from
from lms.services.demo import DEMO_PASSWORD
from lms.services.progress import required_tasks, section_ids

PEOPLE = 50_000
REGIONS = 85
PEOPLE_PER_CENTRE = 20
TEAMS_PER_CENTRE = 2
BIG_TEAM = 50
LEARNERS = 2_000
DOMAIN = "demo.local"
MARKER = f"fed.hr.01@{DOMAIN}"  # present once the federal organisation has been built
BATCH = 5_000

# How many modules a person has completed, and how likely that is: most of the service has
# finished the course, a long tail is part-way, a few have not started.
MODULES_DONE_WEIGHTS = {7: 72, 6: 8, 5: 5, 4: 4, 3: 3, 2: 3, 1: 2, 0: 3}
TRIES_WEIGHTS = {1: 45, 2: 35, 3: 20}
GOAL_SHARE = 0.4
GOAL_STATES = {
    GoalState.DRAFT: 15,
    GoalState.SUBMITTED: 20,
    GoalState.APPROVED: 40,
    GoalState.RETURNED: 5,
    GoalState.ACHIEVED: 15,
    GoalState.NOT_ACHIEVED: 5,
}
REVIEW_SHARE = 0.15
THANKS_SHARE = 0.25

Progress = Callable[[str, int, int], None]


@dataclass
class FederalSummary:
    built: bool
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def already_built() -> bool:
    return db.session.scalar(select(User.id).where(User.email == MARKER)) is not None


def build_federal(
    people: int = PEOPLE, *, progress: Progress | None = None, seed: int = 2026
) -> FederalSummary:
    """Write the organisation and its history; does nothing when it exists already.

    The course must be published (``lms content publish``). Commits region by region, so a
    run that is stopped leaves whole regions behind; run it again on an empty database.
    """
    if already_built():
        return FederalSummary(built=False)
    started = time.perf_counter()
    builder = _Builder(get_course(), people, random.Random(seed))  # noqa: S311  (made-up data)
    report = progress or (lambda stage, done, total: None)
    regions = builder.plan()
    for number, region in enumerate(regions, start=1):
        builder.region(region)
        builder.flush()
        db.session.commit()
        report("regions", number, len(regions))
    builder.finish()
    db.session.commit()
    return FederalSummary(built=True, rows=builder.counts, seconds=time.perf_counter() - started)


@dataclass(frozen=True)
class _Evidence:
    competency: str
    kind: str
    level: int
    at: datetime
    id: int


@dataclass
class _Region:
    number: int
    people: int
    centres: int


class _Builder:
    def __init__(self, course: Course, people: int, rng: random.Random) -> None:
        self.course = course
        self.people = people
        self.rng = rng
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.modules: list[tuple[CourseModule, Module, tuple[str, ...], frozenset[str]]] = []
        for module in course.modules:
            record = db.session.scalar(select(CourseModule).where(CourseModule.slug == module.slug))
            if record is None or record.current_version_id is None:
                raise RuntimeError("publish the course first (lms content publish)")
            self.modules.append(
                (record, module, section_ids(course, module), required_tasks(module))
            )
        self.pass_marks = {
            m.slug: course.quizzes[m.slug].settings.pass_mark for m in course.modules
        }
        self.password = generate_password_hash(DEMO_PASSWORD)
        self.next_id = {table: _next_id(table) for table in _EXPLICIT_IDS}
        self.rows: dict[Any, list[dict[str, Any]]] = {}
        self.counts: dict[str, int] = {}
        self.person_number = 0
        self.lead_number = 0
        self.learner_number = 0
        self.learners_left = min(LEARNERS, people // 25)
        self.learner_every = 1  # set by plan(): spread over the people outside the big teams
        self.ordinary_number = 0
        self.names: dict[int, str] = {}
        self.evidence: list[_Evidence] = []
        self.starts: dict[tuple[int, int], tuple[datetime, datetime]] = {}

    # --- the plan -------------------------------------------------------------------------

    def plan(self) -> list[_Region]:
        regions = max(1, min(REGIONS, round(self.people / (BIG_TEAM * 4))))
        centres = max(regions, round(self.people / PEOPLE_PER_CENTRE))
        plans = []
        for index in range(regions):
            share = self.people // regions + (1 if index < self.people % regions else 0)
            region_centres = centres // regions + (1 if index < centres % regions else 0)
            plans.append(_Region(index + 1, share, region_centres))
        ordinary = sum(  # people outside the big teams, their managers aside
            max(0, size - 1)
            for plan in plans
            for size in _team_sizes(plan.people, plan.centres * TEAMS_PER_CENTRE)[1:]
        )
        self.learner_every = max(1, ordinary // max(1, self.learners_left))
        return plans

    def _id(self, model: Any) -> int:
        table = model.__table__.name
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def add(self, model: Any, **values: Any) -> dict[str, Any]:
        at = _ACTIVITY_AT.get(model)
        if at is not None:  # what the database layer notes in module_starts for a click
            key = values["user_id"], values["module_id"]
            first, last = self.starts.get(key, (values[at], values[at]))
            self.starts[key] = (min(first, values[at]), max(last, values[at]))
        rows = self.rows.setdefault(model, [])
        rows.append(values)
        if len(rows) >= BATCH:
            self.flush()  # everything, parents first: foreign keys hold at every statement
        return values

    def _write(self, model: Any) -> None:
        rows = self.rows.pop(model, [])
        if not rows:
            return
        table = model.__table__ if hasattr(model, "__table__") else model
        if db.engine.dialect.name == "postgresql":
            _copy(table, rows)
        else:
            db.session.execute(insert(model), rows)
        self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)

    def flush(self) -> None:
        # Parents before children, so foreign keys hold on PostgreSQL at every statement.
        for model in _WRITE_ORDER:
            self._write(model)

    def finish(self) -> None:
        if db.engine.dialect.name == "postgresql":
            for table in _EXPLICIT_IDS:
                db.session.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                        f"(SELECT coalesce(max(id), 1) FROM {table}))"
                    )
                )
            db.session.commit()
            db.session.execute(text("ANALYZE"))

    # --- one region -----------------------------------------------------------------------

    def region(self, plan: _Region) -> None:
        code = f"{plan.number:02d}"
        region_id = self._id(Region)
        name = _REGION_NAMES[(plan.number - 1) % len(_REGION_NAMES)]
        if plan.number > len(_REGION_NAMES):
            name = f"{name} {code}"
        self.add(Region, id=region_id, name=name)
        hr_id = self._person(
            None, f"fed.hr.{code}@{DOMAIN}", roles=((Role.HR, region_id),), learner=False
        )
        org_goal_id = self._id(OrgGoal)
        year = self.now.year
        self.add(OrgGoal, id=org_goal_id, title=self.rng.choice(_ORG_GOALS),
                 measure="Доля посетителей, получивших ответ в день обращения, по книге отзывов и опросу на выходе",
                 target="не менее 90 %", starts_on=date(year, 1, 1), ends_on=date(year, 12, 31),
                 region_id=region_id, centre_id=None, created_by_id=hr_id,
                 created_at=self.now - timedelta(days=200))  # fmt: skip

        teams = plan.centres * TEAMS_PER_CENTRE
        sizes = _team_sizes(plan.people, teams)
        for centre_index in range(plan.centres):
            centre_id = self._id(Centre)
            town = _TOWNS[(plan.number * 7 + centre_index) % len(_TOWNS)]
            self.add(Centre, id=centre_id, region_id=region_id,
                     name=f"ЦЗН г. {town} № {centre_index + 1}")  # fmt: skip
            for team_index in range(TEAMS_PER_CENTRE):
                position = centre_index * TEAMS_PER_CENTRE + team_index
                team_id = self._id(Team)
                self.add(Team, id=team_id, centre_id=centre_id, name=_TEAM_NAMES[team_index])
                big = position == 0
                self._team(team_id, sizes[position], big=big, code=code, org_goal_id=org_goal_id)

    def _team(self, team_id: int, size: int, *, big: bool, code: str, org_goal_id: int) -> None:
        if size <= 0:
            return
        if big:
            email = f"fed.manager.{code}@{DOMAIN}"
        else:
            self.lead_number += 1
            email = f"fed.lead.{self.lead_number:05d}@{DOMAIN}"
        manager_id = self._person(team_id, email, roles=((Role.MANAGER, None),), learner=False)
        self.add(team_managers, team_id=team_id, user_id=manager_id)
        for _ in range(size - 1):
            learner = False
            if not big:
                self.ordinary_number += 1
                learner = self.learners_left > 0 and self.ordinary_number % self.learner_every == 0
            address = None
            if learner:
                self.learners_left -= 1
                self.learner_number += 1
                address = f"fed.learner.{self.learner_number:04d}@{DOMAIN}"
            person_id = self._person(team_id, address, roles=(), learner=learner)
            if not learner:
                self._history(person_id, manager_id, org_goal_id)

    def _person(
        self,
        team_id: int | None,
        email: str | None,
        *,
        roles: tuple[tuple[Role, int | None], ...],
        learner: bool,
    ) -> int:
        self.person_number += 1
        number = self.person_number
        user_id = self._id(User)
        female = self.rng.random() < 0.7  # most of the service's front-line staff are women
        surname = self.rng.choice(_SURNAMES)
        first = self.rng.choice(_FEMALE_NAMES if female else _MALE_NAMES)
        middle = self.rng.choice(_FEMALE_PATRONYMICS if female else _MALE_PATRONYMICS)
        if female:
            surname += "а" if surname.endswith(("ов", "ев", "ин")) else ""
        full_name = f"{surname} {first} {middle}"
        self.add(User, id=user_id, email=email or f"fed.person.{number:06d}@{DOMAIN}",
                 full_name=full_name,
                 employee_number=f"F{number:06d}", password_hash=self.password, active=True,
                 locale=None, team_id=team_id, created_at=self.now - timedelta(days=600),
                 last_login_at=None)  # fmt: skip
        self.add(RoleAssignment, user_id=user_id, role=Role.EMPLOYEE.value, region_id=None,
                 granted_at=self.now - timedelta(days=600))  # fmt: skip
        for role, region_id in roles:
            self.add(RoleAssignment, user_id=user_id, role=role.value, region_id=region_id,
                     granted_at=self.now - timedelta(days=600))  # fmt: skip
        self.names[user_id] = full_name
        return user_id

    # --- one person's history -------------------------------------------------------------

    def _history(self, user_id: int, manager_id: int, org_goal_id: int) -> None:
        rng = self.rng
        done = _pick(rng, MODULES_DONE_WEIGHTS)
        when = self.now - timedelta(days=rng.randint(150, 540), minutes=rng.randint(0, 1440))
        self.evidence = []
        completed: list[datetime] = []
        for position, (record, module, sections, required) in enumerate(self.modules):
            if position > done or when > self.now - timedelta(hours=1):
                break
            version = record.current_version_id
            if position == done:
                if rng.random() < 0.7:  # part-way through the next module
                    for section in sections[: rng.randint(1, len(sections))]:
                        self.add(SectionRead, user_id=user_id, module_id=record.id,
                                 section_id=section, content_version_id=version, read_at=when)  # fmt: skip
                        when += timedelta(minutes=rng.randint(3, 20))
                    if rng.random() < 0.3:
                        self._attempt(user_id, record, version, 1, when, passed=False)
                break
            for section in sections:
                self.add(SectionRead, user_id=user_id, module_id=record.id, section_id=section,
                         content_version_id=version, read_at=when)  # fmt: skip
                when += timedelta(minutes=rng.randint(3, 20))
            memo_task = next((t for t in module.text("ru").tasks if t.kind == "memo"), None)
            if memo_task is not None and memo_task.memo:
                self.add(MemoDownload, user_id=user_id, module_id=record.id,
                         memo_id=memo_task.memo, locale="ru", content_version_id=version,
                         downloaded_at=when)  # fmt: skip
            tries = _pick(rng, TRIES_WEIGHTS)
            score = 0
            for number in range(1, tries + 1):
                when += timedelta(hours=rng.randint(1, 48))
                score = self._attempt(
                    user_id, record, version, number, when, passed=number == tries
                )
            for task in sorted(required):
                self.add(TaskCompletion, user_id=user_id, module_id=record.id, task_id=task,
                         content_version_id=version, completed_at=when)  # fmt: skip
            self.add(ModuleCompletion, user_id=user_id, module_id=record.id,
                     content_version_id=version, completed_at=when, score=score, attempts=tries)  # fmt: skip
            self._badge(user_id, BadgeKind.MODULE_COMPLETED, module.slug, when)
            completed.append(when)
            for competency in module.competencies:
                self._evidence(user_id, competency, EvidenceKind.QUIZ, QUIZ_LEVEL, when,
                               source=module.slug)  # fmt: skip
            when += timedelta(days=rng.randint(1, 21))
        if len(completed) == len(self.modules):  # the course is complete with the last module
            self._badge(user_id, BadgeKind.COURSE_COMPLETED, "course", completed[-1])
            self.add(Certificate, user_id=user_id, code=new_code(),
                     full_name=self.names[user_id], issued_at=completed[-1])  # fmt: skip
        evidenced = sorted({item.competency for item in self.evidence})
        if evidenced and rng.random() < GOAL_SHARE:
            self._goal(user_id, manager_id, org_goal_id, evidenced)
        if done >= 3 and rng.random() < REVIEW_SHARE:
            self._review(user_id, manager_id, evidenced)
        self._levels(user_id)
        for (person, module_id), (first, last) in self.starts.items():
            self.add(ModuleStart, user_id=person, module_id=module_id, started_at=first,
                     last_activity_at=last)  # fmt: skip
        self.starts = {}
        if evidenced and rng.random() < THANKS_SHARE:
            self.add(Recognition, recipient_id=user_id, giver_id=manager_id,
                     message=rng.choice(_THANKS), competency_id=rng.choice(evidenced),
                     goal_id=None, created_at=self.now - timedelta(days=rng.randint(1, 120)))  # fmt: skip

    def _attempt(
        self, user_id: int, record: CourseModule, version: int | None, number: int,
        when: datetime, *, passed: bool,
    ) -> int:  # fmt: skip
        mark = self.pass_marks[record.slug]
        score = self.rng.randint(mark, 100) if passed else self.rng.randint(30, mark - 1)
        self.add(QuizAttempt, user_id=user_id, module_id=record.id, content_version_id=version,
                 number=number, state=AttemptState.SUBMITTED.value, layout=[], pass_mark=mark,
                 answers={}, started_at=when - timedelta(minutes=self.rng.randint(5, 25)),
                 deadline=None, submitted_at=when, points=None, score=score, passed=passed,
                 timed_out=False)  # fmt: skip
        return score

    def _badge(self, user_id: int, kind: BadgeKind, subject: str, when: datetime) -> None:
        self.add(Badge, public_id=str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
                 user_id=user_id, kind=kind.value, subject=subject, awarded_at=when)  # fmt: skip

    def _evidence(
        self, user_id: int, competency: str, kind: EvidenceKind, level: int, when: datetime,
        *, source: str = "", review_id: int | None = None, by: int | None = None,
    ) -> int:  # fmt: skip
        evidence_id = self._id(CompetencyEvidence)
        self.evidence.append(_Evidence(competency, kind, level, when, evidence_id))
        self.add(CompetencyEvidence, id=evidence_id, user_id=user_id, competency_id=competency,
                 kind=kind.value, level=level, comment="", source=source, review_id=review_id,
                 recorded_by_id=by, recorded_at=when)  # fmt: skip
        return evidence_id

    def _goal(
        self, user_id: int, manager_id: int, org_goal_id: int, competencies: list[str]
    ) -> None:
        rng = self.rng
        goal_id = self._id(Goal)
        state = _pick(rng, GOAL_STATES)
        created = self.now - timedelta(days=rng.randint(20, 150))
        title, measure, target, relevance = rng.choice(_GOALS)
        progress = {GoalState.APPROVED: rng.choice((10, 30, 50, 70)), GoalState.ACHIEVED: 100,
                    GoalState.NOT_ACHIEVED: rng.choice((40, 60))}.get(state, 0)  # fmt: skip
        due = (self.now + timedelta(days=rng.randint(-30, 120))).date()
        org_goal = org_goal_id if rng.random() < 0.6 else None
        linked = rng.sample(competencies, min(len(competencies), rng.randint(1, 2)))
        fields = {"title": title, "measure": measure, "target": target, "relevance": relevance,
                  "due_on": due.isoformat(), "competency_ids": sorted(linked),
                  "org_goal_id": org_goal}  # fmt: skip
        self.add(Goal, id=goal_id, user_id=user_id, title=title, measure=measure, target=target,
                 relevance=relevance, due_on=due,
                 org_goal_id=org_goal, state=state.value,
                 progress=progress, created_at=created, updated_at=created)  # fmt: skip
        for competency in linked:
            self.add(GoalCompetency, goal_id=goal_id, competency_id=competency)
        steps: list[tuple[str, GoalState | None, GoalState, int]] = [
            ("created", None, GoalState.DRAFT, user_id)
        ]
        path = {
            GoalState.SUBMITTED: [GoalState.SUBMITTED],
            GoalState.RETURNED: [GoalState.SUBMITTED, GoalState.RETURNED],
            GoalState.APPROVED: [GoalState.SUBMITTED, GoalState.APPROVED],
            GoalState.ACHIEVED: [GoalState.SUBMITTED, GoalState.APPROVED, GoalState.ACHIEVED],
            GoalState.NOT_ACHIEVED: [GoalState.SUBMITTED, GoalState.APPROVED, GoalState.NOT_ACHIEVED],
        }.get(state, [])  # fmt: skip
        previous = GoalState.DRAFT
        for target_state in path:
            actor = user_id if target_state == GoalState.SUBMITTED else manager_id
            steps.append((_ACTIONS[target_state], previous, target_state, actor))
            previous = target_state
        at = created
        for action, from_state, to_state, actor in steps:
            self.add(GoalEvent, goal_id=goal_id, action=action,
                     from_state=from_state.value if from_state else None, to_state=to_state.value,
                     actor_id=actor, comment="", snapshot=fields, created_at=at)  # fmt: skip
            at += timedelta(days=rng.randint(1, 6))
        if progress:
            self.add(CheckIn, goal_id=goal_id, progress=progress, note=rng.choice(_CHECK_INS),
                     author_id=user_id, created_at=min(at, self.now))  # fmt: skip
        if state == GoalState.ACHIEVED:
            when = min(at, self.now)
            self._badge(user_id, BadgeKind.GOAL_ACHIEVED, str(goal_id), when)
            for competency in linked:
                self._evidence(user_id, competency, EvidenceKind.GOAL, 2, when,
                               source=str(goal_id), by=manager_id)  # fmt: skip

    def _levels(self, user_id: int) -> None:
        """The level history the evidence gives, step by step in time, as the services keep
        it: a new row whenever the level changes, and a badge the first time it reaches 3."""
        by_competency: dict[str, list[_Evidence]] = {}
        for item in sorted(self.evidence, key=lambda item: (item.at, item.id)):
            by_competency.setdefault(item.competency, []).append(item)
        for competency, items in by_competency.items():
            current: int | None = None
            badge = False
            for count, item in enumerate(items, start=1):
                level = level_from(Evidence(e.kind, e.level, e.at) for e in items[:count])
                if level is None or level == current:
                    continue
                current = level
                self.add(CompetencyLevel, user_id=user_id, competency_id=competency,
                         level=level, evidence_id=item.id, set_at=item.at)  # fmt: skip
                if level >= BADGE_LEVEL and not badge:
                    badge = True
                    self._badge(user_id, BadgeKind.COMPETENCY_LEVEL_3, competency, item.at)

    def _review(self, user_id: int, manager_id: int, competencies: list[str]) -> None:
        rng = self.rng
        review_id = self._id(CompetencyReview)
        when = self.now - timedelta(days=rng.randint(1, 15))
        self.add(CompetencyReview, id=review_id, user_id=user_id, reviewer_id=manager_id,
                 strengths=rng.choice(_STRENGTHS), created_at=when)  # fmt: skip
        for competency in rng.sample(competencies, min(len(competencies), rng.randint(2, 3))):
            level = _pick(rng, {2: 45, 3: 45, 4: 10})
            self._evidence(user_id, competency, EvidenceKind.REVIEW, level, when,
                           review_id=review_id, by=manager_id)  # fmt: skip
        self.add(DevelopmentAction, review_id=review_id, competency_id=None,
                 text=rng.choice(_ACTIONS_PLAN), due_on=(when + timedelta(days=60)).date())  # fmt: skip


def _copy(table: Any, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL's COPY, several times faster than INSERTs for a million rows. Every row of a
    batch names the same columns; JSON columns go as JSON text."""
    names = list(rows[0])
    as_json = {name for name in names if isinstance(table.c[name].type, JSON)}
    connection = db.session.connection().connection.driver_connection
    columns = ", ".join(f'"{name}"' for name in names)
    statement = f'COPY "{table.name}" ({columns}) FROM STDIN'
    with connection.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        for row in rows:
            copy.write_row([json.dumps(row[n]) if n in as_json else row[n] for n in names])


def _next_id(name: str) -> int:
    return (db.session.scalar(select(func.max(column("id"))).select_from(table(name))) or 0) + 1


def _team_sizes(people: int, teams: int) -> list[int]:
    """The first team of a region has BIG_TEAM people (or half the region, if smaller); the
    rest share what is left evenly."""
    if teams <= 1:
        return [people]
    first = min(BIG_TEAM, people // 2)
    rest = people - first
    others = teams - 1
    return [first] + [rest // others + (1 if i < rest % others else 0) for i in range(others)]


def _pick(rng: random.Random, weights: dict[Any, int]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


_EXPLICIT_IDS = ("regions", "centres", "teams", "users", "org_goals", "goals",
                 "competency_evidence", "competency_reviews")  # fmt: skip
_WRITE_ORDER: tuple[Any, ...] = (
    Region, Centre, Team, User, RoleAssignment, team_managers, OrgGoal, SectionRead,
    MemoDownload, QuizAttempt, TaskCompletion, ModuleStart, ModuleCompletion, Badge, Certificate, Goal,
    GoalCompetency, GoalEvent, CheckIn, CompetencyReview, CompetencyEvidence, CompetencyLevel,
    DevelopmentAction, Recognition,
)  # fmt: skip
_ACTIVITY_AT = {SectionRead: "read_at", TaskCompletion: "completed_at", QuizAttempt: "started_at"}
_ACTIONS = {
    GoalState.SUBMITTED: "submit",
    GoalState.APPROVED: "approve",
    GoalState.RETURNED: "return",
    GoalState.ACHIEVED: "achieve",
    GoalState.NOT_ACHIEVED: "not_achieve",
}


# --- Words for made-up people and places ------------------------------------------------------

_REGION_NAMES = (
    "Амурская область",
    "Архангельская область",
    "Астраханская область",
    "Белгородская область",
    "Брянская область",
    "Владимирская область",
    "Волгоградская область",
    "Вологодская область",
    "Воронежская область",
    "Ивановская область",
    "Иркутская область",
    "Калининградская область",
    "Калужская область",
    "Кемеровская область",
    "Кировская область",
    "Костромская область",
    "Курганская область",
    "Курская область",
    "Ленинградская область",
    "Липецкая область",
    "Магаданская область",
    "Московская область",
    "Мурманская область",
    "Нижегородская область",
    "Новгородская область",
    "Новосибирская область",
    "Омская область",
    "Оренбургская область",
    "Орловская область",
    "Пензенская область",
    "Псковская область",
    "Ростовская область",
    "Рязанская область",
    "Самарская область",
    "Саратовская область",
    "Сахалинская область",
    "Свердловская область",
    "Смоленская область",
    "Тамбовская область",
    "Тверская область",
    "Томская область",
    "Тульская область",
    "Тюменская область",
    "Ульяновская область",
    "Челябинская область",
    "Ярославская область",
    "Алтайский край",
    "Забайкальский край",
    "Камчатский край",
    "Краснодарский край",
    "Красноярский край",
    "Пермский край",
    "Приморский край",
    "Ставропольский край",
    "Хабаровский край",
    "Республика Адыгея",
    "Республика Алтай",
    "Республика Башкортостан",
    "Республика Бурятия",
    "Республика Дагестан",
    "Республика Ингушетия",
    "Кабардино-Балкарская Республика",
    "Республика Калмыкия",
    "Карачаево-Черкесская Республика",
    "Республика Карелия",
    "Республика Коми",
    "Республика Марий Эл",
    "Республика Мордовия",
    "Республика Саха (Якутия)",
    "Республика Северная Осетия — Алания",
    "Республика Татарстан",
    "Республика Тыва",
    "Удмуртская Республика",
    "Республика Хакасия",
    "Чеченская Республика",
    "Чувашская Республика",
    "Еврейская автономная область",
    "Ненецкий автономный округ",
    "Ханты-Мансийский автономный округ — Югра",
    "Чукотский автономный округ",
    "Ямало-Ненецкий автономный округ",
    "Москва",
    "Санкт-Петербург",
    "Севастополь",
    "Республика Крым",
)
_TOWNS = (
    "Заречный",
    "Светлогорск",
    "Каменск",
    "Лесной",
    "Приозёрск",
    "Северск",
    "Берёзовский",
    "Новоград",
    "Солнечногорск",
    "Краснослободск",
    "Озёрск",
    "Железногорск",
    "Нагорный",
    "Степной",
    "Верхнеречье",
    "Подгорный",
    "Дубровка",
    "Луговой",
    "Сосновка",
    "Кедровый",
)
_TEAM_NAMES = ("Работа с гражданами", "Работа с работодателями")
_SURNAMES = (
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Петров",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Фёдоров",
    "Морозов",
    "Волков",
    "Алексеев",
    "Лебедев",
    "Семёнов",
    "Егоров",
    "Павлов",
    "Козлов",
    "Степанов",
    "Николаев",
    "Орлов",
    "Андреев",
    "Макаров",
    "Никитин",
    "Захаров",
    "Зайцев",
    "Соловьёв",
    "Борисов",
    "Яковлев",
    "Григорьев",
    "Романов",
    "Воробьёв",
)
_FEMALE_NAMES = (
    "Анна",
    "Мария",
    "Елена",
    "Ольга",
    "Наталья",
    "Татьяна",
    "Ирина",
    "Светлана",
    "Екатерина",
    "Юлия",
    "Марина",
    "Галина",
    "Людмила",
    "Надежда",
    "Оксана",
    "Дарья",
    "Ксения",
    "Вера",
)
_MALE_NAMES = (
    "Александр",
    "Сергей",
    "Андрей",
    "Дмитрий",
    "Алексей",
    "Игорь",
    "Михаил",
    "Николай",
    "Владимир",
    "Павел",
    "Евгений",
    "Олег",
    "Роман",
    "Виктор",
    "Иван",
    "Константин",
)
_FEMALE_PATRONYMICS = (
    "Александровна",
    "Сергеевна",
    "Владимировна",
    "Николаевна",
    "Ивановна",
    "Петровна",
    "Андреевна",
    "Викторовна",
    "Михайловна",
    "Юрьевна",
    "Олеговна",
    "Игоревна",
)
_MALE_PATRONYMICS = (
    "Александрович",
    "Сергеевич",
    "Владимирович",
    "Николаевич",
    "Иванович",
    "Петрович",
    "Андреевич",
    "Викторович",
    "Михайлович",
    "Юрьевич",
    "Олегович",
    "Игоревич",
)
_ORG_GOALS = (
    "Каждый посетитель уходит, зная свой следующий шаг",
    "Работодатель получает ответ на заявку в течение двух рабочих дней",
    "Меньше повторных визитов за одной и той же справкой",
)
_GOALS = (
    ("Называть следующий шаг в конце каждого приёма",
     "Отметка в журнале приёма и короткий опрос на выходе раз в неделю",
     "9 из 10 опрошенных называют свой следующий шаг",
     "Человек, который знает, что делать дальше, не приходит повторно с тем же вопросом"),
    ("Перезванивать работодателю в день обращения",
     "Журнал входящих звонков работодателей",
     "100 % звонков с ответом в тот же день",
     "Работодатель, которому ответили быстро, приносит вакансии снова"),
    ("Переписать памятку о пособии простым языком",
     "Проверка черновика на пяти посетителях",
     "Пять посетителей из пяти пересказывают памятку без ошибок",
     "Сейчас люди переспрашивают одно и то же у стойки и по телефону"),
    ("Передавать вопросы коллегам с полной информацией",
     "Отзывы коллег из соседнего отдела раз в месяц",
     "Ни одного возврата из-за неполных сведений за квартал",
     "Клиент не должен рассказывать свою историю второй раз"),
)  # fmt: skip
_CHECK_INS = (
    "Опрос на выходе провожу по пятницам, пока всё по плану.",
    "Две недели работаю по новому порядку, жалоб на повторные визиты стало меньше.",
    "Черновик готов, на следующей неделе покажу его посетителям.",
)
_STRENGTHS = (
    "Спокойно и понятно объясняет сложные меры поддержки, посетители это отмечают.",
    "Сама находит болевые точки на своём участке и приносит предложения.",
    "Работодатели доверяют: перезванивает вовремя и держит слово.",
)
_ACTIONS_PLAN = (
    "Провести с наставником разбор двух трудных разговоров на приёме.",
    "Пройти маршрут клиента по услуге «Содействие в поиске работы» и записать три болевые точки.",
    "Подготовить для команды короткую памятку по частым вопросам работодателей.",
)
_THANKS = (
    "Спасибо, что довели вопрос посетительницы до конца, хотя он был не с вашего участка.",
    "Спасибо за терпение с трудным звонком: человек перезвонил и поблагодарил.",
    "Спасибо за новую памятку — у стойки стало заметно меньше повторных вопросов.",
    "Спасибо, что так быстро ответили работодателю: он уже прислал две новые вакансии.",
)
