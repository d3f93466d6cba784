"""The inbox: every case in the viewer's scope, filtered by status, theme, urgency and overdue, and searched by
case number or text; its export (web/work/case_export.py) takes the same filters."""
from __future__ import annotations

import calendar
import datetime as dt
import re

from flask import render_template, request
from sqlalchemy import Select, and_, false, func, or_, select, true

from minqing.core import scope
from minqing.core.models import Case, Role, utcnow
from minqing.workflows import all_workflows, joint

from ..context import db, platform, viewer
from ..permissions import roles_required
from . import blueprint
from .common import URGENCY_TITLES, department_names, state_title, theme_titles

PAGE_SIZE = 30
COUNT_LIMIT = 10_000   # the heading's count is exact up to here
FINAL = ("closed", "voided")
FILTERS = ("q", "status", "theme", "urgency", "overdue")
MAX_QUERY = 50   # characters of a search
_DIGIT = re.compile(r"\d")
_NUMBER = re.compile(r"(?:MQ)?(\d{1,15})")   # a case number as typed: MQ, then up to 15 digits


def read_filters() -> tuple[dict[str, str], str | None]:
    """The list's filters from the query string, and what is wrong with them (in Chinese), if anything."""
    filters = {key: request.args.get(key, "").strip() for key in FILTERS}
    filters["q"] = " ".join(filters["q"].split())
    if len(filters["q"]) > MAX_QUERY:
        filters["q"] = ""
        return filters, f"搜索：关键词不能超过 {MAX_QUERY} 个字"
    return filters, None


def search_condition(text: str):
    """A case number (whole or its beginning, e.g. MQ2026…) or words of the title or description. A search with a
    digit looks in case numbers only: ID numbers, phones and house numbers in the text are masked for most
    viewers, and a search must not tell them what the masked digits are."""
    if _DIGIT.search(text):
        return number_condition(text.replace(" ", "").upper())
    return or_(Case.title.contains(text, autoescape=True), Case.description.contains(text, autoescape=True))


def number_condition(text: str):
    """Cases whose number (MQ + the UTC date reported, YYYYMMDD + the id in 7 digits) starts with `text`; the
    digits alone (MQ left out) as well, and a short run of digits is also taken for the id itself."""
    match = _NUMBER.fullmatch(text)
    if match is None:
        return false()
    digits = match.group(1)
    condition = _number_prefix(digits)
    if text.isdigit() and len(text) <= 7:
        condition = or_(condition, Case.id == int(text))
    return condition


def _number_prefix(digits: str):
    date, serial = digits[:8], digits[8:]
    conditions = []
    if date:
        low, high = _day(date.ljust(8, "0"), last=False), _day(date.ljust(8, "9"), last=True)
        if low is None or high is None or low > high:
            return false()
        high = min(high, dt.date(9998, 12, 31))
        start = dt.datetime.combine(low, dt.time(), tzinfo=dt.timezone.utc)
        end = dt.datetime.combine(high + dt.timedelta(days=1), dt.time(), tzinfo=dt.timezone.utc)
        conditions += [Case.created_at >= start, Case.created_at < end]
    if serial:
        conditions += [Case.id >= int(serial.ljust(7, "0")), Case.id <= int(serial.ljust(7, "9"))]
    return and_(*conditions) if conditions else true()


def _day(digits: str, *, last: bool) -> dt.date | None:
    """The first (or last) real day among the YYYYMMDD strings that `digits` stands for, clamped into range."""
    year, month, day = int(digits[:4]), int(digits[4:6]), int(digits[6:8])
    if year < 1 or (not last and month > 12):
        return None
    month = min(max(month, 1), 12)
    days = calendar.monthrange(year, month)[1]
    if not last and day > days:
        return None
    return dt.date(year, month, min(max(day, 1), days))


def filtered(statement: Select, filters: dict[str, str]) -> Select:
    """The viewer's cases (core.scope) narrowed by the list's filters; `statement` selects from Case."""
    statement = scope.restrict(statement, Case, viewer())
    if filters["q"]:
        statement = statement.where(search_condition(filters["q"]))
    if filters["status"] == "open":
        statement = statement.where(Case.status.not_in(FINAL))
    elif filters["status"]:
        statement = statement.where(Case.status == filters["status"])
    if filters["status"] or filters["overdue"]:
        # a work queue: merged duplicates (重复件) wait for their master, save for their own follow-up
        statement = statement.where(or_(Case.merged_into_id.is_(None), Case.status == "awaiting_follow_up"))
    if filters["theme"]:
        statement = statement.where(Case.theme_key == filters["theme"])
    if filters["urgency"] in URGENCY_TITLES:
        statement = statement.where(Case.urgency == filters["urgency"])
    if filters["overdue"]:
        statement = statement.where(Case.state_deadline_at < utcnow(), Case.status.not_in(FINAL))
    return statement


