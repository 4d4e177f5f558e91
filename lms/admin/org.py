"""Admin: the organisation (region > centre > team), moving a team to another centre and
handing a leaving manager's teams over.

Admins and HR for everything see and change all of it; regional HR only their region (they
add no regions). Each region, centre and team has a small page with its forms; the tree on
``/admin/org`` links to them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response
from wtforms import SelectField, SelectMultipleField, StringField, widgets
from wtforms.validators import DataRequired, Length

from lms.admin import bp
from lms.extensions import db
from lms.models import Centre, Region, Role, Team, User
from lms.permissions import administers_region, role_required
from lms.services import organisation
from lms.services.organisation import NAME_MAX, OrgRefused
from lms.services.reports import coerce_id, parse_id

Page = str | tuple[str, int] | Response
T = TypeVar("T")


# --- forms ----------------------------------------------------------------------------------


def _collapse(value: object) -> object:
    return " ".join(value.split()) if isinstance(value, str) else value


def _name_field(label: Any) -> StringField:
    return StringField(
        label,
        validators=[DataRequired(_l("Enter a name.")), Length(max=NAME_MAX)],
        filters=[_collapse],
    )


class RenameForm(FlaskForm):
    name = _name_field(_l("New name"))


class NewRegionForm(FlaskForm):
    name = _name_field(_l("Name of the new region"))


class NewCentreForm(FlaskForm):
    name = _name_field(_l("Name of the new centre"))


class NewTeamForm(FlaskForm):
    name = _name_field(_l("Name of the new team"))


def _id_or_none(value: object) -> int | None:
    text = str(value) if value is not None else ""
    return parse_id(text)


class MoveTeamForm(FlaskForm):
    centre = SelectField(
        _l("Move to the centre"),
        coerce=_id_or_none,
        validate_choice=False,  # a centre outside one's scope is a 403, not a form error
        validators=[DataRequired(_l("Choose the centre to move the team to."))],
        description=_l("Its people and its managers go with it."),
    )


class ChooseLeavingForm(FlaskForm):
    class Meta:
        csrf = False  # a choice in the address (GET): it changes nothing

    leaving = SelectField(_l("Manager who is leaving"), name="from", validate_choice=False)


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class HandoverForm(FlaskForm):
    to_email = StringField(
        _l("E-mail of the manager taking over"),
        validators=[
            DataRequired(_l("Enter the e-mail of the person taking over.")),
            Length(max=254),
        ],
        description=_l("They must hold the manager role and be active."),
    )
    team_ids = CheckboxesField(
        _l("Teams to hand over"),
        coerce=coerce_id,
        validate_choice=False,  # checked against the manager's teams and the scope below
        validators=[DataRequired(_l("Choose at least one team."))],
    )


# --- loading what the URL names -------------------------------------------------------------


def _region_or_404(region_id: int) -> Region:
    region = db.session.get(Region, region_id)
    if region is None:
        abort(404)
    if not administers_region(current_user, region.id):
        abort(403)
    return region


def _centre_or_404(centre_id: int) -> Centre:
    centre = db.session.get(Centre, centre_id)
    if centre is None:
        abort(404)
    if not administers_region(current_user, centre.region_id):
        abort(403)
    return centre


def _team_or_404(team_id: int) -> Team:
    team = db.session.get(Team, team_id)
    if team is None:
        abort(404)
    if not administers_region(current_user, team.centre.region_id):
        abort(403)
    return team


def _commit(
    form: FlaskForm, field: str, change: Callable[[], T], name: str | None = None
) -> tuple[bool, T | None]:
    """Make the change and commit; on a refusal roll back and put the reason on the form.

    The unique constraints catch what the service's check cannot see: the same ``name`` (or
    the same manager for a team) saved by someone else a moment ago."""
    try:
        result = change()
        db.session.commit()
    except OrgRefused as refused:
        db.session.rollback()
        _error(form, refused.field or field, refused.message)
        return False, None
    except IntegrityError:
        db.session.rollback()
        if name is not None:
            message = _(
                "Someone else has just saved “%(name)s” there. Nothing was saved: choose another name.",
                name=" ".join(name.split()),
            )
        else:
            message = _(
                "Someone else changed the same thing a moment ago. Nothing was saved: check the page and try again."
            )
        _error(form, field, message)
        return False, None
    return True, result


def _error(form: FlaskForm, field: str, message: str) -> None:
    if field and field in form:
        form[field].errors = [*form[field].errors, message]
    else:
        form.form_errors.append(message)


# --- the tree -------------------------------------------------------------------------------


@bp.get("/org")
@role_required(Role.ADMIN, Role.HR)
def org() -> Page:
    return _tree_page(NewRegionForm(prefix="region", formdata=None))


def _tree_page(form: NewRegionForm, status: int = 200) -> tuple[str, int]:
    may_add = administers_region(current_user, None)
    page = render_template(
        "admin/org.html",
        regions=organisation.tree(current_user),
        form=form if may_add else None,
        open_regions={parse_id(value) for value in request.args.getlist("open")},
    )
    return page, status


@bp.post("/org/regions")
@role_required(Role.ADMIN, Role.HR)
def create_region() -> Page:
    if not administers_region(current_user, None):
        abort(403)  # regional HR add centres and teams to their region, not regions
    form = NewRegionForm(prefix="region")
    if form.validate_on_submit():
        saved, region = _commit(
            form,
            "name",
            lambda: organisation.create_region(current_user, form.name.data or ""),
            name=form.name.data,
        )
        if saved and region is not None:
            flash(_("The region “%(name)s” is added. Add its centres now.", name=region.name))
            return redirect(url_for("admin.region", region_id=region.id))
    return _tree_page(form, 400)


# --- a region -------------------------------------------------------------------------------


def _region_page(
    region: Region,
    rename: RenameForm | None = None,
    new_centre: NewCentreForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    nodes = organisation.tree(current_user, region_id=region.id)
    page = render_template(
        "admin/org_region.html",
        region=region,
        node=nodes[0],
        rename=rename or RenameForm(prefix="rename", formdata=None, obj=region),
        new_centre=new_centre or NewCentreForm(prefix="centre", formdata=None),
    )
    return page, status


@bp.route("/org/regions/<int:region_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.HR)
def region(region_id: int) -> Page:
    region = _region_or_404(region_id)
    return _rename(
        region,
        organisation.rename_region,
        _region_page,
        url_for("admin.region", region_id=region.id),
    )


Named = TypeVar("Named", Region, Centre, Team)


def _rename(
    thing: Named,
    rename: Callable[[User, Named, str], bool],
    page: Callable[..., Page],
    back: str,
) -> Page:
    """A region's, centre's or team's page, renaming it when its form is sent."""
    form = RenameForm(prefix="rename", obj=thing)
    if not form.is_submitted():
        return page(thing, rename=form)
    if form.validate_on_submit():
        saved, changed = _commit(
            form,
            "name",
            lambda: rename(current_user, thing, form.name.data or ""),
            name=form.name.data,
        )
        if saved:
            _flash_rename(bool(changed), thing.name)
            return redirect(back)
    return page(thing, rename=form, status=400)


