"""A newcomer given a temporary password chooses their own before anything else, in a real
browser; a copy of their old session cookie opens nothing once they have signed out."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask

from lms.extensions import db
from lms.models import Role, User
from lms.services import accounts
from tests.e2e.test_reading_journey import log_in, path_of

try:
    from playwright.sync_api import expect
except ImportError:  # no test runs then: the `browser` fixture skips them (or fails on CI)
    expect = None

if TYPE_CHECKING:
    from playwright.sync_api import Page

Screenshot = Callable[["Page", str], Path]
NEWCOMER = "newcomer.e2e@demo.local"
OWN_PASSWORD = "синий трамвай в семь утра"


@pytest.fixture
def temporary_password(live_app: Flask) -> Iterator[str]:
    """A new member of the demo team with a temporary password; removed afterwards."""
    with live_app.test_request_context():
        team_mate = accounts.find_user_by_email("employee@demo.local")
        assert team_mate is not None
        person = User(email=NEWCOMER, full_name="Павел Новиков-Тестов", team=team_mate.team)
        person.grant(Role.EMPLOYEE)
        db.session.add(person)
        db.session.flush()
        password = accounts.set_temporary_password(person, actor=None)
        db.session.commit()
        person_id = person.id
        db.session.remove()
    yield password
    with live_app.app_context():
        person = db.session.get(User, person_id)
        if person is not None:
            person.active = False  # deactivated, as people are: their records stay
            person.email = f"gone.{person_id}@demo.local"
            db.session.commit()
        db.session.remove()


def test_a_temporary_password_leads_to_choosing_ones_own(
    new_page: Callable[..., Page], temporary_password: str, save_screenshot: Screenshot
) -> None:
    page = new_page()
    page.goto("/modules")
    log_in(page, NEWCOMER, temporary_password)

    assert path_of(page) == "/me/password"
    expect(page.get_by_role("heading", level=1)).to_have_text("Выберите свой пароль")
    save_screenshot(page, "password-forced-ru")
    page.goto("/me/goals")  # anything else leads back here
    assert path_of(page) == "/me/password"

    # A weak password is refused with the reason, next to the field.
    page.get_by_label("Текущий пароль").fill(temporary_password)
    page.get_by_label("Новый пароль", exact=True).fill("qwerty12345")
    page.get_by_label("Новый пароль ещё раз").fill("qwerty12345")
    page.get_by_label("Новый пароль ещё раз").press("Enter")
    expect(page.locator("#new_password-error")).to_contain_text("самых распространённых")
    expect(page.get_by_label("Новый пароль", exact=True)).to_have_attribute("aria-invalid", "true")

    page.get_by_label("Текущий пароль").fill(temporary_password)
    page.get_by_label("Новый пароль", exact=True).fill(OWN_PASSWORD)
    page.get_by_label("Новый пароль ещё раз").fill(OWN_PASSWORD)
    page.get_by_role("button", name="Сменить пароль").click()
    expect(page).to_have_url(re.compile(r"/me/goals$"))  # where they were going last
    expect(page.get_by_role("status")).to_contain_text("Пароль изменён")

    # Signed out, a copy of the session cookie opens nothing.
    cookies = page.context.cookies()
    page.get_by_role("button", name="Выйти").click()
    expect(page).to_have_url(re.compile(r"/login"))
    thief = new_page()
    thief.context.add_cookies(cookies)
    thief.goto("/me")
    assert path_of(thief) == "/login"

    # The new password works; the temporary one does not.
    log_in(thief, NEWCOMER, temporary_password)
    expect(thief.get_by_role("alert")).to_contain_text("Неверная электронная почта или пароль.")
    log_in(thief, NEWCOMER, OWN_PASSWORD)
    assert path_of(thief) == "/me"  # where the copied cookie had tried to go