@blueprint.get("/")
@roles_required("admin", "operator", "department_staff", "grid_worker", "leader")
def inbox():
    filters, error = read_filters()
    page = max(1, min(request.args.get("page", 1, type=int), 100_000))
    statement = filtered(select(Case), filters)
    found = counted(statement)
    cases = db().scalars(page_of(statement, page, few=found <= COUNT_LIMIT)).all()
    return render_template("work/inbox.html", cases=cases[:PAGE_SIZE], has_next=len(cases) > PAGE_SIZE,
                           total=f"{COUNT_LIMIT // 10_000}万+" if found > COUNT_LIMIT else str(found), page=page,
                           filters=filters, themes=theme_titles(), departments=department_names(),
                           urgencies=URGENCY_TITLES, statuses=status_choices(), status_titles=status_titles(),
                           state_title=state_title, error=error, max_query=MAX_QUERY,
                           active={key: value for key, value in filters.items() if value},
                           now=utcnow(), co_tasks=_co_tasks()), 400 if error else 200


def counted(statement: Select) -> int:
    """How many cases the list holds, up to `COUNT_LIMIT` + 1: the heading says "1万+" beyond (a year of a city's
    cases is a million: counting them all on every visit would read them all, and nobody pages that far)."""
    return db().scalar(select(func.count()).select_from(
        statement.with_only_columns(Case.id).limit(COUNT_LIMIT + 1).subquery()))


def page_of(statement: Select, page: int, *, few: bool) -> Select:
    """The cases of `page`, newest first, and one more if there is a next page (so paging needs no exact count).

    With `few` matches (the count was exact) they are found first and then ordered: PostgreSQL otherwise walks the
    whole year backwards by id looking for them, because it estimates far more matches for a scope's OR (a
    department's voided cases: 1.1 s at a million cases)."""
    offset = (page - 1) * PAGE_SIZE
    if not few:
        return statement.order_by(Case.id.desc()).limit(PAGE_SIZE + 1).offset(offset)
    hits = _materialized(statement)
    ids = select(hits.c.id).order_by(hits.c.id.desc()).limit(PAGE_SIZE + 1).offset(offset)
    return select(Case).where(Case.id.in_(ids)).order_by(Case.id.desc())


def _materialized(statement: Select):
    """The ids `statement` selects as a CTE planned on its own (MATERIALIZED: PostgreSQL 12+, SQLite 3.35+), read
    lazily: a LIMIT over it no longer talks the planner into a scan it expects to stop early."""
    return statement.with_only_columns(Case.id).cte("hits").prefix_with("MATERIALIZED")


def status_choices() -> list[str]:
    """The statuses the viewer's cases are in (the status filter's choices), without reading every case: the open
    ones from the partial index of open cases (`ix_cases_open`), the final ones by whether one case has each."""
    open_now = scope.restrict(select(Case.status).where(Case.status.not_in(FINAL)).distinct(), Case, viewer())
    found = set(db().scalars(open_now))
    for status in FINAL:
        hits = _materialized(scope.restrict(select(Case.id).where(Case.status == status), Case, viewer()))
        if db().scalar(select(hits.c.id).limit(1)) is not None:
            found.add(status)
    return sorted(found)


def status_titles() -> dict[str, str]:
    """Each state's Chinese title, for the status filter (the first workflow naming a state gives its title)."""
    titles: dict[str, str] = {}
    for workflow in all_workflows(platform()):
        for name, state in workflow.states.items():
            titles.setdefault(name, state.title)
    return titles


def _co_tasks():
    """协办任务: the open co-handling tasks of the viewer's departments, beside the department's own cases."""
    departments = [grant.department_id for grant in viewer().grants_of(Role.DEPARTMENT_STAFF) if grant.department_id]
    return joint.open_tasks_of_departments(db(), departments, FINAL)
