"""What changed between two versions of a theme: per form field, layer, categories and workflow."""
import copy
import xml.etree.ElementTree as ET

from minqing import workflows
from minqing.themes import authoring as builder
from minqing.workflows.diagram import layers, workflow_svg


def _theme():
    return builder.TEMPLATES["visit"].document("gas", "gas.key_places", "重点场所走访")


def test_field_changes_are_named_per_form():
    old, new = _theme(), _theme()
    record = new["forms"]["record"]
    record["properties"]["owner"] = {"type": "string", "title": "负责人"}
    del record["properties"]["phone"]
    record["properties"]["name"]["title"] = "名称"
    record["properties"]["name"]["maxLength"] = 50
    record["properties"]["kind"]["enum"] = ["重点人员", "重点场所", "重点单位"]
    record["properties"]["address"]["type"] = "integer"
    record["required"].append("address")
    visit = new["forms"]["visit"]
    visit["then"] = {"required": []}  # "帮扶需求" is no longer conditional
    diff = builder.diff_versions(old, new)
    assert [(c.path, c.kind) for c in diff.of_form("record", "added")] == [("owner", "added")]
    assert [c.path for c in diff.of_form("record", "removed")] == ["phone"]
    changed = {c.path: {row.attribute for row in c.changes} for c in diff.of_form("record", "changed")}
    assert changed == {"name": {"title", "limits"}, "kind": {"options"}, "address": {"type", "required"}}
    assert {c.path for c in diff.of_form("visit", "changed")} == {"help"}
    summary = diff.summary
    assert "登记表单：新增字段“负责人”（owner）" in summary and "登记表单：删除字段“联系电话”（phone）" in summary
    assert "登记表单：字段“名称”的名称由“姓名或场所名称”改为“名称”" in summary
    assert "登记表单：字段“名称”的限制：maxLength 100→50" in summary
    assert "登记表单：字段“对象类型”的选项新增 重点单位" in summary
    assert "登记表单：字段“详细地址”的类型由“文本”改为“整数”" in summary
    assert "登记表单：字段“详细地址”改为必填" in summary
    assert "巡查走访表单：字段“帮扶需求”改为始终显示" in summary
    assert builder.diff_versions(old, copy.deepcopy(old)).empty


def test_repeat_groups_layer_categories_and_workflow():
    old, new = _theme(), _theme()
    new["forms"]["visit"]["properties"]["members"] = {
        "type": "array", "title": "在场人员",
        "items": {"type": "object", "properties": {"name": {"type": "string", "title": "姓名"}}}}
    new["layer"]["geometry"] = "polygon"
    new["layer"]["visible_to"] = ["admin"]
    new["categories"][0]["department"] = "water_affairs"
    new["categories"].pop()
    new["categories"].append({"code": "09", "title": "安全隐患"})
    new["forms"].pop("record")
    new["ui"].pop("record")
    workflow = builder.workflow_for_editing(new)
    workflow = builder.set_time_limit(workflow, "handling", {"normal": 20, "urgent": 8, "critical": 2})
    workflow = builder.set_roles(workflow, "take", ["department_staff", "grid_worker"])
    new["workflow"] = workflow
    diff = builder.diff_versions(old, new)
    assert {c.path for c in diff.of_form("visit", "added")} == {"members", "members[].name"}
    assert [c.summary for c in diff.forms] == ["删除登记表单"]
    assert {c.attribute for c in diff.layer} == {"geometry", "visible_to"}
    assert [c.attribute for c in diff.categories] == ["added", "removed", "department"]
    assert "分类 01 的分拨部门由“”改为“water_affairs”" in diff.summary
    lines = [c.summary for c in diff.workflow]
    assert lines[0] == "流程由模板“standard”改为自定义流程"
    assert "状态“处置中”的时限：一般 40 小时，紧急 16 小时，特急 4 小时→一般 20 小时，紧急 8 小时，特急 2 小时" in lines
    assert "步骤“签收”的办理角色：department_staff→department_staff、grid_worker" in lines


def test_workflow_diagram_is_safe_svg_with_every_state(platform):
    document = copy.deepcopy(workflows.get_workflow(platform, "standard").document)
    document["states"]["handling"]["title"] = "处置中<script>alert(1)</script>&"
    svg = workflow_svg(document)
    root = ET.fromstring(svg)  # well-formed XML: every text escaped
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    texts = ["".join(node.itertext()) for node in root.iter("{http://www.w3.org/2000/svg}text")]
    for state in document["states"].values():
        assert state["title"] in texts
    for step in document["transitions"]:
        assert any(step["title"] in text for text in texts)
    groups = {node.get("data-state"): node.get("class") for node in root.iter("{http://www.w3.org/2000/svg}g")
              if node.get("data-state")}
    assert groups["closed"] == groups["voided"] == "mq-state mq-state-final"
    assert groups["reported"] == "mq-state mq-state-initial"
    assert groups["suspended"] == "mq-state mq-state-paused"
    level = layers(document)
    assert level["reported"] == 0 < level["registered"] < level["handling"] < level["closed"]
    assert level["closed"] == level["voided"] == max(level.values())
    assert root.get("width") == "100%" and root.get("viewBox").startswith("0 0 ")
    assert workflow_svg(workflows.get_workflow(platform, "standard")) == workflow_svg(
        workflows.get_workflow(platform, "standard").document)
