"""Goals at service level: the state machine and the history it writes, who may make which move,
editing and what a goal may link to, check-ins, what an achieved goal is evidence of, who is
told, two moves on one goal at the same moment, and organisational goals and their scope."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from werkzeug.security import generate_password_hash

from lms.content import Course, get_course
from lms.extensions import db
from lms.models import (
    Badge,
    BadgeKind,
    Centre,
    CheckIn,
    CompetencyEvidence,
    CompetencyLevel,
    EvidenceKind,
    Goal,
    GoalEvent,
    GoalState,
    Notification,
    NotificationKind,
    OrgGoal,
    Region,
    Role,
    Team,
    User,
)
from lms.services import competencies, goals
from lms.services.goals import GoalFields, GoalRefused
from tests.conftest import Factory

DRAFT, SUBMITTED, APPROVED = GoalState.DRAFT, GoalState.SUBMITTED, GoalState.APPROVED
RETURNED, ACHIEVED, NOT_ACHIEVED = GoalState.RETURNED, GoalState.ACHIEVED, GoalState.NOT_ACHIEVED
MOVES = ("submit", "approve", "return", "achieve", "not_achieve")
ALL_ACTIONS = (*MOVES, "edit", "check_in")
ACTORS = ("owner", "teammate", "manager", "other_manager", "hr", "admin")
COMMENT = "Make the target a number of clients, not a feeling."
ENGLISH = {"Accept-Language": "en"}
TODAY = date.today()
DUE = TODAY + timedelta(days=30)

# The rules, written out here rather than read from the service.
ALLOWED_MOVES = {
    (DRAFT, "submit"): SUBMITTED,
    (RETURNED, "submit"): SUBMITTED,
    (SUBMITTED, "approve"): APPROVED,
    (SUBMITTED, "return"): RETURNED,
    (APPROVED, "achieve"): ACHIEVED,
    (APPROVED, "not_achieve"): NOT_ACHIEVED,
}
MAY_ACT = {
    "submit": {"owner"},
    "edit": {"owner"},
    "approve": {"manager"},
    "return": {"manager"},
    "achieve": {"owner", "manager"},
    "not_achieve": {"owner", "manager"},
    "check_in": {"owner", "manager"},
}
STATES_FOR = {
    "submit": {DRAFT, RETURNED},
    "edit": {DRAFT, RETURNED},
    "approve": {SUBMITTED},
    "return": {SUBMITTED},
    "achieve": {APPROVED},
    "not_achieve": {APPROVED},
    "check_in": {APPROVED},
}
# Who makes each move when a test walks a goal to a state.
BY = {
    "submit": "owner",
    "approve": "manager",
    "return": "manager",
    "achieve": "owner",
    "not_achieve": "owner",
}
PATH = {
    DRAFT: (),
    SUBMITTED: ("submit",),
    RETURNED: ("submit", "return"),
    APPROVED: ("submit", "approve"),
    ACHIEVED: ("submit", "approve", "achieve"),
    NOT_ACHIEVED: ("submit", "approve", "not_achieve"),
}


# Helpers -------------------------------------------------------------------------------------


@dataclass
class People:
    """The owner's team with its manager, and everybody else who might try to touch a goal."""

    team: Team
    other_team: Team
    owner: User
    teammate: User
    manager: User
    other_manager: User
    hr: User
    admin: User

    def __getitem__(self, key: str) -> User:
        return getattr(self, key)


def competency_ids() -> list[str]:
    return list(get_course().competencies)


def smart(**changes: Any) -> GoalFields:
    """A complete, valid goal; ``changes`` replace some of its fields."""
    fields = GoalFields(
        title="Answer every client request within a day",
        measure="Share of requests answered within 24 hours, from the ticket system",
        target="95% of requests",
        relevance="Clients told us waiting is what annoys them most",
        due_on=DUE,
        competency_ids=(competency_ids()[0],),
    )
    return replace(fields, **changes)


def expected_snapshot(fields: GoalFields) -> dict[str, object]:
    return {
        "title": fields.title,
        "measure": fields.measure,
        "target": fields.target,
        "relevance": fields.relevance,
        "due_on": fields.due_on.isoformat(),
        "competency_ids": list(fields.competency_ids),
        "org_goal_id": fields.org_goal_id,
    }


def goal_in(people: People, state: GoalState, fields: GoalFields | None = None) -> Goal:
    """A goal of ``people.owner`` brought to ``state`` by the real moves, committed."""
    goal = goals.create(people.owner, fields or smart())
    for action in PATH[state]:
        goals.perform(goal, people[BY[action]], action, COMMENT if action == "return" else "")
    db.session.commit()
    assert goal.state == state
    return goal


def events(goal: Goal) -> list[tuple]:
    return [
        (e.action, e.from_state, e.to_state, e.actor_id, e.comment, e.snapshot)
        for e in db.session.scalars(
            select(GoalEvent).where(GoalEvent.goal_id == goal.id).order_by(GoalEvent.id)
        )
    ]


def stored_state(goal: Goal) -> str:
    """The goal's state in the database, whatever the object in memory says."""
    return db.session.execute(
        text("SELECT state FROM goals WHERE id = :id"), {"id": goal.id}
    ).scalar_one()


