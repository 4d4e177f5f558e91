"""The rules of administering people, without HTTP: uniqueness naming the other person, roles
only by admins, the self and last-admin rules, scope of regional HR, deactivation, the
audit's before and after, activation links that work once and expire."""

from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from lms.extensions import db
from lms.models import ActivationLink, AuditEvent, Role, User, UserSession, utcnow
from lms.services import accounts, people
from lms.services.people import PeopleFilters, PersonRefused, PersonValues


def values(person: User | None = None, **changes: object) -> PersonValues:
    base = PersonValues(
        full_name=person.full_name if person else "Anna Petrova",
        email=person.email if person else "anna@example.test",
        employee_number=person.employee_number if person else None,
        team_id=person.team_id if person else None,
    )
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def last_event(action: str) -> AuditEvent:
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id.desc())
    )
    assert event is not None, action
    return event


@pytest.fixture(autouse=True)
def in_english(app):
    """The services speak the reader's language: these tests read English."""
    with force_locale("en"):
        yield


@pytest.fixture
def admin(make):
    return make.user("admin@example.test", roles=(Role.ADMIN,))


def test_a_new_person_is_an_employee_without_a_password_and_audited(make, admin):
    team = make.team("Front desk", "Central", "North")
    person = people.create_person(
        admin, values(full_name="  Anna   Petrova ", employee_number=" 0042 ", team_id=team.id)
    )
    db.session.commit()
    assert (person.full_name, person.employee_number) == ("Anna Petrova", "0042")
    assert person.role_names == {Role.EMPLOYEE}
    assert person.password_hash is None
    event = last_event("people.create")
    assert event.actor_id == admin.id
    assert event.details["after"]["team"] == "North / Central / Front desk"


def test_a_clash_names_the_person_who_holds_the_value(make, admin):
    other = make.user("olga@example.test")
    other.full_name, other.employee_number = "Olga Smirnova", "77"
    db.session.commit()
    with pytest.raises(PersonRefused) as refused:
        people.create_person(admin, values(email="OLGA@example.test", employee_number="77"))
    assert "Olga Smirnova" in refused.value.problems["email"]
    assert "Olga Smirnova" in refused.value.problems["employee_number"]
    assert "olga@example.test" in refused.value.problems["employee_number"]
    db.session.rollback()
    assert db.session.scalar(select(User).where(User.email == "anna@example.test")) is None


def test_editing_writes_only_what_changed_before_and_after(make, admin):
    person = make.user("anna@example.test")
    people.update_person(admin, person, values(person, full_name="Anna Sidorova"))
    db.session.commit()
    event = last_event("people.update")
    assert event.details["before"] == {"full_name": "Person 2"}
    assert event.details["after"] == {"full_name": "Anna Sidorova"}
    assert not people.update_person(admin, person, values(person))  # nothing changed


def test_only_admins_change_roles(make):
    team = make.team()
    hr = make.user("hr@example.test", roles=(Role.HR,))
    person = make.user("anna@example.test", team=team)
    with pytest.raises(PersonRefused) as refused:
        people.update_person(hr, person, values(person, roles=frozenset({Role.MANAGER})))
    assert "roles" in refused.value.problems
    db.session.rollback()
    db.session.expire_all()
    assert person.role_names == {Role.EMPLOYEE}
    # Leaving the roles alone (None), HR may edit the rest.
    assert people.update_person(hr, person, values(person, full_name="Anna P."))


def test_an_admin_keeps_their_own_admin_role_and_cannot_deactivate_themselves(admin, make):
    make.user("second@example.test", roles=(Role.ADMIN,))
    with pytest.raises(PersonRefused, match="your own administrator role"):
        people.update_person(admin, admin, values(admin, roles=frozenset({Role.EMPLOYEE})))
    with pytest.raises(PersonRefused, match="deactivate yourself"):
        people.set_active(admin, admin, False)


def test_the_last_active_administrator_stays(admin, make):
    retired = make.user("old@example.test", roles=(Role.ADMIN,), active=False)
    with pytest.raises(PersonRefused, match="last administrator"):
        people.update_person(None, admin, values(admin, roles=frozenset({Role.EMPLOYEE})))
    with pytest.raises(PersonRefused, match="last administrator"):
        people.set_active(None, admin, False)
    # With a second active administrator, one of them may go.
    people.set_active(None, retired, True)
    assert people.set_active(None, admin, False)
    db.session.commit()


