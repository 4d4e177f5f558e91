"""The permission layer: roles, team scope, and every view declaring its access."""

import re

import pytest
from flask import Blueprint

from lms import create_app, permissions
from lms.extensions import db
from lms.models import Role


@pytest.fixture
def two_teams(make):
    own = make.team("Own team", centre="North", region="Region A")
    other = make.team("Other team", centre="South", region="Region B")
    make.user("boss@example.test", roles=(Role.EMPLOYEE, Role.MANAGER), team=own, manages=(own,))
    make.user("member@example.test", team=own).full_name = "Member Of Own"
    make.user("stranger@example.test", team=other).full_name = "Stranger Of Other"
    db.session.commit()
    return own, other


def test_manager_sees_own_team(auth, client, two_teams):
    own, _ = two_teams
    auth.login("boss@example.test")
    page = client.get(f"/team/{own.id}")
    assert page.status_code == 200
    assert "Member Of Own" in page.get_data(as_text=True)


def test_manager_is_denied_another_teams_data(auth, client, two_teams):
    _, other = two_teams
    auth.login("boss@example.test")
    response = client.get(f"/team/{other.id}")
    assert response.status_code == 403
    assert "Stranger Of Other" not in response.get_data(as_text=True)
    teams_page = client.get("/team").get_data(as_text=True)
    assert "Other team" not in teams_page
    assert "Stranger Of Other" not in teams_page


def test_missing_team_is_404(auth, client, two_teams):
    auth.login("boss@example.test")
    assert client.get("/team/999999").status_code == 404


def test_employee_has_no_team_pages(auth, client, two_teams):
    own, _ = two_teams
    auth.login("member@example.test")
    assert client.get("/team").status_code == 403
    assert client.get(f"/team/{own.id}").status_code == 403


def test_regional_hr_sees_only_their_region(auth, client, make, two_teams):
    own, other = two_teams
    make.user("hr@example.test", roles=(Role.HR,), hr_region=own.centre.region)
    auth.login("hr@example.test")
    assert client.get(f"/team/{own.id}").status_code == 200
    assert client.get(f"/team/{other.id}").status_code == 403


def test_hr_without_region_and_admin_see_every_team(auth, client, make, two_teams):
    own, other = two_teams
    make.user("hr@example.test", roles=(Role.HR,))
    make.user("admin@example.test", roles=(Role.ADMIN,))
    for email in ("hr@example.test", "admin@example.test"):
        auth.login(email)
        assert client.get(f"/team/{own.id}").status_code == 200
        assert client.get(f"/team/{other.id}").status_code == 200
        auth.logout()


def test_visible_teams_query_matches_can_view_team(app, make, two_teams):
    own, other = two_teams
    from lms.extensions import db
    from lms.models import User

    boss = db.session.scalar(db.select(User).filter_by(email="boss@example.test"))
    visible = list(db.session.scalars(permissions.visible_teams(boss)))
    assert visible == [own]
    assert permissions.can_view_team(boss, own)
    assert not permissions.can_view_team(boss, other)


def test_every_registered_view_declares_its_access(app):
    for endpoint, view in app.view_functions.items():
        if endpoint == "static":
            continue
        assert getattr(view, permissions.ACCESS_ATTRIBUTE, None), endpoint


def test_an_app_with_an_undeclared_view_refuses_to_start(app_config):
    careless = Blueprint("careless", __name__)

    @careless.get("/careless")
    def open_view() -> str:
        return "secret"

    app = create_app(app_config)
    app.register_blueprint(careless)
    with pytest.raises(RuntimeError, match="careless.open_view"):
        permissions.check_every_view_declares_access(app)


def test_hr_of_a_region_who_also_manages_a_team_elsewhere_sees_both(app, make, two_teams):
    from lms.extensions import db

    own, other = two_teams
    person = make.user(
        "both@example.test", roles=(Role.HR, Role.MANAGER), hr_region=own.centre.region,
        manages=(other,),
    )  # fmt: skip
    listed = list(db.session.scalars(permissions.visible_teams(person)))
    assert listed == [t for t in (own, other) if permissions.can_view_team(person, t)]
    assert {t.id for t in listed} == {own.id, other.id}


def test_granting_a_held_role_again_keeps_the_hr_region(app, make, two_teams):
    own, _ = two_teams
    person = make.user("hr@example.test", roles=(Role.HR,), hr_region=own.centre.region)
    person.grant(Role.HR)
    assert permissions.hr_region_id(person) == own.centre.region_id


def test_regional_hr_home_counts_only_their_region(auth, client, make, two_teams):
    own, _ = two_teams
    make.user("hr@example.test", roles=(Role.HR,), hr_region=own.centre.region)
    auth.login("hr@example.test")
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    stats = dict(re.findall(r"<dt>([^<]+)</dt><dd>(\d+)</dd>", page))
    assert stats["Regions"] == "1"
    assert stats["Teams"] == "1"
    assert stats["Active people"] == "2"
