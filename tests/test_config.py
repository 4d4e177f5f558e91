"""Configuration: environment overrides and the production safety rules."""

import pytest

from lms import create_app
from lms.config import ConfigError, finalise, from_environment


def test_environment_overrides_the_defaults():
    config = from_environment({
        "DATABASE_URL": "postgresql+psycopg://db/lms",
        "SECRET_KEY": "k",
        "REDIS_URL": "redis://cache:6379/0",
    })  # fmt: skip
    assert config == {
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db/lms",
        "SECRET_KEY": "k",
        "REDIS_URL": "redis://cache:6379/0",
    }


@pytest.mark.parametrize(
    "settings",
    [
        {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db/lms"},
        {"SQLALCHEMY_DATABASE_URI": "sqlite:///x.sqlite3", "LMS_ENV": "production"},
    ],
)
def test_production_refuses_to_start_without_a_secret_key(tmp_path, settings):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        finalise(dict(settings), str(tmp_path))


def test_production_cookies_are_secure(tmp_path):
    config = {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db/lms", "SECRET_KEY": "k"}
    finalise(config, str(tmp_path))
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["REMEMBER_COOKIE_SECURE"] is True


def test_a_development_key_is_made_once_and_kept(tmp_path):
    first = {"SQLALCHEMY_DATABASE_URI": "sqlite:///x.sqlite3"}
    second = dict(first)
    finalise(first, str(tmp_path))
    finalise(second, str(tmp_path))
    assert len(first["SECRET_KEY"]) == 64
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert first["SESSION_COOKIE_SECURE"] is False


def test_session_cookie_is_httponly_and_samesite_lax(app):
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_create_app_refuses_production_without_a_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://db.invalid/lms")
    with pytest.raises(ConfigError):
        create_app()
