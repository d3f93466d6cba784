"""Revealing one masked value (查看完整信息): a deliberate act, allowed to few roles, and always audited.

Everywhere else ID numbers are masked for everyone (`core.masking`). A worker who must read one whole number
— to check a key person's papers on a visit, to fill an application on a resident's behalf — asks for that one
value of that one person; the platform checks the role and the scope, writes `personal_data.reveal` to the audit
log (who, when, from where, which person, which field — never the value), and answers the value.

Who may reveal (the people who deal with the resident in person, each within their own patch):
- grid workers: residents and key persons in their grid and the grids under it;
- operators of a command centre, sub-centre, command post or station: those in their region.
Not leaders (an overview needs no single person's number), department staff (their work is cases, not the
population register), citizens, auditors (they read the audit log, not what it protects), nor administrators
(they run the system; holding every scope is not a reason to read every number).

Two things give a number away as surely as revealing it, and follow the same rules:
- a search by exact ID number: a match confirms a guessed number, so `search` audits every one
  (`personal_data.id_search`: who, from where, the masked number asked for, how many found — never the number);
  the web adds a per-account rate limit (RATELIMIT_ID_SEARCH);
- whatever narrows the birth date (an age, a birth date or year): the masked number shows every digit but the
  eight of the birth date, so an age plus a few searches rebuilds it. `birth_visible` answers which people's
  birth details a viewer may see: only those whose number the viewer could reveal.
"""
from __future__ import annotations

import dataclasses

from sqlalchemy import select
from sqlalchemy.orm import Session

from minqing.core.actors import Actor
from minqing.core.changes import record_change
from minqing.core.privacy.id_lookup import key_person_is, resident_is
from minqing.core.privacy.masking import ADDRESS, ID_NUMBER, PHONE, mask_id_number
from minqing.core.models import Address, House, Household, KeyPerson, Resident, Role
from minqing.core.scope import restrict

REVEALING_ROLES = frozenset({Role.GRID_WORKER, Role.OPERATOR})
OBJECT_TYPES = {"resident": (Resident, "实有人口"), "key_person": (KeyPerson, "重点人员")}
FIELDS = {ID_NUMBER: "身份证号", PHONE: "联系电话", ADDRESS: "详细住址"}
ACTION = "personal_data.reveal"
SEARCH_ACTION = "personal_data.id_search"
_BY_ID_NUMBER = {"resident": resident_is, "key_person": key_person_is}


class RevealRefused(Exception):
    """Why a value was not revealed: `status` (400, 403, 404), `field` (the input at fault) and a Chinese text."""

    def __init__(self, status: int, field: str, message: str):
        super().__init__(message)
        self.status, self.field, self.message = status, field, message


def may_reveal(actor: Actor | None) -> bool:
    return actor is not None and actor.has_role(*REVEALING_ROLES)


def _revealing_part(actor: Actor) -> Actor:
    """The actor with only the grants that may reveal, so an administrator's or leader's wider scope held by the
    same account never widens what is revealed."""
    return dataclasses.replace(actor, grants=tuple(g for g in actor.grants if g.role in REVEALING_ROLES))


def home_address(session: Session, resident: Resident) -> str:
    """A resident's exact address: that of the house of their household ('' when not recorded)."""
    if resident.household_id is None:
        return ""
    text = session.scalar(select(Address.text).join(House, House.address_id == Address.id)
                          .join(Household, Household.house_id == House.id)
                          .where(Household.id == resident.household_id))
    return text or ""


def reveal(session: Session, actor: Actor, object_type: str, object_id: int, field: str) -> str:
    """The plain `field` of one resident or key person, audited; RevealRefused when not allowed."""
    if object_type not in OBJECT_TYPES:
        raise RevealRefused(400, "object_type", f"对象类型“{object_type}”无效：应为 resident 或 key_person")
    if field not in FIELDS:
        raise RevealRefused(400, "field", f"字段“{field}”无效：应为 id_number、phone 或 address")
    if not isinstance(object_id, int) or isinstance(object_id, bool) or object_id < 1:
        raise RevealRefused(400, "object_id", "对象编号应为正整数")
    if not may_reveal(actor):
        raise RevealRefused(403, "field", "您的角色无权查看完整个人信息")
    model, title = OBJECT_TYPES[object_type]
    row = session.scalar(restrict(select(model).where(model.id == object_id), model, _revealing_part(actor)))
    if row is None:
        raise RevealRefused(404, "object_id", f"没有编号为 {object_id} 的{title}，或不在您的管辖范围内")
    resident = row if model is Resident else session.get(Resident, row.resident_id)
    value = {ID_NUMBER: lambda: resident.id_number, PHONE: lambda: resident.phone or "",
             ADDRESS: lambda: home_address(session, resident)}[field]()
    record_change(session, actor, ACTION, object_type=object_type, object_id=object_id,
                  summary=f"查看{title}“{resident.name}”的完整{FIELDS[field]}", details={"field": field})
    return value


def search(session: Session, actor: Actor, object_type: str, id_number: str) -> list[int]:
    """The ids of the residents or key persons (`object_type`) in the actor's scope who have this ID number,
    audited whatever the answer (a miss tells as much as a hit). The caller commits."""
    model, title = OBJECT_TYPES[object_type]
    ids = list(session.scalars(restrict(select(model.id).where(_BY_ID_NUMBER[object_type](session, id_number)),
                                        model, actor).order_by(model.id)))
    masked = mask_id_number(id_number)
    record_change(session, actor, SEARCH_ACTION, object_type=object_type, object_id=ids[0] if len(ids) == 1 else "",
                  summary=f"按身份证号 {masked} 查找{title}：找到 {len(ids)} 条",
                  details={"id_number": masked, "found": len(ids)})
    return ids


def birth_visible(session: Session, actor: Actor | None, resident_ids) -> frozenset[int]:
    """Which of these residents' age or birth date `actor` may see: those whose ID number the actor may reveal
    (a revealing role, and the resident within that role's scope). One query for a whole page."""
    ids = {item for item in resident_ids if item}
    if not ids or not may_reveal(actor):
        return frozenset()
    statement = select(Resident.id).where(Resident.id.in_(ids))
    return frozenset(session.scalars(restrict(statement, Resident, _revealing_part(actor))))
