"""Writing to the audit log. Functions add to the session; the caller commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, or_, select
from sqlalchemy.orm import joinedload

from lms.extensions import db
from lms.models import AuditEvent, User

PAGE_SIZE = 50

# What the log page calls each kind of entry; an action not named here is shown as it is.
ACTION_LABELS = {
    "login": _l("Signed in"),
    "login.failed": _l("Sign-in failed"),
    "login.refused": _l("Sign-in refused: account deactivated"),
    "password.change": _l("Password changed"),
    "password.change_failed": _l("Password change refused: wrong current password"),
    "password.temporary": _l("Temporary password given"),
    "users.import": _l("People imported"),
    "roles.change": _l("Roles changed"),
    "export.completions_csv": _l("Completion records exported (CSV)"),
    "export.completions_xlsx": _l("Completion records exported (XLSX)"),
    "export.xapi": _l("xAPI statements exported"),
    "export.transcript": _l("Training transcript downloaded"),
    "api_token.issue": _l("API token issued"),
    "api_token.revoke": _l("API token revoked"),
    "reminder.send": _l("Reminder sent"),
    "review.record": _l("Competency review recorded"),
    "goal.submit": _l("Goal submitted"),
    "goal.approve": _l("Goal approved"),
    "goal.return": _l("Goal returned"),
    "goal.achieve": _l("Goal marked achieved"),
    "goal.not_achieve": _l("Goal marked not achieved"),
    "org_goal.create": _l("Organisational goal set"),
    "recognition.give": _l("Recognition given"),
    "backup.restore": _l("Database restored from a backup"),
    "people.create": _l("Person added"),
    "people.update": _l("Person's details changed"),
    "people.deactivate": _l("Person deactivated"),
    "people.reactivate": _l("Person reactivated"),
    "access.link": _l("Activation link created"),
    "access.activate": _l("Activation link used"),
    "org.region.create": _l("Region added"),
    "org.region.rename": _l("Region renamed"),
    "org.centre.create": _l("Centre added"),
    "org.centre.rename": _l("Centre renamed"),
    "org.team.create": _l("Team added"),
    "org.team.rename": _l("Team renamed"),
    "org.team.move": _l("Team moved to another centre"),
    "org.handover": _l("Teams handed over to another manager"),
    "content.publish": _l("Course content published"),
}

# The filter's groups: an entry belongs to a group when its action is the group's name or
# starts with it and a dot.
ACTION_GROUPS = {
    "login": _l("Sign-ins"),
    "password": _l("Passwords"),
    "users": _l("Imports of people"),
    "roles": _l("Role changes"),
    "export": _l("Exports and transcripts"),
    "api_token": _l("API tokens"),
    "reminder": _l("Reminders"),
    "review": _l("Competency reviews"),
    "goal": _l("Goal decisions"),
    "org_goal": _l("Organisational goals"),
    "recognition": _l("Recognition"),
    "backup": _l("Backups"),
    "people": _l("People's accounts"),
    "access": _l("Activation links"),
    "org": _l("Organisation"),
    "content": _l("Content publishing"),
}


def record(actor: User | None, action: str, **details: Any) -> AuditEvent:
    """Add one entry: ``actor`` did ``action``, from the request's address when there is one
    (the command line has none); ``details`` must be JSON-serialisable."""
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        action=action,
        details=details,
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    db.session.flush()
    return event


def record_many(actor: User | None, action: str, details: list[dict[str, Any]]) -> None:
    """``record`` for many entries of one kind at once, in one statement."""
    if not details:
        return
    ip = request.remote_addr if has_request_context() else None
    actor_id = actor.id if actor is not None else None
    db.session.execute(
        insert(AuditEvent),
        [{"actor_id": actor_id, "action": action, "details": each, "ip": ip} for each in details],
    )


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


@dataclass(frozen=True)
class LogFilters:
    group: str | None = None
    who: str = ""  # part of the actor's e-mail or name
    address: str = ""  # the address, from its start
    since: date | None = None
    until: date | None = None


def events(filters: LogFilters, before: int | None = None) -> list[AuditEvent]:
    """Newest first, ``PAGE_SIZE + 1`` at most (the extra one says an older page exists),
    older than the entry ``before`` when it is given."""
    from lms.services.reports import start_of  # reports needs permissions, which need this

    query = (
        select(AuditEvent)
        .options(joinedload(AuditEvent.actor))
        .order_by(AuditEvent.id.desc())
        .limit(PAGE_SIZE + 1)
    )
    if before is not None:
        query = query.where(AuditEvent.id < before)
    if filters.group:
        query = query.where(
            or_(AuditEvent.action == filters.group, AuditEvent.action.like(filters.group + ".%"))
        )
    if filters.who:
        # The person who acted, or the account a failed sign-in tried (its e-mail).
        pattern = "%" + _escape_like(filters.who.strip().lower()) + "%"
        query = query.outerjoin(AuditEvent.actor).where(
            or_(
                User.email.ilike(pattern, escape="\\"),
                User.full_name.ilike(pattern, escape="\\"),
                AuditEvent.details["email"].as_string().ilike(pattern, escape="\\"),
            )
        )
    if filters.address:
        query = query.where(
            AuditEvent.ip.like(_escape_like(filters.address.strip()) + "%", escape="\\")
        )
    if filters.since is not None:
        query = query.where(AuditEvent.at >= start_of(filters.since))
    if filters.until is not None:
        query = query.where(AuditEvent.at < start_of(filters.until + timedelta(days=1)))
    return list(db.session.scalars(query))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
