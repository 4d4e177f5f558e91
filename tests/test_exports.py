"""HR exports of completion records (CSV, XLSX, xAPI statements) and the training transcript,
checked against a small organisation whose every record is written down below."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
import zipfile
from datetime import UTC, datetime

import jsonschema
import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from lms.content import get_course
from lms.extensions import db
from lms.models import (
    AttemptState,
    AuditEvent,
    Certificate,
    ModuleCompletion,
    QuizAttempt,
    Role,
    SectionRead,
    TaskCompletion,
    User,
)
from lms.services import exports, progress, reports
from lms.services.reports import CompletionRow, Filters
from tests.conftest import PASSWORD, Auth
from tests.test_course import pdf_text

CSV_URL = "/hr/exports/completions.csv"
XLSX_URL = "/hr/exports/completions.xlsx"
XAPI_URL = "/hr/exports/statements.jsonl"
BOM = b"\xef\xbb\xbf"
HEADER = ["Person", "E-mail", "Employee number", "Region", "Centre", "Team", "Module",
          "Module title", "Content version", "Status", "Score", "Attempts", "Started (UTC)",
          "Completed (UTC)", "Account active"]  # fmt: skip
MODULES = ["client-centricity", "cx-system", "star-index", "myths", "listening-and-co-design",
           "client-centric-culture", "beyond-the-conveyor"]  # fmt: skip
TITLES = {
    "client-centricity": "Client-centricity in the employment service",
    "cx-system": "The client-experience management system",
    "star-index": "The “Star of client-centricity” index",
    "myths": "Myths about client-centricity",
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def version(slug: str) -> str:
    return progress.published_version(slug)[1].content_hash[:12]


def read_section(person: User, slug: str, when: str) -> None:
    module, current = progress.published_version(slug)
    course = get_course()
    section = progress.section_ids(course, course.module(slug))[0]
    db.session.add(
        SectionRead(user_id=person.id, module_id=module.id, section_id=section,
                    content_version_id=current.id, read_at=at(when))
    )  # fmt: skip


def attempt(person: User, slug: str, number: int, started: str, submitted: str | None = None,
            score: int | None = None) -> QuizAttempt:  # fmt: skip
    module, current = progress.published_version(slug)
    row = QuizAttempt(
        user_id=person.id,
        module_id=module.id,
        content_version_id=current.id,
        number=number,
        state=AttemptState.SUBMITTED if submitted else AttemptState.IN_PROGRESS,
        layout=[],
        pass_mark=80,
        answers={},
        started_at=at(started),
        submitted_at=at(submitted) if submitted else None,
        score=score,
        passed=None if score is None else score >= 80,
    )
    db.session.add(row)
    return row


def complete(person: User, slug: str, when: str, score: int, attempts: int) -> ModuleCompletion:
    module, current = progress.published_version(slug)
    row = ModuleCompletion(user_id=person.id, module_id=module.id, content_version_id=current.id,
                           completed_at=at(when), score=score, attempts=attempts)  # fmt: skip
    db.session.add(row)
    return row


# One cheap hash for everyone here: the factory's (scrypt) takes a third of a second a person.
QUICK_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


def person(make, email: str, name: str, team=None, *, number: str | None = None,
           roles: tuple[Role, ...] = (Role.EMPLOYEE,), active: bool = True, hr_region=None,
           manages=(), locale: str | None = None) -> User:  # fmt: skip
    user = User(email=email, full_name=name, employee_number=number, team=team, active=active,
                locale=locale, password_hash=QUICK_HASH)  # fmt: skip
    for role in roles:
        user.grant(role, hr_region if role is Role.HR else None)
    user.managed_teams.extend(manages)
    db.session.add(user)
    db.session.commit()
    return user


@pytest.fixture
def org(make, published):
    """Region A: centre North with teams Alpha (Anna, Boris) and Beta (Gleb, and Vera, who
    left); region B: centre South, team Gamma (Dina). HR for region A, national HR, admin."""
    alpha = make.team("Alpha", centre="North", region="Region A")
    beta = make.team("Beta", centre="North", region="Region A")
    gamma = make.team("Gamma", centre="South", region="Region B")
    anna = person(make, "anna@example.test", "Anna Alpha", alpha, number="E-1")
    boris = person(make, "boris@example.test", "Boris Alpha", alpha)
    gleb = person(make, "gleb@example.test", "Gleb Beta", beta, number="E-3")
    vera = person(make, "vera@example.test", "Vera Beta", beta, active=False)
    dina = person(make, "dina@example.test", "Dina Gamma", gamma)
    # Anna: module 1 read, failed once, passed, completed; module 2 only read.
    read_section(anna, "client-centricity", "2024-03-01T09:00:00")
    first = attempt(anna, "client-centricity", 1, "2024-03-02T10:00:00", "2024-03-02T10:20:00", 40)
    second = attempt(anna, "client-centricity", 2, "2024-03-03T10:00:00", "2024-03-03T10:15:00", 90)
    done = complete(anna, "client-centricity", "2024-03-03T10:15:00", 90, 2)
    read_section(anna, "cx-system", "2024-04-10T08:00:00")
    # Gleb: a quiz open in module 3, a failed attempt in module 4 (after marking a task done).
    attempt(gleb, "star-index", 1, "2024-05-01T12:00:00")
    module, current = progress.published_version("myths")
    db.session.add(TaskCompletion(user_id=gleb.id, module_id=module.id, task_id="download-memo",
                                  content_version_id=current.id,
                                  completed_at=at("2024-05-02T07:30:00")))  # fmt: skip
    failed = attempt(gleb, "myths", 1, "2024-05-03T09:00:00", "2024-05-03T09:12:30", 50)
    # Vera completed module 1 before leaving; Dina, in region B, too.
    complete(vera, "client-centricity", "2024-02-01T12:00:00", 85, 1)
    complete(dina, "client-centricity", "2024-03-05T12:00:00", 100, 1)
    db.session.commit()
    region_a = alpha.centre.region
    person(make, "hr@example.test", "Regional HR", roles=(Role.HR,), hr_region=region_a,
           locale="en")  # fmt: skip
    person(make, "national@example.test", "National HR", roles=(Role.HR,), locale="en")
    person(make, "admin@example.test", "Admin", roles=(Role.ADMIN,), locale="en")
    person(make, "manager@example.test", "Manager", roles=(Role.MANAGER,), manages=(alpha,),
           locale="en")  # fmt: skip
    return {
        "alpha": alpha, "beta": beta, "gamma": gamma, "anna": anna, "boris": boris,
        "gleb": gleb, "vera": vera, "dina": dina, "region_a": region_a,
        "region_b": gamma.centre.region, "first": first, "second": second, "done": done,
        "failed": failed,
    }  # fmt: skip


def download(client, url: str, **params):
    response = client.get(url, query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.is_streamed
    data = response.get_data()
    response.close()
    return response, data


def csv_rows(data: bytes, delimiter: str = ",") -> list[list[str]]:
    assert data.startswith(BOM)
    return list(csv.reader(io.StringIO(data[len(BOM) :].decode("utf-8")), delimiter=delimiter))


def expected_rows(org) -> dict[tuple[str, str], list[str]]:
    """The records HR of region A sees, by (person, module), as the CSV writes them."""
    rows = {}
    for name, email, team, number in (
        ("Anna Alpha", "anna@example.test", "Alpha", "E-1"),
        ("Boris Alpha", "boris@example.test", "Alpha", ""),
        ("Gleb Beta", "gleb@example.test", "Beta", "E-3"),
    ):
        for slug in MODULES:
            rows[name, slug] = [name, email, number, "Region A", "North", team, slug,
                                TITLES.get(slug, "?"), "", "Not started", "", "0", "", "",
                                "yes"]  # fmt: skip
    rows["Anna Alpha", "client-centricity"][8:14] = [version("client-centricity"), "Completed",
        "90", "2", "2024-03-01T09:00:00Z", "2024-03-03T10:15:00Z"]  # fmt: skip
    rows["Anna Alpha", "cx-system"][9:14] = ["In progress", "", "0", "2024-04-10T08:00:00Z", ""]
    rows["Gleb Beta", "star-index"][9:14] = ["In progress", "", "0", "2024-05-01T12:00:00Z", ""]
    rows["Gleb Beta", "myths"][9:14] = ["In progress", "50", "1", "2024-05-02T07:30:00Z", ""]
    return rows  # every other record: not started, nothing done


def check_titles(rows: list[list[str]]) -> list[list[str]]:
    """Titles of modules 5 to 7 are not written out above: they come from the content."""
    course = get_course()
    for row in rows[1:]:
        if row[6] not in TITLES:
            assert row[7] == course.module(row[6]).text("en").title
            row[7] = "?"
    return rows


# --- CSV ---------------------------------------------------------------------------------


def test_csv_has_every_record_in_scope_cell_by_cell(client, auth, org):
    auth.login("hr@example.test")
    response, data = download(client, CSV_URL)
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="completions-')
    assert response.headers["Content-Disposition"].endswith('.csv"')
    rows = check_titles(csv_rows(data))
    assert rows[0] == HEADER
    expected = expected_rows(org)
    # Region, centre, team, person, then the modules in the course's order.
    assert [(row[0], row[6]) for row in rows[1:]] == list(expected)
    for row in rows[1:]:
        assert row == expected[row[0], row[6]], row
    # Vera left (deactivated) and Dina works in region B: neither is in the export.
    assert not {"Vera Beta", "Dina Gamma"} & {row[0] for row in rows}


def test_csv_with_inactive_people_includes_the_deactivated(client, auth, org):
    auth.login("hr@example.test")
    _response, data = download(client, CSV_URL, inactive="1")
    vera = [row for row in csv_rows(data) if row[0] == "Vera Beta"]
    assert len(vera) == len(MODULES)
    assert vera[0][9:] == ["Completed", "85", "0", "", "2024-02-01T12:00:00Z", "no"]


def test_csv_separated_by_semicolons_on_request(client, auth, org):
    auth.login("hr@example.test")
    _response, data = download(client, CSV_URL, sep="semicolon", team=org["beta"].id)
    assert data.startswith(BOM + b"Person;E-mail;")
    rows = csv_rows(data, delimiter=";")
    assert rows[0] == HEADER
    assert rows[1][:3] == ["Gleb Beta", "gleb@example.test", "E-3"]
    _response, same = download(client, CSV_URL, sep=";", team=org["beta"].id)
    assert same == data


def test_csv_uses_the_readers_language(client, auth, org, make):
    person(make, "hr-ru@example.test", "HR", roles=(Role.HR,), locale="ru")
    auth.login("hr-ru@example.test")
    _response, data = download(client, CSV_URL, team=org["alpha"].id, module="cx-system")
    rows = csv_rows(data)
    assert rows[0][1:7] == ["Электронная почта", "Табельный номер", "Регион", "Центр", "Команда",
                            "Модуль"]  # fmt: skip
    assert [row[7] for row in rows[1:]] == ["Система управления клиентским опытом"] * 2
    assert [row[9] for row in rows[1:]] == ["В процессе", "Не начат"]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_cells_that_could_be_formulas_are_neutralised(client, auth, org, make, start):
    team = make.team(f"{start}Team", centre="North", region="Region A")
    person(make, "formula@example.test", f"{start}1+1", team, number=f"{start}7")
    auth.login("hr@example.test")
    _response, data = download(client, CSV_URL, team=team.id, module="myths")
    rows = csv_rows(data)
    assert rows[1][:6] == [f"'{start}1+1", "formula@example.test", f"'{start}7", "Region A",
                           "North", f"'{start}Team"]  # fmt: skip
    sheet = load_workbook(io.BytesIO(download(client, XLSX_URL, team=team.id)[1])).active
    assert [sheet.cell(2, column).value for column in (1, 3, 6)] == [
        f"'{start}1+1",
        f"'{start}7",
        f"'{start}Team",
    ]


def test_neutralise_leaves_ordinary_text_alone():
    assert exports.neutralise("Anna = 1") == "Anna = 1"
    assert exports.neutralise("") == ""
    assert exports.neutralise("-") == "'-"
    assert exports.neutralise(" =1") == " =1"  # a spreadsheet reads this as text already


def test_csv_filters_narrow_by_team_module_and_period(client, auth, org):
    auth.login("hr@example.test")
    by_team = csv_rows(download(client, CSV_URL, team=org["beta"].id)[1])
    assert {row[0] for row in by_team[1:]} == {"Gleb Beta"}
    by_module = csv_rows(download(client, CSV_URL, module="client-centricity")[1])
    assert [(row[0], row[9]) for row in by_module[1:]] == [
        ("Anna Alpha", "Completed"),
        ("Boris Alpha", "Not started"),
        ("Gleb Beta", "Not started"),
    ]
    # As things stood at the end of 2 March: Anna had failed once and not yet completed.
    until = csv_rows(download(client, CSV_URL, module="client-centricity", until="2024-03-02")[1])
    assert until[1][8:14] == ["", "In progress", "40", "1", "2024-03-01T09:00:00Z", ""]
    before = csv_rows(download(client, CSV_URL, module="client-centricity", until="2024-02-29")[1])
    assert before[1][9:14] == ["Not started", "", "0", "", ""]


def test_regional_hr_gets_nothing_from_another_region(client, auth, org):
    auth.login("hr@example.test")
    rows = csv_rows(download(client, CSV_URL, region=org["region_b"].id)[1])
    assert rows == [HEADER]
    rows = csv_rows(download(client, CSV_URL, team=org["gamma"].id)[1])
    assert rows == [HEADER]
    assert download(client, XAPI_URL, region=org["region_b"].id)[1] == b""


@pytest.mark.parametrize("email", ["national@example.test", "admin@example.test"])
def test_national_hr_and_admins_export_every_region(client, auth, org, email):
    auth.login(email)
    rows = csv_rows(download(client, CSV_URL, module="client-centricity")[1])
    assert [(row[0], row[3]) for row in rows[1:]] == [
        ("Anna Alpha", "Region A"),
        ("Boris Alpha", "Region A"),
        ("Gleb Beta", "Region A"),
        ("Dina Gamma", "Region B"),
    ]


@pytest.mark.parametrize("url", [CSV_URL, XLSX_URL, XAPI_URL])
@pytest.mark.parametrize(("email", "status"), [
    (None, 302), ("anna@example.test", 403), ("manager@example.test", 403),
])  # fmt: skip
def test_only_hr_and_admins_export(client, auth, org, url, email, status):
    if email is not None:
        auth.login(email)
    response = client.get(url)
    assert response.status_code == status
    if status == 302:
        assert "/login" in response.headers["Location"]
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action != "login")).all() == []


@pytest.mark.parametrize("url", [CSV_URL, XLSX_URL, XAPI_URL])
@pytest.mark.parametrize(("args", "message"), [
    ({"team": "abc"}, "team must be a number"),
    ({"since": "2024-13-01"}, "since must be a date"),
    ({"since": "2024-05-01", "until": "2024-04-01"}, "the period ends before it starts"),
])  # fmt: skip
def test_a_bad_filter_is_400_with_the_reason(client, auth, org, url, args, message):
    auth.login("hr@example.test")
    response = client.get(url, query_string=args)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True).lower()
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action != "login")).all() == []


def test_an_unknown_separator_is_400(client, auth, org):
    auth.login("hr@example.test")
    response = client.get(CSV_URL, query_string={"sep": "tab"})
    assert response.status_code == 400
    assert "sep must be comma or semicolon" in response.get_data(as_text=True)


# --- Audit -------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "action", "rows"), [
    (CSV_URL, "export.completions_csv", 14),
    (XLSX_URL, "export.completions_xlsx", 14),
    (XAPI_URL, "export.xapi", 3),
])  # fmt: skip
def test_every_export_is_in_the_audit_log_with_filters_and_rows(client, auth, org, url, action,
                                                                 rows):  # fmt: skip
    auth.login("hr@example.test")
    download(client, url, team=org["alpha"].id)
    db.session.expire_all()
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action != "login")).one()
    hr = db.session.scalar(select(User).filter_by(email="hr@example.test"))
    assert (event.action, event.actor_id) == (action, hr.id)
    assert event.details == {"filters": {"team": str(org["alpha"].id)}, "rows": rows,
                             "complete": True}  # fmt: skip


def test_an_export_cut_short_is_in_the_audit_log_all_the_same(client, auth, org, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_ROWS", 2)
    auth.login("hr@example.test")
    response = client.get(CSV_URL)
    db.session.expire_all()
    started = db.session.scalars(select(AuditEvent).where(AuditEvent.action != "login")).one()
    assert started.details == {"filters": {}, "rows": None, "complete": False}
    chunks = response.iter_encoded()
    assert next(chunks).startswith(BOM)  # the header and the first two records
    response.close()  # the client goes away
    db.session.expire_all()
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action != "login")).one()
    assert event.details["complete"] is False
    assert 2 <= event.details["rows"] < 21


def test_postgresql_writes_the_same_csv_as_python_byte_for_byte(app, org, make):
    """On PostgreSQL the database writes the CSV (COPY); it must be the csv module's output."""
    if not exports.database_writes_csv():
        pytest.skip("the database writes the CSV itself only on PostgreSQL")
    team = make.team('Team "Quoted", with; separators', centre="North", region="Region A")
    for email, name, number in (
        ("quote@example.test", 'Ivan "the Quick", Jr.; II', ""),
        ("lines@example.test", "First line\r\nsecond line\nthird", None),
        ("formula@example.test", '=HYPERLINK("http://x")', "-5"),
        ("tab@example.test", "\tTabbed", "@1"),
        ("cyrillic@example.test", "Ёлкина Анна Сергеевна", "Т-12"),
        ("backslash@example.test", "back\\slash \\. and \\N", "\\."),
        ("space@example.test", " ", "'"),
    ):
        person(make, email, name, team, number=number)
    admin = db.session.scalar(select(User).where(User.email == "admin@example.test"))
    course = get_course()
    for locale in ("en", "ru"):
        sheet = exports.completion_sheet(course, locale)
        for filters in (Filters(inactive=True), Filters(team=team.id, module="myths"),
                        Filters(until=datetime(2024, 3, 2).date())):  # fmt: skip
            for delimiter in (",", ";"):
                written = b"".join(
                    exports.csv_join(exports.csv_lines(admin, filters, sheet, delimiter), sheet,
                                     delimiter)
                )  # fmt: skip
                db.session.rollback()
                expected = b"".join(
                    exports.csv_chunks(reports.completion_rows(admin, filters), sheet, delimiter)
                )
                db.session.rollback()
                assert written == expected, (locale, filters, delimiter)
    assert b'"Ivan ""the Quick"", Jr.; II"' in written


