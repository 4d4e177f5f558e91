"""HR's reports at /hr: the dashboard over a region or everything, with filters and exports."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.content import get_course
from lms.extensions import db
from lms.hr import bp
from lms.i18n import current_locale
from lms.models import Centre, Region, Role
from lms.permissions import hr_region_id, role_required, visible_teams
from lms.services.reports import BadFilter, Filters
from lms.team.views import dashboard_context


@bp.get("")
@role_required(Role.HR, Role.ADMIN)
def reports() -> tuple[str, int] | str:
    try:
        filters = Filters.from_args(request.args)
    except BadFilter as error:
        abort(400, description=str(error))
    region_id = None if current_user.has_role(Role.ADMIN) else hr_region_id(current_user)
    regions = (
        select(Region)
        .options(selectinload(Region.centres).selectinload(Centre.teams))
        .order_by(Region.name)
    )
    if region_id is not None:
        regions = regions.where(Region.id == region_id)
    course = get_course()
    locale = current_locale()
    context = dashboard_context(filters, "hr.reports")
    return render_template(
        "hr/reports.html",
        filters=filters,
        regions=list(db.session.scalars(regions)),
        teams=list(db.session.scalars(visible_teams(current_user))),
        modules=[(module.slug, module.text(locale).title) for module in course.modules],
        export_args=filters.as_args(),
        **context,
    )
