"""兜底: each region may name a fallback department that takes the region's cases nobody claims.

The nearest fallback up the region tree counts (a village without one falls back to its township's, then its
county's, then the city's). Dispatch uses it when no department is named and either the routing hooks answer
nothing, or the case has already been returned (退回) by departments `RETURNS_TO_FALLBACK` times or more — a
case bounced twice is nobody's, and the fallback department takes it instead of a third guess.
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from minqing.core.actors import Actor
from minqing.core.changes import record_change
from minqing.core.departments import by_key
from minqing.core.models import Case, CaseEvent, Department, Region, utcnow
from minqing.core.models.cohandling import RegionFallback
from minqing.core.geo.regions import LEVELS, SIGNIFICANT, level_of

from .errors import FormInvalid

RETURNS_TO_FALLBACK = 2
RETURN_STEP = "return"


def ancestors(code: str) -> list[str]:
    """The region itself and every region above it, nearest first (12-digit codes; a group's own 15 first)."""
    if not code or not code.isdigit():
        return []
    found = [code] if len(code) == 15 else []
    base = code[:12]
    level = LEVELS.index(level_of(base))
    for index in range(level, -1, -1):
        candidate = base[:SIGNIFICANT[LEVELS[index]]].ljust(12, "0")
        if candidate not in found:
            found.append(candidate)
    return found


def fallback_for(session: Session, region_code: str) -> tuple[str, Department] | None:
    """(the region whose fallback applies, its department) for a case in `region_code`; None when none is set."""
    chain = ancestors(region_code)
    if not chain:
        return None
    rows = {row.region_code: row for row in session.scalars(
        select(RegionFallback).where(RegionFallback.region_code.in_(chain)))}
    for code in chain:
        if code in rows:
            department = session.get(Department, rows[code].department_id)
            if department is not None and department.active:
                return code, department
    return None


def returns_of(session: Session, case_id: int) -> int:
    """How many times departments returned the case to the dispatcher."""
    return session.scalar(select(func.count()).select_from(CaseEvent).where(
        CaseEvent.case_id == case_id, CaseEvent.action == RETURN_STEP)) or 0


def take(session: Session, case: Case, *, unroutable: bool) -> tuple[Department, dict] | None:
    """The fallback department for an undirected dispatch of `case`, with what the timeline records; None
    when the routing should decide (fewer returns and a routing answer) or no fallback is set."""
    returns = returns_of(session, case.id)
    if not unroutable and returns < RETURNS_TO_FALLBACK:
        return None
    found = fallback_for(session, case.region_code)
    if found is None:
        return None
    region_code, department = found
    reason = (f"已被职能部门退回 {returns} 次，由兜底部门承接" if returns >= RETURNS_TO_FALLBACK
              else "分拨规则未能确定处置部门，由兜底部门承接")
    return department, {"region_code": region_code, "department": department.key, "returns": returns,
                        "reason": reason}


def set_fallback(session: Session, actor: Actor, region_code: str, department_key: str | None) -> None:
    """Name (or, with no key, clear) a region's fallback department; recorded in the audit log."""
    region = session.scalar(select(Region).where(Region.code == region_code))
    if region is None:
        raise FormInvalid({"region_code": [f"没有代码为“{region_code}”的区划"]})
    row = session.scalar(select(RegionFallback).where(RegionFallback.region_code == region_code))
    if not department_key:
        if row is not None:
            session.delete(row)
            record_change(session, actor, "fallback.clear", object_type="region", object_id=region_code,
                          summary=f"取消{region.name}的兜底部门")
        return
    department = by_key(session, department_key)
    if department is None or not department.active:
        raise FormInvalid({"department": [f"没有标识为“{department_key}”的在用部门"]})
    if row is None:
        row = RegionFallback(region_code=region_code, department_id=department.id)
        session.add(row)
    row.department_id, row.set_by_name, row.set_at = department.id, actor.name, utcnow()
    record_change(session, actor, "fallback.set", object_type="region", object_id=region_code,
                  summary=f"{region.name}的兜底部门设为{department.short_name}",
                  details={"department": department.key})
    session.flush()


def fallbacks(session: Session) -> dict[str, Department]:
    """Every region's fallback department, by region code."""
    rows = session.execute(select(RegionFallback.region_code, Department)
                           .join(Department, Department.id == RegionFallback.department_id)).all()
    return {code: department for code, department in rows}
