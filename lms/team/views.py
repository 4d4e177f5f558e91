"""Team dashboards for managers (and HR and admins within their scope), and reminders."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date, format_time
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf as csrf_token
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import contains_eager
from werkzeug.wrappers import Response

from lms.cache import cache
from lms.content import get_course
from lms.extensions import db
from lms.fragments import fill, slot
from lms.i18n import current_locale
from lms.models import ModuleCompletion, Role, Team, User, team_managers
from lms.permissions import (
    can_remind,
    get_person_or_404,
    get_team_or_404,
    hr_region_id,
    role_required,
    visible_teams,
)
from lms.services import reminders, reports
from lms.services.reminders import ReminderRefused
from lms.services.reports import BadFilter, Filters

bp = Blueprint("team", __name__, url_prefix="/team")


def status_labels() -> dict[str, str]:
    return {
        reports.COMPLETE: _("Completed"),
        reports.IN_PROGRESS: _("In progress"),
        reports.NOT_STARTED: _("Not started"),
    }


CSRF_SLOT = slot("csrf")  # where each viewer's own token goes into a cached dashboard


def dashboard_html(filters: Filters, endpoint: str, **endpoint_args: Any) -> Markup:
    """The dashboard, rendered, from the shared cache when it is there.

    Counting a region or a country takes seconds, and the figures need not be live to the
    second: the rendered dashboard is kept for ``REPORT_CACHE_SECONDS`` (Redis, so every
    app server uses it) under a key made of everything it depends on: the viewer and their
    scope, the page's address and arguments, the language and the date. It holds no CSRF
    token (a slot is filled in for each request), and a reminder the viewer sends starts
    their dashboards afresh so that it shows at once.
    """
    return cached_html(
        endpoint,
        endpoint_args,
        lambda slots: render_template(
            "reports/_dashboard.html",
            **slots,
            **dashboard_context(filters, endpoint, **endpoint_args),
        ),
    )


def cached_html(
    endpoint: str, endpoint_args: dict[str, Any], render: Callable[[dict[str, Any]], str]
) -> Markup:
    """What ``render`` gives, kept as ``dashboard_html`` keeps a dashboard: per viewer, scope,
    address and arguments, language and date, for ``REPORT_CACHE_SECONDS``. ``render`` is
    given what the templates need for that (``csrf_token``, a slot; ``as_of``, when kept).
    A page's filters and lists go in the same entry as its dashboard, so that a page served
    from the cache asks the database for nothing but the viewer's scope."""
    seconds = current_app.config["REPORT_CACHE_SECONDS"]
    slots: dict[str, Any] = {"csrf_token": lambda: CSRF_SLOT}
    if seconds <= 0:
        return _rendered(render(slots))
    key = _dashboard_key(endpoint, endpoint_args)
    cached = cache().get(key)
    if cached is not None:
        return _rendered(cached)
    html = render({**slots, "as_of": format_time(datetime.now(UTC), "short")})
    cache().set(key, html, seconds)
    return _rendered(html)


def _rendered(html: str) -> Markup:
    """Our own template's output (escaped as it was rendered), with this request's token."""
    return fill(html, {"csrf": csrf_token()})


def _dashboard_key(endpoint: str, endpoint_args: dict[str, Any]) -> str:
    generation = cache().get(_generation_key(current_user.id)) or "0"
    # The teams they manage are part of their scope: a manager moved off a team stops
    # seeing it at once, not when the entry expires.
    managed = db.session.scalars(
        select(team_managers.c.team_id)
        .where(team_managers.c.user_id == current_user.id)
        .order_by(team_managers.c.team_id)
    ).all()
    parts = [
        current_user.id,
        generation,
        sorted(current_user.role_names),
        hr_region_id(current_user),
        list(managed),
        endpoint,
        sorted(endpoint_args.items()),
        sorted(request.args.items(multi=True)),
        current_locale(),
        reports.today().isoformat(),
    ]
    digest = hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()
    return f"dashboard:{digest}"


def _generation_key(user_id: int) -> str:
    return f"dashboard-generation:{user_id}"


