"""(b) Routing and validation through the plugin host, with base data in a real database."""
from __future__ import annotations

import datetime as dt

from minqing.core.models import Case
from minqing.plugins import gas, housing_construction, urban_management


def street_vending_code(title="占道经营"):
    return next(category["code"] for document in urban_management.THEMES for category in document["categories"]
                if category["title"] == title)


def new_case(**fields) -> Case:
    values = {"theme_key": "urban_management.street_vending", "title": "占道经营", "source": "grid_worker",
              "status": "reported", "form_data": {}}
    values.update(fields)
    return Case(**values)


def routed(platform, session, case):
    answer = platform.plugins.call_first("route_case", case=case, session=session)
    return answer and answer[1]


def test_street_vending_in_chengguan_goes_to_the_district_team(platform, session, city):
    case = new_case(category=street_vending_code(), region_code=city.regions["南关社区"])
    assert routed(platform, session, case) == "urban_management_chengguan"
    assert routed(platform, session, new_case(category=street_vending_code("流动摊贩"),
                                              region_code=city.regions["张掖路街道"])) == "urban_management_chengguan"


def test_the_category_code_may_come_as_the_subcategory_under_its_major_class(platform, session, city):
    case = new_case(category="市容环境", subcategory=street_vending_code("店外经营"),
                    region_code=city.regions["南关社区"])
    assert routed(platform, session, case) == "urban_management_chengguan"
    night_market = next(c["code"] for c in urban_management.DISTRICT_THEMES[0]["categories"]
                        if c["title"] == "夜市摊位越线经营")
    assert routed(platform, session, new_case(category="市容环境", subcategory=night_market,
                                              region_code=city.regions["张掖路街道"])) == "urban_management_chengguan"
    assert routed(platform, session, new_case(category="市容环境", subcategory=street_vending_code("乱堆乱放"),
                                              region_code=city.regions["南关社区"])) is None


def test_a_case_known_only_by_its_grid_is_routed_by_the_grid_region(platform, session, city):
    case = new_case(category=street_vending_code(), region_code="", grid_id=city.grids["G620102001001"])
    assert routed(platform, session, case) == "urban_management_chengguan"


def test_street_vending_elsewhere_and_other_categories_are_left_to_the_routing_table(platform, session, city):
    assert routed(platform, session, new_case(category=street_vending_code(),
                                              region_code=city.regions["西园街道"])) is None
    assert routed(platform, session, new_case(category=street_vending_code("违规户外广告"),
                                              region_code=city.regions["南关社区"])) is None


def test_the_district_team_is_a_department_with_a_theme_of_its_own(platform):
    declared = {item["key"] for _, item in platform.plugins.collect("register_departments")}
    assert "urban_management_chengguan" in declared
    themes = [item for _, item in platform.plugins.collect("register_themes", session=None)]
    assert any(theme["department"] == "urban_management_chengguan" for theme in themes)


def validate(platform, session, theme_key, form_key, document):
    return [problem for _, problems in platform.plugins.call(
        "validate_submission", theme_key=theme_key, form_key=form_key, document=document, session=session)
        for problem in problems]


def gas_report(**changes):
    report = {"address": "城关区南关什字1号", "user_type": "餐饮用户", "hazard_types": ["燃气泄漏"],
              "hazard_level": "重大", "gas_stopped": True, "photos": ["att1"]}
    report.update(changes)
    return report


def test_a_major_gas_hazard_needs_a_deadline_after_today(platform, session):
    today = gas._today()
    in_a_week = (today + dt.timedelta(days=7)).isoformat()
    assert validate(platform, session, "gas.gas_hazard", "report", gas_report(rectify_deadline=in_a_week)) == []
    problems = validate(platform, session, "gas.gas_hazard", "report", gas_report(rectify_deadline=today.isoformat()))
    assert [path for path, _ in problems] == ["rectify_deadline"] and "晚于今天" in problems[0][1]
    too_late = (today + dt.timedelta(days=40)).isoformat()
    assert "15日" in validate(platform, session, "gas.gas_hazard", "report", gas_report(rectify_deadline=too_late))[0][1]
    problems = validate(platform, session, "gas.gas_hazard", "report",
                        gas_report(rectify_deadline=in_a_week, gas_stopped=False))
    assert problems == [("gas_stopped", "重大隐患须先停气，再限期整改")]


def test_minor_gas_hazards_and_other_forms_are_not_held_up(platform, session):
    yesterday = (gas._today() - dt.timedelta(days=1)).isoformat()
    assert validate(platform, session, "gas.gas_hazard", "report", gas_report(hazard_level="一般")) == []
    assert validate(platform, session, "gas.gas_hazard", "report",
                    gas_report(hazard_level="较大", rectify_deadline=yesterday))[0][0] == "rectify_deadline"
    assert validate(platform, session, "gas.gas_hazard", "record", gas_report(rectify_deadline=yesterday)) == []


def test_the_gas_rule_also_holds_for_cases_arriving_with_form_data(platform, session):
    case = new_case(theme_key="gas.gas_hazard", form_data=gas_report(rectify_deadline=gas._today().isoformat()))
    problems = [problem for _, answer in platform.plugins.call("validate_case", case=case, session=session)
                for problem in answer]
    assert [path for path, _ in problems] == ["rectify_deadline"]


def police_report(persons):
    return {"address": "南关社区", "hazard_type": "可疑人员", "description": "夜间多次出入", "persons": persons}


def test_reported_persons_are_checked_against_the_resident_register(platform, session, city):
    known = {"name": "李建国", "id_number": city.residents["李建国"]}
    assert validate(platform, session, "police.public_security", "report", police_report([known])) == []

    from minqing.core.privacy import idcard
    stranger = idcard.make("620102", dt.date(1990, 1, 1), 555)
    problems = validate(platform, session, "police.public_security", "report", police_report(
        [known, {"name": "赵某", "id_number": stranger, "role_in_event": "承租人"},
         {"name": "张三", "id_number": city.residents["张桂兰"]}, {"name": "未知人员"},
         {"name": "钱某", "id_number": stranger, "role_in_event": "当事人"}]))
    assert problems == [("persons/1/id_number", "承租人未登记为实有人口，请先办理流动人口登记"),
                        ("persons/2/name", "姓名与实有人口库中该身份证号的登记姓名不一致")]


def survey(**changes):
    record = {"address": "榆中县和平镇", "owner_name": "张桂兰", "floors": 2, "structure": "砖混", "built_year": 2005,
              "commercial": False, "has_cracks": False, "appraisal": "未鉴定", "photos": ["att1"]}
    record.update(changes)
    return record


def test_self_built_housing_survey_rules(platform, session):
    theme = "housing_construction.self_built_housing"
    assert validate(platform, session, theme, "record", survey()) == []
    assert validate(platform, session, theme, "record", survey(commercial=True, floors=4))[0][0] == "appraisal"
    assert validate(platform, session, theme, "record",
                    survey(commercial=True, floors=4, appraisal="B级"))[0][0] == "appraisal_report"
    assert validate(platform, session, theme, "record",
                    survey(commercial=True, floors=4, appraisal="B级", appraisal_report=["att2"])) == []
    assert validate(platform, session, theme, "record",
                    survey(appraisal="D级", control_measures=["停止使用"])) == [("control_measures", "D级危房必须人员撤离")]
    next_year = dt.date.today().year + 2
    assert validate(platform, session, theme, "record", survey(built_year=next_year))[0][0] == "built_year"
    assert housing_construction.survey_problems(survey(appraisal="D级", control_measures=["停止使用", "人员撤离"]),
                                                2026) == []
