"""Accessibility proven in a real browser, in Russian and in English.

- axe-core finds no WCAG 2.1 A or AA violation on any main page, each opened by the person who
  uses it (the employee, her manager, HR, the administrator, or nobody signed in);
- every such page reflows on a 360-px-wide phone and at 400 % zoom (a 320-CSS-px viewport, as
  WCAG 1.4.10 defines it: 1280 px at 400 %) without scrolling sideways; wide tables scroll in
  their own box. Each page is photographed on the phone, in both languages, for CI's artifacts;
- signing in, the header's menu and language switch, opening a module, the goal form and the
  quiz work with the keyboard alone, with a visible focus and a working "skip to content" link.

The pages need a quiz attempt graded and one open, a goal and a thank-you for the employee,
which this module adds to a demo database of its own: the other e2e modules share theirs and
expect the employee to start clean. Pages are opened in one signed-in browser per person,
language and screen, kept for the whole module.

English is the browser's language (``locale="en-US"``): the demo accounts have no saved
language, so the app follows the browser (``lms.i18n.select_locale``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from lms.content import get_course
from lms.extensions import db
from lms.models import Certificate
from lms.services import goals, quizzes, recognition
from lms.services.accounts import find_user_by_email, issue_activation_link
from lms.services.demo import ORG_GOAL
from tests.e2e.conftest import DEFAULT_TIMEOUT_MS, demo_app, serving

try:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect
except ImportError:  # no test runs then: the `browser` fixture skips them (or fails on CI)
    Axe = expect = None

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

DEMO_PASSWORD = "demo"
ANONYMOUS = "anonymous"
EMPLOYEE = "employee@demo.local"
MANAGER = "manager@demo.local"
HR = "hr@demo.local"
ADMIN = "admin@demo.local"
WAITING_GOAL = "Записывать вопрос посетителя"  # Ольга's, waiting for approval (the demo)
CERTIFIED = "i.orlova@demo.local"  # has completed the course in the demo
INVITED = "n.mikhailov@demo.local"  # given an activation link (signs in nowhere here)

LANGUAGES = {"ru": "ru-RU", "en": "en-US"}  # the interface's language: the browser's locale
DESKTOP = "desktop"
PHONE = "phone"
ZOOM_400 = "zoom-400"
DEVICES: dict[str, dict[str, Any]] = {
    DESKTOP: {"viewport": {"width": 1280, "height": 900}},
    PHONE: {"viewport": {"width": 360, "height": 740}},
    # A 1280 x 1024 screen at 400 % zoom: 320 x 256 CSS pixels, each drawn with 4 x 4 dots.
    ZOOM_400: {"viewport": {"width": 320, "height": 256}, "device_scale_factor": 4},
}
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_21_AA}, "resultTypes": ["violations"]}
# What a narrow screen can break that a wide one does not: a table or a block of code that now
# scrolls sideways must take the keyboard's focus (WCAG 2.1.1).
AXE_SMALL_SCREEN_OPTIONS = {
    "runOnly": {"type": "rule", "values": ["scrollable-region-focusable"]},
    "resultTypes": ["violations"],
}

Screenshot = Callable[["Page", str], Path]


@dataclass(frozen=True)
class Screen:
    """A main page: its name in test ids and screenshots, who opens it, its address (with
    ``{placeholders}`` from ``world``) and the status it answers with."""

    name: str
    person: str
    path: str
    status: int = 200

    def url(self, world: dict[str, Any]) -> str:
        return self.path.format(**world)


QUIZ = "/modules/client-centricity/quiz"
SCREENS = [
    Screen("login", ANONYMOUS, "/login"),
    Screen("certificate-check", ANONYMOUS, "/certificates"),
    Screen("certificate", ANONYMOUS, "/certificates/{certificate}"),
    Screen("achievement", ANONYMOUS, "/achievements/goal_achieved"),
    Screen("home", EMPLOYEE, "/"),
    Screen("my-learning", EMPLOYEE, "/me"),
    Screen("modules", EMPLOYEE, "/modules"),
    Screen("module", EMPLOYEE, "/modules/client-centricity"),
    Screen("memo", EMPLOYEE, "/modules/client-centricity/memos/client-groups"),
    Screen("competencies", EMPLOYEE, "/competencies"),
    Screen("my-competencies", EMPLOYEE, "/me/competencies"),
    Screen("quiz", EMPLOYEE, QUIZ),
    Screen("quiz-attempt", EMPLOYEE, QUIZ + "/attempts/{open_attempt}"),
    Screen("quiz-result", EMPLOYEE, QUIZ + "/attempts/{graded_attempt}"),
    Screen("goals", EMPLOYEE, "/me/goals"),
    Screen("goal-new", EMPLOYEE, "/me/goals/new"),
    Screen("goal", EMPLOYEE, "/goals/{goal}"),
    Screen("badges", EMPLOYEE, "/me/badges"),
    Screen("wall", EMPLOYEE, "/wall"),
    Screen("notifications", EMPLOYEE, "/me/notifications"),
    Screen("password", EMPLOYEE, "/me/password"),
    Screen("not-found", EMPLOYEE, "/modules/no-such-module", status=404),
    Screen("team", MANAGER, "/team"),
    Screen("team-detail", MANAGER, "/team/{team}"),
    Screen("person", MANAGER, "/people/{employee}"),
    Screen("review", MANAGER, "/people/{employee}/review"),
    Screen("recognise", MANAGER, "/recognise/{employee}"),
    Screen("goal-to-approve", MANAGER, "/goals/{waiting_goal}"),
    Screen("hr-reports", HR, "/hr"),
    Screen("hr-goals", HR, "/hr/goals"),
    Screen("hr-import", HR, "/hr/import"),
    Screen("api-tokens", ADMIN, "/admin/tokens"),
    Screen("audit-log", ADMIN, "/admin/audit"),
    Screen("admin-people", ADMIN, "/admin"),
    Screen("admin-person-new", ADMIN, "/admin/people/new"),
    Screen("admin-person", ADMIN, "/admin/people/{employee}"),
    Screen("admin-org", ADMIN, "/admin/org"),
    Screen("admin-region", ADMIN, "/admin/org/regions/{region}"),
    Screen("admin-centre", ADMIN, "/admin/org/centres/{centre}"),
    Screen("admin-team", ADMIN, "/admin/org/teams/{team}"),
    Screen("admin-handover", ADMIN, "/admin/org/handover"),
    Screen("admin-handover-teams", ADMIN, "/admin/org/handover?from={manager}"),
    Screen("admin-content", ADMIN, "/admin/content"),
    # Opening a link that works signs out whoever is signed in: nobody is, in this browser.
    # A GET does not use the link up, so every language and screen opens the same one.
    Screen("activate", ANONYMOUS, "/activate/{activation_token}"),
]
SCREEN_IDS = [screen.name for screen in SCREENS]


# --- this module's own app: the demo, and the employee's attempts, goal and thanks ----------


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """A fresh demo database for this module only (see the module's docstring)."""
    with demo_app(tmp_path_factory, "e2e-accessibility-db") as app:
        yield app


@pytest.fixture(scope="module")
def live_server(live_app: Flask) -> Iterator[str]:
    with serving(live_app, "e2e-accessibility-server") as url:
        yield url


@pytest.fixture(scope="module")
def world(live_app: Flask) -> dict[str, Any]:
    """What the pages show about the employee, made through the services: a quiz attempt
    graded with nothing answered (a result that failed, every question reviewed) and a second
    one open, a draft goal and her manager's thanks (a notification and an entry on the wall);
    and an activation link for a colleague. Returns the ids, the certificate code and the
    link's token the pages' addresses need."""
    with live_app.app_context():
        employee, manager, olga, certified, admin, invited = (
            find_user_by_email(email)
            for email in (EMPLOYEE, MANAGER, "o.kuznetsova@demo.local", CERTIFIED, ADMIN, INVITED)
        )
        assert None not in (employee, manager, olga, certified, admin, invited), (
            "the demo accounts are missing"
        )
        course = get_course()
        module = next(m for m in course.modules if m.slug == "client-centricity")
        graded = quizzes.start_attempt(employee, course, module)
        quizzes.submit(graded, course, module, {})
        open_attempt = quizzes.start_attempt(employee, course, module)
        goal = goals.create(
            employee,
            goals.GoalFields(
                title="Называть каждому посетителю следующий шаг",
                measure="Отметка в журнале приёма",
                target="9 из 10 посетителей",
                relevance="Человек уходит, зная, что будет дальше",
                due_on=date.today() + timedelta(days=30),
                competency_ids=("clarity-of-support",),
            ),
        )
        recognition.give_recognition(
            manager, employee, "Нашла посетителю вакансию в тот же день.", competency_id="ownership"
        )
        waiting = next(g for g in goals.goals_of(olga) if g.title.startswith(WAITING_GOAL))
        certificate = db.session.scalar(
            select(Certificate.code).where(Certificate.user_id == certified.id)
        )
        assert certificate, f"{CERTIFIED} has no certificate in the demo"
        activation_token = issue_activation_link(invited, admin)
        ids = {
            "employee": employee.id,
            "manager": manager.id,
            "team": employee.team_id,
            "centre": employee.team.centre_id,
            "region": employee.team.centre.region_id,
            "graded_attempt": graded.id,
            "open_attempt": open_attempt.id,
            "goal": goal.id,
            "waiting_goal": waiting.id,
            "certificate": certificate,
            "activation_token": activation_token,
        }
        db.session.commit()
        db.session.remove()
    return ids


# --- browsers: one per person, language and device, signed in once -------------------------


def sign_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("input[name=password]").press("Enter")
    expect(page.locator("nav.main-nav .who")).to_be_visible()


class Browsers:
    """Pages kept open for the whole module, one per person, language and device."""

    def __init__(self, browser: Browser, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.contexts: list[BrowserContext] = []
        self.pages: dict[tuple[str, str, str], Page] = {}

    def page(self, person: str, language: str, device: str = DESKTOP) -> Page:
        key = (person, language, device)
        if key not in self.pages:
            context = self.browser.new_context(
                locale=LANGUAGES[language], base_url=self.base_url, **DEVICES[device]
            )
            context.set_default_timeout(DEFAULT_TIMEOUT_MS)
            self.contexts.append(context)
            page = context.new_page()
            if person != ANONYMOUS:
                sign_in(page, person)
            self.pages[key] = page
        return self.pages[key]

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture(scope="module")
def browsers(browser: Browser, live_server: str) -> Iterator[Browsers]:
    kept = Browsers(browser, live_server)
    yield kept
    kept.close()


def open_screen(page: Page, screen: Screen, world: dict[str, Any], language: str) -> None:
    """Go to the page and make sure it is the one meant, in the language meant."""
    response = page.goto(screen.url(world))
    assert response is not None
    assert response.status == screen.status, f"{screen.name}: status {response.status}"
    if screen.person != ANONYMOUS:
        assert urlsplit(page.url).path != "/login", f"{screen.name}: sent to sign in"
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("h1")).to_have_count(1)


def open_all_details(page: Page) -> None:
    """Open every <details>, so that what they hide is checked too."""
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")


# --- 1. axe-core: no WCAG 2.1 A/AA violation ------------------------------------------------


def describe(violations: list[dict[str, Any]], url: str) -> str:
    """A readable list: each rule broken, how badly, and where (CSS selectors of the nodes)."""
    lines = [f"{len(violations)} WCAG 2.1 A/AA rule(s) broken on {url}:"]
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']}"
            f" <{violation['helpUrl']}>"
        )
        for node in violation["nodes"]:
            target = " >> ".join(
                " ".join(part) if isinstance(part, list) else str(part) for part in node["target"]
            )
            summary = " ".join(str(node.get("failureSummary") or "").split())
            lines.append(f"    {target}: {summary}")
    return "\n".join(lines)


