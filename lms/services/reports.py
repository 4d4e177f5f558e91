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

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, select, union_all
from sqlalchemy.orm import aliased

from lms.extensions import db
from lms.models import (
    AttemptState,
    Centre,
    ContentVersion,
    CourseModule,
    ModuleCompletion,
    QuizAttempt,
    Region,
    SectionRead,
    TaskCompletion,
    Team,
    User,
)
from lms.permissions import visible_teams

NOT_STARTED = "not_started"
IN_PROGRESS = "in_progress"
COMPLETE = "complete"
STATUSES = (NOT_STARTED, IN_PROGRESS, COMPLETE)

STREAM_BATCH = 1000


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
                if not raw.isdigit():
                    raise BadFilter(name, f"{name} must be a number")
                values[name] = int(raw)
        module = (args.get("module") or "").strip()
        if module:
            values["module"] = module
        for name in ("since", "until"):
            raw = (args.get(name) or "").strip()
            if raw:
                try:
                    values[name] = date.fromisoformat(raw)
                except ValueError:
                    raise BadFilter(name, f"{name} must be a date as YYYY-MM-DD") from None
        if values.get("since") and values.get("until") and values["since"] > values["until"]:
            raise BadFilter("until", "the period ends before it starts")
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
        return datetime.combine(self.until + timedelta(days=1), time.min, tzinfo=UTC)


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


def _started(filters: Filters) -> Any:
    """The first thing each person did in each module: (user_id, module_id, started_at)."""
    parts = [
        select(model.user_id, model.module_id, column.label("at")).where(_before(column, filters))
        for model, column in (
            (SectionRead, SectionRead.read_at),
            (TaskCompletion, TaskCompletion.completed_at),
            (QuizAttempt, QuizAttempt.started_at),
        )
    ]
    activity = union_all(*parts).subquery("activity")
    return (
        select(
            activity.c.user_id,
            activity.c.module_id,
            func.min(activity.c.at).label("started_at"),
        )
        .group_by(activity.c.user_id, activity.c.module_id)
        .subquery("started")
    )


def _attempts(filters: Filters) -> Any:
    submitted = and_(
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


def completion_rows_query(viewer: User, filters: Filters) -> Select[Any]:
    """One row per person in scope and published module, not started included, in the order
    of region, centre, team, person and module."""
    people = people_query(
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
    ).subquery("people")
    modules = _modules_query(filters).subquery("modules")
    started = _started(filters)
    attempts = _attempts(filters)
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
        .order_by(
            people.c.region,
            people.c.centre,
            people.c.team,
            people.c.full_name,
            people.c.id,
            modules.c.position,
        )
    )


def completion_rows(viewer: User, filters: Filters) -> Iterator[CompletionRow]:
    """The records, fetched in batches from a server-side cursor: memory stays flat however
    many there are. Use inside an app context that lasts while the rows are read."""
    query = completion_rows_query(viewer, filters).execution_options(
        stream_results=True, yield_per=STREAM_BATCH
    )
    for row in db.session.execute(query):
        started_at = row.started_at
        if isinstance(started_at, str):  # SQLite hands back MIN() over a UNION as text
            started_at = _parse_timestamp(started_at)
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
            started_at=_aware(started_at),
            completed_at=row.completed_at,
        )


def _parse_timestamp(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
