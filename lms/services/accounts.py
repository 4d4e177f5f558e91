"""Signing in, sessions, passwords and personal settings.

Passwords are hashed with scrypt (Werkzeug's default). A new password must pass
``password_problems``: long enough, not a well-known one, not the person's e-mail or name,
not one character or a keyboard run. Sessions are kept on the server (``UserSession``): the
cookie holds a random token, so signing out, a new password or deactivation ends them.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, insert, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from lms.config import SUPPORTED_LOCALES
from lms.extensions import db
from lms.models import ActivationLink, User, UserSession, utcnow
from lms.services import audit

# Checked against when the e-mail is unknown, so that a wrong e-mail takes as long as a
# wrong password and the timing does not tell whether an account exists.
_DUMMY_HASH = generate_password_hash("not a real password")


class LoginOutcome(Enum):
    OK = "ok"
    INVALID = "invalid"
    INACTIVE = "inactive"


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    user: User | None = None


def normalise_email(email: str) -> str:
    """The form e-mails are kept and compared in: composed Unicode (NFC), lower case."""
    return unicodedata.normalize("NFC", email.strip()).lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def authenticate(email: str, password: str) -> LoginResult:
    """Check an e-mail and password.

    A deactivated account is reported as such only to someone who gave its right password.
    """
    user = find_user_by_email(email)
    if user is None or user.password_hash is None:
        check_password_hash(_DUMMY_HASH, password)
        return LoginResult(LoginOutcome.INVALID)
    if not user.check_password(password):
        return LoginResult(LoginOutcome.INVALID)
    if not user.active:
        return LoginResult(LoginOutcome.INACTIVE)
    return LoginResult(LoginOutcome.OK, user)


def record_login(user: User) -> None:
    user.last_login_at = utcnow()
    db.session.flush()


def set_locale(user: User, locale: str) -> None:
    if locale not in SUPPORTED_LOCALES:
        raise ValueError(f"unsupported locale {locale!r}")
    user.locale = locale
    db.session.flush()


# --- sessions ------------------------------------------------------------------------------

SESSION_KEY = "sid"  # the session token's place in the signed cookie


def hash_session_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_cutoff() -> datetime:
    """Sessions started before this have expired, however the browser kept its cookie."""
    return utcnow() - timedelta(seconds=current_app.config["SESSION_MAX_AGE_SECONDS"])


def start_session(user: User, ip: str | None, user_agent: str | None) -> str:
    """A new server-side session for ``user``; returns the token the cookie carries. Their
    sessions that have expired are cleared away at the same time."""
    db.session.execute(
        delete(UserSession).where(
            UserSession.user_id == user.id, UserSession.created_at < session_cutoff()
        )
    )
    token = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            user_id=user.id,
            token_hash=hash_session_token(token),
            ip=(ip or "")[:45] or None,
            user_agent=(user_agent or "")[:200] or None,
        )
    )
    db.session.flush()
    return token


def end_session(token: str | None) -> None:
    if token:
        db.session.execute(
            delete(UserSession).where(UserSession.token_hash == hash_session_token(token))
        )


def end_sessions(user: User, keep: str | None = None) -> int:
    """End every session of ``user`` but the one whose token is ``keep``; returns how many."""
    query = delete(UserSession).where(UserSession.user_id == user.id)
    if keep:
        query = query.where(UserSession.token_hash != hash_session_token(keep))
    return db.session.execute(query).rowcount or 0  # type: ignore[attr-defined]


# --- passwords -----------------------------------------------------------------------------

PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 128

# The most used passwords (from public breach lists), Russian ones included, after lowering;
# a new password may not be one of them nor one of them followed by digits.
_COMMON = """
    password passw0rd password1 password123 qwerty qwertyuiop qwerty123 qwertyui 123qwe
    1q2w3e4r 1q2w3e4r5t 1qaz2wsx zaq12wsx asdfghjkl asdfgh zxcvbnm iloveyou admin
    administrator welcome letmein monkey dragon football baseball sunshine princess
    superman batman trustno1 master shadow michael whatever starwars computer internet
    changeme default secret login abc123 abcdef abcdefgh abcdefghij
    йцукен йцукенгшщз пароль парольпароль привет любовь наташа солнышко
    gfhjkm ghbdtn rfhfylfi
    demo demodemo
"""
COMMON_PASSWORDS = frozenset(_COMMON.split())
_KEYBOARD_RUNS = (
    "0123456789",
    "1234567890",
    "9876543210",
    "abcdefghijklmnopqrstuvwxyz",
    "qwertyuiopasdfghjklzxcvbnm",
    "йцукенгшщзхъфывапролджэячсмитьбю",
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
)


def password_problems(password: str, user: User | None = None) -> list[str]:
    """Why ``password`` cannot be used (an empty list when it can), in the reader's language."""
    problems = []
    if len(password) < PASSWORD_MIN_LENGTH:
        problems.append(_("Use at least %(count)d characters.", count=PASSWORD_MIN_LENGTH))
    if len(password) > PASSWORD_MAX_LENGTH:
        problems.append(_("Use at most %(count)d characters.", count=PASSWORD_MAX_LENGTH))
    lowered = password.lower()
    stem = re.sub(r"[\d\W_]+$", "", lowered)  # "Password2024!" is still "password"
    if lowered in COMMON_PASSWORDS or stem in COMMON_PASSWORDS:
        problems.append(_("This password is among the most common ones: choose another."))
    elif len(set(lowered)) <= 2 or any(lowered in run for run in _KEYBOARD_RUNS):
        problems.append(_("A run of the same or neighbouring keys is easy to guess."))
    if user is not None and any(name in lowered for name in _names_of(user)):
        problems.append(_("Do not use your name or e-mail in your password."))
    return problems


