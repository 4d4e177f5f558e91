"""Security headers, sessions kept on the server, the password policy, changing a password,
the temporary password that must be changed, and the audit of sign-ins."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from lms.models import AuditEvent, Role, User, UserSession, utcnow
from lms.services import accounts
from tests.conftest import PASSWORD, Auth, csrf_token

NEW_PASSWORD = "рыжий кот на подоконнике"


# --- headers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/login", "/no-such-page", "/static/app.css", "/api/v1/openapi.json", "/healthz"]
)
def test_every_response_carries_the_security_headers(client, path):
    with client.get(path) as response:
        headers = response.headers
    policy = headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["X-Frame-Options"] == "DENY"


def test_pages_are_not_stored_by_caches_but_static_files_may_be(client):
    assert client.get("/login").headers["Cache-Control"] == "no-store"
    assert client.get("/api/v1/openapi.json").headers["Cache-Control"] == "no-store"
    with client.get("/static/app.css") as response:
        assert response.headers.get("Cache-Control") != "no-store"


def test_pages_hold_no_inline_script_or_style(auth, make, client, published):
    """What the policy would block: nothing on the main pages relies on it."""
    make.user("anna@example.test", roles=(Role.EMPLOYEE, Role.ADMIN))
    auth.login("anna@example.test")
    for path in ("/", "/me", "/modules", "/modules/client-centricity", "/admin/tokens", "/hr"):
        page = client.get(path).get_data(as_text=True)
        assert re.search(r"<script(?![^>]*\bsrc=)", page) is None, path
        assert re.search(r"<style|\sstyle=|\son[a-z]+=", page) is None, path


def test_https_is_required_in_production_only(app_config):
    from lms import create_app

    production = create_app(app_config | {"SESSION_COOKIE_SECURE": True}).test_client()
    assert production.get("/login").headers["Strict-Transport-Security"].startswith("max-age=")
    development = create_app(app_config).test_client()
    assert "Strict-Transport-Security" not in development.get("/login").headers


# --- sessions ------------------------------------------------------------------------------


def session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def test_the_session_cookie_is_httponly_and_samesite_lax(auth, make, client):
    make.user("anna@example.test")
    response = auth.login("anna@example.test")
    header = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("session="))
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header


def test_signing_in_starts_a_new_session(auth, make, client):
    make.user("anna@example.test")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    auth.login("anna@example.test")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session[accounts.SESSION_KEY]
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 1


def test_a_copy_of_the_cookie_opens_nothing_after_signing_out(app, auth, make, client):
    make.user("anna@example.test")
    auth.login("anna@example.test")
    stolen = session_cookie(client)
    auth.logout()
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0

    other = app.test_client()
    other.set_cookie("session", stolen)
    response = other.get("/me")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_a_cookie_without_a_session_on_record_opens_nothing(app, auth, make, client):
    """A cookie signed with the key but naming no session (as before this change) is refused."""
    person = make.user("anna@example.test")
    auth.login("anna@example.test")
    with client.session_transaction() as session:
        session[accounts.SESSION_KEY] = "made-up"
        assert session["_user_id"] == str(person.id)
    assert client.get("/me").status_code == 302


def test_deactivating_ends_every_session_for_good(auth, make, client):
    person = make.user("anna@example.test")
    auth.login("anna@example.test")
    person.active = False
    db.session.commit()
    assert client.get("/me").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0
    person.active = True  # reactivated: the old cookie still opens nothing
    db.session.commit()
    assert client.get("/me").status_code == 302


def test_a_session_lasts_a_working_day_at_most(app, auth, make, client):
    make.user("anna@example.test")
    auth.login("anna@example.test")
    assert client.get("/me").status_code == 200
    row = db.session.scalars(select(UserSession)).one()
    row.created_at = utcnow() - timedelta(seconds=app.config["SESSION_MAX_AGE_SECONDS"] + 60)
    db.session.commit()
    assert client.get("/me").status_code == 302
    auth.login("anna@example.test")  # signing in again clears the expired row away
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 1


def test_api_tokens_pause_while_their_admin_has_a_temporary_password(app, make, client):
    from lms.services import api_tokens

    admin = make.user("admin@example.test", roles=(Role.ADMIN,))
    _token, plaintext = api_tokens.issue(admin, "HR dashboard")
    db.session.commit()
    headers = {"Authorization": f"Bearer {plaintext}"}
    assert client.get("/api/v1/people", headers=headers).status_code == 200
    temporary = accounts.set_temporary_password(admin, actor=None)
    db.session.commit()
    assert client.get("/api/v1/people", headers=headers).status_code == 401
    Auth(client).login("admin@example.test", temporary)
    change(client, temporary, NEW_PASSWORD)
    client.delete_cookie("session")
    assert client.get("/api/v1/people", headers=headers).status_code == 200


# --- the password policy --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("short1!", "Use at least 10 characters."),
        ("x" * 129, "Use at most 128 characters."),
        ("password123", "among the most common"),
        ("Qwerty2024!!", "among the most common"),
        ("пароль123456", "among the most common"),
        ("1234567890", "same or neighbouring keys"),
        ("aaaaaaaaaaaa", "same or neighbouring keys"),
        ("ababababab", "same or neighbouring keys"),
        ("ivanova-2026-spring", "your name or e-mail"),
        ("Petrova Anna 1990", "your name or e-mail"),
        ("ivanova2026spring", "your name or e-mail"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(app, password, expected):
    person = User(email="ivanova@example.test", full_name="Анна Petrova")
    with app.test_request_context(headers={"Accept-Language": "en"}):
        from flask_babel import force_locale

        with force_locale("en"):
            problems = accounts.password_problems(password, person)
    assert any(expected in problem for problem in problems), problems


@pytest.mark.parametrize("password", [NEW_PASSWORD, "Tea-at-5-on-Fridays", "xK3#pL9!mQ2&vR"])
def test_good_passwords_pass(app, password):
    person = User(email="ivanova@example.test", full_name="Анна Петрова")
    with app.test_request_context():
        assert accounts.password_problems(password, person) == []


# --- changing a password --------------------------------------------------------------------


def change(client, current: str, new: str, confirm: str | None = None, next_path: str = ""):
    path = "/me/password" + (f"?next={next_path}" if next_path else "")
    return client.post(
        path,
        data={
            "csrf_token": csrf_token(client, "/me/password"),
            "current_password": current,
            "new_password": new,
            "confirm_password": new if confirm is None else confirm,
        },
    )


def test_changing_the_password_signs_out_other_browsers(app, auth, make, client):
    person = make.user("anna@example.test")
    auth.login("anna@example.test")
    laptop = app.test_client()
    Auth(laptop).login("anna@example.test")
    assert laptop.get("/me").status_code == 200

    copied = app.test_client()
    copied.set_cookie("session", session_cookie(client))
    assert copied.get("/me").status_code == 200

    response = change(client, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/me"
    assert client.get("/me").status_code == 200  # this browser stays signed in
    assert laptop.get("/me").status_code == 302  # the other one is signed out
    assert copied.get("/me").status_code == 302  # and so is a copy of this one's cookie
    db.session.expire_all()
    assert person.check_password(NEW_PASSWORD)
    assert person.password_changed_at is not None
    assert (
        db.session.scalar(select(AuditEvent).where(AuditEvent.action == "password.change")).actor_id
        == person.id
    )

    auth.logout()
    assert auth.login("anna@example.test").status_code == 401
    assert auth.login("anna@example.test", NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("current", "new", "confirm", "status", "message"),
    [
        ("not mine", NEW_PASSWORD, None, 401, "Это не ваш текущий пароль."),
        (PASSWORD, "short", None, 400, "Используйте не меньше 10 символов."),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "!", 400, "Два новых пароля не совпадают."),
        (PASSWORD, PASSWORD, None, 400, "Новый пароль должен отличаться от текущего."),
        ("", "", "", 400, "Обязательное поле."),
    ],
)
def test_a_refused_change_says_why_and_keeps_the_old_password(
    auth, make, client, current, new, confirm, status, message
):
    person = make.user("anna@example.test")
    auth.login("anna@example.test")
    response = change(client, current, new, confirm)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert person.check_password(PASSWORD)


def test_the_password_change_needs_its_csrf_token(auth, make, client):
    person = make.user("anna@example.test")
    auth.login("anna@example.test")
    response = client.post(
        "/me/password",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD,
              "confirm_password": NEW_PASSWORD},
    )  # fmt: skip
    assert response.status_code == 400
    db.session.expire_all()
    assert person.check_password(PASSWORD)


# --- the temporary password -----------------------------------------------------------------


def test_a_temporary_password_must_be_changed_before_anything_else(auth, make, client):
    person = make.user("anna@example.test")
    temporary = accounts.set_temporary_password(person, actor=None)
    db.session.commit()
    assert re.fullmatch(r"[A-Za-z2-9]{4}-[A-Za-z2-9]{4}-[A-Za-z2-9]{4}", temporary)

    response = auth.login("anna@example.test", temporary, next_path="/modules")
    assert response.status_code == 302
    assert response.headers["Location"] == "/me/password?next=/modules"
    for path in ("/", "/me", "/modules/client-centricity", "/me/goals"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/me/password?next="), path
    page = client.get("/me/password").get_data(as_text=True)
    assert "Выберите свой пароль" in page
    assert client.get("/certificates").status_code == 200  # public pages stay open

    response = change(client, temporary, NEW_PASSWORD, next_path="/modules")
    assert response.status_code == 302
    assert response.headers["Location"] == "/modules"
    assert client.get("/me").status_code == 200
    db.session.expire_all()
    assert person.must_change_password is False


def test_a_temporary_password_ends_the_sessions_already_open(auth, make, client):
    person = make.user("anna@example.test")
    auth.login("anna@example.test")
    accounts.set_temporary_password(person, actor=None)
    db.session.commit()
    assert client.get("/me").status_code == 302


# --- the audit of sign-ins ------------------------------------------------------------------


def test_sign_ins_and_failures_are_audited_with_the_address(auth, make, client):
    person = make.user("anna@example.test")
    auth.login("anna@example.test", "wrong password")
    auth.login("nobody@example.test", "wrong password")
    auth.login("anna@example.test")
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.action, e.actor_id, e.details.get("email")) for e in events] == [
        ("login.failed", None, "anna@example.test"),
        ("login.failed", None, "nobody@example.test"),
        ("login", person.id, None),
    ]
    assert {event.ip for event in events} == {"127.0.0.1"}


def test_the_command_line_gives_a_temporary_password(app, make, auth, client, runner):
    person = make.user("anna@example.test")
    auth.login("anna@example.test")

    result = runner.invoke(args=["users", "temporary-password", "ANNA@example.test"])

    assert result.exit_code == 0, result.output
    password = re.search(r"Temporary password for anna@example.test: (\S+)", result.output)
    assert password
    assert client.get("/me").status_code == 302  # signed out
    db.session.expire_all()
    assert person.must_change_password
    assert (
        auth.login("anna@example.test", password.group(1))
        .headers["Location"]
        .startswith("/me/password")
    )
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "password.temporary"))
    assert (event.actor_id, event.details["person_id"], event.ip) == (None, person.id, None)


@pytest.mark.parametrize(
    ("email", "message"),
    [("nobody@example.test", "no account"), ("gone@example.test", "is deactivated")],
)
def test_the_command_line_refuses_unknown_and_deactivated_people(app, make, runner, email, message):
    make.user("gone@example.test", active=False)
    result = runner.invoke(args=["users", "temporary-password", email])
    assert result.exit_code == 1
    assert message in result.output
