"""Administering the organisation: regions, centres and teams (adding, renaming), moving a team
to another centre, handing a leaving manager's teams over; who may do which, and the tree's
bounded number of statements."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from lms.extensions import db
from lms.models import AuditEvent, Centre, Region, Role, Team, User
from lms.services import organisation
from tests.conftest import Auth, Factory, csrf_token

pytestmark = pytest.mark.usefixtures("cheap_passwords")  # a dozen people per test


@pytest.fixture
def client(app) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # the messages checked are English
    return client


@pytest.fixture
def org(make: Factory) -> dict[str, Any]:
    """Two regions: North (centres Harbour with Alpha and Beta, and Hill with Gamma) and South
    (Delta, centre Bay); a manager of Alpha and Delta, people in each team."""
    alpha = make.team("Alpha", "Harbour", "North")
    beta = make.team("Beta", "Harbour", "North")
    gamma = make.team("Gamma", "Hill", "North")
    delta = make.team("Delta", "Bay", "South")
    north = alpha.centre.region
    return {
        "alpha": alpha,
        "beta": beta,
        "gamma": gamma,
        "delta": delta,
        "north": north,
        "south": delta.centre.region,
        "admin": make.user("admin@example.test", roles=(Role.ADMIN,)),
        "hr": make.user("hr@example.test", roles=(Role.HR,)),
        "north_hr": make.user("north-hr@example.test", roles=(Role.HR,), hr_region=north),
        "boss": make.user("boss@example.test", roles=(Role.MANAGER,), manages=(alpha, delta)),
        "other_boss": make.user("other@example.test", roles=(Role.MANAGER,), manages=(beta,)),
        "anna": make.user("anna@example.test", team=alpha),
        "boris": make.user("boris@example.test", team=alpha),
        "gone": make.user("gone@example.test", team=alpha, active=False),
        "dora": make.user("dora@example.test", team=delta),
    }


def post(
    client: FlaskClient, path: str, data: dict[str, Any], csrf: bool = True, csrf_page: str = "/me"
) -> Any:
    if csrf:
        data = {**data, "csrf_token": csrf_token(client, csrf_page)}
    return client.post(path, data=data)


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def entries(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def names(model: type[Region] | type[Centre] | type[Team]) -> list[str]:
    db.session.expire_all()
    return sorted(db.session.scalars(select(model.name)))


# --- adding and renaming ----------------------------------------------------------------------


def test_admins_add_a_region_a_centre_and_a_team(client, auth: Auth, org):
    auth.login("admin@example.test")

    response = post(client, "/admin/org/regions", {"region-name": "  East \t  Coast "})
    region = db.session.scalar(select(Region).where(Region.name == "East Coast"))
    assert region is not None
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/org/regions/{region.id}"
    assert "The region “East Coast” is added." in text(client.get(response.headers["Location"]))

    response = post(client, f"/admin/org/regions/{region.id}/centres", {"centre-name": "Port"})
    centre = db.session.scalar(select(Centre).where(Centre.name == "Port"))
    assert centre is not None
    assert centre.region_id == region.id
    assert response.headers["Location"] == f"/admin/org/centres/{centre.id}"

    response = post(client, f"/admin/org/centres/{centre.id}/teams", {"team-name": "Desk  One"})
    team = db.session.scalar(select(Team).where(Team.name == "Desk One"))
    assert team is not None
    assert team.centre_id == centre.id
    assert response.status_code == 302

    admin = org["admin"]
    assert [(e.actor_id, e.details) for e in entries("org.region.create")] == [
        (admin.id, {"region_id": region.id, "after": {"name": "East Coast"}})
    ]
    assert [e.details for e in entries("org.centre.create")] == [
        {"centre_id": centre.id, "after": {"name": "Port", "region": "East Coast"}}
    ]
    assert [e.details for e in entries("org.team.create")] == [
        {"team_id": team.id, "after": {"team": "East Coast / Port / Desk One"}}
    ]


def test_admins_rename_a_region_a_centre_and_a_team(client, auth: Auth, org):
    auth.login("admin@example.test")
    north, harbour, alpha = org["north"], org["alpha"].centre, org["alpha"]

    response = post(client, f"/admin/org/regions/{north.id}", {"rename-name": "Far North"})
    assert response.status_code == 302
    assert "The name is now “Far North”." in text(client.get(response.headers["Location"]))
    response = post(client, f"/admin/org/centres/{harbour.id}", {"rename-name": "Old Harbour"})
    assert response.status_code == 302
    response = post(client, f"/admin/org/teams/{alpha.id}", {"rename-name": "Alpha One"})
    assert response.status_code == 302

    assert names(Region) == ["Far North", "South"]
    assert "Old Harbour" in names(Centre)
    assert "Alpha One" in names(Team)
    [region] = entries("org.region.rename")
    assert region.details == {
        "region_id": north.id,
        "before": {"name": "North"},
        "after": {"name": "Far North"},
    }
    [centre] = entries("org.centre.rename")
    assert centre.details["before"] == {"centre": "Far North / Harbour"}
    assert centre.details["after"] == {"centre": "Far North / Old Harbour"}
    [team] = entries("org.team.rename")
    assert team.details["before"] == {"team": "Far North / Old Harbour / Alpha"}
    assert team.details["after"] == {"team": "Far North / Old Harbour / Alpha One"}


def test_a_rename_to_the_same_name_changes_nothing(client, auth: Auth, org):
    auth.login("admin@example.test")
    response = post(client, f"/admin/org/teams/{org['alpha'].id}", {"rename-name": " Alpha "})
    assert response.status_code == 302
    assert "Nothing changed" in text(client.get(response.headers["Location"]))
    assert entries("org.team.rename") == []


def test_a_change_of_case_alone_is_a_rename(client, auth: Auth, org):
    auth.login("admin@example.test")
    response = post(client, f"/admin/org/regions/{org['north'].id}", {"rename-name": "NORTH"})
    assert response.status_code == 302
    assert names(Region) == ["NORTH", "South"]


@pytest.mark.parametrize(
    ("path", "field", "name", "message"),
    [
        ("/admin/org/regions", "region-name", "north", "There is a region named “North” already."),
        (
            "/admin/org/regions/{north}/centres",
            "centre-name",
            "HARBOUR",
            "The region “North” has a centre named “Harbour” already.",
        ),
        (
            "/admin/org/centres/{harbour}/teams",
            "team-name",
            "beta",
            "The centre “Harbour” has a team named “Beta” already.",
        ),
        ("/admin/org/regions/{north}", "rename-name", "SOUTH", "named “South” already."),
        ("/admin/org/centres/{harbour}", "rename-name", "hill", "a centre named “Hill” already."),
        ("/admin/org/teams/{alpha}", "rename-name", "BETA", "a team named “Beta” already."),
    ],
)
def test_a_name_taken_is_refused_naming_the_one_that_exists(
    client, auth: Auth, org, path, field, name, message
):
    auth.login("admin@example.test")
    before = (names(Region), names(Centre), names(Team))
    path = path.format(north=org["north"].id, harbour=org["alpha"].centre_id, alpha=org["alpha"].id)

    response = post(client, path, {field: name})

    assert response.status_code == 400
    assert message in text(response)
    assert (names(Region), names(Centre), names(Team)) == before
    assert (
        db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action.like("org.%")))
        == 0
    )


def test_the_same_names_may_live_in_different_parents(client, auth: Auth, org):
    auth.login("admin@example.test")
    south, bay = org["south"], org["delta"].centre
    assert (
        post(client, f"/admin/org/regions/{south.id}/centres", {"centre-name": "Hill"}).status_code
        == 302
    )
    assert (
        post(client, f"/admin/org/centres/{bay.id}/teams", {"team-name": "Alpha"}).status_code
        == 302
    )
    assert names(Centre).count("Hill") == 2
    assert names(Team).count("Alpha") == 2


@pytest.mark.parametrize(
    ("name", "message"), [("   ", "Enter a name."), ("x" * 201, "Field cannot be longer than 200")]
)
def test_empty_and_overlong_names_are_refused(client, auth: Auth, org, name, message):
    auth.login("admin@example.test")
    response = post(client, "/admin/org/regions", {"region-name": name})
    assert response.status_code == 400
    assert message in text(response)
    assert names(Region) == ["North", "South"]


def test_a_name_saved_at_the_same_moment_elsewhere_is_a_message_not_an_error(
    client, auth: Auth, org, monkeypatch
):
    # The check saw no clash (someone else's insert was not yet committed); the constraint
    # catches it at the flush.
    monkeypatch.setattr(organisation, "_same_name", lambda *args: None)
    auth.login("admin@example.test")

    response = post(client, "/admin/org/regions", {"region-name": "North"})

    assert response.status_code == 400
    assert "Someone else has just saved “North” there." in text(response)
    assert names(Region) == ["North", "South"]
    assert entries("org.region.create") == []


def test_the_service_raises_integrity_error_without_the_check(app, org, monkeypatch):
    """The test above is about the view: make sure the constraint really is what it meets."""
    monkeypatch.setattr(organisation, "_same_name", lambda *args: None)
    with pytest.raises(IntegrityError):
        organisation.create_team(org["admin"], org["alpha"].centre, "Alpha")
    db.session.rollback()


# --- moving a team ----------------------------------------------------------------------------


def test_a_team_moves_with_its_people_and_managers(client, auth: Auth, org):
    auth.login("admin@example.test")
    alpha, bay = org["alpha"], org["delta"].centre

    page = text(client.get(f"/admin/org/teams/{alpha.id}"))
    assert f'<option value="{bay.id}">South / Bay</option>' in page
    assert f'<option value="{alpha.centre_id}">' not in page  # not where it is already

    response = post(client, f"/admin/org/teams/{alpha.id}/move", {"move-centre": str(bay.id)})

    assert response.status_code == 302
    assert "is now in South / Bay" in text(client.get(response.headers["Location"]))
    db.session.expire_all()
    assert alpha.centre_id == bay.id
    assert {p.email for p in alpha.members} == {
        "anna@example.test",
        "boris@example.test",
        "gone@example.test",
    }
    assert all(p.team.centre.region.name == "South" for p in alpha.members)
    assert [m.email for m in alpha.managers] == ["boss@example.test"]
    [move] = entries("org.team.move")
    assert move.actor_id == org["admin"].id
    assert move.details == {
        "team_id": alpha.id,
        "team": "Alpha",
        "people": 2,
        "managers": ["boss@example.test"],
        "before": {"centre": "North / Harbour"},
        "after": {"centre": "South / Bay"},
    }


def test_a_team_does_not_move_into_a_centre_with_a_team_of_the_same_name(
    client, auth: Auth, make, org
):
    make.team("ALPHA", "Bay", "South")
    auth.login("admin@example.test")
    alpha, bay = org["alpha"], org["delta"].centre

    response = post(client, f"/admin/org/teams/{alpha.id}/move", {"move-centre": str(bay.id)})

    assert response.status_code == 400
    assert "The centre “Bay” has a team named “ALPHA” already" in text(response)
    db.session.expire_all()
    assert alpha.centre.name == "Harbour"
    assert entries("org.team.move") == []


@pytest.mark.parametrize("centre", ["", "abc", "999999"])
def test_a_move_needs_a_centre_that_exists(client, auth: Auth, org, centre):
    auth.login("admin@example.test")
    alpha = org["alpha"]
    response = post(client, f"/admin/org/teams/{alpha.id}/move", {"move-centre": centre})
    assert response.status_code == 400
    db.session.expire_all()
    assert alpha.centre.name == "Harbour"


def test_regional_hr_move_teams_only_within_their_region(client, auth: Auth, org):
    auth.login("north-hr@example.test")
    alpha, gamma, bay = org["alpha"], org["gamma"], org["delta"].centre

    page = text(client.get(f"/admin/org/teams/{alpha.id}"))
    assert "North / Hill" in page
    assert "South / Bay" not in page
    refused = post(client, f"/admin/org/teams/{alpha.id}/move", {"move-centre": str(bay.id)})
    assert refused.status_code == 403
    db.session.expire_all()
    assert alpha.centre.name == "Harbour"

    moved = post(client, f"/admin/org/teams/{alpha.id}/move", {"move-centre": str(gamma.centre_id)})
    assert moved.status_code == 302
    db.session.expire_all()
    assert alpha.centre.name == "Hill"
    assert len(entries("org.team.move")) == 1


# --- handing teams over -----------------------------------------------------------------------


def handover(client: FlaskClient, leaving: User, email: str, teams: list[Team]) -> Any:
    return post(
        client,
        f"/admin/org/handover?from={leaving.id}",
        {"to_email": email, "team_ids": [str(team.id) for team in teams]},
    )


def managers_of(team: Team) -> list[str]:
    db.session.expire_all()
    return [m.email for m in db.session.get(Team, team.id).managers]


def test_the_page_lists_leaving_managers_and_preselects_all_their_teams(client, auth: Auth, org):
    auth.login("admin@example.test")
    boss, alpha, delta = org["boss"], org["alpha"], org["delta"]

    chooser = text(client.get("/admin/org/handover"))
    assert "boss@example.test" in chooser
    assert "other@example.test" in chooser
    assert "anna@example.test" not in chooser  # manages no team

    page = text(client.get(f"/admin/org/handover?from={boss.id}"))
    assert f'<option selected value="{boss.id}">' in page
    for number, team in enumerate((alpha, delta)):
        assert (
            f'<input checked id="team_ids-{number}" name="team_ids" required type="checkbox"'
            f' value="{team.id}">'
        ) in page
    assert page.count('type="checkbox"') == 2
    assert "North / Harbour / Alpha" in page
    assert "South / Bay / Delta" in page
    assert page.count("checked") == 2


def test_a_manager_hands_all_their_teams_over(client, auth: Auth, make, org):
    successor = make.user("next@example.test", roles=(Role.MANAGER,))
    auth.login("admin@example.test")
    boss, alpha, delta = org["boss"], org["alpha"], org["delta"]

    response = handover(client, boss, " NEXT@example.test ", [alpha, delta])

    assert response.status_code == 302
    tree = text(client.get(response.headers["Location"]))
    assert "2 teams handed over from Person" in tree
    # Both regions the teams lie in open at once, to show who manages them now.
    assert tree.count('<details class="org-region" open>') == 2
    assert managers_of(alpha) == ["next@example.test"]
    assert managers_of(delta) == ["next@example.test"]
    assert db.session.get(User, boss.id).managed_teams == []
    [entry] = entries("org.handover")
    assert entry.actor_id == org["admin"].id
    assert entry.details == {
        "from": "boss@example.test",
        "to": "next@example.test",
        "from_id": boss.id,
        "to_id": successor.id,
        "teams": ["North / Harbour / Alpha", "South / Bay / Delta"],
        "before": {
            "managers": {
                "North / Harbour / Alpha": ["boss@example.test"],
                "South / Bay / Delta": ["boss@example.test"],
            }
        },
        "after": {
            "managers": {
                "North / Harbour / Alpha": ["next@example.test"],
                "South / Bay / Delta": ["next@example.test"],
            }
        },
    }


def test_some_teams_are_handed_over_and_the_rest_stay(client, auth: Auth, org):
    auth.login("admin@example.test")
    boss, other, alpha, delta = org["boss"], org["other_boss"], org["alpha"], org["delta"]

    response = handover(client, boss, "other@example.test", [alpha])

    assert response.status_code == 302
    assert managers_of(alpha) == ["other@example.test"]
    assert managers_of(delta) == ["boss@example.test"]
    assert sorted(t.name for t in db.session.get(User, other.id).managed_teams) == [
        "Alpha",
        "Beta",
    ]


def test_a_team_already_managed_by_the_successor_is_not_doubled(client, auth: Auth, make, org):
    alpha = org["alpha"]
    org["other_boss"].managed_teams.append(alpha)
    db.session.commit()
    auth.login("admin@example.test")
    assert handover(client, org["boss"], "other@example.test", [alpha]).status_code == 302
    assert managers_of(alpha) == ["other@example.test"]


def test_a_deactivated_manager_can_be_the_one_leaving(client, auth: Auth, org):
    boss = org["boss"]
    boss.active = False
    db.session.commit()
    auth.login("admin@example.test")

    page = text(client.get(f"/admin/org/handover?from={boss.id}"))
    assert "boss@example.test), deactivated" in page
    response = handover(client, boss, "other@example.test", [org["alpha"], org["delta"]])
    assert response.status_code == 302
    assert managers_of(org["alpha"]) == ["other@example.test"]


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("anna@example.test", "does not hold the manager role: an administrator must give it"),
        ("nobody@example.test", "We found no one with the e-mail address “nobody@example.test”"),
        ("deactivated@example.test", "is deactivated: choose someone who works here now."),
        ("boss@example.test", "Choose someone other than the manager who is leaving."),
        ("", "Enter the e-mail of the person taking over."),
    ],
)
def test_the_successor_must_be_another_active_manager(
    client, auth: Auth, make, org, email, message
):
    make.user("deactivated@example.test", roles=(Role.MANAGER,), active=False)
    auth.login("admin@example.test")

    response = handover(client, org["boss"], email, [org["alpha"]])

    assert response.status_code == 400
    assert message in text(response)
    assert managers_of(org["alpha"]) == ["boss@example.test"]
    assert entries("org.handover") == []


def test_at_least_one_team_is_chosen(client, auth: Auth, org):
    auth.login("admin@example.test")
    response = handover(client, org["boss"], "other@example.test", [])
    assert response.status_code == 400
    assert "Choose at least one team." in text(response)


def test_a_team_the_leaving_manager_does_not_manage_is_refused(client, auth: Auth, org):
    auth.login("admin@example.test")
    response = handover(client, org["boss"], "other@example.test", [org["gamma"]])
    assert response.status_code == 400
    assert "Choose teams from the list." in text(response)
    assert managers_of(org["gamma"]) == []


@pytest.mark.parametrize("leaving", ["", "abc", "anna", "999999"])
def test_the_leaving_manager_must_manage_a_team(client, auth: Auth, org, leaving):
    auth.login("admin@example.test")
    value = str(org["anna"].id) if leaving == "anna" else leaving
    assert client.get(f"/admin/org/handover?from={value}").status_code == 400
    response = post(
        client,
        f"/admin/org/handover?from={value}",
        {"to_email": "other@example.test", "team_ids": [str(org["alpha"].id)]},
    )
    assert response.status_code == 400
    assert managers_of(org["alpha"]) == ["boss@example.test"]


def test_regional_hr_hand_over_only_the_teams_of_their_region(client, auth: Auth, make, org):
    make.user("next@example.test", roles=(Role.MANAGER,), team=org["gamma"])
    auth.login("north-hr@example.test")
    boss, alpha, delta = org["boss"], org["alpha"], org["delta"]

    page = text(client.get(f"/admin/org/handover?from={boss.id}"))
    assert "North / Harbour / Alpha" in page
    assert "Delta" not in page

    refused = handover(client, boss, "next@example.test", [alpha, delta])
    assert refused.status_code == 403
    assert managers_of(alpha) == ["boss@example.test"]

    response = handover(client, boss, "next@example.test", [alpha])
    assert response.status_code == 302
    assert managers_of(alpha) == ["next@example.test"]
    assert managers_of(delta) == ["boss@example.test"]  # outside the region: kept


def test_regional_hr_find_no_successor_outside_their_region(client, auth: Auth, make, org):
    make.user("south-boss@example.test", roles=(Role.MANAGER,), team=org["delta"])
    auth.login("north-hr@example.test")
    response = handover(client, org["boss"], "south-boss@example.test", [org["alpha"]])
    assert response.status_code == 400
    assert "We found no one with the e-mail address" in text(response)
    assert managers_of(org["alpha"]) == ["boss@example.test"]


def test_regional_hr_see_no_leaving_manager_of_other_regions(client, auth: Auth, make, org):
    south_boss = make.user(
        "south-boss@example.test", roles=(Role.MANAGER,), manages=(org["delta"],)
    )
    auth.login("north-hr@example.test")
    page = text(client.get("/admin/org/handover"))
    assert "boss@example.test" in page
    assert "south-boss@example.test" not in page
    assert client.get(f"/admin/org/handover?from={south_boss.id}").status_code == 400


# --- who may do what --------------------------------------------------------------------------


def test_the_tree_shows_teams_people_and_managers(client, auth: Auth, org):
    auth.login("admin@example.test")
    page = text(client.get("/admin/org"))
    assert "2 regions" in page
    assert "North" in page
    assert "South" in page
    assert f'href="/admin/org/teams/{org["alpha"].id}">Alpha</a></th><td>2</td>' in page
    assert "Person 4" in page  # boss's name, as the factory made it
    assert "Add a region" in page


def test_regional_hr_see_and_change_only_their_region(client, auth: Auth, org):
    auth.login("north-hr@example.test")
    north, south, delta = org["north"], org["south"], org["delta"]

    page = text(client.get("/admin/org"))
    assert "1 region" in page
    assert "Harbour" in page
    assert "Bay" not in page
    assert "South" not in page
    assert "Add a region" not in page
    assert client.get(f"/admin/org/regions/{north.id}").status_code == 200
    assert client.get(f"/admin/org/centres/{org['alpha'].centre_id}").status_code == 200
    assert client.get(f"/admin/org/teams/{org['alpha'].id}").status_code == 200
    for path in (
        f"/admin/org/regions/{south.id}",
        f"/admin/org/centres/{delta.centre_id}",
        f"/admin/org/teams/{delta.id}",
    ):
        assert client.get(path).status_code == 403, path

    refused = [
        ("/admin/org/regions", {"region-name": "West"}),
        (f"/admin/org/regions/{south.id}", {"rename-name": "Deep South"}),
        (f"/admin/org/regions/{south.id}/centres", {"centre-name": "Cape"}),
        (f"/admin/org/centres/{delta.centre_id}", {"rename-name": "Gulf"}),
        (f"/admin/org/centres/{delta.centre_id}/teams", {"team-name": "Omega"}),
        (f"/admin/org/teams/{delta.id}", {"rename-name": "Epsilon"}),
        (f"/admin/org/teams/{delta.id}/move", {"move-centre": str(org["alpha"].centre_id)}),
    ]
    for path, data in refused:
        assert post(client, path, data).status_code == 403, path
    assert names(Region) == ["North", "South"]
    assert names(Centre) == ["Bay", "Harbour", "Hill"]
    assert names(Team) == ["Alpha", "Beta", "Delta", "Gamma"]
    assert entries("org.region.create") == []

    # Within their region they add and rename.
    assert (
        post(client, f"/admin/org/regions/{north.id}/centres", {"centre-name": "Cape"}).status_code
        == 302
    )
    assert (
        post(client, f"/admin/org/teams/{org['alpha'].id}", {"rename-name": "A"}).status_code == 302
    )
    assert "Cape" in names(Centre)
    assert "A" in names(Team)


def test_hr_for_everything_add_regions(client, auth: Auth, org):
    auth.login("hr@example.test")
    assert "Add a region" in text(client.get("/admin/org"))
    assert post(client, "/admin/org/regions", {"region-name": "West"}).status_code == 302
    assert names(Region) == ["North", "South", "West"]


def org_paths(org: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every page and form of the organisation: (method, path, data)."""
    north, harbour, alpha = org["north"].id, org["alpha"].centre_id, org["alpha"].id
    return [
        ("GET", "/admin/org", {}),
        ("GET", f"/admin/org/regions/{north}", {}),
        ("GET", f"/admin/org/centres/{harbour}", {}),
        ("GET", f"/admin/org/teams/{alpha}", {}),
        ("GET", f"/admin/org/handover?from={org['boss'].id}", {}),
        ("POST", "/admin/org/regions", {"region-name": "West"}),
        ("POST", f"/admin/org/regions/{north}", {"rename-name": "Up"}),
        ("POST", f"/admin/org/regions/{north}/centres", {"centre-name": "Cape"}),
        ("POST", f"/admin/org/centres/{harbour}", {"rename-name": "Dock"}),
        ("POST", f"/admin/org/centres/{harbour}/teams", {"team-name": "Omega"}),
        ("POST", f"/admin/org/teams/{alpha}", {"rename-name": "Epsilon"}),
        ("POST", f"/admin/org/teams/{alpha}/move", {"move-centre": str(org["gamma"].centre_id)}),
        (
            "POST",
            f"/admin/org/handover?from={org['boss'].id}",
            {"to_email": "other@example.test", "team_ids": [str(alpha)]},
        ),
    ]


