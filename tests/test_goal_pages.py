"""Goals, reviews, recognition, badges, notifications and organisational goals over HTTP: who
may make each move (owner, colleague, someone of another team, the owner's manager, another
team's manager, HR of the region, an admin) with the exact answer and exactly what it changes
in the database, the forms' errors, CSRF, notifications, badge credentials, the public
achievement pages, what the person page shows, and that people's words are escaped."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select
from werkzeug.security import generate_password_hash
from werkzeug.test import TestResponse

from lms.extensions import db
from lms.models import (
    Badge,
    BadgeKind,
    CheckIn,
    CompetencyEvidence,
    CompetencyReview,
    CourseModule,
    DevelopmentAction,
    Goal,
    GoalCompetency,
    GoalEvent,
    GoalState,
    Notification,
    NotificationKind,
    OrgGoal,
    Recognition,
    Role,
    TaskCompletion,
    Team,
    User,
)
from lms.services import goals, notifications, recognition, reviews
from lms.services.goals import GoalFields
from lms.services.reviews import PlannedAction, Rating
from tests.conftest import PASSWORD, Auth, Factory, csrf_token

ACTORS = ("owner", "colleague", "stranger", "manager", "other_manager", "hr", "admin")
DRAFT, SUBMITTED, APPROVED = GoalState.DRAFT, GoalState.SUBMITTED, GoalState.APPROVED
RETURNED, ACHIEVED, NOT_ACHIEVED = GoalState.RETURNED, GoalState.ACHIEVED, GoalState.NOT_ACHIEVED
TODAY = date.today()
DUE = TODAY + timedelta(days=30)
TITLE = "Answer in the first call"
COMPETENCIES = ("client-understanding", "ownership")
COMMENT = "Make the target a number of clients."
GOAL_CULTURE_MODULE = "client-centric-culture"  # module 6, with the "draft your goal" task
# A cheap hash: logging in stays fast, and it is checked like any other.
PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1")

LABELS = {
    DRAFT: "draft",
    SUBMITTED: "waiting for approval",
    APPROVED: "approved, in progress",
    RETURNED: "returned for changes",
    ACHIEVED: "achieved",
    NOT_ACHIEVED: "not achieved",
}

# The steps from a new draft to each state, and who makes them.
ROUTE = {
    DRAFT: (),
    SUBMITTED: ("submit",),
    APPROVED: ("submit", "approve"),
    RETURNED: ("submit", "return"),
    ACHIEVED: ("submit", "approve", "achieve"),
    NOT_ACHIEVED: ("submit", "approve", "not_achieve"),
}

# Answers to people who may not even see the goal: it does not exist for them.
UNSEEN = dict.fromkeys(("colleague", "stranger", "other_manager"), 404)
OWNER_ONLY = UNSEEN | {"owner": 302, "manager": 403, "hr": 403, "admin": 403}
MANAGER_ONLY = UNSEEN | {"owner": 403, "manager": 302, "hr": 403, "admin": 403}
OWNER_OR_MANAGER = UNSEEN | {"owner": 302, "manager": 302, "hr": 403, "admin": 403}

# move -> (the state it starts from, the state it leads to, {actor: status})
MOVES = {
    "submit": (DRAFT, SUBMITTED, OWNER_ONLY),
    "approve": (SUBMITTED, APPROVED, MANAGER_ONLY),
    "return": (SUBMITTED, RETURNED, MANAGER_ONLY),
    "achieve": (APPROVED, ACHIEVED, OWNER_OR_MANAGER),
    "not_achieve": (APPROVED, NOT_ACHIEVED, OWNER_OR_MANAGER),
}


# Helpers -------------------------------------------------------------------------------------


def person(
    email: str,
    *,
    roles: tuple[Role, ...] = (Role.EMPLOYEE,),
    team: Team | None = None,
    manages: tuple[Team, ...] = (),
    hr_region: Any = None,
    name: str | None = None,
) -> User:
    """A person who reads English, so the page's sentences can be checked word for word."""
    new = User(
        email=email,
        full_name=name or email.split("@")[0].replace("_", " ").title(),
        team=team,
        locale="en",
    )
    new.password_hash = PASSWORD_HASH
    for role in roles:
        new.grant(role, hr_region if role is Role.HR else None)
    new.managed_teams.extend(manages)
    db.session.add(new)
    db.session.commit()
    return new


def user(world: dict[str, Any], name: str) -> User:
    found = db.session.get(User, world[name])
    assert found is not None
    return found


def signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    response = Auth(client).login(email)
    assert response.status_code == 302, f"{email} could not log in"
    return client


def client_of(app: Flask, actor: str) -> FlaskClient:
    return signed_in(app, f"{actor}@example.test")


def fields(**changes: Any) -> GoalFields:
    values: dict[str, Any] = {
        "title": TITLE,
        "measure": "The share of calls marked resolved in the call log",
        "target": "8 of 10 calls",
        "relevance": "A caller should not have to call three times",
        "due_on": DUE,
        "competency_ids": COMPETENCIES,
    }
    return GoalFields(**(values | changes))


def goal_in(world: dict[str, Any], state: GoalState, owner: str = "owner", **changes: Any) -> int:
    """A goal of ``owner`` brought to ``state`` through the service, by its owner and manager."""
    who = user(world, owner)
    manager = user(world, "manager")
    goal = goals.create(who, fields(**changes))
    for action in ROUTE[state]:
        actor = who if action in ("submit", "achieve") else manager
        goals.perform(goal, actor, action, COMMENT if action == "return" else "")
    db.session.commit()
    return goal.id


def goal_form(**changes: Any) -> dict[str, Any]:
    """What the goal form posts."""
    data: dict[str, Any] = {
        "title": TITLE,
        "measure": "The share of calls marked resolved in the call log",
        "target": "8 of 10 calls",
        "relevance": "A caller should not have to call three times",
        "due_on": DUE.isoformat(),
        "competency_ids": list(COMPETENCIES),
        "org_goal_id": "None",
    }
    return data | changes


