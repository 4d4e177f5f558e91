"""The one permission layer: who may open which view, and which objects they may see.

Every view declares its access with exactly one of ``public``, ``signed_in``,
``role_required`` or ``token_required``; ``check_every_view_declares_access`` refuses to start
an app with a view that does not, so a new page can never be open by accident. Anonymous
people are sent to ``/login`` from every page that is not public; the read API answers 401
instead, and knows nothing of sign-ins: only a bearer token opens it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, current_app, g, jsonify, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import ColumnElement, Select, false, or_, select

from lms.extensions import db, login_manager
from lms.models import Centre, CourseModule, Goal, QuizAttempt, Region, Role, Team, User
from lms.services import api_tokens

View = TypeVar("View", bound=Callable[..., Any])

ACCESS_ATTRIBUTE = "_lms_access"


def public(view: View) -> View:
    """Open to everyone, signed in or not."""
    setattr(view, ACCESS_ATTRIBUTE, "public")
    return view


def signed_in(view: View) -> View:
    """Open to every signed-in person, whatever their roles."""
    setattr(view, ACCESS_ATTRIBUTE, "signed-in")
    return view


def role_required(*roles: Role) -> Callable[[View], View]:
    """Open to signed-in people holding at least one of ``roles``; 403 for the others."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        setattr(wrapper, ACCESS_ATTRIBUTE, "roles:" + ",".join(sorted(roles)))
        return wrapper  # type: ignore[return-value]

    return decorate


BEARER_REALM = "Client-Centricity Academy API"


def token_required(view: View) -> View:
    """Open only to a valid API token (``Authorization: Bearer <token>``); 401 for the rest.

    The token acts as the admin who issued it, as they stand now: ``flask.g.api_user``,
    whose scope the view applies through ``visible_teams``. A session cookie opens nothing
    here, so the read API needs no CSRF protection and a signed-in browser reads nothing.
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        scheme, _space, credentials = request.headers.get("Authorization", "").partition(" ")
        credentials = credentials.strip()
        if scheme.lower() != "bearer" or not credentials:
            return _bearer_challenge("a bearer token is required: Authorization: Bearer <token>")
        user = api_tokens.authenticate(credentials)
        if user is None:
            return _bearer_challenge("the token is not valid", error="invalid_token")
        if db.session.dirty:
            db.session.commit()  # the token's last-use stamp, written at most once a minute
        g.api_user = user
        return view(*args, **kwargs)

    setattr(wrapper, ACCESS_ATTRIBUTE, "token")
    return wrapper  # type: ignore[return-value]


def _bearer_challenge(message: str, error: str | None = None) -> Any:
    """A 401 in the API's JSON shape, with the challenge RFC 6750 asks for."""
    response = jsonify(error=message)
    response.status_code = 401
    challenge = f'Bearer realm="{BEARER_REALM}"'
    if error is not None:
        challenge += f', error="{error}"'
    response.headers["WWW-Authenticate"] = challenge
    return response


def access_of(endpoint: str) -> str | None:
    view = current_app.view_functions.get(endpoint)
    return getattr(view, ACCESS_ATTRIBUTE, None)


def send_anonymous_to_login() -> Any:
    """``before_request`` hook: anything but public views, the API (its own 401) and static
    files needs a sign-in."""
    endpoint = request.endpoint
    if endpoint is None or endpoint == "static" or endpoint.endswith(".static"):
        return None
    if access_of(endpoint) in {"public", "token"} or current_user.is_authenticated:
        return None
    return login_manager.unauthorized()


# What someone who must first choose a password of their own may still open.
ALLOWED_BEFORE_PASSWORD_CHANGE = frozenset(
    {"auth.change_password", "auth.logout", "auth.set_locale", "auth.login"}
)


def send_to_password_change() -> Any:
    """``before_request`` hook: someone signed in with a temporary password chooses their own
    before anything else (public pages and the API, which needs no sign-in, stay open)."""
    endpoint = request.endpoint
    if (
        endpoint is None
        or endpoint == "static"
        or endpoint.endswith(".static")
        or endpoint in ALLOWED_BEFORE_PASSWORD_CHANGE
        or access_of(endpoint) in {"public", "token"}
        or not current_user.is_authenticated
        or not current_user.must_change_password
    ):
        return None
    back = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.change_password", next=back))


def check_every_view_declares_access(app: Flask) -> None:
    missing = [
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint != "static"
        and not endpoint.endswith(".static")
        and getattr(view, ACCESS_ATTRIBUTE, None) is None
    ]
    if missing:
        raise RuntimeError(f"views without an access rule: {', '.join(sorted(missing))}")


def hr_region_id(user: User) -> int | None:
    """The region an HR person is limited to, or ``None`` when they see everything."""
    for assignment in user.roles:
        if assignment.role == Role.HR:
            return assignment.region_id
    return None


def visible_teams(user: User) -> Select[Any]:
    """The teams whose people ``user`` may see, as a query (nothing for plain employees)."""
    query = select(Team).join(Team.centre).order_by(Centre.name, Team.name)
    if user.has_role(Role.ADMIN):
        return query
    # The union of what each role allows, exactly as ``can_view_team`` decides for one team.
    scopes: list[ColumnElement[bool]] = []
    if user.has_role(Role.HR):
        region_id = hr_region_id(user)
        if region_id is None:
            return query
        scopes.append(Centre.region_id == region_id)
    if user.has_role(Role.MANAGER):
        scopes.append(Team.managers.any(User.id == user.id))
    return query.where(or_(*scopes)) if scopes else query.where(false())


