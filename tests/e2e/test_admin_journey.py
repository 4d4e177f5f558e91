"""The administration area in a real browser, clicked through as people use it:

a. the administrator finds a person, adds a new one and creates their activation link; the
   newcomer opens it on another computer, chooses a password and is signed in; the link then
   no longer works;
b. an e-mail address another person already has (in other letters' case) is refused next to
   the field, naming that person, and nothing is saved;
c. the manager is deactivated (signed out at once, refused at the next sign-in) and his teams
   are handed over to the other demo manager, whom the team pages then list;
d. HR limited to a region (the administrator sets the limit on HR's form and adds a second
   region with a person in it) see only their region's people, no roles on the person form,
   only "People" and "Organisation" in the area's menu, and 403 on the administrators' pages;
e. publishing the content on disk, unchanged since the demo published it, changes nothing.

The journeys deactivate the demo manager and change HR's scope, which the other e2e modules
rely on, so this module runs its own app on a fresh demo database (as conftest.py prepares
the shared one). The journeys do not depend on each other's order.

The interface is in English (``locale="en-US"``: the demo accounts have no saved language, so
the app follows the browser), so the Russian catalogue being filled in meanwhile does not
matter; names and organisation units are the demo's Russian ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from lms.extensions import db
from lms.models import Centre, Region, Team, User
from lms.services.accounts import find_user_by_email
from lms.services.demo import REGION
from tests.e2e.conftest import demo_app, serving

try:
    from playwright.sync_api import expect
except ImportError:  # no test runs then: the `browser` fixture skips them (or fails on CI)
    expect = None

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

DEMO_PASSWORD = "demo"
ENGLISH = "en-US"
ADMIN = "admin@demo.local"
HR = "hr@demo.local"
HR_NAME = "Елена Викторовна Соколова"
MANAGER = "manager@demo.local"
MANAGER_NAME = "Игорь Петрович Волков"
SECOND_MANAGER = "t.fedorova@demo.local"  # the demo's other manager (Контакт-центр)
SECOND_MANAGER_NAME = "Татьяна Юрьевна Фёдорова"
EMPLOYEE_NAME = "Анна Сергеевна Морозова"  # employee@demo.local, number D-0001
POPOV = "Алексей Андреевич Попов"  # a.popov@demo.local
NORTH = "Кадровый центр «Северный»"
SOUTH = "Кадровый центр «Южный»"
MANAGED_TEAMS = ["Работа с гражданами", "Работа с работодателями"]  # the manager's, by name


def team_option(centre: str, team: str) -> str:
    """A team as the person form's drop-down names it."""
    return f"{REGION} / {centre} / {team}"


# --- this module's own app: the demo as quickstart leaves it --------------------------------


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """A fresh demo database for this module only (see the module's docstring)."""
    with demo_app(tmp_path_factory, "e2e-admin-db") as app:
        yield app


@pytest.fixture(scope="module")
def live_server(live_app: Flask) -> Iterator[str]:
    with serving(live_app, "e2e-admin-server") as url:
        yield url


@pytest.fixture
def english(new_page: Callable[..., Page]) -> Callable[..., Page]:
    """``english()``: a page in a fresh browser context (another computer), in English."""

    def open_page(**options: Any) -> Page:
        return new_page(**{"locale": ENGLISH, **options})

    return open_page


# --- helpers -------------------------------------------------------------------------------


def path_of(page: Page) -> str:
    return urlsplit(page.url).path


def squash(text: str | None) -> str:
    return " ".join((text or "").split())