def review_form(**changes: Any) -> dict[str, Any]:
    data = {
        "ratings-ownership-level": "3",
        "ratings-ownership-comment": "Took the case to the end",
        "ratings-client-understanding-level": "2",
        "ratings-client-understanding-comment": "",
        "strengths": "Calm with upset callers",
        "actions-0-text": "Shadow a colleague at the employers' desk",
        "actions-0-due_on": DUE.isoformat(),
        "actions-0-competency_id": "co-design",
    }
    return data | changes


def org_goal_form(scope: str, **changes: Any) -> dict[str, Any]:
    data = {
        "title": "A shortlist of candidates in 5 days",
        "measure": "CRM",
        "target": "90% of vacancies",
        "starts_on": TODAY.isoformat(),
        "ends_on": (TODAY + timedelta(days=90)).isoformat(),
        "scope": scope,
    }
    return data | changes


def post(
    client: FlaskClient, path: str, data: dict[str, Any] | None = None, *, token: bool = True
) -> TestResponse:
    """POST as the form on the page does, with the session's CSRF token unless told not to."""
    body = dict(data or {})
    if token:
        body["csrf_token"] = csrf_token(client, "/me/goals")
    return client.post(path, data=body)


def rows(model: Any, *columns: str) -> list[tuple]:
    found = [tuple(getattr(row, c) for c in columns) for row in db.session.scalars(select(model))]
    return sorted(found, key=repr)


def everything() -> dict[str, list[tuple]]:
    """What the pages under test can change, without timestamps (except when read)."""
    db.session.expire_all()
    return {
        "goals": rows(
            Goal,
            "id",
            "user_id",
            "state",
            "progress",
            "title",
            "measure",
            "target",
            "relevance",
            "due_on",
            "org_goal_id",
        ),
        "goal_competencies": rows(GoalCompetency, "goal_id", "competency_id"),
        "events": rows(
            GoalEvent, "id", "goal_id", "action", "from_state", "to_state", "actor_id", "comment"
        ),
        "check_ins": rows(CheckIn, "goal_id", "progress", "note", "author_id"),
        "evidence": rows(
            CompetencyEvidence,
            "user_id",
            "competency_id",
            "kind",
            "level",
            "source",
            "recorded_by_id",
            "comment",
        ),
        "badges": rows(Badge, "user_id", "kind", "subject"),
        "notifications": rows(Notification, "id", "user_id", "kind", "actor_id", "read_at"),
        "recognitions": rows(
            Recognition, "recipient_id", "giver_id", "message", "competency_id", "goal_id"
        ),
        "reviews": rows(CompetencyReview, "user_id", "reviewer_id", "strengths"),
        "development_actions": rows(DevelopmentAction, "text", "due_on", "competency_id"),
        "org_goals": rows(
            OrgGoal,
            "title",
            "measure",
            "target",
            "starts_on",
            "ends_on",
            "region_id",
            "centre_id",
            "created_by_id",
        ),
        "task_completions": rows(TaskCompletion, "user_id", "module_id", "task_id"),
    }