def _flash_rename(changed: bool, name: str) -> None:
    if changed:
        flash(_("The name is now “%(name)s”.", name=name))
    else:
        flash(_("Nothing changed: the name is “%(name)s” already.", name=name))


@bp.post("/org/regions/<int:region_id>/centres")
@role_required(Role.ADMIN, Role.HR)
def create_centre(region_id: int) -> Page:
    region = _region_or_404(region_id)
    form = NewCentreForm(prefix="centre")
    if form.validate_on_submit():
        saved, centre = _commit(
            form,
            "name",
            lambda: organisation.create_centre(current_user, region, form.name.data or ""),
            name=form.name.data,
        )
        if saved and centre is not None:
            flash(
                _(
                    "The centre “%(name)s” is added to %(region)s. Add its teams now.",
                    name=centre.name,
                    region=region.name,
                )
            )
            return redirect(url_for("admin.centre", centre_id=centre.id))
    return _region_page(region, new_centre=form, status=400)


# --- a centre -------------------------------------------------------------------------------


def _centre_page(
    centre: Centre,
    rename: RenameForm | None = None,
    new_team: NewTeamForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    nodes = organisation.tree(current_user, region_id=centre.region_id)
    node = next(c for c in nodes[0].centres if c.id == centre.id)
    page = render_template(
        "admin/org_centre.html",
        centre=centre,
        node=node,
        rename=rename or RenameForm(prefix="rename", formdata=None, obj=centre),
        new_team=new_team or NewTeamForm(prefix="team", formdata=None),
    )
    return page, status


@bp.route("/org/centres/<int:centre_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.HR)
def centre(centre_id: int) -> Page:
    centre = _centre_or_404(centre_id)
    return _rename(
        centre,
        organisation.rename_centre,
        _centre_page,
        url_for("admin.centre", centre_id=centre.id),
    )


@bp.post("/org/centres/<int:centre_id>/teams")
@role_required(Role.ADMIN, Role.HR)
def create_team(centre_id: int) -> Page:
    centre = _centre_or_404(centre_id)
    form = NewTeamForm(prefix="team")
    if form.validate_on_submit():
        saved, team = _commit(
            form,
            "name",
            lambda: organisation.create_team(current_user, centre, form.name.data or ""),
            name=form.name.data,
        )
        if saved and team is not None:
            flash(
                _(
                    "The team “%(name)s” is added to %(centre)s.",
                    name=team.name,
                    centre=centre.name,
                )
            )
            return redirect(url_for("admin.centre", centre_id=centre.id))
    return _centre_page(centre, new_team=form, status=400)


# --- a team ---------------------------------------------------------------------------------


def _move_form(team: Team, form: MoveTeamForm | None = None) -> MoveTeamForm:
    form = form or MoveTeamForm(prefix="move", formdata=None)
    form.centre.choices = [("", _("Choose a centre…"))] + [
        (str(centre_id), f"{region} / {name}")
        for region, centres in organisation.centre_choices(current_user)
        for centre_id, name in centres
        if centre_id != team.centre_id
    ]
    return form


def _team_page(
    team: Team,
    rename: RenameForm | None = None,
    move: MoveTeamForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    page = render_template(
        "admin/org_team.html",
        team=team,
        people=organisation.active_people(team),
        rename=rename or RenameForm(prefix="rename", formdata=None, obj=team),
        move=_move_form(team, move),
    )
    return page, status


@bp.route("/org/teams/<int:team_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.HR)
def team(team_id: int) -> Page:
    team = _team_or_404(team_id)
    return _rename(
        team,
        organisation.rename_team,
        _team_page,
        url_for("admin.team", team_id=team.id),
    )


@bp.post("/org/teams/<int:team_id>/move")
@role_required(Role.ADMIN, Role.HR)
def move_team(team_id: int) -> Page:
    team = _team_or_404(team_id)
    form = MoveTeamForm(prefix="move")
    if form.validate_on_submit():
        target = db.session.get(Centre, form.centre.data)
        if target is None:
            _error(form, "centre", _("Choose a centre from the list."))
        else:
            if not administers_region(current_user, target.region_id):
                abort(403)
            saved, _result = _commit(
                form, "centre", lambda: organisation.move_team(current_user, team, target)
            )
            if saved:
                flash(
                    _(
                        "The team “%(team)s” is now in %(centre)s, with its people and managers.",
                        team=team.name,
                        centre=organisation.centre_label(target),
                    )
                )
                return redirect(url_for("admin.team", team_id=team.id))
    return _team_page(team, move=form, status=400)


# --- handing a leaving manager's teams over -------------------------------------------------


def _person_label(person: User) -> str:
    label = f"{person.full_name} ({person.email})"
    return label if person.active else _("%(person)s, deactivated", person=label)


@bp.route("/org/handover", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.HR)
def handover() -> Page:
    managers = organisation.leaving_managers(current_user)
    chooser = ChooseLeavingForm(request.args)
    chooser.leaving.choices = [("", _("Choose…"))] + [
        (str(manager.id), _person_label(manager)) for manager in managers
    ]
    chosen = request.args.get("from")
    leaving = None
    if chosen is not None:
        wanted = parse_id(chosen)
        leaving = next((manager for manager in managers if manager.id == wanted), None)
        if leaving is None:
            chooser.leaving.errors = [
                _("Choose a manager from the list: this person manages no team you administer.")
                if chosen
                else _("Choose the manager who is leaving.")
            ]
    if leaving is None:
        page = render_template("admin/handover.html", chooser=chooser, form=None, leaving=None)
        bad = chosen is not None or request.method == "POST"
        return (page, 400) if bad else page

    teams = organisation.teams_to_hand_over(current_user, leaving)
    if request.method == "POST":
        form = HandoverForm()
    else:
        form = HandoverForm(team_ids=[team.id for team in teams])
    form.team_ids.choices = [(team.id, organisation.team_label(team)) for team in teams]
    if form.validate_on_submit():
        chosen_teams = _chosen_teams(form.team_ids.data or [])
        if chosen_teams is None:
            _error(form, "team_ids", _("Choose teams from the list."))
        else:
            saved, taking_over = _commit(
                form, "", lambda: _hand_over(leaving, form.to_email.data or "", chosen_teams)
            )
            if saved and taking_over is not None:
                flash(
                    ngettext(
                        "%(num)d team handed over from %(from)s to %(to)s.",
                        "%(num)d teams handed over from %(from)s to %(to)s.",
                        len(chosen_teams),
                        **{"from": leaving.full_name, "to": taking_over.full_name},
                    )
                )
                # The tree opens where the teams are, to see who manages them now.
                regions = sorted({team.centre.region_id for team in chosen_teams})
                return redirect(url_for("admin.org", open=regions))
    preselected: dict[str, Any] = {"from": leaving.id}
    page = render_template(
        "admin/handover.html",
        chooser=chooser,
        form=form,
        leaving=leaving,
        action=url_for("admin.handover", **preselected),
    )
    return (page, 400) if form.is_submitted() else page


def _hand_over(leaving: User, email: str, teams: list[Team]) -> User:
    taking_over = organisation.successor(current_user, email, leaving)
    organisation.hand_over(current_user, leaving, taking_over, teams)
    return taking_over


def _chosen_teams(team_ids: list[int]) -> list[Team] | None:
    """The teams the form names, each one the actor administers (403 otherwise), or None when
    one of them does not exist. Whether the leaving manager manages them is the service's
    rule."""
    wanted = set(team_ids)
    teams = list(db.session.scalars(select(Team).where(Team.id.in_(wanted))))
    for team in teams:
        if not administers_region(current_user, team.centre.region_id):
            abort(403)
    return teams if len(teams) == len(wanted) else None
