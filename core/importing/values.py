"""Cell parsers: each returns the parsed value or raises `Bad` with the Chinese message for the report."""
from __future__ import annotations

import datetime as dt
import re

from minqing.core.privacy import idcard


class Bad(ValueError):
    """A cell's value is not acceptable; the message is the report's Chinese text."""


_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")
_DATE_FORMS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"), re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
)
GENDERS = {"男": "male", "女": "female", "male": "male", "female": "female", "m": "male", "f": "female"}
RESIDENCY = {"户籍": "registered", "户籍人口": "registered", "常住": "registered", "registered": "registered",
             "流动": "floating", "流动人口": "floating", "暂住": "floating", "floating": "floating"}
HOUSE_KINDS = {"住宅": "residential", "居民住宅": "residential", "residential": "residential",
               "自建房": "self_built", "农村自建房": "self_built", "self_built": "self_built",
               "商业用房": "commercial", "商业": "commercial", "商铺": "commercial", "commercial": "commercial",
               "公共用房": "public", "公共": "public", "公共建筑": "public", "public": "public"}
RISK_LEVELS = {"低": "low", "低风险": "low", "low": "low", "中": "medium", "中风险": "medium", "medium": "medium",
               "高": "high", "高风险": "high", "high": "high"}
CHINA_LON, CHINA_LAT = (73.0, 136.0), (3.0, 54.0)


def text(value) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def id_number(value: str) -> str:
    number = value.replace(" ", "").upper()
    problem = idcard.problem(number)
    if problem:
        raise Bad(problem)
    return number


def phone(value: str) -> str:
    number = re.sub(r"[\s()（）]", "", value)
    if number.startswith("+86"):
        number = number[3:]
    if not (_MOBILE.match(number) or _LANDLINE.match(number)):
        raise Bad("联系电话格式不正确：应为11位手机号码或带区号的固定电话")
    return number


def date(value, label: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    for form in _DATE_FORMS:
        found = form.match(value)
        if found:
            try:
                return dt.date(*(int(part) for part in found.groups()))
            except ValueError:
                raise Bad(f"{label}不是有效的日期") from None
    raise Bad(f"{label}格式不正确：应为 YYYY-MM-DD")


def integer(value: str, label: str, low: int, high: int) -> int:
    try:
        number = float(value)
    except ValueError:
        raise Bad(f"{label}应为整数") from None
    if not number.is_integer():
        raise Bad(f"{label}应为整数")
    if not low <= number <= high:
        raise Bad(f"{label}应在{low}～{high}之间")
    return int(number)


def decimal(value: str, label: str, low: float, high: float) -> float:
    try:
        number = float(value)
    except ValueError:
        raise Bad(f"{label}应为数字") from None
    if not low <= number <= high:
        raise Bad(f"{label}应在{low:g}～{high:g}之间")
    return number


def choice(value: str, options: dict[str, str], message: str) -> str:
    found = options.get(value.lower()) or options.get(value)
    if found is None:
        raise Bad(message)
    return found
