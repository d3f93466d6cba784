"""Demo joint handling (主办/协办), transfers (转办) and fallback departments (兜底), through the real workflow
functions: every county names a fallback department, a few cases in handling get co-handlers (one still open
for 城管 to answer, one answered, one overruled by the dispatcher with a reason so the lead could close), and one
case is transferred to another department with its reason."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from minqing import workflows
from minqing.core.models import Case, Department, Region, utcnow
from minqing.workflows import fallback, joint

HOUR = dt.timedelta(hours=1)
LEAD_EVIDENCE = "已现场处置完毕，协办部门已配合"
# Urban districts fall back on the city management (综合执法) bureau; rural counties on rural revitalisation.
RURAL = ("620121", "620122", "620123")   # 永登县, 皋兰县, 榆中县
CITY_FALLBACK = "urban_management"
URBAN = "urban_management"
HELPERS = ("market_regulation", "ecology_environment", "housing_construction", "transport", "police")


def seed_joint(platform, session, actor, photo) -> None:
    """`photo(case)` gives the lead's handling evidence (its feedback requires a picture)."""
    _fallbacks(session, actor)
    keys = {department.id: department.key for department in session.scalars(select(Department))}
    counties = session.scalars(select(Region.code).where(Region.level == "county").order_by(Region.code)).all()
    first = counties[0][:6] if counties else ""
    cases = session.scalars(select(Case).where(Case.status == "handling").order_by(Case.id)).all()
    # the demo's county operator and 城管 see these first: cases of the first county, other departments' leads
    cases.sort(key=lambda case: (not case.region_code.startswith(first), case.id))
    waiting = session.scalars(select(Case).where(Case.status == "registered").order_by(Case.id)).all()
    waiting = [case for case in waiting if case.region_code.startswith(first)] or waiting
    # Live cases go only to departments with a demo account (城管), so the one case 城管 co-handles for another
    # department is led by a department without one: it waits for 城管's answer (the lead is held until then).
    others = [case for case in cases if case.department_id and keys.get(case.department_id) != URBAN] or \
        _lead_elsewhere(platform, session, actor, waiting[:1])
    own = [case for case in cases if keys.get(case.department_id) == URBAN]
    plans = [(others, "open"), (own or others, "answered"), (own or others, "overruled")]
    used = set()
    for pool, outcome in plans:
        case = next((case for case in pool if case.id not in used), None)
        if case is None:
            continue
        used.add(case.id)
        _joint_case(platform, session, actor, case, keys, outcome, photo)
    # 转办: a case first sent to another department, transferred to 城管 (where someone can act on it)
    transfer = next((case for case in others if case.id not in used), None) or \
        next(iter(_lead_elsewhere(platform, session, actor, waiting[1:2], take=False)), None)
    if transfer is not None:
        _try(lambda: workflows.transition(platform, session, transfer, "transfer", actor,
                                          {"department": URBAN, "reason": "经现场核实属城管执法职责，转城管办理"},
                                          now=max(transfer.state_entered_at, utcnow() - HOUR)))


def _lead_elsewhere(platform, session, actor, cases, *, take: bool = True) -> list:
    """Dispatch `cases` (waiting for dispatch) to their theme's department (else 市场监管), which takes them."""
    keys = set(session.scalars(select(Department.key)))
    led = []
    for case in cases:
        owner = case.theme_key.split(".")[0]
        department = owner if owner in keys and owner != URBAN else HELPERS[0]
        at = min(max(case.state_entered_at, utcnow() - 8 * HOUR) + HOUR, utcnow())
        steps = [("dispatch", {"department": department, "comment": "请牵头处置"})] + ([("take", {})] if take else [])
        if all(_try(lambda name=name, data=data: workflows.transition(platform, session, case, name, actor, data,
                                                                       now=at)) for name, data in steps):
            led.append(case)
    return led


def _fallbacks(session, actor) -> None:
    regions = session.scalars(select(Region).where(Region.level.in_(("city", "county")))).all()
    for region in regions:
        key = CITY_FALLBACK if region.level == "city" else (
            "rural_revitalisation" if region.code[:6] in RURAL else URBAN)
        _try(lambda: fallback.set_fallback(session, actor, region.code, key))


def _joint_case(platform, session, actor, case, keys, outcome, photo) -> None:
    lead = keys.get(case.department_id)
    helpers = [key for key in (URBAN, *HELPERS) if key != lead][:2]
    start = min(case.state_entered_at, utcnow() - 5 * HOUR)  # every step before now, in order
    at = start + HOUR
    if not _try(lambda: joint.assign(platform, session, case, actor, helpers, instructions="请配合主办部门现场处置",
                                     now=at)):
        return
    if outcome == "open":          # 城管 still to answer (its inbox shows the task); the other has answered
        _try(lambda: joint.answer(platform, session, case, actor, result="已派员到场配合", department=helpers[1],
                                  now=at + 2 * HOUR))
        return
    _try(lambda: joint.answer(platform, session, case, actor, result="已配合完成排查，未发现本部门职责内问题",
                              department=helpers[0], now=at + 2 * HOUR))
    if outcome == "overruled":
        _try(lambda: joint.overrule(platform, session, case, actor, helpers[1],
                                    "该部门电话确认不涉及其职责，指挥中心撤销协办", now=at + 3 * HOUR))
    else:
        _try(lambda: joint.answer(platform, session, case, actor, result="已配合处置", department=helpers[1],
                                  now=at + 3 * HOUR))
    _try(lambda: workflows.transition(platform, session, case, "feedback", actor,
                                      {"result": LEAD_EVIDENCE, "photos": photo(case)}, now=at + 4 * HOUR))


def _try(action) -> bool:
    """A step a theme's own workflow does not allow leaves the demo case where it is."""
    try:
        action()
    except workflows.WorkflowError:
        return False
    return True