def count(model: type, *where: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def notices() -> list[tuple]:
    """Every notification: (recipient, kind, actor, params), oldest first."""
    return [
        (n.user_id, n.kind, n.actor_id, n.params)
        for n in db.session.scalars(select(Notification).order_by(Notification.id))
    ]


def goal_notice(goal: Goal) -> dict[str, str]:
    return {"goal_id": str(goal.id), "goal": goal.title}


def written(goal: Goal) -> tuple:
    """Everything a refused step must leave as it was."""
    return (
        stored_state(goal),
        events(goal),
        notices(),
        count(CheckIn),
        count(CompetencyEvidence),
        count(Badge),
        tuple(
            db.session.execute(
                text("SELECT title, progress FROM goals WHERE id = :id"), {"id": goal.id}
            ).one()
        ),
    )


def attempt(goal: Goal, actor: User, action: str) -> object:
    """Try ``action`` as ``actor`` the way the views would: a move, an edit or a check-in."""
    if action == "edit":
        return goals.edit(goal, actor, smart(title="Answer every client within four hours"))
    if action == "check_in":
        return goals.check_in(goal, actor, 40, "Halfway there")
    return goals.perform(goal, actor, action, COMMENT)


def refuse(goal: Goal, actor: User, action: str, status: int) -> GoalRefused:
    """``action`` is refused with ``status`` and changes nothing at all."""
    before = written(goal)
    with pytest.raises(GoalRefused) as refused:
        attempt(goal, actor, action)
    assert refused.value.status == status, str(refused.value)
    assert written(goal) == before
    return refused.value


def levels(user: User, competency_id: str) -> list[int]:
    query = (
        select(CompetencyLevel.level)
        .where(CompetencyLevel.user_id == user.id, CompetencyLevel.competency_id == competency_id)
        .order_by(CompetencyLevel.id)
    )
    return list(db.session.scalars(query))


def org_goal(author: User, ends_on: date = DUE, **scope: Any) -> OrgGoal:
    created = goals.create_org_goal(
        author,
        title=f"Client goal {count(OrgGoal) + 1}",
        measure="NPS from the quarterly survey",
        target="+10 points",
        starts_on=min(TODAY - timedelta(days=60), ends_on),
        ends_on=ends_on,
        **scope,
    )
    db.session.commit()
    return created


# Fixtures ------------------------------------------------------------------------------------


_COURSES: dict[tuple[str, str], Course] = {}


@pytest.fixture(autouse=True)
def quick_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nobody signs in here: people get a one-round hash instead of a slow scrypt."""
    quick = functools.partial(generate_password_hash, method="pbkdf2:sha256:1")
    monkeypatch.setattr("lms.models.users.generate_password_hash", quick)


@pytest.fixture
def ctx(app: Flask) -> Iterator[Flask]:
    """A request in English around the test: refusals are worded in the reader's language.
    The course on disk is loaded once for the whole module, not once per test's app."""
    key = (app.config["CONTENT_DIR"], app.config["QUIZ_DIR"])
    if key in _COURSES:
        app.extensions["lms_course"] = _COURSES[key]
    with app.test_request_context(headers=ENGLISH):
        _COURSES[key] = get_course()
        yield app


@pytest.fixture
def people(ctx: Flask, make: Factory) -> People:
    team = make.team("Support", "Moscow", "Central")
    other_team = make.team("Sales", "Kazan", "Volga")
    return People(
        team=team,
        other_team=other_team,
        owner=make.user("owner@example.test", team=team),
        teammate=make.user("teammate@example.test", team=team),
        manager=make.user("manager@example.test", roles=(Role.MANAGER,), manages=(team,)),
        other_manager=make.user(
            "other.manager@example.test",
            roles=(Role.MANAGER,),
            team=other_team,
            manages=(other_team,),
        ),
        hr=make.user("hr@example.test", roles=(Role.HR,)),
        admin=make.user("admin@example.test", roles=(Role.ADMIN,)),
    )


@pytest.fixture
def boss(people: People, make: Factory) -> User:
    """A member of the owner's team who also manages it, so is their own manager on paper."""
    return make.user(
        "boss@example.test",
        roles=(Role.EMPLOYEE, Role.MANAGER),
        team=people.team,
        manages=(people.team,),
    )


# 1. The state machine ------------------------------------------------------------------------


def test_creating_a_goal_writes_a_draft_and_its_first_event(people: People) -> None:
    """A new goal is a draft of its owner with the fields as written, and a "created" event."""
    fields = smart(competency_ids=tuple(competency_ids()[:2]))
    goal = goals.create(people.owner, fields)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Goal, goal.id)
    assert (stored.user_id, stored.state, stored.progress) == (people.owner.id, DRAFT, 0)
    assert goals.fields_of(stored) == fields
    assert events(stored) == [
        ("created", None, DRAFT, people.owner.id, "", expected_snapshot(fields))
    ]


def test_fields_are_saved_trimmed_with_each_competency_once(people: People) -> None:
    """Spaces around the texts are dropped and a competency chosen twice is one link."""
    ids = competency_ids()
    padded = smart(
        title="  Answer every client request within a day  ",
        measure="\tTickets\n",
        target=" 95% ",
        relevance=" Waiting annoys clients ",
        competency_ids=(ids[2], ids[0], ids[2]),
    )
    goal = goals.create(people.owner, padded)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Goal, goal.id)
    assert (stored.title, stored.measure, stored.target, stored.relevance) == (
        "Answer every client request within a day",
        "Tickets",
        "95%",
        "Waiting annoys clients",
    )
    assert sorted(stored.competency_ids) == sorted([ids[0], ids[2]])


def test_the_created_event_keeps_the_goal_as_saved(people: People) -> None:
    """Submitting a goal right after creating it changes none of its fields, so the "created"
    and "submit" events hold the same fields: the ones that were saved."""
    ids = competency_ids()
    padded = smart(title="  Answer every client request  ", competency_ids=(ids[2], ids[0], ids[2]))
    goal = goals.create(people.owner, padded)
    goals.perform(goal, people.owner, "submit")
    db.session.commit()
    created, submitted = (event[5] for event in events(goal))
    assert created["title"] == goal.title == "Answer every client request"
    assert sorted(created["competency_ids"]) == sorted(goal.competency_ids)
    assert created == submitted


ALLOWED_CASES = [
    pytest.param(DRAFT, "submit", "owner", "", id="submit a draft"),
    pytest.param(RETURNED, "submit", "owner", "Now it has a number", id="submit a returned"),
    pytest.param(SUBMITTED, "approve", "manager", "Good goal", id="approve"),
    pytest.param(SUBMITTED, "approve", "manager", "", id="approve without a comment"),
    pytest.param(SUBMITTED, "return", "manager", f"  {COMMENT}\n", id="return with a comment"),
    pytest.param(APPROVED, "achieve", "owner", "", id="achieve by the owner"),
    pytest.param(APPROVED, "achieve", "manager", "Well done", id="achieve by the manager"),
    pytest.param(APPROVED, "not_achieve", "owner", "Clients moved", id="not achieve, owner"),
    pytest.param(APPROVED, "not_achieve", "manager", "", id="not achieve, manager"),
]


