"""Admin: the content versions of each module, and publishing the content on disk.

Both read the files afresh rather than the course this process loaded when it started: the
page compares what is on disk now with what was published, and publishing checks and
records exactly that.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import abort, current_app, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from lms.admin import bp
from lms.auth.forms import EmptyForm
from lms.content import ContentError, Course, Problem, check_course, load_course, reload_course
from lms.extensions import db
from lms.i18n import current_locale
from lms.models import Role
from lms.permissions import role_required
from lms.services import publishing
from lms.services.publishing import DiskState, ModuleHistory


@dataclass(frozen=True)
class ModuleRow:
    slug: str
    title: str
    state: DiskState | None  # None: not on disk any more, or the content cannot be read
    history: ModuleHistory | None


@dataclass(frozen=True)
class ShownProblem:
    path: str
    line: int
    message: str


def _directories() -> tuple[str, str]:
    return current_app.config["CONTENT_DIR"], current_app.config["QUIZ_DIR"]


def _course_on_disk() -> tuple[Course | None, list[Problem]]:
    try:
        return load_course(*_directories()), []
    except ContentError as error:
        return None, error.problems


def _shown(problems: list[Problem]) -> list[ShownProblem]:
    """Each problem with its file named from the folder that holds the content, as in
    ``lms content check`` run from the project."""
    base = Path(_directories()[0]).resolve().parent
    shown = []
    for problem in problems:
        path = Path(problem.path).resolve()
        name = path.relative_to(base) if path.is_relative_to(base) else path
        shown.append(ShownProblem(name.as_posix(), problem.line, problem.message))
    return shown


def _rows(course: Course | None) -> list[ModuleRow]:
    """The modules on disk in the order of the course, then any published module no longer
    on disk."""
    history = publishing.version_history()
    states = publishing.pending_changes(course) if course is not None else {}
    locale = current_locale()
    rows = []
    if course is not None:
        for module in course.modules:
            title = module.text(locale).title or module.slug
            rows.append(
                ModuleRow(module.slug, title, states[module.slug], history.get(module.slug))
            )
    on_disk = {row.slug for row in rows}
    rows.extend(
        ModuleRow(slug, slug, None, entry) for slug, entry in history.items() if slug not in on_disk
    )
    return rows


def _page(course: Course | None, problems: list[Problem], status: int) -> Response:
    page = render_template(
        "admin/content.html",
        rows=_rows(course),
        readable=course is not None,
        problems=_shown(problems),
        form=EmptyForm(),
    )
    return make_response(page, status)


@bp.get("/content")
@role_required(Role.ADMIN)
def content() -> Response:
    course, problems = _course_on_disk()
    return _page(course, problems, 200)


@bp.post("/content/publish")
@role_required(Role.ADMIN)
def publish_content() -> Response:
    if not EmptyForm().validate_on_submit():
        abort(400)
    problems = check_course(*_directories())
    # Read once more for publishing (and for the titles if the check found problems).
    course, load_problems = _course_on_disk()
    if problems or load_problems or course is None:
        return _page(course, problems or load_problems, 400)
    try:
        publication = publishing.publish(current_user, course)
        db.session.commit()
    except IntegrityError:
        # Another admin published the same content at the same moment: theirs stands.
        db.session.rollback()
        flash(_("Someone published the content at the same moment; the page shows the result."))
        return redirect(url_for("admin.content"))
    # This process serves the course it just published; see reload_course.
    reload_course(course)
    if not publication.changed:
        flash(_("Nothing to publish: every module on disk is the same as its current version."))
    else:
        message = ngettext(
            "%(num)d module published as a new version.",
            "%(num)d modules published as new versions.",
            len(publication.changed),
        )
        if publication.unchanged:
            unchanged = len(publication.unchanged)
            message += " " + ngettext(
                "%(num)d module unchanged.", "%(num)d modules unchanged.", unchanged
            )
        flash(message)
    return redirect(url_for("admin.content"))
