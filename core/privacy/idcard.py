"""Resident identity numbers (居民身份证号码, GB 11643-1999).

An 18-character number: 6-digit administrative division code, 8-digit birth date, 3-digit sequence
(odd for men, even for women) and a check character computed with ISO 7064 MOD 11-2.
"""
from __future__ import annotations

import datetime as dt
import re

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")


def check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def problem(value: str) -> str | None:
    """Why `value` is not a valid ID number, in Chinese, or None when it is valid."""
    if not isinstance(value, str) or not _SHAPE.match(value.upper()):
        return "身份证号应为18位，前17位为数字，最后一位为数字或X"
    value = value.upper()
    try:
        dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "身份证号中的出生日期无效"
    if check_char(value[:17]) != value[17]:
        return "身份证号校验位不正确"
    return None


def is_valid(value: str) -> bool:
    return problem(value) is None


def make(area_code: str, birth_date: dt.date, sequence: int) -> str:
    """A valid ID number; `sequence` (0-999) decides the sex digit: odd for men, even for women."""
    first17 = f"{area_code[:6]}{birth_date:%Y%m%d}{sequence % 1000:03d}"
    return first17 + check_char(first17)


def birth_date(value: str) -> dt.date:
    return dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def sex(value: str) -> str:
    """'male' or 'female' from the sequence digit."""
    return "male" if int(value[16]) % 2 else "female"