@pytest.mark.parametrize(("state", "action", "actor", "comment"), ALLOWED_CASES)
def test_an_allowed_move_changes_the_state_and_writes_one_event(
    people: People, state: GoalState, action: str, actor: str, comment: str
) -> None:
    """Each move of the machine lands in its state and adds exactly one event: the action,
    both states, who, the comment (trimmed) and the goal's SMART fields at that moment."""
    fields = smart(competency_ids=tuple(competency_ids()[:2]))
    goal = goal_in(people, state, fields)
    before = events(goal)

    event = goals.perform(goal, people[actor], action, comment)
    db.session.commit()

    target = ALLOWED_MOVES[(state, action)]
    assert stored_state(goal) == target
    assert event.goal_id == goal.id
    new = (action, state, target, people[actor].id, comment.strip(), expected_snapshot(fields))
    assert events(goal) == [*before, new]
    assert db.session.get(GoalEvent, event.id).created_at is not None


def test_a_goal_s_whole_life_is_kept_event_by_event(people: People) -> None:
    """Submitted, returned, edited, submitted again, approved and achieved: every step stays in
    the history with the fields as they were then, so the returned version is not lost."""
    first = smart()
    second = smart(title="Answer every client request within four hours", target="90%")
    owner, manager = people.owner.id, people.manager.id
    goal = goals.create(people.owner, first)
    goals.perform(goal, people.owner, "submit")
    goals.perform(goal, people.manager, "return", COMMENT)
    goals.edit(goal, people.owner, second)
    goals.perform(goal, people.owner, "submit")
    goals.perform(goal, people.manager, "approve")
    goals.perform(goal, people.owner, "achieve")
    db.session.commit()

    old, new = expected_snapshot(first), expected_snapshot(second)
    assert events(goal) == [
        ("created", None, DRAFT, owner, "", old),
        ("submit", DRAFT, SUBMITTED, owner, "", old),
        ("return", SUBMITTED, RETURNED, manager, COMMENT, old),
        ("edited", RETURNED, RETURNED, owner, "", new),
        ("submit", RETURNED, SUBMITTED, owner, "", new),
        ("approve", SUBMITTED, APPROVED, manager, "", new),
        ("achieve", APPROVED, ACHIEVED, owner, "", new),
    ]


NOT_ALLOWED = [
    pytest.param(state, action, id=f"{action} when {state}")
    for state in GoalState
    for action in MOVES
    if (state, action) not in ALLOWED_MOVES
]


def test_every_pair_outside_the_machine_is_listed() -> None:
    """The parametrised refusals below cover all 24 pairs the machine does not allow."""
    assert len(NOT_ALLOWED) == len(GoalState) * len(MOVES) - len(ALLOWED_MOVES) == 24


@pytest.mark.parametrize(("state", "action"), NOT_ALLOWED)
def test_a_move_the_state_does_not_allow_is_refused(
    people: People, state: GoalState, action: str
) -> None:
    """Even by the person who may make the move, it is refused in any other state (409), the
    reason names the state, and nothing is written: no state change, event or notification."""
    goal = goal_in(people, state)
    actor = people[BY[action]]
    assert not goals.may(goal, actor, action)
    refused = refuse(goal, actor, action, 409)
    assert goals.state_label(state) in str(refused)
    assert goal.state == state


@pytest.mark.parametrize("comment", ["", "   ", "\n\t"])
def test_returning_without_a_comment_is_refused(people: People, comment: str) -> None:
    """A returned goal needs a comment that says what to change; blank does not count."""
    goal = goal_in(people, SUBMITTED)
    before = written(goal)
    with pytest.raises(GoalRefused, match="needs a comment") as refused:
        goals.perform(goal, people.manager, "return", comment)
    assert refused.value.status == 400
    assert written(goal) == before


def test_a_comment_longer_than_the_limit_is_refused(people: People) -> None:
    """A comment of 2,000 characters is kept; one more character is refused."""
    goal = goal_in(people, SUBMITTED)
    before = written(goal)
    with pytest.raises(GoalRefused) as refused:
        goals.perform(goal, people.manager, "return", "x" * 2001)
    assert refused.value.status == 400
    assert written(goal) == before
    goals.perform(goal, people.manager, "return", "x" * 2000)
    assert events(goal)[-1][4] == "x" * 2000


@pytest.mark.parametrize("state", [DRAFT, RETURNED])
def test_submitting_with_a_due_date_in_the_past_is_refused(people: People, state: str) -> None:
    """A goal whose due date has passed since it was written cannot be submitted."""
    goal = goal_in(people, state)
    goal.due_on = TODAY - timedelta(days=1)
    db.session.commit()
    before = written(goal)
    with pytest.raises(GoalRefused, match="due date has passed") as refused:
        goals.perform(goal, people.owner, "submit")
    assert refused.value.status == 400
    assert written(goal) == before


def test_a_goal_due_today_can_still_be_submitted(people: People) -> None:
    """Today is not in the past."""
    goal = goal_in(people, DRAFT, smart(due_on=TODAY))
    goals.perform(goal, people.owner, "submit")
    assert stored_state(goal) == SUBMITTED


@pytest.mark.parametrize("action", ["delete", "edit", "check_in", "reopen", "", "SUBMIT"])
def test_an_unknown_action_is_refused(people: People, action: str) -> None:
    """Only the five moves are moves; anything else is refused (404) and nothing is written."""
    goal = goal_in(people, DRAFT)
    before = written(goal)
    with pytest.raises(GoalRefused, match="Unknown action") as refused:
        goals.perform(goal, people.owner, action)
    assert refused.value.status == 404
    assert written(goal) == before


# 2. Who may make which move ------------------------------------------------------------------

MATRIX = [
    pytest.param(action, actor, actor in MAY_ACT[action], id=f"{action}-{actor}")
    for action in ALL_ACTIONS
    for actor in ACTORS
]


