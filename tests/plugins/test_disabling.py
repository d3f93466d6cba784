"""(c) Disabling a department plugin takes its answers away at once, and enabling it brings them back."""
from __future__ import annotations

import datetime as dt

from minqing.core.models import Case, Grid
from minqing.plugins import urban_management, visit_reminders

LONG_AGO = visit_reminders.today() - dt.timedelta(days=10)


def switch(platform, session, system, name, enabled):
    platform.plugins.set_enabled(name, enabled, session=session, actor=system)
    session.commit()


def test_disabling_city_management_stops_its_routing(platform, session, system, city):
    code = next(c["code"] for c in urban_management.THEMES[0]["categories"] if c["title"] == "占道经营")
    case = Case(theme_key="urban_management.street_vending", title="占道经营", source="grid_worker",
                status="reported", category=code, region_code=city.regions["南关社区"])
    assert platform.plugins.call_first("route_case", case=case, session=session) == \
        ("dept_urban_management", "urban_management_chengguan")
    switch(platform, session, system, "dept_urban_management", False)
    assert platform.plugins.call_first("route_case", case=case, session=session) is None
    themes = {item["key"] for _, item in platform.plugins.collect("register_themes", session=None)}
    assert "urban_management.street_vending" not in themes and "gas.gas_hazard" in themes
    switch(platform, session, system, "dept_urban_management", True)
    assert platform.plugins.call_first("route_case", case=case, session=session)[1] == "urban_management_chengguan"


def test_disabling_emergency_removes_its_layer_and_figure(platform, session, system, city, add_key_place):
    add_key_place("东岗加油站", "加油加气站", "emergency", LONG_AGO)

    def answers():
        layers = {item["key"] for _, item in platform.plugins.collect("map_layers", viewer=system, session=session)}
        figures = {item["key"] for _, item in
                   platform.plugins.collect("dashboard_figures", viewer=system, session=session)}
        return layers, figures

    layers, figures = answers()
    assert "emergency.high_risk_grids" in layers and "emergency.high_risk_overdue" in figures
    switch(platform, session, system, "dept_emergency", False)
    layers, figures = answers()
    assert "emergency.high_risk_grids" not in layers and "emergency.high_risk_overdue" not in figures
    assert "civil_affairs.elderly_overdue" in figures  # the other plugins still answer


def test_disabling_validation_colour_task_and_page_plugins(platform, session, system, city, add_key_person):
    add_key_person("张桂兰", "独居老人", risk="high", due=LONG_AGO)
    grid = session.query(Grid).filter_by(code="G620102001").one()
    major = {"hazard_level": "重大", "gas_stopped": False}
    for name in ("dept_gas", "dept_police", "dept_civil_affairs", "dept_meteorology"):
        switch(platform, session, system, name, False)
    assert platform.plugins.call("validate_submission", theme_key="gas.gas_hazard", form_key="report",
                                 document=major, session=session) == []
    assert "dept_police" not in dict(platform.plugins.call("grid_colours", parents={grid.id: None}, session=session))
    assert "civil_affairs.elderly_visit_overdue" not in {
        item["name"] for _, item in platform.plugins.collect("periodic_tasks")}
    assert "dept_meteorology" not in {name for name, _ in platform.plugins.collect("web_blueprints", platform=platform)}
    switch(platform, session, system, "dept_gas", True)
    assert platform.plugins.call("validate_submission", theme_key="gas.gas_hazard", form_key="report",
                                 document=major, session=session)