def test_only_a_known_separator_reaches_the_database(app, org):
    if not exports.database_writes_csv():
        pytest.skip("the database writes the CSV itself only on PostgreSQL")
    sheet = exports.completion_sheet(get_course(), "en")
    admin = db.session.scalar(select(User).where(User.email == "admin@example.test"))
    with pytest.raises(ValueError, match="not a CSV delimiter"):
        next(exports.csv_lines(admin, Filters(), sheet, "'"))


# --- XLSX --------------------------------------------------------------------------------


def test_xlsx_holds_the_same_cells_as_the_csv(client, auth, org):
    auth.login("hr@example.test")
    response, data = download(client, XLSX_URL, inactive="1")
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    workbook = load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["Completions"]
    sheet = workbook.active
    cells = [["" if value is None else str(value) for value in row]
             for row in sheet.iter_rows(values_only=True)]  # fmt: skip
    assert cells == csv_rows(download(client, CSV_URL, inactive="1")[1])
    assert len(cells) == 1 + 4 * len(MODULES)
    # Numbers are numbers; the header is bold, frozen and filtered.
    assert sheet["K2"].value == 90
    assert sheet["L2"].value == 2
    assert sheet["A1"].font.b
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:O{len(cells)}"


def test_xlsx_is_a_valid_package(client, auth, org):
    auth.login("hr@example.test")
    archive = zipfile.ZipFile(io.BytesIO(download(client, XLSX_URL)[1]))
    assert archive.testzip() is None
    assert set(archive.namelist()) == {
        "[Content_Types].xml",
        "_rels/.rels",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "xl/styles.xml",
        "xl/worksheets/sheet1.xml",
    }
    types = archive.read("[Content_Types].xml").decode()
    assert 'PartName="/xl/worksheets/sheet1.xml"' in types


