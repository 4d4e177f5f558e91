"""Administering people: finding them, creating and editing their accounts, their roles,
deactivation and reactivation.

The rules, whoever asks (the views check who may open the page; these functions check what
the values may be):

- e-mail (without regard to case) and employee number are unique, and a clash names the
  person who holds the value;
- only administrators give and take roles;
- an administrator never takes away their own admin role nor deactivates themselves, and the
  last active administrator stays one;
- every change is written to the audit log with the values before and after.

Functions add to the session; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, exists, false, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from lms.extensions import db
from lms.models import ActivationLink, Centre, Region, Role, RoleAssignment, Team, User, utcnow
from lms.models.base import folded
from lms.permissions import can_administer_person, can_change_roles, hr_region_id
from lms.services import audit
from lms.services.accounts import end_sessions, normalise_email, retire_links
from lms.services.user_import import valid_email

PAGE_SIZE = 50
NAME_MAX, EMAIL_MAX, NUMBER_MAX = 200, 254, 64


class PersonRefused(Exception):
    """The values break a rule; ``problems`` maps each form field (or ``""`` for the whole
    form) to what is wrong, in the reader's language."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = problems


@dataclass
class PersonValues:
    full_name: str
    email: str
    employee_number: str | None
    team_id: int | None
    roles: frozenset[Role] | None = None  # None: leave as they are (only admins change them)
    hr_region_id: int | None = None  # the HR role's region; None: everywhere
    managed_team_ids: frozenset[int] | None = None  # None: leave as they are


# --- finding people --------------------------------------------------------------------------


ACCESS_STATES = ("password", "invited", "none")


@dataclass
class PeopleFilters:
    query: str = ""  # part of a name, e-mail or employee number
    region: int | None = None
    centre: int | None = None
    team: int | None = None
    role: Role | None = None
    active: bool | None = True  # None: both
    access: str | None = None  # one of ACCESS_STATES


@dataclass
class PeoplePage:
    people: list[User]
    total: int
    page: int
    pages: int
    invited: dict[int, datetime] = field(default_factory=dict)  # a working link's expiry


def scoped_people(actor: User) -> Select[Any]:
    """Everyone ``actor`` administers: admins and HR for everything see all, regional HR the
    people in the teams of their region (admins' accounts among them shown, not editable)."""
    query = select(User)
    if actor.has_role(Role.ADMIN) or not actor.has_role(Role.HR):
        return query if actor.has_role(Role.ADMIN) else query.where(false())
    region_id = hr_region_id(actor)
    if region_id is None:
        return query
    in_region = select(Team.id).join(Team.centre).where(Centre.region_id == region_id)
    return query.where(User.team_id.in_(in_region))


def _live_link() -> Any:
    return exists().where(
        ActivationLink.user_id == User.id,
        ActivationLink.used_at.is_(None),
        ActivationLink.expires_at > utcnow(),
    )


def filtered(actor: User, filters: PeopleFilters) -> Select[Any]:
    query = scoped_people(actor)
    if filters.query:
        pattern = "%" + _escape_like(filters.query.strip().lower()) + "%"
        query = query.where(
            or_(
                folded(User.full_name).like(pattern, escape="\\"),
                folded(User.email).like(pattern, escape="\\"),
                folded(User.employee_number).like(pattern, escape="\\"),
            )
        )
    if filters.team is not None:
        query = query.where(User.team_id == filters.team)
    elif filters.centre is not None:
        query = query.where(
            User.team_id.in_(select(Team.id).where(Team.centre_id == filters.centre))
        )
    elif filters.region is not None:
        query = query.where(
            User.team_id.in_(
                select(Team.id).join(Team.centre).where(Centre.region_id == filters.region)
            )
        )
    if filters.role is not None:
        query = query.where(
            exists().where(
                RoleAssignment.user_id == User.id, RoleAssignment.role == filters.role.value
            )
        )
    if filters.active is not None:
        query = query.where(User.active.is_(filters.active))
    if filters.access == "password":
        query = query.where(User.password_hash.isnot(None))
    elif filters.access == "invited":
        query = query.where(User.password_hash.is_(None), _live_link())
    elif filters.access == "none":
        query = query.where(User.password_hash.is_(None), ~_live_link())
    return query


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def find_people(actor: User, filters: PeopleFilters, page: int = 1) -> PeoplePage:
    """One page of the people ``actor`` administers that match ``filters``, by name."""
    query = filtered(actor, filters)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    total = total or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    people = list(
        db.session.scalars(
            query.options(
                joinedload(User.team).joinedload(Team.centre).joinedload(Centre.region),
                selectinload(User.roles),
                # Whether HR may edit each one looks at the teams they manage.
                selectinload(User.managed_teams).joinedload(Team.centre),
            )
            .order_by(User.full_name, User.id)
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        )
    )
    waiting = {person.id for person in people if person.password_hash is None}
    invited = invited_until(waiting)
    return PeoplePage(people=people, total=total, page=page, pages=pages, invited=invited)


