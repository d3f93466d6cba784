"""Starting points for a new theme: a blank document and four templates department staff recognise.

Each template builds a complete, valid theme document (layer, forms, categories, workflow) for a given
department, key and title; the department then edits fields, options and time limits from there.

- ``patrol`` 巡查检查: objects on the map that are inspected on a schedule (消防栓, 井盖, 广告牌);
- ``event_report`` 事件上报: problems reported into the closed loop;
- ``register`` 对象登记: a register of objects (自建房, 燃气用户, 河湖);
- ``visit`` 走访: regular visits of key persons or places.
"""
from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable

from ..document import DEFAULT_VISIBLE_TO

BLANK = "blank"


def _photos(title: str = "现场照片") -> dict:
    return {"type": "array", "title": title, "description": "最多9张", "maxItems": 9,
            "items": {"type": "string", "format": "attachment",
                      "x-attachment": {"accept": ["image/*"], "maxBytes": 10485760}}}


ADDRESS = {"type": "string", "title": "详细地址", "description": "街道、社区、门牌号或参照物", "maxLength": 200}
LOCATION = {"type": "object", "title": "位置", "description": "在地图上点选或使用定位", "format": "geo-point"}
DESCRIPTION = {"type": "string", "title": "情况描述", "maxLength": 1000}


def _report_form(title: str, problems: list[str]) -> dict:
    return {"type": "object", "title": f"{title}问题上报",
            "properties": {"address": ADDRESS, "location": LOCATION,
                           "problem_type": {"type": "string", "title": "问题类型", "enum": problems},
                           "description": DESCRIPTION, "photos": _photos()},
            "required": ["address", "problem_type"]}


REPORT_UI = {"problem_type": {"ui:widget": "radio"}, "description": {"ui:widget": "textarea", "ui:rows": 3},
             "photos": {"ui:capture": "environment"}}


def _base(department: str, key: str, title: str, *, description: str, guide: str, icon: str,
          colour: str, geometry: str = "point") -> dict:
    return {"key": key, "department": department, "title": title, "description": description,
            "guide": guide, "icon": icon, "colour": colour,
            "layer": {"geometry": geometry, "style": {"color": colour, "radius": 6} if geometry == "point"
                      else {"color": colour, "weight": 3}, "source": "records",
                      "visible_to": list(DEFAULT_VISIBLE_TO)},
            "forms": {}, "ui": {}, "workflow": "standard", "categories": []}


def _categories(title: str, names: list[str]) -> list[dict]:
    return [{"code": f"{index:02d}", "title": name, "parent": title} for index, name in enumerate(names, 1)]


def blank(department: str, key: str, title: str) -> dict:
    """The smallest usable theme: a point layer and a report form with a description and photos."""
    document = _base(department, key, title, description="", guide="", icon="place", colour="#1565c0")
    document["forms"]["report"] = {"type": "object", "title": f"{title}上报",
                                   "properties": {"address": ADDRESS, "location": LOCATION,
                                                  "description": DESCRIPTION, "photos": _photos()},
                                   "required": ["description"]}
    document["ui"]["report"] = {"description": {"ui:widget": "textarea", "ui:rows": 3}}
    return document


def patrol(department: str, key: str, title: str) -> dict:
    document = _base(department, key, title, icon="fact_check", colour="#2e7d32",
                     description=f"{title}：需要定期巡查的设施和点位。",
                     guide="网格员和部门巡查人员按周期巡查（经手）；部门处置发现的问题（使用、管理）；"
                           "设施的产权或管理单位负责整改（负责）。")
    document["forms"]["record"] = {
        "type": "object", "title": f"{title}点位登记",
        "properties": {"name": {"type": "string", "title": "名称", "minLength": 1, "maxLength": 100},
                       "address": ADDRESS, "location": LOCATION,
                       "manager": {"type": "string", "title": "管理单位", "maxLength": 100},
                       "photos": _photos("点位照片")},
        "required": ["name", "address"]}
    document["forms"]["visit"] = {
        "type": "object", "title": f"{title}巡查记录",
        "properties": {"result": {"type": "string", "title": "巡查结果", "enum": ["正常", "发现问题"]},
                       "problem": {"type": "string", "title": "问题描述", "maxLength": 1000},
                       "photos": _photos("巡查照片")},
        "required": ["result"],
        "if": {"properties": {"result": {"const": "发现问题"}}, "required": ["result"]},
        "then": {"required": ["problem"]}}
    document["forms"]["report"] = _report_form(title, ["设施损坏", "安全隐患", "其他"])
    document["ui"] = {"visit": {"result": {"ui:widget": "radio"}, "problem": {"ui:widget": "textarea"}},
                      "report": copy.deepcopy(REPORT_UI)}
    document["categories"] = _categories(title, ["设施损坏", "安全隐患", "其他问题"])
    document["patrol_every_days"] = 7
    return document


