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


def test_postgresql_connections_run_without_jit(tmp_path):
    config = {
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db/lms",
        "SECRET_KEY": "k",
        "SQLALCHEMY_ENGINE_OPTIONS": {
            "pool_pre_ping": True,
            "connect_args": {"sslmode": "require"},
        },
    }
    finalise(config, str(tmp_path))
    assert config["SQLALCHEMY_ENGINE_OPTIONS"] == {
        "pool_pre_ping": True,
        "connect_args": {"sslmode": "require", "options": "-c jit=off"},
    }
    sqlite = {"SQLALCHEMY_DATABASE_URI": "sqlite:///x.sqlite3", "SQLALCHEMY_ENGINE_OPTIONS": {}}
    finalise(sqlite, str(tmp_path))
    assert sqlite["SQLALCHEMY_ENGINE_OPTIONS"] == {}


def test_redis_holds_the_sign_in_limits_when_it_is_given(tmp_path):
    config = {
        "SQLALCHEMY_DATABASE_URI": "sqlite:///x.sqlite3",
        "REDIS_URL": "redis://cache:6379/0",
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    finalise(config, str(tmp_path))
    assert config["RATELIMIT_STORAGE_URI"] == "redis://cache:6379/0"
    assert from_environment({"REPORT_CACHE_SECONDS": "15"}) == {"REPORT_CACHE_SECONDS": 15}


def test_a_given_jit_or_other_option_is_kept(tmp_path):
    config = {
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db/lms",
        "SECRET_KEY": "k",
        "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": "-c statement_timeout=5000"}},
    }
    finalise(config, str(tmp_path))
    assert config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["options"] == (
        "-c jit=off -c statement_timeout=5000"
    )
    chosen = {
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db/lms",
        "SECRET_KEY": "k",
        "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": "-c jit=on"}},
    }
    finalise(chosen, str(tmp_path))
    assert chosen["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["options"] == "-c jit=on"


def test_deployments_sharing_a_redis_keep_apart(tmp_path):
    one = {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db/lms", "SECRET_KEY": "k"}
    two = {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db/lms_staging", "SECRET_KEY": "k"}
    again = dict(one)
    for config in (one, two, again):
        finalise(config, str(tmp_path))
    assert one["CACHE_PREFIX"] != two["CACHE_PREFIX"]
    assert one["RATELIMIT_KEY_PREFIX"] != two["RATELIMIT_KEY_PREFIX"]
    # Every server of one deployment uses the same prefixes, so they share entries.
    assert (one["CACHE_PREFIX"], one["RATELIMIT_KEY_PREFIX"]) == (
        again["CACHE_PREFIX"],
        again["RATELIMIT_KEY_PREFIX"],
    )
    named = {**one, "CACHE_PREFIX": "lms:prod:"}
    finalise(named, str(tmp_path))
    assert named["CACHE_PREFIX"] == "lms:prod:"


def test_numbers_in_the_environment_are_checked():
    assert from_environment({"PROXY_HOPS": "1"}) == {"PROXY_HOPS": 1}
    with pytest.raises(ConfigError, match="REPORT_CACHE_SECONDS"):
        from_environment({"REPORT_CACHE_SECONDS": "a minute"})


def test_behind_a_proxy_the_clients_own_address_is_used(app_config, servers):
    from flask import request

    seen = []

    def note_address() -> None:
        seen.append(request.remote_addr)

    # ``servers`` closes the apps' database connections afterwards.
    for hops in (1, 0):
        app = servers({**app_config, "PROXY_HOPS": hops})
        app.before_request(note_address)
        app.test_client().get("/healthz", headers={"X-Forwarded-For": "203.0.113.7"})
    assert seen == ["203.0.113.7", "127.0.0.1"]