def invited_until(user_ids: set[int]) -> dict[int, datetime]:
    """When the working activation link of each of ``user_ids`` expires, if they hold one."""
    if not user_ids:
        return {}
    rows = db.session.execute(
        select(ActivationLink.user_id, func.max(ActivationLink.expires_at))
        .where(
            ActivationLink.user_id.in_(user_ids),
            ActivationLink.used_at.is_(None),
            ActivationLink.expires_at > utcnow(),
        )
        .group_by(ActivationLink.user_id)
    )
    return {user_id: expires_at for user_id, expires_at in rows}


# --- what a person is, for the audit log ---------------------------------------------------


def team_label(team: Team | None) -> str | None:
    if team is None:
        return None
    return f"{team.centre.region.name} / {team.centre.name} / {team.name}"


def snapshot(person: User) -> dict[str, Any]:
    """The person's account as the audit log keeps it, before or after a change."""
    hr_region = next(
        (a.region.name if a.region else None for a in person.roles if a.role == Role.HR), None
    )
    return {
        "full_name": person.full_name,
        "email": person.email,
        "employee_number": person.employee_number,
        "team": team_label(person.team),
        "roles": sorted(person.role_names),
        "hr_region": hr_region,
        "managed_teams": sorted(team_label(team) or "" for team in person.managed_teams),
        "active": person.active,
    }


