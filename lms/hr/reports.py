"""HR's reports at /hr: the dashboard over a region or everything, with filters and exports."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from lms.content import get_course
from lms.extensions import db
from lms.hr import bp
from lms.i18n import current_locale
from lms.models import Centre, Region, Role, Team
from lms.permissions import hr_region_id, role_required, visible_teams
from lms.services.reports import BadFilter, Filters
from lms.team.views import bad_filter_page, cached_html, dashboard_context


@bp.get("")
@role_required(Role.HR, Role.ADMIN)
def reports() -> tuple[str, int] | str:
    try:
        filters = Filters.from_args(request.args)
    except BadFilter as error:
        abort(bad_filter_page(error))
    body = cached_html("hr.reports:page", {}, lambda slots: _page(filters, slots))
    return render_template("hr/reports.html", body=body)


def _page(filters: Filters, slots: dict[str, Any]) -> str:
    """The filters, export links and dashboard of ``/hr``, rendered (kept by cached_html)."""
    region_id = None if current_user.has_role(Role.ADMIN) else hr_region_id(current_user)
    regions = select(Region).order_by(Region.name)
    if region_id is not None:
        regions = regions.where(Region.id == region_id)
    region_list = list(db.session.scalars(regions))
    # Centres and teams are offered within one region: the chosen one, the chosen centre's,
    # or the viewer's only one. A country's 2,500 centres and 5,000 teams in two lists would
    # be slow to send and useless to scroll.
    narrowed = filters.region or region_id or (region_list[0].id if len(region_list) == 1 else None)
    if narrowed is None and filters.centre is not None:
        narrowed = db.session.scalar(select(Centre.region_id).where(Centre.id == filters.centre))
    centres: list[Centre] = []
    teams: list[Team] = []
    if narrowed is not None and any(region.id == narrowed for region in region_list):
        centres = list(
            db.session.scalars(
                select(Centre).where(Centre.region_id == narrowed).order_by(Centre.name)
            )
        )
        teams = list(
            db.session.scalars(
                visible_teams(current_user)
                .options(contains_eager(Team.centre))
                .where(Centre.region_id == narrowed)
            )
        )
    course = get_course()
    locale = current_locale()
    dashboard = Markup(  # noqa: S704  (our own template's output)
        render_template(
            "reports/_dashboard.html", **slots, **dashboard_context(filters, "hr.reports")
        )
    )
    return render_template(
        "hr/_reports_body.html",
        **slots,
        filters=filters,
        regions=region_list,
        centres=centres,
        teams=teams,
        modules=[(module.slug, module.text(locale).title) for module in course.modules],
        export_args=filters.as_args(),
        dashboard=dashboard,
    )
