"""Departments, the people who work for the platform, and their accounts with roles and scopes."""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"                    # 系统管理员
    OPERATOR = "operator"              # 指挥中心/分中心/指挥所/工作站 operator, scoped to a region subtree
    DEPARTMENT_STAFF = "department_staff"  # 职能部门工作人员, scoped to a department
    GRID_WORKER = "grid_worker"        # 网格长/网格员, scoped to a grid and the grids under it
    CITIZEN = "citizen"                # 群众, sees only their own reports
    LEADER = "leader"                  # 领导, read-only overview of a region subtree
    CADRE = "cadre"                    # 村(社区)/乡镇(街道)干部, scoped to their village or township
    AUDITOR = "auditor"                # 审计员, reads the audit log and nothing else


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    short_name: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20), default="government")
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))  # the region it serves
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    # A county's bureau sits under the city's (城关区城市管理综合执法局 under 城管); None for a city department.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)


class Person(Base):
    """Someone who works in the system: a grid worker, department staff, an operator."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(20))
    gender: Mapped[str | None] = mapped_column(String(6))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    title: Mapped[str] = mapped_column(String(60), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(60))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    is_active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[dt.datetime | None]
    last_login_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Account security (core.signin, core.totp): when the password was last set, for the policy's maximum age;
    # the TOTP secret, encrypted, and when it was confirmed; the last time step used, so a code works only once.
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(default=utcnow)
    totp_secret: Mapped[str | None] = mapped_column(String(300))
    totp_enabled_at: Mapped[dt.datetime | None]
    totp_last_step: Mapped[int | None]
    # An account made from an imported roster has no password: its owner sets one at first sign-in.
    password_must_change: Mapped[bool] = mapped_column(default=False, server_default=false())

    grants: Mapped[list[RoleGrant]] = relationship(back_populates="account", cascade="all, delete-orphan",
                                                   lazy="selectin")


class RoleGrant(Base):
    """A role with its scope: a region subtree, a department or a grid (with the grids under it)."""

    __tablename__ = "role_grants"
    __table_args__ = (
        CheckConstraint("role in ('admin','operator','department_staff','grid_worker','citizen','leader','auditor',"
                        "'cadre')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))
    granted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    account: Mapped[Account] = relationship(back_populates="grants")