@pytest.mark.parametrize(("action", "actor", "allowed"), MATRIX)
def test_who_may_make_each_move(people: People, action: str, actor: str, allowed: bool) -> None:
    """In the state where the move is possible: submit and edit by the owner only, approve and
    return by the owner's manager only, closing and check-ins by either; never by a colleague,
    another team's manager, HR or an admin (403, nothing written)."""
    state = sorted(STATES_FOR[action])[0]
    goal = goal_in(people, state)
    person = people[actor]
    assert goals.may(goal, person, action) is allowed
    assert (action in goals.actions_for(goal, person)) is allowed
    if not allowed:
        refuse(goal, person, action, 403)
        return
    before = len(events(goal))
    attempt(goal, person, action)
    db.session.commit()
    if action == "check_in":
        assert [(c.author_id, c.progress) for c in goal.check_ins] == [(person.id, 40)]
        return
    assert len(events(goal)) == before + 1
    action_name, source, target, actor_id, *_rest = events(goal)[-1]
    assert (action_name, source, actor_id) == (
        "edited" if action == "edit" else action,
        state,
        person.id,
    )
    assert stored_state(goal) == target == ALLOWED_MOVES.get((state, action), state)


@pytest.mark.parametrize("state", list(GoalState))
@pytest.mark.parametrize("actor", ACTORS)
def test_may_and_actions_for_agree_with_what_is_done(
    people: People, state: GoalState, actor: str
) -> None:
    """For every state and person, ``may`` and ``actions_for`` offer exactly the steps that then
    succeed, and those are the steps the rules give that person in that state."""
    person = people[actor]
    offered = set(goals.actions_for(goal_in(people, state), person))
    expected = {a for a in ALL_ACTIONS if state in STATES_FOR[a] and actor in MAY_ACT[a]}
    assert offered == expected
    for action in ALL_ACTIONS:
        goal = goal_in(people, state)
        may = goals.may(goal, person, action)
        status = 200
        try:
            attempt(goal, person, action)
        except GoalRefused as refused:
            status = refused.status
        done = status == 200
        assert status in (200, 403, 409), action
        db.session.rollback()
        assert may is done is (action in expected), action


def test_an_owner_who_manages_their_own_team_cannot_approve_or_return_their_goal(
    people: People, boss: User
) -> None:
    """A manager's own goal is theirs to submit and close, but approving or returning it is for
    another manager of the team: "manages" never includes oneself."""
    goal = goals.create(boss, smart())
    goals.perform(goal, boss, "submit")
    db.session.commit()
    assert goals.actions_for(goal, boss) == []
    for action in ("approve", "return"):
        assert not goals.may(goal, boss, action)
        refused = refuse(goal, boss, action, 403)
        assert "approved or returned by your manager" in str(refused)
    assert goal not in goals.goals_to_approve(boss)
    assert goal in goals.goals_to_approve(people.manager)

    goals.perform(goal, people.manager, "approve")
    assert set(goals.actions_for(goal, boss)) == {"achieve", "not_achieve", "check_in"}
    goals.perform(goal, boss, "achieve")
    db.session.commit()
    assert stored_state(goal) == ACHIEVED
    assert [e[3] for e in events(goal)] == [boss.id, boss.id, people.manager.id, boss.id]


def test_the_goals_to_approve_are_the_submitted_goals_of_one_s_active_team(
    people: People, make: Factory
) -> None:
    """A manager's queue holds the submitted goals of active members of their teams only."""
    submitted = goal_in(people, SUBMITTED)
    goal_in(people, DRAFT)
    goal_in(people, APPROVED)
    leaver = make.user(team=people.team, active=False)
    left = goals.create(leaver, smart())
    goals.perform(left, leaver, "submit")
    stranger = make.user(team=people.other_team)
    elsewhere = goals.create(stranger, smart())
    goals.perform(elsewhere, stranger, "submit")
    db.session.commit()
    assert goals.goals_to_approve(people.manager) == [submitted]
    assert goals.goals_to_approve(people.other_manager) == [elsewhere]
    assert goals.goals_to_approve(people.owner) == []


# 3. Editing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [DRAFT, RETURNED])
def test_the_owner_edits_a_draft_or_returned_goal(people: People, state: GoalState) -> None:
    """Every field can change; the state stays; an "edited" event keeps the new fields."""
    goal = goal_in(people, state)
    ids = competency_ids()
    changed = GoalFields(
        title="Call back every unhappy client",
        measure="Calls logged in the CRM",
        target="All of them within two days",
        relevance="An unhappy client who is called back stays",
        due_on=DUE + timedelta(days=10),
        competency_ids=(ids[3], ids[1]),
    )
    goals.edit(goal, people.owner, changed)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Goal, goal.id)
    assert goals.fields_of(stored) == replace(
        changed, competency_ids=tuple(sorted((ids[3], ids[1])))
    )
    assert stored.state == state
    edited = ("edited", state, state, people.owner.id, "", expected_snapshot(changed))
    assert events(stored)[-1] == edited


@pytest.mark.parametrize("state", [SUBMITTED, APPROVED, ACHIEVED, NOT_ACHIEVED])
def test_a_goal_that_is_not_a_draft_or_returned_cannot_be_edited(
    people: People, state: GoalState
) -> None:
    """Once submitted, the goal is what the manager sees: the owner cannot change it (409)."""
    goal = goal_in(people, state)
    assert not goals.may(goal, people.owner, "edit")
    refused = refuse(goal, people.owner, "edit", 409)
    assert goals.state_label(state) in str(refused)


INVALID_FIELDS = [
    pytest.param({"competency_ids": ()}, "at least one competency", id="no competency"),
    pytest.param({"competency_ids": ("telepathy",)}, "competencies of the framework", id="unknown"),
    pytest.param(
        {"competency_ids": ("ownership", "telepathy")},
        "competencies of the framework",
        id="one known and one unknown",
    ),
    pytest.param(
        {"due_on": TODAY - timedelta(days=1)}, "due date has passed", id="due date in the past"
    ),
]


@pytest.mark.parametrize(("changes", "reason"), INVALID_FIELDS)
def test_invalid_fields_are_refused_on_creating(
    people: People, changes: dict[str, Any], reason: str
) -> None:
    """A goal without a framework competency, or already overdue, is not created at all."""
    with pytest.raises(GoalRefused, match=reason) as refused:
        goals.create(people.owner, smart(**changes))
    assert refused.value.status == 400
    db.session.rollback()
    assert (count(Goal), count(GoalEvent)) == (0, 0)