def can_view_team(user: User, team: Team) -> bool:
    if user.has_role(Role.ADMIN):
        return True
    if user.has_role(Role.HR):
        region_id = hr_region_id(user)
        if region_id is None or team.centre.region_id == region_id:
            return True
    return user.has_role(Role.MANAGER) and any(m.id == user.id for m in team.managers)


def get_team_or_404(
    team_id: int, for_user: User, may: Callable[[User, Team], bool] = can_view_team
) -> Team:
    """The team, if it exists (404) and ``for_user`` may see it, or do what ``may`` says (403)."""
    team = db.session.get(Team, team_id)
    if team is None:
        abort(404)
    if not may(for_user, team):
        abort(403)
    return team


def get_own_attempt_or_404(attempt_id: int, slug: str, for_user: User) -> QuizAttempt:
    """An attempt at this module's quiz that belongs to ``for_user``.

    Anyone else's attempt is a 404, not a 403: its existence is nobody else's business.
    """
    attempt = db.session.scalar(
        select(QuizAttempt)
        .join(QuizAttempt.module)
        .where(
            QuizAttempt.id == attempt_id,
            QuizAttempt.user_id == for_user.id,
            CourseModule.slug == slug,
        )
    )
    if attempt is None:
        abort(404)
    return attempt


def manages(viewer: User, person: User) -> bool:
    """Whether ``viewer`` manages the team ``person`` belongs to (never themselves)."""
    if viewer.id == person.id or person.team_id is None or not viewer.has_role(Role.MANAGER):
        return False
    return any(team.id == person.team_id for team in viewer.managed_teams)


def can_view_person(viewer: User, person: User) -> bool:
    """A person's page (competencies, goals, reviews): themselves, and whoever may see their
    team (its managers, HR within the region, admins); people without a team, only admins
    and HR for everything."""
    if viewer.id == person.id:
        return True
    if person.team is not None:
        return can_view_team(viewer, person.team)
    return viewer.has_role(Role.ADMIN) or (
        viewer.has_role(Role.HR) and hr_region_id(viewer) is None
    )


def get_person_or_404(user_id: int, for_user: User) -> User:
    """The person, if they exist (404) and ``for_user`` may see their page (403)."""
    person = db.session.get(User, user_id)
    if person is None:
        abort(404)
    if not can_view_person(for_user, person):
        abort(403)
    return person


def get_goal_or_404(goal_id: int, for_user: User) -> Goal:
    """A goal whose owner ``for_user`` may see; anyone else's goal is a 404, like an attempt."""
    goal = db.session.get(Goal, goal_id)
    if goal is None or not can_view_person(for_user, goal.user):
        abort(404)
    return goal


def can_view_wall(viewer: User, team: Team) -> bool:
    """A team's wall of recognition: its members, and whoever may see the team."""
    return viewer.team_id == team.id or can_view_team(viewer, team)


def can_recognise(giver: User, recipient: User) -> bool:
    """Recognition: colleagues in the same team, and the recipient's managers; never oneself,
    never someone deactivated."""
    if giver.id == recipient.id or not recipient.active:
        return False
    same_team = giver.team_id is not None and giver.team_id == recipient.team_id
    return same_team or manages(giver, recipient)


def can_remind(sender: User, person: User) -> bool:
    """A reminder about the course: the person's managers, and HR and admins who may see the
    person; never oneself, never someone deactivated."""
    if sender.id == person.id or not person.active:
        return False
    if manages(sender, person):
        return True
    return sender.has_role(Role.HR, Role.ADMIN) and can_view_person(sender, person)


def administers_region(user: User, region_id: int | None) -> bool:
    """A region's organisation and people: admins, and HR for their region or everywhere.
    ``None`` stands for what lies outside every region (people without a team, new
    regions): only admins and HR for everything."""
    if user.has_role(Role.ADMIN):
        return True
    if not user.has_role(Role.HR):
        return False
    scope = hr_region_id(user)
    return scope is None or (region_id is not None and scope == region_id)


def can_set_org_goal(user: User, region_id: int) -> bool:
    """Organisational goals: HR for their region (or everywhere) and admins."""
    return administers_region(user, region_id)


def can_administer_person(user: User, person: User) -> bool:
    """Editing a person's account (name, e-mail, team, access, deactivation): admins, and HR
    for the people of their region; people without a team, admins and HR for everything.

    Whoever may give access to an account can become its holder, so HR administer only
    accounts whose powers lie within their own scope: never an administrator's, nor an HR
    person's who sees more than they do, nor a manager's of a team outside their region."""
    if user.has_role(Role.ADMIN):
        return True
    if not user.has_role(Role.HR) or person.has_role(Role.ADMIN):
        return False
    scope = hr_region_id(user)
    if scope is None:
        return True
    if person.team is None or person.team.centre.region_id != scope:
        return False
    if person.has_role(Role.HR) and hr_region_id(person) != scope:
        return False
    return all(team.centre.region_id == scope for team in person.managed_teams)


def can_change_roles(user: User) -> bool:
    """Only administrators give and take roles (and the region an HR person sees)."""
    return user.has_role(Role.ADMIN)


def administered_regions(user: User) -> Select[Any]:
    """The regions whose organisation and people ``user`` administers, by name."""
    query = select(Region).order_by(Region.name)
    if user.has_role(Role.ADMIN):
        return query
    if not user.has_role(Role.HR):
        return query.where(false())
    scope = hr_region_id(user)
    return query if scope is None else query.where(Region.id == scope)


def get_administered_person_or_404(user_id: int, for_user: User) -> User:
    """A person whose account ``for_user`` may edit: 404 when there is none, 403 otherwise."""
    person = db.session.get(User, user_id)
    if person is None:
        abort(404)
    if not can_administer_person(for_user, person):
        abort(403)
    return person