def log_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.locator("main button.primary").click()
    expect(page.locator("nav.main-nav .who")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def opened(page: Page, url: str) -> int:
    """Go to ``url``; the status it answered with."""
    response = page.goto(url)
    assert response is not None
    return response.status


def flash(page: Page) -> Locator:
    return page.locator(".flashes .flash")


def admin_menu(page: Page) -> Locator:
    """The administration area's own menu (not the header's)."""
    return page.get_by_role("navigation", name="Administration", exact=True)


def open_administration(page: Page) -> None:
    """Follow "Administration" in the header's menu: the people list."""
    main_menu = page.get_by_role("navigation", name="Main", exact=True)
    main_menu.get_by_role("link", name="Administration", exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("People")
    expect(admin_menu(page).get_by_role("link", name="People", exact=True)).to_have_attribute(
        "aria-current", "page"
    )


def listed_names(page: Page) -> list[str]:
    names = page.locator("section[aria-labelledby=people-list-title] tbody th[scope=row]")
    return [squash(name) for name in names.all_inner_texts()]


def search_people(page: Page, text: str) -> None:
    page.get_by_label("Search", exact=True).fill(text)
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin\?.*\bq="))


def open_person(page: Page, name: str) -> None:
    """From the people list: search for part of the name, then open the person's page."""
    search_people(page, name.split()[-1])
    page.get_by_role("link", name=name, exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/people/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def people_of_region(app: Flask, region_name: str) -> list[str]:
    """Names of the active people in the teams of the region, as the database has them."""
    with app.app_context():
        names = db.session.scalars(
            select(User.full_name)
            .join(User.team)
            .join(Team.centre)
            .join(Centre.region)
            .where(Region.name == region_name, User.active)
        )
        result = sorted(names)
        db.session.remove()
    return result


# --- a. a new person: added, given a link, choosing their password -------------------------

NEWCOMER_NAME = "Вера Андреевна Климова"
NEWCOMER = "v.klimova.e2e@demo.local"
NEWCOMER_NUMBER = "E2E-0101"
NEWCOMER_PASSWORD = "рыжий кот на подоконнике"


def test_a_new_person_is_added_and_chooses_a_password_with_the_link(
    english: Callable[..., Page], live_server: str
) -> None:
    admin = english()
    log_in(admin, ADMIN)
    open_administration(admin)

    # The list finds a demo person by part of her name.
    search_people(admin, "морозов")
    assert listed_names(admin) == [EMPLOYEE_NAME]
    expect(admin.locator("#people-list-title")).to_have_text("1 person found")

    # Add a person: name, e-mail, employee number and team.
    admin.get_by_role("link", name="Add a person", exact=True).click()
    expect(admin).to_have_url(re.compile(r"/admin/people/new$"))
    expect(admin.get_by_role("heading", level=1)).to_have_text("Add a person")
    admin.get_by_label("Full name").fill(NEWCOMER_NAME)
    admin.get_by_label("E-mail").fill(NEWCOMER)
    admin.get_by_label("Employee number").fill(NEWCOMER_NUMBER)
    # Teams are grouped by region and centre: the option names the team.
    admin.get_by_label("Region / Centre / Team").select_option(label="Контакт-центр")
    admin.get_by_role("button", name="Add the person", exact=True).click()
    expect(admin).to_have_url(re.compile(r"/admin/people/\d+$"))
    person_url = admin.url
    expect(flash(admin)).to_have_text(f"{NEWCOMER_NAME} was added. Give them access below.")
    expect(admin.get_by_role("heading", level=1)).to_have_text(NEWCOMER_NAME)
    account = admin.locator("section[aria-labelledby=account-title]")
    expect(account).to_contain_text("No access yet: no password and no link that works")
    expect(admin.get_by_label("E-mail")).to_have_value(NEWCOMER)
    expect(admin.get_by_label("Employee number")).to_have_value(NEWCOMER_NUMBER)

    # The activation link, shown once.
    admin.get_by_role("button", name="Create an activation link", exact=True).click()
    expect(admin.get_by_role("heading", level=1)).to_have_text(
        f"An activation link for {NEWCOMER_NAME}"
    )
    link = squash(admin.locator("#activation-link").inner_text())
    assert re.fullmatch(re.escape(live_server) + r"/activate/[\w-]{20,}", link), link
    expect(admin.get_by_role("main")).to_contain_text("E-mail is not set up here")
    admin.get_by_role("link", name=f"Back to {NEWCOMER_NAME}", exact=True).click()
    assert admin.url == person_url
    expect(account).to_contain_text("Invited: the activation link works until")

    # The newcomer, on another computer, opens the link.
    newcomer = english()
    assert opened(newcomer, link) == 200
    expect(newcomer.get_by_role("heading", level=1)).to_have_text("Choose your password")
    expect(newcomer.locator("main dl.details")).to_contain_text(NEWCOMER_NAME)
    expect(newcomer.locator("main dl.details")).to_contain_text(NEWCOMER)
    expect(newcomer.locator("nav.main-nav")).to_have_count(0)  # nobody is signed in yet

    # A password with her name in it is refused, next to the field.
    newcomer.get_by_label("New password", exact=True).fill("климова навсегда")
    newcomer.get_by_label("New password again").fill("климова навсегда")
    newcomer.get_by_role("button", name="Save the password and sign in").click()
    expect(newcomer.locator("#new_password-error")).to_have_text(
        "Do not use your name or e-mail in your password."
    )
    expect(newcomer.get_by_label("New password", exact=True)).to_have_attribute(
        "aria-invalid", "true"
    )

    newcomer.get_by_label("New password", exact=True).fill(NEWCOMER_PASSWORD)
    newcomer.get_by_label("New password again").fill(NEWCOMER_PASSWORD)
    newcomer.get_by_role("button", name="Save the password and sign in").click()
    expect(newcomer).to_have_url(re.compile(r"/$"))
    expect(flash(newcomer)).to_have_text("Your password is set and you are signed in. Welcome!")
    expect(newcomer.locator("nav.main-nav .who")).to_have_text(NEWCOMER_NAME)

    # The link works once.
    assert opened(newcomer, link) == 410
    expect(newcomer.get_by_role("heading", level=1)).to_have_text("This link no longer works")
    expect(newcomer.get_by_role("main")).to_contain_text(
        "This link has expired or was already used."
    )

    # The administrator sees that she has a password now; she signs in with it elsewhere.
    admin.reload()
    expect(account).to_contain_text("Has a password")
    elsewhere = english()
    log_in(elsewhere, NEWCOMER, NEWCOMER_PASSWORD)
    expect(elsewhere.locator("nav.main-nav .who")).to_have_text(NEWCOMER_NAME)


# --- b. an e-mail address someone else has -----------------------------------------------------


def test_an_e_mail_address_of_someone_else_is_refused(
    english: Callable[..., Page], live_app: Flask
) -> None:
    admin = english()
    log_in(admin, ADMIN)
    open_administration(admin)
    open_person(admin, POPOV)
    person_url = admin.url

    email = admin.get_by_label("E-mail")
    expect(email).to_have_value("a.popov@demo.local")
    email.fill("Employee@Demo.LOCAL")  # Анна's, in other letters' case
    admin.get_by_role("button", name="Save the changes", exact=True).click()

    expect(admin.locator("#email-error")).to_have_text(
        f"This e-mail address already belongs to {EMPLOYEE_NAME} (employee number D-0001)."
    )
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_attribute("aria-describedby", re.compile(r"\bemail-error\b"))
    expect(flash(admin)).to_have_count(0)

    # Nothing was saved: the page opened afresh shows his own address.
    admin.goto(person_url)
    expect(admin.get_by_label("E-mail")).to_have_value("a.popov@demo.local")
    expect(admin.locator("#email-error")).to_have_count(0)
    with live_app.app_context():
        popov = find_user_by_email("a.popov@demo.local")
        assert popov is not None
        assert popov.full_name == POPOV
        db.session.remove()


# --- c. a manager leaves: deactivated, his teams handed over -----------------------------------


def open_the_demo_region(page: Page) -> None:
    """On the organisation's tree: open the demo region's part, unless open already (it is
    when it is the only region; test d adds another)."""
    region = page.locator("details.org-region").filter(has=page.locator("summary", has_text=REGION))
    if region.get_attribute("open") is None:
        region.locator("summary").click()
    expect(region).to_have_attribute("open", "")


def managers_of_team(page: Page) -> Locator:
    return page.locator("section[aria-labelledby=managers-title] li")


def test_a_deactivated_managers_teams_are_handed_over(english: Callable[..., Page]) -> None:
    # The manager is signed in on his own computer.
    manager = english()
    log_in(manager, MANAGER)

    admin = english()
    log_in(admin, ADMIN)
    open_administration(admin)
    open_person(admin, MANAGER_NAME)
    admin.get_by_role("button", name=f"Deactivate {MANAGER_NAME}", exact=True).click()
    expect(flash(admin)).to_have_text(
        f"{MANAGER_NAME} is deactivated: they can no longer sign in. "
        "They still manage 2 teams: hand them over to another manager."
    )
    expect(admin.locator("main p.lead .status")).to_have_text("Deactivated")

    # His session has ended; he can no longer sign in.
    manager.goto("/team")
    assert path_of(manager) == "/login"
    manager.get_by_label("E-mail").fill(MANAGER)
    manager.get_by_label("Password").fill(DEMO_PASSWORD)
    manager.locator("main button.primary").click()
    expect(manager.get_by_role("alert")).to_contain_text(
        "This account has been deactivated. Please contact your administrator."
    )
    assert path_of(manager) == "/login"
    expect(manager.locator("nav.main-nav")).to_have_count(0)

    # The page offers the handover, with him chosen and both his teams ticked.
    note = admin.get_by_role("note")
    expect(note).to_contain_text(f"{MANAGER_NAME} is deactivated and still manages 2 teams.")
    note.get_by_role("link", name="Hand the teams over to another manager").click()
    expect(admin).to_have_url(re.compile(r"/admin/org/handover\?from=\d+$"))
    expect(admin.get_by_role("heading", level=1)).to_have_text("Hand over a manager's teams")
    expect(admin.get_by_label("Manager who is leaving")).to_have_value(
        re.compile(r"^\d+$")  # chosen
    )
    expect(admin.get_by_role("heading", level=2).nth(1)).to_have_text(
        f"2. Who takes over from {MANAGER_NAME}"
    )
    teams = admin.get_by_role("group", name="Teams to hand over")
    for name in MANAGED_TEAMS:
        expect(teams.get_by_label(team_option(NORTH, name))).to_be_checked()

    # Someone without the manager role is refused, with the reason next to the field.
    taking_over = admin.get_by_label("E-mail of the manager taking over")
    taking_over.fill("o.kuznetsova@demo.local")
    admin.get_by_role("button", name="Hand the teams over", exact=True).click()
    expect(admin.locator("#to_email-error")).to_contain_text(
        "Ольга Николаевна Кузнецова does not hold the manager role"
    )
    expect(taking_over).to_have_attribute("aria-invalid", "true")

    # The demo's other manager takes both teams over.
    taking_over.fill(SECOND_MANAGER)
    admin.get_by_role("button", name="Hand the teams over", exact=True).click()
    # The tree, opened at the region of the teams handed over.
    expect(admin).to_have_url(re.compile(r"/admin/org\?open=\d+$"))
    region = admin.locator("details.org-region").filter(
        has=admin.locator("summary", has_text=REGION)
    )
    expect(region).to_have_attribute("open", "")
    expect(flash(admin)).to_have_text(
        f"2 teams handed over from {MANAGER_NAME} to {SECOND_MANAGER_NAME}."
    )

    # The organisation's tree and each team's page list the new manager, not him.
    open_the_demo_region(admin)
    for name in MANAGED_TEAMS:
        row = admin.locator("main table tbody tr").filter(
            has=admin.get_by_role("link", name=name, exact=True)
        )
        expect(row.locator("td").last).to_have_text(SECOND_MANAGER_NAME)
    for name in MANAGED_TEAMS:
        admin.get_by_role("link", name=name, exact=True).click()
        expect(admin).to_have_url(re.compile(r"/admin/org/teams/\d+$"))
        expect(admin.get_by_role("heading", level=1)).to_have_text(name)
        expect(managers_of_team(admin)).to_have_count(1)
        expect(managers_of_team(admin)).to_contain_text(f"{SECOND_MANAGER_NAME} ({SECOND_MANAGER})")
        admin.get_by_role("navigation", name="Breadcrumbs").get_by_role(
            "link", name="Organisation"
        ).click()
        expect(admin).to_have_url(re.compile(r"/admin/org$"))
        open_the_demo_region(admin)

    # She now sees his teams among hers.
    successor = english()
    log_in(successor, SECOND_MANAGER)
    successor.goto("/team")
    for name in MANAGED_TEAMS:
        expect(successor.get_by_role("main")).to_contain_text(name)


# --- d. HR limited to one region ---------------------------------------------------------------

OTHER_REGION = "Приморская область"
OTHER_CENTRE = "Центр занятости «Берег»"
OTHER_TEAM = "Приём граждан"
OUTSIDER_NAME = "Пётр Ильич Сидоров"
OUTSIDER = "p.sidorov.e2e@demo.local"


def add_a_region_with_a_person(admin: Page) -> str:
    """The administrator adds a region, its centre and team, and a person in it; the
    address of the region's page."""
    admin_menu(admin).get_by_role("link", name="Organisation", exact=True).click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Organisation")
    admin.get_by_label("Name of the new region").fill(OTHER_REGION)
    admin.get_by_role("button", name="Add the region", exact=True).click()
    expect(admin.get_by_role("heading", level=1)).to_have_text(OTHER_REGION)
    region_url = admin.url
    admin.get_by_label("Name of the new centre").fill(OTHER_CENTRE)
    admin.get_by_role("button", name="Add the centre", exact=True).click()
    expect(admin.get_by_role("heading", level=1)).to_have_text(OTHER_CENTRE)
    admin.get_by_label("Name of the new team").fill(OTHER_TEAM)
    admin.get_by_role("button", name="Add the team", exact=True).click()
    expect(flash(admin)).to_contain_text(OTHER_TEAM)

    admin_menu(admin).get_by_role("link", name="People", exact=True).click()
    admin.get_by_role("link", name="Add a person", exact=True).click()
    admin.get_by_label("Full name").fill(OUTSIDER_NAME)
    admin.get_by_label("E-mail").fill(OUTSIDER)
    admin.get_by_label("Region / Centre / Team").select_option(label=OTHER_TEAM)
    admin.get_by_role("button", name="Add the person", exact=True).click()
    expect(flash(admin)).to_have_text(f"{OUTSIDER_NAME} was added. Give them access below.")
    return region_url


def test_regional_hr_administer_their_region_only(
    english: Callable[..., Page], live_app: Flask
) -> None:
    # In the demo HR see every region: the administrator limits her to the demo's.
    admin = english()
    log_in(admin, ADMIN)
    open_administration(admin)
    open_person(admin, HR_NAME)
    scope = admin.get_by_label("The region HR covers")
    expect(scope).to_have_value("")  # all regions
    expect(admin.get_by_role("group", name="Roles", exact=True)).to_be_visible()
    scope.select_option(label=REGION)
    admin.get_by_role("button", name="Save the changes", exact=True).click()
    expect(flash(admin)).to_have_text(f"The changes to {HR_NAME} are saved.")
    expect(admin.get_by_label("The region HR covers")).not_to_have_value("")

    # Someone in another region, for HR not to see.
    other_region_url = add_a_region_with_a_person(admin)
    outsider_url = admin.url

    hr = english()
    log_in(hr, HR)
    open_administration(hr)

    # The area's menu: people and the organisation only.
    expect(admin_menu(hr).get_by_role("link")).to_have_text(["People", "Organisation"])
    for name in ("Content versions", "Audit log", "API tokens"):
        expect(hr.get_by_role("link", name=name, exact=True)).to_have_count(0)

    # The list: the active people of the demo region's teams, nobody else.
    expect(hr.get_by_label("Region", exact=True).locator("option")).to_have_text(
        ["All regions", REGION]
    )
    expected = people_of_region(live_app, REGION)
    assert listed_names(hr) == expected  # by name, one page
    expect(hr.locator("#people-list-title")).to_have_text(f"{len(expected)} people found")
    assert OUTSIDER_NAME not in expected
    assert HR_NAME not in expected
    search_people(hr, "Сидоров")
    expect(hr.get_by_role("main")).to_contain_text("Nobody matches these filters.")

    # A person's form: no roles, no scope; teams of the region only.
    hr.get_by_label("Search", exact=True).fill("")
    hr.get_by_role("button", name="Show", exact=True).click()
    open_person(hr, EMPLOYEE_NAME)
    expect(hr.get_by_label("Full name")).to_have_value(EMPLOYEE_NAME)
    expect(hr.locator("input[name=roles]")).to_have_count(0)
    expect(hr.get_by_role("group", name="Roles and scope")).to_have_count(0)
    expect(hr.get_by_label("The region HR covers")).to_have_count(0)
    expect(hr.get_by_label("Teams they manage")).to_have_count(0)
    choice = hr.get_by_label("Region / Centre / Team")
    options = [squash(text) for text in choice.locator("option").all_inner_texts()]
    assert options[0] == "Choose a team"
    assert options[1:]
    groups = choice.locator("optgroup").evaluate_all("groups => groups.map(g => g.label)")
    assert groups
    assert all(group.endswith(f", {REGION}") for group in groups)

    # The administrators' pages, and what lies outside her region: 403.
    for path in ("/admin/content", "/admin/audit", "/admin/tokens", urlsplit(outsider_url).path):
        assert opened(hr, path) == 403, path
        expect(hr.get_by_role("heading", level=1)).to_have_text(
            "You do not have access to this page"
        )
    assert opened(hr, urlsplit(other_region_url).path) == 403


# --- e. publishing unchanged content -----------------------------------------------------------


def test_publishing_unchanged_content_changes_nothing(english: Callable[..., Page]) -> None:
    admin = english()
    log_in(admin, ADMIN)
    open_administration(admin)
    admin_menu(admin).get_by_role("link", name="Content versions", exact=True).click()
    expect(admin).to_have_url(re.compile(r"/admin/content$"))
    expect(admin.get_by_role("heading", level=1)).to_have_text("Content versions")
    publish = admin.locator("section[aria-labelledby=publish-title]")
    expect(publish).to_contain_text("On disk now: every module is the same as its current version.")
    current = admin.locator("main table tbody .status-done", has_text="current")
    modules = current.count()
    assert modules >= 7, modules  # one current version per module

    admin.get_by_role("button", name="Publish the content on disk", exact=True).click()
    expect(admin).to_have_url(re.compile(r"/admin/content$"))
    expect(flash(admin)).to_have_text(
        "Nothing to publish: every module on disk is the same as its current version."
    )
    expect(current).to_have_count(modules)  # no new version anywhere
    expect(admin.locator("main table tbody tr")).to_have_count(modules)
