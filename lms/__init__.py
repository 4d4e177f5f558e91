"""Client-Centricity Academy: staff training on client-centricity for employment centres."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, jsonify, render_template, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map

from lms import config as lms_config


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then the environment, then ``config`` (tests pass theirs)."""
    app = Flask(__name__, instance_relative_config=True)
    settings = lms_config.defaults(app.instance_path)
    settings.update(lms_config.from_environment(os.environ))
    settings.update(config or {})
    lms_config.finalise(settings, app.instance_path)
    app.config.update(settings)

    # An id beyond the database's integer can name no record: such URLs are a 404, not a
    # database error. Set before the blueprints, whose <int:...> rules use it.
    app.url_map.converters["int"] = DatabaseIdConverter
    if app.config["PROXY_HOPS"]:
        # Behind a load balancer: the client's address, scheme and host as the proxies say.
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


class DatabaseIdConverter(IntegerConverter):
    """``<int:...>`` in every route: at most the largest id the database can hold."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def register_extensions(app: Flask) -> None:
    from flask import session
    from sqlalchemy import exists, select
    from sqlalchemy.orm import joinedload

    from lms import cache, i18n, input_checks, permissions, security
    from lms.extensions import babel, csrf, db, limiter, login_manager, migrate
    from lms.models import User, UserSession
    from lms.services import accounts, notifications

    db.init_app(app)
    migrate.init_app(app, db, directory=app.config["MIGRATIONS_DIR"])
    csrf.init_app(app)
    cache.init_app(app)
    limiter.init_app(app)
    # init_app gives the one limiter this app's storage but keeps the "storage is down" mark
    # an earlier app may have set (tests start many apps in one process). Left set, the counts
    # would go to the in-memory fallback until a timed re-check moves them back, losing some.
    limiter._storage_dead = False
    security.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    if not isinstance(vars(babel).get("domain_instance"), i18n.PoDomain):
        # Replaces Flask-Babel's .mo loader; read once per process, shared by every app.
        babel.domain_instance = i18n.PoDomain()

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        token = session.get(accounts.SESSION_KEY)
        if not user_id.isdigit() or int(user_id) > 2**31 - 1 or not isinstance(token, str):
            return None
        # One query for the person, their roles and their unread notifications (every page
        # shows all three), only while the session is still on record: signing out, a new
        # password or deactivation ended it for every copy of the cookie.
        live = exists().where(
            UserSession.user_id == User.id,
            UserSession.token_hash == accounts.hash_session_token(token),
            UserSession.created_at >= accounts.session_cutoff(),
        )
        found = (
            db.session.execute(
                select(User, notifications.unread_of(User.id).scalar_subquery())
                .where(User.id == int(user_id), live)
                .options(joinedload(User.roles))
            )
            .unique()
            .first()
        )
        if found is None or not found[0].active:
            return None
        user, unread = found
        notifications.remember_unread(user, unread)
        return user

    app.before_request(permissions.send_anonymous_to_login)
    app.before_request(permissions.send_to_password_change)
    app.before_request(input_checks.refuse_nul_characters)


def register_blueprints(app: Flask) -> None:
    from lms import permissions
    from lms.admin import bp as admin_bp
    from lms.api import bp as api_bp
    from lms.auth.views import bp as auth_bp
    from lms.certificates.views import bp as certificates_bp
    from lms.goals.views import bp as goals_bp
    from lms.health import bp as health_bp
    from lms.hr import bp as hr_bp
    from lms.learn.views import bp as learn_bp
    from lms.me.views import bp as me_bp
    from lms.notifications.views import bp as notifications_bp
    from lms.people.views import bp as people_bp
    from lms.quiz.views import bp as quiz_bp
    from lms.recognition.views import bp as recognition_bp
    from lms.team.views import bp as team_bp

    blueprints = (
        health_bp,
        auth_bp,
        me_bp,
        certificates_bp,
        learn_bp,
        quiz_bp,
        team_bp,
        goals_bp,
        people_bp,
        recognition_bp,
        notifications_bp,
        hr_bp,
        admin_bp,
        api_bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    permissions.check_every_view_declares_access(app)


def register_errorhandlers(app: Flask) -> None:
    from lms.extensions import db

    def render_error(error: HTTPException) -> Any:
        # The exception's own headers (a 405's Allow) are kept; its content type is not ours.
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        if request.path.startswith("/api/"):  # programs get JSON, like the API's own errors
            return jsonify(error=error.description), error.code or 500, headers
        page = render_template("errors/error.html", code=error.code, error=error)
        return page, error.code or 500, headers

    for code in (400, 403, 404, 405, 413, 429, 503):
        app.register_error_handler(code, render_error)

    @app.errorhandler(500)
    def internal_error(error: Exception) -> tuple[str, int]:
        db.session.rollback()
        return render_template("errors/error.html", code=500, error=error), 500

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError) -> tuple[str, int]:
        app.logger.error("database unavailable: %s", error)
        db.session.rollback()
        return render_template("errors/error.html", code=503, error=error), 503


def register_template_helpers(app: Flask) -> None:
    from flask_babel import format_date, format_datetime
    from flask_login import current_user
    from flask_wtf.csrf import generate_csrf
    from markupsafe import Markup

    from lms.auth.forms import LOCALE_CHOICES
    from lms.config import SUPPORTED_LOCALES
    from lms.fragments import render_shared
    from lms.i18n import current_locale, role_label
    from lms.models import Role
    from lms.services import notifications

    app.add_template_filter(role_label, "role_label")
    app.add_template_filter(lambda value: format_datetime(value, "short"), "datetime")
    app.add_template_filter(lambda value: format_date(value, "long"), "date")

    @app.template_global()
    def site_header() -> Markup:
        """The header of every page, shared by everyone who sees the same one
        (lms/fragments.py); each person's name, token and return address are filled in."""
        signed_in = bool(current_user.is_authenticated)
        flags = {
            "signed_in": signed_in,
            "endpoint": request.endpoint or "",
            "current_locale": current_locale(),
            "supported_locales": SUPPORTED_LOCALES,
            "in_a_team": signed_in and bool(current_user.team_id or current_user.managed_teams),
            "sees_teams": signed_in and current_user.has_role(Role.MANAGER, Role.HR, Role.ADMIN),
            "sees_reports": signed_in and current_user.has_role(Role.HR, Role.ADMIN),
            "unread_notifications": (notifications.unread_count(current_user) if signed_in else 0),
        }
        slots = {
            "back": request.full_path if request.query_string else request.path,
            "who": current_user.full_name if signed_in else "",
            "csrf_token": generate_csrf(),
        }
        return render_shared("_header.html", sorted(flags.items()), slots, **flags)

    @app.context_processor
    def layout_context() -> dict[str, Any]:
        # Only what the layout reads: it runs for every page, so it builds no forms.
        return {
            "current_locale": current_locale(),
            "supported_locales": SUPPORTED_LOCALES,
            "locale_choices": LOCALE_CHOICES,
            "Role": Role,
        }


def register_commands(app: Flask) -> None:
    from lms.cli import content_group, demo_command, quickstart_command, quiz_group, users_group

    app.cli.add_command(content_group)
    app.cli.add_command(demo_command)
    app.cli.add_command(quickstart_command)
    app.cli.add_command(quiz_group)
    app.cli.add_command(users_group)