def test_role_changes_are_audited_with_before_and_after(admin, make):
    region_team = make.team("T", "C", "North")
    person = make.user("anna@example.test", team=region_team)
    people.update_person(
        admin,
        person,
        values(
            person,
            roles=frozenset({Role.EMPLOYEE, Role.HR}),
            hr_region_id=region_team.centre.region_id,
        ),
    )
    db.session.commit()
    event = last_event("roles.change")
    assert event.details["before"] == {"roles": ["employee"], "hr_region": None}
    assert event.details["after"] == {"roles": ["employee", "hr"], "hr_region": "North"}


def test_managed_teams_need_the_manager_role(admin, make):
    team = make.team()
    person = make.user("anna@example.test", team=team)
    with pytest.raises(PersonRefused) as refused:
        people.update_person(admin, person, values(person, managed_team_ids=frozenset({team.id})))
    assert "managed_team_ids" in refused.value.problems
    db.session.rollback()
    people.update_person(
        admin,
        person,
        values(
            person,
            roles=frozenset({Role.EMPLOYEE, Role.MANAGER}),
            managed_team_ids=frozenset({team.id}),
        ),
    )
    assert [t.id for t in person.managed_teams] == [team.id]


def test_regional_hr_keeps_people_in_their_region(make):
    north = make.team("N", "C", "North")
    south = make.team("S", "C", "South")
    hr = make.user("hr@example.test", roles=(Role.HR,), hr_region=north.centre.region)
    ours = make.user("ours@example.test", team=north)
    theirs = make.user("theirs@example.test", team=south)
    found = people.find_people(hr, PeopleFilters(active=None))
    assert {p.email for p in found.people} == {"ours@example.test"}
    with pytest.raises(PersonRefused) as refused:
        people.update_person(hr, ours, values(ours, team_id=south.id))
    assert "team_id" in refused.value.problems
    db.session.rollback()
    with pytest.raises(PersonRefused):
        people.create_person(hr, values(team_id=None))
    db.session.rollback()
    assert theirs.team_id == south.id


def test_finding_people_by_part_of_name_email_or_number(make, admin):
    team = make.team()
    anna = make.user("anna.p@example.test", team=team)
    anna.full_name, anna.employee_number = "Анна Петрова", "A-100%"
    make.user("boris@example.test", team=team)
    db.session.commit()
    for query in ("петров", "ANNA.P", "a-100%"):
        found = people.find_people(admin, PeopleFilters(query=query))
        assert [p.email for p in found.people] == ["anna.p@example.test"], query
    # A LIKE wildcard typed by the admin is taken literally.
    assert people.find_people(admin, PeopleFilters(query="_")).total == 0


def test_deactivation_ends_sessions_and_is_audited(make, admin):
    person = make.user("anna@example.test")
    accounts.start_session(person, None, None)
    db.session.commit()
    people.set_active(admin, person, False)
    db.session.commit()
    assert db.session.scalar(select(UserSession).where(UserSession.user_id == person.id)) is None
    assert last_event("people.deactivate").details["after"] == {"active": False}
    assert people.find_people(admin, PeopleFilters(active=False)).people == [person]
    assert not people.set_active(admin, person, False)  # already so: nothing written


def test_an_activation_link_works_once_and_retires_the_older_one(make, admin):
    person = make.user("anna@example.test")
    first = accounts.issue_activation_link(person, admin)
    second = accounts.issue_activation_link(person, admin)
    db.session.commit()
    assert accounts.find_activation_link(first) is None
    link = accounts.find_activation_link(second)
    assert link is not None
    assert link.user_id == person.id
    accounts.activate(link, "рыжий кот на подоконнике")
    db.session.commit()
    assert person.check_password("рыжий кот на подоконнике")
    assert accounts.find_activation_link(second) is None
    with pytest.raises(accounts.LinkUsed):
        accounts.activate(link, "another long password here")


def test_an_activation_link_expires_and_dies_with_deactivation(make, admin):
    person = make.user("anna@example.test")
    token = accounts.issue_activation_link(person, admin)
    db.session.commit()
    link = db.session.scalar(select(ActivationLink))
    link.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert accounts.find_activation_link(token) is None
    fresh = accounts.issue_activation_link(person, admin)
    person.active = False
    db.session.commit()
    assert accounts.find_activation_link(fresh) is None


def test_access_filters_tell_password_invited_and_none(make, admin):
    with_password = make.user("pw@example.test")
    invited = make.user("inv@example.test")
    nothing = make.user("none@example.test")
    for person in (invited, nothing):
        person.password_hash = None
    accounts.issue_activation_link(invited, admin)
    db.session.commit()

    def emails(access):
        return {p.email for p in people.find_people(admin, PeopleFilters(access=access)).people}

    assert with_password.email in emails("password")
    assert emails("invited") == {"inv@example.test"}
    assert emails("none") == {"none@example.test"}
