"""A person's page (competencies, goals, reviews, badges, recognition) and the competency
review a manager records for a person in their team."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from io import BytesIO

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from lms.content import get_course
from lms.content.pdf import PdfUnavailable, render_pdf
from lms.extensions import db
from lms.i18n import current_locale
from lms.models import User
from lms.people.forms import ReviewForm, review_form
from lms.permissions import can_recognise, get_person_or_404, manages, signed_in
from lms.services import audit, certificates, competencies, exports, goals, recognition, reviews
from lms.services.reviews import PlannedAction, Rating, ReviewRefused

bp = Blueprint("people", __name__, url_prefix="/people")


@bp.get("/<int:user_id>")
@signed_in
def person(user_id: int) -> str:
    person = get_person_or_404(user_id, current_user)
    course = get_course()
    return render_template(
        "people/person.html",
        person=person,
        is_self=person.id == current_user.id,
        is_manager=manages(current_user, person),
        can_recognise=can_recognise(current_user, person),
        statuses=competencies.competency_statuses(person, course),
        levels=course.framework.levels,
        competencies=course.competencies,
        goals=goals.goals_of(person),
        state_label=goals.state_label,
        reviews=reviews.reviews_of(person),
        badges=recognition.badges_of(person),
        badge_text=recognition.badge_text,
        recognitions=recognition.recognitions_of(person),
        locale=current_locale(),
    )


@bp.get("/<int:user_id>/transcript.pdf")
@signed_in
def transcript(user_id: int) -> Response | tuple[str, int]:
    """The person's training transcript: each module with its status, score, attempts,
    completion date and content version, and the certificate; for the person and whoever may
    see their page."""
    person = get_person_or_404(user_id, current_user)
    locale = current_locale()
    record = exports.transcript(person, get_course(), locale)
    certificate = record.certificate
    generated_at = datetime.now(UTC)
    html = render_template(
        "people/transcript_pdf.html",
        transcript=record,
        person=person,
        statuses=exports.status_labels(),
        code=certificates.format_code(certificate.code) if certificate else None,
        verify_url=(
            url_for(
                "certificates.verify",
                code=certificates.format_code(certificate.code),
                _external=True,
            )
            if certificate
            else None
        ),
        generated_at=generated_at,
        locale=locale,
    )
    try:
        pdf = render_pdf(html)
    except PdfUnavailable as error:
        current_app.logger.error("transcript PDF cannot be made: %s", error)
        message = _("The PDF cannot be made right now. Please try again later.")
        return render_template("errors/error.html", code=503, message=message), 503
    audit.record(current_user, "export.transcript", person=person.id, rows=len(record.lines))
    db.session.commit()
    return send_file(
        BytesIO(pdf),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"transcript-{person.id}-{generated_at.date().isoformat()}.pdf",
    )


def _reviewed_person(user_id: int) -> User:
    person = get_person_or_404(user_id, current_user)
    if not manages(current_user, person):
        abort(403)  # HR and admins see the page; only the person's manager reviews
    return person


@bp.route("/<int:user_id>/review", methods=["GET", "POST"])
@signed_in
def review(user_id: int) -> Response | str | tuple[str, int]:
    person = _reviewed_person(user_id)
    course = get_course()
    locale = current_locale()
    form = review_form(course.competencies)
    form.offer(course.competencies, course.framework.levels, locale)
    planned = _actions(form) if form.validate_on_submit() else None
    if planned is not None:
        try:
            reviews.record_review(
                current_user,
                person,
                _ratings(form, course.competencies),
                strengths=form.strengths.data or "",
                actions=planned,
            )
        except ReviewRefused as refused:
            db.session.rollback()
            form.form_errors.append(str(refused))
        else:
            db.session.commit()
            flash(_("The review is saved. %(name)s has been told.", name=person.full_name))
            return redirect(url_for("people.person", user_id=person.id, _anchor="reviews"))
    page = render_template(
        "people/review.html",
        person=person,
        form=form,
        competencies=course.competencies,
        statuses={s.competency.id: s for s in competencies.competency_statuses(person, course)},
        locale=locale,
    )
    return (page, 400) if form.is_submitted() else page


def _ratings(form: ReviewForm, ids: Mapping[str, object]) -> dict[str, Rating]:
    ratings = {}
    for competency_id in ids:
        entry = form.ratings[competency_id]
        if entry.level.data:
            ratings[competency_id] = Rating(int(entry.level.data), entry.comment.data or "")
    return ratings


def _actions(form: ReviewForm) -> list[PlannedAction] | None:
    """The development plan's filled rows; None (with the errors on the form) when a row
    is half filled."""
    planned, complete = [], True
    for entry in form.actions:
        text, due_on = (entry.text.data or "").strip(), entry.due_on.data
        if not text and due_on is None:
            continue  # an empty row of the plan
        if due_on is None:
            entry.due_on.errors = [_("Give the action a due date.")]
            complete = False
        elif not text:
            entry.text.errors = [_("Describe the action.")]
            complete = False
        else:
            planned.append(PlannedAction(text, due_on, entry.competency_id.data or None))
    return planned if complete else None