def _changes(
    before: dict[str, Any], after: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = [key for key in before if before[key] != after[key]]
    return {key: before[key] for key in keys}, {key: after[key] for key in keys}


# --- creating and editing ------------------------------------------------------------------


def create_person(actor: User | None, values: PersonValues) -> User:
    """A new account, without a password: give access with an activation link or a
    temporary password. Raises ``PersonRefused``."""
    person = User(email="", full_name="", password_hash=None)
    # Not in the session yet: a query while the values are applied must not flush the team
    # it was just placed in (SQLAlchemy warns of the member it cannot add).
    with db.session.no_autoflush:
        _apply(actor, person, values, creating=True)
    db.session.add(person)
    db.session.flush()
    audit.record(
        actor, "people.create", person_id=person.id, email=person.email, after=snapshot(person)
    )
    return person


def update_person(actor: User | None, person: User, values: PersonValues) -> bool:
    """Change ``person`` to ``values``; whether anything changed. Raises ``PersonRefused``."""
    before = snapshot(person)
    _apply(actor, person, values, creating=False)
    db.session.flush()
    after = snapshot(person)
    if Role.ADMIN in before["roles"] and Role.ADMIN not in after["roles"]:
        _admins_remain(person)
    if (after["roles"], after["hr_region"]) != (before["roles"], before["hr_region"]):
        _withdraw_pending_access(person)
    old, new = _changes(before, after)
    if not old:
        return False
    roles_keys = {"roles", "hr_region"}
    if roles_keys & old.keys():
        audit.record(
            actor,
            "roles.change",
            person_id=person.id,
            email=person.email,
            before={key: old[key] for key in roles_keys & old.keys()},
            after={key: new[key] for key in roles_keys & new.keys()},
        )
    rest = old.keys() - roles_keys
    if rest:
        audit.record(
            actor,
            "people.update",
            person_id=person.id,
            email=person.email,
            before={key: old[key] for key in sorted(rest)},
            after={key: new[key] for key in sorted(rest)},
        )
    return True


def _apply(actor: User | None, person: User, values: PersonValues, *, creating: bool) -> None:
    problems: dict[str, str] = {}
    full_name = " ".join(values.full_name.split())
    email = normalise_email(values.email)  # as sign-in and the import compare it
    number = (values.employee_number or "").strip() or None
    if not full_name:
        problems["full_name"] = _("Enter the person's full name.")
    elif len(full_name) > NAME_MAX:
        problems["full_name"] = _("At most %(count)d characters.", count=NAME_MAX)
    if not email:
        problems["email"] = _("Enter an e-mail address.")
    elif len(email) > EMAIL_MAX or not valid_email(email):
        problems["email"] = _("This is not a valid e-mail address.")
    else:
        other = db.session.scalar(
            select(User).where(
                func.lower(User.email) == normalise_email(email), User.id != person.id
            )
            if person.id is not None
            else select(User).where(func.lower(User.email) == normalise_email(email))
        )
        if other is not None:
            problems["email"] = (
                _(
                    "This e-mail address already belongs to %(name)s (employee number %(number)s).",
                    name=other.full_name,
                    number=other.employee_number or "—",
                )
                if _may_name(actor, other)
                else _("This e-mail address already belongs to someone outside your scope.")
            )
    if number is not None:
        if len(number) > NUMBER_MAX:
            problems["employee_number"] = _("At most %(count)d characters.", count=NUMBER_MAX)
        else:
            query = select(User).where(User.employee_number == number)
            if person.id is not None:
                query = query.where(User.id != person.id)
            other = db.session.scalar(query)
            if other is not None:
                problems["employee_number"] = (
                    _(
                        "This employee number already belongs to %(name)s (%(email)s).",
                        name=other.full_name,
                        email=other.email,
                    )
                    if _may_name(actor, other)
                    else _("This employee number already belongs to someone outside your scope.")
                )
    team = db.session.get(Team, values.team_id) if values.team_id is not None else None
    if values.team_id is not None and team is None:
        problems["team_id"] = _("Choose a team from the list.")
    elif not _may_place(actor, team):
        problems["team_id"] = _("Choose a team of your region.")

    roles = person.role_names if values.roles is None else values.roles
    if creating and values.roles is None:
        roles = frozenset({Role.EMPLOYEE})
    roles_change = values.roles is not None and (
        roles != person.role_names or _hr_region_changes(person, roles, values.hr_region_id)
    )
    if roles_change and actor is not None and not can_change_roles(actor):
        problems["roles"] = _("Only administrators change roles.")
    elif not roles:
        problems["roles"] = _("Give at least one role.")
    elif Role.ADMIN in person.role_names and Role.ADMIN not in roles:
        problem = _admin_kept(actor, person, _("You cannot take away your own administrator role."))
        if problem:
            problems["roles"] = problem
    if values.hr_region_id is not None and db.session.get(Region, values.hr_region_id) is None:
        problems["hr_region_id"] = _("Choose a region from the list.")

    managed: list[Team] | None = None
    if values.managed_team_ids is not None:
        managed = _managed_teams(actor, person, values.managed_team_ids, problems)
        if managed and Role.MANAGER not in roles:
            problems["managed_team_ids"] = _(
                "Only a manager manages teams: give the manager role or choose no teams."
            )
    if problems:
        raise PersonRefused(problems)

    person.full_name = full_name
    person.email = email
    person.employee_number = number
    person.team = team
    if values.roles is not None or creating:
        _set_roles(person, roles, values.hr_region_id)
    if managed is not None:
        person.managed_teams = managed


def _may_place(actor: User | None, team: Team | None) -> bool:
    """Regional HR keep people within their region (and in a team: those without one are
    outside every region); admins and HR for everything place anyone anywhere."""
    if actor is None or actor.has_role(Role.ADMIN) or not actor.has_role(Role.HR):
        return True
    region_id = hr_region_id(actor)
    return region_id is None or (team is not None and team.centre.region_id == region_id)


def _hr_region_changes(person: User, roles: frozenset[Role], region_id: int | None) -> bool:
    if Role.HR not in roles:
        return False
    current = next((a for a in person.roles if a.role == Role.HR), None)
    return current is not None and current.region_id != region_id


def _set_roles(person: User, roles: frozenset[Role], hr_region: int | None) -> None:
    for assignment in list(person.roles):
        if Role(assignment.role) not in roles:
            person.roles.remove(assignment)
    for role in sorted(roles):
        assignment = person.grant(role)
        if role is Role.HR:
            assignment.region_id = hr_region
            assignment.region = db.session.get(Region, hr_region) if hr_region else None


def _managed_teams(
    actor: User | None, person: User, team_ids: frozenset[int], problems: dict[str, str]
) -> list[Team]:
    """The teams ``person`` is to manage: those chosen, plus those outside ``actor``'s region
    that they already manage (regional HR neither see nor change those)."""
    chosen = list(db.session.scalars(select(Team).where(Team.id.in_(team_ids)))) if team_ids else []
    if len(chosen) != len(team_ids):
        problems["managed_team_ids"] = _("Choose teams from the list.")
        return []
    if any(not _may_place(actor, team) for team in chosen):
        problems["managed_team_ids"] = _("Choose teams of your region.")
        return []
    kept = [team for team in person.managed_teams if not _may_place(actor, team)]
    return kept + [team for team in chosen if team not in kept]


def _admin_kept(actor: User | None, person: User, own_message: str) -> str | None:
    """Why ``person`` must stay an active administrator, if they must.

    The active administrators' rows are locked (PostgreSQL) until the caller commits, so two
    administrators removing each other at the same moment cannot both succeed: the second
    waits, then counts again. SQLite runs one writer at a time and ``_admins_remain`` counts
    again inside the write."""
    if actor is not None and actor.id == person.id:
        return own_message
    admins = db.session.scalars(
        select(User.id).where(User.active, _holds_admin()).order_by(User.id).with_for_update()
    ).all()
    if not [admin for admin in admins if admin != person.id]:
        return _last_admin(person)
    return None


def _holds_admin() -> Any:
    return exists().where(
        RoleAssignment.user_id == User.id, RoleAssignment.role == Role.ADMIN.value
    )


def _last_admin(person: User) -> str:
    return _(
        "%(name)s is the last administrator: make someone else an administrator first.",
        name=person.full_name,
    )


def _admins_remain(person: User) -> None:
    """After the change is written: at least one active administrator is left."""
    remaining = db.session.scalar(select(func.count(User.id)).where(User.active, _holds_admin()))
    if not remaining:
        raise PersonRefused({"": _last_admin(person)})


def _may_name(actor: User | None, other: User) -> bool:
    """A clash names the other person to whoever may see their account (the command line,
    admins, HR within their scope); to the rest it says only that the value is taken."""
    return actor is None or can_administer_person(actor, other)


def _withdraw_pending_access(person: User) -> None:
    """New roles make an account worth more than when its access was given: a link not used
    yet, or a temporary password not yet changed, may have passed through hands (HR's) that
    should not hold an administrator's or HR's account. Both stop working; the person is
    given access afresh by whoever gave the roles."""
    retire_links(person)
    if person.must_change_password:
        person.password_hash = None
        person.must_change_password = False
        end_sessions(person)


# --- deactivation --------------------------------------------------------------------------


def set_active(actor: User | None, person: User, active: bool) -> bool:
    """Deactivate or reactivate ``person``; whether anything changed. A deactivated person
    cannot sign in (their sessions end) and leaves team pages; their records stay, flagged,
    in reports and exports. Raises ``PersonRefused``."""
    if person.active is active:
        return False
    if not active and Role.ADMIN in person.role_names:
        problem = _admin_kept(actor, person, _("You cannot deactivate yourself."))
        if problem:
            raise PersonRefused({"": problem})
    if not active and actor is not None and actor.id == person.id:
        raise PersonRefused({"": _("You cannot deactivate yourself.")})
    person.active = active
    db.session.flush()  # the listener in lms.models.users ends their sessions
    if not active:
        retire_links(person)  # reactivated, they are given access afresh
        if Role.ADMIN in person.role_names:
            _admins_remain(person)
    audit.record(
        actor,
        "people.reactivate" if active else "people.deactivate",
        person_id=person.id,
        email=person.email,
        before={"active": not active},
        after={"active": active},
    )
    return True
