"""Browser tests: the app served on a free port, driven by Debian's chromium via Playwright.

Everything here is self-contained (no fixture from ``tests/conftest.py`` is used). The server
runs on its own SQLite file, prepared exactly as ``lms quickstart`` does: migrations, the
published course and the demo organisation.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest
from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

from lms import create_app
from lms.extensions import db
from lms.services.accounts import find_user_by_email

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

E2E_DIR = Path(__file__).resolve().parent
ROOT = E2E_DIR.parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEFAULT_TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(E2E_DIR):
            item.add_marker(pytest.mark.e2e)


# --- the app under test ------------------------------------------------------------------


class _QuietRequestHandler(WSGIRequestHandler):
    """Serves like Werkzeug's handler but does not log every request to stderr."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def _prepare_database(app: Flask) -> None:
    """Migrations, the published course and the demo organisation, as ``lms quickstart`` does."""
    from flask_migrate import upgrade

    from lms.content import get_course
    from lms.services.demo import create_demo_organisation
    from lms.services.publishing import publish_course

    with app.app_context():
        upgrade(directory=app.config["MIGRATIONS_DIR"])
        publish_course(get_course())
        create_demo_organisation()
        db.session.commit()
        db.session.remove()


@contextmanager
def demo_app(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Flask]:
    """An app on a fresh SQLite file holding the demo as ``lms quickstart`` leaves it."""
    database = tmp_path_factory.mktemp(name) / "lms.sqlite3"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "e2e-test-secret",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            "CONTENT_DIR": str(ROOT / "content"),
            "PDF_CACHE_DIR": str(database.parent / "pdf"),
        }
    )
    _prepare_database(app)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@contextmanager
def serving(app: Flask, name: str) -> Iterator[str]:
    """Serve ``app`` with Werkzeug in a background thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The app behind ``live_server``, on a fresh SQLite file (never the instance database)."""
    with demo_app(tmp_path_factory, "e2e-db") as app:
        yield app


@pytest.fixture(scope="session")
def live_server(live_app: Flask) -> Iterator[str]:
    """Base URL of the app served by Werkzeug in a background thread."""
    with serving(live_app, "e2e-live-server") as url:
        yield url


# --- the browser -------------------------------------------------------------------------


def _browser_unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(
            f"e2e tests cannot run: {reason}. On CI this is an error: .ci/run must install "
            "chromium (apt-get install chromium, giving /usr/bin/chromium) and the test extras "
            "(pip install -e '.[test]') before running pytest.",
            pytrace=False,
        )
    pytest.skip(f"e2e tests skipped: {reason} (install chromium and playwright to run them)")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        _browser_unavailable(f"{CHROMIUM} does not exist")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        _browser_unavailable(f"playwright cannot be imported ({error})")

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@pytest.fixture
def new_page(browser: Browser, live_server: str) -> Iterator[Callable[..., Page]]:
    """Opens a page in a fresh context (Russian browser unless told otherwise); all closed after.

    Keyword arguments go to ``browser.new_context``, e.g. ``viewport={"width": 360, ...}``.
    """
    contexts: list[BrowserContext] = []

    def open_page(**options: Any) -> Page:
        context = browser.new_context(**{"locale": "ru-RU", "base_url": live_server, **options})
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    """A page in its own fresh browser context, with a Russian-speaking browser."""
    return new_page()


# --- screenshots -------------------------------------------------------------------------


def artifacts_dir() -> Path:
    directory = Path(os.environ.get("E2E_ARTIFACTS_DIR") or ROOT / "artifacts" / "screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture
def save_screenshot() -> Callable[[Page, str], Path]:
    """``save_screenshot(page, "name")`` writes a full-page ``name.png`` to the artifacts folder
    (``$E2E_ARTIFACTS_DIR``, default ``artifacts/screenshots``, which git ignores)."""

    def save(page: Page, name: str) -> Path:
        path = artifacts_dir() / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


@pytest.fixture
def restore_locale(live_app: Flask) -> Iterator[Callable[[str], None]]:
    """``restore_locale(email)``: put back that person's saved language after the test,
    so that the demo accounts are the same for every test whatever the order or outcome."""
    saved: dict[str, str | None] = {}

    def remember(email: str) -> None:
        with live_app.app_context():
            user = find_user_by_email(email)
            assert user is not None, f"no demo account {email}"
            saved[email] = user.locale
            db.session.remove()

    yield remember
    with live_app.app_context():
        for email, locale in saved.items():
            user = find_user_by_email(email)
            assert user is not None
            user.locale = locale
        db.session.commit()
        db.session.remove()
