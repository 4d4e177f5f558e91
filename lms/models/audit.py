"""The audit log: who did what that matters to the organisation, and when.

Exports of personal data, imports of people, API tokens issued and revoked, and reminders are
written here; rows are only ever added.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.models.base import Base, utcnow
from lms.models.users import User


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # A dotted name such as ``export.completions_csv`` or ``users.import``.
    action: Mapped[str] = mapped_column(String(64), index=True)
    # What it was about, as the action describes it: filters, row counts, a token's name.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Where from: the address the request came from (behind a proxy, as PROXY_HOPS trusts).
    ip: Mapped[str | None] = mapped_column(String(45))

    actor: Mapped[User | None] = relationship()
