"""Individual client-centric goals and the organisational goals they serve.

A goal moves through a state machine; each move names who may make it:

    draft ──submit──▶ submitted ──approve──▶ approved ──achieve──────▶ achieved
      ▲                  │                     │
      │               return (with a comment)  └──not_achieve──▶ not achieved
      │                  ▼
      └── (edit) ── returned ──submit──▶ submitted

- the owner edits a draft or a returned goal, submits it, and closes it at the end;
- only a manager of the owner's team approves or returns it, never the owner, even when
  the owner is a manager too;
- check-ins (progress and a note) are recorded on an approved goal by the owner or a
  manager;
- an achieved goal is evidence (up to level 2) for each competency it links, and a badge.

A move is one conditional ``UPDATE ... WHERE state IN (...)``, so of two managers pressing
"approve" and "return" at the same moment exactly one wins and the other is told. Every move
is a new ``GoalEvent`` with who, when, the comment and the goal's fields at that moment.
Functions flush; the view commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update
from sqlalchemy.orm import contains_eager

from lms.content import get_course
from lms.extensions import db
from lms.models import (
    BadgeKind,
    Centre,
    CheckIn,
    EvidenceKind,
    Goal,
    GoalCompetency,
    GoalEvent,
    GoalState,
    NotificationKind,
    OrgGoal,
    Region,
    Role,
    User,
    utcnow,
)
from lms.permissions import can_set_org_goal, manages
from lms.services import audit, competencies, notifications, recognition

GOAL_EVIDENCE_LEVEL = 2
COMMENT_MAX = 2000

STATE_LABELS = {
    GoalState.DRAFT: _l("draft"),
    GoalState.SUBMITTED: _l("waiting for approval"),
    GoalState.APPROVED: _l("approved, in progress"),
    GoalState.RETURNED: _l("returned for changes"),
    GoalState.ACHIEVED: _l("achieved"),
    GoalState.NOT_ACHIEVED: _l("not achieved"),
}

EVENT_LABELS = {
    "created": _l("Drafted"),
    "edited": _l("Changed"),
    "submit": _l("Submitted for approval"),
    "approve": _l("Approved"),
    "return": _l("Returned for changes"),
    "achieve": _l("Marked achieved"),
    "not_achieve": _l("Marked not achieved"),
}


def event_label(action: str) -> str:
    return str(EVENT_LABELS.get(action, action))


class GoalRefused(Exception):
    """A step the rules do not allow; the message tells the person why, in their language.

    ``status`` is the HTTP answer a view gives: 403 when the person may not make the move,
    409 when the goal is not in a state that allows it, 400 when what they wrote is invalid.
    """

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[GoalState]
    target: GoalState
    by_owner: bool
    by_manager: bool


TRANSITIONS = {
    transition.action: transition
    for transition in (
        Transition(
            "submit", frozenset({GoalState.DRAFT, GoalState.RETURNED}), GoalState.SUBMITTED,
            by_owner=True, by_manager=False,
        ),
        Transition(
            "approve", frozenset({GoalState.SUBMITTED}), GoalState.APPROVED,
            by_owner=False, by_manager=True,
        ),
        Transition(
            "return", frozenset({GoalState.SUBMITTED}), GoalState.RETURNED,
            by_owner=False, by_manager=True,
        ),
        Transition(
            "achieve", frozenset({GoalState.APPROVED}), GoalState.ACHIEVED,
            by_owner=True, by_manager=True,
        ),
        Transition(
            "not_achieve", frozenset({GoalState.APPROVED}), GoalState.NOT_ACHIEVED,
            by_owner=True, by_manager=True,
        ),
    )
}  # fmt: skip

EDITABLE = frozenset({GoalState.DRAFT, GoalState.RETURNED})
CHECK_IN_STATES = frozenset({GoalState.APPROVED})


@dataclass(frozen=True)
class GoalFields:
    """What a person writes: the SMART fields, the competencies and the organisational goal."""

    title: str
    measure: str
    target: str
    relevance: str
    due_on: date
    competency_ids: Sequence[str]
    org_goal_id: int | None = None

    def snapshot(self) -> dict[str, object]:
        return {
            "title": self.title,
            "measure": self.measure,
            "target": self.target,
            "relevance": self.relevance,
            "due_on": self.due_on.isoformat(),
            "competency_ids": list(self.competency_ids),
            "org_goal_id": self.org_goal_id,
        }


def state_label(state: str) -> str:
    label = STATE_LABELS.get(state)  # type: ignore[call-overload]  # a StrEnum key is a str
    return str(label) if label is not None else state


def _is_owner(goal: Goal, actor: User) -> bool:
    return goal.user_id == actor.id


def may(goal: Goal, actor: User, action: str) -> bool:
    """Whether ``actor`` may make this move now (the state and who they are)."""
    if action == "edit":
        return _is_owner(goal, actor) and goal.state in EDITABLE
    if action == "check_in":
        return goal.state in CHECK_IN_STATES and (
            _is_owner(goal, actor) or manages(actor, goal.user)
        )
    transition = TRANSITIONS[action]
    if goal.state not in transition.sources:
        return False
    return _may_act(transition, goal, actor)


def _may_act(transition: Transition, goal: Goal, actor: User) -> bool:
    if _is_owner(goal, actor):
        return transition.by_owner
    return transition.by_manager and manages(actor, goal.user)


def actions_for(goal: Goal, actor: User) -> list[str]:
    return [action for action in (*TRANSITIONS, "edit", "check_in") if may(goal, actor, action)]


def org_goals_for(person: User, today: date | None = None) -> list[OrgGoal]:
    """The organisational goals a person's goal can serve: their centre's and region's,
    whose period has not ended."""
    if person.team is None:
        return []
    today = today or date.today()
    centre = person.team.centre
    query = (
        select(OrgGoal)
        .where(
            or_(OrgGoal.centre_id == centre.id, OrgGoal.region_id == centre.region_id),
            OrgGoal.ends_on >= today,
        )
        .order_by(OrgGoal.ends_on, OrgGoal.title)
    )
    return list(db.session.scalars(query))


def _check_fields(owner: User, fields: GoalFields, current: Goal | None = None) -> None:
    problems = []
    course = get_course()
    if not fields.competency_ids:
        problems.append(_("Link the goal to at least one competency."))
    elif any(c not in course.competencies for c in fields.competency_ids):
        problems.append(_("Choose competencies of the framework."))
    if fields.due_on < date.today():
        problems.append(_("The due date has passed; choose a date from today on."))
    if fields.org_goal_id is not None:
        allowed = {org_goal.id for org_goal in org_goals_for(owner)}
        unchanged = current is not None and current.org_goal_id == fields.org_goal_id
        if fields.org_goal_id not in allowed and not unchanged:
            problems.append(_("Choose an organisational goal of your centre or region."))
    if problems:
        raise GoalRefused(" ".join(problems))


def create(owner: User, fields: GoalFields) -> Goal:
    """A new draft goal of ``owner``; nobody drafts a goal for somebody else."""
    _check_fields(owner, fields)
    goal = Goal(user_id=owner.id, state=GoalState.DRAFT)
    _apply(goal, fields)
    db.session.add(goal)
    db.session.flush()
    _event(goal, owner, "created", None, GoalState.DRAFT)  # the goal as saved, trimmed
    return goal


def edit(goal: Goal, actor: User, fields: GoalFields) -> Goal:
    if not _is_owner(goal, actor):
        raise GoalRefused(_("Only the goal's owner can change it."), 403)
    if goal.state not in EDITABLE:
        raise GoalRefused(
            _("A goal that is %(state)s cannot be changed.", state=state_label(goal.state)), 409
        )
    _check_fields(goal.user, fields, current=goal)
    state = goal.state
    if not _claim(goal, state):
        raise GoalRefused(
            _("A goal that is %(state)s cannot be changed.", state=state_label(goal.state)), 409
        )
    _apply(goal, fields)
    db.session.flush()
    _event(goal, actor, "edited", state, GoalState(state))
    return goal


def _apply(goal: Goal, fields: GoalFields) -> None:
    goal.title = fields.title.strip()
    goal.measure = fields.measure.strip()
    goal.target = fields.target.strip()
    goal.relevance = fields.relevance.strip()
    goal.due_on = fields.due_on
    goal.org_goal_id = fields.org_goal_id
    wanted = list(dict.fromkeys(fields.competency_ids))
    goal.competency_links = [
        next((link for link in goal.competency_links if link.competency_id == c), None)
        or GoalCompetency(competency_id=c)
        for c in wanted
    ]


def fields_of(goal: Goal) -> GoalFields:
    return GoalFields(
        title=goal.title,
        measure=goal.measure,
        target=goal.target,
        relevance=goal.relevance,
        due_on=goal.due_on,
        competency_ids=tuple(goal.competency_ids),
        org_goal_id=goal.org_goal_id,
    )


def _event(
    goal: Goal,
    actor: User,
    action: str,
    source: str | None,
    target: GoalState,
    *,
    comment: str = "",
    snapshot: dict[str, object] | None = None,
) -> GoalEvent:
    event = GoalEvent(
        goal_id=goal.id,
        action=action,
        from_state=source,
        to_state=target,
        actor_id=actor.id,
        comment=comment,
        snapshot=snapshot or fields_of(goal).snapshot(),
    )
    db.session.add(event)
    db.session.flush()
    return event


def perform(goal: Goal, actor: User, action: str, comment: str = "") -> GoalEvent:
    """Make one move of the state machine, or refuse it with the reason."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise GoalRefused(_("Unknown action."), 404)
    comment = comment.strip()
    if not _may_act(transition, goal, actor):
        if _is_owner(goal, actor):
            raise GoalRefused(_("Your own goal is approved or returned by your manager."), 403)
        if not transition.by_manager:
            raise GoalRefused(_("Only the goal's owner can do this."), 403)
        if not transition.by_owner:
            raise GoalRefused(_("Only a manager of the goal owner's team can do this."), 403)
        raise GoalRefused(_("Only the owner of the goal or their manager can do this."), 403)
    if goal.state not in transition.sources:
        raise GoalRefused(_refusal(action, goal.state), 409)
    if action == "return" and not comment:
        raise GoalRefused(_("Say what to change: a returned goal needs a comment."))
    if len(comment) > COMMENT_MAX:
        raise GoalRefused(_("Keep the comment under %(max)d characters.", max=COMMENT_MAX))
    if action == "submit" and goal.due_on < date.today():
        raise GoalRefused(_("The due date has passed; change it before submitting."))
    source = goal.state
    moved = db.session.execute(
        update(Goal)
        .where(Goal.id == goal.id, Goal.state == source)  # still as this request saw it
        .values(state=transition.target, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(goal)
    if not moved.rowcount:  # type: ignore[attr-defined]
        raise GoalRefused(_refusal(action, goal.state), 409)  # somebody moved it meanwhile
    event = _event(goal, actor, action, source, transition.target, comment=comment)
    audit.record(
        actor,
        f"goal.{action}",
        goal_id=goal.id,
        person_id=goal.user_id,
        before=source,
        after=transition.target,
    )
    _after(goal, actor, action)
    return event


def _claim(goal: Goal, state: str) -> bool:
    """Touch the goal only if it is still in ``state``: a change made meanwhile by another
    request (a submit, an approval) makes this one refuse instead of writing over it. The row
    stays locked until the transaction ends. False, with the goal reloaded, when it moved."""
    claimed = db.session.execute(
        update(Goal)
        .where(Goal.id == goal.id, Goal.state == state)
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(goal)
    return bool(claimed.rowcount)  # type: ignore[attr-defined]


def _refusal(action: str, state: str) -> str:
    messages = {
        "submit": _("Only a draft or a returned goal can be submitted; this one is %(state)s."),
        "approve": _("Only a goal waiting for approval can be approved; this one is %(state)s."),
        "return": _("Only a goal waiting for approval can be returned; this one is %(state)s."),
        "achieve": _("Only an approved goal can be marked achieved; this one is %(state)s."),
        "not_achieve": _(
            "Only an approved goal can be marked not achieved; this one is %(state)s."
        ),
    }
    return messages[action] % {"state": state_label(state)}


def _after(goal: Goal, actor: User, action: str) -> None:
    owner = goal.user
    params = {"goal_id": str(goal.id), "goal": goal.title}
    if action == "submit":
        managers = [
            person
            for person in (owner.team.managers if owner.team else [])
            if person.active and person.has_role(Role.MANAGER)
        ]
        notifications.notify(managers, NotificationKind.GOAL_SUBMITTED, actor=actor, **params)
    elif action == "approve":
        notifications.notify([owner], NotificationKind.GOAL_APPROVED, actor=actor, **params)
    elif action == "return":
        notifications.notify([owner], NotificationKind.GOAL_RETURNED, actor=actor, **params)
    elif action == "achieve":
        for competency_id in goal.competency_ids:
            competencies.record_evidence(
                owner,
                competency_id,
                EvidenceKind.GOAL,
                GOAL_EVIDENCE_LEVEL,
                comment=goal.title,
                source=f"goal:{goal.id}",
                recorded_by=actor,
            )
        recognition.award_badge(owner, BadgeKind.GOAL_ACHIEVED, str(goal.id))


def check_in(goal: Goal, actor: User, progress: int, note: str = "") -> CheckIn:
    if not (_is_owner(goal, actor) or manages(actor, goal.user)):
        raise GoalRefused(_("Only the owner of the goal or their manager can do this."), 403)
    if goal.state not in CHECK_IN_STATES:
        raise GoalRefused(
            _(
                "Check-ins are for approved goals in progress; this one is %(state)s.",
                state=state_label(goal.state),
            ),
            409,
        )
    if not 0 <= progress <= 100:
        raise GoalRefused(_("Progress is a percentage from 0 to 100."))
    note = note.strip()
    if len(note) > COMMENT_MAX:
        raise GoalRefused(_("Keep the note under %(max)d characters.", max=COMMENT_MAX))
    if not _claim(goal, GoalState.APPROVED):
        raise GoalRefused(
            _(
                "Check-ins are for approved goals in progress; this one is %(state)s.",
                state=state_label(goal.state),
            ),
            409,
        )
    entry = CheckIn(goal_id=goal.id, progress=progress, note=note, author_id=actor.id)
    db.session.add(entry)
    goal.progress = progress
    db.session.flush()
    return entry


def goals_of(person: User) -> list[Goal]:
    query = select(Goal).where(Goal.user_id == person.id)
    return list(db.session.scalars(query.order_by(Goal.due_on, Goal.id)))


def goals_to_approve(manager: User) -> list[Goal]:
    """Submitted goals of the active people in the teams ``manager`` manages."""
    team_ids = [team.id for team in manager.managed_teams]
    if not team_ids:
        return []
    query = (
        select(Goal)
        .join(Goal.user)
        .options(contains_eager(Goal.user))  # the list shows each owner's name
        .where(
            Goal.state == GoalState.SUBMITTED,
            User.team_id.in_(team_ids),
            User.active,
            User.id != manager.id,
        )
        .order_by(Goal.updated_at)
    )
    return list(db.session.scalars(query))


def create_org_goal(
    author: User,
    *,
    title: str,
    measure: str,
    target: str,
    starts_on: date,
    ends_on: date,
    region: Region | None = None,
    centre: Centre | None = None,
) -> OrgGoal:
    """An organisational goal for one region or one centre, within the author's scope."""
    if (region is None) == (centre is None):
        raise GoalRefused(_("Choose either a region or a centre."))
    region_id = region.id if region is not None else centre.region_id  # type: ignore[union-attr]
    if not can_set_org_goal(author, region_id):
        raise GoalRefused(_("You can set organisational goals only within your region."), 403)
    if ends_on < starts_on:
        raise GoalRefused(_("The period ends before it starts."))
    org_goal = OrgGoal(
        title=title.strip(),
        measure=measure.strip(),
        target=target.strip(),
        starts_on=starts_on,
        ends_on=ends_on,
        region_id=region.id if region is not None else None,
        centre_id=centre.id if centre is not None else None,
        created_by_id=author.id,
    )
    db.session.add(org_goal)
    db.session.flush()
    audit.record(
        author,
        "org_goal.create",
        org_goal_id=org_goal.id,
        title=org_goal.title,
        region_id=org_goal.region_id,
        centre_id=org_goal.centre_id,
    )
    return org_goal
