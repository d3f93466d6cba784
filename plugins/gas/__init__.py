"""燃气 (gas): the 燃气安全隐患 theme, and the rectification rules a JSON Schema cannot state.

The rules depend on today's date, which a static schema cannot know: a 重大 hazard must be rectified within 15
days (the city's rule for major gas hazards) and its deadline must lie after today, and the gas must be cut off
first; a 较大 hazard's deadline may not lie in the past.
"""
from __future__ import annotations

import datetime as dt

from minqing.core import city
from minqing.core.hooks import hookimpl

from .. import theme_files

MINQING_TITLE = "燃气 · 燃气安全隐患"  # what the admin page and `minqing plugins list` show
MINQING_DESCRIPTION = "燃气安全隐患主题及其整改规则。"

HAZARD_THEME = "gas.gas_hazard"
MAJOR_LIMIT_DAYS = 15


@hookimpl
def register_themes():
    return theme_files.load(__name__)  # fresh documents: the caller may annotate what it is given


@hookimpl
def validate_submission(theme_key, form_key, document, session):
    if theme_key != HAZARD_THEME or form_key != "report":
        return None
    return hazard_problems(document, _today(session))


@hookimpl
def validate_case(case, session):
    # Cases can enter through the API or the hotline with form data attached; the same rules hold there.
    if case.theme_key != HAZARD_THEME or not case.form_data:
        return None
    return hazard_problems(case.form_data, _today(session))


def hazard_problems(document: dict, today: dt.date) -> list[tuple[str, str]]:
    level = document.get("hazard_level")
    if level not in ("重大", "较大"):
        return []
    problems = []
    deadline = _date(document.get("rectify_deadline"))
    if level == "重大":
        if deadline is None:
            problems.append(("rectify_deadline", "重大隐患必须填写整改期限"))
        elif deadline <= today:
            problems.append(("rectify_deadline", f"重大隐患的整改期限应晚于今天（{today.isoformat()}）"))
        elif deadline > today + dt.timedelta(days=MAJOR_LIMIT_DAYS):
            problems.append(("rectify_deadline", f"重大隐患的整改期限不得超过{MAJOR_LIMIT_DAYS}日"))
        if document.get("gas_stopped") is not True:
            problems.append(("gas_stopped", "重大隐患须先停气，再限期整改"))
    elif deadline is not None and deadline < today:
        problems.append(("rectify_deadline", "整改期限不能早于今天"))
    return problems


def _date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _today(session=None) -> dt.date:
    """Today in the city (its time zone setting), which deadlines are compared with."""
    return city.today(session)
