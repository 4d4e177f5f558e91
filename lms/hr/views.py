"""HR: the organisational client-centric goals of centres and regions."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from lms.extensions import db
from lms.hr import bp
from lms.hr.forms import OrgGoalForm
from lms.models import Centre, OrgGoal, Region, Role
from lms.permissions import hr_region_id, role_required
from lms.services import goals
from lms.services.goals import GoalRefused


def _scope_region_id() -> int | None:
    """The region the person works within, or None for everything (admins, national HR)."""
    return None if current_user.has_role(Role.ADMIN) else hr_region_id(current_user)


def _scope_choices(region_id: int | None) -> list[tuple[str, str]]:
    regions = select(Region).options(selectinload(Region.centres)).order_by(Region.name)
    if region_id is not None:
        regions = regions.where(Region.id == region_id)
    choices = [("", _("Choose…"))]
    for region in db.session.scalars(regions):
        choices.append((f"region:{region.id}", _("Region: %(name)s", name=region.name)))
        choices += [(f"centre:{centre.id}", f"— {centre.name}") for centre in region.centres]
    return choices


@bp.route("/goals", methods=["GET", "POST"])
@role_required(Role.HR, Role.ADMIN)
def org_goals() -> Response | str | tuple[str, int]:
    region_id = _scope_region_id()
    form = OrgGoalForm()
    form.scope.choices = _scope_choices(region_id)
    if form.validate_on_submit():
        kind, _sep, value = (form.scope.data or "").partition(":")
        region = db.session.get(Region, int(value)) if kind == "region" else None
        centre = db.session.get(Centre, int(value)) if kind == "centre" else None
        try:
            goals.create_org_goal(
                current_user,
                title=form.title.data or "",
                measure=form.measure.data or "",
                target=form.target.data or "",
                starts_on=form.starts_on.data,
                ends_on=form.ends_on.data,
                region=region,
                centre=centre,
            )
        except GoalRefused as refused:
            db.session.rollback()
            form.form_errors.append(str(refused))
        else:
            db.session.commit()
            flash(
                _(
                    "The organisational goal is saved. People of that centre or region can now link their goals to it."
                )
            )
            return redirect(url_for("hr.org_goals"))
    query = select(OrgGoal).outerjoin(Centre, OrgGoal.centre_id == Centre.id)
    if region_id is not None:
        query = query.where(or_(OrgGoal.region_id == region_id, Centre.region_id == region_id))
    existing = db.session.scalars(query.order_by(OrgGoal.ends_on.desc(), OrgGoal.title))
    page = render_template("hr/org_goals.html", form=form, org_goals=list(existing))
    return (page, 400) if form.is_submitted() else page