def row_of(name: str, **changes) -> CompletionRow:
    values = dict(user_id=1, full_name=name, email="x@example.test", employee_number=None,
                  active=True, region="R", centre="C", team="T", team_id=1,
                  module="myths", module_position=4, content_version=None, status="not_started",
                  score=None, attempts=0, started_at=None, completed_at=None)  # fmt: skip
    return CompletionRow(**(values | changes))


def test_xlsx_drops_characters_xml_cannot_hold_and_keeps_the_rest(app):
    sheet = exports.completion_sheet(get_course(), "en")
    names = ["Bell\x07 and nul\x00", "Less < & more > \"quoted\"", "  spaced  ", "_x0041_",
             "Ёлка 🎄", "line\nbreak"]  # fmt: skip
    data = b"".join(exports.xlsx_chunks((row_of(name) for name in names), sheet, "Records"))
    values = [row[0] for row in load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True)]
    assert values == ["Person", "Bell and nul", "Less < & more > \"quoted\"", "  spaced  ",
                      "_x005F_x0041_", "Ёлка 🎄", "line\nbreak"]  # fmt: skip
    # _x005F_ is how Excel keeps "_x0041_" literal (openpyxl shows the escape as written).


def test_xlsx_continues_on_a_new_worksheet_past_the_row_limit(app):
    sheet = exports.completion_sheet(get_course(), "en")
    records = (row_of(f"Person {n}", score=n) for n in range(1, 8))
    data = b"".join(exports.xlsx_chunks(records, sheet, "Records", max_rows=3))
    workbook = load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["Records 1", "Records 2", "Records 3", "Records 4"]
    firsts = [[row[0] for row in ws.iter_rows(values_only=True)] for ws in workbook.worksheets]
    assert firsts == [["Person", "Person 1", "Person 2"], ["Person", "Person 3", "Person 4"],
                      ["Person", "Person 5", "Person 6"], ["Person", "Person 7"]]  # fmt: skip
    exact = b"".join(exports.xlsx_chunks((row_of("A"), row_of("B")), sheet, "R", max_rows=3))
    assert load_workbook(io.BytesIO(exact)).sheetnames == ["R"]


