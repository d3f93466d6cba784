"""Base data (一标三实 and key objects): households, residents, key persons, key places and units — list and read,
scoped by `core.scope` and masked by `core.masking` (ID numbers always, phones unless the role needs them).
Residents and key persons are searched by ID number through its keyed digest (`core.id_lookup`; each search
audited and rate-limited, as it confirms a guessed number: `core.reveal.search`), and one masked
value is revealed, audited, by POST …/<id>/reveal (`core.reveal`)."""
from __future__ import annotations

import re

from sqlalchemy import select

from minqing.core.privacy import reveal
from minqing.core import scope
from minqing.core.models import Household, KeyPerson, KeyPlace, Resident, Unit

from ..context import db
from . import present
from .auth import WORK_ROLES, current_actor, roles_required
from .common import PAGING, given_arg, int_arg, json_body, paginated, query, ref, route
from .errors import ApiError, json_response

# path, model, schema name, title, many rows → JSON, one row → JSON
KINDS = [
    ("households", Household, "Household", "实有住户", present.households, present.household),
    ("residents", Resident, "Resident", "实有人口", present.residents, present.resident),
    ("key-persons", KeyPerson, "KeyPerson", "重点人员", present.key_persons, present.key_person),
    ("key-places", KeyPlace, "KeyPlace", "重点场所",
     lambda viewer, rows: [present.key_place(viewer, row) for row in rows], present.key_place),
    ("units", Unit, "Unit", "实有单位", lambda viewer, rows: [present.unit(viewer, row) for row in rows], present.unit),
]


V_ID = re.compile(r"[0-9]{17}[0-9Xx]")  # ASCII digits, as the documented JSON Schema pattern reads
# Residents and key persons are searchable by ID number (the digest of the number asked for, never the number
# itself); a search confirms a guessed number, so `core.reveal.search` audits each one and the web limits them.
REVEALABLE = {Resident: "resident", KeyPerson: "key_person"}
ID_NUMBER_PARAM = query("id_number", "按身份证号查找（以密钥摘要比对，不保存所查号码）；每次查找都记入审计日志"
                                     "（只记遮蔽后的号码与结果条数），并按账号限制频率（超过答 429）",
                        {"type": "string", "pattern": "^[0-9]{17}[0-9Xx]$"})


def _id_number_arg() -> str | None:
    value = given_arg("id_number")  # given empty: 400, not "every resident"
    if value is None:
        return None
    if not V_ID.fullmatch(value):
        message = "id_number（身份证号）格式不正确：应为18位数字（末位可为X）"
        raise ApiError(400, "invalid_parameter", message, fields={"id_number": [message]})
    return value


def _register(path: str, model, schema: str, title: str, many, one) -> None:
    endpoint = path.replace("-", "_")

    def list_view():
        actor = current_actor()
        statement = scope.restrict(select(model), model, actor)
        grid_id = int_arg("grid_id", minimum=1)
        if grid_id:
            statement = statement.where(model.grid_id == grid_id)
        number = _id_number_arg() if model in REVEALABLE else None
        if number:
            statement = statement.where(model.id.in_(reveal.search(db(), actor, REVEALABLE[model], number)))
            db().commit()  # the audit record, whatever comes next
        return paginated(statement, lambda rows: many(actor, list(rows)), order_by=(model.id,))

    def read_view(row_id: int):
        actor = current_actor()
        row = db().scalar(scope.restrict(select(model).where(model.id == row_id), model, actor))
        if row is None:
            raise ApiError(404, "not_found", f"没有编号为 {row_id} 的{title}，或您无权查看")
        return json_response(one(actor, row))

    # Qualified names too: Flask-Limiter keys a view's limits by them (web.ratelimits limits ID-number searches).
    list_view.__name__ = list_view.__qualname__ = f"list_{endpoint}"
    read_view.__name__ = read_view.__qualname__ = f"read_{endpoint}"
    guard = roles_required(*WORK_ROLES, what=f"查看{title}")
    route(f"/{path}", summary=f"{title}列表", tags=("base-data",), roles=WORK_ROLES,
          description="管辖范围内的记录，个人信息按角色遮蔽（身份证号一律遮蔽）。",
          params=[query("grid_id", "只看某个网格的", {"type": "integer", "minimum": 1}),
                  *([ID_NUMBER_PARAM] if model in REVEALABLE else []), *PAGING],
          responses={200: (f"一页{title}", {"type": "object", "required": ["items", "total", "page", "per_page"],
                                           "properties": {"items": {"type": "array", "items": ref(schema)},
                                                          "total": {"type": "integer"},
                                                          "page": {"type": "integer"},
                                                          "per_page": {"type": "integer"},
                                                          "pages": {"type": "integer"}}}),
                     400: ("参数有误", ref("Problem")),
                     **({429: ("按身份证号查找过于频繁", ref("Problem"))} if model in REVEALABLE else {})})(guard(list_view))
    route(f"/{path}/<int:row_id>", summary=f"一条{title}", tags=("base-data",), roles=WORK_ROLES,
          responses={200: (title, ref(schema)), 404: ("不存在或不在管辖范围内", ref("Problem"))})(guard(read_view))


for _kind in KINDS:
    _register(*_kind)


def _register_reveal(path: str, model, title: str) -> None:
    def reveal_view(row_id: int):
        body = json_body()
        field = body.get("field")
        try:
            value = reveal.reveal(db(), current_actor(), REVEALABLE[model], row_id, field if isinstance(field, str)
                                  else "")
        except reveal.RevealRefused as refused:
            db().rollback()
            code = {400: "invalid_field", 403: "forbidden", 404: "not_found"}[refused.status]
            raise ApiError(refused.status, code, refused.message,
                           fields={refused.field: [refused.message]} if refused.status == 400 else None)
        db().commit()
        return json_response({"object_type": REVEALABLE[model], "id": row_id, "field": field, "value": value})

    reveal_view.__name__ = f"reveal_{path.replace('-', '_')}"
    route(f"/{path}/<int:row_id>/reveal", methods=("POST",), summary=f"查看{title}的一项完整个人信息",
          tags=("base-data",), roles=tuple(sorted(reveal.REVEALING_ROLES)),
          description="网格员（本网格）与指挥中心操作员（本辖区）可查看一项未遮蔽的身份证号、电话或住址；"
                      "每次查看都记入审计日志。",
          body={"type": "object", "required": ["field"], "additionalProperties": False, "properties": {
              "field": {"type": "string", "enum": sorted(reveal.FIELDS)}}},
          responses={200: ("未遮蔽的值", {"type": "object", "required": ["object_type", "id", "field", "value"],
                                        "properties": {"object_type": {"type": "string"}, "id": {"type": "integer"},
                                                       "field": {"type": "string"}, "value": {"type": "string"}}}),
                     400: ("字段无效", ref("Problem")), 403: ("角色无权查看", ref("Problem")),
                     404: ("不存在或不在管辖范围内", ref("Problem"))})(reveal_view)


_register_reveal("residents", Resident, "实有人口")
_register_reveal("key-persons", KeyPerson, "重点人员")
