"""The people pages of the admin area (/admin, /admin/people/...), and choosing a password
with an activation link (/activate/<token>).

The organisation: two regions, North (teams Alpha and Beta of the centre Harbour) and South
(team Gamma of the centre Dunes). An administrator, an HR person for North only, one for
everywhere, Alpha's manager, an employee of Alpha and one of Gamma.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from flask_babel import force_locale
from sqlalchemy import func, select

from lms.extensions import db
from lms.models import ActivationLink, AuditEvent, Role, User, UserSession, utcnow
from lms.services import accounts, people
from lms.services.people import PersonValues
from tests.conftest import PASSWORD, Auth, Factory, csrf_token
from tests.test_query_counts import statements

pytestmark = pytest.mark.usefixtures("cheap_passwords")

NEW_PASSWORD = "a quiet harbour at dawn"
LINK = re.compile(
    r'<code id="activation-link" class="break-all">(http://localhost/activate/[^<]+)</code>'
)
TEMPORARY = re.compile(r'<code id="temporary-password"[^>]*>([^<]+)</code>')


@pytest.fixture
def client(app) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


class Org:
    def __init__(self, make: Factory) -> None:
        self.alpha = make.team("Alpha", "Harbour", "North")
        self.beta = make.team("Beta", "Harbour", "North")
        self.gamma = make.team("Gamma", "Dunes", "South")
        self.north = self.alpha.centre.region
        self.south = self.gamma.centre.region
        self.admin = make.user("admin@example.test", roles=(Role.ADMIN,), team=self.alpha)
        self.hr = make.user(
            "hr.north@example.test", roles=(Role.HR,), team=self.alpha, hr_region=self.north
        )
        self.hr_all = make.user("hr.all@example.test", roles=(Role.HR,))
        self.manager = make.user(
            "manager@example.test", roles=(Role.MANAGER,), team=self.alpha, manages=(self.alpha,)
        )
        self.employee = make.user("anna@example.test", team=self.alpha)
        self.employee.full_name = "Anna Petrova"
        self.employee.employee_number = "123"
        self.southerner = make.user("sam@example.test", team=self.gamma)
        self.southerner.full_name = "Sam South"
        db.session.commit()


@pytest.fixture
def org(app, make) -> Org:
    return Org(make)


def post(client: FlaskClient, path: str, data: dict[str, Any] | None = None, *, token_from: str = "/me"):  # noqa: ANN201, S107  # fmt: skip
    return client.post(path, data={"csrf_token": csrf_token(client, token_from), **(data or {})})


def form_of(person: User, **changes: Any) -> dict[str, Any]:
    """What the edit form sends for ``person`` as they are, with ``changes``."""
    data: dict[str, Any] = {
        "full_name": person.full_name,
        "email": person.email,
        "employee_number": person.employee_number or "",
        "team_id": str(person.team_id or ""),
        "roles": [role.value for role in person.role_names],
        "hr_region_id": "",
        "managed_team_ids": [str(team.id) for team in person.managed_teams],
    }
    return data | changes


def actions(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def user(email: str) -> User:
    db.session.expire_all()
    found = db.session.scalar(select(User).where(func.lower(User.email) == email.lower()))
    assert found is not None
    return found


def html(response: Any) -> str:
    return response.get_data(as_text=True)


# --- the list ----------------------------------------------------------------------------------


def test_admin_sees_everyone_with_their_team_roles_status_and_access(client, auth, org):
    people.create_person(None, PersonValues("Nina New", "nina@example.test", None, org.beta.id))
    db.session.commit()
    auth.login("admin@example.test")

    page = html(client.get("/admin"))

    assert "7 people found" in page
    assert "Add a person" in page
    for person in (org.employee, org.southerner, org.hr_all):
        assert f'<a href="/admin/people/{person.id}">{person.full_name}</a>' in page
    assert "North / Harbour / Alpha" in page
    assert "South / Dunes / Gamma" in page
    row = page.split("Nina New", 1)[1].split("</tr>", 1)[0]
    assert "No access" in row
    assert "Active" in row


def test_regional_hr_sees_only_their_region(client, auth, org):
    auth.login("hr.north@example.test")

    page = html(client.get("/admin"))

    assert "Anna Petrova" in page
    assert "Sam South" not in page
    assert "hr.all@example.test" not in page  # no team: outside every region
    # The admin of North is listed, but their account is not HR's to edit: no link.
    assert f'href="/admin/people/{org.admin.id}"' not in page
    assert "admin@example.test" in page
    # Only their region is offered, and its centre is listed at once.
    assert ">South<" not in page
    assert ">Harbour<" in page


def test_search_and_filters(client, auth, org):
    auth.login("admin@example.test")

    def names(query: str) -> set[str]:
        response = client.get("/admin?" + query)
        assert response.status_code == 200, html(response)
        found = re.findall(r'<th scope="row">(?:<a href="[^"]+">)?([^<]+)<', html(response))
        return set(found)

    assert names("q=petrova") == {"Anna Petrova"}
    assert names("q=123") == {"Anna Petrova"}
    assert names("q=SAM%40example") == {"Sam South"}
    assert names(f"region={org.south.id}") == {"Sam South"}
    assert names(f"region={org.north.id}&centre={org.alpha.centre.id}&team={org.beta.id}") == set()
    assert "Sam South" not in names(f"centre={org.alpha.centre.id}")
    assert names(f"team={org.gamma.id}") == {"Sam South"}
    assert names("role=hr") == {"Person 2", "Person 3"}
    assert names("access=password") >= {"Anna Petrova", "Sam South"}
    assert names("access=none") == set()
    people.set_active(None, org.southerner, False)
    db.session.commit()
    assert "Sam South" not in names("")
    assert names("active=deactivated") == {"Sam South"}
    assert "Sam South" in names("active=all")
    # A centre outside the chosen region is dropped, not an error.
    assert names(f"region={org.north.id}&centre={org.gamma.centre.id}&active=all") >= {
        "Anna Petrova"
    }


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("role=king", "Choose a role from the list."),
        ("active=maybe", "Choose a status from the list."),
        ("access=some", "Choose an access state from the list."),
        ("region=abc", "Invalid Choice: could not coerce."),
        ("region=999999", "Choose a region from the list."),
        ("team=999999", "Choose a team from the list."),
        ("q=" + "x" * 101, "Field cannot be longer than 100 characters."),
    ],
)
def test_invalid_filters_are_a_400_with_the_reason(client, auth, org, query, reason):
    auth.login("admin@example.test")

    response = client.get("/admin?" + query)

    assert response.status_code == 400
    assert reason in html(response)
    assert "people found" not in html(response)


def test_regional_hr_cannot_filter_on_another_region(client, auth, org):
    auth.login("hr.north@example.test")

    for query in (
        f"region={org.south.id}",
        f"centre={org.gamma.centre.id}",
        f"team={org.gamma.id}",
    ):
        response = client.get("/admin?" + query)
        assert response.status_code == 400, query
        assert "Sam South" not in html(response)


def test_pages_of_fifty(client, auth, org):
    for number in range(120):
        db.session.add(
            User(email=f"p{number:03}@example.test", full_name=f"Zed {number:03}", team=org.beta)
        )
    db.session.commit()
    auth.login("admin@example.test")

    first = html(client.get(f"/admin?team={org.beta.id}"))
    last = html(client.get(f"/admin?team={org.beta.id}&page=3"))

    assert "120 people found" in first
    assert "Page 1 of 3" in first
    assert f'href="/admin?team={org.beta.id}&amp;page=2" rel="next"' in first
    assert "Previous page" not in first
    assert "Zed 049" in first
    assert "Zed 050" not in first
    assert "Page 3 of 3" in last
    assert "Zed 119" in last
    assert "Zed 099" not in last
    assert f'href="/admin?team={org.beta.id}&amp;page=2" rel="prev"' in last
    assert "Next page" not in last


def test_the_list_sends_as_many_statements_for_fifty_people_as_for_a_few(client, auth, org, make):
    waiting = people.create_person(
        None, PersonValues("Wes Waiting", "wes@example.test", None, None)
    )
    accounts.issue_activation_link(waiting, None)
    db.session.commit()
    auth.login("admin@example.test")

    def count() -> list[str]:
        client.get("/admin?active=all")
        with statements() as sent:
            assert client.get("/admin?active=all").status_code == 200
        return sent

    few = count()
    teams = [make.team(f"Team {n}", f"Centre {n % 7}", f"Region {n % 3}") for n in range(15)]
    for number in range(60):
        person = User(
            email=f"many{number}@example.test",
            full_name=f"Many {number:02}",
            team=teams[number % 15],
            active=number % 5 != 0,
        )
        person.grant(Role.EMPLOYEE)
        if number % 3 == 0:
            person.grant(Role.MANAGER)
            person.managed_teams.append(teams[number % 15])
        if number % 2:
            person.set_password(PASSWORD)
        db.session.add(person)
    db.session.commit()
    for person in db.session.scalars(select(User).where(User.password_hash.is_(None))).all()[:10]:
        accounts.issue_activation_link(person, None)
    db.session.commit()
    many = count()

    assert len(many) == len(few), "\n\n".join(many)
    assert len(few) <= 12, "\n\n".join(few)


# --- adding and editing ----------------------------------------------------------------------


def test_an_admin_adds_a_person_with_roles(client, auth, org):
    auth.login("admin@example.test")
    page = html(client.get("/admin/people/new"))
    assert "Region / Centre / Team" in page
    assert '<optgroup label="Harbour, North">' in page
    assert ">Beta<" in page
    assert ">No team<" in page
    assert 'name="roles"' in page

    response = post(
        client,
        "/admin/people/new",
        {
            "full_name": "  Boris   Bauer ",
            "email": "Boris@Example.test",
            "employee_number": "B-7",
            "team_id": str(org.beta.id),
            "roles": ["employee", "manager", "hr"],
            "hr_region_id": str(org.south.id),
            "managed_team_ids": [str(org.beta.id)],
        },
        token_from="/admin/people/new",
    )

    boris = user("boris@example.test")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/people/{boris.id}"
    assert (boris.full_name, boris.employee_number, boris.team_id) == (
        "Boris Bauer",
        "B-7",
        org.beta.id,
    )
    assert boris.role_names == {Role.EMPLOYEE, Role.MANAGER, Role.HR}
    assert [a.region_id for a in boris.roles if a.role == Role.HR] == [org.south.id]
    assert [team.id for team in boris.managed_teams] == [org.beta.id]
    assert boris.password_hash is None
    [event] = actions("people.create")
    assert event.actor_id == org.admin.id
    assert event.details["after"]["team"] == "North / Harbour / Beta"
    page = html(client.get(response.headers["Location"]))
    assert "Boris Bauer was added. Give them access below." in page
    assert "Create an activation link" in page
    assert "Give a temporary password" in page
    assert "No access yet" in page


def test_hr_adds_a_person_without_role_fields(client, auth, org):
    auth.login("hr.north@example.test")
    page = html(client.get("/admin/people/new"))
    assert 'name="roles"' not in page
    assert 'name="managed_team_ids"' not in page
    assert "South / Dunes / Gamma" not in page
    assert ">No team<" not in page

    response = post(
        client,
        "/admin/people/new",
        {
            "full_name": "Hanna Hill",
            "email": "hanna@example.test",
            "team_id": str(org.beta.id),
            "roles": ["admin"],  # not offered: ignored
            "managed_team_ids": [str(org.beta.id)],
        },
        token_from="/admin/people/new",
    )

    assert response.status_code == 302
    hanna = user("hanna@example.test")
    assert hanna.role_names == {Role.EMPLOYEE}
    assert hanna.managed_teams == []


@pytest.mark.parametrize(
    ("team", "message"),
    [("gamma", "Choose a team of your region."), (None, "Choose a team of your region.")],
)
def test_regional_hr_cannot_place_someone_outside_their_region(client, auth, org, team, message):
    auth.login("hr.north@example.test")
    before = db.session.scalar(select(func.count(User.id)))

    created = post(
        client,
        "/admin/people/new",
        {
            "full_name": "Otto Out",
            "email": "otto@example.test",
            "team_id": str(org.gamma.id) if team else "",
        },
        token_from="/admin/people/new",
    )
    moved = post(
        client,
        f"/admin/people/{org.employee.id}",
        form_of(org.employee, team_id=str(org.gamma.id) if team else ""),
        token_from="/admin/people/new",
    )

    for response in (created, moved):
        assert response.status_code == 400
        assert message in html(response)
        assert 'aria-invalid="true"' in html(response)
    assert db.session.scalar(select(func.count(User.id))) == before
    assert user("anna@example.test").team_id == org.alpha.id


def test_edit_page_is_prefilled_and_saves_changes_with_audit(client, auth, org):
    auth.login("admin@example.test")
    page = html(client.get(f"/admin/people/{org.employee.id}"))
    assert 'value="Anna Petrova"' in page
    assert 'value="123"' in page
    assert '<optgroup label="Harbour, North">' in page
    assert f'<option selected value="{org.alpha.id}">Alpha</option>' in page
    assert "Has a password" in page
    assert "Last sign-in" in page
    assert "never" in page
    assert "Added" in page

    response = post(
        client,
        f"/admin/people/{org.employee.id}",
        form_of(org.employee, full_name="Anna Orlova", team_id=str(org.beta.id)),
    )

    assert response.status_code == 302
    anna = user("anna@example.test")
    assert (anna.full_name, anna.team_id) == ("Anna Orlova", org.beta.id)
    [event] = actions("people.update")
    assert event.actor_id == org.admin.id
    assert event.details["before"] == {
        "full_name": "Anna Petrova",
        "team": "North / Harbour / Alpha",
    }
    assert event.details["after"] == {"full_name": "Anna Orlova", "team": "North / Harbour / Beta"}
    assert "The changes to Anna Orlova are saved." in html(client.get(response.headers["Location"]))
    # The same again changes nothing and writes nothing.
    again = post(client, f"/admin/people/{anna.id}", form_of(anna))
    assert again.status_code == 302
    assert len(actions("people.update")) == 1
    assert "Nothing was changed." in html(client.get(again.headers["Location"]))


def test_uniqueness_messages_name_the_other_person(client, auth, org):
    auth.login("admin@example.test")

    response = post(
        client,
        f"/admin/people/{org.southerner.id}",
        form_of(org.southerner, email="ANNA@example.test", employee_number="123"),
    )

    assert response.status_code == 400
    page = html(response)
    assert "This e-mail address already belongs to Anna Petrova (employee number 123)." in page
    assert "This employee number already belongs to Anna Petrova (anna@example.test)." in page
    assert 'id="email-error"' in page
    assert 'id="employee_number-error"' in page
    sam = user("sam@example.test")
    assert sam.employee_number is None
    assert actions("people.update") == []


def test_required_fields_and_a_bad_email_are_400(client, auth, org):
    auth.login("admin@example.test")

    response = post(
        client,
        "/admin/people/new",
        {"full_name": " ", "email": "not-an-address", "team_id": ""},
        token_from="/admin/people/new",
    )

    assert response.status_code == 400
    assert "Enter the person&#39;s full name." in html(response)
    assert "This is not a valid e-mail address." in html(response)


def test_an_admin_changes_roles_with_audit(client, auth, org):
    auth.login("admin@example.test")

    response = post(
        client,
        f"/admin/people/{org.employee.id}",
        form_of(org.employee, roles=["employee", "hr"], hr_region_id=str(org.north.id)),
    )

    assert response.status_code == 302
    anna = user("anna@example.test")
    assert anna.role_names == {Role.EMPLOYEE, Role.HR}
    [event] = actions("roles.change")
    assert event.details["before"] == {"roles": ["employee"], "hr_region": None}
    assert event.details["after"] == {"roles": ["employee", "hr"], "hr_region": "North"}


def test_hr_posting_role_fields_changes_nothing(client, auth, org):
    auth.login("hr.north@example.test")
    page = html(client.get(f"/admin/people/{org.employee.id}"))
    assert 'name="roles"' not in page

    response = post(
        client,
        f"/admin/people/{org.employee.id}",
        form_of(
            org.employee,
            roles=["employee", "admin", "hr"],
            hr_region_id="",
            managed_team_ids=[str(org.alpha.id)],
        ),
    )

    assert response.status_code == 302
    anna = user("anna@example.test")
    assert anna.role_names == {Role.EMPLOYEE}
    assert anna.managed_teams == []
    assert actions("roles.change") == []


def test_an_admin_cannot_take_away_their_own_admin_role(client, auth, org):
    auth.login("admin@example.test")

    response = post(client, f"/admin/people/{org.admin.id}", form_of(org.admin, roles=["employee"]))

    assert response.status_code == 400
    assert "You cannot take away your own administrator role." in html(response)
    assert user("admin@example.test").role_names == {Role.ADMIN}


def test_the_last_admin_stays_one(client, auth, org, make):
    second = make.user("second.admin@example.test", roles=(Role.ADMIN,))
    auth.login("second.admin@example.test")
    # The first admin leaves. The second, now the last one, cannot be taken away by anyone
    # (through the pages only they could try, and the rule for oneself answers first): the
    # service, with nobody signed in as on the command line, refuses.
    people.set_active(second, org.admin, False)
    db.session.commit()
    with force_locale("en"), pytest.raises(people.PersonRefused, match="last administrator"):
        people.update_person(
            None,
            second,
            PersonValues(second.full_name, second.email, None, None, roles=frozenset({Role.HR})),
        )
    db.session.rollback()
    with force_locale("en"), pytest.raises(people.PersonRefused, match="last administrator"):
        people.set_active(None, second, False)
    db.session.rollback()

    # Through the pages: the second admin reactivates the first; with two of them, one
    # deactivates the other and takes away their role, and the one left stays an admin.
    assert post(client, f"/admin/people/{org.admin.id}/reactivate").status_code == 302
    auth.logout()
    auth.login("admin@example.test")
    assert post(client, f"/admin/people/{second.id}/deactivate").status_code == 302
    assert not user("second.admin@example.test").active
    demoted = post(client, f"/admin/people/{second.id}", form_of(second, roles=["employee"]))
    assert demoted.status_code == 302  # a deactivated admin is no longer needed as one
    assert user("second.admin@example.test").role_names == {Role.EMPLOYEE}
    kept = post(client, f"/admin/people/{org.admin.id}", form_of(org.admin, roles=["employee"]))
    assert kept.status_code == 400
    assert user("admin@example.test").role_names == {Role.ADMIN}
    assert len(actions("roles.change")) == 1


def test_an_admin_cannot_deactivate_themselves(client, auth, org):
    auth.login("admin@example.test")

    response = post(client, f"/admin/people/{org.admin.id}/deactivate")

    assert response.status_code == 302
    assert "You cannot deactivate yourself." in html(client.get(response.headers["Location"]))
    assert user("admin@example.test").active
    assert actions("people.deactivate") == []


# --- who may open what -------------------------------------------------------------------------


def test_regional_hr_gets_403_outside_their_region_and_404_for_nobody(client, auth, org):
    auth.login("hr.north@example.test")

    assert client.get(f"/admin/people/{org.southerner.id}").status_code == 403
    assert client.get(f"/admin/people/{org.hr_all.id}").status_code == 403  # no team
    assert client.get(f"/admin/people/{org.admin.id}").status_code == 403  # an admin
    assert client.get("/admin/people/999999").status_code == 404
    assert client.get(f"/admin/people/{org.employee.id}").status_code == 200
    for path in ("", "/deactivate", "/link", "/temporary-password"):
        response = post(
            client,
            f"/admin/people/{org.southerner.id}{path}",
            form_of(org.southerner, full_name="X"),
        )
        assert response.status_code == 403, path
    sam = user("sam@example.test")
    assert (sam.full_name, sam.active, sam.password_hash is not None) == ("Sam South", True, True)
    assert db.session.scalar(select(func.count(ActivationLink.id))) == 0


def test_national_hr_edits_anyone_but_admins(client, auth, org):
    auth.login("hr.all@example.test")

    assert client.get(f"/admin/people/{org.southerner.id}").status_code == 200
    assert client.get(f"/admin/people/{org.admin.id}").status_code == 403
    assert ">No team<" in html(client.get("/admin/people/new"))


ADMIN_PAGES = [
    ("get", "/admin"),
    ("get", "/admin/people/new"),
    ("post", "/admin/people/new"),
    ("get", "/admin/people/{id}"),
    ("post", "/admin/people/{id}"),
    ("post", "/admin/people/{id}/deactivate"),
    ("post", "/admin/people/{id}/reactivate"),
    ("post", "/admin/people/{id}/link"),
    ("post", "/admin/people/{id}/temporary-password"),
    ("post", "/admin/people/links"),
]


@pytest.mark.parametrize("who", ["anna@example.test", "manager@example.test", None])
@pytest.mark.parametrize(("method", "path"), ADMIN_PAGES)
def test_employees_managers_and_anonymous_people_are_kept_out(client, auth, org, who, method, path):
    if who is not None:
        auth.login(who)
    token = csrf_token(client, "/me" if who else "/login")
    path = path.format(id=org.southerner.id)

    if method == "get":
        response = client.get(path)
    else:
        response = client.post(
            path, data={"csrf_token": token, **form_of(org.southerner, full_name="X")}
        )

    assert response.status_code == (403 if who else 302)
    if who is None:
        assert response.headers["Location"].startswith("/login")
    sam = user("sam@example.test")
    assert (sam.full_name, sam.active) == ("Sam South", True)
    assert db.session.scalar(select(func.count(User.id))) == 6
    assert db.session.scalar(select(func.count(ActivationLink.id))) == 0


@pytest.mark.parametrize(
    "path",
    [
        "/admin/people/new",
        "/admin/people/{id}",
        "/admin/people/{id}/deactivate",
        "/admin/people/{id}/reactivate",
        "/admin/people/{id}/link",
        "/admin/people/{id}/temporary-password",
        "/admin/people/links",
    ],
)
def test_a_post_without_the_csrf_token_is_refused(client, auth, org, path):
    auth.login("admin@example.test")
    people.set_active(None, org.southerner, False)
    db.session.commit()

    response = client.post(
        path.format(id=org.employee.id),
        data={"full_name": "X", "email": "x@example.test", "team_id": ""},
    )

    assert response.status_code == 400
    anna = user("anna@example.test")
    assert (anna.full_name, anna.active) == ("Anna Petrova", True)
    assert user("sam@example.test").active is False
    assert db.session.scalar(select(func.count(User.id))) == 6
    assert db.session.scalar(select(func.count(ActivationLink.id))) == 0


# --- deactivation --------------------------------------------------------------------------------


def test_deactivate_and_reactivate_through_the_pages(client, auth, org, published):
    manager = Auth(client.application.test_client())
    manager.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    manager.login("manager@example.test")
    assert "Anna Petrova" in html(manager.client.get("/team"))
    auth.login("admin@example.test")

    response = post(client, f"/admin/people/{org.employee.id}/deactivate")

    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/people/{org.employee.id}"
    page = html(client.get(response.headers["Location"]))
    assert "Anna Petrova is deactivated: they can no longer sign in." in page
    assert "Reactivate Anna Petrova" in page
    assert not user("anna@example.test").active
    [event] = actions("people.deactivate")
    assert (event.details["before"], event.details["after"]) == (
        {"active": True},
        {"active": False},
    )
    # She cannot sign in, leaves the team page, and is flagged in the reports.
    anna = Auth(client.application.test_client())
    assert anna.login("anna@example.test").status_code == 403
    assert "Anna Petrova" not in html(manager.client.get("/team"))
    hr = Auth(client.application.test_client())
    hr.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    hr.login("hr.north@example.test")
    assert "Anna Petrova" not in html(hr.client.get("/hr"))
    flagged = html(hr.client.get("/hr?inactive=1"))
    assert "Anna Petrova" in flagged
    assert "(deactivated)" in flagged
    # The list shows her among the deactivated.
    assert "Anna Petrova" not in html(client.get("/admin"))
    assert "Anna Petrova" in html(client.get("/admin?active=deactivated"))

    again = post(client, f"/admin/people/{org.employee.id}/reactivate")

    assert again.status_code == 302
    assert "Anna Petrova is active again and can sign in." in html(
        client.get(again.headers["Location"])
    )
    assert user("anna@example.test").active
    assert len(actions("people.reactivate")) == 1
    assert anna.login("anna@example.test").status_code == 302


def test_deactivating_a_manager_suggests_handing_their_teams_over(client, auth, org):
    auth.login("admin@example.test")

    response = post(client, f"/admin/people/{org.manager.id}/deactivate")

    page = html(client.get(response.headers["Location"]))
    assert "They still manage 1 team: hand it over to another manager." in page
    has_handover = "admin.handover" in client.application.view_functions
    assert (f"from={org.manager.id}" in page) is has_handover


def test_hr_may_not_deactivate_an_admin(client, auth, org):
    auth.login("hr.all@example.test")

    assert post(client, f"/admin/people/{org.admin.id}/deactivate").status_code == 403
    assert user("admin@example.test").active


# --- access for one person ---------------------------------------------------------------------


def create_link(client: FlaskClient, person: User) -> str:
    response = post(client, f"/admin/people/{person.id}/link")
    assert response.status_code == 201, html(response)
    match = LINK.search(html(response))
    assert match, html(response)
    return match.group(1).replace("http://localhost", "")


def test_an_activation_link_is_shown_once_and_works_once(client, auth, org):
    nina = people.create_person(
        None, PersonValues("Nina New", "nina@example.test", None, org.beta.id)
    )
    db.session.commit()
    auth.login("hr.north@example.test")

    response = post(client, f"/admin/people/{nina.id}/link")

    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    page = html(response)
    assert "It works once, until" in page
    assert "E-mail is not set up here" in page
    path = LINK.search(page).group(1).replace("http://localhost", "")
    assert path not in html(client.get(f"/admin/people/{nina.id}"))  # never again
    assert "Invited: the activation link works until" in html(
        client.get(f"/admin/people/{nina.id}")
    )
    assert "Invited until" in html(client.get("/admin?access=invited"))
    [event] = actions("access.link")
    assert event.actor_id == org.hr.id
    # Nina chooses her password.
    visitor = client.application.test_client()
    visitor.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = visitor.get(path)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "Choose your password" in html(page)
    assert "Nina New" in html(page)
    assert "nina@example.test" in html(page)
    token = csrf_token(visitor, path)

    weak = visitor.post(path, data={"csrf_token": token, "new_password": "nina12345678", "confirm_password": "nina12345678"})  # fmt: skip
    assert weak.status_code == 400
    assert "Do not use your name or e-mail in your password." in html(weak)
    differ = visitor.post(path, data={"csrf_token": token, "new_password": NEW_PASSWORD, "confirm_password": "other"})  # fmt: skip
    assert differ.status_code == 400
    assert "The two new passwords differ." in html(differ)
    assert user("nina@example.test").password_hash is None

    done = visitor.post(path, data={"csrf_token": token, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})  # fmt: skip

    assert done.status_code == 302
    assert done.headers["Location"] == "/"
    assert "Your password is set and you are signed in." in html(visitor.get("/"))
    nina = user("nina@example.test")
    assert nina.check_password(NEW_PASSWORD)
    assert nina.last_login_at is not None
    assert len(actions("access.activate")) == 1
    [signed_in] = [event for event in actions("login") if event.actor_id == nina.id]
    assert signed_in.details == {"via": "activation link"}
    # The link is spent.
    visitor_two = client.application.test_client()
    visitor_two.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    gone = visitor_two.get(path)
    assert gone.status_code == 410
    assert "This link has expired or was already used. Ask your administrator or HR for a new one." in html(gone)  # fmt: skip
    assert gone.headers["Referrer-Policy"] == "no-referrer"
    token = csrf_token(visitor_two, "/login")
    assert visitor_two.post(path, data={"csrf_token": token, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}).status_code == 410  # fmt: skip
    assert Auth(visitor_two).login("nina@example.test", NEW_PASSWORD).status_code == 302


def test_an_expired_unknown_or_retired_link_is_410(client, auth, org):
    auth.login("admin@example.test")
    first = create_link(client, org.employee)
    second = create_link(client, org.employee)  # retires the first
    visitor = client.application.test_client()

    assert visitor.get(first).status_code == 410
    assert visitor.get(second).status_code == 200
    assert visitor.get("/activate/nothing-like-a-token").status_code == 410
    assert visitor.get("/activate/" + "x" * 300).status_code == 410
    for link in db.session.scalars(select(ActivationLink)):
        link.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert visitor.get(second).status_code == 410


def test_a_deactivated_persons_link_is_410_and_no_new_one_is_made(client, auth, org):
    auth.login("admin@example.test")
    path = create_link(client, org.employee)
    people.set_active(None, user("anna@example.test"), False)
    db.session.commit()

    assert client.application.test_client().get(path).status_code == 410
    for action in ("link", "temporary-password"):
        refused = post(client, f"/admin/people/{org.employee.id}/{action}")
        assert refused.status_code == 302
        assert "Anna Petrova is deactivated: reactivate them first." in html(client.get(refused.headers["Location"]))  # fmt: skip
    assert db.session.scalar(select(func.count(ActivationLink.id))) == 1
    assert user("anna@example.test").check_password(PASSWORD)


def test_saving_a_password_by_link_signs_out_whoever_was_signed_in(client, auth, org):
    auth.login("admin@example.test")
    path = create_link(client, org.employee)

    page = client.get(path)

    # Opening the link (which any page could make a browser do) signs nobody out.
    assert page.status_code == 200
    assert "This browser is signed in as" in html(page)
    assert db.session.scalar(select(func.count(UserSession.id)).where(UserSession.user_id == org.admin.id)) == 1  # fmt: skip
    assert client.get("/admin").status_code == 200
    token = csrf_token(client, path)
    done = client.post(path, data={"csrf_token": token, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})  # fmt: skip
    assert done.status_code == 302
    assert db.session.scalar(select(func.count(UserSession.id)).where(UserSession.user_id == org.admin.id)) == 0  # fmt: skip
    assert client.get("/admin").status_code == 403  # Anna, now
    assert "Anna Petrova" in html(client.get("/me"))


def test_activating_ends_the_persons_other_sessions(client, auth, org):
    elsewhere = Auth(client.application.test_client())
    elsewhere.login("anna@example.test")
    auth.login("admin@example.test")
    path = create_link(client, org.employee)
    auth.logout()

    visitor = client.application.test_client()
    token = csrf_token(visitor, path)
    visitor.post(path, data={"csrf_token": token, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})  # fmt: skip

    assert elsewhere.client.get("/me").status_code == 302
    assert visitor.get("/me").status_code == 200


def test_a_temporary_password_is_shown_once_and_must_be_changed(client, auth, org):
    auth.login("hr.north@example.test")

    response = post(client, f"/admin/people/{org.employee.id}/temporary-password")

    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    password = TEMPORARY.search(html(response)).group(1)
    assert password not in html(client.get(f"/admin/people/{org.employee.id}"))
    assert "a temporary one, to be changed at the next sign-in" in html(client.get(f"/admin/people/{org.employee.id}"))  # fmt: skip
    [event] = actions("password.temporary")
    assert event.actor_id == org.hr.id
    anna = Auth(client.application.test_client())
    assert anna.login("anna@example.test").status_code == 401  # the old password is gone
    signed_in = anna.login("anna@example.test", password)
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"].startswith("/me/password")
    assert anna.client.get("/me").headers["Location"].startswith("/me/password")


def test_no_access_for_oneself_from_the_admin_pages(client, auth, org):
    auth.login("admin@example.test")

    for action in ("link", "temporary-password"):
        response = post(client, f"/admin/people/{org.admin.id}/{action}")
        assert response.status_code == 302
    assert user("admin@example.test").check_password(PASSWORD)
    assert db.session.scalar(select(func.count(ActivationLink.id))) == 0


class TestWithMailServer:
    @pytest.fixture
    def app_config(self, app_config: dict[str, Any]) -> dict[str, Any]:
        return {**app_config, "MAIL_SERVER": "smtp.example.test", "MAIL_FROM": "academy@example.test"}  # fmt: skip

    def test_the_link_is_emailed(self, client, auth, org, smtp):
        auth.login("admin@example.test")

        path = create_link(client, org.southerner)

        [connection] = smtp.instances
        [message] = connection.messages
        assert message["To"] == "sam@example.test"
        body = message.get_content()
        assert "http://localhost" + path in body
        assert "Sam South" in body
        page = html(client.get(f"/admin/people/{org.southerner.id}"))
        assert path not in page

    def test_the_page_says_it_was_emailed_or_not(self, client, auth, org, smtp):
        auth.login("admin@example.test")
        page = html(post(client, f"/admin/people/{org.southerner.id}/link"))
        assert "It was also e-mailed to sam@example.test." in page
        smtp.fail = True
        page = html(post(client, f"/admin/people/{org.southerner.id}/link"))
        assert "Sending it by e-mail to sam@example.test failed" in page

    def test_bulk_links_are_emailed_in_one_connection(self, client, auth, org, smtp):
        for number in range(3):
            people.create_person(
                None, PersonValues(f"New {number}", f"new{number}@example.test", None, org.beta.id)
            )
        db.session.commit()
        auth.login("admin@example.test")

        response = post(client, "/admin/people/links", token_from="/admin")

        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
        [connection] = smtp.instances
        assert sorted(m["To"] for m in connection.messages) == [
            "new0@example.test",
            "new1@example.test",
            "new2@example.test",
        ]
        links = {row[1]: row[4] for row in rows[1:]}
        for message in connection.messages:
            assert links[message["To"]] in message.get_content()
        assert "3 of them were e-mailed." in html(client.get("/admin"))


# --- access for a whole list -------------------------------------------------------------------


def test_bulk_links_make_a_csv_of_the_people_without_access(client, auth, org):
    for name, email, number, team in [
        ("=HYPERLINK(1)", "eve@example.test", "+7", org.beta),
        ("Ola One", "ola@example.test", None, org.alpha),
        ("Uno South", "uno@example.test", None, org.gamma),
        ("Dee Deactivated", "dee@example.test", None, org.alpha),
        ("Ivy Invited", "ivy@example.test", None, org.alpha),
    ]:
        people.create_person(None, PersonValues(name, email, number, team.id))
    people.set_active(None, user("dee@example.test"), False)
    accounts.issue_activation_link(user("ivy@example.test"), None)
    db.session.commit()
    auth.login("hr.north@example.test")
    page = html(client.get(f"/admin?region={org.north.id}&access=none"))
    assert 'name="access" value="none"' in page
    assert f'name="region" value="{org.north.id}"' in page

    response = post(
        client,
        "/admin/people/links",
        {"region": str(org.north.id), "access": "none"},
        token_from="/admin",
    )

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="activation-links-'
    )
    assert response.mimetype == "text/csv"
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["Name", "E-mail", "Employee number", "Team", "Link", "Expires"]
    assert [row[:4] for row in rows[1:]] == [
        ["'=HYPERLINK(1)", "eve@example.test", "'+7", "North / Harbour / Beta"],
        ["Ola One", "ola@example.test", "", "North / Harbour / Alpha"],
    ]
    for row in rows[1:]:
        assert row[4].startswith("http://localhost/activate/")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row[5])
    assert client.application.test_client().get(rows[2][4]).status_code == 200
    assert len(actions("access.link")) == 3  # Ivy's and the two new ones
    assert "2 people" in html(client.get("/admin"))
    # Pressed again: everyone has a link now.
    again = post(client, "/admin/people/links", {"region": str(org.north.id)}, token_from="/admin")
    assert again.status_code == 302
    assert "Everyone in this list has access already." in html(
        client.get(again.headers["Location"])
    )
    assert len(actions("access.link")) == 3


def test_bulk_links_with_bad_filters_are_400(client, auth, org):
    auth.login("hr.north@example.test")

    response = post(
        client, "/admin/people/links", {"region": str(org.south.id)}, token_from="/admin"
    )

    assert response.status_code == 400
    assert db.session.scalar(select(func.count(ActivationLink.id))) == 0


def test_bulk_links_skip_admins_for_hr(client, auth, org):
    admin = people.create_person(
        None,
        PersonValues(
            "Ada Admin", "ada@example.test", None, org.alpha.id, roles=frozenset({Role.ADMIN})
        ),
    )
    db.session.commit()
    auth.login("hr.north@example.test")

    response = post(client, "/admin/people/links", token_from="/admin")

    assert response.status_code == 302
    assert db.session.scalar(select(func.count(ActivationLink.id)).where(ActivationLink.user_id == admin.id)) == 0  # fmt: skip


# --- the import page ---------------------------------------------------------------------------


def test_after_an_import_the_people_without_access_are_offered_access(client, auth, org):
    auth.login("hr.north@example.test")
    data = (
        b"email,full_name,employee_number,region,centre,team,roles\n"
        b"i1@example.test,Imported One,I-1,North,Harbour,Alpha,employee\n"
        b"i2@example.test,Imported Two,I-2,North,Harbour,Beta,employee\n"
    )

    response = client.post(
        "/hr/import",
        data={
            "file": (io.BytesIO(data), "people.csv"),
            "csrf_token": csrf_token(client, "/hr/import"),
        },
        content_type="multipart/form-data",
    )

    assert response.status_code == 302
    page = html(client.get("/hr/import"))
    assert "Give access to the 2 people without it" in page
    assert 'href="/admin?access=none"' in page
    assert "Give access" not in html(client.get("/hr/import"))  # only right after the import
