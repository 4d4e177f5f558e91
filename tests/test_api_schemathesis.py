"""The read API fuzzed from its own OpenAPI document with schemathesis.

Every operation of ``/api/v1/openapi.json`` gets a bounded number of generated requests
(valid and invalid query strings, boundary values, other methods), sent through the WSGI app
with a real bearer token of an admin. Each answer must not be a server error, must have a
status and headers the document lists for the operation and must match the schema documented
for that status; an invalid request must be refused. The examples are derandomised, so CI
runs the same cases every time, and Hypothesis keeps no example database.

The schema is loaded at import time from an app of its own (serving the document needs no
database); ``schemathesis.pytest.from_fixture`` would load it from the test's app, but its
lazy loader sets ``Node._nodeid``, which pytest 9.2 no longer has. Each test then calls its
own app, on the test database.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)
from sqlalchemy import select

from lms import create_app
from lms.extensions import db
from lms.models import CourseModule, EvidenceKind, ModuleCompletion, Role
from lms.services import api_tokens, competencies, goals
from lms.services.goals import GoalFields

# Not `positive_data_acceptance`: a module slug is any string to the document, and an
# unknown one is a documented 400.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    unsupported_method,
]

# Hypothesis caches what it learns (string constants, Unicode tables) in ./.hypothesis even
# without an example database, from collection on; outside the working tree instead.
if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "lms-hypothesis")

schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json",
    create_app(
        {"TESTING": True, "SECRET_KEY": "schema-only", "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    ),
)


@pytest.fixture
def bearer_token(published, make, cheap_passwords) -> str:
    """An admin's token, and a record of every kind the API lists, so that answers have
    rows to validate."""
    team = make.team("Own", centre="North", region="Region A")
    people = [make.user(team=team) for _ in range(3)]
    people[0].employee_number = "E-1"
    module = db.session.scalar(select(CourseModule).order_by(CourseModule.position))
    for day, person in enumerate(people, start=1):
        db.session.add(
            ModuleCompletion(
                user_id=person.id,
                module_id=module.id,
                content_version_id=module.current_version_id,
                completed_at=datetime(2025, 3, day, tzinfo=UTC),
                score=80 + day,
                attempts=day,
            )
        )
        competencies.record_evidence(person, "ownership", EvidenceKind.SELF, 2)
        goals.create(
            person,
            GoalFields(
                title=f"Answer in the first call {day}",
                measure="The call log",
                target="8 of 10 calls",
                relevance="Fewer calls for the same question",
                due_on=date.today() + timedelta(days=30),
                competency_ids=("ownership",),
            ),
        )
    admin = make.user("admin@example.test", roles=(Role.ADMIN,))
    _row, plaintext = api_tokens.issue(admin, "Schemathesis")
    db.session.commit()
    return plaintext


@schema.parametrize()
@settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    # One app and one set of records for all the examples of an operation: the API only
    # reads, so an example cannot change what the next one sees.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_the_api_answers_every_generated_request_as_documented(case, app, bearer_token):
    # Some cases are built while tests are collected, before any token exists: the token is
    # added here, except to the cases that leave the credentials out to check the 401.
    if not case.operation.schema.is_security_param_negated(case):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {bearer_token}"}
    case.call_and_validate(app=app, checks=CHECKS)
