"""Signing in and personal settings."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from lms.config import SUPPORTED_LOCALES
from lms.extensions import db
from lms.models import User, utcnow

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
    return email.strip().lower()


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
