"""The department picker (issue #22): where staff send a case to a department — dispatch, transfer (转办) and
co-handlers (协办) — they choose from a <select> grouped by parent department (regional bureaus under the city
bureau), which works without JavaScript; a script file (no inline script) adds the filter box."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from minqing import workflows
from minqing.core.actors import actor_for
from minqing.core.models import Account, Case, Department

THEME = "urban_management.street_vending"
INSIDE = (103.83, 36.05)
TEAM = "urban_management_chengguan"


@pytest.fixture
def pages(app, world, platform):
    app.config["RATELIMIT_ENABLED"] = False
    with platform.db.session() as session:   # 城关区's bureau under the city's 城管
        session.get(Department, world.departments[TEAM]).parent_id = world.departments["urban_management"]
    return app


def _case(platform, steps) -> int:
    with platform.db.session() as session:
        def actor(name):
            return actor_for(session, session.scalar(select(Account).where(Account.username == name)), "test")

        case = workflows.report_case(platform, session, actor("worker"), theme_key=THEME, title="张掖路占道经营",
                                     description="流动摊贩占道", lon=INSIDE[0], lat=INSIDE[1], source="grid_worker")
        for name, who, data in steps:
            workflows.transition(platform, session, case, name, actor(who), data)
        return case.id


def _step_form(page: str, name: str) -> str:
    return page.split(f'id="step-{name}"')[1].split("</details>")[0]


def _select(html: str, name: str) -> str:
    return re.search(rf'<select[^>]*name="{name}"[^>]*>.*?</select>', html, re.S).group(0)


def _groups(select_html: str) -> dict[str, list[str]]:
    return {label: re.findall(r'<option value="([^"]+)"', body)
            for label, body in re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', select_html, re.S)}


def test_dispatch_offers_a_grouped_picker_instead_of_a_key_box(platform, pages, world, as_user):
    case_id = _case(platform, [("accept", "station", {})])
    station = as_user("station")
    page = station.get(f"/work/cases/{case_id}").get_data(as_text=True)
    form = _step_form(page, "dispatch")
    assert "部门标识" not in form and not re.search(r'<input[^>]*name="department"', form)
    picker = _select(form, "department")
    assert "data-dept-picker" in picker and "required" not in picker      # empty: the routing decides
    assert '<option value="">不指定（按分拨规则自动派遣）</option>' in picker
    groups = _groups(picker)
    assert groups["城管"] == ["urban_management", TEAM]                   # the district bureau under its parent
    assert "water_affairs" in groups["市级部门"] and "urban_management" not in groups["市级部门"]
    assert "兰州市城关区城市管理综合执法局（城关城管） · 暂无处置人员" in picker
    assert 'data-search="兰州市城市管理局 城管"' in picker
    assert '<script src="/static/js/department-picker.js"></script>' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)             # CSP: no inline script
    answer = station.post(f"/work/cases/{case_id}/steps/dispatch", data={"department": "water_affairs",
                                                                         "comment": "请处置"})
    assert answer.status_code == 302
    with platform.db.session() as session:
        case = session.get(Case, case_id)
        assert (case.status, case.department_id) == ("dispatched", world.departments["water_affairs"])


def test_transfer_requires_a_department_other_than_the_current_one_and_keeps_the_choice(platform, pages, world,
                                                                                         as_user):
    case_id = _case(platform, [("accept", "station", {}), ("dispatch", "station", {"department": "water_affairs"})])
    centre = as_user("centre")
    picker = _select(_step_form(centre.get(f"/work/cases/{case_id}").get_data(as_text=True), "transfer"),
                     "department")
    assert " required" in picker and '<option value="">请选择部门</option>' in picker
    keys = [key for keys in _groups(picker).values() for key in keys]
    assert "water_affairs" not in keys and "urban_management" in keys       # not back to where it is
    failed = centre.post(f"/work/cases/{case_id}/steps/transfer", data={"department": "urban_management"})
    assert failed.status_code == 400                                         # no reason given
    picker = _select(_step_form(failed.get_data(as_text=True), "transfer"), "department")
    assert '<option value="urban_management" data-search="兰州市城市管理局 城管" selected>' in picker
    with platform.db.session() as session:
        assert session.get(Case, case_id).department_id == world.departments["water_affairs"]
    centre.post(f"/work/cases/{case_id}/steps/transfer", data={"department": "urban_management",
                                                               "reason": "经核实属占道经营"})
    with platform.db.session() as session:
        assert session.get(Case, case_id).department_id == world.departments["urban_management"]


def test_co_handlers_are_chosen_from_the_same_grouped_picker(platform, pages, world, as_user):
    case_id = _case(platform, [("accept", "station", {}),
                               ("dispatch", "station", {"department": "urban_management"}),
                               ("take", "chengguan", {})])
    page = as_user("station").get(f"/work/cases/{case_id}").get_data(as_text=True)
    picker = _select(page.split('id="assign-co-handlers"')[1], "departments")
    assert "multiple" in picker and "data-dept-picker" in picker
    groups = _groups(picker)
    assert "urban_management" not in [key for keys in groups.values() for key in keys]   # the lead itself
    assert TEAM in groups["市级部门"]      # its parent leads: the bureau stands on its own
    assert "water_affairs" in groups["市级部门"]
