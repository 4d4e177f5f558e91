"""Bearer tokens for the read API, issued and revoked by admins.

Only a hash of the token is kept; the token itself is shown once, when it is issued. A token
sees what the admin who issued it sees, and stops working when it is revoked or when that
person loses the role or is deactivated.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.models.base import Base, utcnow
from lms.models.users import User


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # sha256 of the token, hex; the token is random, so a plain hash is enough.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters, shown in lists so that people can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    issued_by: Mapped[User] = relationship(foreign_keys=[issued_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    @property
    def active(self) -> bool:
        return self.revoked_at is None
