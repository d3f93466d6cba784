"""智能分拨 in the work end and the API: the dispatcher sees the top suggestions with reasons and confirms one;
the API answers within the case's scope; the OpenAPI document lists the endpoint."""
from __future__ import annotations

import re

import pytest

from minqing.core.accounts import apikeys
from minqing.core.actors import system_actor
from minqing.core.models import Case, Department
from minqing.workflows import report_case, transition

from tests.fixtures.web import INSIDE

TEXT = "张掖路商铺门前有人占道经营摆摊卖菜"


@pytest.fixture(autouse=True)
def folders(tmp_path, monkeypatch):
    monkeypatch.setenv("MINQING_MODEL_DIR", str(tmp_path / "models"))


@pytest.fixture
def case_id(platform, world):
    with platform.db.session() as session:
        # 城关区's street-vending team has no account here; it sits under 城管, whose `chengguan` can act
        session.get(Department, world.departments["urban_management_chengguan"]).parent_id = \
            world.departments["urban_management"]
        case = report_case(platform, session, system_actor("test"), theme_key="urban_management.street_vending",
                           title="门前摆摊", description=TEXT, lon=INSIDE[0], lat=INSIDE[1], source="hotline")
        transition(platform, session, case, "accept", system_actor("test"), {})
        return case.id


def test_the_dispatcher_sees_suggestions_with_reasons_and_confirms_one(platform, world, case_id, as_user):
    station = as_user("station")
    page = station.get(f"/work/cases/{case_id}").get_data(as_text=True)
    assert "智能分拨建议" in page and "置信度" in page and "占道经营" in page
    assert "<mark>" in page and "权责" in page and "兰州市城关区城市管理综合执法局" in page
    # the district team has nobody to open the case: the suggestion goes to its parent, and says so
    assert "暂无处置人员，由上级部门兰州市城市管理局办理" in page and "采用此建议并交办兰州市城市管理局" in page
    assert "urban_management" not in page.split('id="dispatch-suggestions"')[1].split("</section>")[0]
    assert f'action="/work/cases/{case_id}/suggestions/confirm"' in page
    answer = station.post(f"/work/cases/{case_id}/suggestions/confirm", data={"code": "1001", "confidence": "0.5"})
    assert answer.status_code == 302
    with platform.db.session() as session:
        case = session.get(Case, case_id)
        assert case.status == "dispatched" and case.department_id == world.departments["urban_management"]
        assert [event.action for event in case.events][-2:] == ["dispatch_suggestion", "dispatch"]
    assert "智能分拨建议" not in station.get(f"/work/cases/{case_id}").get_data(as_text=True)  # dispatched now
    assert as_user("chengguan").get(f"/work/cases/{case_id}").status_code == 200     # 城管 can act on it


def test_a_suggestion_towards_nobody_is_dropped(platform, world, case_id, as_user):
    with platform.db.session() as session:   # the district team stands alone again: nobody up its chain can act
        session.get(Department, world.departments["urban_management_chengguan"]).parent_id = None
    page = as_user("station").get(f"/work/cases/{case_id}").get_data(as_text=True)
    block = page.split('id="dispatch-suggestions"')[1].split("</section>")[0]
    assert "城关区城市管理综合执法局" not in block and "暂无处置人员" not in block
    for name in re.findall(r"采用此建议并交办(\S+?)</button>", block):
        assert name in ("兰州市城市管理局", "兰州市水务局")     # the departments with an account


def test_only_a_dispatcher_sees_the_block_and_a_bad_code_changes_nothing(platform, world, case_id, as_user):
    assert "智能分拨建议" not in as_user("worker").get(f"/work/cases/{case_id}").get_data(as_text=True)
    station = as_user("station")
    station.post(f"/work/cases/{case_id}/suggestions/confirm", data={"code": "nope"})
    assert "没有代码为“nope”的事件分类" in station.get(f"/work/cases/{case_id}").get_data(as_text=True)
    with platform.db.session() as session:
        assert session.get(Case, case_id).status == "registered"


def _key(platform, username):
    with platform.db.session() as session:
        return apikeys.create(session, system_actor("test"), username, "suggestions test")[1]


def test_the_api_answers_within_the_cases_scope(platform, world, case_id, client):
    def get(username):
        return client.get(f"/api/v1/cases/{case_id}/suggestions",
                          headers={"Authorization": f"Bearer {_key(platform, username)}"})

    answer = get("station")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["case_id"] == case_id and body["model_version"]
    top = body["suggestions"][0]
    assert top["code"] == "1001" and top["department_key"] == "urban_management"
    assert top["words"] and all(word in "门前摆摊。" + TEXT for word in top["words"]) and top["reason"]
    assert get("jiuquan").status_code == 404          # another township's operator: not in scope
    assert get("worker").status_code == 403           # not a dispatcher's role
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "/cases/{case_id}/suggestions" in paths
