"""Individual client-centric goals: my goals, drafting and editing, a goal's page with its
moves (submit, approve, return, close), check-ins and history."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from lms.content import get_course
from lms.extensions import db
from lms.goals.forms import CheckInForm, GoalForm, MoveForm
from lms.i18n import current_locale
from lms.models import Goal, Role, User
from lms.permissions import get_goal_or_404, manages, signed_in
from lms.services import goals, progress
from lms.services.goals import GoalFields, GoalRefused

bp = Blueprint("goals", __name__)

ACTIONS = "submit, approve, return, achieve, not_achieve"
DONE_MESSAGES = {
    "submit": _l("Your goal is sent to your manager for approval."),
    "approve": _l("The goal is approved."),
    "return": _l("The goal is returned with your comment."),
    "achieve": _l("The goal is marked achieved. Well done!"),
    "not_achieve": _l("The goal is marked not achieved. Its history stays."),
}


@bp.get("/me/goals")
@signed_in
def index() -> str:
    to_approve = goals.goals_to_approve(current_user) if current_user.has_role(Role.MANAGER) else []
    return render_template(
        "goals/index.html",
        goals=goals.goals_of(current_user),
        to_approve=to_approve,
        org_goals=goals.org_goals_for(current_user),
        state_label=goals.state_label,
        has_manager=bool(current_user.team and current_user.team.managers),
    )


def _goal_form(person: User, goal: Goal | None = None) -> GoalForm:
    form = GoalForm(obj=goal) if goal is not None else GoalForm()
    org_goals = goals.org_goals_for(person)
    if goal is not None and goal.org_goal is not None and goal.org_goal not in org_goals:
        org_goals.insert(0, goal.org_goal)  # keep a link whose period has ended since
    form.offer(get_course().competencies, org_goals, current_locale())
    return form


def _fields(form: GoalForm) -> GoalFields:
    return GoalFields(
        title=form.title.data or "",
        measure=form.measure.data or "",
        target=form.target.data or "",
        relevance=form.relevance.data or "",
        due_on=form.due_on.data,  # validated as required
        competency_ids=tuple(form.competency_ids.data or ()),
        org_goal_id=form.org_goal_id.data,
    )


@bp.route("/me/goals/new", methods=["GET", "POST"])
@signed_in
def new() -> Response | str | tuple[str, int]:
    form = _goal_form(current_user)
    if form.validate_on_submit() and form.due_in_future():
        try:
            goal = goals.create(current_user, _fields(form))
        except GoalRefused as refused:
            db.session.rollback()
            form.form_errors.append(str(refused))
        else:
            progress.complete_goal_tasks(current_user, get_course())
            db.session.commit()
            flash(_("Your goal is saved as a draft. Submit it when it is ready."))
            return redirect(url_for("goals.detail", goal_id=goal.id))
    page = render_template("goals/form.html", form=form, goal=None)
    return (page, 400) if form.is_submitted() else page


@bp.route("/goals/<int:goal_id>/edit", methods=["GET", "POST"])
@signed_in
def edit(goal_id: int) -> Response | str | tuple[str, int]:
    goal = get_goal_or_404(goal_id, current_user)
    if goal.user_id != current_user.id:
        return _detail(goal, error=_("Only the goal's owner can change it."), status=403)
    if not goals.may(goal, current_user, "edit"):
        return _detail(goal, error=_("Only a draft or a returned goal can be changed."), status=409)
    form = _goal_form(current_user, goal)
    if form.validate_on_submit() and form.due_in_future():
        try:
            goals.edit(goal, current_user, _fields(form))
        except GoalRefused as refused:
            db.session.rollback()
            form.form_errors.append(str(refused))
        else:
            db.session.commit()
            flash(_("Your changes are saved."))
            return redirect(url_for("goals.detail", goal_id=goal.id))
    page = render_template("goals/form.html", form=form, goal=goal)
    return (page, 400) if form.is_submitted() else page


@bp.get("/goals/<int:goal_id>")
@signed_in
def detail(goal_id: int) -> str:
    return _detail(get_goal_or_404(goal_id, current_user))[0]


def _detail(
    goal: Goal,
    *,
    error: str | None = None,
    status: int = 200,
    move: tuple[str, MoveForm] | None = None,
    check_in_form: CheckInForm | None = None,
) -> tuple[str, int]:
    course = get_course()
    actions = goals.actions_for(goal, current_user)
    forms = {action: MoveForm(formdata=None) for action in actions}
    if move is not None:  # "not achieved" shares the form of "achieved"
        forms["achieve" if move[0] == "not_achieve" else move[0]] = move[1]
    page = render_template(
        "goals/detail.html",
        goal=goal,
        owner=goal.user,
        is_owner=goal.user_id == current_user.id,
        is_manager=manages(current_user, goal.user),
        actions=actions,
        forms=forms,
        check_in_form=check_in_form or CheckInForm(formdata=None, progress=goal.progress),
        competencies=course.competencies,
        locale=current_locale(),
        state_label=goals.state_label,
        event_label=goals.event_label,
        error=error,
    )
    return page, status


@bp.post(f"/goals/<int:goal_id>/<any({ACTIONS}):action>")
@signed_in
def act(goal_id: int, action: str) -> Response | tuple[str, int]:
    goal = get_goal_or_404(goal_id, current_user)
    form = MoveForm()
    if not form.validate_on_submit():
        return _detail(goal, status=400, move=(action, form))
    try:
        goals.perform(goal, current_user, action, form.comment.data or "")
    except GoalRefused as refused:
        db.session.rollback()
        return _detail(goal, error=str(refused), status=refused.status, move=(action, form))
    db.session.commit()
    flash(str(DONE_MESSAGES[action]))
    return redirect(url_for("goals.detail", goal_id=goal.id))


@bp.post("/goals/<int:goal_id>/check-ins")
@signed_in
def check_in(goal_id: int) -> Response | tuple[str, int]:
    goal = get_goal_or_404(goal_id, current_user)
    form = CheckInForm()
    if not form.validate_on_submit():
        return _detail(goal, status=400, check_in_form=form)
    try:
        goals.check_in(goal, current_user, form.progress.data or 0, form.note.data or "")
    except GoalRefused as refused:
        db.session.rollback()
        return _detail(goal, error=str(refused), status=refused.status, check_in_form=form)
    db.session.commit()
    flash(_("Check-in saved."))
    return redirect(url_for("goals.detail", goal_id=goal.id, _anchor="check-ins"))
