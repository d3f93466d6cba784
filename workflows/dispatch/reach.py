"""Who can act on a case: the departments a dispatch may usefully reach, and the picker staff choose them from.

A department can act when it is active and either has at least one active staff account (a `department_staff`
grant for it) or is the fallback department (兜底) of the case's region. A suggestion towards a department that
cannot act goes to its nearest parent department that can (a district bureau's city bureau), or is dropped: a
case sent where nobody can open it waits for nobody.
"""
from __future__ import annotations

import dataclasses

from sqlalchemy import select
from sqlalchemy.orm import Session

from minqing.core.models import Account, Case, Department, Role, RoleGrant

from .. import fallback

CITY_LEVEL = "市级部门"


def staffed(session: Session) -> set[int]:
    """Ids of the active departments that have at least one active staff account."""
    return set(session.scalars(
        select(RoleGrant.department_id).distinct()
        .join(Account, Account.id == RoleGrant.account_id)
        .join(Department, Department.id == RoleGrant.department_id)
        .where(RoleGrant.role == Role.DEPARTMENT_STAFF, Account.is_active.is_(True), Department.active.is_(True))))


def able(session: Session, case: Case | None = None) -> set[int]:
    """Ids of the departments that can act on `case`: staffed ones, and the fallback of the case's region."""
    found = staffed(session)
    if case is not None and case.region_code:
        taken = fallback.fallback_for(session, case.region_code)
        if taken is not None:
            found.add(taken[1].id)
    return found


@dataclasses.dataclass(frozen=True)
class Reach:
    """Where a dispatch towards `wanted` lands: `department` (None when nobody up its chain can act)."""
    wanted: Department | None
    department: Department | None

    @property
    def moved(self) -> bool:
        return self.department is not None and self.wanted is not None and self.department.id != self.wanted.id


def nearest_able(session: Session, department: Department | None, can_act: set[int]) -> Reach:
    """`department` itself when it can act, else its nearest parent that can, else none."""
    current, seen = department, set()
    while current is not None and current.id not in seen:
        if current.active and current.id in can_act:
            return Reach(department, current)
        seen.add(current.id)
        current = session.get(Department, current.parent_id) if current.parent_id else None
    return Reach(department, None)


@dataclasses.dataclass(frozen=True)
class Choice:
    key: str
    label: str          # what the option shows: the full name, and the short name when it differs
    search: str         # what the filter box matches: full name and short name
    can_act: bool


@dataclasses.dataclass(frozen=True)
class Group:
    label: str
    choices: tuple[Choice, ...]


def picker(session: Session, *, case: Case | None = None, exclude: set[int] | frozenset = frozenset()) -> list[Group]:
    """The active departments for a picker: city-level departments without sub-departments first, then one group
    per department with regional sub-departments (the parent first, its sub-departments under it)."""
    departments = [d for d in session.scalars(select(Department).where(Department.active.is_(True)))
                   if d.id not in exclude]
    can_act = able(session, case)
    by_id = {department.id: department for department in departments}

    def root(department: Department) -> Department:
        seen = set()
        while department.parent_id in by_id and department.id not in seen:
            seen.add(department.id)
            department = by_id[department.parent_id]
        return department

    under: dict[int, list[Department]] = {}
    for department in departments:
        top = root(department)
        if top.id != department.id:
            under.setdefault(top.id, []).append(department)

    def choice(department: Department) -> Choice:
        label = department.name if department.short_name in ("", department.name) else \
            f"{department.name}（{department.short_name}）"
        if department.id not in can_act:
            label += " · 暂无处置人员"
        return Choice(key=department.key, label=label, search=f"{department.name} {department.short_name}",
                      can_act=department.id in can_act)

    def order(department: Department):
        return (department.id not in can_act, department.short_name or department.name)

    tops = sorted((d for d in departments if root(d).id == d.id), key=order)
    groups = [Group(CITY_LEVEL, tuple(choice(d) for d in tops if d.id not in under))]
    groups += [Group(parent.short_name or parent.name,
                     (choice(parent), *(choice(child) for child in sorted(under[parent.id], key=order))))
               for parent in tops if parent.id in under]
    return [group for group in groups if group.choices]
