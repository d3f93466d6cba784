"""The department picker (部门选择) where staff send a case to a department: the dispatch and transfer steps'
forms and the co-handlers' form. A plain <select> with one <optgroup> per parent department, which works without
JavaScript; static/js/department-picker.js adds a filter box by name or short name. The list and who can act
come from `workflows.dispatch.reach`; here only its shape for the templates."""
from __future__ import annotations

from flask import get_template_attribute
from markupsafe import Markup

from minqing import forms
from minqing.core.models import Case
from minqing.workflows import dispatch

from ..context import db

# Steps whose form names a department: the field becomes the picker. No choice on dispatch = the routing decides.
EMPTY_LABELS = {"dispatch": "不指定（按分拨规则自动派遣）"}
EMPTY_LABEL = "请选择部门"
HELP = "可输入部门名称或简称筛选；标“暂无处置人员”的部门尚无可登录办理的账号"


def department_picker(case: Case | None, *, name: str, field_id: str, title: str, exclude=(), selected=(),
                      required: bool = False, multiple: bool = False, empty: str = EMPTY_LABEL) -> dict:
    return {"name": name, "id": field_id, "title": title, "required": required, "multiple": multiple,
            "empty": empty, "help": HELP, "selected": {value for value in selected if value}, "errors": [],
            "groups": dispatch.reach.picker(db(), case=case, exclude=frozenset(exclude))}


def picks_department(step) -> bool:
    """Whether `step`'s form has a department field to show as the picker."""
    field = ((step.form or {}).get("properties") or {}).get("department")
    return isinstance(field, dict) and field.get("type") == "string"


def render_step(case: Case, step, form, *, action: str, csrf_token: str, attachment_url: str) -> Markup:
    """A step's form as `forms.render` draws it, with its department field shown as the picker."""
    field = form["department"]
    schema = step.form["properties"]["department"]
    required = "department" in (step.form.get("required") or ())
    exclude = (case.department_id,) if step.name != "dispatch" and case.department_id else ()
    picker = department_picker(case, name=field.name, field_id=field.id, title=schema.get("title", "处置部门"),
                               exclude=exclude, selected=(field.data or "",), required=required,
                               empty=EMPTY_LABELS.get(step.name, EMPTY_LABEL))
    picker["errors"] = list(field.mq_errors or ())
    shown = Markup(get_template_attribute("work/_department_picker.html", "department_picker")(picker))
    return forms.render(form, action=action, submit_label=step.title, csrf_token=csrf_token,
                        attachment_url=attachment_url, fields={"department": shown})
