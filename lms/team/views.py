"""Teams as their managers see them (HR and admins within their scope)."""

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select

from lms.extensions import db
from lms.models import Role, User
from lms.permissions import get_team_or_404, role_required, visible_teams

bp = Blueprint("team", __name__, url_prefix="/team")


@bp.get("")
@role_required(Role.MANAGER, Role.HR, Role.ADMIN)
def index() -> str:
    teams = list(db.session.scalars(visible_teams(current_user)))
    return render_template("team/index.html", teams=teams)


@bp.get("/<int:team_id>")
@role_required(Role.MANAGER, Role.HR, Role.ADMIN)
def detail(team_id: int) -> str:
    team = get_team_or_404(team_id, current_user)
    members = db.session.scalars(
        select(User).where(User.team_id == team.id, User.active).order_by(User.full_name)
    ).all()
    return render_template("team/detail.html", team=team, members=members)
