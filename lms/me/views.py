"""A person's own pages: the home page for their roles and their profile."""

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import func, select

from lms.content import get_course
from lms.extensions import db
from lms.i18n import current_locale
from lms.models import Centre, Region, Role, Team, User
from lms.permissions import signed_in, visible_teams

bp = Blueprint("me", __name__)


@bp.get("/")
@signed_in
def home() -> str:
    course = get_course()
    locale = current_locale()
    modules = [(module, module.text(locale)) for module in course.modules]
    teams = []
    if current_user.has_role(Role.MANAGER, Role.HR, Role.ADMIN):
        teams = list(db.session.scalars(visible_teams(current_user).limit(50)))
    organisation = None
    if current_user.has_role(Role.HR, Role.ADMIN):
        organisation = {
            "regions": db.session.scalar(select(func.count(Region.id))),
            "centres": db.session.scalar(select(func.count(Centre.id))),
            "teams": db.session.scalar(select(func.count(Team.id))),
            "people": db.session.scalar(select(func.count(User.id)).where(User.active)),
        }
    return render_template("me/home.html", modules=modules, teams=teams, organisation=organisation)


@bp.get("/me")
@signed_in
def profile() -> str:
    return render_template("me/profile.html", person=current_user)
