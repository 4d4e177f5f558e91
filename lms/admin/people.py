"""Admin: people. The list with its filters, adding and editing a person, deactivation, and
access: an activation link or a temporary password for one person, links for a whole list.

A link or a temporary password is shown once, on the answer to the form that made it: it is
not flashed and not put in a redirect (see lms/admin/tokens.py for why).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload, selectinload
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response
from wtforms import SelectChoice, SelectField, SelectMultipleField, StringField
from wtforms.validators import Length, Optional

from lms.admin import bp
from lms.auth.forms import EmptyForm
from lms.config import SUPPORTED_LOCALES
from lms.extensions import db
from lms.goals.forms import CheckboxesField
from lms.i18n import role_label
from lms.models import Centre, Region, Role, Team, User, utcnow
from lms.permissions import (
    administered_regions,
    administers_region,
    can_administer_person,
    can_change_roles,
    get_administered_person_or_404,
    hr_region_id,
    role_required,
)
from lms.services import accounts, mail, people
from lms.services.exports import iso_utc, neutralise
from lms.services.people import PeopleFilters, PersonRefused, PersonValues
from lms.services.reports import coerce_id, parse_id

# Links made by one press of "Create activation links for everyone in this list": a bigger
# list takes several presses, each one taking the next people still without access.
BULK_LINKS_MAX = 5000


def _none_or_int(value: object) -> int | None:
    """A chosen id, or None for "none"; anything that cannot be a record id is refused as an
    invalid choice (ValueError), never passed to the database."""
    if value in (None, "", "None"):
        return None
    return coerce_id(value)


# --- the list ------------------------------------------------------------------------------


ACTIVE_CHOICES = {"active": True, "deactivated": False, "all": None}


class PeopleFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a search (GET): it changes nothing

    q = StringField(
        _l("Search"),
        validators=[Optional(), Length(max=100)],
        description=_l("Part of a name, e-mail or employee number"),
    )
    region = SelectField(
        _l("Region"),
        coerce=_none_or_int,
        invalid_choice_message=_l("Choose a region from the list."),
    )
    centre = SelectField(
        _l("Centre"),
        coerce=_none_or_int,
        invalid_choice_message=_l("Choose a centre from the list."),
    )
    team = SelectField(
        _l("Team"),
        coerce=_none_or_int,
        invalid_choice_message=_l("Choose a team from the list."),
    )
    role = SelectField(
        _l("Role"), default="", invalid_choice_message=_l("Choose a role from the list.")
    )
    active = SelectField(
        _l("Status"),
        choices=[
            SelectChoice("active", _l("Active")),
            SelectChoice("deactivated", _l("Deactivated")),
            SelectChoice("all", _l("Active and deactivated")),
        ],
        default="active",
        invalid_choice_message=_l("Choose a status from the list."),
    )
    access = SelectField(
        _l("Access"),
        choices=[
            SelectChoice("", _l("Any access")),
            SelectChoice("password", _l("Has a password")),
            SelectChoice("invited", _l("Invited: holds a link that works")),
            SelectChoice("none", _l("No access yet")),
        ],
        default="",
        invalid_choice_message=_l("Choose an access state from the list."),
    )

    NAMES = ("q", "region", "centre", "team", "role", "active", "access")

    def offer(self, actor: User) -> PeopleFilterForm:
        """The regions, centres and teams ``actor`` administers. Centres are listed once a
        region is chosen, teams once a centre is (thousands of them in a federal
        organisation); a narrower choice that no longer lies within a broader one is
        dropped, so changing the region and pressing "Show" starts afresh below it."""
        regions = list(db.session.scalars(administered_regions(actor)))
        self.region.choices = [SelectChoice("", _("All regions"))] + [
            SelectChoice(r.id, r.name) for r in regions
        ]
        centre = _get(Centre, self.centre.data)
        team = _get(Team, self.team.data)
        if centre is not None and self.region.data not in (None, centre.region_id):
            self.centre.data = centre = None
        if team is not None and (
            (centre is not None and team.centre_id != centre.id)
            or self.region.data not in (None, team.centre.region_id)
        ):
            self.team.data = team = None
        region_id = self.region.data
        if region_id is None and centre is not None:
            region_id = centre.region_id
        if region_id is None and team is not None:
            region_id = team.centre.region_id
        if region_id is None and len(regions) == 1:
            region_id = regions[0].id
        centres = (
            list(
                db.session.scalars(
                    select(Centre).where(Centre.region_id == region_id).order_by(Centre.name)
                )
            )
            if region_id is not None and administers_region(actor, region_id)
            else []
        )
        self.centre.choices = [SelectChoice("", _("All centres"))] + [
            SelectChoice(c.id, c.name) for c in centres
        ]
        centre_id = centre.id if centre is not None else team.centre_id if team else None
        teams = (
            list(
                db.session.scalars(
                    select(Team).where(Team.centre_id == centre_id).order_by(Team.name)
                )
            )
            if centre_id is not None and any(c.id == centre_id for c in centres)
            else []
        )
        self.team.choices = [SelectChoice("", _("All teams"))] + [
            SelectChoice(t.id, t.name) for t in teams
        ]
        self.role.choices = [SelectChoice("", _("Any role"))] + [
            SelectChoice(role.value, role_label(role)) for role in Role
        ]
        return self

    def filters(self) -> PeopleFilters:
        return PeopleFilters(
            query=(self.q.data or "").strip(),
            region=self.region.data,
            centre=self.centre.data,
            team=self.team.data,
            role=Role(self.role.data) if self.role.data else None,
            active=ACTIVE_CHOICES.get(self.active.data or "active", True),
            access=self.access.data or None,
        )

    def args(self, **extra: Any) -> dict[str, Any]:
        """The filters as they were given, for links to other pages and the bulk form."""
        args = {}
        for name in self.NAMES:
            value = self[name].data
            if value not in (None, "") and not (name == "active" and value == "active"):
                args[name] = value
        return args | extra


def _get(model: type[Centre] | type[Team], value: object) -> Any:
    return db.session.get(model, value) if isinstance(value, int) else None


def _filter_form(source: MultiDict[str, str]) -> tuple[PeopleFilterForm, bool]:
    """The filters from ``source``; whether they are valid."""
    form = PeopleFilterForm(source).offer(current_user)
    valid = form.validate() if source else True
    return form, valid


@bp.get("", endpoint="people")
@role_required(Role.ADMIN, Role.HR)
def people_list() -> tuple[str, int]:
    form, valid = _filter_form(request.args)
    if not valid:
        return render_template("admin/people.html", form=form, page=None), 400
    page = people.find_people(
        current_user, form.filters(), parse_id(request.args.get("page", "1")) or 1
    )
    return render_template(
        "admin/people.html",
        form=form,
        page=page,
        invited_until=page.invited,
        editable={p.id for p in page.people if can_administer_person(current_user, p)},
        role_labels={role: role_label(role) for role in Role},
        page_url=lambda number: url_for("admin.people", **form.args(page=number)),
        filter_args=form.args(),
        bulk_max=BULK_LINKS_MAX,
    ), 200


# --- adding and editing a person -------------------------------------------------------------


class PersonForm(FlaskForm):
    full_name = StringField(_l("Full name"))
    email = StringField(_l("E-mail"))
    employee_number = StringField(
        _l("Employee number"), description=_l("Optional. Unique to each person.")
    )
    # Validated by the people service, which says which teams the person may be placed in.
    team_id = SelectField(_l("Region / Centre / Team"), coerce=_none_or_int, validate_choice=False)
    # Only for administrators: the form drops these fields for anyone else.
    roles = CheckboxesField(
        _l("Roles"),
        choices=[SelectChoice(role.value, role.value) for role in Role],
        invalid_choice_message=_l("Choose roles from the list."),
    )
    hr_region_id = SelectField(
        _l("The region HR covers"),
        coerce=_none_or_int,
        validate_choice=False,
        description=_l("What a person with the HR role sees and administers."),
    )
    managed_team_ids = SelectMultipleField(
        _l("Teams they manage"),
        coerce=coerce_id,
        validate_choice=False,
        description=_l("Only for the manager role. Hold Ctrl (or ⌘) to choose several."),
    )

    ROLE_FIELDS = ("roles", "hr_region_id", "managed_team_ids")

    def offer(self, actor: User) -> PersonForm:
        teams = _administered_teams(actor)
        # The team's name, grouped under its centre and region: on a narrow screen the long
        # common beginnings ("Region / …") would otherwise hide which team is which.
        choices = [
            SelectChoice(
                team.id, team.name, optgroup=f"{team.centre.name}, {team.centre.region.name}"
            )
            for team in teams
        ]
        no_team = _("No team") if administers_region(actor, None) else _("Choose a team")
        self.team_id.choices = [SelectChoice("", no_team), *choices]
        if not can_change_roles(actor):
            for name in self.ROLE_FIELDS:
                delattr(self, name)
            return self
        self.roles.choices = [SelectChoice(role.value, role_label(role)) for role in Role]
        regions = db.session.scalars(select(Region).order_by(Region.name))
        self.hr_region_id.choices = [SelectChoice("", _("All regions"))] + [
            SelectChoice(r.id, r.name) for r in regions
        ]
        self.managed_team_ids.choices = choices
        return self

    @property
    def has_roles(self) -> bool:
        return "roles" in self

    def values(self) -> PersonValues:
        roles = managed = None
        hr_region = None
        if self.has_roles:
            roles = frozenset(Role(role) for role in self.roles.data or [])
            hr_region = self.hr_region_id.data
            managed = frozenset(self.managed_team_ids.data or [])
        return PersonValues(
            full_name=self.full_name.data or "",
            email=self.email.data or "",
            employee_number=self.employee_number.data or None,
            team_id=self.team_id.data,
            roles=roles,
            hr_region_id=hr_region,
            managed_team_ids=managed,
        )

    def refused(self, refused: PersonRefused) -> None:
        """The service's reasons next to their fields (the form's top for the rest)."""
        for name, message in refused.problems.items():
            if name and name in self:
                self[name].errors = [*self[name].errors, message]
            else:
                self.form_errors.append(message)


def _administered_teams(actor: User) -> list[Team]:
    """The teams of the regions ``actor`` administers, with their centre and region."""
    regions = administered_regions(actor).with_only_columns(Region.id).order_by(None)
    query: Select[Any] = (
        select(Team)
        .join(Team.centre)
        .join(Centre.region)
        .options(contains_eager(Team.centre).contains_eager(Centre.region))
        .where(Centre.region_id.in_(regions))
        .order_by(Region.name, Centre.name, Team.name)
    )
    return list(db.session.scalars(query))


def _prefilled(person: User) -> dict[str, Any]:
    return {
        "full_name": person.full_name,
        "email": person.email,
        "employee_number": person.employee_number or "",
        "team_id": person.team_id,
        "roles": [role.value for role in sorted(person.role_names)],
        "hr_region_id": hr_region_id(person),
        "managed_team_ids": [team.id for team in person.managed_teams],
    }


def _saved_meanwhile() -> str:
    """Two people saved the same value at the same moment: the database kept the first."""
    return _(
        "Someone saved the same e-mail address or employee number a moment ago. Nothing was saved: check and send the form again."
    )


@bp.route("/people/new", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.HR)
def new_person() -> Response | tuple[str, int]:
    data = None if request.method == "POST" else {"roles": [Role.EMPLOYEE.value]}
    form = PersonForm(data=data).offer(current_user)
    if form.validate_on_submit():
        try:
            person = people.create_person(current_user, form.values())
            db.session.commit()
        except PersonRefused as refused:
            db.session.rollback()
            form.refused(refused)
        except IntegrityError:
            db.session.rollback()
            form.form_errors.append(_saved_meanwhile())
        else:
            flash(
                _("%(name)s was added. Give them access below.", name=person.full_name),
                "success",
            )
            return redirect(url_for("admin.person", user_id=person.id))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/person_form.html", form=form, person=None), status


@bp.route("/people/<int:user_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.HR)
def person(user_id: int) -> Response | tuple[str, int]:
    person = get_administered_person_or_404(user_id, current_user)
    data = None if request.method == "POST" else _prefilled(person)
    form = PersonForm(data=data).offer(current_user)
    if form.validate_on_submit():
        try:
            changed = people.update_person(current_user, person, form.values())
            db.session.commit()
        except PersonRefused as refused:
            db.session.rollback()
            form.refused(refused)
        except IntegrityError:
            db.session.rollback()
            form.form_errors.append(_saved_meanwhile())
        else:
            if changed:
                flash(_("The changes to %(name)s are saved.", name=person.full_name), "success")
            else:
                flash(_("Nothing was changed."), "info")
            return redirect(url_for("admin.person", user_id=person.id))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "admin/person_form.html",
        form=form,
        person=person,
        access=_access(person),
        handover=_handover_url(person),
        is_self=person.id == current_user.id,
    ), status


def _access(person: User) -> tuple[str, datetime | None]:
    """``password``, ``invited`` (with when the link expires) or ``none``."""
    if person.password_hash is not None:
        return "password", None
    until = people.invited_until({person.id}).get(person.id)
    return ("invited", until) if until is not None else ("none", None)


def _handover_url(person: User) -> str | None:
    """Where the teams a deactivated manager still manages are handed over, if anywhere."""
    if person.active or not person.managed_teams:
        return None
    if "admin.handover" not in current_app.view_functions:
        return None
    args: dict[str, Any] = {"from": person.id}
    return url_for("admin.handover", **args)


# --- deactivation ------------------------------------------------------------------------------


@bp.post("/people/<int:user_id>/deactivate")
@role_required(Role.ADMIN, Role.HR)
def deactivate(user_id: int) -> Response:
    return _set_active(user_id, active=False)


@bp.post("/people/<int:user_id>/reactivate")
@role_required(Role.ADMIN, Role.HR)
def reactivate(user_id: int) -> Response:
    return _set_active(user_id, active=True)


def _set_active(user_id: int, *, active: bool) -> Response:
    person = get_administered_person_or_404(user_id, current_user)
    if not EmptyForm().validate_on_submit():
        abort(400)
    back = redirect(url_for("admin.person", user_id=person.id))
    name = person.full_name
    try:
        changed = people.set_active(current_user, person, active)
    except PersonRefused as refused:
        db.session.rollback()
        for message in refused.problems.values():
            flash(message, "error")
        return back
    db.session.commit()
    if not changed:
        flash(
            _("%(name)s is active already.", name=name)
            if active
            else _("%(name)s is deactivated already.", name=name),
            "info",
        )
    elif active:
        flash(_("%(name)s is active again and can sign in.", name=name), "success")
    else:
        message = _("%(name)s is deactivated: they can no longer sign in.", name=name)
        teams = len(person.managed_teams)
        if teams:
            message += " " + ngettext(
                "They still manage %(num)d team: hand it over to another manager.",
                "They still manage %(num)d teams: hand them over to another manager.",
                teams,
            )
        flash(message, "success")
    return back


# --- access: one person ------------------------------------------------------------------------


def _access_refused(person: User) -> str | None:
    if not person.active:
        return _("%(name)s is deactivated: reactivate them first.", name=person.full_name)
    if person.id == current_user.id:
        return _("Change your own password on your password page.")
    return None


def _shown_once(page: str) -> Response:
    response = make_response(page, 201)
    response.headers["Cache-Control"] = "no-store"  # not kept in the browser's cache either
    return response


def _giving_access(user_id: int) -> tuple[User, Response | None]:
    """The person a form gives access to, and the answer when it may not be given."""
    person = get_administered_person_or_404(user_id, current_user)
    if not EmptyForm().validate_on_submit():
        abort(400)
    refusal = _access_refused(person)
    if refusal is None:
        return person, None
    flash(refusal, "error")
    return person, redirect(url_for("admin.person", user_id=person.id))


@bp.post("/people/<int:user_id>/link")
@role_required(Role.ADMIN, Role.HR)
def activation_link(user_id: int) -> Response:
    person, refused = _giving_access(user_id)
    if refused is not None:
        return refused
    token = accounts.issue_activation_link(person, current_user)
    link = accounts.find_activation_link(token)
    if link is None:  # just issued to an active person: it works
        raise RuntimeError("a new activation link does not work")
    expires_at = link.expires_at
    url = url_for("auth.activate", token=token, _external=True)
    message = _activation_email(person, url, expires_at) if mail.configured() else None
    db.session.commit()
    emailed = message is not None and mail.send([message]) == 1
    return _shown_once(
        render_template(
            "admin/person_access.html",
            person=person,
            link=url,
            expires_at=expires_at,
            emailed=emailed,
            mail_configured=message is not None,
        )
    )


@bp.post("/people/<int:user_id>/temporary-password")
@role_required(Role.ADMIN, Role.HR)
def temporary_password(user_id: int) -> Response:
    person, refused = _giving_access(user_id)
    if refused is not None:
        return refused
    password = accounts.set_temporary_password(person, current_user)
    db.session.commit()
    return _shown_once(
        render_template("admin/person_access.html", person=person, password=password)
    )


def _activation_email(person: User, link: str, expires_at: datetime) -> EmailMessage:
    """The link, in the person's language."""
    locale = person.locale if person.locale in SUPPORTED_LOCALES else SUPPORTED_LOCALES[0]
    with force_locale(locale):
        return mail.new_message(
            person.email,
            _("Choose your password for the Client-Centricity Academy"),
            render_template(
                "admin/activation_email.txt", person=person, link=link, expires_at=expires_at
            ),
        )