@pytest.mark.parametrize("email", ["anna@example.test", "boss@example.test"])
def test_employees_and_managers_may_not(client, auth: Auth, org, email):
    auth.login(email)
    for method, path, data in org_paths(org):
        if method == "GET":
            assert client.get(path).status_code == 403, path
        else:
            assert post(client, path, data).status_code == 403, path
    assert names(Region) == ["North", "South"]
    assert names(Team) == ["Alpha", "Beta", "Delta", "Gamma"]
    assert managers_of(org["alpha"]) == ["boss@example.test"]


def test_anonymous_people_are_sent_to_sign_in(client, org):
    for method, path, data in org_paths(org):
        if method == "GET":
            response = client.get(path)
        else:
            response = post(client, path, data, csrf_page="/login")
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login"), path


def test_every_form_needs_its_csrf_token(client, auth: Auth, org):
    auth.login("admin@example.test")
    for method, path, data in org_paths(org):
        if method == "POST":
            assert post(client, path, data, csrf=False).status_code == 400, path
    assert names(Region) == ["North", "South"]
    assert names(Centre) == ["Bay", "Harbour", "Hill"]
    assert names(Team) == ["Alpha", "Beta", "Delta", "Gamma"]
    assert managers_of(org["alpha"]) == ["boss@example.test"]
    assert (
        db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action.like("org.%")))
        == 0
    )


@pytest.mark.parametrize(
    "path",
    ["/admin/org/regions/999999", "/admin/org/centres/999999", "/admin/org/teams/999999"],
)
def test_what_does_not_exist_is_a_404(client, auth: Auth, org, path):
    auth.login("admin@example.test")
    assert client.get(path).status_code == 404
    assert post(client, path, {"rename-name": "X"}).status_code == 404


# --- the tree's statements ----------------------------------------------------------------------


@contextmanager
def statements() -> Iterator[list[str]]:
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_the_tree_sends_as_many_statements_for_many_teams_as_for_few(client, auth: Auth, make, org):
    auth.login("admin@example.test")

    def count() -> int:
        client.get("/admin/org")  # warm-up
        with statements() as sent:
            assert client.get("/admin/org").status_code == 200
        return len(sent)

    few = count()
    for number in range(12):
        team = make.team(f"Team {number}", f"Centre {number % 4}", f"Region {number % 3}")
        make.user(team=team)
        make.user(roles=(Role.MANAGER,), manages=(team,))
    many = count()
    assert many == few
    assert few <= 8
