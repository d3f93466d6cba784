"""Acting on a suggestion: a dispatcher confirms one (or picks another category), or a theme that turned on
automatic dispatch lets the system dispatch its most confident suggestion. Both go through the workflow
engine's `dispatch` step, so scope, role, deadlines, timeline and audit are the engine's own."""
from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from minqing.core.actors import Actor, system_actor
from minqing.core.changes import record_case_event
from minqing.core.models import Case

from .. import definition
from ..engine import check_actor, transition
from ..errors import FormInvalid, InvalidTransition
from . import catalogue
from .suggestions import suggest

log = logging.getLogger(__name__)
DISPATCH = "dispatch"
CONFIRM = "dispatch_suggestion"


def confirm(platform, session: Session, case: Case, actor: Actor, code: str, *, department: str = "",
            comment: str = "", confidence: float | None = None) -> Case:
    """Dispatch `case` as category `code` (to `department`, else the department responsible for that category
    in the case's region, or its nearest parent that can act: `reach`). A category other than the reported one
    is recorded on the timeline, and becomes the label the model learns."""
    category = catalogue.categories(platform, session).get(code)
    if category is None:
        raise FormInvalid({"category": [f"没有代码为“{code}”的事件分类"]})
    step = definition.get(platform, case.workflow_key, session).transitions.get(DISPATCH)
    if step is None or case.status not in step.sources:
        raise InvalidTransition("该事件当前不能分拨交办")
    check_actor(session, case, actor, step.roles, step.title)  # before the category changes
    if not department:
        duty = catalogue.acting(platform, session, category, case)
        if duty is None:
            raise FormInvalid({"category": [f"“{category.title}”的责任部门暂无处置人员，请在“分拨交办”中选择处置部门"]})
        department = duty.department_key
    previous = case.subcategory or case.category
    note = {"title": "确认分拨建议", "category": code, "category_title": category.title,
            "previous_category": previous, "department": department}
    if confidence is not None:
        note["confidence"] = round(confidence, 4)
    if code != previous or category.theme_key != case.theme_key:
        case.theme_key, case.theme_version = category.theme_key, category.theme_version
        case.category, case.subcategory = category.parent, category.code
    record_case_event(session, actor, case, CONFIRM, from_status=case.status, to_status=case.status,
                      comment=f"分类：{category.parent}/{category.title}", data=note)
    return transition(platform, session, case, DISPATCH, actor,
                      {"department": department, "comment": comment or f"按分拨建议交办：{category.title}"})


def after_report(platform, session: Session, case: Case) -> None:
    """Called by `report_case`: try automatic dispatch; whatever goes wrong, the report stands for a person."""
    try:
        auto_dispatch(platform, session, case)
    except Exception:  # noqa: BLE001 — a suggestion must never lose a report
        log.exception("automatic dispatch of case %s failed; left for a dispatcher", case.id)


def auto_dispatch(platform, session: Session, case: Case) -> Case | None:
    """After a report: when the case's theme sets `auto_dispatch.min_confidence` and the top suggestion reaches
    it, accept and dispatch as the system. Below the threshold, or without a trained model, nothing happens."""
    threshold = _threshold(platform, session, case)
    if threshold is None:
        return None
    top = suggest(platform, session, case, k=1, train_if_missing=False)
    if not top or top[0].confidence < threshold:
        return None
    actor = system_actor("auto_dispatch")
    workflow = definition.get(platform, case.workflow_key, session)
    dispatch_step = workflow.transitions.get(DISPATCH)
    if dispatch_step is None:
        return None
    with session.begin_nested():   # a refusal half-way leaves the report as it was
        if case.status not in dispatch_step.sources:
            _accept(platform, session, workflow, case, actor, dispatch_step.sources)
        if case.status not in dispatch_step.sources:
            return None
        return confirm(platform, session, case, actor, top[0].code, confidence=top[0].confidence,
                       comment=f"自动分拨：置信度 {top[0].confidence:.2f} 不低于主题设定的 {threshold:.2f}")


def _accept(platform, session: Session, workflow, case: Case, actor: Actor, ready: tuple | list) -> None:
    """Take the workflow's acceptance step (an `accept` effect leading where dispatch may start), if any."""
    for name, step in workflow.transitions.items():
        if "accept" in step.effects and case.status in step.sources and step.target in ready:
            transition(platform, session, case, name, actor, {})
            return


def _threshold(platform, session: Session, case: Case) -> float | None:
    from minqing.themes import version_index

    document = version_index.document(session, case.theme_key, case.theme_version or None)
    if document is None:
        return None
    setting = document.get("auto_dispatch") or {}
    return float(setting["min_confidence"]) if "min_confidence" in setting else None
