"""Completion records of the people someone may see: the one source of every report, export
and API answer about the course.

A record is one person and one module. It is ``complete`` when the module was completed,
``in_progress`` when the person did anything in it (a section read, a task done, a quiz
attempt), and ``not_started`` otherwise. With a period, the record is as it stood at the
period's end: what happened later is left out, so last quarter's report does not change.

Whom a viewer sees is decided by ``lms.permissions.visible_teams``: managers their teams, HR
their region or everything, admins everything. Filters only ever narrow that.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, overload
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, and_, case, func, literal, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased, joinedload
from sqlalchemy.sql.functions import FunctionElement

from lms.extensions import db
from lms.models import (
    AttemptState,
    Centre,
    CheckIn,
    CompetencyLevel,
    ContentVersion,
    CourseModule,
    Goal,
    GoalEvent,
    GoalState,
    ModuleCompletion,
    ModuleStart,
    Notification,
    NotificationKind,
    QuizAttempt,
    Region,
    Team,
    User,
)
from lms.models.base import UTCDateTime
from lms.permissions import visible_teams
from lms.services.competencies import current_level_condition

NOT_STARTED = "not_started"
IN_PROGRESS = "in_progress"
COMPLETE = "complete"
STATUSES = (NOT_STARTED, IN_PROGRESS, COMPLETE)

STREAM_BATCH = 1000
MAX_ID = 2**31 - 1  # the database's integer
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)


def parse_id(raw: str) -> int | None:
    """A record id from a query string, or None when it cannot be one (so: nothing found)."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10:
        return None
    number = int(raw)
    return number if number <= MAX_ID else None


def coerce_id(value: object) -> int:
    """A form's chosen record id (a WTForms ``coerce``): anything that cannot be one is an
    invalid choice (ValueError), never a number the database cannot hold."""
    number = value if isinstance(value, int) and not isinstance(value, bool) else None
    if number is None:
        number = parse_id(str(value))
    if number is None or not 1 <= number <= MAX_ID:
        raise ValueError("not a record id")
    return number


def zone() -> ZoneInfo:
    """The organisation's time zone: where its days begin and end."""
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def start_of(day: date) -> datetime:
    """The first instant of ``day`` in the organisation's time zone."""
    return datetime.combine(day, time.min, tzinfo=zone())


def day_of(moment: datetime) -> date:
    """The organisation's calendar day of a moment."""
    return moment.astimezone(zone()).date()