def test_an_empty_export_still_has_its_header(app):
    sheet = exports.completion_sheet(get_course(), "en")
    workbook = load_workbook(io.BytesIO(b"".join(exports.xlsx_chunks([], sheet, "Records"))))
    assert [list(row) for row in workbook.active.iter_rows(values_only=True)] == [HEADER]
    assert b"".join(exports.csv_chunks([], sheet)) == BOM + (",".join(HEADER) + "\r\n").encode()


# --- xAPI --------------------------------------------------------------------------------

IRI = {"type": "string", "pattern": r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$"}
LANGUAGE_MAP = {
    "type": "object",
    "minProperties": 1,
    "propertyNames": {"pattern": r"^[a-z]{2,3}(-[A-Z]{2})?$"},
    "additionalProperties": {"type": "string"},
}
ACTIVITY = {
    "type": "object",
    "required": ["id"],
    "additionalProperties": False,
    "properties": {
        "objectType": {"const": "Activity"},
        "id": IRI,
        "definition": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"name": LANGUAGE_MAP, "description": LANGUAGE_MAP, "type": IRI},
        },
    },
}
# The parts of xAPI 1.0.3 (Data, section 2.4) that an LRS checks on the statements we send.
STATEMENT = {
    "type": "object",
    "required": ["id", "version", "actor", "verb", "object", "timestamp"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "pattern": r"^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$"},
        "version": {"const": "1.0.3"},
        "actor": {
            "type": "object",
            "properties": {
                "objectType": {"const": "Agent"},
                "name": {"type": "string"},
                "mbox": {"type": "string", "pattern": r"^mailto:[^@\s]+@[^@\s]+$"},
                "mbox_sha1sum": {"type": "string"},
                "openid": IRI,
                "account": {"type": "object"},
            },
            "additionalProperties": False,
            # An Agent is identified by exactly one Inverse Functional Identifier.
            "oneOf": [{"required": [ifi]} for ifi in ("mbox", "mbox_sha1sum", "openid", "account")],
        },
        "verb": {
            "type": "object",
            "required": ["id", "display"],
            "additionalProperties": False,
            "properties": {"id": IRI, "display": LANGUAGE_MAP},
        },
        "object": ACTIVITY,
        "result": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "score": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "scaled": {"type": "number", "minimum": -1, "maximum": 1},
                        "raw": {"type": "number"},
                        "min": {"type": "number"},
                        "max": {"type": "number"},
                    },
                },
                "success": {"type": "boolean"},
                "completion": {"type": "boolean"},
                "duration": {"type": "string", "pattern": r"^P(T(\d+(\.\d+)?[HMS])+|\d+D)$"},
            },
        },
        "context": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "platform": {"type": "string"},
                "language": {"type": "string", "pattern": r"^[a-z]{2,3}(-[A-Z]{2})?$"},
                "contextActivities": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        kind: {"type": "array", "items": ACTIVITY}
                        for kind in ("parent", "grouping", "category", "other")
                    },
                },
                "extensions": {"type": "object", "propertyNames": IRI},
            },
        },
        "timestamp": {"type": "string"},
    },
}


