"""forms.display(): read-only (label path, human value) rows for a stored record."""
from __future__ import annotations

from minqing import forms


def test_rows_use_titles_option_titles_and_readable_values(house, house_ui, valid_house):
    rows = forms.display(house, valid_house, house_ui)
    assert all(isinstance(row, forms.DisplayRow) for row in rows)
    shown = [(label, value) for label, value, *_ in rows]
    assert shown == [
        ("房屋地址", "兰州市城关区张掖路街道1号"),
        ("产权人 › 姓名", "张三"),
        ("产权人 › 身份证号", valid_house["owner"]["id_number"]),
        ("产权人 › 手机号码", "13800138000"),
        ("层数", "3"),
        ("结构类型", "框架结构"),
        ("建成年份", "1998"),
        ("房屋用途", "自住、出租"),
        ("墙体是否有裂缝", "是"),
        ("裂缝情况", "东侧山墙有一条斜向裂缝，长约1米"),
        ("现场照片", "att-0001、att-0002"),
        ("排查日期", "2024-05-01"),
        ("房屋位置", "经度 103.834，纬度 36.061"),
        ("风险等级", "B级（基本安全）"),
        ("居住人员 › 第1位 › 姓名", "李四"),
        ("居住人员 › 第1位 › 身份证号", valid_house["residents"][0]["id_number"]),
        ("居住人员 › 第1位 › 与产权人关系", "租户"),
        ("居住人员 › 第2位 › 姓名", "王五"),
        ("居住人员 › 第2位 › 身份证号", valid_house["residents"][1]["id_number"]),
        ("居住人员 › 第2位 › 手机号码", "13912345678"),
        ("居住人员 › 第2位 › 与产权人关系", "本人"),
    ]


def test_rows_carry_paths_and_kinds(house, valid_house):
    rows = {row.path: row for row in forms.display(house, valid_house)}
    assert rows["residents[1].name"].value == "王五"
    assert rows["photos"].kind == "attachment"
    assert rows["address"].kind == "text"


def test_values_without_a_matching_option_or_field_are_still_shown(house, valid_house):
    valid_house["structure"] = "steel"          # an option removed since
    valid_house["legacy_code"] = {"a": 1}        # a field removed since
    rows = {label: value for label, value, *_ in forms.display(house, valid_house)}
    assert rows["结构类型"] == "steel"
    assert rows["legacy_code"] == '{"a": 1}'


def test_date_times_and_booleans():
    schema = {"type": "object", "properties": {
        "at": {"type": "string", "format": "date-time", "title": "时间"},
        "ok": {"type": "boolean", "title": "已核实"}, "n": {"type": "number", "title": "面积"}}}
    rows = forms.display(schema, {"at": "2024-05-01T01:30:00Z", "ok": False, "n": 12.0})
    assert [(r.label, r.value) for r in rows] == [("时间", "2024-05-01 09:30"), ("已核实", "否"), ("面积", "12")]
