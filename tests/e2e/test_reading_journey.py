"""A member of staff reads the first module in a real browser: signing in, the table of
contents, keyboard access, the interface language, a phone-width screen and a wrong password."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import yaml

try:
    from playwright.sync_api import expect
except ImportError:  # no test runs then: the `browser` fixture skips them (or fails on CI)
    expect = None

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
MODULE_DIR = ROOT / "content" / "modules" / "01-client-centricity"
MODULE_PATH = "/modules/client-centricity"
DEMO_PASSWORD = "demo"
CYRILLIC = re.compile(r"[А-Яа-яЁё]")

Screenshot = Callable[["Page", str], Path]


def module_title(locale: str) -> str:
    """The module's title as its front matter gives it in ``index.<locale>.md``."""
    text = (MODULE_DIR / f"index.{locale}.md").read_text(encoding="utf-8")
    front_matter = text.split("---", 2)[1]
    return yaml.safe_load(front_matter)["title"]


def path_of(page: Page) -> str:
    return urlsplit(page.url).path


def log_in(page: Page, email: str, password: str = DEMO_PASSWORD, button: str = "Войти") -> None:
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("main").get_by_role("button", name=button, exact=True).click()
    page.wait_for_load_state()


def sign_in_to_module(page: Page, email: str) -> None:
    page.goto(MODULE_PATH)
    expect(page).to_have_url(re.compile(r"/login\?"))
    log_in(page, email)
    expect(page).to_have_url(re.compile(re.escape(MODULE_PATH) + "$"))


def test_employee_reads_the_module_in_russian(page: Page, save_screenshot: Screenshot) -> None:
    page.goto(MODULE_PATH)

    assert path_of(page) == "/login"
    assert parse_qs(urlsplit(page.url).query).get("next") == [MODULE_PATH]
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    save_screenshot(page, "login-ru")

    log_in(page, "employee@demo.local")

    assert path_of(page) == MODULE_PATH
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(module_title("ru"))
    assert CYRILLIC.search(heading.inner_text())

    save_screenshot(page, "module-ru")  # before any scrolling: the contents column is sticky

    toc_links = page.locator("nav.toc a")
    expect(toc_links).to_have_count(6)
    third = toc_links.nth(2)
    target = third.get_attribute("href")
    assert target is not None
    assert target.startswith("#")
    third.click()
    expect(page).to_have_url(re.compile(re.escape(target) + "$"))
    assert page.evaluate("location.hash") == target
    expect(page.locator(target)).to_be_in_viewport()

    back_to_top = page.get_by_role("link", name="Вернуться к началу")
    expect(back_to_top).to_have_count(1)
    expect(back_to_top).to_have_attribute("href", "#top")

    # Keyboard only: the first Tab on a freshly loaded page reaches the skip link.
    page.goto(MODULE_PATH)
    page.keyboard.press("Tab")
    skip_link = page.locator("a.skip-link")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_have_text("Перейти к содержанию")
    expect(skip_link).to_be_in_viewport()  # visible while it has the focus
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#content$"))
    expect(page.locator("main#content")).to_be_focused()


def test_language_choice_is_saved_on_the_profile(
    page: Page, restore_locale: Callable[[str], None]
) -> None:
    email = "manager@demo.local"
    restore_locale(email)
    sign_in_to_module(page, email)
    expect(page.locator("html")).to_have_attribute("lang", "ru")

    page.get_by_role("button", name="EN", exact=True).click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert path_of(page) == MODULE_PATH
    expect(page.get_by_role("heading", level=1)).to_have_text(module_title("en"))
    expect(page.get_by_role("button", name="EN", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )

    page.get_by_role("button", name="Log out", exact=True).click()
    expect(page).to_have_url(re.compile(r"/login$"))
    # Signed out, the login page keeps the language the person chose.
    expect(page.locator("html")).to_have_attribute("lang", "en")
    log_in(page, email, button="Log in")

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="Log out", exact=True)).to_be_visible()
    page.goto(MODULE_PATH)
    expect(page.get_by_role("heading", level=1)).to_have_text(module_title("en"))

    page.get_by_role("button", name="RU", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_role("heading", level=1)).to_have_text(module_title("ru"))


def test_module_fits_a_phone_screen(
    new_page: Callable[..., Page], save_screenshot: Screenshot
) -> None:
    width = 360
    page = new_page(viewport={"width": width, "height": 740})
    sign_in_to_module(page, "o.kuznetsova@demo.local")

    expect(page.get_by_role("heading", level=1)).to_have_text(module_title("ru"))
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    save_screenshot(page, "module-ru-phone")
    assert scroll_width <= width + 1, f"horizontal scroll: page is {scroll_width}px wide"


def test_wrong_password_shows_an_alert(page: Page) -> None:
    page.goto("/login")

    log_in(page, "hr@demo.local", password="not-the-password")

    assert path_of(page) == "/login"
    alert = page.get_by_role("alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("Неверная электронная почта или пароль.")
    expect(page.locator("input[name=password]")).to_be_visible()


def test_downloading_the_memo_ticks_the_task(page: Page) -> None:
    sign_in_to_module(page, "s.novikov@demo.local")  # the demo gives him no progress
    tasks = page.locator(".task-list")
    expect(tasks.locator("li.is-done")).to_have_count(0)

    with page.expect_download() as download_info:
        tasks.get_by_role("link", name=re.compile("памятку")).click()
    download = download_info.value
    assert download.suggested_filename == "client-centricity-client-groups-ru.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF")

    page.reload()
    expect(tasks.locator("li.is-done")).to_have_count(1)
    page.goto("/modules")
    expect(page.locator(".status-progress").first).to_be_visible()