@pytest.mark.parametrize(("changes", "reason"), INVALID_FIELDS)
def test_invalid_fields_are_refused_on_editing(
    people: People, changes: dict[str, Any], reason: str
) -> None:
    """An edit with the same problems leaves the goal and its history as they were."""
    goal = goal_in(people, DRAFT)
    before = written(goal)
    with pytest.raises(GoalRefused, match=reason):
        goals.edit(goal, people.owner, smart(title="Changed", **changes))
    assert written(goal) == before
    assert goal.title == smart().title


def test_a_goal_serves_an_org_goal_of_the_owner_s_centre_or_region(
    people: People, make: Factory
) -> None:
    """The owner's centre's and region's current goals can be linked; another centre's in the
    same region, another region's, an ended one and one that does not exist cannot."""
    region = people.team.centre.region
    neighbour = make.team("Billing", "Tula", "Central").centre
    assert neighbour.region_id == region.id
    own_centre = org_goal(people.admin, centre=people.team.centre)
    own_region = org_goal(people.admin, region=region)
    for allowed in (own_centre, own_region):
        goal = goals.create(people.owner, smart(org_goal_id=allowed.id))
        assert goal.org_goal_id == allowed.id
    db.session.commit()

    refused = [
        org_goal(people.admin, centre=neighbour).id,
        org_goal(people.admin, region=people.other_team.centre.region).id,
        org_goal(people.admin, centre=people.other_team.centre).id,
        org_goal(people.admin, TODAY - timedelta(days=1), centre=people.team.centre).id,
        999_999,
    ]
    goal = goal_in(people, DRAFT)
    before = (count(Goal), written(goal))
    for org_goal_id in refused:
        with pytest.raises(GoalRefused, match="organisational goal of your centre or region"):
            goals.create(people.owner, smart(org_goal_id=org_goal_id))
        with pytest.raises(GoalRefused, match="organisational goal of your centre or region"):
            goals.edit(goal, people.owner, smart(org_goal_id=org_goal_id))
    assert (count(Goal), written(goal)) == before


def test_an_org_goal_that_has_ended_since_may_stay_linked(people: People) -> None:
    """Editing a returned goal keeps its link to an org goal whose period ended meanwhile; it
    cannot be switched to another ended one."""
    linked = org_goal(people.admin, centre=people.team.centre)
    other_ended = org_goal(people.admin, TODAY - timedelta(days=1), centre=people.team.centre)
    goal = goal_in(people, RETURNED, smart(org_goal_id=linked.id))
    linked.ends_on = TODAY - timedelta(days=1)
    db.session.commit()
    assert linked not in goals.org_goals_for(people.owner)

    goals.edit(goal, people.owner, smart(title="Kept", org_goal_id=linked.id))
    db.session.commit()
    assert (goal.title, goal.org_goal_id) == ("Kept", linked.id)
    with pytest.raises(GoalRefused):
        goals.edit(goal, people.owner, smart(org_goal_id=other_ended.id))


# 4. Check-ins --------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [DRAFT, SUBMITTED, RETURNED, ACHIEVED, NOT_ACHIEVED])
def test_check_ins_are_only_for_approved_goals(people: People, state: GoalState) -> None:
    """A goal that is not approved and in progress takes no check-in (409)."""
    goal = goal_in(people, state)
    for person in (people.owner, people.manager):
        assert not goals.may(goal, person, "check_in")
        refused = refuse(goal, person, "check_in", 409)
        assert goals.state_label(state) in str(refused)


@pytest.mark.parametrize("progress", [-1, 101, 1000, -100])
def test_progress_outside_0_to_100_is_refused(people: People, progress: int) -> None:
    """Progress is a percentage: anything else is refused (400) and nothing is written."""
    goal = goal_in(people, APPROVED)
    before = written(goal)
    with pytest.raises(GoalRefused, match="from 0 to 100") as refused:
        goals.check_in(goal, people.owner, progress)
    assert refused.value.status == 400
    assert written(goal) == before


def test_a_note_longer_than_the_limit_is_refused(people: People) -> None:
    """A check-in note over 2,000 characters is refused and nothing is written."""
    goal = goal_in(people, APPROVED)
    before = written(goal)
    with pytest.raises(GoalRefused):
        goals.check_in(goal, people.owner, 10, "x" * 2001)
    assert written(goal) == before


def test_every_check_in_is_kept_and_progress_follows_the_latest(people: People) -> None:
    """Check-ins from the owner and the manager are all kept, newest first on the goal; the
    goal's progress is the latest one's, even when it went down; 0 and 100 are accepted."""
    goal = goal_in(people, APPROVED)
    steps = [
        (people.owner, 0, "  Started  "),
        (people.owner, 60, "Most teams answer in a day"),
        (people.manager, 45, "Two teams fell behind"),
        (people.owner, 100, ""),
        (people.manager, 70, "The holiday rush"),
    ]
    for person, progress, note in steps:
        entry = goals.check_in(goal, person, progress, note)
        db.session.commit()
        assert (entry.goal_id, entry.author_id, entry.progress) == (goal.id, person.id, progress)
        db.session.expire_all()
        assert db.session.get(Goal, goal.id).progress == progress
    kept = [(c.author_id, c.progress, c.note) for c in db.session.get(Goal, goal.id).check_ins]
    expected = [(person.id, progress, note.strip()) for person, progress, note in steps]
    assert kept == expected[::-1]
    assert stored_state(goal) == APPROVED

    goals.perform(goal, people.owner, "achieve")
    db.session.commit()
    refuse(goal, people.owner, "check_in", 409)
    assert count(CheckIn, CheckIn.goal_id == goal.id) == len(steps)
    assert db.session.get(Goal, goal.id).progress == 70


# 5. An achieved goal as evidence -------------------------------------------------------------