@pytest.mark.parametrize("language", list(LANGUAGES))
@pytest.mark.parametrize("screen", SCREENS, ids=SCREEN_IDS)
def test_axe_finds_no_wcag_violations(
    browsers: Browsers, world: dict[str, Any], screen: Screen, language: str
) -> None:
    page = browsers.page(screen.person, language)
    open_screen(page, screen, world, language)
    open_all_details(page)
    violations = Axe().run(page, options=AXE_OPTIONS).response["violations"]
    assert not violations, describe(violations, page.url)


# --- 2. small screens: a phone, and 400 % zoom ----------------------------------------------


def wider_than_the_screen(page: Page) -> list[str]:
    """The outermost elements that stick out on the right, outside any box that scrolls or clips
    them (a wide table scrolls in its own box)."""
    return page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            const scrolls = el => ['auto', 'scroll', 'hidden'].includes(
                getComputedStyle(el).overflowX);
            const found = [];
            for (const el of document.body.querySelectorAll('*')) {
                if (el.getBoundingClientRect().right <= width + 1) continue;
                let parent = el.parentElement, inside = false;
                while (parent && parent !== document.body) {
                    if (scrolls(parent) || found.includes(parent)) { inside = true; break; }
                    parent = parent.parentElement;
                }
                if (!inside) found.push(el);
            }
            return found.map(el => {
                const right = Math.round(el.getBoundingClientRect().right);
                return `${el.outerHTML.slice(0, 100)} (right edge at ${right}px)`;
            });
        }"""
    )


@pytest.mark.parametrize("device", [PHONE, ZOOM_400])
@pytest.mark.parametrize("language", list(LANGUAGES))
@pytest.mark.parametrize("screen", SCREENS, ids=SCREEN_IDS)
def test_pages_reflow_without_sideways_scrolling(
    browsers: Browsers,
    world: dict[str, Any],
    save_screenshot: Screenshot,
    screen: Screen,
    language: str,
    device: str,
) -> None:
    page = browsers.page(screen.person, language, device)
    open_screen(page, screen, world, language)
    if device == PHONE:
        save_screenshot(page, f"accessibility-{screen.name}-{language}-phone")
    open_all_details(page)
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width + 1, (
        f"{screen.name} scrolls sideways at {inner_width} CSS px: {scroll_width} px wide; "
        f"sticking out: {wider_than_the_screen(page)}"
    )
    violations = Axe().run(page, options=AXE_SMALL_SCREEN_OPTIONS).response["violations"]
    assert not violations, describe(violations, page.url)


# --- 3. the keyboard alone ------------------------------------------------------------------
# Complements test_quiz_journey.py (answers ticked with Space, submitted with Enter) and
# test_reports_journey.py (a reminder sent with Enter, Tab reaching the filter first).

FOCUSED = """() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    return {
        tag: el.tagName.toLowerCase(),
        id: el.id,
        name: el.getAttribute('name') || '',
        type: el.getAttribute('type') || '',
        href: el.getAttribute('href') || '',
        text: (el.innerText || '').trim().replace(/\\s+/g, ' ').slice(0, 80),
        fieldset: el.closest('fieldset') ? el.closest('fieldset').id : '',
        ring: (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0)
            || style.boxShadow !== 'none',
    };
}"""
SCROLL_SETTLED = """() => new Promise(resolve => {
    let last = scrollY, still = 0;
    const check = () => {
        still = scrollY === last ? still + 1 : 0;
        last = scrollY;
        if (still >= 3) resolve(); else requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
})"""
ON_SCREEN = """() => {
    const box = document.activeElement.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && box.bottom > 0 && box.right > 0
        && box.top < innerHeight && box.left < innerWidth;
}"""
# The header's tab stops, as the DOM orders them (no positive tabindex anywhere).
HEADER_STOPS = """() => [document.querySelector('.skip-link'),
    ...document.querySelectorAll('header.site-header a[href], header.site-header button')]
    .map(el => ({tag: el.tagName.toLowerCase(), href: el.getAttribute('href') || '',
                 text: (el.innerText || '').trim().replace(/\\s+/g, ' ').slice(0, 80)}))"""
LOCAL_PEOPLE = {  # who signs in for each flow, so that the employee's pages stay as `world` made them
    "menu": "a.popov@demo.local",
    "language": "m.vasilieva@demo.local",
    "goal": "s.novikov@demo.local",
    "quiz": "v.egorov@demo.local",
}


def focused(page: Page) -> dict[str, Any]:
    return page.evaluate(FOCUSED)


def tab(page: Page, key: str = "Tab") -> dict[str, Any]:
    """Press Tab (or Shift+Tab); the element that has the focus now, which must show it."""
    page.keyboard.press(key)
    now = focused(page)
    assert now["ring"], f"no visible focus indicator on {now}"
    # The page scrolls to it smoothly (app.css); as a person would, wait for that to end
    # before the next key: Chromium drops a jump to an anchor asked for meanwhile.
    page.evaluate(SCROLL_SETTLED)
    assert page.evaluate(ON_SCREEN), f"the focused element is off the screen: {now}"
    return now


def has_focus(page: Page, selector: str) -> bool:
    return page.evaluate("selector => document.activeElement.matches(selector)", selector)


def tab_to(page: Page, selector: str, limit: int = 60, key: str = "Tab") -> list[dict[str, Any]]:
    """Press Tab (or ``key``) until the element matching ``selector`` has the focus; every stop
    on the way."""
    stops = []
    for _ in range(limit):
        stops.append(tab(page, key))
        if has_focus(page, selector):
            return stops
    raise AssertionError(f"{key} never reached {selector}; it went through {stops}")


def skip_to_content(page: Page) -> None:
    """The first Tab stop is the "skip to content" link, shown when focused; Enter on it moves
    the focus to the page's main content."""
    expect(page.locator(".skip-link")).not_to_be_in_viewport()
    stop = tab(page)
    assert (stop["tag"], stop["href"]) == ("a", "#content"), f"the first Tab stop is {stop}"
    expect(page.locator(".skip-link")).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main#content")).to_be_focused()


def type_and_sign_in(page: Page, email: str) -> None:
    """On the login page, with the keyboard: skip to the form, type, press Space on "Log in"."""
    skip_to_content(page)
    assert tab(page)["name"] == "email"
    page.keyboard.type(email)
    assert tab(page)["name"] == "password"
    page.keyboard.type(DEMO_PASSWORD)
    assert tab(page)["tag"] == "button"
    page.keyboard.press("Space")
    expect(page.locator("nav.main-nav .who")).to_be_visible()


def test_signing_in_the_menu_and_a_module_with_the_keyboard(new_page: Callable[..., Page]) -> None:
    """Sign in, walk the header in order, open the course from the menu and a module from the
    course with Tab, Enter and Space only; every stop shows the focus."""
    page = new_page()
    page.goto("/login")
    type_and_sign_in(page, LOCAL_PEOPLE["menu"])
    # Home; the login form posts to its own address, #content included, which the redirect keeps.
    expect(page).to_have_url(re.compile(r"/(#content)?$"))
    page.goto("/")  # afresh, as from the address bar: Tab starts at the top, not at #content

    # The header's links and buttons, in the order they are shown, then the page's own.
    header = page.evaluate(HEADER_STOPS)
    assert len(header) >= 10, header  # skip link, brand, RU, EN, the menu, log out
    walked = [tab(page) for _ in header]
    assert [(s["tag"], s["href"], s["text"]) for s in walked] == [
        (s["tag"], s["href"], s["text"]) for s in header
    ]
    after = tab(page)
    assert page.evaluate("() => Boolean(document.activeElement.closest('main'))"), after

    # Back up to the menu's "Course" and follow it with Enter.
    tab_to(page, 'nav.main-nav a[href="/modules"]', key="Shift+Tab")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/modules$"))
    course_link = page.get_by_role("navigation", name="Основное меню").locator('a[href="/modules"]')
    expect(course_link).to_have_attribute("aria-current", "page")

    # Skip the header, reach the first module's card link, open it with Enter.
    skip_to_content(page)
    tab_to(page, 'main a[href="/modules/client-centricity"]')
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/modules/client-centricity$"))
    expect(page.get_by_role("heading", level=1)).to_have_count(1)

    # The contents' first entry moves to its section.
    skip_to_content(page)
    entry = tab_to(page, "nav.toc a")[-1]
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(re.escape(entry["href"]) + "$"))
    expect(page.locator(f'[id="{entry["href"][1:]}"]')).to_be_in_viewport()


