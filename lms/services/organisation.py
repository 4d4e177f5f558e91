"""The organisation: regions, centres and teams, moving a team to another centre, and handing
a leaving manager's teams over to someone else.

The rules, whoever asks (the views decide through ``lms.permissions`` who may touch which
region, centre or team; these functions check the values):

- a name is its words separated by single spaces, 1 to 200 characters;
- region names are unique, centre names within their region, team names within their centre,
  without regard to case, and a clash names the one that exists;
- a team moves with its people and its managers (they belong to the team, not the centre);
- the person taking over a team is an active manager, not the one leaving.

Every change is written to the audit log with the values before and after. Functions add to
the session and flush; the caller commits (and rolls back on ``IntegrityError``: the unique
constraints still catch a name added at the same moment by someone else).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, func, select
from sqlalchemy.orm import contains_eager

from lms.extensions import db
from lms.models import Centre, Region, Role, Team, User, team_managers
from lms.permissions import administered_regions, administers_region
from lms.services import audit
from lms.services.accounts import normalise_email

NAME_MAX = 200


class OrgRefused(Exception):
    """The values break a rule; ``message`` says which, in the reader's language, and
    ``field`` names the form field it concerns (``""`` for the whole form)."""

    def __init__(self, message: str, field: str = "name") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def clean_name(raw: str) -> str:
    name = " ".join(raw.split())
    if not name:
        raise OrgRefused(_("Enter a name."))
    if len(name) > NAME_MAX:
        raise OrgRefused(_("At most %(count)d characters.", count=NAME_MAX))
    return name


def centre_label(centre: Centre) -> str:
    return f"{centre.region.name} / {centre.name}"


def team_label(team: Team) -> str:
    return f"{centre_label(team.centre)} / {team.name}"


def _same_name(name: str, others: Iterable[tuple[int, str]], own_id: int | None) -> str | None:
    """The name among ``others`` (id, name) equal to ``name`` without regard to case.

    Compared in Python: SQLite's ``lower()`` folds only ASCII, and names here are mostly
    Cyrillic. The siblings are few (a region's centres, a centre's teams; ~85 regions)."""
    folded = name.casefold()
    return next(
        (other for other_id, other in others if other_id != own_id and other.casefold() == folded),
        None,
    )


# --- regions --------------------------------------------------------------------------------


def _region_clash(name: str, own_id: int | None = None) -> None:
    existing = _same_name(name, db.session.execute(select(Region.id, Region.name)), own_id)
    if existing is not None:
        raise OrgRefused(_("There is a region named “%(name)s” already.", name=existing))


def create_region(actor: User, raw_name: str) -> Region:
    name = clean_name(raw_name)
    _region_clash(name)
    region = Region(name=name)
    db.session.add(region)
    db.session.flush()
    audit.record(actor, "org.region.create", region_id=region.id, after={"name": name})
    return region


def rename_region(actor: User, region: Region, raw_name: str) -> bool:
    """Whether the name changed. Raises ``OrgRefused``."""
    name = clean_name(raw_name)
    if name == region.name:
        return False
    _region_clash(name, region.id)
    before = region.name
    region.name = name
    db.session.flush()
    audit.record(
        actor,
        "org.region.rename",
        region_id=region.id,
        before={"name": before},
        after={"name": name},
    )
    return True


# --- centres --------------------------------------------------------------------------------


def _centre_clash(region: Region, name: str, own_id: int | None = None) -> None:
    siblings = select(Centre.id, Centre.name).where(Centre.region_id == region.id)
    existing = _same_name(name, db.session.execute(siblings), own_id)
    if existing is not None:
        raise OrgRefused(
            _(
                "The region “%(region)s” has a centre named “%(name)s” already.",
                region=region.name,
                name=existing,
            )
        )


def create_centre(actor: User, region: Region, raw_name: str) -> Centre:
    name = clean_name(raw_name)
    _centre_clash(region, name)
    centre = Centre(name=name, region=region)
    db.session.add(centre)
    db.session.flush()
    audit.record(
        actor,
        "org.centre.create",
        centre_id=centre.id,
        after={"name": name, "region": region.name},
    )
    return centre


def rename_centre(actor: User, centre: Centre, raw_name: str) -> bool:
    name = clean_name(raw_name)
    if name == centre.name:
        return False
    _centre_clash(centre.region, name, centre.id)
    before = centre_label(centre)
    centre.name = name
    db.session.flush()
    audit.record(
        actor,
        "org.centre.rename",
        centre_id=centre.id,
        before={"centre": before},
        after={"centre": centre_label(centre)},
    )
    return True


# --- teams ----------------------------------------------------------------------------------


def _team_clash(centre: Centre, name: str, own_id: int | None = None) -> str | None:
    siblings = select(Team.id, Team.name).where(Team.centre_id == centre.id)
    return _same_name(name, db.session.execute(siblings), own_id)


def _refuse_team_clash(centre: Centre, name: str, own_id: int | None = None) -> None:
    existing = _team_clash(centre, name, own_id)
    if existing is not None:
        raise OrgRefused(
            _(
                "The centre “%(centre)s” has a team named “%(name)s” already.",
                centre=centre.name,
                name=existing,
            )
        )


def create_team(actor: User, centre: Centre, raw_name: str) -> Team:
    name = clean_name(raw_name)
    _refuse_team_clash(centre, name)
    team = Team(name=name, centre=centre)
    db.session.add(team)
    db.session.flush()
    audit.record(actor, "org.team.create", team_id=team.id, after={"team": team_label(team)})
    return team


def rename_team(actor: User, team: Team, raw_name: str) -> bool:
    name = clean_name(raw_name)
    if name == team.name:
        return False
    _refuse_team_clash(team.centre, name, team.id)
    before = team_label(team)
    team.name = name
    db.session.flush()
    audit.record(
        actor,
        "org.team.rename",
        team_id=team.id,
        before={"team": before},
        after={"team": team_label(team)},
    )
    return True


def move_team(actor: User, team: Team, centre: Centre) -> None:
    """Put ``team`` in ``centre``; its people and managers stay with it. The caller has
    checked that ``actor`` administers both centres. Raises ``OrgRefused``."""
    if team.centre_id == centre.id:
        raise OrgRefused(_("The team is in this centre already."), "centre")
    existing = _team_clash(centre, team.name)
    if existing is not None:
        raise OrgRefused(
            _(
                "The centre “%(centre)s” has a team named “%(name)s” already: rename one of the two first.",
                centre=centre.name,
                name=existing,
            ),
            "centre",
        )
    before = centre_label(team.centre)
    team.centre = centre
    db.session.flush()
    audit.record(
        actor,
        "org.team.move",
        team_id=team.id,
        team=team.name,
        people=active_people(team),
        managers=sorted(manager.email for manager in team.managers),
        before={"centre": before},
        after={"centre": centre_label(centre)},
    )


def active_people(team: Team) -> int:
    count = db.session.scalar(
        select(func.count(User.id)).where(User.team_id == team.id, User.active)
    )
    return count or 0


# --- the tree -------------------------------------------------------------------------------


@dataclass
class TeamNode:
    id: int
    name: str
    people: int
    managers: list[tuple[str, bool]] = field(default_factory=list)  # name, active


@dataclass
class CentreNode:
    id: int
    name: str
    teams: list[TeamNode] = field(default_factory=list)

    @property
    def people(self) -> int:
        return sum(team.people for team in self.teams)


@dataclass
class RegionNode:
    id: int
    name: str
    centres: list[CentreNode] = field(default_factory=list)

    @property
    def teams(self) -> int:
        return sum(len(centre.teams) for centre in self.centres)

    @property
    def people(self) -> int:
        return sum(centre.people for centre in self.centres)


def _region_ids(actor: User) -> Select[Any]:
    return administered_regions(actor).with_only_columns(Region.id).order_by(None)


def scoped_team_ids(actor: User) -> Select[Any]:
    """The ids of the teams in the regions ``actor`` administers."""
    return select(Team.id).join(Team.centre).where(Centre.region_id.in_(_region_ids(actor)))


def tree(actor: User, region_id: int | None = None) -> list[RegionNode]:
    """Region > centre > team for the regions ``actor`` administers (or only ``region_id``
    among them), each team with its active people and its managers: four queries, whatever
    the size of the organisation."""
    in_scope = _region_ids(actor)
    if region_id is not None:
        in_scope = in_scope.where(Region.id == region_id)
    regions = {
        row_id: RegionNode(row_id, name)
        for row_id, name in db.session.execute(
            select(Region.id, Region.name).where(Region.id.in_(in_scope)).order_by(Region.name)
        )
    }
    centres: dict[int, CentreNode] = {}
    for centre_id, owner_id, name in db.session.execute(
        select(Centre.id, Centre.region_id, Centre.name)
        .where(Centre.region_id.in_(in_scope))
        .order_by(Centre.name, Centre.id)
    ):
        centres[centre_id] = CentreNode(centre_id, name)
        regions[owner_id].centres.append(centres[centre_id])
    team_ids = select(Team.id).join(Team.centre).where(Centre.region_id.in_(in_scope))
    people = (
        select(User.team_id, func.count(User.id).label("people"))
        .where(User.active, User.team_id.in_(team_ids))
        .group_by(User.team_id)
        .subquery()
    )
    teams: dict[int, TeamNode] = {}
    for team_id, centre_id, name, count in db.session.execute(
        select(Team.id, Team.centre_id, Team.name, func.coalesce(people.c.people, 0))
        .join(Team.centre)
        .outerjoin(people, people.c.team_id == Team.id)
        .where(Centre.region_id.in_(in_scope))
        .order_by(Team.name, Team.id)
    ):
        teams[team_id] = TeamNode(team_id, name, count)
        centres[centre_id].teams.append(teams[team_id])
    for team_id, manager, active in db.session.execute(
        select(team_managers.c.team_id, User.full_name, User.active)
        .join(User, User.id == team_managers.c.user_id)
        .where(team_managers.c.team_id.in_(team_ids))
        .order_by(User.full_name, User.id)
    ):
        teams[team_id].managers.append((manager, active))
    return list(regions.values())


def centre_choices(actor: User) -> list[tuple[str, list[tuple[int, str]]]]:
    """The centres ``actor`` administers, by region: (region name, [(centre id, name)])."""
    grouped: dict[str, list[tuple[int, str]]] = {}
    for region, centre_id, name in db.session.execute(
        select(Region.name, Centre.id, Centre.name)
        .join(Centre.region)
        .where(Region.id.in_(_region_ids(actor)))
        .order_by(Region.name, Centre.name)
    ):
        grouped.setdefault(region, []).append((centre_id, name))
    return list(grouped.items())


# --- handing teams over ---------------------------------------------------------------------


def leaving_managers(actor: User) -> list[User]:
    """Whoever manages at least one team ``actor`` administers, deactivated people too (they
    are the ones most likely leaving), by name."""
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.id.in_(
                    select(team_managers.c.user_id).where(
                        team_managers.c.team_id.in_(scoped_team_ids(actor))
                    )
                )
            )
            .order_by(User.full_name, User.id)
        )
    )


def teams_to_hand_over(actor: User, leaving: User) -> list[Team]:
    """The teams ``leaving`` manages that ``actor`` administers, by region, centre, name."""
    return list(
        db.session.scalars(
            select(Team)
            .join(Team.centre)
            .join(Centre.region)
            .options(contains_eager(Team.centre).contains_eager(Centre.region))
            .where(
                Team.managers.any(User.id == leaving.id),
                Team.id.in_(scoped_team_ids(actor)),
            )
            .order_by(Region.name, Centre.name, Team.name)
        )
    )


def _within_scope(actor: User, person: User) -> bool:
    """Whether ``person`` works in what ``actor`` administers: their team lies there, or they
    manage a team there."""
    region_id = person.team.centre.region_id if person.team is not None else None
    if administers_region(actor, region_id):
        return True
    return any(administers_region(actor, team.centre.region_id) for team in person.managed_teams)


def successor(actor: User, email: str, leaving: User) -> User:
    """The person who is to take the teams over, found by e-mail. Raises ``OrgRefused``."""
    person = db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))
    if person is None or not _within_scope(actor, person):
        raise OrgRefused(
            _(
                "We found no one with the e-mail address “%(email)s” among the people you administer.",
                email=email.strip(),
            ),
            "to_email",
        )
    if person.id == leaving.id:
        raise OrgRefused(_("Choose someone other than the manager who is leaving."), "to_email")
    if not person.active:
        raise OrgRefused(
            _("%(name)s is deactivated: choose someone who works here now.", name=person.full_name),
            "to_email",
        )
    if not person.has_role(Role.MANAGER):
        raise OrgRefused(
            _(
                "%(name)s does not hold the manager role: an administrator must give it to them first (under People), then hand the teams over.",
                name=person.full_name,
            ),
            "to_email",
        )
    return person


def hand_over(actor: User, leaving: User, taking_over: User, teams: list[Team]) -> None:
    """``taking_over`` manages ``teams`` instead of ``leaving``, who keeps the rest of their
    teams. The caller has checked that ``actor`` administers every one of ``teams`` and found
    ``taking_over`` through ``successor``. Raises ``OrgRefused``."""
    if not teams:
        raise OrgRefused(_("Choose at least one team."), "team_ids")
    if any(leaving not in team.managers for team in teams):
        raise OrgRefused(_("Choose teams from the list."), "team_ids")
    before = {team_label(team): sorted(m.email for m in team.managers) for team in teams}
    for team in teams:
        team.managers.remove(leaving)
        if taking_over not in team.managers:
            team.managers.append(taking_over)
    db.session.flush()
    after = {team_label(team): sorted(m.email for m in team.managers) for team in teams}
    audit.record(
        actor,
        "org.handover",
        **{"from": leaving.email, "to": taking_over.email},
        from_id=leaving.id,
        to_id=taking_over.id,
        teams=sorted(before),
        before={"managers": before},
        after={"managers": after},
    )
