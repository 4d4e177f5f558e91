"""Exports of completion records: CSV and XLSX for spreadsheets, xAPI 1.0.3 statements for a
Learning Record Store, and one person's training transcript.

The three bulk exports are generators of chunks that write rows as they are read from the
database (``completion_rows`` and ``statement_records`` fetch in batches from a server-side
cursor), so a million records take no more memory than ten. Whatever goes into a spreadsheet
cell passes through ``neutralise``: a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is prefixed with ``'``, so Excel or LibreOffice never runs it as a formula
(CSV injection).
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast
from xml.sax.saxutils import escape

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import (
    Select,
    String,
    and_,
    case,
    func,
    literal,
    literal_column,
    null,
    select,
    true,
    union_all,
)

from lms.config import SUPPORTED_LOCALES
from lms.content.loader import Course
from lms.extensions import db
from lms.models import (
    AttemptState,
    Certificate,
    ContentVersion,
    CourseModule,
    ModuleCompletion,
    QuizAttempt,
    User,
)
from lms.services import certificates, progress
from lms.services.reports import (
    COMPLETE,
    IN_PROGRESS,
    NOT_STARTED,
    STREAM_BATCH,
    CompletionRow,
    Filters,
    as_utc,
    completion_rows_query,
    people_query,
    start_of,
)

if TYPE_CHECKING:
    import psycopg

Cell = str | int | None

FORMULA_STARTS = frozenset("=+-@\t\r")
# ``sep`` in the query string: a comma by default (RFC 4180), ``;`` for Excel in Russian.
CSV_DELIMITERS = {"comma": ",", ",": ",", "semicolon": ";", ";": ";"}
CHUNK_ROWS = 500  # rows written before a chunk is handed to the response


def neutralise(value: str) -> str:
    """The text as a spreadsheet shows it and never evaluates it (OWASP: CSV injection)."""
    return "'" + value if value[:1] in FORMULA_STARTS else value


def status_labels() -> dict[str, str]:
    """The status of a record in the interface language."""
    return {
        NOT_STARTED: _("Not started"),
        IN_PROGRESS: _("In progress"),
        COMPLETE: _("Completed"),
    }


def iso_utc(value: datetime | None) -> str:
    """A timestamp as ISO 8601 in UTC to the second, ``2024-03-05T09:30:00Z``; "" for none."""
    if value is None:
        return ""
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# --- CSV and XLSX -------------------------------------------------------------------------


@dataclass(frozen=True)
class Sheet:
    """The columns of the completion records in one language, and how a record fills them."""

    header: tuple[str, ...]
    titles: Mapping[str, str]  # module slug -> title
    statuses: Mapping[str, str]
    yes: str
    no: str

    def cells(self, row: CompletionRow) -> tuple[Cell, ...]:
        """The record's cells in the header's order; strings are not yet neutralised."""
        return (
            row.full_name,
            row.email,
            row.employee_number,
            row.region,
            row.centre,
            row.team,
            row.module,
            self.titles.get(row.module, row.module),
            row.content_version,
            self.statuses.get(row.status, row.status),
            row.score,
            row.attempts,
            iso_utc(row.started_at),
            iso_utc(row.completed_at),
            self.yes if row.active else self.no,
        )


def completion_sheet(course: Course, locale: str) -> Sheet:
    """The header, module titles and labels in ``locale``."""
    with force_locale(locale):
        header = (
            _("Person"),
            _("E-mail"),
            _("Employee number"),
            _("Region"),
            _("Centre"),
            _("Team"),
            _("Module"),
            _("Module title"),
            _("Content version"),
            _("Status"),
            _("Score"),
            _("Attempts"),
            _("Started (UTC)"),
            _("Completed (UTC)"),
            _("Account active"),
        )
        return Sheet(
            header=header,
            titles={module.slug: module.text(locale).title for module in course.modules},
            statuses=status_labels(),
            yes=_("yes"),
            no=_("no"),
        )


def _safe(cells: Iterable[Cell]) -> list[Cell]:
    return [neutralise(cell) if isinstance(cell, str) else cell for cell in cells]


def csv_chunks(
    rows: Iterable[CompletionRow], sheet: Sheet, delimiter: str = ","
) -> Iterator[bytes]:
    """The records as CSV in UTF-8 with a byte order mark (Excel then reads Cyrillic right),
    a header row first; ``;`` is what Excel expects where the decimal separator is a comma."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    buffer.write("\ufeff")
    writer.writerow(_safe(sheet.header))
    for count, row in enumerate(rows, 1):
        writer.writerow(_safe(sheet.cells(row)))
        if count % CHUNK_ROWS == 0:
            yield _take(buffer)
    yield _take(buffer)


