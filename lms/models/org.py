"""Organisation: region > centre > team, and who manages which team."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Column, ForeignKey, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.models.base import Base

if TYPE_CHECKING:
    from lms.models.users import User

team_managers = Table(
    "team_managers",
    Base.metadata,
    Column("team_id", ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class Region(Base):
    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)

    centres: Mapped[list[Centre]] = relationship(back_populates="region", order_by="Centre.name")


class Centre(Base):
    __tablename__ = "centres"
    __table_args__ = (UniqueConstraint("region_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))

    region: Mapped[Region] = relationship(back_populates="centres")
    teams: Mapped[list[Team]] = relationship(back_populates="centre", order_by="Team.name")


class Team(Base):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("centre_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))

    centre: Mapped[Centre] = relationship(back_populates="teams")
    members: Mapped[list[User]] = relationship(
        back_populates="team", foreign_keys="User.team_id", order_by="User.full_name"
    )
    managers: Mapped[list[User]] = relationship(
        secondary=team_managers, back_populates="managed_teams", order_by="User.full_name"
    )
