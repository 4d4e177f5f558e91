"""Recognition: badges awarded automatically, exactly once each, and personal thanks.

Badges come from four events: a module completed, the course completed, a competency
reaching level 3, and a goal achieved. The unique key (person, kind, subject) and an
``INSERT ... ON CONFLICT DO NOTHING`` make a repeated or simultaneous trigger award nothing
new. A badge is exported as an Open Badges 3.0 ``OpenBadgeCredential``.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from lms.content import get_course
from lms.extensions import db
from lms.i18n import current_locale
from lms.models import (
    Badge,
    BadgeKind,
    Goal,
    NotificationKind,
    Recognition,
    Team,
    User,
)
from lms.permissions import can_recognise
from lms.services import audit, notifications

OB3_CONTEXT = [
    "https://www.w3.org/2018/credentials/v1",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
MESSAGE_MAX = 1000


class RecognitionRefused(Exception):
    """Recognition that may not be given; the message says why, in the reader's language."""


def award_badge(user: User, kind: BadgeKind, subject: str) -> Badge | None:
    """Award the badge if the person does not hold it yet; None when they already do."""
    values = {
        "public_id": str(uuid.uuid4()),
        "user_id": user.id,
        "kind": kind.value,
        "subject": subject,
        "awarded_at": datetime.now(UTC),
    }
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(Badge).values(**values).on_conflict_do_nothing().returning(Badge.id)
    # RETURNING, not rowcount: psycopg does not report a row count for an INSERT.
    badge_id = db.session.execute(statement).scalar_one_or_none()
    if badge_id is None:
        return None
    badge = db.session.get_one(Badge, badge_id)
    notifications.notify(
        [user], NotificationKind.BADGE_AWARDED, badge_kind=kind.value, subject=subject
    )
    return badge


def badges_of(user: User) -> list[Badge]:
    query = select(Badge).where(Badge.user_id == user.id)
    return list(db.session.scalars(query.order_by(Badge.awarded_at.desc(), Badge.id.desc())))


def get_own_badge(user: User, public_id: str) -> Badge | None:
    return db.session.scalar(
        select(Badge).where(Badge.public_id == public_id, Badge.user_id == user.id)
    )


@dataclass(frozen=True)
class BadgeText:
    title: str
    description: str
    criteria: str


def badge_text(
    kind: str, subject: str, locale: str | None = None, *, generic: bool = False
) -> BadgeText:
    """The badge's name, what it stands for and how it is earned, in the given language;
    ``generic`` leaves out the goal's title (the public page of the achievement)."""
    course = get_course()
    locale = locale or current_locale()
    if kind == BadgeKind.MODULE_COMPLETED:
        module = next((m for m in course.modules if m.slug == subject), None)
        name = module.text(locale).title if module else subject
        return BadgeText(
            _("Module completed: %(module)s", module=name),
            _("Completed the module “%(module)s” of the Client-Centricity course.", module=name),
            _("Read every section, downloaded the memo and passed the end-of-module quiz."),
        )
    if kind == BadgeKind.COURSE_COMPLETED:
        return BadgeText(
            _("Client-Centricity course completed"),
            _("Completed all seven modules of the Client-Centricity course."),
            _("Completed every module: all sections read, memos downloaded, quizzes passed."),
        )
    if kind == BadgeKind.COMPETENCY_LEVEL_3:
        competency = course.competencies.get(subject)
        name = competency.names[locale] if competency else subject
        return BadgeText(
            _("Level 3 in “%(competency)s”", competency=name),
            _(
                "Reached level 3 of 4 in the client-centric competency “%(competency)s”.",
                competency=name,
            ),
            _("A manager's competency review rated the competency at level 3 or higher."),
        )
    if kind == BadgeKind.GOAL_ACHIEVED and generic:
        return BadgeText(
            _("Client-centric goal achieved"),
            _("Achieved an individual client-centric goal approved by a manager."),
            _("Set a SMART client-centric goal, had it approved by a manager and achieved it."),
        )
    if kind == BadgeKind.GOAL_ACHIEVED:
        goal = db.session.get(Goal, int(subject)) if subject.isdigit() else None
        name = goal.title if goal else subject
        return BadgeText(
            _("Goal achieved: %(goal)s", goal=name),
            _("Achieved an individual client-centric goal: “%(goal)s”.", goal=name),
            _("Set a SMART client-centric goal, had it approved by a manager and achieved it."),
        )
    return BadgeText(kind, kind, kind)


def badge_title(kind: str, subject: str) -> str:
    return badge_text(kind, subject).title


