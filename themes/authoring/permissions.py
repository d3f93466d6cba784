"""Who may edit which department's themes: the one rule every builder page and command goes through.

Department staff edit the themes of the departments they hold a grant for; administrators edit every
department's; nobody else edits any (谁管理、谁负责). Pages never decide this on their own: they call
`can_edit` / `editable_departments`, and every function of `minqing.themes.authoring` that changes something
calls `require_edit` first.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from minqing.core.actors import Actor
from minqing.core.models import Department, Role

from .errors import NotAllowed


def own_departments(actor: Actor) -> set[str]:
    """Keys of the departments the actor holds a department_staff grant for."""
    return {grant.department_key for grant in actor.grants_of(Role.DEPARTMENT_STAFF) if grant.department_key}


def can_edit(actor: Actor, department_key: str) -> bool:
    """Whether `actor` may create, edit and publish themes of the department `department_key`."""
    if actor.has_role(Role.ADMIN):
        return True
    return department_key in own_departments(actor)


def can_build(actor: Actor) -> bool:
    """Whether the actor may use the builder at all (an administrator, or staff of some department)."""
    return actor.has_role(Role.ADMIN) or bool(own_departments(actor))


def require_edit(actor: Actor, department_key: str) -> None:
    """Raise NotAllowed (in Chinese) unless `actor` may edit the department's themes."""
    if can_edit(actor, department_key):
        return
    if not can_build(actor):
        raise NotAllowed("只有职能部门工作人员和系统管理员可以编辑业务主题")
    raise NotAllowed(f"您只能编辑本部门的业务主题，无权编辑部门“{department_key}”的业务主题")


def editable_departments(session: Session, actor: Actor) -> list[Department]:
    """The departments whose themes `actor` may edit, by name (all of them for an administrator)."""
    statement = select(Department).order_by(Department.name)
    if not actor.has_role(Role.ADMIN):
        keys = own_departments(actor)
        if not keys:
            return []
        statement = statement.where(Department.key.in_(sorted(keys)))
    return list(session.scalars(statement))
