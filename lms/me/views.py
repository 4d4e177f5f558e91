"""A person's own pages: the home page for their roles, and my learning with the profile."""

from typing import Any

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import Select, func, select

from lms.content import get_course
from lms.extensions import db
from lms.i18n import current_locale
from lms.models import Centre, Region, Role, Team, User
from lms.permissions import hr_region_id, signed_in, visible_teams
from lms.services import certificates, progress

bp = Blueprint("me", __name__)


@bp.get("/")
@signed_in
def home() -> str:
    course = get_course()
    locale = current_locale()
    done = progress.course_progress(current_user, course)
    modules = [(module, module.text(locale), done[module.slug]) for module in course.modules]
    following = next((entry for entry in modules if not entry[2].complete), None)
    teams = []
    if current_user.has_role(Role.MANAGER, Role.HR, Role.ADMIN):
        teams = list(db.session.scalars(visible_teams(current_user).limit(50)))
    organisation = None
    if current_user.has_role(Role.HR, Role.ADMIN):
        organisation = _organisation_counts(
            None if current_user.has_role(Role.ADMIN) else hr_region_id(current_user)
        )
    return render_template(
        "me/home.html", modules=modules, following=following, teams=teams, organisation=organisation
    )


def _organisation_counts(region_id: int | None) -> dict[str, int]:
    """Regions, centres, teams and active people, within one region when one is given."""
    centres = select(Centre.id)
    regions = select(Region.id)
    if region_id is not None:
        centres = centres.where(Centre.region_id == region_id)
        regions = regions.where(Region.id == region_id)
    teams = select(Team.id).where(Team.centre_id.in_(centres))
    people = select(User.id).where(User.active, User.team_id.in_(teams))

    def count(query: Select[Any]) -> int:
        return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0

    return {"regions": count(regions), "centres": count(centres), "teams": count(teams),
            "people": count(people)}  # fmt: skip


@bp.get("/me")
@signed_in
def learning() -> str:
    """My learning: progress per module and for the course, the certificate, and the profile."""
    course = get_course()
    locale = current_locale()
    modules = progress.course_progress(current_user, course)
    entries = [(module, module.text(locale), modules[module.slug]) for module in course.modules]
    complete = sum(1 for *_, module_progress in entries if module_progress.complete)
    return render_template(
        "me/learning.html",
        person=current_user,
        entries=entries,
        complete=complete,
        certificate=certificates.certificate_of(current_user),
        format_code=certificates.format_code,
    )
