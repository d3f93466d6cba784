"""预警转事件: turn an early warning into a case, reported by the acting operator (source "warning").

The case is reported through `report_case` like any other, under the warning's theme and category when the rule
knows them (a surge, a repeat report), else under the theme the operator chose. A warning without a position
gives the case its grid and region, so the case lands where the warning was. The warning is then handled
(`WarningAction` links to the case) and leaves the active list.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from minqing import themes
from minqing.core import warning_rules, warning_rules as warnings
from minqing.core.actors import Actor
from minqing.core.models import Case

from .errors import FormInvalid
from .reporting import report_case

SOURCE = warnings.WARNING_SOURCE


def turn_into_case(platform, session: Session, actor: Actor, rule_key: str, warning_key: str, *,
                   theme_key: str = "", urgency: str = "normal") -> Case:
    """Report the warning as a case; WarningNotFound when it is not active for `actor`, FormInvalid when no
    theme is known or the chosen one does not exist."""
    rule, warning = warning_rules.find(platform, session, actor, rule_key, warning_key)
    theme_key = warning.theme_key or theme_key
    if not theme_key:
        raise FormInvalid({"theme_key": ["请选择事件所属的业务主题"]})
    if theme_key not in {theme.key for theme in themes.themes(platform, session)}:
        raise FormInvalid({"theme_key": [f"业务主题 {theme_key} 不存在或未启用"]})
    case = report_case(platform, session, actor, theme_key=theme_key, title=warning.title[:200],
                       description=f"{warning.reason}（由预警「{rule['title']}」转为事件）", lon=warning.lon,
                       lat=warning.lat, category=warning.category, subcategory=warning.subcategory,
                       urgency=urgency, source=SOURCE, form_data={})
    if case.grid_id is None and warning.grid_id is not None:
        case.grid_id = warning.grid_id
    if not case.region_code and warning.region_code:
        case.region_code = warning.region_code
    warning_rules.record_action(session, actor, rule, warning, "case", case_id=case.id)
    return case


__all__ = ["SOURCE", "turn_into_case"]