class BadFilter(ValueError):
    """A filter in the query string is not valid: the message says which and why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Filters:
    """What a report or export is narrowed to, as given in the query string."""

    region: int | None = None
    centre: int | None = None
    team: int | None = None
    module: str | None = None
    since: date | None = None
    until: date | None = None
    inactive: bool = False  # include deactivated people (their records stay)

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Filters:
        """Read filters from request arguments; ``BadFilter`` names the first bad one.

        Empty values mean "no filter", so a form submitted with blank fields works.
        """
        values: dict[str, Any] = {}
        for name in ("region", "centre", "team"):
            raw = (args.get(name) or "").strip()
            if raw:
                number = parse_id(raw)
                if number is None:
                    raise BadFilter(name, _("%(name)s must be a number.", name=name))
                values[name] = number
        module = (args.get("module") or "").strip()
        if module:
            values["module"] = module
        for name in ("since", "until"):
            raw = (args.get(name) or "").strip()
            if raw:
                try:
                    values[name] = date.fromisoformat(raw)
                except ValueError:
                    raise BadFilter(
                        name, _("%(name)s must be a date as YYYY-MM-DD.", name=name)
                    ) from None
                if not FIRST_DAY <= values[name] <= LAST_DAY:
                    raise BadFilter(
                        name,
                        _(
                            "%(name)s must be between %(first)s and %(last)s.",
                            name=name,
                            first=FIRST_DAY.isoformat(),
                            last=LAST_DAY.isoformat(),
                        ),
                    )
        if values.get("since") and values.get("until") and values["since"] > values["until"]:
            raise BadFilter("until", _("The period ends before it starts."))
        values["inactive"] = (args.get("inactive") or "") in {"1", "true", "on", "yes"}
        return cls(**values)

    def as_args(self) -> dict[str, str]:
        """The filters as query-string arguments (only those set), for links and the audit log."""
        args: dict[str, str] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if value is None or value is False:
                continue
            args[field.name] = "1" if value is True else str(value)
        return args

    def but(self, **changes: Any) -> Filters:
        return replace(self, **changes)

    @property
    def cutoff(self) -> datetime | None:
        """The first instant after the period, or None for "up to now"."""
        if self.until is None:
            return None
        return start_of(self.until + timedelta(days=1))


@dataclass(frozen=True)
class CompletionRow:
    """One person and one module, as reports and exports show it."""

    user_id: int
    full_name: str
    email: str
    employee_number: str | None
    active: bool
    region: str
    centre: str
    team: str
    team_id: int
    module: str  # the module's slug
    module_position: int
    content_version: str | None  # the short hash of the version it was completed on
    status: str
    score: int | None  # the completion's score, or else the best submitted attempt's
    attempts: int  # submitted attempts
    started_at: datetime | None
    completed_at: datetime | None


def people_query(viewer: User, filters: Filters, *columns: Any) -> Select[Any]:
    """The people ``viewer`` may see, narrowed by ``filters``: ``columns`` of them, their team,
    centre and region (the ``User`` itself when no columns are given)."""
    teams = visible_teams(viewer).with_only_columns(Team.id)
    query = (
        select(*(columns or (User,)))
        .select_from(User)
        .join(Team, User.team_id == Team.id)
        .join(Centre, Team.centre_id == Centre.id)
        .join(Region, Centre.region_id == Region.id)
        .where(User.team_id.in_(teams))
    )
    if not filters.inactive:
        query = query.where(User.active)
    if filters.region is not None:
        query = query.where(Centre.region_id == filters.region)
    if filters.centre is not None:
        query = query.where(Team.centre_id == filters.centre)
    if filters.team is not None:
        query = query.where(User.team_id == filters.team)
    return query


def _modules_query(filters: Filters) -> Select[Any]:
    query = select(CourseModule).where(CourseModule.current_version_id.is_not(None))
    if filters.module is not None:
        query = query.where(CourseModule.slug == filters.module)
    return query


def _before(column: Any, filters: Filters) -> Any:
    cutoff = filters.cutoff
    return literal(True) if cutoff is None else column < cutoff


def _started(people_ids: Any, filters: Filters) -> Any:
    """When each person first did something in each module (a section read, a task done, a
    quiz begun), if before the period's end: (user_id, module_id, started_at). Read from
    ``module_starts``, which the database layer keeps, not from the millions of activity rows.
    """
    return (
        select(ModuleStart.user_id, ModuleStart.module_id, ModuleStart.started_at)
        .where(ModuleStart.user_id.in_(people_ids), _before(ModuleStart.started_at, filters))
        .subquery("started")
    )


def _attempts(people_ids: Any, filters: Filters) -> Any:
    submitted = and_(
        QuizAttempt.user_id.in_(people_ids),
        QuizAttempt.state == AttemptState.SUBMITTED,
        QuizAttempt.submitted_at.is_not(None),
        _before(QuizAttempt.submitted_at, filters),
    )
    return (
        select(
            QuizAttempt.user_id,
            QuizAttempt.module_id,
            func.count().label("attempts"),
            func.max(QuizAttempt.score).label("best_score"),
        )
        .where(submitted)
        .group_by(QuizAttempt.user_id, QuizAttempt.module_id)
        .subquery("attempts")
    )


def completion_rows_query(
    viewer: User, filters: Filters, user_ids: list[int] | None = None
) -> Select[Any]:
    """One row per person in scope and published module, not started included, in the order
    of region, centre, team, person and module; only ``user_ids`` when given."""
    chosen = people_query(
        viewer,
        filters,
        User.id,
        User.full_name,
        User.email,
        User.employee_number,
        User.active,
        User.team_id,
        Region.name.label("region"),
        Centre.name.label("centre"),
        Team.name.label("team"),
        # The people's order, counted over the people alone: ordering the records by it and
        # the module compares two integers, where the names' order would compare four texts
        # for each of seven times as many rows.
        func.row_number()
        .over(order_by=(Region.name, Centre.name, Team.name, User.full_name, User.id))
        .label("ordinal"),
    )
    if user_ids is not None:
        chosen = chosen.where(User.id.in_(user_ids))
    people = chosen.subquery("people")
    modules = _modules_query(filters).subquery("modules")
    people_ids = select(people.c.id)
    started = _started(people_ids, filters)
    attempts = _attempts(people_ids, filters)
    completion = aliased(ModuleCompletion)
    version = aliased(ContentVersion)
    status = case(
        (completion.id.is_not(None), COMPLETE),
        (started.c.started_at.is_not(None), IN_PROGRESS),
        else_=NOT_STARTED,
    )
    return (
        select(
            people.c.id,
            people.c.full_name,
            people.c.email,
            people.c.employee_number,
            people.c.active,
            people.c.region,
            people.c.centre,
            people.c.team,
            people.c.team_id,
            people.c.ordinal,
            modules.c.slug,
            modules.c.position,
            version.content_hash,
            status.label("status"),
            func.coalesce(completion.score, attempts.c.best_score).label("score"),
            func.coalesce(attempts.c.attempts, 0).label("attempts"),
            started.c.started_at,
            completion.completed_at,
        )
        .select_from(people)
        .join(modules, literal(True))
        .outerjoin(
            completion,
            and_(
                completion.user_id == people.c.id,
                completion.module_id == modules.c.id,
                _before(completion.completed_at, filters),
            ),
        )
        .outerjoin(version, version.id == completion.content_version_id)
        .outerjoin(
            started,
            and_(started.c.user_id == people.c.id, started.c.module_id == modules.c.id),
        )
        .outerjoin(
            attempts,
            and_(attempts.c.user_id == people.c.id, attempts.c.module_id == modules.c.id),
        )
        .order_by(people.c.ordinal, modules.c.position)
    )


def completion_rows(
    viewer: User, filters: Filters, user_ids: list[int] | None = None
) -> Iterator[CompletionRow]:
    """The records, fetched in batches from a server-side cursor: memory stays flat however
    many there are. Use inside an app context that lasts while the rows are read."""
    query = completion_rows_query(viewer, filters, user_ids).execution_options(
        stream_results=True, yield_per=STREAM_BATCH
    )
    # Closed when the reader stops early (a download cut short): no server-side cursor is
    # left open on the connection.
    with db.session.execute(query) as result:
        for row in result:
            yield CompletionRow(
                user_id=row.id,
                full_name=row.full_name,
                email=row.email,
                employee_number=row.employee_number,
                active=bool(row.active),
                region=row.region,
                centre=row.centre,
                team=row.team,
                team_id=row.team_id,
                module=row.slug,
                module_position=row.position,
                content_version=row.content_hash[:12] if row.content_hash else None,
                status=row.status,
                score=row.score,
                attempts=row.attempts,
                started_at=as_utc(row.started_at),
                completed_at=row.completed_at,
            )


@overload
def as_utc(value: datetime | str) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
def as_utc(value: datetime | str | None) -> datetime | None:
    """A timestamp read from the database made aware, in UTC. SQLite hands back naive values,
    and text where an aggregate runs over a union."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --- Dashboards: what managers see at /team and HR at /hr ------------------------------------