def test_the_language_switch_works_with_the_space_bar(
    new_page: Callable[..., Page], restore_locale: Callable[[str], None]
) -> None:
    """The header's "EN" button, reached with Tab and pressed with Space, turns the same page
    into English and says it is the one pressed."""
    email = LOCAL_PEOPLE["language"]
    restore_locale(email)
    page = new_page()
    sign_in(page, email)
    page.goto("/me/goals")
    tab_to(page, 'header .locale-switch button[value="en"]')
    page.keyboard.press("Space")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(r"/me/goals$"))
    expect(page.locator('.locale-switch button[value="en"]')).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("My goals")


def test_a_goal_written_with_the_keyboard(new_page: Callable[..., Page]) -> None:
    """The goal form with the keyboard: the example opened with Space; sent empty with Enter,
    the fields are marked; the controls in the order shown; the date set with the arrow keys,
    a competency ticked with Space, the organisational goal chosen with the arrow keys, sent
    with Enter."""
    page = new_page()
    sign_in(page, LOCAL_PEOPLE["goal"])
    page.goto("/me/goals/new")
    skip_to_content(page)
    tab_to(page, "details summary")
    page.keyboard.press("Space")
    expect(page.locator("details.panel")).to_have_attribute("open", "")

    tab_to(page, "#title")
    page.keyboard.press("Enter")
    expect(page.locator("#title")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#title")).to_have_attribute(
        "aria-describedby", re.compile(r"\btitle-error\b")
    )
    expect(page.locator("#title-error")).to_be_visible()

    # The controls in the order the form shows them, "Save" and "Cancel" last. (The page is at
    # #content, where the form was sent from, so Tab starts there.) The date field has a stop
    # for each of its parts and for its calendar button.
    controls = page.evaluate(
        """() => [...document.querySelectorAll('form.goal-form :is(input:not([type=hidden]), '
                + 'textarea, select, button, a[href])')].map(el => el.id || el.textContent.trim())"""
    )
    stops = [stop["id"] or stop["text"] for stop in tab_to(page, "form.goal-form a[href]")]
    walked = [name for index, name in enumerate(stops) if index == 0 or stops[index - 1] != name]
    assert walked[walked.index("title") :] == controls

    tab_to(page, "#title", key="Shift+Tab")
    page.keyboard.type("Называть посетителю следующий шаг до конца приёма")
    tab(page)
    page.keyboard.type("Отметка в журнале приёма")
    tab(page)
    page.keyboard.type("9 из 10 посетителей")
    tab(page)
    page.keyboard.type("Человек уходит, зная, что будет дальше")
    assert tab(page)["id"] == "due_on"
    # Up in each empty part gives the first day and month and this year, up again next year,
    # whatever order the browser's language puts the parts in.
    for key in ("ArrowUp", "ArrowRight", "ArrowUp", "ArrowRight", "ArrowUp", "ArrowUp"):
        page.keyboard.press(key)
    expect(page.locator("#due_on")).to_have_value(f"{date.today().year + 1}-01-01")
    first_box = tab_to(page, "input[type=checkbox]")[-1]
    page.keyboard.press("Space")
    expect(page.locator(f"#{first_box['id']}")).to_be_checked()
    tab_to(page, "#org_goal_id")
    page.keyboard.press("ArrowDown")  # from "None" to the region's goal
    expect(page.locator("#org_goal_id")).not_to_have_value("None")
    assert tab(page)["tag"] == "button"
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/goals/\d+(#content)?$"))  # #content: see above
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Называть посетителю следующий шаг до конца приёма"
    )
    expect(page.locator(".flash")).to_have_attribute("role", "status")
    expect(page.locator(".goal-fields")).to_contain_text(ORG_GOAL)


