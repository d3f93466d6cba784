"""The statistics period of the dashboard: this month, last month, the last 30 days or chosen dates.

Dates are calendar dates in the city; a period covers [start 00:00, the day after end 00:00) local time,
passed to queries as UTC datetimes.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping

from minqing.core import city

CHOICES = {"this_month": "本月", "last_month": "上月", "last_30_days": "近30天", "custom": "自定义"}
DEFAULT = "this_month"
LONGEST_DAYS = 366


@dataclasses.dataclass(frozen=True)
class Period:
    key: str
    first_day: dt.date
    last_day: dt.date            # inclusive

    @property
    def start(self) -> dt.datetime:
        return local_midnight(self.first_day)

    @property
    def end(self) -> dt.datetime:
        return local_midnight(self.last_day + dt.timedelta(days=1))

    @property
    def label(self) -> str:
        return f"{self.first_day:%Y-%m-%d} 至 {self.last_day:%Y-%m-%d}"


def local_midnight(day: dt.date, session=None) -> dt.datetime:
    return city.midnight(day, session)  # in the city's zone (as read for this request when no session is given)


def preset(key: str, today: dt.date) -> Period:
    if key == "last_month":
        last_day = today.replace(day=1) - dt.timedelta(days=1)
        return Period(key, last_day.replace(day=1), last_day)
    if key == "last_30_days":
        return Period(key, today - dt.timedelta(days=29), today)
    return Period("this_month", today.replace(day=1), today)


def _date(text: str, name: str, errors: list[str]) -> dt.date | None:
    text = (text or "").strip()
    if not text:
        errors.append(f"请选择{name}")
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        errors.append(f"{name}“{text}”格式不正确，请按“年-月-日”填写，例如 2026-05-01")
        return None


def parse(args: Mapping[str, str], today: dt.date) -> tuple[Period, list[str]]:
    """The period the query string asks for and the problems with it, in Chinese; with problems, the default
    period (this month) is returned so the page still shows figures."""
    key = args.get("period") or DEFAULT
    if key not in CHOICES:
        return preset(DEFAULT, today), [f"未知的统计周期“{key}”，请从本月、上月、近30天或自定义中选择"]
    if key != "custom":
        return preset(key, today), []
    errors: list[str] = []
    first, last = _date(args.get("start", ""), "开始日期", errors), _date(args.get("end", ""), "结束日期", errors)
    if first and last:
        if first > last:
            errors.append("开始日期不能晚于结束日期")
        elif last > today:
            errors.append("结束日期不能晚于今天")
        elif (last - first).days + 1 > LONGEST_DAYS:
            errors.append(f"统计周期最长为{LONGEST_DAYS}天，请缩短日期范围")
    if errors:
        return preset(DEFAULT, today), errors
    return Period("custom", first, last), []
