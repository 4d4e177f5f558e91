"""Reminders: a manager (or HR) nudges someone who is behind with the course.

The person gets an in-app notification and, when SMTP settings are given (``MAIL_SERVER``
and friends, see ``lms.config``), an e-mail in their own language. One reminder a day per
person is enough: a second one the same day is refused, whoever sends it.
"""

from __future__ import annotations

from datetime import timedelta

from flask import render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from lms.config import SUPPORTED_LOCALES
from lms.extensions import db
from lms.models import Notification, NotificationKind, User, utcnow
from lms.permissions import can_remind
from lms.services import audit, mail

QUIET_HOURS = 24


class ReminderRefused(Exception):
    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


def remind(sender: User, person: User, modules_left: int) -> Notification:
    """Remind ``person`` that the course waits; ``ReminderRefused`` says why not.

    The notification is added to the session (the view commits); the e-mail, if any, is sent
    afterwards by ``send_email`` so that a slow mail server never holds a transaction open.
    """
    if not can_remind(sender, person):
        raise ReminderRefused(_("You cannot send a reminder to this person."), 403)
    since = utcnow() - timedelta(hours=QUIET_HOURS)
    recent = db.session.scalar(
        select(Notification.id).where(
            Notification.user_id == person.id,
            Notification.kind == NotificationKind.REMINDER,
            Notification.created_at >= since,
        )
    )
    if recent is not None:
        raise ReminderRefused(
            _("%(name)s was already reminded in the last 24 hours.", name=person.full_name)
        )
    notification = Notification(
        user_id=person.id,
        kind=NotificationKind.REMINDER,
        actor_id=sender.id,
        params={"modules_left": str(modules_left)},
    )
    db.session.add(notification)
    audit.record(sender, "reminder.send", person_id=person.id)
    return notification


def send_email(sender: User, person: User, modules_left: int) -> bool:
    """E-mail the reminder when SMTP is configured; False when it is not or sending failed
    (the in-app reminder stands either way, and the failure is logged)."""
    if not mail.configured():
        return False
    locale = person.locale if person.locale in SUPPORTED_LOCALES else SUPPORTED_LOCALES[0]
    with force_locale(locale):
        message = mail.new_message(
            person.email,
            _("Your client-centricity course is waiting"),
            render_template(
                "team/reminder_email.txt",
                person=person,
                sender=sender,
                modules_left=modules_left,
                link=url_for("me.learning", _external=True),
            ),
        )
    return mail.send([message]) == 1