@pytest.mark.parametrize("closer", ["owner", "manager"])
def test_an_achieved_goal_is_level_2_evidence_and_one_badge(people: People, closer: str) -> None:
    """For each linked competency: goal evidence at level 2 with the goal as its source, the
    level raised to 2 from nothing, from a quiz's 1 and from an earlier review's 1, kept at 3
    after a review of 3; and exactly one goal badge for this goal."""
    fresh, quizzed, reviewed_low, reviewed_high, unlinked = competency_ids()[:5]
    owner = people.owner
    competencies.record_evidence(owner, quizzed, EvidenceKind.QUIZ, 1, source="client-centricity")
    competencies.record_evidence(
        owner, reviewed_low, EvidenceKind.REVIEW, 1, recorded_by=people.manager
    )
    competencies.record_evidence(
        owner, reviewed_high, EvidenceKind.REVIEW, 3, recorded_by=people.manager
    )
    linked = (fresh, quizzed, reviewed_low, reviewed_high)
    goal = goal_in(people, APPROVED, smart(competency_ids=linked))
    before = count(CompetencyEvidence)

    goals.perform(goal, people[closer], "achieve")
    db.session.commit()

    recorded = db.session.scalars(
        select(CompetencyEvidence)
        .where(CompetencyEvidence.kind == EvidenceKind.GOAL)
        .order_by(CompetencyEvidence.competency_id)
    ).all()
    assert [
        (e.user_id, e.competency_id, e.level, e.source, e.comment, e.recorded_by_id)
        for e in recorded
    ] == [
        (owner.id, c, 2, f"goal:{goal.id}", goal.title, people[closer].id) for c in sorted(linked)
    ]
    assert count(CompetencyEvidence) == before + len(linked)
    assert levels(owner, fresh) == [2]
    assert levels(owner, quizzed) == [1, 2]
    assert levels(owner, reviewed_low) == [1, 2]
    assert levels(owner, reviewed_high) == [3]
    assert levels(owner, unlinked) == []
    goal_badges = db.session.scalars(
        select(Badge).where(Badge.kind == BadgeKind.GOAL_ACHIEVED)
    ).all()
    assert [(b.user_id, b.subject) for b in goal_badges] == [(owner.id, str(goal.id))]


def test_two_achieved_goals_give_two_badges(people: People) -> None:
    """The badge is per goal: a second achieved goal is a second badge, never a third."""
    first = goal_in(people, ACHIEVED)
    second = goal_in(people, ACHIEVED)
    subjects = db.session.scalars(
        select(Badge.subject).where(Badge.kind == BadgeKind.GOAL_ACHIEVED).order_by(Badge.id)
    ).all()
    assert subjects == [str(first.id), str(second.id)]


def test_a_goal_not_achieved_is_no_evidence_and_no_badge(people: People) -> None:
    """Closing a goal as not achieved records nothing about competencies and awards nothing."""
    goal = goal_in(people, APPROVED, smart(competency_ids=tuple(competency_ids()[:3])))
    goals.perform(goal, people.manager, "not_achieve", "The pilot was cancelled")
    db.session.commit()
    assert stored_state(goal) == NOT_ACHIEVED
    assert (count(CompetencyEvidence), count(CompetencyLevel), count(Badge)) == (0, 0, 0)
    assert [n for n in notices() if n[1] == NotificationKind.BADGE_AWARDED] == []


# 6. Who is told ------------------------------------------------------------------------------


def test_submitting_tells_every_manager_of_the_team_and_nobody_else(
    people: People, make: Factory
) -> None:
    """Each manager of the owner's team is told once; not the owner, a colleague, another
    team's manager, HR or an admin."""
    second = make.user("second.manager@example.test", roles=(Role.MANAGER,), manages=(people.team,))
    goal = goal_in(people, DRAFT)
    goals.perform(goal, people.owner, "submit")
    db.session.commit()
    told = {(user, kind, actor) for user, kind, actor, _params in notices()}
    assert told == {
        (people.manager.id, NotificationKind.GOAL_SUBMITTED, people.owner.id),
        (second.id, NotificationKind.GOAL_SUBMITTED, people.owner.id),
    }
    assert [params for *_rest, params in notices()] == [goal_notice(goal)] * 2


@pytest.mark.parametrize(
    ("action", "kind"),
    [("approve", NotificationKind.GOAL_APPROVED), ("return", NotificationKind.GOAL_RETURNED)],
)
def test_approving_or_returning_tells_the_owner_only(
    people: People, make: Factory, action: str, kind: NotificationKind
) -> None:
    """The owner hears who approved or returned their goal; the manager who acted and the
    team's other manager hear nothing."""
    make.user("second.manager@example.test", roles=(Role.MANAGER,), manages=(people.team,))
    goal = goal_in(people, SUBMITTED)
    before = notices()
    goals.perform(goal, people.manager, action, COMMENT)
    db.session.commit()
    assert notices() == [*before, (people.owner.id, kind, people.manager.id, goal_notice(goal))]


def test_a_manager_submitting_their_own_goal_is_not_told_about_it(
    people: People, boss: User
) -> None:
    """The boss is a manager of their own team: the submission goes to the other manager."""
    goal = goals.create(boss, smart())
    goals.perform(goal, boss, "submit")
    db.session.commit()
    assert notices() == [
        (people.manager.id, NotificationKind.GOAL_SUBMITTED, boss.id, goal_notice(goal))
    ]


@pytest.mark.parametrize("closer", ["owner", "manager"])
def test_closing_a_goal_tells_nobody_about_the_move_itself(people: People, closer: str) -> None:
    """Achieving or not achieving notifies no one of the move; achieving only brings the owner
    the notice of their badge."""
    for action in ("achieve", "not_achieve"):
        goal = goal_in(people, APPROVED)
        before = notices()
        goals.perform(goal, people[closer], action)
        db.session.commit()
        new = notices()[len(before) :]
        if action == "not_achieve":
            assert new == []
        else:
            assert [(user, kind, actor) for user, kind, actor, _params in new] == [
                (people.owner.id, NotificationKind.BADGE_AWARDED, None)
            ]


# 7. Two moves at once ------------------------------------------------------------------------

RACES = [
    pytest.param(SUBMITTED, ("manager", "approve"), ("second", "return"), id="approve-return"),
    pytest.param(SUBMITTED, ("manager", "return"), ("second", "approve"), id="return-approve"),
    pytest.param(SUBMITTED, ("manager", "approve"), ("second", "approve"), id="approve twice"),
    pytest.param(APPROVED, ("owner", "achieve"), ("manager", "not_achieve"), id="achieve-not"),
    pytest.param(APPROVED, ("manager", "achieve"), ("owner", "achieve"), id="achieve twice"),
    pytest.param(DRAFT, ("owner", "submit"), ("owner", "submit"), id="submit twice"),
]