def check_statement(statement: dict) -> None:
    """What a conformant LRS refuses a statement for, beyond its shape."""
    jsonschema.validate(statement, STATEMENT)
    assert uuid.UUID(statement["id"]).version == 5

    def no_nulls(value):
        if isinstance(value, dict):
            for item in value.values():
                no_nulls(item)
        elif isinstance(value, list):
            for item in value:
                no_nulls(item)
        else:
            assert value is not None

    no_nulls(statement)
    score = statement.get("result", {}).get("score")
    if score is not None:
        assert score["min"] <= score["raw"] <= score["max"]
        assert score["scaled"] == score["raw"] / score["max"]
    timestamp = datetime.fromisoformat(statement["timestamp"])
    assert timestamp.tzinfo is not None  # ISO 8601 with a time zone


def statements(data: bytes) -> list[dict]:
    return [json.loads(line) for line in data.decode("utf-8").splitlines()]


def test_xapi_statements_follow_the_specification(client, auth, org):
    auth.login("hr@example.test")
    response, data = download(client, XAPI_URL)
    assert response.mimetype == "application/x-ndjson"
    assert response.headers["Content-Disposition"].endswith('.jsonl"')
    assert data.endswith(b"\n")
    found = statements(data)
    for item in found:
        check_statement(item)
    # Oldest first: Anna's failed and passed attempts, her completion, Gleb's failed attempt.
    assert [(s["actor"]["name"], s["verb"]["id"].rsplit("/", 1)[1]) for s in found] == [
        ("Anna Alpha", "failed"),
        ("Anna Alpha", "passed"),
        ("Anna Alpha", "completed"),
        ("Gleb Beta", "failed"),
    ]
    failed, _passed, completed, _gleb = found
    assert completed["actor"] == {"objectType": "Agent", "name": "Anna Alpha",
                                  "mbox": "mailto:anna@example.test"}  # fmt: skip
    assert completed["verb"] == {
        "id": "http://adlnet.gov/expapi/verbs/completed",
        "display": {"en-US": "completed", "ru-RU": "завершил(а)"},
    }
    assert completed["object"] == {
        "objectType": "Activity",
        "id": "http://localhost/modules/client-centricity",
        "definition": {
            "name": {"ru-RU": "Клиентоцентричность в службе занятости",
                     "en-US": "Client-centricity in the employment service"},
            "type": "http://adlnet.gov/expapi/activities/module",
        },
    }  # fmt: skip
    assert completed["result"] == {
        "completion": True,
        "success": True,
        "score": {"scaled": 0.9, "raw": 90, "min": 0, "max": 100},
    }
    assert completed["timestamp"] == "2024-03-03T10:15:00.000Z"
    assert completed["context"]["platform"] == "Client-Centricity Academy"
    assert completed["context"]["extensions"] == {
        "http://localhost/xapi/content-version": version("client-centricity")
    }
    assert failed["object"]["id"] == "http://localhost/modules/client-centricity/quiz"
    assert (
        failed["object"]["definition"]["type"] == "http://adlnet.gov/expapi/activities/assessment"
    )
    assert failed["result"] == {
        "completion": True,
        "success": False,
        "score": {"scaled": 0.4, "raw": 40, "min": 0, "max": 100},
        "duration": "PT1200S",
    }
    assert failed["context"]["contextActivities"]["parent"] == [completed["object"]]


