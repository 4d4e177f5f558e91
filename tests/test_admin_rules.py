"""The holes a review of the administration found, each closed and kept closed: accounts
whose powers reach beyond regional HR's scope, the import as a way round the people pages,
two administrators removing each other at once, access given before new roles, links that
outlive a password, ids the database cannot hold, clashes that named people outside the
scope, and a duplicate saved at the same moment."""

import contextlib
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from lms.models import ActivationLink, Role, User, utcnow
from lms.permissions import can_administer_person
from lms.services import accounts, people, user_import
from lms.services.user_import import ImportRefused
from tests.conftest import Auth, csrf_token
from tests.test_admin_people import LINK, TEMPORARY, Org, form_of, html, post, user

pytestmark = pytest.mark.usefixtures("cheap_passwords")

NEW_PASSWORD = "a quiet harbour at dawn"


@pytest.fixture
def client(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def org(app, make) -> Org:
    return Org(make)


# --- what regional HR administers ------------------------------------------------------------


def test_regional_hr_administers_only_accounts_whose_powers_lie_in_their_region(org, make):
    national_hr = make.user("national@example.test", roles=(Role.HR,), team=org.alpha)
    southern_hr = make.user(
        "south.hr@example.test", roles=(Role.HR,), team=org.alpha, hr_region=org.south
    )
    northern_hr = make.user(
        "north.hr2@example.test", roles=(Role.HR,), team=org.beta, hr_region=org.north
    )
    reaching = make.user(
        "reach@example.test", roles=(Role.MANAGER,), team=org.alpha, manages=(org.gamma,)
    )
    assert can_administer_person(org.hr, org.employee)
    assert can_administer_person(org.hr, org.manager)  # manages Alpha, in the North
    assert can_administer_person(org.hr, northern_hr)
    for person in (national_hr, southern_hr, reaching, org.admin, org.southerner):
        assert not can_administer_person(org.hr, person), person.email
    assert can_administer_person(org.hr_all, national_hr)
    assert not can_administer_person(org.hr_all, org.admin)


def test_regional_hr_cannot_take_over_a_wider_account_through_the_pages(client, auth, org, make):
    national_hr = make.user("national@example.test", roles=(Role.HR,), team=org.alpha)
    auth.login(org.hr.email)
    for path in ("link", "temporary-password", "deactivate"):
        response = post(client, f"/admin/people/{national_hr.id}/{path}")
        assert response.status_code == 403, path
    assert client.get(f"/admin/people/{national_hr.id}").status_code == 403
    assert user("national@example.test").active
    assert db.session.scalar(select(func.count(ActivationLink.id))) == 0


def test_the_import_changes_no_account_the_people_pages_would_refuse(org, make):
    national_hr = make.user("national@example.test", roles=(Role.HR,), team=org.alpha)
    rows = [
        "email,full_name,employee_number,region,centre,team,roles",
        f"{org.admin.email},Renamed Admin,A-1,North,Harbour,Beta,employee",
        f"{national_hr.email},Renamed HR,A-2,North,Harbour,Beta,employee",
    ]
    with pytest.raises(ImportRefused) as refused:
        user_import.import_people("\n".join(rows).encode(), filename="people.csv", importer=org.hr)
    assert {problem.row for problem in refused.value.problems} == {2, 3}
    db.session.rollback()
    assert user(org.admin.email).full_name != "Renamed Admin"
    assert user("national@example.test").team_id == org.alpha.id


# --- the last administrator, at the same moment -----------------------------------------------


def test_two_admins_removing_each_other_at_once_leave_one(app, org, make, monkeypatch):
    """Both checks pass before either writes (a barrier holds them there); the rows locked
    on PostgreSQL, or the count taken again inside SQLite's single write, stop the second."""
    other = make.user("admin2@example.test", roles=(Role.ADMIN,), team=org.alpha)
    barrier = threading.Barrier(2, timeout=3)
    checked = people._admin_kept

    def check_then_wait(*args):
        result = checked(*args)
        # On PostgreSQL the second waits on the first's lock instead, and the barrier breaks.
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return result

    monkeypatch.setattr(people, "_admin_kept", check_then_wait)
    clients = []
    for email in (org.admin.email, other.email):
        browser = app.test_client()
        browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        Auth(browser).login(email)
        clients.append((browser, csrf_token(browser, "/me")))
    statuses = {}

    def deactivate(index, target):
        browser, token = clients[index]
        with app.app_context():
            response = browser.post(
                f"/admin/people/{target}/deactivate", data={"csrf_token": token}
            )
            statuses[index] = response.status_code
            db.session.remove()

    threads = [
        threading.Thread(target=deactivate, args=(0, other.id)),
        threading.Thread(target=deactivate, args=(1, org.admin.id)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.expire_all()
    active_admins = db.session.scalar(
        select(func.count(User.id)).where(User.active, User.roles.any(role="admin"))
    )
    assert active_admins == 1
    assert statuses == {0: 302, 1: 302}  # each is answered; one with the refusal


# --- access given before new roles, and links that outlive a password --------------------------


def test_new_roles_withdraw_a_link_or_temporary_password_not_used_yet(client, auth, org, app):
    auth.login(org.hr.email)
    link = LINK.search(html(post(client, f"/admin/people/{org.employee.id}/link"))).group(1)
    temporary_for = org.manager
    password = TEMPORARY.search(
        html(post(client, f"/admin/people/{temporary_for.id}/temporary-password"))
    ).group(1)
    auth.logout()
    auth.login(org.admin.email)
    for person in (org.employee, temporary_for):
        data = form_of(person, roles=[*(r.value for r in person.role_names), "admin"])
        response = post(client, f"/admin/people/{person.id}", data, token_from=f"/admin/people/{person.id}")  # fmt: skip
        assert response.status_code == 302
    auth.logout()
    assert client.get(link.removeprefix("http://localhost")).status_code == 410
    refused = Auth(app.test_client()).login(temporary_for.email, password)
    assert refused.status_code == 401
    assert user(temporary_for.email).password_hash is None


def test_a_link_dies_with_deactivation_and_with_a_password_chosen_otherwise(org, make):
    token = accounts.issue_activation_link(org.employee, org.admin)
    db.session.commit()
    people.set_active(org.admin, org.employee, False)
    people.set_active(org.admin, org.employee, True)
    db.session.commit()
    assert accounts.find_activation_link(token) is None  # reactivation revives no link

    token = accounts.issue_activation_link(org.employee, org.admin)
    accounts.change_password(org.employee, NEW_PASSWORD)
    db.session.commit()
    assert accounts.find_activation_link(token) is None


def test_a_link_retired_after_it_was_opened_cannot_be_used(org):
    token = accounts.issue_activation_link(org.employee, org.admin)
    db.session.commit()
    link = accounts.find_activation_link(token)
    assert link is not None
    accounts.set_temporary_password(org.employee, org.admin)  # retires it, meanwhile
    db.session.commit()
    with pytest.raises(accounts.LinkUsed):
        accounts.activate(link, NEW_PASSWORD)
    link.expires_at = utcnow() + timedelta(days=1)  # for good measure: the person is gone
    db.session.commit()


def test_opening_a_link_signs_nobody_out(client, auth, org, app):
    auth.login(org.admin.email)
    link = LINK.search(html(post(client, f"/admin/people/{org.employee.id}/link"))).group(1)
    assert client.get(link.removeprefix("http://localhost")).status_code == 200
    assert client.get("/admin").status_code == 200


# --- input the database cannot hold, clashes and saving at once --------------------------------


@pytest.mark.parametrize("value", ["3000000000", "9" * 25, "-1", "0"])
def test_ids_the_database_cannot_hold_are_invalid_choices(client, auth, org, value):
    auth.login(org.admin.email)
    for field in ("team_id", "hr_region_id", "managed_team_ids"):
        data = form_of(org.employee, **{field: value})
        response = post(client, f"/admin/people/{org.employee.id}", data, token_from="/admin")
        assert response.status_code == 400, (field, value)
    for name in ("region", "centre", "team"):
        assert client.get(f"/admin?{name}={value}").status_code in {200, 400}
    handover = post(
        client,
        "/admin/org/handover",
        {"from": str(org.manager.id), "to_email": org.admin.email, "team_ids": value},
        token_from="/admin/org/handover",
    )
    assert handover.status_code in {400, 403}


def test_a_clash_names_only_people_within_the_scope(client, auth, org):
    auth.login(org.hr.email)
    data = form_of(org.employee, email="SAM@example.test", employee_number="")
    page = html(post(client, f"/admin/people/{org.employee.id}", data, token_from="/admin"))
    assert "Sam South" not in page
    assert "already belongs to someone outside your scope" in page
    data = form_of(org.employee, email="MANAGER@example.test")
    page = html(post(client, f"/admin/people/{org.employee.id}", data, token_from="/admin"))
    assert "already belongs to Person" in page  # the manager, whom they administer


def test_a_duplicate_saved_at_the_same_moment_is_a_message_not_an_error(
    client, auth, org, monkeypatch
):
    auth.login(org.admin.email)
    # The check finds nobody (the other request has not committed yet); the database refuses.
    monkeypatch.setattr(people, "_may_name", lambda actor, other: True)
    real_scalar = db.session.scalar

    def blind(statement, *args, **kwargs):
        if "lower(users.email)" in str(statement) or "lms_lower(users.email)" in str(statement):
            return None
        return real_scalar(statement, *args, **kwargs)

    monkeypatch.setattr(db.session, "scalar", blind)
    data = form_of(org.employee, email=org.manager.email)
    response = post(client, f"/admin/people/{org.employee.id}", data, token_from="/admin")
    assert response.status_code == 400
    assert "a moment ago" in html(response)
    monkeypatch.undo()
    assert user("anna@example.test").email == "anna@example.test"


def test_e_mails_are_kept_composed_and_in_lower_case(client, auth, org):
    auth.login(org.admin.email)
    decomposed = "Jose\u0301@Example.test"
    data = form_of(org.employee, email=decomposed)
    assert post(client, f"/admin/people/{org.employee.id}", data, token_from="/admin").status_code == 302  # fmt: skip
    assert user("josé@example.test").email == "josé@example.test"


def test_links_for_a_list_never_go_beyond_the_list_that_was_shown(client, auth, org):
    org.employee.password_hash = None
    org.southerner.password_hash = None
    db.session.commit()
    auth.login(org.admin.email)
    # A centre of another region than the one chosen: the list would quietly widen.
    data = {"region": str(org.north.id), "centre": str(org.gamma.centre_id)}
    response = post(client, "/admin/people/links", data, token_from="/admin")
    assert response.status_code == 302
    assert "The list has changed since it was shown" in html(client.get(response.headers["Location"]))  # fmt: skip
    assert db.session.scalar(select(func.count(ActivationLink.id))) == 0
