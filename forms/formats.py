"""The `format` values the engine asserts (JSON Schema formats are annotations unless asserted).

Standard: date, date-time, email. Ours: cn-mobile, cn-id, geo-point, attachment.
Each check takes the JSON value and returns a Chinese problem description, or None when valid.
A format only constrains values of its own JSON type; other types pass (the `type` keyword
reports them), exactly as the JSON Schema spec says.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from jsonschema import FormatChecker

from minqing.core.privacy import idcard

ATTACHMENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
"""Shape of an attachment id as stored in documents (storage decides the actual ids)."""

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")


def check_date(value) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        if _DATE.fullmatch(value):
            dt.date.fromisoformat(value)
            return None
    except ValueError:
        pass
    return "应为有效日期，格式如 2024-05-01"


def check_date_time(value) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        if _DATE_TIME.fullmatch(value):
            dt.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
            return None
    except ValueError:
        pass
    return "应为有效的日期时间，格式如 2024-05-01T09:30:00+08:00"


def check_email(value) -> str | None:
    if isinstance(value, str) and not _EMAIL.fullmatch(value):
        return "邮箱地址格式不正确"
    return None


def check_cn_mobile(value) -> str | None:
    if isinstance(value, str) and not _MOBILE.fullmatch(value):
        return "手机号码应为1开头的11位数字，第二位为3至9"
    return None


# core.idcard words its problems for a standalone sentence ("身份证号校验位不正确"); our messages are
# prefixed with the field title ("身份证号：..."), so drop the repeated subject.
_ID_SUBJECT = re.compile(r"^身份证号(码)?(中的)?")


def check_cn_id(value) -> str | None:
    if not isinstance(value, str):
        return None
    problem = idcard.problem(value)
    return _ID_SUBJECT.sub("", problem) if problem else None


def check_geo_point(value) -> str | None:
    """A point is {"lon": number, "lat": number} (WGS-84 degrees), nothing else."""
    if not isinstance(value, dict):
        return None
    lon, lat = value.get("lon"), value.get("lat")
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lon, lat))
    if set(value) != {"lon", "lat"} or not numbers:
        return "位置应包含经度和纬度两个数字"
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return "经度应在-180至180之间，纬度应在-90至90之间"
    return None


def check_attachment(value) -> str | None:
    if isinstance(value, str) and not ATTACHMENT_ID.fullmatch(value):
        return "附件编号无效"
    return None


CHECKS: dict[str, Callable[[object], str | None]] = {
    "date": check_date,
    "date-time": check_date_time,
    "email": check_email,
    "cn-mobile": check_cn_mobile,
    "cn-id": check_cn_id,
    "geo-point": check_geo_point,
    "attachment": check_attachment,
}
STRING_FORMATS = ("date", "date-time", "email", "cn-mobile", "cn-id", "attachment")


def problem(format_name: str, value) -> str | None:
    return CHECKS[format_name](value)


def _checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    for name, check in CHECKS.items():
        checker.checks(name)(lambda value, check=check: check(value) is None)
    return checker


FORMAT_CHECKER = _checker()
"""A jsonschema FormatChecker asserting exactly our formats (and no other)."""
