"""Region codes: the 12-digit statistical division code (GB/T 2260 prefix) and our 3-digit group suffix.

A code's significant prefix grows by level: city 4 digits (6201), county 6 (620102), township 9 (620102001),
village 12 (620102001001), group 15 (620102001001001). A child's code must begin with its parent's
significant prefix, so "everything under a region" is a prefix range on an indexed column.
"""
from __future__ import annotations

from sqlalchemy import and_
from sqlalchemy.sql import ColumnElement

LEVELS = ("city", "county", "township", "village", "group")
SIGNIFICANT = {"city": 4, "county": 6, "township": 9, "village": 12, "group": 15}
LEVEL_NAMES = {"city": "市", "county": "县(区)", "township": "乡镇(街道)", "village": "村(社区)", "group": "组"}


def level_of(code: str) -> str:
    """The level a well-formed code belongs to."""
    if len(code) == 15:
        return "group"
    if code[9:12] != "000":
        return "village"
    if code[6:9] != "000":
        return "township"
    if code[4:6] != "00":
        return "county"
    return "city"


def prefix(code: str) -> str:
    return code[:SIGNIFICANT[level_of(code)]]


def code_problem(code: str, level: str, parent_code: str | None) -> str | None:
    """Why `code` cannot be a region of `level` under `parent_code`, in Chinese; None when it can."""
    if level not in SIGNIFICANT:
        return f"未知的区划层级“{level}”"
    expected_length = 15 if level == "group" else 12
    if not code.isdigit() or len(code) != expected_length:
        return f"{LEVEL_NAMES[level]}区划代码应为{expected_length}位数字"
    if level_of(code) != level:
        return f"区划代码 {code} 不是{LEVEL_NAMES[level]}一级的代码"
    if level == "city":
        return None if parent_code is None else "市级区划不能有上级"
    if parent_code is None:
        return f"{LEVEL_NAMES[level]}必须有上级区划"
    parent_level = level_of(parent_code)
    if LEVELS.index(parent_level) != LEVELS.index(level) - 1:
        return f"{LEVEL_NAMES[level]}的上级应为{LEVEL_NAMES[LEVELS[LEVELS.index(level) - 1]]}"
    if not code.startswith(prefix(parent_code)):
        return f"区划代码 {code} 与上级代码 {parent_code} 的前缀 {prefix(parent_code)} 不一致"
    return None


def within(column, code: str) -> ColumnElement[bool]:
    """`column` holds a code at or under `code`: a range on the prefix, which every backend answers by index."""
    start = prefix(code) if len(code) in (12, 15) and code.isdigit() else code
    return and_(column >= start, column < start + ":")  # ':' sorts right after '9'