def test_xapi_ids_are_the_same_on_every_export_and_differ_per_record(client, auth, org):
    auth.login("hr@example.test")
    first = [s["id"] for s in statements(download(client, XAPI_URL)[1])]
    again = [s["id"] for s in statements(download(client, XAPI_URL)[1])]
    assert first == again
    assert len(set(first)) == len(first)
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, "http://localhost/xapi")
    assert first[2] == str(uuid.uuid5(namespace, f"completion/{org['done'].id}"))


def test_xapi_respects_module_period_and_inactive_filters(client, auth, org):
    auth.login("hr@example.test")

    def verbs(**params) -> list[tuple[str, str]]:
        found = statements(download(client, XAPI_URL, **params)[1])
        return [(s["actor"]["name"], s["verb"]["id"].rsplit("/", 1)[1]) for s in found]

    assert verbs(module="myths") == [("Gleb Beta", "failed")]
    assert verbs(since="2024-03-03", until="2024-03-03") == [
        ("Anna Alpha", "passed"),
        ("Anna Alpha", "completed"),
    ]
    assert verbs(until="2024-03-02") == [("Anna Alpha", "failed")]
    assert verbs(team=org["beta"].id) == [("Gleb Beta", "failed")]
    assert verbs(team=org["beta"].id, inactive="1") == [
        ("Vera Beta", "completed"),
        ("Gleb Beta", "failed"),
    ]


