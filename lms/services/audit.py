"""Writing to the audit log. Functions add to the session; the caller commits."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request

from lms.extensions import db
from lms.models import AuditEvent, User


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