def achievement_subject(kind: str, subject: str) -> str | None:
    """The part of a badge that names its achievement publicly: a module or a competency.
    A goal's badge stays generic, so a goal's title is never public."""
    if kind in (BadgeKind.MODULE_COMPLETED, BadgeKind.COMPETENCY_LEVEL_3):
        return subject
    return None


def achievement_url(kind: str, subject: str) -> str:
    return url_for(
        "recognition.achievement",
        kind=kind,
        subject=achievement_subject(kind, subject),
        _external=True,
    )


def credential(badge: Badge, locale: str | None = None) -> dict[str, Any]:
    """The badge as an Open Badges 3.0 OpenBadgeCredential (unsigned JSON).

    It names the issuer (this academy), the achievement and the person: their name in
    plain text and their e-mail address hashed with a salt, as the standard suggests.
    """
    text = badge_text(badge.kind, badge.subject, locale)
    home = url_for("me.home", _external=True)
    salt = secrets.token_hex(8)
    email_hash = hashlib.sha256((badge.user.email.lower() + salt).encode()).hexdigest()
    return {
        "@context": OB3_CONTEXT,
        "id": f"urn:uuid:{badge.public_id}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": text.title,
        "description": text.description,
        "issuer": {
            "id": home,
            "type": ["Profile"],
            "name": _("Client-Centricity Academy"),
            "url": home,
        },
        "issuanceDate": badge.awarded_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "emailAddress",
                    "hashed": True,
                    "identityHash": f"sha256${email_hash}",
                    "salt": salt,
                },
                {
                    "type": "IdentityObject",
                    "identityType": "ext:fullName",
                    "hashed": False,
                    "identityHash": badge.user.full_name,
                },
            ],
            "achievement": {
                "id": achievement_url(badge.kind, badge.subject),
                "type": ["Achievement"],
                "achievementType": "Badge",
                "name": text.title,
                "description": text.description,
                "criteria": {"narrative": text.criteria},
            },
        },
    }


def give_recognition(
    giver: User,
    recipient: User,
    message: str,
    *,
    competency_id: str | None = None,
    goal: Goal | None = None,
) -> Recognition:
    """Record thanks for a competency shown or a goal worked on, and tell the recipient."""
    message = message.strip()
    if not can_recognise(giver, recipient):
        raise RecognitionRefused(
            _("You can recognise colleagues in your team and people you manage, not yourself.")
        )
    if not message:
        raise RecognitionRefused(_("Write a few words about what the person did."))
    if len(message) > MESSAGE_MAX:
        raise RecognitionRefused(_("Keep the message under %(max)d characters.", max=MESSAGE_MAX))
    if competency_id is None and goal is None:
        raise RecognitionRefused(_("Choose the competency or the goal this recognition is for."))
    if competency_id is not None and competency_id not in get_course().competencies:
        raise RecognitionRefused(_("Choose a competency of the framework."))
    if goal is not None and goal.user_id != recipient.id:
        raise RecognitionRefused(_("The goal must be one of the person's own goals."))
    recognition = Recognition(
        recipient_id=recipient.id,
        giver_id=giver.id,
        message=message,
        competency_id=competency_id,
        goal_id=goal.id if goal else None,
    )
    db.session.add(recognition)
    db.session.flush()
    audit.record(
        giver,
        "recognition.give",
        recognition_id=recognition.id,
        person_id=recipient.id,
        competency_id=competency_id,
        goal_id=recognition.goal_id,
    )
    notifications.notify([recipient], NotificationKind.RECOGNITION_RECEIVED, actor=giver)
    return recognition


def recognitions_of(user: User, limit: int = 100) -> list[Recognition]:
    query = (
        select(Recognition)
        .where(Recognition.recipient_id == user.id)
        .options(selectinload(Recognition.giver))  # the list shows each giver's name
        .order_by(Recognition.created_at.desc(), Recognition.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class WallEntry:
    at: datetime
    person: User
    recognition: Recognition | None = None
    badge: Badge | None = None


def team_wall(team: Team, limit: int = 100) -> list[WallEntry]:
    """Recognition and badges of the team's active people, newest first."""
    members = select(User.id).where(User.team_id == team.id, User.active)
    recognitions = db.session.scalars(
        select(Recognition)
        .where(Recognition.recipient_id.in_(members))
        .order_by(Recognition.created_at.desc())
        .limit(limit)
    )
    badges = db.session.scalars(
        select(Badge)
        .where(Badge.user_id.in_(members))
        .order_by(Badge.awarded_at.desc())
        .limit(limit)
    )
    entries = [WallEntry(r.created_at, r.recipient, recognition=r) for r in recognitions]
    entries += [WallEntry(b.awarded_at, b.user, badge=b) for b in badges]
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit]
