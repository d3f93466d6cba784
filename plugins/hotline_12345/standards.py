"""The 12345 hotline's time standards (接诉即办时限) and its categories mapped to the platform's themes.

`time_standards()` is the data other modules read (the assessment's 响应率 among them, through
`minqing.workflows.channels.time_standards(platform, "12345")`, which gives what this plugin declares):

- ``response_hours``: a work order is answered (签收, the caller contacted) within 2 hours of reaching the platform;
- ``handling_days``: working days to handle an order by its kind of appeal (咨询 1, 求助 3, 投诉/举报 5, 建议 10);
- ``category_days``: working days by the hotline's category (诉求类别) where they differ, from the mapping table;
- ``urgent_hours``: an urgent order's natural hours; ``working_day_hours``: hours of a working day;
  ``follow_up_working_days``: days to call the caller back once handled.

`urgency_for(limit_hours, workflow)` maps an order's time limit onto the workflow's: the least urgent level whose
time limit for the whole case (`due`) fits within the order's, so the platform's deadline never falls after the
hotline's.
"""
from __future__ import annotations

import functools
import json
from importlib.resources import files


@functools.cache
def _standards() -> dict:
    return json.loads(files(__package__).joinpath("standards.json").read_text(encoding="utf-8"))


@functools.cache
def category_map() -> dict:
    """{"fallback": {theme, code}, "categories": [{category, theme, code, days}, ...]}: the mapping table."""
    return json.loads(files(__package__).joinpath("category_map.json").read_text(encoding="utf-8"))


def time_standards() -> dict:
    """A fresh copy of the 12345 time standards (see the module's docstring)."""
    data = json.loads(json.dumps(_standards()))
    data["category_days"] = {entry["category"]: entry["days"] for entry in category_map()["categories"]
                             if "days" in entry}
    return data


def handling_hours(kind: str, category: str) -> float:
    """The hours an order of this kind and category has by the standards (in working days × hours a day)."""
    standards = time_standards()
    days = standards["category_days"].get(category) or standards["handling_days"].get(
        kind, standards["default_handling_days"])
    return days * standards["working_day_hours"]


def urgency_for(limit_hours: float, workflow) -> str:
    """The workflow's urgency whose due time fits within `limit_hours` (the most urgent when none does)."""
    due = workflow.due
    if due is None:
        return "normal"
    levels = sorted(due.hours.items(), key=lambda item: -item[1])     # normal (longest) first
    return next((urgency for urgency, hours in levels if hours <= limit_hours), levels[-1][0])
