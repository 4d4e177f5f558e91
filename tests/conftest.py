"""Shared fixtures: an app per test on one database per session (SQLite, or PostgreSQL when
TEST_DATABASE_URL is set), cleaned after every test, plus an ``auth`` helper and factories."""

from __future__ import annotations

import contextvars
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, text, update
from werkzeug.security import generate_password_hash

from lms import create_app
from lms.content import get_course
from lms.extensions import db
from lms.models import Base, Centre, CourseModule, Region, Role, Team, User
from lms.services.publishing import publish_course

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"
CSRF_PATTERN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")


@pytest.fixture(scope="session")
def _schema(database_url: str) -> Iterator[None]:
    app = create_app(_test_config(database_url))
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.engine.dispose()
    yield
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


def _test_config(database_url: str, **extra: Any) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "CONTENT_DIR": str(ROOT / "content"),
        # Dashboards are computed afresh in tests; tests/test_report_cache.py turns it on.
        "REPORT_CACHE_SECONDS": 0,
        # Sign-in limits are off, except in the tests of the limits themselves.
        "RATELIMIT_ENABLED": False,
        **extra,
    }


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict[str, Any]:
    """Overrides for this test's app; a test may change it before asking for ``app``."""
    return _test_config(database_url, PDF_CACHE_DIR=str(tmp_path / "pdf"))


class IsolatedClient(FlaskClient):
    """Runs each request in its own app context, as in production.

    Flask reuses an app context that is already pushed (the test's own, which it needs for
    the database), and ``g`` would then leak from one request to the next. A streamed
    response is read in the request's context too, as a server reads it in the request's
    thread: ``stream_with_context`` pushes the request's contexts for the first chunk (which
    the test client reads at once) and pops them after the last, which fails in another
    context.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        context = contextvars.Context()
        response = context.run(super().open, *args, **kwargs)
        if response.is_streamed:
            response.response = _ReadIn(context, response.response)
        return response


class _ReadIn:
    """A response's chunks, each read (and the response closed) in ``context``."""

    def __init__(self, context: contextvars.Context, chunks: Any) -> None:
        self.context = context
        self.chunks = chunks
        self.iterator = iter(chunks)

    def __iter__(self) -> _ReadIn:
        return self

    def __next__(self) -> Any:
        return self.context.run(next, self.iterator)

    def close(self) -> None:
        close = getattr(self.chunks, "close", None)
        if close is not None:
            self.context.run(close)


@pytest.fixture
def app(_schema: None, app_config: dict[str, Any]) -> Iterator[Flask]:
    app = create_app(app_config)
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app
        db.session.rollback()
        _empty_every_table()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def servers() -> Iterator[Callable[[dict[str, Any]], Flask]]:
    """More app servers on the test's database; their connections are closed afterwards."""
    started: list[Flask] = []

    def start(config: dict[str, Any]) -> Flask:
        server = create_app(config)
        server.test_client_class = IsolatedClient
        started.append(server)
        return server

    yield start
    for server in started:
        with server.app_context():
            db.session.remove()
            db.engine.dispose()


def _empty_every_table() -> None:
    tables = Base.metadata.sorted_tables
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{table.name}"' for table in tables)
        db.session.execute(text(f"TRUNCATE TABLE {names} RESTART IDENTITY CASCADE"))
        return
    # course_modules and content_versions point at each other: break the loop first.
    db.session.execute(update(CourseModule).values(current_version_id=None))
    for table in reversed(tables):
        db.session.execute(delete(table))


@pytest.fixture
def published(app: Flask) -> None:
    """The course on disk published as the current content version of each module."""
    publish_course(get_course())
    db.session.commit()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # noqa: ANN201
    return app.test_cli_runner()


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    match = CSRF_PATTERN.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


class Auth:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, email: str, password: str = PASSWORD, next_path: str | None = None):  # noqa: ANN201
        token = csrf_token(self.client)
        path = "/login" + (f"?next={next_path}" if next_path else "")
        return self.client.post(
            path, data={"email": email, "password": password, "csrf_token": token}
        )

    def logout(self):  # noqa: ANN201
        return self.client.post("/logout", data={"csrf_token": csrf_token(self.client, "/me")})


@pytest.fixture
def auth(client: FlaskClient) -> Auth:
    return Auth(client)


class Factory:
    """Builds organisations and people for a test; everything is committed."""

    def __init__(self) -> None:
        self.counter = 0

    def team(self, name: str = "Team", centre: str = "Centre", region: str = "Region") -> Team:
        region_row = db.session.scalar(db.select(Region).filter_by(name=region)) or Region(
            name=region
        )
        centre_row = next((c for c in region_row.centres if c.name == centre), None) or Centre(
            name=centre, region=region_row
        )
        team = Team(name=name, centre=centre_row)
        db.session.add(team)
        db.session.commit()
        return team

    def user(
        self,
        email: str | None = None,
        *,
        roles: tuple[Role, ...] = (Role.EMPLOYEE,),
        team: Team | None = None,
        manages: tuple[Team, ...] = (),
        active: bool = True,
        hr_region: Region | None = None,
        locale: str | None = None,
    ) -> User:
        self.counter += 1
        user = User(
            email=email or f"person{self.counter}@example.test",
            full_name=f"Person {self.counter}",
            team=team,
            active=active,
            locale=locale,
        )
        user.set_password(PASSWORD)
        for role in roles:
            user.grant(role, hr_region if role is Role.HR else None)
        user.managed_teams.extend(manages)
        db.session.add(user)
        db.session.commit()
        return user


@pytest.fixture
def cheap_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """The factory's password hashes, made cheap, for modules that make many people; logging
    in is checked the same way."""
    monkeypatch.setattr(
        "lms.models.users.generate_password_hash",
        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1"),
    )


@pytest.fixture
def make(app: Flask) -> Factory:
    return Factory()


class FakeSMTP:
    """Stands in for smtplib.SMTP and records what would have been sent."""

    instances: list[FakeSMTP] = []
    fail: bool = False

    def __init__(self, host: str, port: int = 0, timeout: float | None = None) -> None:
        if self.fail:
            raise OSError("connection refused")
        self.host, self.port, self.timeout = host, port, timeout
        self.tls = False
        self.credentials: tuple[str, str] | None = None
        self.messages: list[Any] = []
        FakeSMTP.instances.append(self)

    def __enter__(self) -> FakeSMTP:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def starttls(self, context: Any = None) -> None:
        self.tls = True

    def login(self, user: str, password: str) -> None:
        self.credentials = (user, password)

    def send_message(self, message: Any) -> None:
        self.messages.append(message)


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> type[FakeSMTP]:
    monkeypatch.setattr(FakeSMTP, "instances", [])
    monkeypatch.setattr(FakeSMTP, "fail", False)
    monkeypatch.setattr("lms.services.mail.smtplib.SMTP", FakeSMTP)
    return FakeSMTP