# --- CSV written by PostgreSQL ----------------------------------------------------------------
#
# On PostgreSQL the database writes the CSV itself (``COPY ... TO STDOUT``): the same cells as
# ``Sheet.cells`` gives and ``neutralise`` makes safe, worked out in SQL, so Python only passes
# lines on. Building each row in Python cost about 85 µs; this costs a few. The output is the
# same bytes as ``csv_chunks`` writes (a test compares them): empty cells are NULL, which COPY
# leaves unquoted as the csv module does, and each line ends in CRLF as RFC 4180 wants.


def database_writes_csv() -> bool:
    """Whether the database can write the CSV itself (PostgreSQL's COPY)."""
    return db.session.get_bind().dialect.name == "postgresql"


def csv_lines(
    viewer: User, filters: Filters, sheet: Sheet, delimiter: str = ","
) -> Iterator[bytes]:
    """The records ``completion_rows`` reads, as CSV lines written by PostgreSQL, each ending in
    CRLF; for ``csv_join``. Stopping early cancels the COPY on the server."""
    if delimiter not in CSV_DELIMITERS.values():
        raise ValueError(f"not a CSV delimiter: {delimiter!r}")
    connection = db.session.connection()
    dialect = connection.dialect
    compiled = _csv_cells_query(viewer, filters, sheet).compile(dialect=dialect)
    params = {}
    for name, value in compiled.construct_params().items():
        process = compiled.binds[name].type.bind_processor(dialect)
        params[name] = process(value) if process is not None else value
    # COPY takes no server-side parameters: psycopg binds them in the text, quoting each.
    statement = f"COPY ({compiled}) TO STDOUT WITH (FORMAT csv, DELIMITER '{delimiter}')"
    raw = cast("psycopg.Connection[Any]", connection.connection.dbapi_connection)
    with raw.cursor() as cursor, cursor.copy(statement, params) as copy:
        for line in copy:  # PostgreSQL sends each row in a message of its own
            yield bytes(line[:-1]) + b"\r\n"


def csv_join(lines: Iterable[bytes], sheet: Sheet, delimiter: str = ",") -> Iterator[bytes]:
    """``csv_lines`` as the download: the byte order mark and header, then chunks of lines."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    csv.writer(buffer, delimiter=delimiter).writerow(_safe(sheet.header))
    chunk = [_take(buffer)]
    for count, line in enumerate(lines, 1):
        chunk.append(line)
        if count % CHUNK_ROWS == 0:
            yield b"".join(chunk)
            chunk.clear()
    yield b"".join(chunk)


def _csv_cells_query(viewer: User, filters: Filters, sheet: Sheet) -> Select[Any]:
    """``Sheet.cells`` of every record, neutralised, in SQL, in the records' order."""
    rows = completion_rows_query(viewer, filters).order_by(None).subquery("records")

    def cell(value: Any) -> Any:
        return func.nullif(_sql_neutralise(value), "")

    def labels(column: Any, mapping: Mapping[str, str]) -> Any:
        return func.nullif(
            case({key: neutralise(label) for key, label in mapping.items()}, value=column,
                 else_=_sql_neutralise(column)),
            "",
        )  # fmt: skip

    return select(
        cell(rows.c.full_name),
        cell(rows.c.email),
        cell(rows.c.employee_number),
        cell(rows.c.region),
        cell(rows.c.centre),
        cell(rows.c.team),
        cell(rows.c.slug),
        labels(rows.c.slug, sheet.titles),
        cell(func.substr(rows.c.content_hash, 1, 12)),
        labels(rows.c.status, sheet.statuses),
        rows.c.score,
        rows.c.attempts,
        _sql_iso_utc(rows.c.started_at),
        _sql_iso_utc(rows.c.completed_at),
        case((rows.c.active, neutralise(sheet.yes)), else_=neutralise(sheet.no)),
    ).order_by(rows.c.ordinal, rows.c.position)


