"""HR: the import of people from a CSV file (the rules live in lms.services.user_import)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response
from wtforms import BooleanField

from lms.extensions import db
from lms.hr import bp
from lms.models import Role
from lms.permissions import hr_region_id, role_required
from lms.services import people, user_import
from lms.services.user_import import ImportProblem, ImportRefused, ImportResult

# More than this many problems are summed up, not listed: the first ones show what is wrong.
PROBLEMS_SHOWN = 500


class ImportPeopleForm(FlaskForm):
    file = FileField(
        _l("CSV file"),
        validators=[
            FileRequired(_l("Choose a file.")),
            FileAllowed(["csv", "txt"], _l("Save the spreadsheet as CSV and upload that file.")),
        ],
    )
    check_only = BooleanField(_l("Check only, do not save"))


@bp.route("/import", methods=["GET", "POST"])
@role_required(Role.HR, Role.ADMIN)
def import_people() -> Response | str | tuple[str, int]:
    form = ImportPeopleForm()
    problems: list[ImportProblem] = []
    if form.validate_on_submit():
        upload = form.file.data
        filename = _base_name(upload.filename or "")
        try:
            result = user_import.import_people(
                upload.read(), filename=filename, importer=current_user
            )
            if form.check_only.data:
                db.session.rollback()
            else:
                db.session.commit()
                session["import_saved"] = True  # the page after the redirect offers access
        except ImportRefused as refused:
            db.session.rollback()
            problems = refused.problems
        except IntegrityError:
            # Another import or an administrator added the same person or team meanwhile.
            db.session.rollback()
            form.form_errors.append(
                _(
                    "Someone changed the same people or teams meanwhile. Nothing was saved; please import the file again."
                )
            )
        else:
            flash(_summary(result, saved=not form.check_only.data))
            return redirect(url_for("hr.import_people"))
    page = render_template(
        "hr/import.html",
        form=form,
        problems=problems[:PROBLEMS_SHOWN],
        problems_total=len(problems),
        columns=user_import.COLUMNS,
        optional_columns=user_import.OPTIONAL_COLUMNS,
        regional=not current_user.has_role(Role.ADMIN) and hr_region_id(current_user) is not None,
        may_grant_all=current_user.has_role(Role.ADMIN),
        without_access=_without_access() if request.method == "GET" else 0,
    )
    return (page, 400) if form.is_submitted() else page


def _without_access() -> int:
    """Right after a saved import: how many people (of those the importer administers) have
    no access yet, for the link that gives it."""
    if not session.pop("import_saved", False):
        return 0
    return people.find_people(current_user, people.PeopleFilters(access="none")).total


def _base_name(filename: str) -> str:
    """The file's own name, without the folders some browsers send along."""
    return filename.replace("\\", "/").rsplit("/", 1)[-1][:200]


def _summary(result: ImportResult, *, saved: bool) -> str:
    counts = {
        "rows": result.rows,
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
    }
    if saved:
        return _(
            "Imported %(rows)d rows: %(created)d people created, %(updated)d updated, %(unchanged)d unchanged.",
            **counts,
        )
    return _(
        "The file is valid and nothing was saved. Importing it would create %(created)d people, update %(updated)d and leave %(unchanged)d unchanged.",
        **counts,
    )
