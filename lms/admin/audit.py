"""Admin: the audit log, newest first, with filters and pages of fifty."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from lms.admin import bp
from lms.models import Role
from lms.permissions import role_required
from lms.services import audit
from lms.services.reports import parse_id


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a search (GET): it changes nothing

    group = SelectField(_l("What"), validators=[Optional()], validate_choice=True)
    who = StringField(
        _l("Who"), validators=[Optional(), Length(max=100)], description=_l("Name or e-mail")
    )
    address = StringField(_l("From address"), validators=[Optional(), Length(max=45)])
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("To"), validators=[Optional()])

    def validate_since(self, field: DateField) -> None:
        _within_the_log(field.data)

    def validate_until(self, field: DateField) -> None:
        _within_the_log(field.data)
        if self.since.data and field.data and field.data < self.since.data:
            raise ValidationError(_("The period ends before it starts."))


def _within_the_log(day: date | None) -> None:
    if day is not None and not (FIRST_YEAR <= day.year <= LAST_YEAR):
        raise ValidationError(
            _("Choose a date from %(first)d to %(last)d.", first=FIRST_YEAR, last=LAST_YEAR)
        )


FIRST_YEAR, LAST_YEAR = 2000, 2100


@bp.get("/audit")
@role_required(Role.ADMIN)
def audit_log() -> tuple[str, int]:
    form = AuditFilterForm(request.args)
    form.group.choices = [("", _("Everything"))] + [
        (group, str(label)) for group, label in audit.ACTION_GROUPS.items()
    ]
    if request.args and not form.validate():
        return render_template("admin/audit.html", form=form, events=[], older=None), 400
    filters = audit.LogFilters(
        group=form.group.data or None,
        who=form.who.data or "",
        address=form.address.data or "",
        since=form.since.data,
        until=form.until.data,
    )
    before = parse_id(request.args.get("before", ""))
    found = audit.events(filters, before=before)
    events, more = found[: audit.PAGE_SIZE], len(found) > audit.PAGE_SIZE
    older = url_for("admin.audit_log", **_args(form, before=events[-1].id)) if more else None
    newest = url_for("admin.audit_log", **_args(form)) if before is not None else None
    return render_template(
        "admin/audit.html",
        form=form,
        events=events,
        older=older,
        newest=newest,
        label=audit.action_label,
    ), 200


def _args(form: AuditFilterForm, **extra: Any) -> dict[str, Any]:
    """The filters as they were given, for the links to other pages."""
    args: dict[str, Any] = {}
    for name in ("group", "who", "address", "since", "until"):
        value = form[name].data
        if value:
            args[name] = value.isoformat() if isinstance(value, date) else value
    return args | extra