_FORMULA_START = "^[" + "".join(sorted(FORMULA_STARTS - {"-"})) + "-]"  # "-" last: not a range


def _sql_neutralise(value: Any) -> Any:
    """``neutralise`` in SQL."""
    return case(
        (value.regexp_match(_FORMULA_START), literal("'") + value),
        else_=value,
    )


def _sql_iso_utc(value: Any) -> Any:
    """``iso_utc`` in SQL (PostgreSQL): to the second, in UTC, with a Z."""
    return func.to_char(func.timezone("UTC", value), 'YYYY-MM-DD"T"HH24:MI:SS"Z"')


def _take(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    return data


class _Sink:
    """A write-only file that keeps what was written until it is taken. It cannot seek, so
    ``zipfile`` writes each entry's sizes after its data and never goes back."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


# XML 1.0 allows only these characters; anything else (control characters) is dropped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Excel reads _xHHHH_ in a cell as an escaped character; its own escape keeps it literal.
_EXCEL_ESCAPE = re.compile("_(x[0-9A-Fa-f]{4}_)")
_XML_ENTITIES = {'"': "&quot;", "\r": "&#13;"}  # a bare CR would be read back as LF

XLSX_MAX_ROWS = 1_048_576  # rows in one worksheet, the header included
XLSX_MAX_SHEET_BYTES = 1 << 30  # keeps every entry below the 2 GiB that needs ZIP64
COLUMN_WIDTHS = (28, 30, 14, 22, 26, 22, 22, 40, 14, 14, 8, 9, 21, 21, 10)

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _xml_text(value: str) -> str:
    return escape(_EXCEL_ESCAPE.sub(r"_x005F_\1", _NOT_XML.sub("", value)), _XML_ENTITIES)


class _WorksheetXml:
    """Rows of one worksheet as SpreadsheetML: inline strings and numbers, no shared table."""

    def __init__(self, columns: int) -> None:
        self.letters = [_column_letter(index) for index in range(columns)]
        self.rows = 0

    def start(self) -> str:
        widths = "".join(
            f'<col min="{n}" max="{n}" width="{width}" customWidth="1"/>'
            for n, width in enumerate(COLUMN_WIDTHS[: len(self.letters)], 1)
        )
        return (
            f'{_XML_DECLARATION}<worksheet xmlns="{_MAIN}" xmlns:r="{_RELATIONSHIPS}">'
            '<sheetViews><sheetView workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            "</sheetView></sheetViews>"
            f"<cols>{widths}</cols><sheetData>"
        )

    def row(self, cells: Iterable[Cell], style: int = 0) -> str:
        self.rows += 1
        number = self.rows
        styled = f' s="{style}"' if style else ""
        parts = [f'<row r="{number}">']
        for letter, cell in zip(self.letters, cells, strict=True):
            if cell is None or cell == "":
                continue
            if isinstance(cell, int):
                parts.append(f'<c r="{letter}{number}"{styled}><v>{cell}</v></c>')
                continue
            text = _xml_text(cell)
            space = ' xml:space="preserve"' if text != text.strip() else ""
            parts.append(
                f'<c r="{letter}{number}"{styled} t="inlineStr"><is><t{space}>{text}</t></is></c>'
            )
        parts.append("</row>")
        return "".join(parts)

    def end(self) -> str:
        return f'</sheetData><autoFilter ref="{self.range}"/></worksheet>'

    @property
    def range(self) -> str:
        return f"A1:{self.letters[-1]}{max(self.rows, 1)}"


def xlsx_chunks(
    rows: Iterable[CompletionRow],
    sheet: Sheet,
    sheet_name: str,
    *,
    max_rows: int = XLSX_MAX_ROWS,
    max_bytes: int = XLSX_MAX_SHEET_BYTES,
) -> Iterator[bytes]:
    """The records as an Excel workbook, written as a zip stream while the rows come.

    A worksheet holds at most ``max_rows`` rows (Excel's limit); more records continue on
    further worksheets, each with the header. The workbook's parts that list the worksheets
    are written last, when their number is known: a zip is read from its central directory,
    in any order.
    """
    sink = _Sink()
    archive = zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=5)
    ranges: list[str] = []
    rows = iter(rows)
    more = True
    while more:
        worksheet = _WorksheetXml(len(sheet.header))
        written = 0
        with archive.open(f"xl/worksheets/sheet{len(ranges) + 1}.xml", "w") as entry:
            pending = [worksheet.start(), worksheet.row(_safe(sheet.header), style=1)]
            more = False
            for row in rows:
                pending.append(worksheet.row(_safe(sheet.cells(row))))
                if len(pending) >= CHUNK_ROWS:
                    written += _write(entry, pending)
                    yield sink.take()
                if worksheet.rows >= max_rows or written >= max_bytes:
                    more = True  # the next record, if any, starts a new worksheet
                    break
            pending.append(worksheet.end())
            _write(entry, pending)
        ranges.append(worksheet.range)
        yield sink.take()
        if more:
            following = next(rows, None)
            if following is None:
                break
            rows = _chain_one(following, rows)
    names = _sheet_names(sheet_name, len(ranges))
    archive.writestr("xl/workbook.xml", _workbook_xml(names, ranges))
    archive.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(ranges)))
    archive.writestr("xl/styles.xml", _STYLES)
    archive.writestr("_rels/.rels", _ROOT_RELS)
    archive.writestr("[Content_Types].xml", _content_types(len(ranges)))
    archive.close()
    yield sink.take()


def _chain_one(first: CompletionRow, rest: Iterator[CompletionRow]) -> Iterator[CompletionRow]:
    yield first
    yield from rest


def _write(entry: Any, pending: list[str]) -> int:
    data = "".join(pending).encode("utf-8")
    pending.clear()
    entry.write(data)
    return len(data)


def _sheet_names(name: str, count: int) -> list[str]:
    """Worksheet names: at most 31 characters, none of ``[]:*?/\\``."""
    base = re.sub(r"[\[\]:*?/\\']", " ", name).strip()[:25] or "Sheet"
    return [base if count == 1 else f"{base} {n}" for n in range(1, count + 1)]


def _workbook_xml(names: list[str], ranges: list[str]) -> str:
    sheets = "".join(
        f'<sheet name="{escape(name)}" sheetId="{n}" r:id="rId{n}"/>'
        for n, name in enumerate(names, 1)
    )
    filters = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{n}" hidden="1">'
        f"{escape(_absolute(name, cells))}</definedName>"
        for n, (name, cells) in enumerate(zip(names, ranges, strict=True))
    )
    return (
        f'{_XML_DECLARATION}<workbook xmlns="{_MAIN}" xmlns:r="{_RELATIONSHIPS}">'
        f"<bookViews><workbookView/></bookViews><sheets>{sheets}</sheets>"
        f"<definedNames>{filters}</definedNames></workbook>"
    )


def _absolute(name: str, cells: str) -> str:
    start, end = cells.split(":")
    column = re.compile(r"([A-Z]+)(\d+)")
    return f"'{name}'!" + ":".join(column.sub(r"$\1$\2", ref) for ref in (start, end))


def _workbook_rels(sheets: int) -> str:
    kind = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    entries = "".join(
        f'<Relationship Id="rId{n}" Type="{kind}/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, sheets + 1)
    )
    styles = f'<Relationship Id="rId{sheets + 1}" Type="{kind}/styles" Target="styles.xml"/>'
    return f'{_XML_DECLARATION}<Relationships xmlns="{_PACKAGE_RELATIONSHIPS}">{entries}{styles}</Relationships>'


def _content_types(sheets: int) -> str:
    base = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    worksheets = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{base}.worksheet+xml"/>'
        for n in range(1, sheets + 1)
    )
    return (
        f"{_XML_DECLARATION}"
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{base}.sheet.main+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{base}.styles+xml"/>'
        f"{worksheets}</Types>"
    )


_ROOT_RELS = (
    f'{_XML_DECLARATION}<Relationships xmlns="{_PACKAGE_RELATIONSHIPS}">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
# Two cell formats: 0 plain, 1 bold (the header).
_STYLES = (
    f'{_XML_DECLARATION}<styleSheet xmlns="{_MAIN}">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


# --- xAPI 1.0.3 statements ----------------------------------------------------------------

XAPI_VERSION = "1.0.3"
PLATFORM = "Client-Centricity Academy"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
PASSED = "http://adlnet.gov/expapi/verbs/passed"
FAILED = "http://adlnet.gov/expapi/verbs/failed"
VERB_DISPLAY = {
    COMPLETED: {"en-US": "completed", "ru-RU": "завершил(а)"},
    PASSED: {"en-US": "passed", "ru-RU": "сдал(а)"},
    FAILED: {"en-US": "failed", "ru-RU": "не сдал(а)"},
}
MODULE_TYPE = "http://adlnet.gov/expapi/activities/module"
ASSESSMENT_TYPE = "http://adlnet.gov/expapi/activities/assessment"
COURSE_TYPE = "http://adlnet.gov/expapi/activities/course"
LANGUAGE_TAGS = {"ru": "ru-RU", "en": "en-US"}
COMPLETION = "completion"
ATTEMPT = "attempt"


@dataclass(frozen=True)
class StatementRecord:
    """A module completion or a submitted quiz attempt, with whom and what it is about."""

    kind: str  # COMPLETION or ATTEMPT
    id: int
    full_name: str
    email: str
    locale: str | None
    module: str
    content_hash: str
    at: datetime
    started_at: datetime | None
    score: int | None
    passed: bool


@dataclass(frozen=True)
class Platform:
    """Where the academy is: statements name its pages as their activities.

    ``base`` is the academy's root URL, ending in ``/``. The statements' ids are UUIDs
    derived from it and the record (completion or attempt, and its id): exporting the same
    records again gives the same ids, which an LRS uses to recognise a statement it already
    has, and two academies feeding one LRS never give two records the same id.
    """

    base: str
    module_url: Callable[[str], str]
    quiz_url: Callable[[str], str]
    course_url: str

    @property
    def namespace(self) -> uuid.UUID:
        return uuid.uuid5(uuid.NAMESPACE_URL, self.base + "xapi")

    @property
    def content_version_extension(self) -> str:
        return self.base + "xapi/content-version"


def statement_records(viewer: User, filters: Filters) -> Iterator[StatementRecord]:
    """Module completions and submitted quiz attempts of the people ``viewer`` may see, as
    narrowed by ``filters``, whose time lies within the period; oldest first."""
    people = people_query(
        viewer, filters, User.id, User.full_name, User.email, User.locale
    ).subquery("people")
    modules = select(CourseModule.id, CourseModule.slug).where(
        CourseModule.current_version_id.is_not(None)
    )
    if filters.module is not None:
        modules = modules.where(CourseModule.slug == filters.module)
    published = modules.subquery("modules")
    # Attempts come first: the union's column types (UTC timestamps) are taken from them.
    attempts = (
        select(
            literal_column(f"'{ATTEMPT}'", String).label("kind"),
            QuizAttempt.id.label("id"),
            QuizAttempt.user_id.label("user_id"),
            QuizAttempt.module_id.label("module_id"),
            QuizAttempt.content_version_id.label("version_id"),
            QuizAttempt.submitted_at.label("at"),
            QuizAttempt.started_at.label("started_at"),
            QuizAttempt.score.label("score"),
            QuizAttempt.passed.label("passed"),
        )
        .where(QuizAttempt.state == AttemptState.SUBMITTED)
        .where(QuizAttempt.submitted_at.is_not(None))
    )
    completions = select(
        literal_column(f"'{COMPLETION}'", String),
        ModuleCompletion.id,
        ModuleCompletion.user_id,
        ModuleCompletion.module_id,
        ModuleCompletion.content_version_id,
        ModuleCompletion.completed_at,
        null(),  # a completion has no start of its own
        ModuleCompletion.score,
        true(),
    )
    records = union_all(attempts, completions).subquery("records")
    query = (
        select(
            records.c.kind,
            records.c.id,
            people.c.full_name,
            people.c.email,
            people.c.locale,
            published.c.slug,
            ContentVersion.content_hash,
            records.c.at,
            records.c.started_at,
            records.c.score,
            records.c.passed,
        )
        .join(people, people.c.id == records.c.user_id)
        .join(published, published.c.id == records.c.module_id)
        .join(ContentVersion, ContentVersion.id == records.c.version_id)
        .where(_within(records.c.at, filters))
        .order_by(records.c.at, records.c.kind, records.c.id)
        .execution_options(stream_results=True, yield_per=STREAM_BATCH)
    )
    with db.session.execute(query) as result:  # closed too when the reader stops early
        for row in result:
            yield StatementRecord(
                kind=row.kind,
                id=row.id,
                full_name=row.full_name,
                email=row.email,
                locale=row.locale,
                module=row.slug,
                content_hash=row.content_hash,
                at=as_utc(row.at),
                started_at=as_utc(row.started_at) if row.kind == ATTEMPT else None,
                score=row.score,
                passed=bool(row.passed),
            )


def _within(column: Any, filters: Filters) -> Any:
    conditions = []
    if filters.since is not None:
        conditions.append(column >= start_of(filters.since))
    if filters.cutoff is not None:
        conditions.append(column < filters.cutoff)
    return and_(true(), *conditions)


def statement(record: StatementRecord, course: Course, platform: Platform) -> dict[str, Any]:
    """One xAPI 1.0.3 statement about ``record``, with no null anywhere (LRSs refuse them)."""
    module_url = platform.module_url(record.module)
    names = _names(course, record.module)
    module = {
        "objectType": "Activity",
        "id": module_url,
        "definition": {"name": names, "type": MODULE_TYPE},
    }
    result: dict[str, Any] = {"completion": True}
    if record.score is not None:
        result["score"] = {"scaled": record.score / 100, "raw": record.score, "min": 0, "max": 100}
    context: dict[str, Any] = {
        "platform": PLATFORM,
        "language": LANGUAGE_TAGS.get(record.locale or "", LANGUAGE_TAGS[SUPPORTED_LOCALES[0]]),
        "contextActivities": {
            "grouping": [
                {
                    "objectType": "Activity",
                    "id": platform.course_url,
                    "definition": {"name": _COURSE_NAME, "type": COURSE_TYPE},
                }
            ]
        },
        "extensions": {platform.content_version_extension: record.content_hash[:12]},
    }
    if record.kind == COMPLETION:
        verb, target = COMPLETED, module
        result["success"] = True
    else:
        verb = PASSED if record.passed else FAILED
        target = {
            "objectType": "Activity",
            "id": platform.quiz_url(record.module),
            "definition": {
                "name": {tag: f"{_QUIZ_NAME[tag]}: {name}" for tag, name in names.items()},
                "type": ASSESSMENT_TYPE,
            },
        }
        result["success"] = record.passed
        if record.started_at is not None and record.at >= record.started_at:
            result["duration"] = f"PT{int((record.at - record.started_at).total_seconds())}S"
        context["contextActivities"]["parent"] = [module]
    return {
        "id": str(uuid.uuid5(platform.namespace, f"{record.kind}/{record.id}")),
        "version": XAPI_VERSION,
        "actor": {
            "objectType": "Agent",
            "name": record.full_name,
            "mbox": f"mailto:{record.email}",
        },
        "verb": {"id": verb, "display": VERB_DISPLAY[verb]},
        "object": target,
        "result": result,
        "context": context,
        "timestamp": record.at.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z",
    }


_COURSE_NAME = {"ru-RU": "Клиентоцентричность в службе занятости",
                "en-US": "Client-centricity in the employment service"}  # fmt: skip
_QUIZ_NAME = {"ru-RU": "Тест", "en-US": "Quiz"}


def _names(course: Course, slug: str) -> dict[str, str]:
    module = course.module(slug)
    if module is None:  # published once, no longer on disk
        return {tag: slug for tag in LANGUAGE_TAGS.values()}
    return {LANGUAGE_TAGS[locale]: module.text(locale).title for locale in SUPPORTED_LOCALES}


def xapi_chunks(
    records: Iterable[StatementRecord], course: Course, platform: Platform
) -> Iterator[bytes]:
    """The statements as JSON lines (one statement per line, UTF-8)."""
    lines: list[str] = []
    for record in records:
        lines.append(json.dumps(statement(record, course, platform), ensure_ascii=False) + "\n")
        if len(lines) >= CHUNK_ROWS:
            yield "".join(lines).encode("utf-8")
            lines.clear()
    yield "".join(lines).encode("utf-8")


# --- A person's training transcript -------------------------------------------------------


@dataclass(frozen=True)
class TranscriptLine:
    order: int
    slug: str
    title: str
    status: str
    score: int | None
    attempts: int
    completed_at: datetime | None
    content_version: str | None


@dataclass(frozen=True)
class Transcript:
    person: User
    lines: tuple[TranscriptLine, ...]
    certificate: Certificate | None

    @property
    def complete(self) -> int:
        return sum(1 for line in self.lines if line.status == COMPLETE)


def transcript(person: User, course: Course, locale: str) -> Transcript:
    """Each module of the course with what ``person`` did in it, and their certificate: the
    same records as the exports give (status, score, attempts, completion, version)."""
    modules = progress.course_progress(person, course)
    versions = {
        completion_id: content_hash
        for completion_id, content_hash in db.session.execute(
            select(ModuleCompletion.id, ContentVersion.content_hash)
            .join(ContentVersion, ContentVersion.id == ModuleCompletion.content_version_id)
            .where(ModuleCompletion.user_id == person.id)
        )
    }
    lines = []
    for module in course.modules:
        done = modules[module.slug]
        completion = done.completion
        quiz = done.quiz
        if completion is not None:
            status = COMPLETE
        elif done.started:
            status = IN_PROGRESS
        else:
            status = NOT_STARTED
        score = completion.score if completion is not None else None
        if score is None and quiz is not None:
            score = quiz.best_score
        lines.append(
            TranscriptLine(
                order=module.order,
                slug=module.slug,
                title=module.text(locale).title,
                status=status,
                score=score,
                attempts=quiz.attempts_used if quiz is not None else 0,
                completed_at=completion.completed_at if completion is not None else None,
                content_version=(versions[completion.id][:12] if completion is not None else None),
            )
        )
    return Transcript(
        person=person, lines=tuple(lines), certificate=certificates.certificate_of(person)
    )
