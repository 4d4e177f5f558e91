"""What the read API returns: the records a viewer may see, a page at a time, as JSON-ready
dictionaries in the shapes ``lms.api.openapi`` documents.

Whom a viewer sees is decided by ``lms.permissions.visible_teams`` at the time of the
request: people in those teams, and their completions, levels and goals. Pages are keyset
pages: rows in the order of their ids, after a given id. Each function asks for one row more
than the page holds, so the caller knows whether there is a next page; a page costs one or
two queries, however many rows it holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, TypeVar, cast

from sqlalchemy import Select, select
from sqlalchemy.orm import contains_eager

from lms.extensions import db
from lms.models import (
    Centre,
    CompetencyLevel,
    ContentVersion,
    CourseModule,
    Goal,
    ModuleCompletion,
    Team,
    User,
)
from lms.permissions import visible_teams
from lms.services.competencies import current_level_condition
from lms.services.reports import MAX_ID

Record = dict[str, Any]
Query = TypeVar("Query", bound=Select)  # a select of any columns


@dataclass(frozen=True)
class Page:
    """Up to ``limit`` rows whose ids are greater than ``after``."""

    limit: int
    after: int = 0


def _in_scope(viewer: User) -> Any:
    """People in the teams ``viewer`` may see; people without a team are nobody's records."""
    teams = visible_teams(viewer).with_only_columns(Team.id).order_by(None)
    return User.team_id.in_(teams)


def _keyset(query: Query, id_column: Any, page: Page) -> Query:
    # No id is larger than the database's integer: after that, the page is empty (and
    # PostgreSQL refuses to compare an integer column with a larger number).
    after = min(page.after, MAX_ID)
    return query.where(id_column > after).order_by(id_column).limit(page.limit + 1)


def timestamp(value: datetime) -> str:
    """ISO 8601 in UTC, to the second, with a ``Z``."""
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def people(viewer: User, page: Page) -> list[Record]:
    query = (
        select(User)
        .join(User.team)
        .join(Team.centre)
        .join(Centre.region)
        .options(
            contains_eager(User.team).contains_eager(Team.centre).contains_eager(Centre.region)
        )
        .where(_in_scope(viewer))
    )
    return [_person(user) for user in db.session.scalars(_keyset(query, User.id, page))]


def _person(user: User) -> Record:
    team = cast(Team, user.team)  # only people in a team are in scope
    centre = team.centre
    return {
        "id": user.id,
        "email": user.email,
        "full_name": user.full_name,
        "employee_number": user.employee_number,
        "active": user.active,
        "region": {"id": centre.region.id, "name": centre.region.name},
        "centre": {"id": centre.id, "name": centre.name},
        "team": {"id": team.id, "name": team.name},
        "roles": sorted(user.role_names),
    }


def module_exists(slug: str) -> bool:
    return db.session.scalar(select(CourseModule.id).where(CourseModule.slug == slug)) is not None


def completions(
    viewer: User, page: Page, *, module: str | None = None, since: date | None = None
) -> list[Record]:
    """Module completions, narrowed to one module (its slug) and to those on or after a day
    (from midnight UTC)."""
    query = (
        select(
            ModuleCompletion.id,
            User.id.label("person_id"),
            User.email,
            CourseModule.slug,
            ContentVersion.content_hash,
            ModuleCompletion.completed_at,
            ModuleCompletion.score,
            ModuleCompletion.attempts,
        )
        .join(User, ModuleCompletion.user_id == User.id)
        .join(CourseModule, ModuleCompletion.module_id == CourseModule.id)
        .join(ContentVersion, ModuleCompletion.content_version_id == ContentVersion.id)
        .where(_in_scope(viewer))
    )
    if module is not None:
        query = query.where(CourseModule.slug == module)
    if since is not None:
        query = query.where(
            ModuleCompletion.completed_at >= datetime.combine(since, time.min, tzinfo=UTC)
        )
    return [
        {
            "id": row.id,
            "person": {"id": row.person_id, "email": row.email},
            "module": row.slug,
            "content_version": row.content_hash,
            "completed_at": timestamp(row.completed_at),
            "score": row.score,
            "attempts": row.attempts,
        }
        for row in db.session.execute(_keyset(query, ModuleCompletion.id, page))
    ]


def competency_levels(viewer: User, page: Page) -> list[Record]:
    """Each person's current level in each competency they have one in.

    The current level is the newest row of a person's history in a competency, newest by
    ``set_at`` and then by id, exactly as ``lms.services.competencies`` reads it; each
    current row is kept by its id, so pages walk the history table by its primary key.
    """
    query = (
        select(
            CompetencyLevel.id,
            User.id.label("person_id"),
            User.email,
            CompetencyLevel.competency_id,
            CompetencyLevel.level,
            CompetencyLevel.set_at,
        )
        .join(User, CompetencyLevel.user_id == User.id)
        .where(_in_scope(viewer), current_level_condition())
    )
    return [
        {
            "id": row.id,
            "person": {"id": row.person_id, "email": row.email},
            "competency": row.competency_id,
            "level": row.level,
            "set_at": timestamp(row.set_at),
        }
        for row in db.session.execute(_keyset(query, CompetencyLevel.id, page))
    ]


def goals(viewer: User, page: Page) -> list[Record]:
    """Individual goals in every state, with the competencies they link (loaded in one more
    query for the whole page)."""
    query = select(Goal, User.email).join(User, Goal.user_id == User.id).where(_in_scope(viewer))
    return [
        {
            "id": goal.id,
            "person": {"id": goal.user_id, "email": email},
            "title": goal.title,
            "state": goal.state,
            "due_on": goal.due_on.isoformat(),
            "progress": goal.progress,
            "competencies": goal.competency_ids,
            "org_goal_id": goal.org_goal_id,
            "created_at": timestamp(goal.created_at),
            "updated_at": timestamp(goal.updated_at),
        }
        for goal, email in db.session.execute(_keyset(query, Goal.id, page))
    ]
