"""``lms quickstart``, ``lms demo`` and ``lms content publish`` on a database of their own."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from lms import create_app
from lms.extensions import db
from lms.models import Centre, ContentVersion, CourseModule, Region, Team, User
from tests.conftest import ROOT, Auth, IsolatedClient


@pytest.fixture
def fresh_app(tmp_path: Path) -> Iterator[Flask]:
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test",
        "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path / "lms.sqlite3"),
        "CONTENT_DIR": str(content),
    })  # fmt: skip
    app.test_client_class = IsolatedClient
    yield app
    with app.app_context():
        db.engine.dispose()


def counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {
            model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Region, Centre, Team, User, CourseModule, ContentVersion)
        }


def test_quickstart_twice_prepares_everything_once(fresh_app):
    runner = fresh_app.test_cli_runner()
    first = runner.invoke(args=["quickstart", "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "http://127.0.0.1:5000" in first.output
    for login in ("employee@demo.local", "manager@demo.local", "hr@demo.local", "admin@demo.local"):
        assert login in first.output
    after_first = counts(fresh_app)
    modules = len(list((Path(fresh_app.config["CONTENT_DIR"]) / "modules").iterdir()))
    assert after_first == {
        "Region": 1, "Centre": 2, "Team": 3, "User": 12,
        "CourseModule": modules, "ContentVersion": modules,
    }  # fmt: skip

    second = runner.invoke(args=["quickstart", "--no-serve"])
    assert second.exit_code == 0, second.output
    assert counts(fresh_app) == after_first

    client = fresh_app.test_client()
    response = Auth(client).login("employee@demo.local", password="demo")
    assert response.headers["Location"] == "/"
    assert client.get("/modules/client-centricity").status_code == 200


def test_demo_roles_match_the_design(fresh_app):
    assert fresh_app.test_cli_runner().invoke(args=["quickstart", "--no-serve"]).exit_code == 0
    with fresh_app.app_context():
        people = {user.email: user for user in db.session.scalars(select(User))}
        assert {str(r) for r in people["manager@demo.local"].role_names} >= {"manager"}
        assert len(people["manager@demo.local"].managed_teams) == 2
        assert {str(r) for r in people["hr@demo.local"].role_names} == {"hr"}
        assert {str(r) for r in people["admin@demo.local"].role_names} == {"admin"}
        assert people["employee@demo.local"].team is not None


def test_publishing_changed_content_adds_a_version_and_keeps_the_old(fresh_app):
    runner = fresh_app.test_cli_runner()
    assert runner.invoke(args=["quickstart", "--no-serve"]).exit_code == 0
    module_file = Path(fresh_app.config["CONTENT_DIR"]) / "modules/01-client-centricity/index.en.md"
    module_file.write_text(module_file.read_text(encoding="utf-8") + "\nA new closing line.\n")
    fresh_app.extensions.pop("lms_course", None)

    result = runner.invoke(args=["content", "publish"])
    assert result.exit_code == 0, result.output
    assert "new version" in result.output
    with fresh_app.app_context():
        module = db.session.scalar(select(CourseModule).filter_by(slug="client-centricity"))
        assert len(module.versions) == 2
        assert module.current_version is module.versions[-1]

    again = runner.invoke(args=["content", "publish"])
    assert "unchanged" in again.output
    assert "new version" not in again.output
    assert counts(fresh_app)["ContentVersion"] == counts(fresh_app)["CourseModule"] + 1


def test_publishing_refuses_broken_content(fresh_app):
    runner = fresh_app.test_cli_runner()
    assert runner.invoke(args=["quickstart", "--no-serve"]).exit_code == 0
    (Path(fresh_app.config["CONTENT_DIR"]) / "modules/01-client-centricity/index.en.md").unlink()
    fresh_app.extensions.pop("lms_course", None)
    result = runner.invoke(args=["content", "publish"])
    assert result.exit_code != 0
    assert "index.en.md" in result.output
    assert counts(fresh_app)["ContentVersion"] == counts(fresh_app)["CourseModule"]
