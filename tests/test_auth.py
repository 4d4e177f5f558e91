"""Signing in and out, deactivated accounts, language choice, and the login wall."""

import pytest

from lms.extensions import db
from lms.models import Role, User
from tests.conftest import PASSWORD, csrf_token


def test_login_page_has_the_fields_other_tools_rely_on(client):
    page = client.get("/login").get_data(as_text=True)
    for field in ('name="email"', 'name="password"', 'name="csrf_token"'):
        assert field in page


def test_login_success_lands_on_the_home_page_and_records_the_login(auth, make, client):
    person = make.user("anna@example.test")
    response = auth.login("ANNA@example.test ")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Person" in client.get("/").get_data(as_text=True)
    assert db.session.get(User, person.id).last_login_at is not None


@pytest.mark.parametrize("email", ["anna@example.test", "nobody@example.test"])
def test_wrong_password_and_unknown_email_get_the_same_message(auth, make, client, email):
    make.user("anna@example.test")
    response = auth.login(email, password="wrong password")
    assert response.status_code == 401
    body = response.get_data(as_text=True)
    assert "Неверная электронная почта или пароль." in body
    assert client.get("/me").status_code == 302


def test_deactivated_account_cannot_log_in(auth, make, client):
    make.user("gone@example.test", active=False)
    response = auth.login("gone@example.test")
    assert response.status_code == 403
    assert "отключена" in response.get_data(as_text=True)
    assert client.get("/me").status_code == 302


def test_deactivated_while_signed_in_loses_access(auth, make, client):
    person = make.user("leaving@example.test")
    auth.login("leaving@example.test")
    assert client.get("/me").status_code == 200
    person.active = False
    db.session.commit()
    assert client.get("/me").status_code == 302


def test_logout_ends_the_session(auth, make, client):
    make.user("anna@example.test")
    auth.login("anna@example.test")
    response = auth.logout()
    assert response.status_code == 302
    assert client.get("/me").status_code == 302


def test_login_page_keeps_the_chosen_language_after_logout(auth, make, client):
    make.user("anna@example.test", locale="en")
    auth.login("anna@example.test")
    auth.logout()
    page = client.get("/login", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert 'lang="en"' in page


def test_logout_needs_post_with_csrf(auth, make, client):
    make.user("anna@example.test")
    auth.login("anna@example.test")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/me").status_code == 200


def test_login_without_csrf_token_is_refused(make, client):
    make.user("anna@example.test")
    response = client.post("/login", data={"email": "anna@example.test", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/me").status_code == 302


@pytest.mark.parametrize(
    "path", ["/", "/me", "/modules", "/modules/client-centricity", "/team", "/team/1"]
)
def test_anonymous_people_are_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("path", ["/login", "/healthz", "/static/app.css"])
def test_public_paths_open_without_login(client, path):
    response = client.get(path)
    response.close()
    assert response.status_code == 200


def test_login_returns_to_the_page_asked_for(auth, make):
    make.user("anna@example.test")
    response = auth.login("anna@example.test", next_path="/modules/client-centricity")
    assert response.headers["Location"] == "/modules/client-centricity"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
def test_login_never_redirects_off_site(auth, make, target):
    make.user("anna@example.test")
    response = auth.login("anna@example.test", next_path=target)
    assert response.headers["Location"] == "/"


def test_interface_follows_the_browser_before_any_choice(client):
    english = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert 'lang="en"' in english.get_data(as_text=True)
    russian = client.get("/login", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert "Войти" in russian.get_data(as_text=True)


def test_anonymous_language_choice_is_kept_in_the_session(client):
    token = csrf_token(client)
    response = client.post("/locale", data={"locale": "en", "next": "/login", "csrf_token": token})
    assert response.headers["Location"] == "/login"
    page = client.get("/login", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert 'lang="en"' in page
    assert "Log in" in page


def test_language_choice_is_saved_on_the_profile(app, auth, make, client):
    person = make.user("anna@example.test")
    auth.login("anna@example.test")
    token = csrf_token(client, "/me")
    client.post("/locale", data={"locale": "en", "next": "/me", "csrf_token": token})
    assert db.session.get(User, person.id).locale == "en"

    other_browser = app.test_client()
    from tests.conftest import Auth

    Auth(other_browser).login("anna@example.test")
    page = other_browser.get("/me", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "My profile" in page


def test_choice_made_before_login_is_saved_to_a_profile_without_one(auth, make, client):
    person = make.user("anna@example.test")
    client.post(
        "/locale", data={"locale": "en", "next": "/login", "csrf_token": csrf_token(client)}
    )
    auth.login("anna@example.test")
    assert db.session.get(User, person.id).locale == "en"


def test_unknown_language_is_refused(auth, make, client):
    person = make.user("anna@example.test", locale="ru")
    auth.login("anna@example.test")
    token = csrf_token(client, "/me")
    client.post("/locale", data={"locale": "de", "next": "/me", "csrf_token": token})
    assert db.session.get(User, person.id).locale == "ru"


def test_home_page_shows_what_each_role_needs(auth, make, client):
    team = make.team("Front desk")
    make.user("boss@example.test", roles=(Role.MANAGER,), manages=(team,))
    auth.login("boss@example.test")
    page = client.get("/").get_data(as_text=True)
    assert "Front desk" in page
    assert "/team/" in page
    auth.logout()

    make.user("staff@example.test", team=team)
    auth.login("staff@example.test")
    page = client.get("/").get_data(as_text=True)
    assert "/modules/client-centricity" in page
    assert "/team" not in page
