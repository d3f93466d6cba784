"""The department picker in Chromium at phone width (issue #22): a command post types 城关 into the filter box,
the select keeps the matching departments (grouped under 城管) and picks the first, and dispatching sends the case
there; no console error, no inline script, nothing fetched from outside."""
from __future__ import annotations

from sqlalchemy import select

from minqing import workflows
from minqing.core.actors import actor_for
from minqing.core.models import Account, Case, Department

from tests.fixtures.browser import SUBMIT

TEAM = "urban_management_chengguan"


def _registered_case(platform, world) -> int:
    with platform.db.session() as session:
        session.get(Department, world.departments[TEAM]).parent_id = world.departments["urban_management"]
        station = actor_for(session, session.scalar(select(Account).where(Account.username == "station")), "test")
        case = workflows.report_case(platform, session, station, theme_key="urban_management.street_vending",
                                     title="张掖路占道经营", description="流动摊贩占道", lon=world.inside[0],
                                     lat=world.inside[1], source="hotline")
        workflows.transition(platform, session, case, "accept", station, {})
        return case.id


def test_a_dispatcher_filters_the_departments_on_a_phone_and_dispatches(platform, world, server, open_page,
                                                                         sign_in):
    case_id = _registered_case(platform, world)
    page, requested = open_page(phone=True)
    sign_in(page, "station")
    page.goto(f"{server}/work/cases/{case_id}")
    step = page.locator("#step-dispatch")
    if not step.evaluate("element => element.open"):
        step.locator("summary").click()
    select_box = step.locator("select[data-dept-picker]")
    total = select_box.locator("option").count()
    box = step.locator("input.dept-picker-filter")
    assert box.is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390                                           # nothing wider than the phone
    box.fill("城关")
    labels = select_box.locator("optgroup").evaluate_all("groups => groups.map(group => group.label)")
    assert labels == ["城管"]
    values = select_box.locator("option").evaluate_all("options => options.map(option => option.value)")
    assert values == ["", TEAM] and total > 10
    assert select_box.input_value() == TEAM                      # the first match is chosen
    assert "找到 1 个部门" in step.locator(".dept-picker-count").inner_text()
    box.fill("没有这个部门")
    assert "没有名称含" in step.locator(".dept-picker-count").inner_text()
    box.fill("")
    assert select_box.locator("option").count() == total         # everything back, in its groups
    box.fill("城市管理局")
    assert select_box.input_value() == "urban_management"
    step.locator(SUBMIT).click()
    page.wait_for_load_state("networkidle")
    assert "已分拨交办" in page.content()
    with platform.db.session() as session:
        assert session.get(Case, case_id).department_id == world.departments["urban_management"]
    assert all(url.startswith(server) for url in requested)