PAGE_SIZE = 50
BEHIND_AFTER_DAYS = 14
"""Someone is behind when the course is not finished and they have done nothing in it for this
many days (or never started)."""
CHECK_IN_EVERY_DAYS = 30
"""An approved goal with no check-in (or approval) for this many days needs a word."""


@dataclass(frozen=True)
class ModuleSummary:
    module: str
    counts: dict[str, int]  # status -> people
    average_score: float | None  # of those who completed it with a score

    @property
    def people(self) -> int:
        return sum(self.counts.values())

    @property
    def percent_complete(self) -> int:
        return round(100 * self.counts[COMPLETE] / self.people) if self.people else 0


def module_summaries(viewer: User, filters: Filters) -> list[ModuleSummary]:
    """Per published module in scope: how many people have not started, are in progress,
    completed, and the average score of completions; in the modules' order.

    Three small aggregates (completions, starts without a completion, people), so that a
    whole country is counted from its 300,000 completions and starts, not from one row per
    person and module with everything joined to it.
    """
    people = people_query(viewer, filters, User.id)
    total = db.session.scalar(people.with_only_columns(func.count(User.id)).order_by(None)) or 0
    modules = list(db.session.scalars(_modules_query(filters).order_by(CourseModule.position)))
    completed = and_(
        ModuleCompletion.user_id.in_(people), _before(ModuleCompletion.completed_at, filters)
    )
    best = (
        select(func.max(QuizAttempt.score))
        .where(
            QuizAttempt.user_id == ModuleCompletion.user_id,
            QuizAttempt.module_id == ModuleCompletion.module_id,
            QuizAttempt.state == AttemptState.SUBMITTED,
            _before(QuizAttempt.submitted_at, filters),
        )
        .scalar_subquery()
    )
    done = {
        module_id: (count, average)
        for module_id, count, average in db.session.execute(
            select(
                ModuleCompletion.module_id,
                func.count(),
                func.avg(func.coalesce(ModuleCompletion.score, best)),
            )
            .where(completed)
            .group_by(ModuleCompletion.module_id)
        )
    }
    finished = select(ModuleCompletion.id).where(
        ModuleCompletion.user_id == ModuleStart.user_id,
        ModuleCompletion.module_id == ModuleStart.module_id,
        _before(ModuleCompletion.completed_at, filters),
    )
    going = dict(
        db.session.execute(
            select(ModuleStart.module_id, func.count())
            .where(
                ModuleStart.user_id.in_(people),
                _before(ModuleStart.started_at, filters),
                ~finished.exists(),
            )
            .group_by(ModuleStart.module_id)
        ).all()
    )
    summaries = []
    for module in modules:
        complete, average = done.get(module.id, (0, None))
        in_progress = going.get(module.id, 0)
        counts = {
            COMPLETE: complete,
            IN_PROGRESS: in_progress,
            NOT_STARTED: total - complete - in_progress,
        }
        summaries.append(
            ModuleSummary(
                module=module.slug,
                counts=counts,
                average_score=float(average) if average is not None else None,
            )
        )
    return summaries


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def report_period(filters: Filters, today: date) -> Period:
    """The period the charts cover: the filter's, or the last twelve weeks."""
    end = filters.until or today
    start = filters.since or end - timedelta(weeks=12) + timedelta(days=1)
    return Period(start, max(start, end))


