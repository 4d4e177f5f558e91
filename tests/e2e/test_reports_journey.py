"""Team and HR reports in a real browser: the manager reads the team dashboard (summary,
progress by module as a chart and a table, people by modules, competency heatmap) and reminds
someone who is behind with the keyboard; the employee follows the reminder; HR narrows the
report to one team and downloads the CSV with that filter; both pages pass basic
accessibility checks and are photographed at phone and desktop widths.

The numbers are the demo's (``lms.services.demo.LEARNING``), counted by hand below. They hold
only while nobody else has learnt anything, yet the other e2e modules make the employee read,
pass a quiz and draft a goal (she would no longer be behind). So this module runs the app on
its own fresh demo database, prepared as ``conftest.py`` prepares the shared one, which it
leaves untouched.

Interface strings are looked up in the app's Russian catalogue (``ru``): many of the
dashboard's strings are translated only at the end of the issue, and until then the Russian
interface shows the English text, as ``ru`` does.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from flask import Flask
from flask_babel import force_locale, format_date, gettext

from tests.e2e.conftest import ROOT, demo_app, serving

try:
    from playwright.sync_api import expect
except ImportError:  # no test runs then: the `browser` fixture skips them (or fails on CI)
    expect = None

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

DEMO_PASSWORD = "demo"
MANAGER = "manager@demo.local"
MANAGER_NAME = "Игорь Петрович Волков"
EMPLOYEE = "employee@demo.local"
EMPLOYEE_NAME = "Анна Сергеевна Морозова"
HR = "hr@demo.local"
OLGA = "Ольга Николаевна Кузнецова"
CITIZENS = "Работа с гражданами"
CITIZENS_OPTION = "Работа с гражданами · Кадровый центр «Северный»"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
BOM = b"\xef\xbb\xbf"

# --- the demo, counted by hand -------------------------------------------------------------
# The manager's two teams: Работа с гражданами (Анна, Игорь himself, Ольга, Алексей) and
# Работа с работодателями (Мария, Сергей): 6 people, 7 modules, 42 records.
# Ольга: modules 1–3 complete, 4 begun; Алексей: 1 complete, 2 begun; Мария: 1–2 complete;
# Анна, Игорь and Сергей have done nothing (so they are "behind").
MANAGER_PEOPLE = [  # by name, as the matrix lists them
    "Алексей Андреевич Попов",
    EMPLOYEE_NAME,
    MANAGER_NAME,
    "Мария Игоревна Васильева",
    OLGA,
    "Сергей Александрович Новиков",
]
# Per module: complete, in progress, not started, share complete (%), average score.
# Scores: each quiz draws 8 questions and the demo leaves (person's index + module's index)
# % 3 of them unanswered (Ольга 0, Алексей 1, Мария 2 in LEARNING's order): 0 wrong is 100,
# 1 wrong 87 (7/8, rounded down), 2 wrong 75. Module 1: Ольга 100, Алексей 87, Мария 75 -> 87;
# module 2: Ольга 87, Мария 100 -> 93.5 -> 94; module 3: Ольга 75.
MANAGER_MODULES = [
    ("3", "0", "3", "50 %", "87"),
    ("2", "1", "3", "33 %", "94"),
    ("1", "0", "5", "17 %", "75"),
    ("0", "1", "5", "0 %", "—"),
    ("0", "0", "6", "0 %", "—"),
    ("0", "0", "6", "0 %", "—"),
    ("0", "0", "6", "0 %", "—"),
]
# 6 people; 6 of 42 module records complete (14 %); 6 completions in the last 12 weeks (all
# today); 3 behind; 1 goal needs action (Ольга's, waiting for approval).
MANAGER_SUMMARY = ["6", "14 %", "6", "3", "1"]
BEHIND = [EMPLOYEE_NAME, MANAGER_NAME, "Сергей Александрович Новиков"]  # never started, by name
# Passing a quiz gives level 1 in the module's competencies (front matter): Ольга's modules
# 1–3 cover all but clarity-of-support.
OLGA_LEVELS = {
    "client-understanding": "1",
    "journeys-and-pain-points": "1",
    "clarity-of-support": "—",
    "co-design": "1",
    "feedback-and-measurement": "1",
    "ownership": "1",
}
# HR narrowed to Работа с гражданами: Алексей, Анна, Игорь, Ольга; 4 x 7 = 28 records.
CITIZENS_PEOPLE = ["Алексей Андреевич Попов", EMPLOYEE_NAME, MANAGER_NAME, OLGA]
CITIZENS_MODULE_1 = ("2", "0", "2", "50 %")  # Ольга and Алексей

Screenshot = Callable[["Page", str], Path]
Translate = Callable[..., str]


# --- this module's own app: the demo as quickstart leaves it --------------------------------


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """A fresh demo database for this module only (see the module's docstring)."""
    with demo_app(tmp_path_factory, "e2e-reports-db") as app:
        yield app


@pytest.fixture(scope="module")
def live_server(live_app: Flask) -> Iterator[str]:
    with serving(live_app, "e2e-reports-server") as url:
        yield url


@pytest.fixture(scope="module")
def ru(live_app: Flask) -> Translate:
    """``ru(message, **params)``: the message as the Russian interface shows it."""

    def translate(message: str, **params: Any) -> str:
        with live_app.test_request_context(), force_locale("ru"):
            return gettext(message, **params)

    return translate


@pytest.fixture(scope="module")
def today_long(live_app: Flask) -> str:
    """Today as the templates' ``date`` filter writes it in Russian (the app's time zone)."""
    with live_app.test_request_context(), force_locale("ru"):
        return format_date(datetime.now(UTC), "long")


# --- helpers -------------------------------------------------------------------------------


def front_matter(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("---", 2)[1])


def module_titles() -> list[str]:
    """The seven modules' Russian titles, in order."""
    files = sorted((ROOT / "content" / "modules").glob("*/index.ru.md"))
    return [front_matter(path)["title"] for path in files]


def competencies() -> list[tuple[str, str]]:
    """(id, Russian name) of the competencies, in the framework's order."""
    framework = yaml.safe_load((ROOT / "content" / "competencies.yaml").read_text("utf-8"))
    return [(entry["id"], entry["name"]["ru"]) for entry in framework["competencies"]]


def path_of(page: Page) -> str:
    return urlsplit(page.url).path


def squash(text: str | None) -> str:
    return " ".join((text or "").split())


def log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("main button.primary").click()
    expect(page.locator("nav.main-nav .who")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "ru")


def main_menu(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Основное меню")


def section(page: Page, title_id: str) -> Locator:
    return page.locator(f"section[aria-labelledby={title_id}]")


def flash(page: Page) -> Locator:
    return page.locator(".flashes .flash")


def row_header_texts(table: Locator) -> list[str]:
    return [squash(text) for text in table.locator("tbody th[scope=row]").all_inner_texts()]


def cell_texts(row: Locator) -> list[str]:
    return [squash(text) for text in row.locator("td").all_inner_texts()]


def matrix_names(page: Page) -> list[str]:
    names = page.locator("#matrix table.matrix tbody th[scope=row] a").all_inner_texts()
    return [squash(name) for name in names]


def choose_team(page: Page, ru: Translate, option: str) -> None:
    """HR's filter form: the team picked from the select, then "Show"."""
    form = page.locator("form.filter-form")
    form.get_by_label(ru("Team"), exact=True).select_option(label=option)
    form.get_by_role("button", name=ru("Show"), exact=True).click()
    expect(page).to_have_url(re.compile(r"/hr\?.*\bteam=\d+"))


def team_filter_id(page: Page) -> str:
    return parse_qs(urlsplit(page.url).query)["team"][0]


# --- 1 and 2: the manager's dashboard and a reminder; the employee follows it ----------------


def check_the_manager_dashboard(page: Page, ru: Translate) -> None:
    # The summary's numbers.
    stats = page.locator("section[aria-labelledby=summary-title] .stats > div")
    expect(stats.locator("strong")).to_have_text(MANAGER_SUMMARY)
    expect(stats.nth(0)).to_contain_text(ru("people"))
    expect(stats.nth(1)).to_contain_text(
        ru("of modules completed (%(done)d of %(all)d)", done=6, all=42)
    )
    expect(stats.nth(3)).to_contain_text(ru("behind"))

    # Progress by module: a decorative chart, then the same numbers in a table.
    modules = section(page, "modules-title")
    expect(modules.get_by_role("heading", level=2)).to_have_text(ru("Progress by module"))
    chart = modules.locator("svg.chart-svg")
    expect(chart).to_have_count(1)
    expect(chart).to_have_attribute("aria-hidden", "true")
    expect(chart.locator("rect.seg-complete")).to_have_count(3)  # modules 1 to 3
    table = modules.locator("table")
    follows = chart.evaluate(
        "(svg, table) => Boolean(svg.compareDocumentPosition(table)"
        " & Node.DOCUMENT_POSITION_FOLLOWING)",
        table.element_handle(),
    )
    assert follows, "the numbers' table must follow the chart"
    expect(table.locator("caption")).to_have_text(ru("People by module and status"))
    expect(table.locator("thead th")).to_have_text(
        [
            ru("Module"),
            ru("Completed"),
            ru("In progress"),
            ru("Not started"),
            ru("Share completed"),
            ru("Average score"),
        ]
    )
    assert row_header_texts(table) == module_titles()
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(7)
    assert [tuple(cell_texts(rows.nth(i))) for i in range(7)] == MANAGER_MODULES

    # People by modules: Ольга has 3 of 7, with scores, and the 4th begun.
    assert matrix_names(page) == MANAGER_PEOPLE
    olga = page.locator("#matrix tbody tr").filter(
        has=page.get_by_role("link", name=OLGA, exact=True)
    )
    expect(olga.locator("th")).to_contain_text(CITIZENS)
    expect(olga.locator("td")).to_have_count(8)
    expect(olga.locator("td").last).to_have_text("3 / 7")
    classes = [olga.locator("td").nth(i).get_attribute("class") for i in range(7)]
    assert classes == ["cell-complete"] * 3 + ["cell-progress"] + ["cell-none"] * 3
    scores = [squash(olga.locator("td").nth(i).inner_text()) for i in range(3)]
    assert scores == [
        f"✓ 100 {ru('Completed')}",
        f"✓ 87 {ru('Completed')}",
        f"✓ 75 {ru('Completed')}",
    ]
    anna = page.locator("#matrix tbody tr").filter(
        has=page.get_by_role("link", name=EMPLOYEE_NAME, exact=True)
    )
    expect(anna.locator("td.cell-none")).to_have_count(7)
    expect(anna.locator("td").last).to_have_text("0 / 7")

    # The competency heatmap: people by competencies.
    heatmap = page.locator("#heatmap table.heatmap")
    names = competencies()
    expect(heatmap.locator("thead th")).to_have_text([ru("Name"), *(name for _, name in names)])
    assert row_header_texts(heatmap) == MANAGER_PEOPLE
    olga_levels = heatmap.locator("tbody tr").filter(
        has=page.get_by_role("link", name=OLGA, exact=True)
    )
    expect(olga_levels.locator("td")).to_have_text([OLGA_LEVELS[key] for key, _ in names])
    anna_levels = heatmap.locator("tbody tr").filter(
        has=page.get_by_role("link", name=EMPLOYEE_NAME, exact=True)
    )
    expect(anna_levels.locator("td")).to_have_text(["—"] * len(names))
    # Level distribution: 3 of the 6 at level 1 in client understanding (Ольга, Алексей,
    # Мария: module 1), nobody higher.
    levels = page.locator("#heatmap table.numbers")
    understanding = levels.locator("tbody tr").filter(
        has=page.get_by_role("rowheader", name=names[0][1], exact=True)
    )
    expect(understanding.locator("td")).to_have_text(["0", "0", "0", "3", "3"])


def behind_row(page: Page, name: str) -> Locator:
    rows = section(page, "behind-title").locator("tbody tr")
    row = rows.filter(has=page.get_by_role("rowheader", name=name, exact=True))
    expect(row).to_have_count(1)
    return row


def remind_with_the_keyboard(page: Page, ru: Translate) -> None:
    """Focus "Send a reminder" in Анна's row and press Enter."""
    button = behind_row(page, EMPLOYEE_NAME).get_by_role(
        "button",
        name=f"{ru('Send a reminder')} {ru('to %(name)s', name=EMPLOYEE_NAME)}",
        exact=True,
    )
    button.focus()
    expect(button).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/team\??$"))


def test_manager_reads_the_dashboard_and_reminds_who_is_behind(
    new_page: Callable[..., Page], ru: Translate, today_long: str
) -> None:
    """The team dashboard's numbers are the demo's; a reminder sent with the keyboard reaches
    the employee, a second one the same day is refused, and the reminder leads to /me."""
    page = new_page()
    log_in(page, MANAGER)

    teams = main_menu(page).get_by_role("link", name="Команды", exact=True)
    teams.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/team$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Команды")
    expect(teams).to_have_attribute("aria-current", "page")
    check_the_manager_dashboard(page, ru)

    # Who is behind: never started, by name; no button to remind oneself.
    behind = section(page, "behind-title")
    expect(behind.get_by_role("heading", level=2)).to_have_text(ru("Who is behind"))
    assert row_header_texts(behind.locator("table")) == BEHIND
    expect(behind_row(page, EMPLOYEE_NAME).locator("td")).to_have_text(
        [
            CITIZENS,
            "0 / 7",
            ru("never started"),
            re.compile(r"^\s*" + re.escape(ru("Send a reminder"))),
        ]
    )
    expect(behind_row(page, MANAGER_NAME).get_by_role("button")).to_have_count(0)

    remind_with_the_keyboard(page, ru)
    expect(flash(page)).to_have_text(
        ru("A reminder was sent to %(name)s in the app.", name=EMPLOYEE_NAME)
    )
    expect(flash(page)).to_have_attribute("role", "status")
    reminded = ru("reminded %(date)s", date=today_long)
    expect(behind_row(page, EMPLOYEE_NAME).locator("td").last).to_contain_text(reminded)
    expect(behind_row(page, "Сергей Александрович Новиков").locator("td").last).not_to_contain_text(
        reminded
    )

    remind_with_the_keyboard(page, ru)  # again the same day: refused
    expect(flash(page)).to_have_text(
        ru("%(name)s was already reminded in the last 24 hours.", name=EMPLOYEE_NAME)
    )
    expect(flash(page)).to_have_attribute("role", "alert")
    expect(behind_row(page, EMPLOYEE_NAME).locator("td").last).to_contain_text(reminded)

    # The employee is told, once, and the reminder leads to her learning.
    employee = new_page()
    log_in(employee, EMPLOYEE)
    link = main_menu(employee).locator("a.notifications-link")
    expect(link.locator(".count-badge")).to_have_text(re.compile(r"^1\b"))
    link.click()
    expect(employee).to_have_url(re.compile(r"/me/notifications$"))
    text = ru(
        "%(name)s reminds you about the course: %(count)s module(s) left to complete.",
        name=MANAGER_NAME,
        count="7",
    )
    item = employee.locator("li.notification").filter(
        has=employee.locator("button.notification-open", has_text=text)
    )
    expect(item).to_have_count(1)
    expect(item).to_have_class(re.compile(r"\bis-unread\b"))
    item.get_by_role("button").click()
    expect(employee).to_have_url(re.compile(r"/me$"))
    expect(employee.get_by_role("heading", level=1)).to_have_text(ru("My learning"))
    expect(link.locator(".count-badge")).to_have_count(0)


# --- 4: HR narrows the report to one team and exports it ------------------------------------


def test_hr_narrows_the_report_to_one_team(new_page: Callable[..., Page], ru: Translate) -> None:
    page = new_page()
    log_in(page, HR)
    main_menu(page).get_by_role("link", name=ru("Reports"), exact=True).click()
    expect(page).to_have_url(re.compile(r"/hr$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(ru("Reports"))
    assert len(matrix_names(page)) == 10  # everyone with a team in the region

    choose_team(page, ru, CITIZENS_OPTION)
    expect(page.locator("form.filter-form").get_by_label(ru("Team"), exact=True)).to_have_value(
        team_filter_id(page)
    )
    assert matrix_names(page) == CITIZENS_PEOPLE
    teams = page.locator("#matrix tbody th[scope=row] .meta").all_inner_texts()
    assert set(teams) == {CITIZENS}
    first = section(page, "modules-title").locator("tbody tr").first
    assert tuple(cell_texts(first)[:4]) == CITIZENS_MODULE_1
    expect(page.locator(".stats > div strong").first).to_have_text("4")


def test_hr_downloads_the_csv_with_the_current_filters(
    new_page: Callable[..., Page], ru: Translate
) -> None:
    """The "CSV for Excel" link carries the team filter; the file is UTF-8 with a BOM,
    separated by ``;``, one row per person of the team and module, Анна's not started."""
    page = new_page()
    log_in(page, HR)
    page.goto("/hr")
    choose_team(page, ru, CITIZENS_OPTION)
    team_id = team_filter_id(page)

    exports = section(page, "exports-title")
    link = exports.get_by_role("link", name=ru("CSV for Excel (UTF-8, separated by ;)"), exact=True)
    href = link.get_attribute("href") or ""
    assert parse_qs(urlsplit(href).query).get("team") == [team_id], href
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert re.fullmatch(r"completions-\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
    data = Path(download.path()).read_bytes()

    assert data.startswith(BOM), data[:20]
    text = data[len(BOM) :].decode("utf-8")
    header_line = text.splitlines()[0]
    assert ";" in header_line, f"not separated by ';': {header_line!r}"
    table = list(csv.reader(io.StringIO(text), delimiter=";"))
    header, rows = table[0], table[1:]
    column = {name: index for index, name in enumerate(header)}
    for name in ("Person", "E-mail", "Team", "Module", "Status", "Score", "Attempts"):
        assert ru(name) in column, f"no {name!r} column in {header}"

    assert len(rows) == len(CITIZENS_PEOPLE) * 7
    assert {row[column[ru("Team")]] for row in rows} == {CITIZENS}
    by_person: dict[str, list[list[str]]] = {}
    for row in rows:
        by_person.setdefault(row[column[ru("Person")]], []).append(row)
    assert sorted(by_person) == sorted(CITIZENS_PEOPLE)
    assert all(len(person_rows) == 7 for person_rows in by_person.values())

    anna = by_person[EMPLOYEE_NAME]
    assert {row[column[ru("E-mail")]] for row in anna} == {EMPLOYEE}
    assert [row[column[ru("Status")]] for row in anna] == [ru("Not started")] * 7
    assert [row[column[ru("Attempts")]] for row in anna] == ["0"] * 7
    assert [row[column[ru("Score")]] for row in anna] == [""] * 7
    olga = [row[column[ru("Status")]] for row in by_person[OLGA]]
    assert olga == [ru("Completed")] * 3 + [ru("In progress")] + [ru("Not started")] * 3


# --- 5: accessibility, and how the pages look -------------------------------------------------

PAGES = [("/team", MANAGER, "Команды"), ("/hr", HR, None)]


def unlabelled_controls(page: Page) -> list[str]:
    """Form controls without a label element, aria-label or aria-labelledby."""
    return page.evaluate(
        """() => [...document.querySelectorAll(
                'input:not([type=hidden]), select, textarea')]
            .filter(el => !(el.labels && el.labels.length)
                && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
            .map(el => el.outerHTML.slice(0, 120))"""
    )


def focused(page: Page) -> dict[str, Any]:
    return page.evaluate(
        """() => { const el = document.activeElement;
            return {tag: el.tagName, id: el.id, inTable: Boolean(el.closest('table')),
                    text: (el.textContent || '').trim().slice(0, 40)}; }"""
    )


@pytest.mark.parametrize(("path", "email", "heading"), PAGES, ids=["team", "hr"])
def test_dashboard_accessibility(
    new_page: Callable[..., Page], ru: Translate, path: str, email: str, heading: str | None
) -> None:
    page = new_page()
    log_in(page, email)
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading or ru("Reports"))
    expect(page.locator("h1")).to_have_count(1)

    # Every control has a label, and so an accessible name.
    assert unlabelled_controls(page) == []
    controls = page.locator("input:not([type=hidden]), select, textarea, button")
    assert controls.count() > 0
    for index in range(controls.count()):
        expect(controls.nth(index)).to_have_accessible_name(re.compile(r"\S"))
    team_select = page.get_by_label(ru("Team"), exact=True)
    expect(team_select).to_have_count(1)
    expect(team_select).to_have_attribute("id", "filter-team")

    # Charts are decorative (their numbers are in tables); tables have header cells.
    svgs = page.locator("main svg")
    assert svgs.count() >= 3  # modules, levels, over time
    for index in range(svgs.count()):
        expect(svgs.nth(index)).to_have_attribute("aria-hidden", "true")
    tables = page.locator("main table")
    assert tables.count() >= 5
    for index in range(tables.count()):
        expect(tables.nth(index).locator("thead th[scope=col]").first).to_be_attached()

    # Tab from the top reaches the team filter before any link in a table.
    seen = []
    for _ in range(80):
        page.keyboard.press("Tab")
        now = focused(page)
        seen.append(now)
        if now["id"] == "filter-team":
            break
    else:
        pytest.fail(f"Tab never reached the team filter: {seen}")
    in_tables = [item for item in seen if item["inTable"] and item["tag"] == "A"]
    assert in_tables == [], f"a table link comes before the filter: {in_tables}"


@pytest.mark.parametrize(("path", "email", "heading"), PAGES, ids=["team", "hr"])
@pytest.mark.parametrize(
    "viewport",
    [pytest.param(PHONE, id="phone"), pytest.param(DESKTOP, id="desktop")],
)
def test_dashboard_screenshots(
    new_page: Callable[..., Page],
    save_screenshot: Screenshot,
    ru: Translate,
    path: str,
    email: str,
    heading: str | None,
    viewport: dict[str, int],
) -> None:
    page = new_page(viewport=viewport)
    log_in(page, email)
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading or ru("Reports"))
    kind = "phone" if viewport is PHONE else "desktop"
    save_screenshot(page, f"reports{path.replace('/', '-')}-{kind}-ru")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= viewport["width"] + 1, f"horizontal scroll: {scroll_width}px wide"


def clipped_chart_texts(page: Page) -> list[str]:
    """Texts of the charts that do not fit in their SVG's view box (so are cut off)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('main svg.chart-svg')].flatMap(svg => {
            const box = svg.viewBox.baseVal;
            return [...svg.querySelectorAll('text')].filter(text => {
                const b = text.getBBox();
                return b.x < box.x - 0.5 || b.x + b.width > box.x + box.width + 0.5;
            }).map(text => text.textContent);
        })"""
    )


def test_chart_labels_fit_in_their_charts(new_page: Callable[..., Page]) -> None:
    page = new_page(viewport=DESKTOP)
    log_in(page, MANAGER)
    page.goto("/team")
    expect(page.locator("main svg.chart-svg")).to_have_count(3)
    assert clipped_chart_texts(page) == []