@pytest.mark.parametrize(("state", "first", "late"), RACES)
def test_a_move_on_a_goal_moved_meanwhile_is_refused(
    app: Flask,
    people: People,
    make: Factory,
    state: GoalState,
    first: tuple[str, str],
    late: tuple[str, str],
) -> None:
    """Somebody loads the goal; meanwhile another request makes a move and commits; their own
    move on the stale goal is then refused (409) and writes nothing: one event, one set of
    notifications, at most one badge."""
    second = make.user("second.manager@example.test", roles=(Role.MANAGER,), manages=(people.team,))
    actors = {**{key: people[key] for key in ACTORS}, "second": second}
    goal = goal_in(people, state)
    late_actor = actors[late[0]]
    assert goal.state == state  # loaded, and about to be stale
    assert goals.may(goal, late_actor, late[1])

    with app.app_context(), app.test_request_context(headers=ENGLISH):  # another request
        other = db.session.get(Goal, goal.id)
        goals.perform(other, db.session.get(User, actors[first[0]].id), first[1], COMMENT)
        db.session.commit()
    winner = ALLOWED_MOVES[(state, first[1])]
    before = (events(goal), notices(), count(CompetencyEvidence), count(Badge), count(CheckIn))
    assert stored_state(goal) == winner
    assert goal.state == state

    with pytest.raises(GoalRefused) as refused:
        goals.perform(goal, late_actor, late[1], COMMENT)
    assert refused.value.status == 409
    assert goals.state_label(winner) in str(refused.value)
    assert goal.state == winner  # the refusal shows the goal as it is now
    db.session.commit()
    assert (events(goal), notices(), count(CompetencyEvidence), count(Badge), count(CheckIn)) == (
        before
    )
    assert [e[0] for e in events(goal)][len(PATH[state]) + 1 :] == [first[1]]


def test_a_stale_goal_changed_by_a_direct_update_is_refused(people: People) -> None:
    """The conditional UPDATE, not the object in memory, decides: a goal returned behind the
    session's back cannot be approved on the strength of its stale state."""
    goal = goal_in(people, SUBMITTED)
    before = written(goal)
    db.session.execute(text("UPDATE goals SET state = 'returned' WHERE id = :id"), {"id": goal.id})
    assert goal.state == SUBMITTED
    with pytest.raises(GoalRefused) as refused:
        goals.perform(goal, people.manager, "approve", "Fine")
    assert refused.value.status == 409
    assert goal.state == RETURNED
    assert written(goal) == (RETURNED, *before[1:])


def test_a_move_from_a_state_the_goal_left_meanwhile_is_refused(people: People) -> None:
    """A goal that is in memory a draft but in the database returned (submitted and returned
    meanwhile) is not submitted on the strength of what this request saw: the move is refused
    and the history never says it left a state it was not in."""
    goal = goal_in(people, DRAFT)
    before = events(goal)
    db.session.execute(text("UPDATE goals SET state = 'returned' WHERE id = :id"), {"id": goal.id})
    assert goal.state == DRAFT
    with pytest.raises(GoalRefused) as refused:
        goals.perform(goal, people.owner, "submit")
    assert refused.value.status == 409
    assert stored_state(goal) == RETURNED
    assert events(goal) == before


def test_a_check_in_on_a_goal_closed_meanwhile_is_refused(people: People) -> None:
    """A goal achieved behind the session's back takes no check-in, like a move would not."""
    goal = goal_in(people, APPROVED)
    before = written(goal)
    db.session.execute(text("UPDATE goals SET state = 'achieved' WHERE id = :id"), {"id": goal.id})
    with pytest.raises(GoalRefused):
        goals.check_in(goal, people.owner, 90, "Almost")
    assert written(goal) == (ACHIEVED, *before[1:])


def test_an_edit_of_a_goal_submitted_meanwhile_is_refused(people: People) -> None:
    """A goal submitted behind the session's back is not changed under the manager's eyes."""
    goal = goal_in(people, DRAFT)
    before = written(goal)
    db.session.execute(text("UPDATE goals SET state = 'submitted' WHERE id = :id"), {"id": goal.id})
    with pytest.raises(GoalRefused):
        goals.edit(goal, people.owner, smart(title="Something else"))
    assert written(goal) == (SUBMITTED, *before[1:])


def press_at_once(app: Flask, goal_id: int, presses: list[tuple[int, str]]) -> dict[str, int]:
    """Each (manager, action) in its own thread, request and transaction; both load the goal,
    then wait for each other and move. The answer per action: 200 or the refusal's status."""
    barrier = threading.Barrier(len(presses), timeout=30)

    def press(actor_id: int, action: str) -> tuple[str, int]:
        with app.test_request_context(headers=ENGLISH):
            loaded = db.session.get(Goal, goal_id)
            actor = db.session.get(User, actor_id)
            assert loaded is not None
            assert loaded.state == SUBMITTED
            assert actor is not None
            barrier.wait()
            try:
                goals.perform(loaded, actor, action, COMMENT)
            except GoalRefused as refused:
                db.session.rollback()
                return action, refused.status
            db.session.commit()
            return action, 200

    with ThreadPoolExecutor(max_workers=len(presses)) as pool:
        futures = [pool.submit(press, *pair) for pair in presses]
        return dict(future.result(timeout=60) for future in futures)


