"""HR: completion records as CSV and XLSX, and xAPI statements as JSON lines, streamed.

Each takes the report's filters from the query string (region, centre, team, module, since,
until, inactive). The CSV's columns are separated by commas, or by ``;`` with ``sep=semicolon``
(or ``sep=;``): what Excel expects where the decimal separator is a comma, as in Russian.
What HR may see (their region, or everything) decides the rows; the filters only narrow it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from functools import cache, partial
from typing import Any

from flask import current_app, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from lms.content import get_course
from lms.extensions import db
from lms.hr import bp
from lms.i18n import current_locale
from lms.models import AuditEvent, Role, User
from lms.permissions import role_required
from lms.services import audit, exports
from lms.services.reports import BadFilter, Filters, completion_rows

CSV_TYPE = "text/csv"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSONL_TYPE = "application/x-ndjson"


@bp.get("/exports/completions.csv")
@role_required(Role.HR, Role.ADMIN)
def export_csv() -> Response | tuple[str, int]:
    try:
        filters = Filters.from_args(request.args)
        delimiter = _delimiter(request.args.get("sep", ""))
    except BadFilter as error:
        return _bad_filter(error)
    sheet = exports.completion_sheet(get_course(), current_locale())
    records: Callable[[User, Filters], Iterator[Any]] = completion_rows
    write: Callable[[Iterable[Any]], Iterator[bytes]] = partial(
        exports.csv_chunks, sheet=sheet, delimiter=delimiter
    )
    if exports.database_writes_csv():  # PostgreSQL writes the lines itself, many times faster
        records = partial(exports.csv_lines, sheet=sheet, delimiter=delimiter)
        write = partial(exports.csv_join, sheet=sheet, delimiter=delimiter)
    return _stream(
        "export.completions_csv",
        filters,
        records,
        write,
        mimetype=CSV_TYPE,
        filename="completions-{date}.csv",
    )


@bp.get("/exports/completions.xlsx")
@role_required(Role.HR, Role.ADMIN)
def export_xlsx() -> Response | tuple[str, int]:
    try:
        filters = Filters.from_args(request.args)
    except BadFilter as error:
        return _bad_filter(error)
    sheet = exports.completion_sheet(get_course(), current_locale())
    name = _("Completions")
    return _stream(
        "export.completions_xlsx",
        filters,
        completion_rows,
        lambda rows: exports.xlsx_chunks(rows, sheet, name),
        mimetype=XLSX_TYPE,
        filename="completions-{date}.xlsx",
    )


@bp.get("/exports/statements.jsonl")
@role_required(Role.HR, Role.ADMIN)
def export_xapi() -> Response | tuple[str, int]:
    try:
        filters = Filters.from_args(request.args)
    except BadFilter as error:
        return _bad_filter(error)
    course = get_course()
    platform = exports.Platform(
        base=request.url_root,
        module_url=cache(lambda slug: url_for("learn.module", slug=slug, _external=True)),
        quiz_url=cache(lambda slug: url_for("quiz.overview", slug=slug, _external=True)),
        course_url=url_for("learn.catalog", _external=True),
    )
    return _stream(
        "export.xapi",
        filters,
        exports.statement_records,
        lambda records: exports.xapi_chunks(records, course, platform),
        mimetype=JSONL_TYPE,
        filename="statements-{date}.jsonl",
    )


def _delimiter(value: str) -> str:
    if not value:
        return exports.CSV_DELIMITERS["comma"]
    if value not in exports.CSV_DELIMITERS:
        raise BadFilter("sep", _("sep must be comma or semicolon."))
    return exports.CSV_DELIMITERS[value]


def _bad_filter(error: BadFilter) -> tuple[str, int]:
    return render_template("errors/error.html", code=400, message=str(error)), 400


def _stream(
    action: str,
    filters: Filters,
    records: Callable[[User, Filters], Iterator[Any]],
    write: Callable[[Iterable[Any]], Iterator[bytes]],
    *,
    mimetype: str,
    filename: str,
) -> Response:
    """A streamed download of ``records`` as ``write`` writes them, logged in the audit log.

    The audit entry is committed before the first byte, with ``rows`` still unknown, so an
    export always leaves a trace, even when the client goes away or the stream breaks; the
    row count is filled in at the end, in a short transaction of its own. An export cut short
    keeps the rows read until then and ``complete: false``.
    """
    event = audit.record(current_user, action, filters=filters.as_args(), rows=None, complete=False)
    db.session.commit()
    event_id, viewer_id = event.id, current_user.id

    def generate() -> Iterator[bytes]:
        # The view's session is gone by now (the request's app context was torn down when
        # the view returned); the viewer is read again in the one the stream runs in.
        viewer = db.session.get(User, viewer_id)
        if viewer is None:  # people are never deleted; nothing to export if it happens
            return
        counter = _Counter(records(viewer, filters))
        complete = False
        try:
            yield from write(counter)
            complete = True
        finally:
            counter.close()
            _finish(event_id, filters, counter.count, complete)

    today = datetime.now(UTC).date().isoformat()
    response = Response(stream_with_context(generate()), mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{filename.format(date=today)}"'
    )
    response.headers["Cache-Control"] = "no-store"  # personal data: no copies on the way
    return response


class _Counter:
    """Passes records through, counting them."""

    def __init__(self, records: Iterator[Any]) -> None:
        self.records = records
        self.count = 0

    def __iter__(self) -> Iterator[Any]:
        for record in self.records:
            self.count += 1
            yield record

    def close(self) -> None:
        close = getattr(self.records, "close", None)
        if close is not None:
            close()


def _finish(event_id: int, filters: Filters, rows: int, complete: bool) -> None:
    try:
        db.session.rollback()  # ends the read, and a server-side cursor left open by a break
        event = db.session.get(AuditEvent, event_id)
        if event is not None:
            event.details = {"filters": filters.as_args(), "rows": rows, "complete": complete}
            db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.exception("export %s: the row count was not recorded", event_id)