def dashboard_context(filters: Filters, endpoint: str, **endpoint_args: Any) -> dict[str, Any]:
    """What ``reports/_dashboard.html`` needs, for the people the current user may see."""
    course = get_course()
    locale = current_locale()
    titles = {module.slug: module.text(locale).title for module in course.modules}
    names = {key: competency.names[locale] for key, competency in course.competencies.items()}
    today = reports.today()
    page = reports.parse_id(request.args.get("page", "")) or 1
    d = reports.dashboard(current_user, filters, list(names), today, page)
    labels = status_labels()

    def page_url(number: int) -> str:
        args: dict[str, Any] = {**endpoint_args, **filters.as_args(), "page": number}
        return url_for(endpoint, _anchor="matrix", **args)

    return {
        "d": d,
        "titles": titles,
        "competency_names": names,
        "status_labels": labels,
        "page_url": page_url,
        "can_remind": lambda person: can_remind(current_user, person),
        "behind_days": reports.BEHIND_AFTER_DAYS,
        "list_limit": reports.PAGE_SIZE,
        "check_in_days": reports.CHECK_IN_EVERY_DAYS,
        "module_chart": [
            (
                titles.get(summary.module, summary.module),
                [summary.counts[status] for status in reversed(reports.STATUSES)],
            )
            for summary in d.modules
        ],
        "level_chart": [
            (names[competency], [counts[level] for level in (4, 3, 2, 1, 0)])
            for competency, counts in d.levels.items()
        ],
        "time_chart": [(_bucket_label(bucket), bucket.count) for bucket in d.over_time],
    }


def _bucket_label(bucket: reports.Bucket) -> str:
    """A week by its first day, a month by its name, a year by its number."""
    days = (bucket.end - bucket.start).days
    if days > 31:
        return str(bucket.start.year)
    if days > 6:
        return format_date(bucket.start, "LLL yy")
    return format_date(bucket.start, "d.MM" if current_locale() == "ru" else "MMM d")


def _filters() -> Filters:
    try:
        return Filters.from_args(request.args)
    except BadFilter as error:
        abort(bad_filter_page(error))


def bad_filter_page(error: BadFilter) -> Response:
    """The 400 page that says which filter is wrong and why (the error pages show no
    ``abort`` description)."""
    page = render_template("errors/error.html", code=400, message=str(error))
    return make_response(page, 400)


@bp.get("")
@role_required(Role.MANAGER, Role.HR, Role.ADMIN)
def index() -> str:
    filters = _filters()
    # Managers choose among their teams; narrowing to a team they cannot see shows nobody.
    filters = Filters(
        team=filters.team, module=filters.module, since=filters.since, until=filters.until
    )

    def render(slots: dict[str, Any]) -> str:
        teams = list(
            db.session.scalars(visible_teams(current_user).options(contains_eager(Team.centre)))
        )
        dashboard = Markup(  # noqa: S704  (our own template's output)
            render_template(
                "reports/_dashboard.html", **slots, **dashboard_context(filters, "team.index")
            )
        )
        return render_template(
            "team/_index_body.html", teams=teams, filters=filters, dashboard=dashboard, **slots
        )

    body = cached_html("team.index:page", {}, render)
    return render_template("team/index.html", body=body)


@bp.get("/<int:team_id>")
@role_required(Role.MANAGER, Role.HR, Role.ADMIN)
def detail(team_id: int) -> str:
    team = get_team_or_404(team_id, current_user)
    filters = _filters()
    filters = Filters(team=team.id, module=filters.module, since=filters.since, until=filters.until)
    dashboard = dashboard_html(filters, "team.detail", team_id=team.id)
    return render_template("team/detail.html", team=team, filters=filters, dashboard=dashboard)


@bp.post("/people/<int:user_id>/remind")
@role_required(Role.MANAGER, Role.HR, Role.ADMIN)
def remind(user_id: int) -> Response:
    person = get_person_or_404(user_id, current_user)
    completed = db.session.scalar(
        select(db.func.count(ModuleCompletion.id)).where(ModuleCompletion.user_id == person.id)
    )
    modules_left = max(len(get_course().modules) - (completed or 0), 0)
    try:
        reminders.remind(current_user, person, modules_left)
    except ReminderRefused as refused:
        db.session.rollback()
        if refused.status == 403:
            abort(403)
        flash(str(refused), "error")
    else:
        db.session.commit()
        cache().incr(_generation_key(current_user.id))  # their dashboards show it at once
        emailed = reminders.send_email(current_user, person, modules_left)
        if emailed:
            flash(
                _(
                    "A reminder was sent to %(name)s in the app and by e-mail.",
                    name=person.full_name,
                )
            )
        else:
            flash(_("A reminder was sent to %(name)s in the app.", name=person.full_name))
    return redirect(_back(person))


def _back(person: User) -> str:
    """Back to the dashboard the reminder was sent from (only a local path is followed)."""
    target = request.form.get("next", "")
    parts = urlsplit(target)
    local = target.startswith("/") and target[1:2] not in {"/", "\\"}
    if local and not parts.scheme and not parts.netloc:
        return target
    return url_for("team.index")