def test_two_managers_at_the_same_moment_one_wins(
    app: Flask, people: People, make: Factory
) -> None:
    """Two managers press "approve" and "return" on one goal at the same moment, each in their
    own request and transaction: exactly one move is made, the other is told (409)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite locks the whole file, so two writes never overlap")
    second = make.user("second.manager@example.test", roles=(Role.MANAGER,), manages=(people.team,))
    presses = [(people.manager.id, "approve"), (second.id, "return")]
    for round_ in range(6):
        goal = goal_in(people, SUBMITTED)
        notices_before = len(notices())
        db.session.commit()  # the test holds no transaction while the requests run

        results = press_at_once(app, goal.id, presses if round_ % 2 else presses[::-1])

        assert sorted(results.values()) == [200, 409], results
        won = next(action for action, status in results.items() if status == 200)
        db.session.expire_all()
        assert stored_state(goal) == ALLOWED_MOVES[(SUBMITTED, won)]
        assert [e[0] for e in events(goal)] == ["created", "submit", won]
        kind = (
            NotificationKind.GOAL_APPROVED if won == "approve" else NotificationKind.GOAL_RETURNED
        )
        assert [(n[0], n[1]) for n in notices()[notices_before:]] == [(people.owner.id, kind)]
        db.session.commit()


# 8. Organisational goals ---------------------------------------------------------------------


@dataclass
class Org:
    north: Region
    south: Region
    north_centre: Centre
    north_other_centre: Centre
    south_centre: Centre


@pytest.fixture
def org(ctx: Flask, make: Factory) -> Org:
    first = make.team("Support", "Moscow", "Central")
    second = make.team("Billing", "Tula", "Central")
    third = make.team("Sales", "Kazan", "Volga")
    return Org(
        north=first.centre.region,
        south=third.centre.region,
        north_centre=first.centre,
        north_other_centre=second.centre,
        south_centre=third.centre,
    )


def new_org_goal(author: User, starts: date = TODAY, ends: date = DUE, **scope: Any) -> OrgGoal:
    return goals.create_org_goal(
        author,
        title="  Fewer repeat calls  ",
        measure=" Repeat calls within 7 days ",
        target=" -20% ",
        starts_on=starts,
        ends_on=ends,
        **scope,
    )


def test_regional_hr_sets_org_goals_in_their_region_only(org: Org, make: Factory) -> None:
    """HR limited to a region sets goals for it and its centres; another region or one of its
    centres is refused (403) and nothing is written."""
    hr = make.user(roles=(Role.HR,), hr_region=org.north)
    for scope in ({"region": org.north}, {"centre": org.north_centre}):
        created = new_org_goal(hr, **scope)
        assert (created.created_by_id, created.title, created.measure, created.target) == (
            hr.id,
            "Fewer repeat calls",
            "Repeat calls within 7 days",
            "-20%",
        )
    db.session.commit()
    stored = db.session.scalars(select(OrgGoal).order_by(OrgGoal.id))
    assert [(g.region_id, g.centre_id) for g in stored] == [
        (org.north.id, None),
        (None, org.north_centre.id),
    ]
    for scope in ({"region": org.south}, {"centre": org.south_centre}):
        with pytest.raises(GoalRefused, match="only within your region") as refused:
            new_org_goal(hr, **scope)
        assert refused.value.status == 403
    assert count(OrgGoal) == 2


@pytest.mark.parametrize("who", ["hr everywhere", "admin"])
def test_hr_without_a_region_and_admins_set_org_goals_anywhere(
    org: Org, make: Factory, who: str
) -> None:
    """HR without a region and admins set goals for any region and any centre."""
    roles = (Role.HR,) if who == "hr everywhere" else (Role.ADMIN,)
    author = make.user(roles=roles)
    for scope in (
        {"region": org.north},
        {"region": org.south},
        {"centre": org.north_centre},
        {"centre": org.south_centre},
    ):
        new_org_goal(author, **scope)
    db.session.commit()
    assert count(OrgGoal, OrgGoal.created_by_id == author.id) == 4


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.MANAGER])
def test_employees_and_managers_cannot_set_org_goals(org: Org, make: Factory, role: Role) -> None:
    """Not even for their own centre or region (403)."""
    team = org.north_centre.teams[0]
    person = make.user(roles=(role,), team=team, manages=(team,) if role == Role.MANAGER else ())
    for scope in ({"region": org.north}, {"centre": org.north_centre}):
        with pytest.raises(GoalRefused) as refused:
            new_org_goal(person, **scope)
        assert refused.value.status == 403
    assert count(OrgGoal) == 0


def test_an_org_goal_s_period_cannot_end_before_it_starts(org: Org, make: Factory) -> None:
    """A period of one day is fine; one that ends the day before it starts is refused."""
    admin = make.user(roles=(Role.ADMIN,))
    with pytest.raises(GoalRefused, match="ends before it starts") as refused:
        new_org_goal(admin, DUE, DUE - timedelta(days=1), region=org.north)
    assert refused.value.status == 400
    assert count(OrgGoal) == 0
    new_org_goal(admin, DUE, DUE, region=org.north)
    assert count(OrgGoal) == 1


def test_an_org_goal_is_for_exactly_one_region_or_centre(org: Org, make: Factory) -> None:
    """Neither a region nor a centre, or both, is refused."""
    admin = make.user(roles=(Role.ADMIN,))
    for scope in ({}, {"region": org.north, "centre": org.north_centre}):
        with pytest.raises(GoalRefused, match="either a region or a centre"):
            new_org_goal(admin, **scope)
    assert count(OrgGoal) == 0


def test_a_person_sees_their_centre_s_and_region_s_current_org_goals(
    org: Org, make: Factory
) -> None:
    """Their centre's and their region's goals that have not ended (ending today or starting
    later included), in order of their end; not another centre's, another region's, or ended
    ones; nothing for a person without a team."""
    admin = make.user(roles=(Role.ADMIN,))
    team = org.north_centre.teams[0]
    person = make.user(team=team)
    later, soon = TODAY + timedelta(days=90), TODAY + timedelta(days=10)
    expected = [
        new_org_goal(admin, TODAY - timedelta(days=30), TODAY, centre=org.north_centre),
        new_org_goal(admin, TODAY, soon, region=org.north),
        new_org_goal(admin, soon, later, centre=org.north_centre),
    ]
    new_org_goal(admin, TODAY - timedelta(days=30), TODAY - timedelta(days=1), region=org.north)
    new_org_goal(admin, TODAY - timedelta(days=30), TODAY - timedelta(days=1), centre=team.centre)
    new_org_goal(admin, TODAY, later, centre=org.north_other_centre)
    new_org_goal(admin, TODAY, later, region=org.south)
    new_org_goal(admin, TODAY, later, centre=org.south_centre)
    db.session.commit()

    assert goals.org_goals_for(person) == expected
    assert goals.org_goals_for(person, today=TODAY + timedelta(days=1)) == expected[1:]
    assert goals.org_goals_for(make.user()) == []
