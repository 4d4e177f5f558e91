"""People and their roles. People are deactivated, never deleted: their records stay."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    delete,
    event,
    false,
    func,
    inspect,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from lms.models.base import Base, utcnow
from lms.models.org import Region, Team, team_managers


class Role(StrEnum):
    EMPLOYEE = "employee"
    MANAGER = "manager"
    HR = "hr"
    ADMIN = "admin"


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    employee_number: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Set with a temporary password: the next sign-in leads to choosing a password of one's own.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    password_changed_at: Mapped[datetime | None]

    team: Mapped[Team | None] = relationship(back_populates="members", foreign_keys=[team_id])
    roles: Mapped[list[RoleAssignment]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )
    managed_teams: Mapped[list[Team]] = relationship(
        secondary=team_managers, back_populates="managers", order_by="Team.name"
    )

    def __repr__(self) -> str:
        return f"<User {self.email}>"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses to log in inactive users
        return self.active

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return self.password_hash is not None and check_password_hash(self.password_hash, password)

    @property
    def role_names(self) -> frozenset[Role]:
        return frozenset(Role(assignment.role) for assignment in self.roles)

    def has_role(self, *roles: Role) -> bool:
        return not self.role_names.isdisjoint(roles)

    def grant(self, role: Role, region: Region | None = None) -> RoleAssignment:
        """Give a role once; HR may be limited to one region (``None`` means everything).

        Granting a role the person already holds keeps its scope unless a region is given, so
        re-running an import never widens a regional HR person to the whole country.
        """
        for assignment in self.roles:
            if assignment.role == role:
                if region is not None:
                    assignment.region = region
                return assignment
        assignment = RoleAssignment(role=role.value, region=region)
        self.roles.append(assignment)
        return assignment


# E-mails are compared without case (sign-in, import): no two accounts differ only by it.
Index("uq_users_email_lower", func.lower(User.email), unique=True)
# The people list (/admin) goes by name, fifty at a time.
Index("ix_users_full_name_id", User.full_name, User.id)


class RoleAssignment(Base):
    __tablename__ = "role_assignments"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="roles")
    region: Mapped[Region | None] = relationship()


class UserSession(Base):
    """One signed-in browser. The cookie holds a random token whose hash is kept here: signing
    out deletes the row, so a copy of the cookie opens nothing afterwards; a new password or
    deactivation deletes all of a person's rows."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))


class ActivationLink(Base):
    """A one-time link with which a person chooses their first password (or a new one): it
    works once and until it expires. Only the hash of its token is kept; issuing a new link
    to the same person retires the unused older ones."""

    __tablename__ = "activation_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id])


@event.listens_for(Session, "before_flush")
def _end_the_sessions_of_the_deactivated(session: Session, context: Any, instances: Any) -> None:
    """Deactivating someone signs them out everywhere, so reactivating them later revives no
    old cookie: their session rows go in the same transaction."""
    for obj in session.dirty:
        if (
            isinstance(obj, User)
            and obj.id is not None
            and not obj.active
            and inspect(obj).attrs.active.history.has_changes()
        ):
            session.connection().execute(delete(UserSession).where(UserSession.user_id == obj.id))
