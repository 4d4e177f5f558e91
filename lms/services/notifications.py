"""In-app notifications: stored with their parameters, worded in the reader's language when
shown. Functions flush or add; the view commits."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask import g, url_for
from flask_babel import gettext as _
from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import selectinload

from lms.extensions import db
from lms.models import Notification, NotificationKind, User, utcnow


def notify(
    recipients: Iterable[User],
    kind: NotificationKind,
    *,
    actor: User | None = None,
    **params: str,
) -> None:
    """Tell each recipient once; the actor is never told about their own action."""
    seen: set[int] = set()
    for person in recipients:
        if person.id in seen or (actor is not None and person.id == actor.id):
            continue
        seen.add(person.id)
        db.session.add(
            Notification(
                user_id=person.id,
                kind=kind,
                actor_id=actor.id if actor else None,
                params=dict(params),
            )
        )
    _forget_unread()


def unread_count(user: User) -> int:
    """How many notifications ``user`` has not read. For the person signed in, it was counted
    in the query that loaded them (``remember_unread``): every page shows it in the header,
    and a round trip of its own cost a tenth of a page."""
    counted = g.get(_UNREAD)
    if counted is not None and counted[0] == user.id:
        return int(counted[1])
    return db.session.scalar(unread_of(user.id)) or 0


def unread_of(user_id: Any) -> Select[int]:
    """How many notifications the person ``user_id`` (an id or a column) has not read."""
    return select(func.count(Notification.id)).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )


def remember_unread(user: User, count: int) -> None:
    """Keep the count read with ``user`` for this request; any change here forgets it."""
    setattr(g, _UNREAD, (user.id, count))


def _forget_unread() -> None:
    g.pop(_UNREAD, None)


_UNREAD = "lms_unread_notifications"


def recent(user: User, limit: int = 50) -> list[Notification]:
    query = (
        select(Notification)
        .where(Notification.user_id == user.id)
        .options(selectinload(Notification.actor))  # one query for every actor, not one each
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def mark_read(user: User, notification_id: int | None = None) -> int:
    """Mark one notification, or all of them, as read; only ever the person's own."""
    now: datetime = utcnow()
    statement = update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        statement = statement.where(Notification.id == notification_id)
    result = db.session.execute(statement.values(read_at=now))
    _forget_unread()
    return int(getattr(result, "rowcount", 0) or 0)


def get_own(user: User, notification_id: int) -> Notification | None:
    return db.session.scalar(
        select(Notification).where(
            Notification.id == notification_id, Notification.user_id == user.id
        )
    )


def message(notification: Notification) -> str:
    """The notification's sentence in the current language."""
    params = dict(notification.params or {})
    actor = notification.actor.full_name if notification.actor else ""
    kind = notification.kind
    if kind == NotificationKind.GOAL_SUBMITTED:
        return _("%(name)s submitted a goal for your approval: “%(goal)s”.", name=actor, **params)
    if kind == NotificationKind.GOAL_APPROVED:
        return _("%(name)s approved your goal “%(goal)s”.", name=actor, **params)
    if kind == NotificationKind.GOAL_RETURNED:
        return _(
            "%(name)s returned your goal “%(goal)s” with a comment. Change it and submit it again.",
            name=actor,
            **params,
        )
    if kind == NotificationKind.REVIEW_DONE:
        return _("%(name)s recorded a competency review of you.", name=actor)
    if kind == NotificationKind.RECOGNITION_RECEIVED:
        return _("%(name)s recognised your work.", name=actor)
    if kind == NotificationKind.BADGE_AWARDED:
        from lms.services.recognition import badge_title  # recognition notifies, too

        title = badge_title(params.get("badge_kind", ""), params.get("subject", ""))
        return _("You earned a badge: %(badge)s.", badge=title)
    if kind == NotificationKind.REMINDER:
        return _(
            "%(name)s reminds you about the course: %(count)s module(s) left to complete.",
            name=actor,
            count=params.get("modules_left", "?"),
        )
    return kind


def link(notification: Notification) -> str:
    """Where the notification leads: the goal, the person's page, or their badges."""
    params = notification.params or {}
    if "goal_id" in params:
        return url_for("goals.detail", goal_id=int(params["goal_id"]))
    if notification.kind == NotificationKind.BADGE_AWARDED:
        return url_for("recognition.badges")
    if notification.kind == NotificationKind.REMINDER:
        return url_for("me.learning")
    if notification.kind == NotificationKind.RECOGNITION_RECEIVED:
        return url_for("people.person", user_id=notification.user_id, _anchor="recognition")
    return url_for("people.person", user_id=notification.user_id)
