"""Services: one per event category of every usable theme, and each one's definition from the theme's report form.

A service's code is the category's code (codes are unique across the built-in themes); should two themes of
enabled plugins share a code, each of them is offered as "<code>@<theme key>" instead, so no code means two things.

Attributes are the top-level fields of the theme's report form, in the form's order, typed with the forms
engine's field kinds (`minqing.forms.spec`): a choice → singlevaluelist, a yes/no → singlevaluelist with the keys
true and false, several choices → multivaluelist, integer and number → number, date and date-time → datetime, a
textarea or a string longer than 200 characters → text, any other string → string. Not attributes: the location
(lat/long of the request), photos (media_url), repeated rows and nested groups, which a flat GeoReport
attribute cannot carry; the form the API validates against leaves out photos, rows and groups (`api_schema`).
"""
from __future__ import annotations

import copy
import dataclasses

from sqlalchemy import select
from sqlalchemy.orm import Session

from minqing import forms, themes
from minqing.core.models import Department
from minqing.forms.spec import Node, build_tree

from .output import Open311Error

LONG_TEXT = 200
NOT_ATTRIBUTES = ("geo", "attachments", "repeat", "group")
LEFT_OUT = ("attachments", "repeat", "group")     # dropped from the schema the API validates against
DATE_HINTS = {"date": "日期，格式 YYYY-MM-DD", "datetime": "时间，ISO 8601 格式，如 2026-03-01T09:30:00+08:00"}


@dataclasses.dataclass(frozen=True)
class Service:
    code: str
    theme: themes.Theme
    category: dict

    @property
    def name(self) -> str:
        return self.category["title"]

    def as_dict(self, departments: dict[str, str]) -> dict:
        department = departments.get(self.category.get("department") or self.theme.department, "")
        keywords = [word for word in (self.category.get("parent"), self.theme.title, department) if word]
        return {"service_code": self.code, "service_name": self.name,
                "description": self.category.get("description") or self.theme.document.get("description", ""),
                "metadata": True, "type": "realtime", "keywords": ", ".join(dict.fromkeys(keywords)),
                "group": self.theme.title}


def catalogue(platform, session: Session) -> dict[str, Service]:
    """Every service by code, in theme-key then category order."""
    found: list[tuple[str, themes.Theme, dict]] = []
    for theme in themes.themes(platform, session):
        found += [(category["code"], theme, category) for category in theme.categories]
    counts: dict[str, int] = {}
    for code, _theme, _category in found:
        counts[code] = counts.get(code, 0) + 1
    services = {}
    for code, theme, category in found:
        service_code = code if counts[code] == 1 else f"{code}@{theme.key}"
        services[service_code] = Service(service_code, theme, category)
    return services


def service_code_of(services: dict[str, Service], theme_key: str, category_code: str) -> str:
    """The service code a case of (theme, category code) is listed under ("" when the category is gone)."""
    for code in (category_code, f"{category_code}@{theme_key}"):
        service = services.get(code)
        if service is not None and service.theme.key == theme_key:
            return code
    return ""


def find(services: dict[str, Service], code: str) -> Service:
    service = services.get(code)
    if service is None:
        raise Open311Error(404, f"没有代码为“{code}”的服务（service_code）")
    return service


def department_names(session: Session) -> dict[str, str]:
    return dict(session.execute(select(Department.key, Department.name)).all())


def report_form(theme: themes.Theme) -> dict:
    return theme.form("report") or {"type": "object", "properties": {}}


def tree(theme: themes.Theme) -> Node:
    return build_tree(report_form(theme), theme.ui("report"))


def attribute_nodes(theme: themes.Theme) -> list[Node]:
    return [node for node in tree(theme).children if node.kind not in NOT_ATTRIBUTES]


def datatype(node: Node) -> str:
    if node.kind in ("select", "radio", "checkbox", "yesno"):
        return "singlevaluelist"
    if node.kind == "checkboxes":
        return "multivaluelist"
    if node.kind in ("integer", "number"):
        return "number"
    if node.kind in ("date", "datetime"):
        return "datetime"
    if node.kind == "textarea" or node.schema.get("maxLength", 0) > LONG_TEXT:
        return "text"
    return "string"


def values(node: Node) -> list[dict]:
    if node.kind in ("checkbox", "yesno"):
        return [{"key": "true", "name": "是"}, {"key": "false", "name": "否"}]
    return [{"key": key_of(value), "name": label} for value, label in node.choices]


def key_of(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _datatype_description(node: Node) -> str:
    schema = node.schema.get("items", node.schema) if node.kind == "checkboxes" else node.schema
    hints = []
    if node.kind in DATE_HINTS:
        hints.append(DATE_HINTS[node.kind])
    if node.kind == "integer":
        hints.append("整数")
    if "minimum" in schema:
        hints.append(f"不小于 {schema['minimum']}")
    if "maximum" in schema:
        hints.append(f"不大于 {schema['maximum']}")
    if node.kind == "mobile":
        hints.append("11 位手机号")
    if node.kind == "idcard":
        hints.append("18 位身份证号")
    if "maxLength" in schema:
        hints.append(f"最多 {schema['maxLength']} 字")
    if node.kind == "checkboxes":
        hints.append("可多选，每项一个 attribute[代码][]")
    if node.when_note:
        hints.append(node.when_note)
    return "；".join(hints)


def definition(service: Service) -> dict:
    attributes = []
    for order, node in enumerate(attribute_nodes(service.theme), start=1):
        description = node.title + (f"（{node.help}）" if node.help else "")
        attribute = {"variable": True, "code": node.name, "datatype": datatype(node), "required": node.required,
                     "datatype_description": _datatype_description(node), "order": order,
                     "description": description}
        if attribute["datatype"] in ("singlevaluelist", "multivaluelist"):
            attribute["values"] = values(node)
        attributes.append(attribute)
    return {"service_code": service.code, "attributes": attributes}


def photos_required(theme: themes.Theme) -> list[str]:
    """Titles of the photo fields the form always requires (media_url stands for them)."""
    return [node.title for node in tree(theme).children if node.kind == "attachments" and node.required]


def api_schema(theme: themes.Theme) -> dict:
    """The report form less what Open311 cannot carry (photos, repeated rows, groups), its rules otherwise intact."""
    schema = copy.deepcopy(report_form(theme))
    dropped = {node.name for node in tree(theme).children if node.kind in LEFT_OUT}
    if not dropped:
        return schema
    for name in dropped:
        schema.get("properties", {}).pop(name, None)
    _drop_required(schema, dropped)
    return schema


def _drop_required(schema, dropped: set[str]) -> None:
    """Remove `dropped` from every `required` and `dependentRequired` of the object and its conditions."""
    if isinstance(schema, list):
        for item in schema:
            _drop_required(item, dropped)
        return
    if not isinstance(schema, dict):
        return
    if isinstance(schema.get("required"), list):
        schema["required"] = [name for name in schema["required"] if name not in dropped]
    if isinstance(schema.get("dependentRequired"), dict):
        schema["dependentRequired"] = {key: [name for name in names if name not in dropped]
                                       for key, names in schema["dependentRequired"].items() if key not in dropped}
    if isinstance(schema.get("properties"), dict) and "type" not in schema:  # a condition's tests
        for name in dropped:
            schema["properties"].pop(name, None)
    for keyword in ("if", "then", "else", "allOf", "anyOf", "oneOf", "not"):
        if keyword in schema:
            _drop_required(schema[keyword], dropped)


def validate(theme: themes.Theme, document: dict) -> list[forms.FieldError]:
    return forms.validate(api_schema(theme), document)
