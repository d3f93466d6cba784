"""Base data (一标三实 and key objects): households, residents, key persons, key places and units — list and read,
scoped by `core.scope` and masked by `core.masking` (ID numbers always, phones unless the role needs them)."""
from __future__ import annotations

from sqlalchemy import select

from minqing.core import scope
from minqing.core.models import Household, KeyPerson, KeyPlace, Resident, Unit

from ..context import db
from . import present
from .auth import WORK_ROLES, current_actor, roles_required
from .common import PAGING, int_arg, paginated, query, ref, route
from .errors import ApiError, json_response

# path, model, schema name, title, many rows → JSON, one row → JSON
KINDS = [
    ("households", Household, "Household", "实有住户", present.households, present.household),
    ("residents", Resident, "Resident", "实有人口",
     lambda viewer, rows: [present.resident(viewer, row) for row in rows], present.resident),
    ("key-persons", KeyPerson, "KeyPerson", "重点人员", present.key_persons, present.key_person),
    ("key-places", KeyPlace, "KeyPlace", "重点场所",
     lambda viewer, rows: [present.key_place(viewer, row) for row in rows], present.key_place),
    ("units", Unit, "Unit", "实有单位", lambda viewer, rows: [present.unit(viewer, row) for row in rows], present.unit),
]


def _register(path: str, model, schema: str, title: str, many, one) -> None:
    endpoint = path.replace("-", "_")

    def list_view():
        actor = current_actor()
        statement = scope.restrict(select(model), model, actor)
        grid_id = int_arg("grid_id", minimum=1)
        if grid_id:
            statement = statement.where(model.grid_id == grid_id)
        return paginated(statement, lambda rows: many(actor, list(rows)), order_by=(model.id,))

    def read_view(row_id: int):
        actor = current_actor()
        row = db().scalar(scope.restrict(select(model).where(model.id == row_id), model, actor))
        if row is None:
            raise ApiError(404, "not_found", f"没有编号为 {row_id} 的{title}，或您无权查看")
        return json_response(one(actor, row))

    list_view.__name__, read_view.__name__ = f"list_{endpoint}", f"read_{endpoint}"
    guard = roles_required(*WORK_ROLES, what=f"查看{title}")
    route(f"/{path}", summary=f"{title}列表", tags=("base-data",), roles=WORK_ROLES,
          description="管辖范围内的记录，个人信息按角色遮蔽（身份证号一律遮蔽）。",
          params=[query("grid_id", "只看某个网格的", {"type": "integer", "minimum": 1}), *PAGING],
          responses={200: (f"一页{title}", {"type": "object", "required": ["items", "total", "page", "per_page"],
                                           "properties": {"items": {"type": "array", "items": ref(schema)},
                                                          "total": {"type": "integer"},
                                                          "page": {"type": "integer"},
                                                          "per_page": {"type": "integer"},
                                                          "pages": {"type": "integer"}}}),
                     400: ("参数有误", ref("Error"))})(guard(list_view))
    route(f"/{path}/<int:row_id>", summary=f"一条{title}", tags=("base-data",), roles=WORK_ROLES,
          responses={200: (title, ref(schema)), 404: ("不存在或不在管辖范围内", ref("Error"))})(guard(read_view))


for _kind in KINDS:
    _register(*_kind)
