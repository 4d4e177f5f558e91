"""``/healthz`` and the friendly page when the database is out of reach."""

import pytest

from lms import create_app
from tests.conftest import IsolatedClient, csrf_token


@pytest.fixture
def unreachable_app(tmp_path):
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test",
        "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path / "missing-folder" / "db.sqlite3"),
    })  # fmt: skip
    app.test_client_class = IsolatedClient
    return app


def test_healthz_is_ok_with_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_without_the_database(unreachable_app):
    response = unreachable_app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_pages_answer_503_with_a_friendly_page_without_the_database(unreachable_app):
    client = unreachable_app.test_client()
    token = csrf_token(client)
    response = client.post(
        "/login", data={"email": "a@example.test", "password": "x", "csrf_token": token},
        headers={"Accept-Language": "en"},
    )  # fmt: skip
    assert response.status_code == 503
    assert "temporarily unavailable" in response.get_data(as_text=True)