# --- access: everyone in a list --------------------------------------------------------------


@bp.post("/people/links")
@role_required(Role.ADMIN, Role.HR)
def bulk_links() -> Response | tuple[str, int]:
    """Activation links for the active people of the list who have no access yet (no
    password, no link that works), up to ``BULK_LINKS_MAX``: a CSV of them to pass on, and an
    e-mail to each when mail is configured."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    form, valid = _filter_form(request.form)
    if not valid:
        return render_template("admin/people.html", form=form, page=None), 400
    back = redirect(url_for("admin.people", **form.args()))
    posted = {name for name in form.NAMES if request.form.get(name, "") not in ("", "active")}
    if posted - set(form.args()):
        # A filter that no longer fits the others (a team moved meanwhile) would widen the
        # list: links go only to the list the person saw.
        flash(_("The list has changed since it was shown: check it, then create the links."))
        return back
    found = _without_access(current_user, form.filters())
    if not found:
        flash(_("Everyone in this list has access already."), "info")
        return back
    more = len(found) > BULK_LINKS_MAX
    found = found[:BULK_LINKS_MAX]
    # Read before the commit, which expires every loaded object (thousands of SELECTs else).
    expires_at = utcnow() + timedelta(days=int(current_app.config["ACTIVATION_LINK_DAYS"]))
    rows: list[tuple[str, ...]] = []
    messages: list[EmailMessage] = []
    tokens = accounts.issue_activation_links(found, current_user)
    for person in found:
        url = url_for("auth.activate", token=tokens[person.id], _external=True)
        rows.append(
            (
                person.full_name,
                person.email,
                person.employee_number or "",
                people.team_label(person.team) or "",
                url,
                iso_utc(expires_at),
            )
        )
        if mail.configured():
            messages.append(_activation_email(person, url, expires_at))
    db.session.commit()
    sent = mail.send(messages)
    summary = ngettext(
        "An activation link was created for %(num)d person.",
        "Activation links were created for %(num)d people.",
        len(rows),
    )
    if messages:
        summary += " " + _("%(sent)d of them were e-mailed.", sent=sent)
    flash(summary, "success")
    if more:
        flash(
            _(
                "Only the first %(max)d people of the list were given links: create links again for the next ones.",
                max=BULK_LINKS_MAX,
            ),
            "info",
        )
    return _links_csv(rows)


def _without_access(actor: User, filters: PeopleFilters) -> list[User]:
    """Active people of the list ``actor`` may give access to, without access yet, by name;
    one more than ``BULK_LINKS_MAX`` at most (it says whether there are more)."""
    if filters.access in ("password", "invited"):
        return []
    filters.active, filters.access = True, "none"
    query = people.filtered(actor, filters)
    if not actor.has_role(Role.ADMIN):  # an administrator's account is for administrators
        query = query.where(~User.roles.any(role=Role.ADMIN.value))
    found = db.session.scalars(
        query.options(
            joinedload(User.team).joinedload(Team.centre).joinedload(Centre.region),
            selectinload(User.roles),
        )
        .order_by(User.full_name, User.id)
        .limit(BULK_LINKS_MAX + 1)
    )
    return [person for person in found if can_administer_person(actor, person)]


def _links_csv(rows: list[tuple[str, ...]]) -> Response:
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel then reads Cyrillic right
    writer = csv.writer(buffer)
    writer.writerow(
        [_("Name"), _("E-mail"), _("Employee number"), _("Team"), _("Link"), _("Expires")]
    )
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    today = datetime.now(UTC).date().isoformat()
    response = make_response(buffer.getvalue().encode("utf-8"))
    response.mimetype = "text/csv"  # with "; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="activation-links-{today}.csv"'
    response.headers["Cache-Control"] = "no-store"  # working links: no copies on the way
    return response
