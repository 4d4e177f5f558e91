"""Writing to the audit log. Functions add to the session; the caller commits."""

from __future__ import annotations

from typing import Any

from lms.extensions import db
from lms.models import AuditEvent, User


def record(actor: User | None, action: str, **details: Any) -> AuditEvent:
    """Add one entry: ``actor`` did ``action``; ``details`` must be JSON-serialisable."""
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None, action=action, details=details
    )
    db.session.add(event)
    db.session.flush()
    return event