def event_report(department: str, key: str, title: str) -> dict:
    document = _base(department, key, title, icon="campaign", colour="#c62828",
                     description=f"{title}：网格员和群众发现、上报的事件。",
                     guide="网格员、群众发现上报（经手）；指挥中心分拨、部门处置（使用、管理）；"
                           "责任部门按时限办结（负责）。")
    document["forms"]["report"] = _report_form(title, ["一般问题", "紧急问题", "其他"])
    document["ui"] = {"report": copy.deepcopy(REPORT_UI)}
    document["categories"] = _categories(title, ["一般问题", "紧急问题", "其他问题"])
    return document


def register(department: str, key: str, title: str) -> dict:
    document = _base(department, key, title, icon="inventory", colour="#6a1b9a",
                     description=f"{title}：登记在册的对象（如自建房、燃气用户、河湖）。",
                     guide="部门和网格员登记、更新（经手）；部门使用台账开展监管（使用、管理）；"
                           "对象的所有人或管理人对信息真实负责（负责）。")
    document["forms"]["record"] = {
        "type": "object", "title": f"{title}登记",
        "properties": {"name": {"type": "string", "title": "名称", "minLength": 1, "maxLength": 100},
                       "address": ADDRESS, "location": LOCATION,
                       "owner": {"type": "string", "title": "负责人", "maxLength": 50},
                       "phone": {"type": "string", "title": "联系电话", "format": "cn-mobile"},
                       "status": {"type": "string", "title": "状态", "enum": ["正常", "需关注", "已注销"],
                                  "default": "正常"},
                       "photos": _photos("照片")},
        "required": ["name", "address"]}
    document["forms"]["report"] = _report_form(title, ["信息有误", "安全隐患", "其他"])
    document["ui"] = {"record": {"status": {"ui:widget": "radio"}}, "report": copy.deepcopy(REPORT_UI)}
    document["categories"] = _categories(title, ["信息有误", "安全隐患", "其他问题"])
    document["patrol_every_days"] = 90
    return document


def visit(department: str, key: str, title: str) -> dict:
    document = _base(department, key, title, icon="diversity_3", colour="#ef6c00",
                     description=f"{title}：重点人员、重点场所的定期走访。",
                     guide="网格员按周期走访（经手）；部门和社区掌握情况、帮扶解困（使用、管理）；"
                           "包联干部对走访到位负责（负责）。")
    document["forms"]["record"] = {
        "type": "object", "title": f"{title}对象",
        "properties": {"name": {"type": "string", "title": "姓名或场所名称", "minLength": 1, "maxLength": 100},
                       "kind": {"type": "string", "title": "对象类型", "enum": ["重点人员", "重点场所"]},
                       "address": ADDRESS, "location": LOCATION,
                       "phone": {"type": "string", "title": "联系电话", "format": "cn-mobile"}},
        "required": ["name", "kind"]}
    document["forms"]["visit"] = {
        "type": "object", "title": f"{title}记录",
        "properties": {"visited_on": {"type": "string", "title": "走访日期", "format": "date"},
                       "way": {"type": "string", "title": "走访方式", "enum": ["入户", "电话", "视频"]},
                       "situation": {"type": "string", "title": "走访情况", "minLength": 2, "maxLength": 1000},
                       "needs_help": {"type": "boolean", "title": "是否需要帮扶"},
                       "help": {"type": "string", "title": "帮扶需求", "maxLength": 500}},
        "required": ["visited_on", "way", "situation"],
        "if": {"properties": {"needs_help": {"const": True}}, "required": ["needs_help"]},
        "then": {"required": ["help"]}}
    document["forms"]["report"] = _report_form(title, ["需要帮扶", "异常情况", "其他"])
    document["ui"] = {"record": {"kind": {"ui:widget": "radio"}},
                      "visit": {"way": {"ui:widget": "radio"}, "needs_help": {"ui:widget": "radio"},
                                "situation": {"ui:widget": "textarea"}},
                      "report": copy.deepcopy(REPORT_UI)}
    document["categories"] = _categories(title, ["需要帮扶", "异常情况", "其他问题"])
    document["patrol_every_days"] = 30
    return document


@dataclasses.dataclass(frozen=True)
class ThemeTemplate:
    key: str
    title: str
    description: str
    primary_form: str                      # where an imported XLSForm goes: "record", "report" or "visit"
    build: Callable[[str, str, str], dict]

    def document(self, department: str, key: str, title: str) -> dict:
        """A full theme document of this template for `department`, with theme key `key` and `title`."""
        return copy.deepcopy(self.build(department, key, title))  # never share the module's field dicts


TEMPLATES: dict[str, ThemeTemplate] = {
    "patrol": ThemeTemplate("patrol", "巡查检查", "定期巡查的设施和点位：点位登记、巡查记录、问题上报", "visit", patrol),
    "event_report": ThemeTemplate("event_report", "事件上报", "发现问题即上报，进入分拨处置闭环", "report",
                                  event_report),
    "register": ThemeTemplate("register", "对象登记", "自建房、燃气用户、河湖等对象的登记台账", "record", register),
    "visit": ThemeTemplate("visit", "走访", "重点人员、重点场所的定期走访记录", "visit", visit),
}
BLANK_TEMPLATE = ThemeTemplate(BLANK, "空白主题", "从零开始：一个点图层和一张上报表单", "report", blank)