def test_the_quiz_in_tab_order_with_the_keyboard(new_page: Callable[..., Page]) -> None:
    """Start the quiz with Space; Tab visits the questions in order (a radio group is one stop,
    its answer moved with the arrow keys; each box and drop-down is a stop), then the buttons;
    "Save and finish later" with Enter keeps the answers."""
    page = new_page()
    sign_in(page, LOCAL_PEOPLE["quiz"])
    page.goto(QUIZ)
    skip_to_content(page)
    tab_to(page, 'main form[action$="/quiz/start"] button')
    page.keyboard.press("Space")
    expect(page).to_have_url(re.compile(re.escape(QUIZ) + r"/attempts/\d+$"))
    attempt_url = page.url

    # Tab from the top of the content to "Save and finish later"; in the first radio group met,
    # the down arrow chooses the next answer.
    skip_to_content(page)
    stops: list[dict[str, Any]] = []
    group = ""  # the radio group answered with the arrow key
    for _ in range(120):
        stops.append(tab(page))
        if not group and stops[-1]["type"] == "radio":
            group = stops[-1]["name"]
            page.keyboard.press("ArrowDown")
            assert focused(page)["name"] == group, "the arrow key left the radio group"
        if has_focus(page, 'button[value="save"]'):
            break
    else:
        raise AssertionError(f"Tab never reached the save button: {stops}")
    assert group, "no single-choice question was drawn"
    checked = page.locator(f'input[name="{group}"]:checked')
    expect(checked).to_have_count(1)
    chosen_value = checked.get_attribute("value")

    in_questions = [stop for stop in stops if stop["fieldset"]]
    visited = list(dict.fromkeys(stop["fieldset"] for stop in in_questions))
    count = page.locator(".quiz-question fieldset").count()
    assert visited == [f"question-{number}" for number in range(1, count + 1)], visited
    assert stops[-2]["fieldset"] == f"question-{count}", "something between the last question"
    # One stop per radio group, per box and per drop-down.
    expected_stops = page.evaluate(
        """() => [...document.querySelectorAll('.quiz-question fieldset')].map(set =>
            new Set([...set.querySelectorAll('input[type=radio]')].map(r => r.name)).size
            + set.querySelectorAll('input[type=checkbox], select').length)
            .reduce((a, b) => a + b, 0)"""
    )
    assert len(in_questions) == expected_stops, in_questions

    # "Save and finish later" with Enter: the answer chosen with the arrow is kept.
    page.keyboard.press("Enter")
    expect(page.locator(".flash")).to_have_text(
        "Ответы сохранены. Можно вернуться и закончить позже."
    )
    assert page.url == attempt_url
    expect(page.locator(f'input[name="{group}"][value="{chosen_value}"]')).to_be_checked()
