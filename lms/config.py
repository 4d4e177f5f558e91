"""Configuration: defaults, then the environment, then a mapping passed to ``create_app``.

Production is any run with ``LMS_ENV=production`` or a non-SQLite ``DATABASE_URL``; there a
missing ``SECRET_KEY`` stops the app from starting. On a developer's machine a random key is
kept in ``instance/secret_key`` so that ``lms quickstart`` works with nothing configured.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent

SUPPORTED_LOCALES = ("ru", "en")


class ConfigError(RuntimeError):
    """The app cannot start with this configuration."""


def defaults(instance_path: str) -> dict[str, Any]:
    return {
        "SQLALCHEMY_DATABASE_URI": "sqlite:///" + os.path.join(instance_path, "lms.sqlite3"),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "CONTENT_DIR": str(PROJECT_ROOT / "content"),
        "QUIZ_DIR": str(PROJECT_ROOT / "quizzes"),
        "MIGRATIONS_DIR": str(PROJECT_ROOT / "migrations"),
        "PDF_CACHE_DIR": os.path.join(instance_path, "cache", "pdf"),
        "REDIS_URL": None,
        # Failed sign-ins allowed per address and per account (Flask-Limiter's notation).
        "LOGIN_FAILURES_PER_ADDRESS": "50 per 15 minutes",
        "LOGIN_FAILURES_PER_ACCOUNT": "5 per 15 minutes",
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_KEY_PREFIX": None,  # finalise: one per database, as CACHE_PREFIX
        # If Redis cannot be reached, each server counts sign-ins in its own memory meanwhile:
        # the sign-in page never fails because the limits' store is down.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        "CACHE_PREFIX": None,  # finalise: "lms:" and a hash of the database's address
        # Proxies in front of the app whose X-Forwarded-For/-Proto/-Host it trusts (0: none).
        # Behind a load balancer, 1: the sign-in limit per address then sees each person's
        # own address, not the balancer's.
        "PROXY_HOPS": 0,
        # Dashboards are kept this long in the shared cache (0: always computed afresh).
        "REPORT_CACHE_SECONDS": 60,
        "BABEL_DEFAULT_LOCALE": "ru",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Moscow",
        "LMS_ENV": "development",
        # A sign-in lasts a working day at most, however long the browser keeps its cookie.
        "SESSION_MAX_AGE_SECONDS": 12 * 3600,
        "ACTIVATION_LINK_DAYS": 7,  # how long a link to choose a first password works
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "MAX_CONTENT_LENGTH": 10 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        # E-mail (reminders) is sent only when MAIL_SERVER is set.
        "MAIL_SERVER": None,
        "MAIL_PORT": 25,
        "MAIL_USERNAME": None,
        "MAIL_PASSWORD": None,
        "MAIL_USE_TLS": False,
        "MAIL_FROM": None,
    }


def from_environment(environ: os._Environ[str] | dict[str, str]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    if environ.get("DATABASE_URL"):
        config["SQLALCHEMY_DATABASE_URI"] = environ["DATABASE_URL"]
    if environ.get("SECRET_KEY"):
        config["SECRET_KEY"] = environ["SECRET_KEY"]
    if environ.get("REDIS_URL"):
        config["REDIS_URL"] = environ["REDIS_URL"]
    for name in ("REPORT_CACHE_SECONDS", "PROXY_HOPS"):
        if environ.get(name):
            try:
                config[name] = int(environ[name])
            except ValueError:
                raise ConfigError(f"{name} must be a whole number of seconds or hops.") from None
    for name in ("LOGIN_FAILURES_PER_ADDRESS", "LOGIN_FAILURES_PER_ACCOUNT", "CACHE_PREFIX"):
        if environ.get(name):
            config[name] = environ[name]
    if environ.get("LMS_ENV"):
        config["LMS_ENV"] = environ["LMS_ENV"]
    for name in ("MAIL_SERVER", "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_FROM"):
        if environ.get(name):
            config[name] = environ[name]
    if environ.get("MAIL_PORT"):
        config["MAIL_PORT"] = int(environ["MAIL_PORT"])
    if environ.get("MAIL_USE_TLS"):
        config["MAIL_USE_TLS"] = environ["MAIL_USE_TLS"].lower() in {"1", "true", "yes", "on"}
    if environ.get("LMS_CONTENT_DIR"):
        config["CONTENT_DIR"] = environ["LMS_CONTENT_DIR"]
    return config


def is_production(config: dict[str, Any]) -> bool:
    if config.get("TESTING"):
        return False
    uri = str(config.get("SQLALCHEMY_DATABASE_URI", ""))
    return config.get("LMS_ENV") == "production" or not uri.startswith("sqlite")


def finalise(config: dict[str, Any], instance_path: str) -> None:
    """Fill in what depends on other settings, and refuse unsafe production settings."""
    production = is_production(config)
    config["LMS_PRODUCTION"] = production
    config.setdefault("SESSION_COOKIE_SECURE", production)
    config.setdefault("REMEMBER_COOKIE_SECURE", production)
    if str(config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("postgresql"):
        # PostgreSQL's JIT compiles a query it expects to be costly; the reports' queries run
        # in well under a second, and compiling them took longer than running them (550 of
        # 815 ms for a country's completions). Off for this app's connections only.
        # Added to any options already given (a URL's ?options=... is kept, as libpq's
        # connection string, and takes its own settings after this one).
        options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        connect_args = dict(options.get("connect_args") or {})
        given = str(connect_args.get("options", ""))
        if "jit=" not in given:
            connect_args["options"] = f"-c jit=off {given}".strip()
        options["connect_args"] = connect_args
        config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    # Two deployments may share one Redis: their caches and counts must never meet.
    database = hashlib.sha256(str(config.get("SQLALCHEMY_DATABASE_URI", "")).encode())
    if not config.get("CACHE_PREFIX"):
        config["CACHE_PREFIX"] = f"lms:{database.hexdigest()[:12]}:"
    if not config.get("RATELIMIT_KEY_PREFIX"):
        config["RATELIMIT_KEY_PREFIX"] = f"lms-limits:{database.hexdigest()[:12]}"
    if config.get("REDIS_URL") and config.get("RATELIMIT_STORAGE_URI") == "memory://":
        config["RATELIMIT_STORAGE_URI"] = config["REDIS_URL"]
    if config.get("SECRET_KEY"):
        return
    if production:
        raise ConfigError("SECRET_KEY must be set in production (environment variable SECRET_KEY).")
    config["SECRET_KEY"] = _local_secret_key(instance_path)


def _local_secret_key(instance_path: str) -> str:
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