def _words_of(text: str) -> set[str]:
    return {word for word in re.split(r"[\W_]+", text) if len(word) >= 4}


def _names_of(user: User) -> set[str]:
    local_part = (user.email or "").split("@")[0].lower()
    return (
        _words_of(local_part)
        | _words_of((user.full_name or "").lower())
        | ({local_part} if len(local_part) >= 4 else set())
    )


def change_password(user: User, new_password: str) -> None:
    """Set a password of the person's own: the temporary one is gone, and every session of
    theirs ends, this one included (whoever copied its cookie is out too); the caller starts
    a new one for the browser that made the change. The caller has checked
    ``password_problems``."""
    user.set_password(new_password)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    end_sessions(user)
    retire_links(user)  # a link given earlier must not reset the password chosen now
    audit.record(user, "password.change", person_id=user.id)
    db.session.flush()


def set_temporary_password(user: User, actor: User | None) -> str:
    """Give ``user`` a random temporary password, to be changed at the next sign-in; returns it
    (shown once to whoever passes it on). Every session of theirs ends."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/l/I
    password = "-".join(
        "".join(secrets.choice(alphabet) for _letter in range(4)) for _group in range(3)
    )
    user.set_password(password)
    user.must_change_password = True
    user.password_changed_at = utcnow()
    end_sessions(user)
    retire_links(user)  # a link given earlier must not reset this password afterwards
    audit.record(actor, "password.temporary", person_id=user.id, email=user.email)
    db.session.flush()
    return password


# --- activation links ----------------------------------------------------------------------


def issue_activation_link(user: User, actor: User | None) -> str:
    """A one-time link for ``user`` to choose a password, valid ``ACTIVATION_LINK_DAYS``
    days; returns the token (the caller builds the URL and shows it once). Earlier unused
    links of theirs stop working."""
    return issue_activation_links([user], actor)[user.id]


def issue_activation_links(users: list[User], actor: User | None) -> dict[int, str]:
    """``issue_activation_link`` for many people at once (a whole list after an import), in
    a few statements per thousand people rather than a few per person: their tokens by id."""
    now = utcnow()
    days = int(current_app.config["ACTIVATION_LINK_DAYS"])
    tokens: dict[int, str] = {}
    for start in range(0, len(users), _CHUNK):
        chunk = users[start : start + _CHUNK]
        _retire_links_of([user.id for user in chunk], now)
        links = []
        for user in chunk:
            tokens[user.id] = secrets.token_urlsafe(32)
            links.append(
                {
                    "user_id": user.id,
                    "token_hash": hash_session_token(tokens[user.id]),
                    "created_by_id": actor.id if actor is not None else None,
                    "created_at": now,
                    "expires_at": now + timedelta(days=days),
                }
            )
        db.session.execute(insert(ActivationLink), links)
        audit.record_many(
            actor,
            "access.link",
            [{"person_id": user.id, "email": user.email, "days": days} for user in chunk],
        )
    return tokens


_CHUNK = 500  # ids per IN (...): well under the parameter limits of SQLite and PostgreSQL


def retire_links(user: User) -> None:
    """Links of ``user`` not used yet stop working now."""
    _retire_links_of([user.id], utcnow())


def _retire_links_of(user_ids: list[int], now: datetime) -> None:
    db.session.execute(
        update(ActivationLink)
        .where(
            ActivationLink.user_id.in_(user_ids),
            ActivationLink.used_at.is_(None),
            ActivationLink.expires_at > now,
        )
        .values(expires_at=now)
    )


def find_activation_link(token: str) -> ActivationLink | None:
    """The link of ``token`` if it still works: unused, unexpired, its person active."""
    link = db.session.scalar(
        select(ActivationLink).where(ActivationLink.token_hash == hash_session_token(token))
    )
    if link is None or link.used_at is not None or link.expires_at <= utcnow():
        return None
    return link if link.user.active else None


def activate(link: ActivationLink, new_password: str) -> User:
    """Use ``link`` once: the person's password becomes ``new_password`` (checked by the
    caller with ``password_problems``) and every other session of theirs ends. The caller
    starts a session for this browser. A link used at the same moment in another request
    is refused with ``LinkUsed``."""
    now = utcnow()
    used = db.session.execute(
        update(ActivationLink)
        .where(
            ActivationLink.id == link.id,
            ActivationLink.used_at.is_(None),
            ActivationLink.expires_at > now,  # retired meanwhile: a new link or password
            select(User.active).where(User.id == ActivationLink.user_id).scalar_subquery(),
        )
        .values(used_at=now)
    )
    if not used.rowcount:  # type: ignore[attr-defined]
        raise LinkUsed
    user = link.user
    user.set_password(new_password)
    user.must_change_password = False
    user.password_changed_at = now
    end_sessions(user)
    retire_links(user)
    audit.record(user, "access.activate", person_id=user.id)
    db.session.flush()
    return user


class LinkUsed(Exception):
    """The activation link was used (or retired) in the meantime."""
