"""Cases whose business theme is gone: its plugin was uninstalled or disabled, or its file removed.

Such a case keeps its rows (nothing is ever deleted) but no page offers it a step: its report form, its layer and
its Open311 service went with the theme. An administrator has two ways out, each one service used by the admin page
and the command line:

- `move_cases`: the open cases of the theme go to another theme (say the department's replacement), whose workflow
  must know each case's current state, so that handling goes on where it stopped;
- `close_cases`: the open cases are closed as voided (作废), with the reason on their timeline; the evaluation does
  not count voided cases.

Either way each case gets a timeline line and an audit record, in the caller's transaction.
"""
from __future__ import annotations

import dataclasses

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from minqing.core.actors import Actor
from minqing.core.changes import record_case_event
from minqing.core.models import Case, CaseMilestone, utcnow

from . import definition
from .engine import announce
from .errors import WorkflowError

TERMINAL = ("closed", "voided")
REASON_MAX = 500


class OrphanRefused(WorkflowError):
    """The move or closure was refused; nothing changed. The message says why, in Chinese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclasses.dataclass(frozen=True)
class Orphaned:
    theme_key: str
    open_cases: int
    statuses: dict[str, int]


def _live_theme_keys(platform, session: Session) -> set[str]:
    from minqing import themes   # themes sits beside workflows; imported when used, as the engine does

    return set(themes.registry(platform, session).themes)


def orphaned(platform, session: Session) -> list[Orphaned]:
    """Themes that open cases still name but that no enabled plugin provides, with the counts by status."""
    live = _live_theme_keys(platform, session)
    rows = session.execute(select(Case.theme_key, Case.status, func.count(Case.id))
                           .where(Case.status.not_in(TERMINAL))
                           .group_by(Case.theme_key, Case.status))
    found: dict[str, dict[str, int]] = {}
    for theme_key, status, count in rows:
        if theme_key not in live:
            found.setdefault(theme_key, {})[status] = count
    return [Orphaned(key, sum(statuses.values()), statuses) for key, statuses in sorted(found.items())]


def _open_cases(session: Session, theme_key: str) -> list[Case]:
    return list(session.scalars(select(Case).where(Case.theme_key == theme_key, Case.status.not_in(TERMINAL))
                                .order_by(Case.id)))


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise OrphanRefused("请填写原因（将记入每件事件的处置记录）")
    if len(reason) > REASON_MAX:
        raise OrphanRefused(f"原因不能超过 {REASON_MAX} 个字")
    return reason


def _orphaned_theme(platform, session: Session, theme_key: str) -> None:
    if theme_key in _live_theme_keys(platform, session):
        raise OrphanRefused(f"业务主题“{theme_key}”仍在使用，其事件可照常处置，无需迁移或关闭")


def move_cases(platform, session: Session, actor: Actor, from_theme: str, to_theme: str, reason: str) -> int:
    """Move the open cases of the gone theme `from_theme` to the live theme `to_theme`; answers how many moved.
    Refused as a whole (nothing changes) when a case's state is not in the target theme's workflow."""
    from minqing import themes

    reason = _reason(reason)
    _orphaned_theme(platform, session, from_theme)
    target = themes.registry(platform, session).themes.get(to_theme)
    if target is None:
        raise OrphanRefused(f"没有名为“{to_theme}”的在用业务主题")
    workflow = definition.get(platform, target.workflow_key, session)
    cases = _open_cases(session, from_theme)
    unknown = sorted({case.status for case in cases if case.status not in workflow.states})
    if unknown:
        raise OrphanRefused(f"业务主题“{target.title}”的处置流程“{workflow.title}”中没有状态"
                            f"“{'、'.join(unknown)}”，这些事件无法迁入；请选择流程相同的主题，或关闭这些事件")
    try:
        version = themes.theme_version(session, to_theme).version
    except themes.NotPublished:
        version = None
    now = utcnow()
    for case in cases:
        case.theme_key, case.workflow_key, case.updated_at = to_theme, workflow.key, now
        if version is not None:
            case.theme_version = version
        record_case_event(session, actor, case, "move_theme", from_status=case.status, to_status=case.status,
                          comment=reason, data={"from_theme": from_theme, "to_theme": to_theme}, at=now)
    session.flush()
    return len(cases)


def close_cases(platform, session: Session, actor: Actor, theme_key: str, reason: str) -> int:
    """Close the open cases of the gone theme `theme_key` as voided, with `reason`; answers how many."""
    reason = _reason(reason)
    _orphaned_theme(platform, session, theme_key)
    cases = _open_cases(session, theme_key)
    now = utcnow()
    for case in cases:
        before = case.status
        case.status, case.state_entered_at, case.state_deadline_at, case.updated_at = "voided", now, None, now
        milestone = session.get(CaseMilestone, case.id)
        if milestone is not None:
            milestone.voided = True
        record_case_event(session, actor, case, "close_orphaned", from_status=before, to_status="voided",
                          comment=reason, data={"theme": theme_key}, at=now)
        announce(platform, session, case, "close_orphaned", actor)
    session.flush()
    return len(cases)
