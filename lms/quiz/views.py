"""End-of-module quizzes: the quiz page, starting or resuming an attempt, answering, the result."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from lms.content import Course, Module, get_course
from lms.content.quizzes import QuizBank
from lms.extensions import db
from lms.i18n import current_locale
from lms.models import QuizAttempt
from lms.permissions import get_own_attempt_or_404, signed_in
from lms.quiz.display import form_questions, review_questions
from lms.services import grading, progress, quizzes

bp = Blueprint("quiz", __name__)


def _quiz_or_404(slug: str) -> tuple[Course, Module, QuizBank]:
    course = get_course()
    module = course.module(slug)
    bank = course.quizzes.get(slug)
    if module is None or bank is None:
        abort(404)
    try:
        progress.published_version(slug)
    except progress.NotPublished:
        abort(404)
    return course, module, bank


@bp.get("/modules/<slug>/quiz")
@signed_in
def overview(slug: str) -> str:
    course, module, bank = _quiz_or_404(slug)
    state = quizzes.quiz_state(current_user, course, module)
    if state.graded_now:  # an attempt whose time ran out has just been graded
        db.session.commit()
    return render_template(
        "quiz/overview.html",
        module=module,
        text=module.text(current_locale()),
        settings=bank.settings,
        state=state,
        Closed=quizzes.Closed,
    )


@bp.post("/modules/<slug>/quiz/start")
@signed_in
def start(slug: str) -> Response:
    course, module, _bank = _quiz_or_404(slug)
    try:
        attempt = quizzes.start_attempt(current_user, course, module)
    except quizzes.QuizClosed:
        db.session.commit()
        flash(_("A new attempt cannot be started."), "error")
        return redirect(url_for("quiz.overview", slug=slug))
    db.session.commit()
    return redirect(url_for("quiz.attempt", slug=slug, attempt_id=attempt.id))


@bp.get("/modules/<slug>/quiz/attempts/<int:attempt_id>")
@signed_in
def attempt(slug: str, attempt_id: int) -> tuple[str, int]:
    course, module, bank = _quiz_or_404(slug)
    found = get_own_attempt_or_404(attempt_id, slug, current_user)
    if quizzes.finish_if_expired(found, course, module):
        db.session.commit()
        _flash_time_ran_out()
    return _render_attempt(course, module, bank, found)


def _render_attempt(
    course: Course,
    module: Module,
    bank: QuizBank,
    found: QuizAttempt,
    error: str | None = None,
    status: int = 200,
    invalid: frozenset[int] = frozenset(),
) -> tuple[str, int]:
    locale = current_locale()
    context = {"module": module, "text": module.text(locale), "settings": bank.settings,
               "attempt": found, "error": error, "invalid": invalid}  # fmt: skip
    state = quizzes.quiz_state(current_user, course, module)
    if state.graded_now:
        db.session.commit()
    context["state"], context["allowed"] = state, state.allowed
    if found.in_progress:
        template = "quiz/attempt.html"
        context["questions"] = form_questions(found, bank, locale)
    else:
        template = "quiz/result.html"
        context["review"] = review_questions(found, bank, locale) if bank.settings.review else []
    return render_template(template, **context), status


@bp.post("/modules/<slug>/quiz/attempts/<int:attempt_id>")
@signed_in
def answer(slug: str, attempt_id: int) -> Response | tuple[Response | str, int]:
    """Save the answers (button or autosave) or submit them for grading."""
    course, module, bank = _quiz_or_404(slug)
    found = get_own_attempt_or_404(attempt_id, slug, current_user)
    action = request.form.get("action", "save")
    wants_json = request.headers.get("X-Requested-With") == "fetch"
    back = url_for("quiz.attempt", slug=slug, attempt_id=found.id)
    if action not in ("save", "submit"):
        abort(400)
    if not found.in_progress:
        return _already_graded(back, wants_json)
    try:
        answers = grading.parse_answers(found.layout, request.form.to_dict(flat=False))
    except grading.InvalidAnswers as invalid:
        db.session.rollback()
        message = _invalid_message(invalid)
        if wants_json:
            return jsonify(saved=False, error=message), 400
        return _render_attempt(
            course, module, bank, found, error=message, status=400,
            invalid=frozenset(invalid.questions),
        )  # fmt: skip
    if action == "save":
        if quizzes.finish_if_expired(found, course, module):
            db.session.commit()
            return _already_graded(back, wants_json, timed_out=True)
        saved = quizzes.save_answers(found, answers)
        db.session.commit()
        if not saved:  # submitted from another tab a moment ago
            return _already_graded(back, wants_json)
        if wants_json:
            return jsonify(saved=True, url=back)
        flash(_("Your answers are saved. You can come back and finish later."))
        return redirect(back)
    recorded = quizzes.submit(found, course, module, answers)
    db.session.commit()
    if not recorded:
        return _already_graded(back, wants_json=False)
    if found.timed_out:
        _flash_time_ran_out()
    return redirect(back)


def _already_graded(
    back: str, wants_json: bool, timed_out: bool = False
) -> Response | tuple[Response, int]:
    """The attempt is graded (by another tab, or the clock): say so and show its result."""
    if wants_json:
        return jsonify(saved=False, submitted=True, url=back), 409
    if timed_out:
        _flash_time_ran_out()
    else:
        flash(_("This attempt was already submitted. Here is its result."))
    return redirect(back)


def _flash_time_ran_out() -> None:
    flash(_("Time ran out. The attempt was graded with the answers saved in time."), "error")


def _invalid_message(invalid: grading.InvalidAnswers) -> str:
    numbers = [str(number) for number in invalid.questions if number]
    if numbers:
        return _(
            "Some answers could not be read (questions: %(numbers)s). Nothing was saved: "
            "please check these questions and send your answers again.",
            numbers=", ".join(numbers),
        )
    return _(
        "The form contained answers to questions that are not in this attempt. Nothing was "
        "saved: please reload the page and send your answers again."
    )
