"""Recognition: the team's wall, giving recognition, my badges and their Open Badges
credentials, and the public description of each achievement."""

from __future__ import annotations

import json

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from lms.content import get_course
from lms.extensions import db
from lms.i18n import current_locale
from lms.models import BadgeKind, Goal, GoalState, User
from lms.permissions import (
    can_recognise,
    can_view_wall,
    get_team_or_404,
    manages,
    public,
    signed_in,
)
from lms.recognition.forms import RecognitionForm
from lms.services import recognition
from lms.services.recognition import RecognitionRefused

bp = Blueprint("recognition", __name__)

RECOGNISABLE_GOALS = (GoalState.APPROVED, GoalState.ACHIEVED, GoalState.NOT_ACHIEVED)


@bp.get("/wall")
@signed_in
def my_wall() -> Response:
    """My team's wall; a manager without a team of their own gets the first team they manage."""
    team_id = current_user.team_id
    if team_id is None and current_user.managed_teams:
        team_id = current_user.managed_teams[0].id
    if team_id is None:
        abort(404)
    return redirect(url_for("recognition.wall", team_id=team_id))


@bp.get("/team/<int:team_id>/wall")
@signed_in
def wall(team_id: int) -> str:
    team = get_team_or_404(team_id, current_user, may=can_view_wall)
    colleagues = [
        person
        for person in db.session.scalars(
            select(User).where(User.team_id == team.id, User.active).order_by(User.full_name)
        )
        if can_recognise(current_user, person)
    ]
    return render_template(
        "recognition/wall.html",
        team=team,
        entries=recognition.team_wall(team),
        colleagues=colleagues,
        badge_text=recognition.badge_text,
        competencies=get_course().competencies,
        locale=current_locale(),
    )


def _recipient(user_id: int) -> User:
    person = db.session.get(User, user_id)
    if person is None:
        abort(404)
    if not can_recognise(current_user, person):
        abort(403)
    return person


@bp.route("/recognise/<int:user_id>", methods=["GET", "POST"])
@signed_in
def give(user_id: int) -> Response | str | tuple[str, int]:
    person = _recipient(user_id)
    course = get_course()
    locale = current_locale()
    form = RecognitionForm()
    choices = [(f"competency:{c.id}", c.names[locale]) for c in course.competencies.values()]
    if manages(current_user, person):  # a colleague does not see another person's goals
        person_goals = db.session.scalars(
            select(Goal)
            .where(Goal.user_id == person.id, Goal.state.in_(RECOGNISABLE_GOALS))
            .order_by(Goal.due_on)
        )
        choices += [
            (f"goal:{goal.id}", _("Goal: %(title)s", title=goal.title)) for goal in person_goals
        ]
    form.target.choices = [("", _("Choose…"))] + choices
    if form.validate_on_submit():
        kind, _sep, value = (form.target.data or "").partition(":")
        goal = db.session.get(Goal, int(value)) if kind == "goal" else None
        try:
            recognition.give_recognition(
                current_user,
                person,
                form.message.data or "",
                competency_id=value if kind == "competency" else None,
                goal=goal,
            )
        except RecognitionRefused as refused:
            db.session.rollback()
            form.form_errors.append(str(refused))
        else:
            db.session.commit()
            flash(_("Thank you: %(name)s will see your recognition.", name=person.full_name))
            if person.team_id is not None and can_view_wall(current_user, person.team):  # type: ignore[arg-type]
                return redirect(url_for("recognition.wall", team_id=person.team_id))
            return redirect(url_for("me.home"))
    page = render_template("recognition/give.html", person=person, form=form)
    return (page, 400) if form.is_submitted() else page


@bp.get("/me/badges")
@signed_in
def badges() -> str:
    return render_template(
        "recognition/badges.html",
        badges=recognition.badges_of(current_user),
        badge_text=recognition.badge_text,
    )


@bp.get("/me/badges/<public_id>.json")
@signed_in
def credential(public_id: str) -> Response:
    badge = recognition.get_own_badge(current_user, public_id)
    if badge is None:
        abort(404)  # somebody else's badge is nobody else's business
    body = json.dumps(recognition.credential(badge), ensure_ascii=False, indent=2)
    response = Response(body, mimetype="application/ld+json")
    filename = f"badge-{badge.kind}-{badge.public_id[:8]}.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/achievements/<kind>", defaults={"subject": None})
@bp.get("/achievements/<kind>/<subject>")
@public
def achievement(kind: str, subject: str | None) -> str:
    """What a badge stands for, for anyone who checks a credential (the achievement's id)."""
    course = get_course()
    known = {
        BadgeKind.MODULE_COMPLETED: {module.slug for module in course.modules},
        BadgeKind.COMPETENCY_LEVEL_3: set(course.competencies),
    }
    if kind not in BadgeKind.__members__.values():
        abort(404)
    if kind in known:
        if subject not in known[BadgeKind(kind)]:
            abort(404)
    elif subject is not None:
        abort(404)
    text = recognition.badge_text(kind, subject or "", generic=True)
    return render_template("recognition/achievement.html", text=text)
