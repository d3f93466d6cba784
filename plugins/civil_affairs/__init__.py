"""民政 (civil affairs): the 独居老人关爱走访 theme, a periodic task that flags overdue visits to elderly people
living alone, and a dashboard figure of them.

"户户见干部": an elderly person living alone who has not been visited in time may be ill or fallen, so the
station of their community is reminded the day the visit falls overdue rather than at the next monthly review.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from minqing.core import scope
from minqing.core.hooks import hookimpl
from minqing.core.models import KeyPerson, Resident

from .. import theme_files, visit_reminders

MINQING_TITLE = "民政 · 独居老人关爱走访"  # what the admin page and `minqing plugins list` show
MINQING_DESCRIPTION = "独居老人关爱走访主题，并定期提示逾期走访。"

CATEGORY = "独居老人"
REMINDER_KIND = "civil_affairs.elderly_visit_overdue"


@hookimpl
def register_themes():
    return theme_files.load(__name__)  # fresh documents: the caller may annotate what it is given


@hookimpl
def periodic_tasks():
    return [{"name": REMINDER_KIND, "every": 3600, "run": flag_overdue_visits}]


def flag_overdue_visits(platform) -> int:
    """Remind the community station of every elderly person whose visit is overdue; once per due date."""
    yesterday = visit_reminders.today() - dt.timedelta(days=1)
    names = {}

    def subject(person: KeyPerson) -> str:
        return f"独居老人走访逾期：{names.get(person.resident_id, '')}（应于{person.next_visit_due:%m月%d日}前走访）"

    with platform.db.session() as session:
        names = dict(session.execute(
            select(Resident.id, Resident.name).join(KeyPerson, KeyPerson.resident_id == Resident.id)
            .where(KeyPerson.category == CATEGORY, KeyPerson.next_visit_due <= yesterday)).all())
    return visit_reminders.remind(
        platform, model=KeyPerson, condition=KeyPerson.category == CATEGORY, kind=REMINDER_KIND,
        due_by=yesterday, subject=subject,
        body=lambda person: "请尽快上门走访，见到本人；无法联系时联系紧急联系人并报告社区。")


@hookimpl
def dashboard_figures(viewer, session):
    today = visit_reminders.today()
    base = scope.restrict(select(func.count()).select_from(KeyPerson).where(KeyPerson.category == CATEGORY),
                          KeyPerson, viewer)
    total = session.scalar(base) or 0
    overdue = session.scalar(base.where(KeyPerson.next_visit_due < today)) or 0
    return [{"key": "civil_affairs.elderly_overdue", "title": "独居老人走访逾期", "value": overdue, "unit": "人",
             "department": "civil_affairs", "detail": f"独居老人共 {total} 人，其中 {overdue} 人超过走访周期未走访"}]