@dataclass(frozen=True)
class Bucket:
    start: date
    end: date  # inclusive
    count: int


def completions_over_time(viewer: User, filters: Filters, period: Period) -> list[Bucket]:
    """Module completions by people in scope per week of the period (per month past half a
    year, per year past three), by the organisation's calendar days."""
    people = people_query(viewer, filters, User.id).subquery("people")
    start = start_of(period.start)
    end = start_of(period.end + timedelta(days=1))
    query = (
        select(ModuleCompletion.completed_at)
        .join(people, people.c.id == ModuleCompletion.user_id)
        .where(ModuleCompletion.completed_at >= start, ModuleCompletion.completed_at < end)
    )
    if filters.module is not None:
        query = query.join(CourseModule, CourseModule.id == ModuleCompletion.module_id).where(
            CourseModule.slug == filters.module
        )
    buckets = _buckets(period)
    counts = [0] * len(buckets)
    starts = [first for first, _last in buckets]
    for (completed_at,) in db.session.execute(query.execution_options(yield_per=STREAM_BATCH)):
        index = bisect_right(starts, day_of(as_utc(completed_at))) - 1
        if 0 <= index < len(counts):
            counts[index] += 1
    return [
        Bucket(first, last, count) for (first, last), count in zip(buckets, counts, strict=True)
    ]