def test_xapi_language_follows_the_person(client, auth, org):
    org["anna"].locale = "en"
    db.session.commit()
    auth.login("national@example.test")
    found = statements(download(client, XAPI_URL, module="client-centricity")[1])
    languages = {(s["actor"]["name"], s["context"]["language"]) for s in found}
    assert languages == {("Anna Alpha", "en-US"), ("Dina Gamma", "ru-RU")}


# --- Transcript --------------------------------------------------------------------------


def transcript_of(client, user_id: int):
    return client.get(f"/people/{user_id}/transcript.pdf")


def test_a_person_downloads_their_own_transcript(client, auth, org):
    anna = org["anna"]
    anna.locale = "en"
    db.session.add(Certificate(user_id=anna.id, code="7KQ2M9XD4HTB", full_name=anna.full_name))
    db.session.commit()
    auth.login("anna@example.test")
    response = transcript_of(client, anna.id)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert f"transcript-{anna.id}-" in response.headers["Content-Disposition"]
    text = re.sub(r"\s+", " ", pdf_text(response.data))
    assert "Training transcript" in text
    assert "Anna Alpha" in text
    assert "E-1" in text
    assert "Alpha" in text
    assert "North" in text
    module_line = re.search(r"1\. Client-centricity in the employment service (.*?) 2\. ", text)
    assert module_line, text
    assert module_line.group(1).startswith(
        f"Completed 90 2 March 3, 2024 {version('client-centricity')}"
    )
    assert "2. The client-experience management system In progress — 0" in text
    assert "7KQ2-M9XD-4HTB" in text
    assert "Modules complete: 1 of 7" in text
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action != "login")).one()
    assert event.action == "export.transcript"
    assert event.details == {"person": anna.id, "rows": 7}


