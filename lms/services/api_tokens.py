"""Bearer tokens for the read API: issued and revoked by admins, checked on every API request.

A token is random (256 bits), so a plain SHA-256 of it is enough to store and to look it up
by: the lookup compares hashes in the database index, and nothing about the token itself is
compared character by character in Python. The token is shown once, when it is issued.

A token acts as the admin who issued it, as that person stands at the time of the request:
it stops working when it is revoked, and also when its issuer is deactivated or no longer an
admin. Functions flush or change the session; the view commits.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lms.extensions import db
from lms.models import ApiToken, Role, User, utcnow
from lms.services import audit

TOKEN_PREFIX = "cca_"  # noqa: S105  (a marker that says whose token it is, not a secret)
# Enough of the token to tell tokens apart in a list, far too little to guess the rest.
SHOWN_CHARACTERS = len(TOKEN_PREFIX) + 8
# The last-use stamp is a hint for admins, not a log: one write a minute per token at most.
LAST_USED_PRECISION = timedelta(minutes=1)


class TokenRefused(Exception):
    """The token cannot be revoked (already revoked); the message says why."""


def hash_token(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def issue(admin: User, name: str) -> tuple[ApiToken, str]:
    """A new token named ``name``, and its plaintext: shown once, never stored."""
    if not admin.has_role(Role.ADMIN):
        raise PermissionError("only admins issue API tokens")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name.strip(),
        token_hash=hash_token(plaintext),
        prefix=plaintext[:SHOWN_CHARACTERS],
        issued_by=admin,
    )
    db.session.add(token)
    db.session.flush()
    audit.record(admin, "api_token.issue", token_id=token.id, name=token.name)
    return token, plaintext


def revoke(token: ApiToken, admin: User) -> None:
    """Revoke for good; ``TokenRefused`` when it is revoked already (nothing is recorded)."""
    if not admin.has_role(Role.ADMIN):
        raise PermissionError("only admins revoke API tokens")
    if token.revoked_at is not None:
        raise TokenRefused("the token is revoked already")
    token.revoked_at = utcnow()
    token.revoked_by = admin
    db.session.flush()
    audit.record(admin, "api_token.revoke", token_id=token.id, name=token.name)


def authenticate(plaintext: str, now: datetime | None = None) -> User | None:
    """The admin a token acts as, or ``None`` when the token is unknown, revoked, or its
    issuer is deactivated, no longer an admin, or was given a temporary password they have not
    yet replaced (an account being recovered lends its tokens to nobody meanwhile).

    When the last-use stamp is more than a minute old it is updated: a change in the session
    that the caller commits.
    """
    if not plaintext.startswith(TOKEN_PREFIX):
        return None
    token = db.session.scalar(
        select(ApiToken)
        .options(joinedload(ApiToken.issued_by))
        .where(ApiToken.token_hash == hash_token(plaintext))
    )
    if token is None or token.revoked_at is not None:
        return None
    issuer = token.issued_by
    if not issuer.active or not issuer.has_role(Role.ADMIN) or issuer.must_change_password:
        return None
    now = now or utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        token.last_used_at = now
    return issuer


def tokens() -> list[ApiToken]:
    """Every token, newest first, with who issued and who revoked it."""
    query = (
        select(ApiToken)
        .options(joinedload(ApiToken.issued_by), joinedload(ApiToken.revoked_by))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return list(db.session.scalars(query))
