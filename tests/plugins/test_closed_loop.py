"""The department plugins inside the real loop: a report refused by a plugin's rule stores nothing, and a
street-vending case in 城关区 is dispatched to the district team without anyone choosing the department."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from minqing import workflows
from minqing.core.actors import Actor, Grant
from minqing.core.departments import sync_departments
from minqing.core.models import Case, Department
from minqing.plugins import gas, urban_management

WORKER = Actor(None, "南关社区网格员", (Grant("grid_worker", grid_code="G620102001001"),))
STATION = Actor(None, "张掖路街道指挥所", (Grant("operator", region_code="620102001000"),))
IN_NANGUAN = (103.81, 36.06)


def report(platform, session, **fields):
    values = {"title": "事件", "description": "网格员巡查发现", "lon": IN_NANGUAN[0], "lat": IN_NANGUAN[1],
              "source": "grid_worker"}
    values.update(fields)
    return workflows.report_case(platform, session, WORKER, **values)


def test_street_vending_in_chengguan_is_dispatched_to_the_district_team(platform, system, city):
    code = next(c["code"] for c in urban_management.THEMES[0]["categories"] if c["title"] == "店外经营")
    with platform.db.session() as session:
        assert "urban_management_chengguan" in sync_departments(session, platform.plugins, system)
    with platform.db.session() as session:
        case = report(platform, session, theme_key="urban_management.street_vending", title="店外经营占道",
                      category="市容环境", subcategory=code, form_data={"vending_type": "店外经营"})
        assert case.region_code == city.regions["南关社区"]
        workflows.transition(platform, session, case, "accept", STATION)
        workflows.transition(platform, session, case, "dispatch", STATION)
        assert session.get(Department, case.department_id).key == "urban_management_chengguan"


def test_a_major_gas_hazard_without_a_valid_deadline_is_refused_and_nothing_stored(platform, city):
    form = {"address": "南关什字1号", "user_type": "餐饮用户", "hazard_types": ["燃气泄漏"], "hazard_level": "重大",
            "gas_stopped": True, "rectify_deadline": gas._today().isoformat(), "photos": ["a1"]}
    with pytest.raises(workflows.CaseRejected) as refused:
        with platform.db.session() as session:
            report(platform, session, theme_key="gas.gas_hazard", title="饭店燃气泄漏", form_data=form)
    assert list(refused.value.errors) == ["rectify_deadline"]
    with platform.db.session() as session:
        assert session.scalar(select(Case.id)) is None
        form["rectify_deadline"] = (gas._today() + dt.timedelta(days=3)).isoformat()
        assert report(platform, session, theme_key="gas.gas_hazard", title="饭店燃气泄漏", form_data=form).id


def test_a_self_built_house_record_passes_its_form_then_the_plugin_rules(platform, system, city):
    from minqing import themes
    from minqing.core.privacy import idcard

    with platform.db.session() as session:
        sync_departments(session, platform.plugins, system)
        themes.sync_themes(platform, session, system)
    survey = {"address": "南关社区平凉路12号", "location": {"lon": IN_NANGUAN[0], "lat": IN_NANGUAN[1]},
              "owner_name": "李建国", "owner_id_number": idcard.make("620102", dt.date(1985, 7, 9), 101),
              "owner_phone": "13919012345", "floors": 4, "structure": "砖混", "built_year": 2008,
              "commercial": True, "business_types": ["餐饮", "出租公寓"], "has_cracks": True,
              "crack_detail": "二层北墙斜向裂缝，长约1.2米，宽2毫米", "appraisal": "未鉴定", "photos": ["photo01"]}
    with platform.db.session() as session:
        with pytest.raises(themes.versions.RecordInvalid) as refused:
            themes.add_record(platform, session, system, "housing_construction.self_built_housing", survey,
                              lon=IN_NANGUAN[0], lat=IN_NANGUAN[1])
        assert refused.value.errors == [("appraisal", "3层及以上经营性自建房必须经过安全鉴定")]
        survey.update(appraisal="C级", appraisal_report=["report01"], control_measures=["限制使用", "加固维修"])
        record = themes.add_record(platform, session, system, "housing_construction.self_built_housing", survey,
                                   lon=IN_NANGUAN[0], lat=IN_NANGUAN[1])
        assert record.region_code == city.regions["南关社区"]