def _buckets(period: Period) -> list[tuple[date, date]]:
    buckets = []
    if period.days <= 183:
        first = period.start - timedelta(days=period.start.weekday())  # Mondays
        while first <= period.end:
            last = first + timedelta(days=6)
            buckets.append((max(first, period.start), min(last, period.end)))
            first = last + timedelta(days=1)
        return buckets
    yearly = period.days > 3 * 366
    first = period.start.replace(month=1, day=1) if yearly else period.start.replace(day=1)
    while first <= period.end:
        if yearly:
            following = first.replace(year=first.year + 1) if first.year < 9999 else date.max
        else:
            following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        buckets.append((max(first, period.start), min(following - timedelta(days=1), period.end)))
        if following == date.max:
            break
        first = following
    return buckets


def current_levels(viewer: User, filters: Filters, user_ids: list[int] | None = None) -> Any:
    """(user_id, competency_id, level) of everyone in scope (or of ``user_ids``) as at the end
    of the period: the newest level row of each person and competency."""
    people = people_query(viewer, filters, User.id)
    if user_ids is not None:
        people = people.where(User.id.in_(user_ids))
    people_subquery = people.subquery("people")
    return (
        select(CompetencyLevel.user_id, CompetencyLevel.competency_id, CompetencyLevel.level)
        .join(people_subquery, people_subquery.c.id == CompetencyLevel.user_id)
        .where(
            _before(CompetencyLevel.set_at, filters),
            current_level_condition(filters.cutoff),
        )
    )


def level_distribution(
    viewer: User, filters: Filters, competency_ids: list[str]
) -> dict[str, dict[int, int]]:
    """Per competency: how many people in scope are at each level, 0 meaning no level yet."""
    levels = current_levels(viewer, filters).subquery("levels")
    counted = db.session.execute(
        select(levels.c.competency_id, levels.c.level, func.count()).group_by(
            levels.c.competency_id, levels.c.level
        )
    )
    people = (
        db.session.scalar(people_query(viewer, filters, func.count(User.id)).order_by(None)) or 0
    )
    distribution = {competency: dict.fromkeys(range(5), 0) for competency in competency_ids}
    for competency, level, count in counted:
        if competency in distribution:
            distribution[competency][level] = count
    for counts in distribution.values():
        counts[0] = people - sum(counts[level] for level in range(1, 5))
    return distribution


@dataclass(frozen=True)
class PersonRow:
    """A person on the matrix and the heatmap: their modules and competency levels."""

    user: User
    team: Team
    modules: dict[str, CompletionRow]
    levels: dict[str, int]

    @property
    def complete_count(self) -> int:
        return sum(1 for row in self.modules.values() if row.status == COMPLETE)


@dataclass(frozen=True)
class PeoplePage:
    rows: list[PersonRow]
    page: int
    pages: int
    total: int


