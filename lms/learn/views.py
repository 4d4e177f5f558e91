"""Reading the course: the outline, a module, its memos (printable page and PDF), and the
competency framework."""

from io import BytesIO

from flask import Blueprint, abort, current_app, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response

from lms.content import Course, Module, get_course
from lms.content.loader import Memo, ModuleText
from lms.content.pdf import PdfUnavailable, memo_pdf
from lms.extensions import db
from lms.fragments import render_shared
from lms.i18n import current_locale
from lms.permissions import signed_in
from lms.services import progress

bp = Blueprint("learn", __name__)


def _module_or_404(course: Course, slug: str) -> Module:
    module = course.module(slug)
    if module is None:
        abort(404)
    return module


def _memo_or_404(slug: str, memo_id: str) -> tuple[Course, Module, ModuleText, Memo]:
    """The course, module, text in the reader's language and memo; 404 if any is missing."""
    course = get_course()
    module = _module_or_404(course, slug)
    text = module.text(current_locale())
    memo = text.memo(memo_id)
    if memo is None:
        abort(404)
    return course, module, text, memo


@bp.get("/modules")
@signed_in
def catalog() -> str:
    course = get_course()
    locale = current_locale()
    done = progress.course_progress(current_user, course)
    entries = [
        (module, module.text(locale), course.render(module, locale), done[module.slug])
        for module in course.modules
    ]
    complete = sum(1 for *_, module_progress in entries if module_progress.complete)
    return render_template("learn/catalog.html", entries=entries, complete=complete)


@bp.get("/modules/<slug>")
@signed_in
def module(slug: str) -> str:
    course = get_course()
    found = _module_or_404(course, slug)
    locale = current_locale()
    previous, following = course.neighbours(found)
    text = found.text(locale)
    mine = progress.course_progress(current_user, course)[found.slug]
    # The page is the same for everyone at the same point of the module: rendered once
    # for each such point (the key is everything it shows), with each reader's own token.
    key = [
        [module.content_hash for module in course.modules],
        found.slug,
        locale,
        sorted(mine.sections_read),
        sorted(mine.done),
        mine.completion.completed_at.isoformat() if mine.completion else None,
        mine.quiz.best_score if mine.quiz else None,
    ]
    body = render_shared(
        "learn/_module_body.html",
        key,
        {"csrf_token": generate_csrf()},
        module=found,
        text=text,
        rendered=course.render(found, locale),
        progress=mine,
        has_quiz=found.slug in course.quizzes,
        competencies=[course.competencies[c] for c in found.competencies],
        previous=previous.text(locale) if previous else None,
        previous_module=previous,
        following=following.text(locale) if following else None,
        following_module=following,
        position=course.modules.index(found) + 1,
        total=len(course.modules),
    )
    return render_template("learn/module.html", text=text, body=body)


@bp.post("/modules/<slug>/sections/<section_id>/read")
@signed_in
def mark_read(slug: str, section_id: str) -> Response:
    """Mark a section as read and go on to the next one (or to the tasks after the last)."""
    course = get_course()
    found = _module_or_404(course, slug)
    sections = progress.section_ids(course, found)
    try:
        progress.mark_section_read(current_user, course, found, section_id)
    except (LookupError, progress.NotPublished):
        abort(404)
    db.session.commit()
    following = sections.index(section_id) + 1
    anchor = sections[following] if following < len(sections) else "after-reading"
    return redirect(url_for("learn.module", slug=slug, _anchor=anchor))


@bp.get("/modules/<slug>/memos/<memo_id>")
@signed_in
def memo(slug: str, memo_id: str) -> str:
    course, found, text, found_memo = _memo_or_404(slug, memo_id)
    return render_template(
        "learn/memo.html",
        module=found,
        text=text,
        memo=found_memo,
        rendered=course.render_memo(found, found_memo),
    )


@bp.get("/modules/<slug>/memos/<memo_id>.pdf")
@signed_in
def memo_download(slug: str, memo_id: str) -> Response:
    """The memo as a PDF; downloading it marks the module's "download the memo" task done."""
    course, found, text, found_memo = _memo_or_404(slug, memo_id)
    try:
        path = memo_pdf(course, found, found_memo, text.locale)
    except PdfUnavailable as error:
        current_app.logger.error("memo PDF cannot be made: %s", error)
        message = _("The PDF cannot be made right now. The printable page of the memo works.")
        return Response(
            render_template("errors/error.html", code=503, message=message, memo_module=found,
                            memo=found_memo),
            status=503,
        )  # fmt: skip
    try:
        progress.record_memo_download(current_user, course, found, memo_id, text.locale)
    except progress.NotPublished:
        current_app.logger.warning("memo of unpublished module %s downloaded; not recorded", slug)
    db.session.commit()
    return send_file(
        BytesIO(path.read_bytes()),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"{slug}-{memo_id}-{text.locale}.pdf",
    )


@bp.get("/competencies")
@signed_in
def competencies() -> str:
    course = get_course()
    locale = current_locale()
    building = {
        competency_id: [(m, m.text(locale)) for m in course.modules_building(competency_id)]
        for competency_id in course.competencies
    }
    return render_template(
        "learn/competencies.html", framework=course.framework, building=building, locale=locale
    )
