"""The read API: bearer tokens (issued, used, revoked, refused), what each endpoint answers
checked against the OpenAPI document, pagination, scope, and the admin page for tokens."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec
from sqlalchemy import event, select

from lms.api import records
from lms.api.records import Page
from lms.content import get_course
from lms.extensions import db
from lms.models import (
    ApiToken,
    AuditEvent,
    CourseModule,
    EvidenceKind,
    ModuleCompletion,
    Role,
    RoleAssignment,
)
from lms.services import api_tokens, competencies, goals
from lms.services.goals import GoalFields
from lms.services.publishing import publish_course
from tests.conftest import Auth, csrf_token

LISTS = ("/api/v1/people", "/api/v1/completions", "/api/v1/competencies", "/api/v1/goals")
TOKEN_PATTERN = re.compile(r'<code id="issued-token"[^>]*>([^<]+)</code>')


@pytest.fixture
def world(app, make):
    """Two regions; people with completions, competency levels and goals in both; an admin
    and HR without a team; a deactivated person, whose records stay."""
    publish_course(get_course())
    db.session.commit()
    own = make.team("Own", centre="North", region="Region A")
    other = make.team("Other", centre="South", region="Region B")
    employee = make.user("employee@example.test", team=own)
    colleague = make.user("colleague@example.test", team=other)
    gone = make.user("gone@example.test", team=own, active=False)
    manager = make.user("manager@example.test", roles=(Role.MANAGER,), manages=(own,))
    make.user("hr@example.test", roles=(Role.HR,), hr_region=own.centre.region)
    admin = make.user("admin@example.test", roles=(Role.ADMIN,))
    employee.employee_number = "E-1"

    modules = list(db.session.scalars(select(CourseModule).order_by(CourseModule.position)))
    for person, module, day in (
        (employee, modules[0], date(2025, 3, 1)),
        (employee, modules[1], date(2025, 4, 1)),
        (colleague, modules[0], date(2025, 5, 1)),
        (gone, modules[0], date(2025, 2, 1)),
    ):
        db.session.add(
            ModuleCompletion(
                user_id=person.id,
                module_id=module.id,
                content_version_id=module.current_version_id,
                completed_at=datetime.combine(day, datetime.min.time(), tzinfo=UTC),
                score=90,
                attempts=1,
            )
        )
    # The employee's level in ownership rises from 1 (a quiz) to 3 (a review): 3 is current.
    competencies.record_evidence(employee, "ownership", EvidenceKind.QUIZ, 1, source="myths")
    competencies.record_evidence(employee, "ownership", EvidenceKind.REVIEW, 3, recorded_by=manager)
    competencies.record_evidence(colleague, "co-design", EvidenceKind.SELF, 2)
    for person in (employee, colleague):
        goals.create(
            person,
            GoalFields(
                title="Answer in the first call",
                measure="The call log",
                target="8 of 10 calls",
                relevance="Fewer calls for the same question",
                due_on=date.today() + timedelta(days=30),
                competency_ids=("ownership",),
            ),
        )
    db.session.commit()
    return {"admin": admin, "employee": employee, "colleague": colleague, "gone": gone,
            "manager": manager}  # fmt: skip


@pytest.fixture
def token(world) -> str:
    _row, plaintext = api_tokens.issue(world["admin"], "Integration")
    db.session.commit()
    return plaintext


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def spec(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


def response_schema(spec: dict, path: str, status: str) -> dict:
    """The JSON schema a documented response declares, ready for jsonschema."""
    response = spec["paths"][path]["get"]["responses"][status]
    if "$ref" in response:
        response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    schema = response["content"]["application/json"]["schema"]
    return {**schema, "components": spec["components"]}


def assert_documented(spec: dict, path: str, response) -> None:
    """The answer has the status, the media type and the body shape the document says."""
    status = str(response.status_code)
    assert status in spec["paths"][path]["get"]["responses"], (path, status)
    assert response.mimetype == "application/json"
    validator = Draft202012Validator(
        response_schema(spec, path, status), format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    validator.validate(response.get_json())


# Tokens refused --------------------------------------------------------------------------


@pytest.mark.parametrize("path", LISTS)
def test_without_a_token_the_api_answers_401_with_a_bearer_challenge(client, world, spec, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer realm=")
    assert_documented(spec, path.removeprefix("/api/v1"), response)


def test_a_wrong_token_is_401(client, token):
    for header in [
        "Bearer cca_not-a-token",
        "Bearer not-even-our-prefix",
        "Bearer ",
        "Basic YWRtaW46cGFzc3dvcmQ=",
        "cca_without-a-scheme",
        token,
    ]:
        response = client.get("/api/v1/people", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert "Bearer" in response.headers["WWW-Authenticate"]
        assert set(response.get_json()) == {"error"}


def test_a_valid_token_is_invalid_with_one_character_changed(client, token):
    assert client.get("/api/v1/people", headers=bearer(token)).status_code == 200
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")
    response = client.get("/api/v1/people", headers=bearer(altered))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_the_scheme_is_case_insensitive(client, token):
    response = client.get("/api/v1/people", headers={"Authorization": f"bearer {token}"})
    assert response.status_code == 200


def test_a_revoked_token_is_401(client, world, token):
    row = db.session.scalar(select(ApiToken))
    api_tokens.revoke(row, world["admin"])
    db.session.commit()
    assert client.get("/api/v1/people", headers=bearer(token)).status_code == 401


def test_a_token_stops_when_its_issuer_is_deactivated(client, world, token):
    world["admin"].active = False
    db.session.commit()
    assert client.get("/api/v1/people", headers=bearer(token)).status_code == 401
    world["admin"].active = True
    db.session.commit()
    assert client.get("/api/v1/people", headers=bearer(token)).status_code == 200


def test_a_token_stops_when_its_issuer_is_no_longer_an_admin(client, world, token):
    admin = world["admin"]
    admin.grant(Role.HR)
    db.session.execute(
        RoleAssignment.__table__.delete().where(
            RoleAssignment.user_id == admin.id, RoleAssignment.role == Role.ADMIN
        )
    )
    db.session.commit()
    db.session.expire_all()
    assert not admin.has_role(Role.ADMIN)
    assert client.get("/api/v1/people", headers=bearer(token)).status_code == 401


def test_a_session_cookie_alone_opens_nothing(client, auth, world, token):
    auth.login("admin@example.test")
    assert client.get("/me").status_code == 200  # signed in indeed
    for path in LISTS:
        response = client.get(path)
        assert response.status_code == 401, path
        assert "WWW-Authenticate" in response.headers


def test_the_session_is_ignored_when_a_token_is_sent(client, auth, world, token):
    """Signed in as someone else, the answer is still the token's admin's."""
    auth.login("employee@example.test")
    people = client.get("/api/v1/people", headers=bearer(token)).get_json()["data"]
    assert "colleague@example.test" in {person["email"] for person in people}


# What each endpoint answers --------------------------------------------------------------


def test_people_are_those_in_visible_teams_with_their_organisation(client, world, spec, token):
    response = client.get("/api/v1/people", headers=bearer(token))
    assert response.status_code == 200
    assert_documented(spec, "/people", response)
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["next"] is None
    by_email = {person["email"]: person for person in body["data"]}
    # People without a team (the manager, HR and admin here) are nobody's records.
    assert set(by_email) == {"employee@example.test", "colleague@example.test", "gone@example.test"}
    employee = by_email["employee@example.test"]
    own = world["employee"].team
    assert employee == {
        "id": world["employee"].id,
        "email": "employee@example.test",
        "full_name": world["employee"].full_name,
        "employee_number": "E-1",
        "active": True,
        "region": {"id": own.centre.region.id, "name": "Region A"},
        "centre": {"id": own.centre.id, "name": "North"},
        "team": {"id": own.id, "name": "Own"},
        "roles": ["employee"],
    }
    assert by_email["gone@example.test"]["active"] is False
    assert [person["id"] for person in body["data"]] == sorted(by_email[e]["id"] for e in by_email)


def test_completions(client, world, spec, token):
    response = client.get("/api/v1/completions", headers=bearer(token))
    assert_documented(spec, "/completions", response)
    data = response.get_json()["data"]
    assert len(data) == 4
    first = data[0]
    module = db.session.scalar(select(CourseModule).order_by(CourseModule.position))
    assert first["person"] == {"id": world["employee"].id, "email": "employee@example.test"}
    assert first["module"] == module.slug
    assert first["content_version"] == module.current_version.content_hash
    assert first["completed_at"] == "2025-03-01T00:00:00Z"
    assert (first["score"], first["attempts"]) == (90, 1)


def test_completions_filtered_by_module_and_day(client, world, spec, token):
    first, second = get_course().modules[:2]
    response = client.get(
        f"/api/v1/completions?module={first.slug}&since=2025-03-01", headers=bearer(token)
    )
    assert_documented(spec, "/completions", response)
    found = {(c["person"]["email"], c["module"]) for c in response.get_json()["data"]}
    assert found == {("employee@example.test", first.slug), ("colleague@example.test", first.slug)}
    response = client.get(f"/api/v1/completions?module={second.slug}", headers=bearer(token))
    assert [c["module"] for c in response.get_json()["data"]] == [second.slug]


def test_competencies_are_current_levels_only(client, world, spec, token):
    response = client.get("/api/v1/competencies", headers=bearer(token))
    assert_documented(spec, "/competencies", response)
    found = {(c["person"]["email"], c["competency"], c["level"]) for c in response.get_json()["data"]}  # fmt: skip
    assert found == {("employee@example.test", "ownership", 3), ("colleague@example.test", "co-design", 2)}  # fmt: skip


def test_goals(client, world, spec, token):
    response = client.get("/api/v1/goals", headers=bearer(token))
    assert_documented(spec, "/goals", response)
    data = response.get_json()["data"]
    assert {goal["person"]["email"] for goal in data} == {
        "employee@example.test",
        "colleague@example.test",
    }
    goal = data[0]
    assert (goal["state"], goal["progress"], goal["competencies"]) == ("draft", 0, ["ownership"])
    assert goal["due_on"] == (date.today() + timedelta(days=30)).isoformat()
    assert goal["org_goal_id"] is None


def test_records_follow_the_viewers_scope(world):
    """Tokens are only ever an admin's, who sees everything; the records obey the same scope
    function as every page, so a narrower viewer sees less."""
    page = Page(limit=100)
    manager, admin = world["manager"], world["admin"]
    own_team = {"employee@example.test", "gone@example.test"}
    assert {p["email"] for p in records.people(manager, page)} == own_team
    assert {c["person"]["email"] for c in records.completions(manager, page)} == own_team
    assert {c["person"]["email"] for c in records.competency_levels(manager, page)} == {
        "employee@example.test"
    }
    assert {g["person"]["email"] for g in records.goals(manager, page)} == {"employee@example.test"}
    assert records.people(world["employee"], page) == []
    assert len(records.people(admin, page)) == 3


# Pagination ------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 2, 5])
def test_next_links_walk_every_record_exactly_once(client, make, world, token, limit):
    team = world["employee"].team
    for _ in range(4):
        make.user(team=team)
    expected = [p["id"] for p in records.people(world["admin"], Page(limit=500))]
    assert len(expected) == 7
    seen, url, pages = [], f"/api/v1/people?limit={limit}", 0
    while url is not None:
        body = client.get(url, headers=bearer(token)).get_json()
        assert len(body["data"]) <= limit
        seen += [person["id"] for person in body["data"]]
        url, pages = body["next"], pages + 1
        if url is not None:
            assert urlsplit(url).scheme == "http"
            assert urlsplit(url).netloc == "localhost"
    assert seen == expected
    assert pages == -(-len(expected) // limit)


def test_next_link_keeps_the_filters(client, world, token):
    slug = get_course().modules[0].slug
    body = client.get(
        f"/api/v1/completions?module={slug}&since=2025-01-01&limit=1", headers=bearer(token)
    ).get_json()
    query = urlsplit(body["next"]).query
    assert f"module={slug}" in query
    assert "since=2025-01-01" in query
    assert "limit=1" in query
    emails = [c["person"]["email"] for c in body["data"]]
    while body["next"]:
        body = client.get(body["next"], headers=bearer(token)).get_json()
        emails += [c["person"]["email"] for c in body["data"]]
        assert all(c["module"] == slug for c in body["data"])
    assert sorted(emails) == [
        "colleague@example.test",
        "employee@example.test",
        "gone@example.test",
    ]


def test_after_skips_to_the_records_after_an_id(client, world, token):
    all_ids = [p["id"] for p in client.get("/api/v1/people", headers=bearer(token)).get_json()["data"]]  # fmt: skip
    rest = client.get(f"/api/v1/people?after={all_ids[0]}", headers=bearer(token)).get_json()
    assert [p["id"] for p in rest["data"]] == all_ids[1:]


BAD_PAGING = [
    ("limit=0", "limit"),
    ("limit=501", "limit"),
    ("limit=-1", "limit"),
    ("limit=ten", "limit"),
    ("limit=1.5", "limit"),
    ("limit=²", "limit"),
    ("limit=" + "9" * 5000, "limit"),
    ("after=x", "after"),
    ("after=-3", "after"),
    ("after=" + "9" * 30, "after"),
]


@pytest.mark.parametrize("path", LISTS)
def test_bad_paging_parameters_are_400(client, token, spec, path):
    for query, parameter in BAD_PAGING:
        response = client.get(f"{path}?{query}", headers=bearer(token))
        assert response.status_code == 400, query
        assert_documented(spec, path.removeprefix("/api/v1"), response)
        assert response.get_json()["parameter"] == parameter, query


def test_bad_completion_filters_are_400(client, token, spec):
    for query, parameter in [
        ("since=yesterday", "since"),
        ("since=2025-13-01", "since"),
        ("module=no-such", "module"),
    ]:
        response = client.get(f"/api/v1/completions?{query}", headers=bearer(token))
        assert response.status_code == 400, query
        assert_documented(spec, "/completions", response)
        assert response.get_json()["parameter"] == parameter


def test_the_limit_bounds_are_allowed(client, token):
    for limit in (1, 500):
        assert client.get(f"/api/v1/people?limit={limit}", headers=bearer(token)).status_code == 200


def test_after_beyond_any_id_is_an_empty_page(client, token, spec):
    """Found by schemathesis: PostgreSQL refused to compare the ids with a number beyond its
    integer, a 500, for an ``after`` the document allows."""
    maximum = spec["components"]["parameters"]["after"]["schema"]["maximum"]
    for path in LISTS:
        for after in (2**31 - 1, 2**31, maximum):
            response = client.get(f"{path}?after={after}", headers=bearer(token))
            assert response.status_code == 200, (path, after)
            assert_documented(spec, path.removeprefix("/api/v1"), response)
            assert response.get_json() == {"data": [], "next": None}


def test_empty_parameters_are_as_if_not_given_as_documented(client, token, spec):
    """Found by schemathesis: ``since=`` was accepted, but the document did not allow it."""
    for path in LISTS:
        empty = "limit=&after=" + ("&module=&since=" if path.endswith("/completions") else "")
        response = client.get(f"{path}?{empty}", headers=bearer(token))
        assert response.status_code == 200, path
        assert response.get_json() == client.get(path, headers=bearer(token)).get_json()
        for parameter in spec["paths"][path.removeprefix("/api/v1")]["get"]["parameters"]:
            if "$ref" in parameter:
                parameter = spec["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[1]]
            assert parameter["allowEmptyValue"] is True, (path, parameter["name"])


def test_a_method_the_api_does_not_take_is_405_with_allow(client, token):
    """Found by schemathesis: the JSON 405 dropped the Allow header RFC 9110 requires."""
    for path in LISTS:
        for method in ("POST", "PUT", "DELETE"):
            response = client.open(path, method=method, headers=bearer(token))
            assert response.status_code == 405, (path, method)
            assert response.mimetype == "application/json"
            assert set(response.get_json()) == {"error"}
            assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_a_nul_character_is_a_documented_400(client, token, spec):
    """PostgreSQL cannot compare text with a NUL character: it was a 500."""
    for query in ("module=%00", "since=2025-01-01%00", "limit=%001"):
        response = client.get(f"/api/v1/completions?{query}", headers=bearer(token))
        assert response.status_code == 400, query
        assert_documented(spec, "/completions", response)


@pytest.mark.parametrize("path", LISTS)
def test_a_page_is_a_few_queries_however_many_records(app, client, make, world, token, path):
    def count() -> int:
        statements: list[str] = []

        def remember(*args) -> None:
            statements.append(args[2])

        event.listen(db.engine, "before_cursor_execute", remember)
        try:
            assert client.get(path, headers=bearer(token)).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", remember)
        return len(statements)

    client.get(path, headers=bearer(token))  # the last-use stamp is written once a minute
    few = count()
    team = world["employee"].team
    for number in range(6):
        person = make.user(team=team)
        competencies.record_evidence(person, "ownership", EvidenceKind.SELF, 2)
        goals.create(
            person,
            GoalFields(
                title=f"Goal {number}",
                measure="m",
                target="t",
                relevance="r",
                due_on=date.today() + timedelta(days=9),
                competency_ids=("ownership", "co-design"),
            ),
        )
    db.session.commit()
    assert count() == few
    assert few <= 4  # the token, its admin's roles, the page and its roles or competencies


# The OpenAPI document --------------------------------------------------------------------


def test_the_openapi_document_is_public_and_valid(client, spec):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    validate_spec(spec)
    assert spec["servers"] == [{"url": "http://localhost/api/v1"}]
    assert set(spec["paths"]) == {
        "/people",
        "/completions",
        "/competencies",
        "/goals",
        "/openapi.json",
    }
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["bearerAuth"]["description"],
    }


def test_the_servers_follow_the_host_asked(client):
    spec = client.get("/api/v1/openapi.json", base_url="https://lms.example.org").get_json()
    assert spec["servers"] == [{"url": "https://lms.example.org/api/v1"}]


def test_every_documented_path_answers_200_as_documented(client, world, spec, token):
    server = urlsplit(spec["servers"][0]["url"]).path
    for path in spec["paths"]:
        response = client.get(server + path, headers=bearer(token))
        assert response.status_code == 200, path
        assert_documented(spec, path, response)


def test_every_api_route_is_documented(app, spec):
    routes = {
        rule.rule.removeprefix("/api/v1")
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
    }
    assert routes == set(spec["paths"])


def test_documented_schemas_reject_what_is_not_documented(spec):
    """The schemas are strict: a field added to an answer but not to the document fails."""
    schema = response_schema(spec, "/people", "200")
    page = {"data": [], "next": None, "total": 3}
    assert list(Draft202012Validator(schema).iter_errors(page))


# Last use --------------------------------------------------------------------------------


def test_last_use_is_recorded_at_most_once_a_minute(client, world, token):
    row = db.session.scalar(select(ApiToken))
    assert row.last_used_at is None
    assert client.get("/api/v1/goals", headers=bearer(token)).status_code == 200
    db.session.expire_all()
    first = row.last_used_at
    assert first is not None
    assert datetime.now(UTC) - first < timedelta(minutes=1)
    assert client.get("/api/v1/goals", headers=bearer(token)).status_code == 200
    db.session.expire_all()
    assert row.last_used_at == first

    later = first + timedelta(seconds=59)
    assert api_tokens.authenticate(token, now=later) == world["admin"]
    assert row.last_used_at == first
    later = first + timedelta(minutes=1, seconds=1)
    assert api_tokens.authenticate(token, now=later) == world["admin"]
    assert row.last_used_at == later


def test_a_refused_token_is_not_stamped(client, world, token):
    world["admin"].active = False
    db.session.commit()
    client.get("/api/v1/people", headers=bearer(token))
    db.session.expire_all()
    assert db.session.scalar(select(ApiToken)).last_used_at is None


# The service -----------------------------------------------------------------------------


def test_only_a_hash_and_a_prefix_are_stored(world):
    row, plaintext = api_tokens.issue(world["admin"], "  Reports  ")
    assert plaintext.startswith("cca_")
    assert len(plaintext) > 40
    assert row.name == "Reports"
    assert row.token_hash == api_tokens.hash_token(plaintext) != plaintext
    assert plaintext.startswith(row.prefix)
    assert len(row.prefix) < 16
    other_row, other = api_tokens.issue(world["admin"], "Reports")
    assert other != plaintext
    assert other_row.token_hash != row.token_hash


def test_only_admins_issue_and_revoke(world):
    with pytest.raises(PermissionError):
        api_tokens.issue(world["manager"], "Mine")
    row, _plaintext = api_tokens.issue(world["admin"], "Theirs")
    with pytest.raises(PermissionError):
        api_tokens.revoke(row, world["manager"])
    assert row.active


# The admin page --------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, world):
    Auth(client).login("admin@example.test")
    return client


@pytest.mark.parametrize("email", ["employee@example.test", "manager@example.test", "hr@example.test"])  # fmt: skip
def test_only_admins_open_the_tokens_page(client, world, email):
    Auth(client).login(email)
    assert client.get("/admin/tokens").status_code == 403
    data = {"name": "Mine", "csrf_token": csrf_token(client, "/me")}
    assert client.post("/admin/tokens", data=data).status_code == 403
    assert db.session.scalar(select(ApiToken)) is None


def test_anonymous_people_are_sent_to_login(client, world):
    response = client.get("/admin/tokens")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"


def issue_on_the_page(client, name: str):
    token = csrf_token(client, "/admin/tokens")
    return client.post("/admin/tokens", data={"name": name, "csrf_token": token})


def test_an_admin_issues_a_token_that_is_shown_once_and_works(admin_client, world):
    response = issue_on_the_page(admin_client, "HR dashboard")
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    match = TOKEN_PATTERN.search(page)
    assert match, page
    plaintext = match.group(1)
    with admin_client.session_transaction() as session:
        assert plaintext not in repr(dict(session))  # shown, never kept
    row = db.session.scalar(select(ApiToken))
    assert (row.name, row.issued_by_id) == ("HR dashboard", world["admin"].id)
    assert api_tokens.hash_token(plaintext) == row.token_hash

    listing = admin_client.get("/admin/tokens").get_data(as_text=True)
    assert plaintext not in listing
    assert row.prefix in listing
    assert "HR dashboard" in listing

    admin_client.post("/logout", data={"csrf_token": csrf_token(admin_client, "/me")})
    assert admin_client.get("/api/v1/people", headers=bearer(plaintext)).status_code == 200

    issued = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "api_token.issue"))
    event = issued.one()
    assert event.actor_id == world["admin"].id
    assert event.details == {"token_id": row.id, "name": "HR dashboard"}


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_token_needs_a_name_of_at_most_100_characters(admin_client, name):
    response = issue_on_the_page(admin_client, name)
    assert response.status_code == 400
    assert 'class="field-error"' in response.get_data(as_text=True)
    assert db.session.scalar(select(ApiToken)) is None


def test_issuing_needs_a_csrf_token(admin_client):
    response = admin_client.post("/admin/tokens", data={"name": "Forged"})
    assert response.status_code == 400
    assert db.session.scalar(select(ApiToken)) is None


def revoke_on_the_page(client, row: ApiToken, with_csrf: bool = True):
    data = {"csrf_token": csrf_token(client, "/admin/tokens")} if with_csrf else {}
    return client.post(f"/admin/tokens/{row.id}/revoke", data=data)


def test_an_admin_revokes_a_token(admin_client, world, token):
    row = db.session.scalar(select(ApiToken))
    response = revoke_on_the_page(admin_client, row)
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/admin/tokens"
    db.session.expire_all()
    assert row.revoked_at is not None
    assert row.revoked_by_id == world["admin"].id
    assert admin_client.get("/api/v1/people", headers=bearer(token)).status_code == 401
    listing = admin_client.get("/admin/tokens").get_data(as_text=True)
    assert f'action="/admin/tokens/{row.id}/revoke"' not in listing

    # Again: nothing changes, nothing more is recorded.
    assert revoke_on_the_page(admin_client, row).status_code == 302
    revoked = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "api_token.revoke"))
    event = revoked.one()
    assert event.details == {"token_id": row.id, "name": "Integration"}


def test_revoking_needs_a_csrf_token(admin_client, token):
    row = db.session.scalar(select(ApiToken))
    assert revoke_on_the_page(admin_client, row, with_csrf=False).status_code == 400
    db.session.expire_all()
    assert row.revoked_at is None
    assert admin_client.get("/api/v1/people", headers=bearer(token)).status_code == 200


def test_revoking_a_missing_token_is_404(admin_client):
    token = csrf_token(admin_client, "/admin/tokens")
    assert (
        admin_client.post("/admin/tokens/999/revoke", data={"csrf_token": token}).status_code == 404
    )


def test_non_admins_cannot_revoke(client, world, token):
    Auth(client).login("hr@example.test")
    row = db.session.scalar(select(ApiToken))
    token_value = csrf_token(client, "/me")
    assert client.post(f"/admin/tokens/{row.id}/revoke", data={"csrf_token": token_value}).status_code == 403  # fmt: skip
    db.session.expire_all()
    assert row.revoked_at is None


def test_the_page_lists_tokens_with_who_issued_them(admin_client, world, token):
    row = db.session.scalar(select(ApiToken))
    page = admin_client.get("/admin/tokens").get_data(as_text=True)
    assert row.prefix in page
    assert world["admin"].full_name in page
    assert f'action="/admin/tokens/{row.id}/revoke"' in page
    assert token not in page
