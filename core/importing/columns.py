"""Column specs per kind of base data: the field each column fills, its Chinese label and the header aliases
(Chinese and English) a file may use for it.

Headers are matched after normalising: case, spaces, a leading or trailing ``*`` (a "required" marker) and a
parenthesised hint such as ``（平方米）`` or ``(天)`` do not matter.
"""
from __future__ import annotations

import dataclasses
import re

# What a cell holds, for the error report: ID and phone numbers are masked there.
TEXT, ID_NUMBER, PHONE = "text", "id_number", "phone"


@dataclasses.dataclass(frozen=True)
class Column:
    key: str
    label: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    max_length: int | None = None
    kind: str = TEXT


_HINT = re.compile(r"[（(][^）)]*[）)]")
_NOISE = re.compile(r"[\s*＊_\-·]")


def normalise(header: str) -> str:
    text = str(header or "").replace("\ufeff", "")
    text = _HINT.sub("", text)
    return _NOISE.sub("", text).lower()


LOCATION = (
    Column("region_code", "区划代码", ("行政区划代码", "所属区划", "区划", "社区代码", "村(社区)代码", "村代码", "组代码",
                                   "所属村(社区)", "region_code", "region", "regioncode")),
    Column("grid_code", "网格编码", ("网格编号", "网格代码", "所属网格", "网格", "grid_code", "grid", "gridcode")),
    Column("lon", "经度", ("lon", "lng", "longitude", "x")),
    Column("lat", "纬度", ("lat", "latitude", "y")),
)

ADDRESSES = (
    Column("code", "地址编码", ("标准地址编码", "地址代码", "address_code", "code"), required=True, max_length=40),
    Column("text", "标准地址", ("地址", "地址名称", "详细地址", "address", "text"), required=True, max_length=300),
    *LOCATION,
)

HOUSES = (
    Column("address_code", "地址编码", ("标准地址编码", "地址代码", "address_code"), max_length=40),
    Column("kind", "房屋类型", ("房屋用途", "类型", "kind", "type"), required=True),
    Column("structure", "房屋结构", ("结构", "structure"), max_length=20),
    Column("floors", "层数", ("房屋层数", "楼层数", "floors")),
    Column("area_m2", "建筑面积", ("面积", "area", "area_m2")),
    Column("built_year", "建成年份", ("建造年份", "建成年代", "built_year", "year")),
    Column("owner_name", "产权人", ("房主", "户主姓名", "owner", "owner_name"), max_length=60),
    *LOCATION,
)

RESIDENTS = (
    Column("name", "姓名", ("name",), required=True, max_length=50),
    Column("id_number", "身份证号", ("公民身份号码", "身份证号码", "身份证", "证件号码", "id_number", "idnumber", "id_card"),
           required=True, kind=ID_NUMBER),
    Column("gender", "性别", ("gender", "sex")),
    Column("birth_date", "出生日期", ("出生年月日", "birth_date", "birthday", "birth")),
    Column("phone", "联系电话", ("手机号", "手机号码", "电话", "联系方式", "phone", "mobile"), kind=PHONE),
    Column("household_number", "户号", ("户编号", "household", "household_number")),
    Column("relation", "与户主关系", ("关系", "relation"), max_length=10),
    Column("residency", "人口类型", ("户籍类型", "居住类型", "residency")),
    Column("ethnicity", "民族", ("ethnicity", "nation"), max_length=20),
    *LOCATION,
)

UNITS = (
    Column("name", "单位名称", ("名称", "企业名称", "name"), required=True, max_length=120),
    Column("credit_code", "统一社会信用代码", ("信用代码", "社会信用代码", "credit_code", "uscc"), max_length=18),
    Column("kind", "单位类型", ("行业", "类型", "kind", "type", "industry"), required=True, max_length=30),
    Column("address_code", "地址编码", ("标准地址编码", "address_code"), max_length=40),
    Column("contact_name", "联系人", ("负责人", "contact", "contact_name"), max_length=50),
    Column("contact_phone", "联系电话", ("联系人电话", "电话", "phone", "contact_phone"), kind=PHONE),
    Column("employees", "从业人数", ("员工人数", "职工人数", "employees")),
    *LOCATION,
)

KEY_PERSONS = (
    Column("id_number", "身份证号", ("公民身份号码", "身份证号码", "身份证", "证件号码", "id_number", "idnumber"),
           required=True, kind=ID_NUMBER),
    Column("name", "姓名", ("name",)),  # only a reading aid: the person is found by ID number
    Column("category", "人员类别", ("类别", "重点人员类别", "category"), required=True, max_length=30),
    Column("risk_level", "风险等级", ("风险", "risk", "risk_level")),
    Column("visit_every_days", "走访周期", ("走访间隔", "visit_every_days", "visit_days")),
    Column("last_visit_at", "最近走访日期", ("最近走访", "上次走访日期", "last_visit", "last_visit_at")),
    Column("note", "备注", ("说明", "note", "remark")),
    *LOCATION,
)


def match_header(header: list[str], columns: tuple[Column, ...]) -> tuple[dict[str, int], list[str]]:
    """Field key → column index, and the headers no column claims. The first of two matching headers wins."""
    lookup: dict[str, str] = {}
    for column in columns:
        for name in (column.label, column.key, *column.aliases):
            lookup.setdefault(normalise(name), column.key)
    positions: dict[str, int] = {}
    unknown = []
    for index, name in enumerate(header):
        key = lookup.get(normalise(name))
        if key is None:
            if str(name or "").strip():
                unknown.append(str(name).strip())
        else:
            positions.setdefault(key, index)
    return positions, unknown
