"""回访评价 by the reporter: at follow-up the citizen who reported a case rates it (满意度 1–5) and says whether the
problem is solved. One rating per follow-up.

Where the workflow lets the reporter take `confirm` (solved) or `rework` (not solved) from the follow-up state, the
rating is that step, through the engine (its timeline line, deadline and audit record). Otherwise the steps are the
follow-up staff's: the verdict is recorded on the case's timeline (`citizen_rating`) for them and the evaluation.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from minqing.core.actors import Actor
from minqing.core.changes import record_case_event
from minqing.core.models import Case, CaseEvent, Role

from . import definition
from .engine import transition
from .errors import FormInvalid, InvalidTransition, PermissionDenied

FOLLOW_UP = "awaiting_follow_up"
RATINGS = ((5, "满意"), (4, "较满意"), (3, "基本满意"), (2, "不太满意"), (1, "不满意"))
RATED = ("citizen_rating", "confirm", "rework")
COMMENT_MAX = 500
UNSOLVED = "群众反映问题未解决"


def rating_of(session: Session, actor: Actor, case: Case) -> CaseEvent | None:
    """The actor's rating of the case's current follow-up, if given."""
    return session.scalar(select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.action.in_(RATED), CaseEvent.actor_account_id == actor.account_id,
        CaseEvent.at >= case.state_entered_at).order_by(CaseEvent.id.desc()).limit(1))


def may_rate(session: Session, actor: Actor, case: Case) -> bool:
    return case.status == FOLLOW_UP and rating_of(session, actor, case) is None


def _checked(rating, solved, comment) -> tuple[int, bool, str]:
    errors = {}
    if isinstance(rating, bool) or rating not in dict(RATINGS):
        errors["rating"] = ["请选择满意度（1至5分）"]
    if not isinstance(solved, bool):
        errors["solved"] = ["请说明问题是否已解决"]
    comment = comment if comment is not None else ""
    if not isinstance(comment, str) or len(comment.strip()) > COMMENT_MAX:
        errors["comment"] = [f"评价意见应为文本，最多 {COMMENT_MAX} 字"]
    if errors:
        raise FormInvalid(errors)
    return rating, solved, comment.strip()


def _reporter_may(workflow, step_name: str) -> bool:
    step = workflow.transitions.get(step_name)
    return step is not None and FOLLOW_UP in step.sources and Role.CITIZEN in step.roles


def rate_as_reporter(platform, session: Session, actor: Actor, case: Case, *, rating, solved, comment="") -> None:
    """The reporter's rating of `case` at follow-up (`rating` 1–5, `solved` True/False). InvalidTransition when
    the case is not at follow-up or this follow-up is already rated; FormInvalid for a missing or wrong value;
    PermissionDenied for anyone but the case's reporter."""
    if case.reporter_account_id is None or case.reporter_account_id != actor.account_id:
        raise PermissionDenied("只有反映人可以评价本事件")
    if case.status != FOLLOW_UP:
        raise InvalidTransition("该事件当前不在回访评价环节")
    if rating_of(session, actor, case) is not None:
        raise InvalidTransition("您已评价过本次处理结果")
    rating, solved, comment = _checked(rating, solved, comment)
    workflow = definition.get(platform, case.workflow_key, session)
    step_name = "confirm" if solved else "rework"
    if _reporter_may(workflow, step_name):
        data = {"rating": rating, "comment": comment} if solved else {"rating": rating,
                                                                       "reason": comment or UNSOLVED}
        transition(platform, session, case, step_name, actor, data)
        return
    record_case_event(session, actor, case, "citizen_rating", from_status=case.status, to_status=case.status,
                      comment=comment, data={"title": "群众评价", "rating": rating, "solved": solved})
