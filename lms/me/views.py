"""A person's own pages: the home page for their roles, and my learning with the profile."""

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Select, func, select
from sqlalchemy.orm import contains_eager
from werkzeug.wrappers import Response

from lms.content import get_course
from lms.extensions import db
from lms.i18n import current_locale
from lms.me.forms import SelfAssessmentForm
from lms.models import Centre, EvidenceKind, Region, Role, Team, User
from lms.permissions import hr_region_id, signed_in, visible_teams
from lms.services import certificates, progress
from lms.services import competencies as competency_service

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
        teams = list(
            db.session.scalars(
                visible_teams(current_user).options(contains_eager(Team.centre)).limit(50)
            )
        )
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


@bp.get("/me/competencies")
@signed_in
def competencies() -> str:
    return _render_competencies()


@bp.post("/me/competencies/<competency_id>/self-assessment")
@signed_in
def self_assess(competency_id: str) -> Response | tuple[str, int]:
    """The person's own view of their level in one competency, with what shows it."""
    course = get_course()
    if competency_id not in course.competencies:
        abort(404)
    form = SelfAssessmentForm().offer_levels(course.framework.levels, current_locale())
    if not form.validate_on_submit():
        return _render_competencies(invalid=(competency_id, form)), 400
    competency_service.record_evidence(
        current_user,
        competency_id,
        EvidenceKind.SELF,
        form.level.data,
        comment=form.comment.data or "",
        recorded_by=current_user,
    )
    db.session.commit()
    flash(_("Your self-assessment is saved."))
    return redirect(url_for("me.competencies", _anchor=competency_id))


def _render_competencies(invalid: tuple[str, SelfAssessmentForm] | None = None) -> str:
    course = get_course()
    locale = current_locale()
    statuses = competency_service.competency_statuses(current_user, course)
    forms = {}
    for status in statuses:
        if invalid is not None and invalid[0] == status.competency.id:
            forms[status.competency.id] = invalid[1]
            continue
        own = status.self_assessment
        form = SelfAssessmentForm(formdata=None, level=own.level if own else (status.level or 1))
        forms[status.competency.id] = form.offer_levels(course.framework.levels, locale)
    return render_template(
        "me/competencies.html",
        statuses=statuses,
        forms=forms,
        levels=course.framework.levels,
        locale=locale,
        building={c: course.modules_building(c) for c in course.competencies},
        modules={module.slug: module for module in course.modules},
        self_cap=competency_service.SELF_ASSESSMENT_CAP,
    )