def test_hr_in_scope_downloads_a_transcript(client, auth, org):
    auth.login("hr@example.test")
    response = transcript_of(client, org["gleb"].id)
    assert response.status_code == 200
    text = re.sub(r"\s+", " ", pdf_text(response.data))
    assert "Gleb Beta" in text
    assert "4. Myths about client-centricity In progress 50 1 — —" in text
    assert "No course certificate yet" in text


def test_a_transcript_out_of_scope_is_403_and_an_unknown_person_404(client, auth, org):
    auth.login("hr@example.test")
    assert transcript_of(client, org["dina"].id).status_code == 403
    assert transcript_of(client, 999_999).status_code == 404
    auth.logout()
    auth.login("anna@example.test")
    assert transcript_of(client, org["boris"].id).status_code == 403
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action != "login")).all() == []


def test_the_transcript_is_linked_from_the_persons_page_and_my_learning(client, auth, org):
    auth.login("anna@example.test")
    link = f'href="/people/{org["anna"].id}/transcript.pdf"'
    assert link in client.get("/me").get_data(as_text=True)
    assert link in client.get(f"/people/{org['anna'].id}").get_data(as_text=True)


def test_anonymous_people_are_sent_to_sign_in_for_a_transcript(client, org):
    response = transcript_of(client, org["anna"].id)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_audit_log_names_whoever_exported(app, org):
    # Audit rows outlive the stream's session: a fresh client sees them committed.
    client = app.test_client()
    Auth(client).login("admin@example.test")
    download(client, CSV_URL, module="myths")
    db.session.expire_all()
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action != "login")).one()
    assert event.actor.email == "admin@example.test"
    assert event.details["rows"] == 4