def changes(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> dict[str, Any]:
    """{table: {"-": rows gone, "+": rows new}} for the tables that changed."""
    found = {}
    for table in before:
        gone = [row for row in before[table] if row not in after[table]]
        new = [row for row in after[table] if row not in before[table]]
        if gone or new:
            found[table] = {"-": gone, "+": new}
    return found


def new_events(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> list[tuple]:
    """The new goal events as (action, from, to, actor, comment)."""
    return [row[2:] for row in changes(before, after).get("events", {}).get("+", [])]


def review_id() -> int:
    found = db.session.scalar(select(CompetencyReview.id))
    assert found is not None
    return found


def checked_boxes(html: str) -> set[str]:
    """The values of the ticked checkboxes of a page."""
    boxes = re.findall(r'<input[^>]*type="checkbox"[^>]*>', html)
    return {
        re.search(r'value="([^"]*)"', box).group(1)  # type: ignore[union-attr]
        for box in boxes
        if re.search(r"\schecked[\s>=]", box)
    }


def page(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def goal_row(goal_id: int) -> Goal:
    db.session.expire_all()
    goal = db.session.get(Goal, goal_id)
    assert goal is not None
    return goal


# The people ----------------------------------------------------------------------------------


@pytest.fixture
def world(app: Flask, make: Factory) -> dict[str, Any]:
    """Two teams in two regions: the owner and a colleague in one, a stranger in the other,
    a manager for each, HR of the owner's region and an admin."""
    own = make.team("Own", centre="North", region="Region A")
    other = make.team("Other", centre="South", region="Region B")
    people = {
        "owner": person("owner@example.test", team=own, name="Olga Owner"),
        "colleague": person("colleague@example.test", team=own, name="Colin Colleague"),
        "stranger": person("stranger@example.test", team=other),
        "manager": person("manager@example.test", roles=(Role.MANAGER,), manages=(own,)),
        "other_manager": person(
            "other_manager@example.test", roles=(Role.MANAGER,), manages=(other,)
        ),
        "hr": person("hr@example.test", roles=(Role.HR,), hr_region=own.centre.region),
        "admin": person("admin@example.test", roles=(Role.ADMIN,)),
    }
    world: dict[str, Any] = {name: found.id for name, found in people.items()}
    world |= {
        "own_team": own.id,
        "other_team": other.id,
        "north": own.centre.id,
        "south": other.centre.id,
        "region_a": own.centre.region_id,
        "region_b": other.centre.region_id,
    }
    return world


# The moves of a goal, by each actor ------------------------------------------------------------


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("move", MOVES)
def test_each_move_by_each_actor(app, world, move, actor):
    """A move is made only by those the rules name (302, one event, the state it leads to);
    anyone else gets 403 (may see the goal) or 404 (may not) and nothing changes at all."""
    source, target, statuses = MOVES[move]
    goal_id = goal_in(world, source)
    client = client_of(app, actor)
    before = everything()

    response = post(client, f"/goals/{goal_id}/{move}", {"comment": COMMENT})

    assert response.status_code == statuses[actor]
    after = everything()
    if statuses[actor] != 302:
        assert after == before
        if statuses[actor] == 403:
            assert 'role="alert"' in page(response)  # the reason is on the goal's page
        return
    assert response.headers["Location"].endswith(f"/goals/{goal_id}")
    assert goal_row(goal_id).state == target
    assert new_events(before, after) == [(move, source, target, world[actor], COMMENT)]
    changed = changes(before, after)
    owner, manager = world["owner"], world["manager"]
    told = [(row[1], row[2], row[3]) for row in changed.get("notifications", {}).get("+", [])]
    if move == "submit":
        assert told == [(manager, NotificationKind.GOAL_SUBMITTED, owner)]
    elif move in ("approve", "return"):
        kind = {"approve": NotificationKind.GOAL_APPROVED, "return": NotificationKind.GOAL_RETURNED}
        assert told == [(owner, kind[move], manager)]
    elif move == "achieve":
        assert told == [(owner, NotificationKind.BADGE_AWARDED, None)]
        assert changed["badges"]["+"] == [(owner, BadgeKind.GOAL_ACHIEVED, str(goal_id))]
        assert sorted(changed["evidence"]["+"]) == [
            (owner, competency, "goal", 2, f"goal:{goal_id}", world[actor], TITLE)
            for competency in sorted(COMPETENCIES)
        ]
    expected_tables = {"goals", "events"} | ({"notifications"} if told else set())
    if move == "achieve":
        expected_tables |= {"badges", "evidence"}
    assert set(changed) == expected_tables


def test_a_manager_who_owns_the_goal_cannot_approve_or_return_it(app, world):
    """Someone in the team they manage drafts a goal like anyone: only another manager of the
    team approves it; their own approval or return is refused with the reason."""
    own = db.session.get(Team, world["own_team"])
    lead = person(
        "lead@example.test", roles=(Role.EMPLOYEE, Role.MANAGER), team=own, manages=(own,)
    )
    world["lead"] = lead.id
    goal_id = goal_in(world, SUBMITTED, owner="lead")
    client = signed_in(app, "lead@example.test")
    assert goal_id not in [g.id for g in goals.goals_to_approve(lead)]
    assert f"/goals/{goal_id}/approve" not in page(client.get(f"/goals/{goal_id}"))
    before = everything()

    for move in ("approve", "return"):
        response = post(client, f"/goals/{goal_id}/{move}", {"comment": COMMENT})
        assert response.status_code == 403
        assert "Your own goal is approved or returned by your manager." in page(response)
    assert everything() == before
    assert goal_row(goal_id).state == SUBMITTED

    response = post(client_of(app, "manager"), f"/goals/{goal_id}/approve")
    assert response.status_code == 302
    assert goal_row(goal_id).state == APPROVED


def test_returning_a_goal_needs_a_comment(app, world):
    """A return without a comment is 400 with the reason; the goal still waits for approval."""
    goal_id = goal_in(world, SUBMITTED)
    client = client_of(app, "manager")
    before = everything()

    response = post(client, f"/goals/{goal_id}/return", {"comment": "   "})

    assert response.status_code == 400
    assert "Say what to change: a returned goal needs a comment." in page(response)
    assert everything() == before


@pytest.mark.parametrize(
    ("actor", "state", "move", "message"),
    [
        ("manager", DRAFT, "approve", "Only a goal waiting for approval can be approved"),
        ("manager", APPROVED, "return", "Only a goal waiting for approval can be returned"),
        ("owner", SUBMITTED, "submit", "Only a draft or a returned goal can be submitted"),
        ("owner", RETURNED, "achieve", "Only an approved goal can be marked achieved"),
        ("manager", ACHIEVED, "not_achieve", "Only an approved goal can be marked not achieved"),
    ],
)
def test_a_move_the_state_does_not_allow_is_409_with_the_reason(
    app, world, actor, state, move, message
):
    goal_id = goal_in(world, state)
    client = client_of(app, actor)
    before = everything()

    response = post(client, f"/goals/{goal_id}/{move}", {"comment": COMMENT})

    assert response.status_code == 409
    html = page(response)
    assert message in html
    assert f"this one is {LABELS[state]}." in html
    assert everything() == before


def test_an_unknown_move_or_goal_is_404(app, world):
    goal_id = goal_in(world, SUBMITTED)
    client = client_of(app, "manager")
    before = everything()
    assert post(client, f"/goals/{goal_id}/delete").status_code == 404
    assert post(client, f"/goals/{goal_id + 1000}/approve").status_code == 404
    assert everything() == before


def test_the_goal_page_offers_each_person_only_their_moves(app, world):
    """The buttons match the rules: the owner submits a draft, the manager approves or
    returns a submitted goal, HR and admins see it without any move."""
    draft, submitted = goal_in(world, DRAFT), goal_in(world, SUBMITTED)

    def moves(actor: str, goal_id: int) -> set[str]:
        html = page(client_of(app, actor).get(f"/goals/{goal_id}"))
        found = re.findall(rf'action="/goals/{goal_id}/([a-z_-]+)"', html)
        return set(found) | ({"edit"} if f"/goals/{goal_id}/edit" in html else set())

    assert moves("owner", draft) == {"submit", "edit"}
    assert moves("manager", draft) == set()
    assert moves("owner", submitted) == set()
    assert moves("manager", submitted) == {"approve", "return"}
    assert moves("hr", submitted) == set()
    assert moves("admin", submitted) == set()


# Check-ins and editing --------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ACTORS)
def test_a_check_in_by_each_actor(app, world, actor):
    """The owner and their manager record progress on an approved goal; nobody else."""
    statuses = OWNER_OR_MANAGER
    goal_id = goal_in(world, APPROVED)
    client = client_of(app, actor)
    before = everything()

    response = post(client, f"/goals/{goal_id}/check-ins", {"progress": "40", "note": "Halfway"})

    assert response.status_code == statuses[actor]
    after = everything()
    if statuses[actor] != 302:
        assert after == before
        return
    assert response.headers["Location"].endswith(f"/goals/{goal_id}#check-ins")
    changed = changes(before, after)
    assert set(changed) == {"goals", "check_ins"}
    assert changed["check_ins"]["+"] == [(goal_id, 40, "Halfway", world[actor])]
    assert goal_row(goal_id).progress == 40
    assert goal_row(goal_id).state == APPROVED


@pytest.mark.parametrize(
    ("state", "data"),
    [
        (DRAFT, {"progress": "40"}),  # not approved yet
        (ACHIEVED, {"progress": "40"}),  # closed
    ],
)
def test_a_check_in_outside_an_approved_goal_is_409(app, world, state, data):
    goal_id = goal_in(world, state)
    client = client_of(app, "owner")
    before = everything()
    response = post(client, f"/goals/{goal_id}/check-ins", data)
    assert response.status_code == 409
    assert "Check-ins are for approved goals in progress" in page(response)
    assert everything() == before


@pytest.mark.parametrize("progress", ["101", "-1", "", "lots"])
def test_a_check_in_with_a_wrong_percentage_is_400(app, world, progress):
    goal_id = goal_in(world, APPROVED)
    client = client_of(app, "owner")
    before = everything()
    response = post(client, f"/goals/{goal_id}/check-ins", {"progress": progress})
    assert response.status_code == 400
    assert 'class="field-error"' in page(response)
    assert everything() == before


@pytest.mark.parametrize("actor", ACTORS)
def test_editing_a_draft_by_each_actor(app, world, actor):
    """Only the owner changes their goal (302, an "edited" event with the new fields)."""
    statuses = OWNER_ONLY
    goal_id = goal_in(world, DRAFT)
    client = client_of(app, actor)
    before = everything()

    response = post(
        client, f"/goals/{goal_id}/edit", goal_form(title="Answer at once", target="9 of 10")
    )

    assert response.status_code == statuses[actor]
    after = everything()
    if statuses[actor] != 302:
        assert after == before
        if statuses[actor] == 403:
            assert escape("Only the goal's owner can change it.") in page(response)
        return
    assert response.headers["Location"].endswith(f"/goals/{goal_id}")
    goal = goal_row(goal_id)
    assert (goal.title, goal.target, goal.state) == ("Answer at once", "9 of 10", DRAFT)
    assert new_events(before, after) == [("edited", DRAFT, DRAFT, world["owner"], "")]
    assert set(changes(before, after)) == {"goals", "events"}


@pytest.mark.parametrize("state", [SUBMITTED, APPROVED, ACHIEVED])
def test_a_goal_past_its_draft_cannot_be_edited(app, world, state):
    goal_id = goal_in(world, state)
    client = client_of(app, "owner")
    before = everything()
    response = post(client, f"/goals/{goal_id}/edit", goal_form(title="Something else"))
    assert response.status_code == 409
    assert "Only a draft or a returned goal can be changed." in page(response)
    assert everything() == before


def test_a_returned_goal_is_edited_and_submitted_again(app, world):
    goal_id = goal_in(world, RETURNED)
    client = client_of(app, "owner")
    assert COMMENT in page(client.get(f"/goals/{goal_id}"))  # the manager's comment is shown
    assert post(client, f"/goals/{goal_id}/edit", goal_form(target="9 of 10")).status_code == 302
    assert post(client, f"/goals/{goal_id}/submit").status_code == 302
    goal = goal_row(goal_id)
    assert (goal.state, goal.target) == (SUBMITTED, "9 of 10")
    assert [event.action for event in reversed(goal.events)] == [
        "created", "submit", "return", "edited", "submit",
    ]  # fmt: skip


# The goal form ----------------------------------------------------------------------------------


def test_a_new_goal_is_a_draft_of_its_author(app, world):
    client = client_of(app, "owner")
    before = everything()
    response = post(client, "/me/goals/new", goal_form())
    assert response.status_code == 302
    after = everything()
    [added] = changes(before, after)["goals"]["+"]
    assert response.headers["Location"].endswith(f"/goals/{added[0]}")
    assert added[1:5] == (world["owner"], DRAFT, 0, TITLE)
    goal = goal_row(added[0])
    assert goal.competency_ids == sorted(COMPETENCIES)
    assert new_events(before, after) == [("created", None, DRAFT, world["owner"], "")]
    assert TITLE in page(client.get("/me/goals"))


@pytest.mark.parametrize(
    ("changed", "error"),
    [
        ({"competency_ids": []}, "Choose at least one competency."),
        ({"title": ""}, "This field is required."),
        ({"due_on": "31.12.2099"}, "Not a valid date value."),
        ({"competency_ids": ["ownership", "telepathy"]}, "is not a valid choice"),
        ({"org_goal_id": "999"}, "Not a valid choice."),
    ],
)
def test_the_goal_form_shows_the_error_and_keeps_what_was_typed(app, world, changed, error):
    """A refused form comes back (400) with the error and every value typed, nothing saved."""
    client = client_of(app, "owner")
    data = (
        goal_form(
            title="Call back the same day",
            measure="Callbacks logged in CRM",
            target="All callbacks",
            relevance="Clients wait for an answer",
        )
        | changed
    )
    before = everything()

    response = post(client, "/me/goals/new", data)

    assert response.status_code == 400
    html = page(response)
    assert escape(error) in html
    for name in ("title", "target", "due_on"):
        if data[name]:
            assert f'value="{data[name]}"' in html
    assert "Callbacks logged in CRM</textarea>" in html
    assert "Clients wait for an answer</textarea>" in html
    if changed.get("competency_ids") != []:
        assert "ownership" in checked_boxes(html)
    assert everything() == before


def test_a_past_due_date_is_refused_and_the_rest_kept(app, world):
    client = client_of(app, "owner")
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    before = everything()
    response = post(client, "/me/goals/new", goal_form(due_on=yesterday, title="Late goal"))
    assert response.status_code == 400
    html = page(response)
    assert "The due date has passed; choose a date from today on." in html
    assert 'value="Late goal"' in html
    assert f'value="{yesterday}"' in html
    assert everything() == before


def test_editing_keeps_the_goal_when_the_form_is_refused(app, world):
    goal_id = goal_in(world, DRAFT)
    client = client_of(app, "owner")
    before = everything()
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    response = post(client, f"/goals/{goal_id}/edit", goal_form(title="New", due_on=yesterday))
    assert response.status_code == 400
    assert "The due date has passed" in page(response)
    assert 'value="New"' in page(response)
    assert everything() == before


def test_the_edit_form_starts_with_the_goal_as_it_is(app, world):
    goal_id = goal_in(world, DRAFT, competency_ids=("co-design",))
    html = page(client_of(app, "owner").get(f"/goals/{goal_id}/edit"))
    assert f'value="{TITLE}"' in html
    assert f'value="{DUE.isoformat()}"' in html
    assert checked_boxes(html) == {"co-design"}


def test_drafting_a_goal_does_the_module_6_goal_task(app, world, published):
    """The "draft your goal" task of module 6 is done once a goal is saved, not before, and
    not by a refused form."""
    client = client_of(app, "owner")
    module_id = db.session.scalar(
        select(CourseModule.id).where(CourseModule.slug == GOAL_CULTURE_MODULE)
    )
    post(client, "/me/goals/new", goal_form(competency_ids=[]))
    assert everything()["task_completions"] == []

    assert post(client, "/me/goals/new", goal_form()).status_code == 302

    assert everything()["task_completions"] == [(world["owner"], module_id, "draft-goal")]
    assert everything()["goals"][0][1] == world["owner"]


# Reviews, recognition and organisational goals, by each actor -----------------------------------


@pytest.mark.parametrize("actor", ACTORS)
def test_recording_a_review_by_each_actor(app, world, actor):
    """Only the person's manager records a review: ratings become evidence of kind review,
    the plan is saved and the person is told. HR, admins and the person themselves cannot."""
    statuses = dict.fromkeys(ACTORS, 403) | {"manager": 302}
    owner = world["owner"]
    client = client_of(app, actor)
    before = everything()

    response = post(client, f"/people/{owner}/review", review_form())

    assert response.status_code == statuses[actor]
    after = everything()
    if statuses[actor] != 302:
        assert after == before
        return
    assert response.headers["Location"].endswith(f"/people/{owner}#reviews")
    changed = changes(before, after)
    # A rating of 3 is level 3 in the competency: its badge comes with the review.
    assert set(changed) == {
        "reviews", "evidence", "development_actions", "notifications", "badges",
    }  # fmt: skip
    assert changed["badges"]["+"] == [(owner, BadgeKind.COMPETENCY_LEVEL_3, "ownership")]
    assert changed["reviews"]["+"] == [(owner, world["manager"], "Calm with upset callers")]
    evidence = sorted(changed["evidence"]["+"])
    assert [row[4] for row in evidence] == [f"review:{review_id()}"] * 2
    assert [row[:4] + row[5:] for row in evidence] == [
        (owner, "client-understanding", "review", 2, world["manager"], ""),
        (owner, "ownership", "review", 3, world["manager"], "Took the case to the end"),
    ]
    assert changed["development_actions"]["+"] == [
        ("Shadow a colleague at the employers' desk", DUE, "co-design")
    ]
    told = sorted(row[1:4] for row in changed["notifications"]["+"])
    assert told == [
        (owner, NotificationKind.BADGE_AWARDED, None),
        (owner, NotificationKind.REVIEW_DONE, world["manager"]),
    ]


def test_a_half_filled_plan_row_keeps_the_review_form(app, world):
    client = client_of(app, "manager")
    before = everything()
    data = review_form(**{"actions-0-due_on": "", "strengths": "Listens well"})
    response = post(client, f"/people/{world['owner']}/review", data)
    assert response.status_code == 400
    html = page(response)
    assert "Give the action a due date." in html
    assert "Listens well</textarea>" in html
    assert escape("Shadow a colleague at the employers' desk") in html
    assert everything() == before


@pytest.mark.parametrize("actor", ACTORS)
def test_giving_recognition_by_each_actor(app, world, actor):
    """Colleagues of the same team and the person's managers recognise; nobody recognises
    themselves, and HR or admins outside the team do not either."""
    statuses = dict.fromkeys(ACTORS, 403) | {"colleague": 302, "manager": 302}
    owner = world["owner"]
    client = client_of(app, actor)
    before = everything()

    data = {"target": "competency:ownership", "message": "Took the case to the end"}
    response = post(client, f"/recognise/{owner}", data)

    assert response.status_code == statuses[actor]
    after = everything()
    if statuses[actor] != 302:
        assert after == before
        return
    assert response.headers["Location"].endswith(f"/team/{world['own_team']}/wall")
    changed = changes(before, after)
    assert set(changed) == {"recognitions", "notifications"}
    assert changed["recognitions"]["+"] == [
        (owner, world[actor], "Took the case to the end", "ownership", None)
    ]
    told = [row[1:4] for row in changed["notifications"]["+"]]
    assert told == [(owner, NotificationKind.RECOGNITION_RECEIVED, world[actor])]


def test_a_colleague_cannot_recognise_for_a_goal_they_may_not_see(app, world):
    """The form offers a colleague only competencies; a goal posted anyway is refused."""
    goal_id = goal_in(world, APPROVED)
    client = client_of(app, "colleague")
    html = page(client.get(f"/recognise/{world['owner']}"))
    assert f'value="goal:{goal_id}"' not in html
    assert TITLE not in html
    before = everything()
    data = {"target": f"goal:{goal_id}", "message": "Well done"}
    assert post(client, f"/recognise/{world['owner']}", data).status_code == 400
    assert everything() == before

    manager = client_of(app, "manager")
    assert f'value="goal:{goal_id}"' in page(manager.get(f"/recognise/{world['owner']}"))
    assert post(manager, f"/recognise/{world['owner']}", data).status_code == 302


def test_recognition_without_a_message_is_400(app, world):
    client = client_of(app, "colleague")
    before = everything()
    data = {"target": "competency:ownership", "message": "  "}
    response = post(client, f"/recognise/{world['owner']}", data)
    assert response.status_code == 400
    assert "Write a few words about what the person did." in page(response)
    assert everything() == before


@pytest.mark.parametrize("actor", ACTORS)
def test_setting_an_organisational_goal_by_each_actor(app, world, actor):
    """HR of the region and admins set a centre's goal; everybody else is refused (403)."""
    statuses = dict.fromkeys(ACTORS, 403) | {"hr": 302, "admin": 302}
    client = client_of(app, actor)
    before = everything()

    response = post(client, "/hr/goals", org_goal_form(f"centre:{world['north']}"))

    assert response.status_code == statuses[actor]
    after = everything()
    if statuses[actor] != 302:
        assert after == before
        return
    assert response.headers["Location"].endswith("/hr/goals")
    changed = changes(before, after)
    assert set(changed) == {"org_goals"}
    assert changed["org_goals"]["+"] == [
        (
            "A shortlist of candidates in 5 days", "CRM", "90% of vacancies", TODAY,
            TODAY + timedelta(days=90), None, world["north"], world[actor],
        )
    ]  # fmt: skip


def test_regional_hr_cannot_set_a_goal_for_another_region(app, world):
    """The other region is not offered, and posting it anyway changes nothing."""
    client = client_of(app, "hr")
    html = page(client.get("/hr/goals"))
    assert f'value="centre:{world["north"]}"' in html
    assert f'value="region:{world["region_a"]}"' in html
    assert f'value="centre:{world["south"]}"' not in html
    before = everything()
    for scope in (f"centre:{world['south']}", f"region:{world['region_b']}"):
        assert post(client, "/hr/goals", org_goal_form(scope)).status_code == 400
    assert everything() == before
    admin = client_of(app, "admin")
    assert post(admin, "/hr/goals", org_goal_form(f"region:{world['region_b']}")).status_code == 302


def test_an_organisational_goal_ending_before_it_starts_is_refused(app, world):
    client = client_of(app, "hr")
    before = everything()
    data = org_goal_form(f"centre:{world['north']}", ends_on=(TODAY - timedelta(1)).isoformat())
    response = post(client, "/hr/goals", data)
    assert response.status_code == 400
    assert "The period ends before it starts." in page(response)
    assert everything() == before


def test_an_organisational_goal_is_offered_to_its_people_only(app, world):
    client = client_of(app, "hr")
    post(client, "/hr/goals", org_goal_form(f"centre:{world['north']}"))
    [org_goal] = db.session.scalars(select(OrgGoal)).all()
    assert f'value="{org_goal.id}"' in page(client_of(app, "owner").get("/me/goals/new"))
    stranger = client_of(app, "stranger")
    assert f'value="{org_goal.id}"' not in page(stranger.get("/me/goals/new"))
    before = everything()
    response = post(stranger, "/me/goals/new", goal_form(org_goal_id=str(org_goal.id)))
    assert response.status_code == 400
    assert everything() == before


# Anonymous people and CSRF ----------------------------------------------------------------------


def _posts(world: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(actor, path, data) for each POST of these pages, each one valid with its token."""
    draft, submitted = goal_in(world, DRAFT), goal_in(world, SUBMITTED)
    approved = goal_in(world, APPROVED)  # the owner is told: a notification to open
    notification = db.session.scalar(
        select(Notification.id).where(Notification.user_id == world["owner"])
    )
    owner = world["owner"]
    return [
        ("owner", f"/goals/{draft}/submit", {}),
        ("manager", f"/goals/{submitted}/approve", {"comment": "Fine"}),
        ("manager", f"/goals/{submitted}/return", {"comment": COMMENT}),
        ("owner", f"/goals/{approved}/achieve", {}),
        ("owner", f"/goals/{approved}/not_achieve", {}),
        ("owner", f"/goals/{approved}/check-ins", {"progress": "50"}),
        ("owner", f"/goals/{draft}/edit", goal_form(title="Changed")),
        ("owner", "/me/goals/new", goal_form()),
        ("manager", f"/people/{owner}/review", review_form()),
        ("colleague", f"/recognise/{owner}", {"target": "competency:ownership", "message": "Hi"}),
        ("hr", "/hr/goals", org_goal_form(f"centre:{world['north']}")),
        ("owner", f"/me/notifications/{notification}", {}),
        ("owner", "/me/notifications/read", {}),
    ]


POST_COUNT = 13


@pytest.mark.parametrize("index", range(POST_COUNT))
def test_every_post_without_a_csrf_token_is_400_and_changes_nothing(app, world, index):
    posts = _posts(world)
    assert len(posts) == POST_COUNT
    actor, path, data = posts[index]
    client = client_of(app, actor)
    before = everything()
    assert post(client, path, data, token=False).status_code == 400
    assert everything() == before
    assert post(client, path, data).status_code == 302  # the same request with its token works
    assert everything() != before


@pytest.mark.parametrize("index", range(POST_COUNT))
def test_every_post_by_an_anonymous_person_goes_to_login(app, world, index):
    _actor, path, data = _posts(world)[index]
    client = app.test_client()
    before = everything()
    data = data | {"csrf_token": csrf_token(client, "/login")}
    response = client.post(path, data=data)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert everything() == before


# Notifications ----------------------------------------------------------------------------------


def unread_badge(html: str) -> str | None:
    match = re.search(r'<span class="count-badge">(\d+)', html)
    return match.group(1) if match else None


def test_the_unread_count_is_in_the_navigation(app, world):
    client = client_of(app, "manager")
    assert unread_badge(page(client.get("/me/goals"))) is None
    goal_in(world, SUBMITTED)
    goal_in(world, SUBMITTED, title="Second goal")
    html = page(client.get("/me/goals"))
    assert unread_badge(html) == "2"
    notifications = page(client.get("/me/notifications"))
    assert f"Olga Owner submitted a goal for your approval: “{TITLE}”." in notifications
    assert unread_badge(page(client_of(app, "colleague").get("/me/goals"))) is None


def test_opening_a_notification_marks_it_read_and_goes_to_its_goal(app, world):
    goal_id = goal_in(world, SUBMITTED)
    goal_in(world, SUBMITTED, title="Second goal")
    client = client_of(app, "manager")
    first = db.session.scalar(
        select(Notification)
        .where(Notification.user_id == world["manager"])
        .order_by(Notification.id)
    )
    assert first is not None
    assert first.params["goal_id"] == str(goal_id)

    response = post(client, f"/me/notifications/{first.id}")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/goals/{goal_id}")
    mine = [row for row in everything()["notifications"] if row[1] == world["manager"]]
    assert len(mine) == 2
    assert {row[0]: row[4] is None for row in mine} == {row[0]: row[0] != first.id for row in mine}
    assert unread_badge(page(client.get("/me/goals"))) == "1"


def test_the_count_read_with_the_person_is_only_theirs_and_forgotten_on_a_change(app, world):
    goal_in(world, SUBMITTED)
    manager = db.session.get(User, world["manager"])
    colleague = db.session.get(User, world["colleague"])
    with app.test_request_context():
        notifications.remember_unread(manager, 1)
        assert notifications.unread_count(manager) == 1
        assert notifications.unread_count(colleague) == 0  # counted, not the manager's
        notifications.notify([manager], NotificationKind.RECOGNITION_RECEIVED, actor=colleague)
        db.session.flush()
        assert notifications.unread_count(manager) == 2
        notifications.mark_read(manager)
        assert notifications.unread_count(manager) == 0


def test_someone_elses_notification_is_404_and_stays_unread(app, world):
    goal_in(world, SUBMITTED)
    theirs = db.session.scalar(
        select(Notification.id).where(Notification.user_id == world["manager"])
    )
    for actor in ("owner", "other_manager", "admin"):
        before = everything()
        assert post(client_of(app, actor), f"/me/notifications/{theirs}").status_code == 404
        assert everything() == before
    assert post(client_of(app, "owner"), "/me/notifications/99999").status_code == 404


def test_read_all_marks_only_ones_own_notifications(app, world):
    goal_in(world, SUBMITTED)
    goal_in(world, APPROVED)  # the manager is told twice, the owner once
    client = client_of(app, "manager")
    response = post(client, "/me/notifications/read")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/me/notifications")
    read = {(row[1], row[4] is not None) for row in everything()["notifications"]}
    assert read == {(world["manager"], True), (world["owner"], False)}
    html = page(client.get("/me/notifications"))
    assert unread_badge(html) is None
    assert "Mark all as read" not in html


@pytest.mark.parametrize(
    ("make_it", "reader", "lands_on"),
    [
        ("approved", "owner", "/goals/{goal}"),
        ("returned", "owner", "/goals/{goal}"),
        ("achieved", "owner", "/me/badges"),
        ("reviewed", "owner", "/people/{owner}"),
        ("recognised", "owner", "/people/{owner}#recognition"),
    ],
)
def test_each_notification_leads_where_it_says(app, world, make_it, reader, lands_on):
    state = {"approved": APPROVED, "returned": RETURNED, "achieved": ACHIEVED}
    goal_id = goal_in(world, state.get(make_it, DRAFT))
    owner, manager = user(world, "owner"), user(world, "manager")
    if make_it == "reviewed":
        reviews.record_review(manager, owner, {"ownership": Rating(2)})
    if make_it == "recognised":
        recognition.give_recognition(manager, owner, "Thanks", competency_id="ownership")
    db.session.commit()
    latest = db.session.scalar(
        select(Notification)
        .where(Notification.user_id == world[reader])
        .order_by(Notification.id.desc())
    )
    assert latest is not None
    client = client_of(app, reader)
    response = post(client, f"/me/notifications/{latest.id}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(lands_on.format(goal=goal_id, owner=owner.id))
    assert client.get(response.headers["Location"]).status_code == 200


# Badges and achievements ------------------------------------------------------------------------


def test_a_badge_credential_is_a_json_download_for_its_owner_only(app, world):
    goal_id = goal_in(world, ACHIEVED)
    badge = db.session.scalars(select(Badge)).one()
    client = client_of(app, "owner")
    assert f"/me/badges/{badge.public_id}.json" in page(client.get("/me/badges"))

    response = client.get(f"/me/badges/{badge.public_id}.json")

    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    disposition = response.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="badge-goal_achieved-{badge.public_id[:8]}.json"'
    body = json.loads(page(response))
    assert body["id"] == f"urn:uuid:{badge.public_id}"
    assert "OpenBadgeCredential" in body["type"]
    assert body["name"] == f"Goal achieved: {TITLE}"
    achievement = body["credentialSubject"]["achievement"]
    assert achievement["id"].endswith("/achievements/goal_achieved")  # the public page: generic
    assert str(goal_id) not in achievement["id"]
    for actor in ("colleague", "manager", "hr", "admin"):
        assert client_of(app, actor).get(f"/me/badges/{badge.public_id}.json").status_code == 404
    assert client.get("/me/badges/00000000-0000-0000-0000-000000000000.json").status_code == 404


@pytest.mark.parametrize(
    ("path", "status", "text"),
    [
        ("/achievements/goal_achieved", 200, "Client-centric goal achieved"),
        ("/achievements/course_completed", 200, "Client-Centricity course completed"),
        ("/achievements/module_completed/client-centricity", 200, "Module completed: "),
        ("/achievements/competency_level_3/ownership", 200, "Level 3 in"),
        ("/achievements/telepathy", 404, None),
        ("/achievements/module_completed", 404, None),
        ("/achievements/module_completed/no-such-module", 404, None),
        ("/achievements/competency_level_3/telepathy", 404, None),
        ("/achievements/goal_achieved/1", 404, None),
        ("/achievements/course_completed/course", 404, None),
    ],
)
def test_the_public_achievement_pages(app, world, path, status, text):
    """Anyone checking a credential reads what it stands for; nothing else is there."""
    goal_in(world, ACHIEVED)
    client = app.test_client()
    response = client.get(path, headers={"Accept-Language": "en"})
    assert response.status_code == status
    if text is not None:
        assert escape(text) in page(response)
        assert TITLE not in page(response)


# What the person page shows ---------------------------------------------------------------------


def test_the_person_page_shows_goals_reviews_badges_and_recognition(app, world):
    goal_in(world, ACHIEVED)
    owner, manager, colleague = (user(world, n) for n in ("owner", "manager", "colleague"))
    reviews.record_review(
        manager,
        owner,
        {"ownership": Rating(3, "Saw it at the front desk")},
        strengths="Patient",
        actions=[PlannedAction("Lead a team meeting on complaints", DUE)],
    )
    recognition.give_recognition(
        colleague, owner, "Helped me with a hard case", competency_id="ownership"
    )
    db.session.commit()
    for viewer in ("owner", "manager", "hr", "admin"):
        html = page(client_of(app, viewer).get(f"/people/{owner.id}"))
        assert TITLE in html
        assert f"by {manager.full_name}" in html
        assert "Saw it at the front desk" in html
        assert "Patient" in html
        assert "Lead a team meeting on complaints" in html
        assert f"Goal achieved: {TITLE}" in html
        assert "Level 3 in" in html  # a rating of 3 earns the competency's badge
        assert "Helped me with a hard case" in html
        assert f"From {colleague.full_name}" in html


# People's words are escaped; a colleague never reads someone else's goal ------------------------

MARKED = {
    "goal": "<b>goal-title</b>",
    "org": "<i>org-goal</i>",
    "message": "<u>thanks-message</u>",
    "comment": "<s>review-comment</s>",
    "strengths": "<em>strengths</em>",
    "action": "<q>plan-action</q>",
    "note": "<code>check-in-note</code>",
    "event": "<small>event-comment</small>",
}


def test_peoples_words_are_escaped_on_every_page(app, world):
    """Every piece of text a person typed is shown as text, never as markup."""
    owner, manager = user(world, "owner"), user(world, "manager")
    north = db.session.get(Team, world["own_team"]).centre  # type: ignore[union-attr]
    org_goal = goals.create_org_goal(
        user(world, "hr"), title=MARKED["org"], measure=MARKED["org"], target=MARKED["org"],
        starts_on=TODAY, ends_on=DUE, centre=north,
    )  # fmt: skip
    db.session.commit()
    achieved = goal_in(world, APPROVED, title=MARKED["goal"], org_goal_id=org_goal.id)
    goals.check_in(goal_row(achieved), owner, 50, MARKED["note"])
    goals.perform(goal_row(achieved), manager, "achieve", MARKED["event"])
    submitted = goal_in(world, SUBMITTED, title=MARKED["goal"], org_goal_id=org_goal.id)
    draft = goal_in(world, DRAFT, title=MARKED["goal"], org_goal_id=org_goal.id)
    reviews.record_review(
        manager, owner, {"ownership": Rating(2, MARKED["comment"])},
        strengths=MARKED["strengths"], actions=[PlannedAction(MARKED["action"], DUE)],
    )  # fmt: skip
    recognition.give_recognition(manager, owner, MARKED["message"], goal=goal_row(achieved))
    db.session.commit()
    pages = {
        "owner": [
            "/me/goals", f"/goals/{achieved}", f"/goals/{submitted}", f"/goals/{draft}",
            f"/goals/{draft}/edit", "/me/goals/new", f"/people/{owner.id}", "/me/badges",
            "/me/notifications", f"/team/{world['own_team']}/wall", "/me/competencies",
        ],
        "manager": [
            "/me/goals", f"/goals/{achieved}", "/me/notifications", f"/people/{owner.id}",
            f"/recognise/{owner.id}", f"/team/{world['own_team']}/wall",
        ],
        "hr": ["/hr/goals", f"/people/{owner.id}", f"/goals/{achieved}"],
        "colleague": [f"/team/{world['own_team']}/wall"],
    }  # fmt: skip
    shown: set[str] = set()
    problems = []
    for viewer, paths in pages.items():
        client = client_of(app, viewer)
        for path in paths:
            response = client.get(path)
            html = page(response)
            if response.status_code != 200:
                problems.append(f"{viewer} {path}: {response.status_code}")
            for name, text in MARKED.items():
                if text in html:
                    problems.append(f"{viewer} {path}: {name} is markup")
                if escape(text) in html:
                    shown.add(name)
    assert not problems
    assert shown == set(MARKED)  # every text was on some page, escaped


def test_the_wall_shows_a_goal_badge_without_the_goals_title(app, world):
    goal_in(world, ACHIEVED, title="Win back the Petrov family")
    html = page(client_of(app, "colleague").get(f"/team/{world['own_team']}/wall"))
    assert "Olga Owner earned a badge: Client-centric goal achieved" in html
    assert "Petrov" not in html


def test_the_wall_shows_recognition_for_a_goal_without_the_goals_title(app, world):
    goal_id = goal_in(world, APPROVED, title="Win back the Petrov family")
    owner, manager = user(world, "owner"), user(world, "manager")
    recognition.give_recognition(manager, owner, "Great progress", goal=goal_row(goal_id))
    db.session.commit()
    colleague = client_of(app, "colleague")
    assert colleague.get(f"/goals/{goal_id}").status_code == 404  # the goal is not theirs to see
    html = page(colleague.get(f"/team/{world['own_team']}/wall"))
    assert "Great progress" in html
    assert "Petrov" not in html