def people_page(viewer: User, filters: Filters, page: int = 1) -> PeoplePage:
    """One page of people in scope (by name), with each module's record and their levels."""
    ordered = people_query(viewer, filters, User, Team).order_by(User.full_name, User.id)
    total = (
        db.session.scalar(people_query(viewer, filters, func.count(User.id)).order_by(None)) or 0
    )
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    found = db.session.execute(ordered.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    ids = [user.id for user, _team in found]
    records: dict[int, dict[str, CompletionRow]] = {user_id: {} for user_id in ids}
    if ids:
        for row in completion_rows(viewer, filters, user_ids=ids):
            records[row.user_id][row.module] = row
    levels: dict[int, dict[str, int]] = {user_id: {} for user_id in ids}
    if ids:
        for user_id, competency, level in db.session.execute(current_levels(viewer, filters, ids)):
            levels[user_id][competency] = level
    rows = [
        PersonRow(user=user, team=team, modules=records[user.id], levels=levels[user.id])
        for user, team in found
    ]
    return PeoplePage(rows=rows, page=page, pages=pages, total=total)


@dataclass(frozen=True)
class GoalsNeedingAction:
    """The first ``PAGE_SIZE`` goals of each kind, and how many there are of each."""

    to_approve: list[Goal]
    overdue: list[Goal]
    no_check_in: list[tuple[Goal, datetime]]  # the goal and when it last moved
    to_approve_total: int = 0
    overdue_total: int = 0
    no_check_in_total: int = 0

    @property
    def total(self) -> int:
        return self.to_approve_total + self.overdue_total + self.no_check_in_total


def goals_needing_action(
    viewer: User, filters: Filters, today: date, limit: int = PAGE_SIZE
) -> GoalsNeedingAction:
    """Goals of people in scope that wait for someone: submitted for approval, approved but
    past their due date, or approved with no check-in for ``CHECK_IN_EVERY_DAYS`` (the last
    move being the latest check-in, the approval or the last edit). Decided and counted in
    the database; the first ``limit`` of each kind are loaded, by due date."""
    people = people_query(viewer, filters, User.id)
    in_scope = Goal.user_id.in_(people)
    approved = and_(in_scope, Goal.state == GoalState.APPROVED)
    last_check_in = (
        select(func.max(CheckIn.created_at)).where(CheckIn.goal_id == Goal.id).scalar_subquery()
    )
    approval = (
        select(func.max(GoalEvent.created_at))
        .where(GoalEvent.goal_id == Goal.id, GoalEvent.to_state == GoalState.APPROVED)
        .scalar_subquery()
    )
    last_move = _greatest(
        Goal.updated_at,
        func.coalesce(last_check_in, Goal.updated_at),
        func.coalesce(approval, Goal.updated_at),
    ).label("last_move")
    quiet_since = start_of(today) - timedelta(days=CHECK_IN_EVERY_DAYS)
    kinds = {
        "to_approve": and_(in_scope, Goal.state == GoalState.SUBMITTED),
        "overdue": and_(approved, Goal.due_on < today),
        "no_check_in": and_(approved, Goal.due_on >= today, last_move < quiet_since),
    }
    totals = {
        kind: db.session.scalar(select(func.count(Goal.id)).where(condition)) or 0
        for kind, condition in kinds.items()
    }
    first = {
        kind: select(Goal)
        .where(condition)
        .options(joinedload(Goal.user))
        .order_by(Goal.due_on, Goal.id)
        .limit(limit)
        for kind, condition in kinds.items()
    }
    quiet = [
        (goal, as_utc(moved))
        for goal, moved in db.session.execute(first["no_check_in"].add_columns(last_move))
    ]
    return GoalsNeedingAction(
        to_approve=list(db.session.scalars(first["to_approve"])),
        overdue=list(db.session.scalars(first["overdue"])),
        no_check_in=quiet,
        to_approve_total=totals["to_approve"],
        overdue_total=totals["overdue"],
        no_check_in_total=totals["no_check_in"],
    )


def _greatest(*values: Any) -> Any:
    """The latest of some timestamps that are never NULL: GREATEST on PostgreSQL, the
    many-argument max() on SQLite."""
    return _Greatest(*values)


class _Greatest(FunctionElement[Any]):
    inherit_cache = True
    name = "greatest"
    type = UTCDateTime()  # compared with aware datetimes: bound as UTC, as the columns are


@compiles(_Greatest)
def _greatest_default(element: _Greatest, compiler: Any, **kw: Any) -> str:
    return f"greatest({compiler.process(element.clauses, **kw)})"


@compiles(_Greatest, "sqlite")
def _greatest_sqlite(element: _Greatest, compiler: Any, **kw: Any) -> str:
    return f"max({compiler.process(element.clauses, **kw)})"


@dataclass(frozen=True)
class Behind:
    user: User
    team: Team
    modules_complete: int
    last_activity: datetime | None
    last_reminded: datetime | None


def _behind_query(viewer: User, filters: Filters, today: date, modules_total: int) -> Any:
    """Active people in scope who have not finished the course and have done nothing in it
    for ``BEHIND_AFTER_DAYS`` days, or never started, with what the list shows of them:
    decided in the database, whatever the scope's size."""
    scope = filters.but(inactive=False)
    ids = people_query(viewer, scope, User.id)
    last = (
        select(ModuleStart.user_id, func.max(ModuleStart.last_activity_at).label("at"))
        .where(ModuleStart.user_id.in_(ids))
        .group_by(ModuleStart.user_id)
        .subquery("last_activity")
    )
    done = (
        select(ModuleCompletion.user_id, func.count().label("modules"))
        .where(ModuleCompletion.user_id.in_(ids))
        .group_by(ModuleCompletion.user_id)
        .subquery("done")
    )
    reminded = (
        select(Notification.user_id, func.max(Notification.created_at).label("at"))
        .where(
            Notification.user_id.in_(ids),
            Notification.kind == NotificationKind.REMINDER,
        )
        .group_by(Notification.user_id)
        .subquery("reminded")
    )
    completed = func.coalesce(done.c.modules, 0)
    limit = start_of(today) - timedelta(days=BEHIND_AFTER_DAYS)
    return (
        people_query(viewer, scope, User, Team, completed, last.c.at, reminded.c.at)
        .outerjoin(last, last.c.user_id == User.id)
        .outerjoin(done, done.c.user_id == User.id)
        .outerjoin(reminded, reminded.c.user_id == User.id)
        .where(
            completed < modules_total,
            or_(last.c.at.is_(None), last.c.at < limit),
        )
    ), last


def who_is_behind(
    viewer: User, filters: Filters, today: date, modules_total: int, limit: int | None = None
) -> list[Behind]:
    """Who is behind (see ``_behind_query``): never started first, then the longest quiet,
    then by name; the first ``limit`` of them when given."""
    query, last = _behind_query(viewer, filters, today, modules_total)
    query = query.order_by(
        case((last.c.at.is_(None), 0), else_=1), last.c.at, User.full_name, User.id
    )
    if limit is not None:
        query = query.limit(limit)
    return [
        Behind(user, team, done, as_utc(last_at), as_utc(reminded_at))
        for user, team, done, last_at, reminded_at in db.session.execute(query)
    ]


def behind_page(
    viewer: User, filters: Filters, today: date, modules_total: int, limit: int
) -> tuple[list[Behind], int]:
    """The first ``limit`` who are behind and how many are, in one query (a window count)."""
    query, last = _behind_query(viewer, filters, today, modules_total)
    query = (
        query.add_columns(func.count().over().label("total"))
        .order_by(case((last.c.at.is_(None), 0), else_=1), last.c.at, User.full_name, User.id)
        .limit(limit)
    )
    rows = db.session.execute(query).all()
    if not rows:
        return [], 0
    people = [
        Behind(user, team, done, as_utc(last_at), as_utc(reminded_at))
        for user, team, done, last_at, reminded_at, _total in rows
    ]
    return people, rows[0].total


def count_behind(viewer: User, filters: Filters, today: date, modules_total: int) -> int:
    query, _last = _behind_query(viewer, filters, today, modules_total)
    counted = select(func.count()).select_from(query.order_by(None).subquery("behind"))
    return db.session.scalar(counted) or 0


@dataclass(frozen=True)
class Dashboard:
    filters: Filters
    period: Period
    people: PeoplePage
    modules: list[ModuleSummary]
    over_time: list[Bucket]
    levels: dict[str, dict[int, int]]
    goals: GoalsNeedingAction
    behind: list[Behind]  # the first PAGE_SIZE
    behind_total: int

    @property
    def completed_in_period(self) -> int:
        return sum(bucket.count for bucket in self.over_time)


def dashboard(
    viewer: User, filters: Filters, competency_ids: list[str], today: date, page: int = 1
) -> Dashboard:
    """Everything the team and HR dashboards show, for the people ``viewer`` may see."""
    modules = module_summaries(viewer, filters)
    period = report_period(filters, today)
    modules_total = _published_modules()
    behind, behind_total = behind_page(viewer, filters, today, modules_total, PAGE_SIZE)
    return Dashboard(
        filters=filters,
        period=period,
        people=people_page(viewer, filters, page),
        modules=modules,
        over_time=completions_over_time(viewer, filters, period),
        levels=level_distribution(viewer, filters, competency_ids),
        goals=goals_needing_action(viewer, filters, today),
        behind=behind,
        behind_total=behind_total,
    )


def _published_modules() -> int:
    return (
        db.session.scalar(
            select(func.count(CourseModule.id)).where(CourseModule.current_version_id.is_not(None))
        )
        or 0
    )


def today() -> date:
    """Today in the organisation's time zone (the app's default), for "overdue" and periods."""
    return day_of(datetime.now(UTC))
