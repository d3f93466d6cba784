"""水务 (water affairs): the 河湖巡查（河长制）theme, and reminders to patrol river sections as they fall due.

Under the river chief system a village-level chief patrols each section at least weekly; the reminder reaches
the section's community station on the due day, so a patrol is made in time instead of being found missing
at the monthly assessment.
"""
from __future__ import annotations

from minqing.core.hooks import hookimpl
from minqing.core.models import KeyPlace

from .. import theme_files, visit_reminders

MINQING_TITLE = "水务 · 河湖巡查（河长制）"  # what the admin page and `minqing plugins list` show
MINQING_DESCRIPTION = "河湖巡查主题，并提醒到期巡河。"

REMINDER_KIND = "water_affairs.river_patrol_due"


@hookimpl
def register_themes():
    return theme_files.load(__name__)  # fresh documents: the caller may annotate what it is given


@hookimpl
def periodic_tasks():
    return [{"name": REMINDER_KIND, "every": 6 * 3600, "run": remind_river_patrols}]


def remind_river_patrols(platform) -> int:
    """Remind the station of every river section whose patrol is due today or overdue; once per due date."""
    return visit_reminders.remind(
        platform, model=KeyPlace, condition=KeyPlace.department_key == "water_affairs",
        kind=REMINDER_KIND, due_by=visit_reminders.today(),
        subject=lambda place: f"巡河提醒：{place.name}（应于{place.next_visit_due:%m月%d日}前巡河）",
        body=lambda place: "请责任河长或巡河员按时巡河，填写巡河记录；发现“四乱”问题随手上报。")
