"""协同处置 as the people would use it: a dispatcher names co-handlers on the case page, the co-handling
department finds its task in the inbox and feeds back with a photo, the lead is held until every co-handler
answered or was overruled with a reason; transfers and the fallback department through the pages and the API."""
from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from minqing import workflows
from minqing.core.accounts import apikeys
from minqing.core.actors import actor_for, system_actor
from minqing.core.models import Account, Case, Department
from minqing.core.models.cohandling import CoHandlingTask

THEME = "urban_management.street_vending"
INSIDE = (103.83, 36.05)


def photo():
    output = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 120, 10)).save(output, format="JPEG")
    output.seek(0)
    return output, "协办.jpg"


def handling_case(platform, *, until: str = "take") -> int:
    """A case of 城管 in handling, taken the usual way (the centre accepts and dispatches, 城管 takes it)."""
    with platform.db.session() as session:
        def actor(name):
            return actor_for(session, session.scalar(select(Account).where(Account.username == name)), "test")

        case = workflows.report_case(platform, session, actor("worker"), theme_key=THEME, title="张掖路占道经营",
                                     description="流动摊贩占道", lon=INSIDE[0], lat=INSIDE[1], source="grid_worker")
        steps = [("accept", "station", {}), ("dispatch", "station", {"department": "urban_management"}),
                 ("take", "chengguan", {})]
        for name, who, data in steps[:[step[0] for step in steps].index(until) + 1]:
            workflows.transition(platform, session, case, name, actor(who), data)
        return case.id


def feedback(client, case_id):
    return client.post(f"/work/cases/{case_id}/steps/feedback", data={"result": "已劝离摊贩", "photos": photo()},
                       content_type="multipart/form-data", follow_redirects=True)


def status(platform, case_id) -> str:
    with platform.db.session() as session:
        return session.get(Case, case_id).status


@pytest.fixture
def pages(app, world):
    app.config["RATELIMIT_ENABLED"] = False
    return app


def test_a_co_handler_feeds_back_through_the_pages_and_then_the_lead_closes(platform, pages, as_user):
    case_id = handling_case(platform)
    station, chengguan, water = as_user("station"), as_user("chengguan"), as_user("water")
    assert water.get(f"/work/cases/{case_id}").status_code == 404
    page = station.get(f"/work/cases/{case_id}").get_data(as_text=True)
    assert "指定协办部门" in page and 'value="water_affairs"' in page
    done = station.post(f"/work/cases/{case_id}/co-handlers", follow_redirects=True,
                        data={"departments": ["water_affairs"], "hours": "8", "instructions": "请排查供水管线"})
    assert "已指定协办部门" in done.get_data(as_text=True)
    inbox = water.get("/work/").get_data(as_text=True)
    assert "协办任务" in inbox and "张掖路占道经营" in inbox
    water_page = water.get(f"/work/cases/{case_id}").get_data(as_text=True)
    assert "提交协办反馈" in water_page and 'id="step-feedback"' not in water_page  # not the lead's steps
    assert 'id="step-feedback"' in chengguan.get(f"/work/cases/{case_id}").get_data(as_text=True)
    held = feedback(chengguan, case_id).get_data(as_text=True)
    assert "协办部门“水务”尚未反馈，须全部反馈或由指挥中心说明理由后撤销，方可办结" in held
    assert status(platform, case_id) == "handling"
    assert "提交协办反馈" not in chengguan.get(f"/work/cases/{case_id}").get_data(as_text=True)
    refused = chengguan.post(f"/work/cases/{case_id}/co-handlers/feedback", data={"result": "代为反馈"},
                             follow_redirects=True).get_data(as_text=True)
    assert "不是本事件的协办部门" in refused
    answered = water.post(f"/work/cases/{case_id}/co-handlers/feedback", content_type="multipart/form-data",
                          data={"result": "已排查，供水管线无渗漏", "photos": photo()}, follow_redirects=True)
    text = answered.get_data(as_text=True)
    assert "已反馈协办情况" in text and "已排查，供水管线无渗漏" in text and "照片1" in text
    assert "协办任务" not in water.get("/work/").get_data(as_text=True)
    assert "已处置反馈" in feedback(chengguan, case_id).get_data(as_text=True)
    assert status(platform, case_id) == "awaiting_follow_up"


def test_an_overruled_co_handler_needs_a_reason_and_lets_the_lead_close(platform, pages, as_user):
    case_id = handling_case(platform)
    station, chengguan = as_user("station"), as_user("chengguan")
    station.post(f"/work/cases/{case_id}/co-handlers", data={"departments": ["water_affairs"]})
    empty = station.post(f"/work/cases/{case_id}/co-handlers/decision", follow_redirects=True,
                         data={"department": "water_affairs", "decision": "overrule", "reason": ""})
    assert "请填写撤销协办理由" in empty.get_data(as_text=True)
    overruled = station.post(f"/work/cases/{case_id}/co-handlers/decision", follow_redirects=True,
                             data={"department": "water_affairs", "decision": "overrule",
                                   "reason": "水务已电话确认不涉及供水设施"})
    text = overruled.get_data(as_text=True)
    assert "已撤销协办任务" in text and "水务已电话确认不涉及供水设施" in text and "已撤销（说明理由）" in text
    assert as_user("water").get(f"/work/cases/{case_id}").status_code == 404   # no longer taking part
    feedback(chengguan, case_id)
    assert status(platform, case_id) == "awaiting_follow_up"


def test_a_transfer_is_listed_and_moves_the_case(platform, pages, as_user):
    case_id = handling_case(platform)
    station = as_user("station")
    no_reason = station.post(f"/work/cases/{case_id}/steps/transfer", data={"department": "water_affairs"})
    assert no_reason.status_code == 400 and status(platform, case_id) == "handling"
    moved = station.post(f"/work/cases/{case_id}/steps/transfer", follow_redirects=True,
                         data={"department": "water_affairs", "reason": "经核实为供水管线渗漏"})
    text = moved.get_data(as_text=True)
    assert "转办记录" in text and "城管 → 水务" in text and "经核实为供水管线渗漏" in text
    assert status(platform, case_id) == "dispatched"
    assert as_user("chengguan").get(f"/work/cases/{case_id}").status_code == 404
    assert as_user("water").get(f"/work/cases/{case_id}").status_code == 200


def test_the_admin_names_fallbacks_and_a_case_returned_twice_is_offered_to_it(platform, pages, as_user, world):
    admin = as_user("admin")
    page = admin.get("/admin/fallbacks").get_data(as_text=True)
    assert "城关区" in page and "兜底部门" in page
    saved = admin.post("/admin/fallbacks", data={"region_code": "620102000000", "department": "water_affairs"},
                       follow_redirects=True)
    assert "已保存兜底部门" in saved.get_data(as_text=True)
    bad = admin.post("/admin/fallbacks", data={"region_code": "620102000000", "department": "nobody"},
                     follow_redirects=True)
    assert "没有标识为“nobody”的在用部门" in bad.get_data(as_text=True)
    case_id = handling_case(platform, until="dispatch")
    station, chengguan = as_user("station"), as_user("chengguan")
    for again in (False, True):
        if again:
            station.post(f"/work/cases/{case_id}/steps/dispatch", data={"department": "urban_management"})
        chengguan.post(f"/work/cases/{case_id}/steps/return", data={"reason": "不属于城管职责"})
    page = station.get(f"/work/cases/{case_id}").get_data(as_text=True)
    assert "本事件已被退回 2 次" in page and "交由兜底部门水务办理" in page
    station.post(f"/work/cases/{case_id}/steps/dispatch", data={"department": "water_affairs",
                                                                "comment": "已被退回 2 次，交由兜底部门承接"})
    with platform.db.session() as session:
        case = session.get(Case, case_id)
        assert (case.status, case.department_id) == ("dispatched", world.departments["water_affairs"])


@pytest.fixture
def api_keys(platform, world) -> dict[str, str]:
    with platform.db.session() as session:
        return {name: apikeys.create(session, system_actor("test"), name, "joint test")[1]
                for name in ("station", "chengguan", "water", "jiuquan", "worker")}


def test_joint_handling_through_the_api(platform, client, api_keys):
    case_id = handling_case(platform)

    def call(user, path, body=None):
        headers = {"Authorization": f"Bearer {api_keys[user]}"}
        if body is None:
            return client.get(f"/api/v1/cases/{case_id}{path}", headers=headers)
        return client.post(f"/api/v1/cases/{case_id}{path}", json=body, headers=headers)

    assert call("chengguan", "/co-handlers", {"departments": ["water_affairs"]}).status_code == 403
    assert call("jiuquan", "/co-handlers", {"departments": ["water_affairs"]}).status_code == 404
    wrong = call("station", "/co-handlers", {"departments": ["urban_management"]})
    assert wrong.status_code == 422 and "departments" in wrong.get_json()["error"]["fields"]
    named = call("station", "/co-handlers", {"departments": ["water_affairs"], "hours": 4, "instructions": "排查管线"})
    assert named.status_code == 201, named.get_json()
    [task] = named.get_json()["co_handlers"]
    assert (task["department"], task["status"], named.get_json()["lead"]["key"]) == ("water_affairs", "open",
                                                                                     "urban_management")
    held = call("chengguan", "/transitions/feedback", {"result": "已劝离", "photos": []})
    assert held.status_code in (409, 422)
    upload = client.post("/api/v1/attachments", headers={"Authorization": f"Bearer {api_keys['water']}"},
                         data={"file": photo()}, content_type="multipart/form-data").get_json()["id"]
    missing = call("water", "/co-handlers/feedback", {"result": ""})
    assert missing.status_code == 422 and "result" in missing.get_json()["error"]["fields"]
    answered = call("water", "/co-handlers/feedback", {"result": "已排查无渗漏", "photos": [upload]})
    assert answered.status_code == 200, answered.get_json()
    assert answered.get_json()["co_handlers"][0]["status"] == "answered"
    assert answered.get_json()["co_handlers"][0]["photos"] == [upload]
    assert call("water", "/co-handlers/feedback", {"result": "再次反馈"}).status_code == 409
    no_reason = call("station", "/co-handlers/overrule", {"department": "water_affairs"})
    assert no_reason.status_code in (409, 422)
    as_co_handler = client.get(f"/api/v1/cases/{case_id}", headers={"Authorization": f"Bearer {api_keys['water']}"})
    assert as_co_handler.status_code == 200 and as_co_handler.get_json()["transitions"] == []
    listed = call("worker", "/co-handlers").get_json()
    assert listed["co_handlers"][0]["feedback"] == "已排查无渗漏" and listed["transfers"] == []
    moved = call("station", "/transitions/transfer", {"department": "water_affairs", "reason": "属供水问题"})
    assert moved.status_code == 200 and moved.get_json()["status"] == "dispatched"
    [row] = call("station", "/co-handlers").get_json()["transfers"]
    assert (row["from"], row["to"], row["reason"], row["by"]) == ("urban_management", "water_affairs", "属供水问题",
                                                                 "station")
    assert call("chengguan", "/co-handlers").status_code == 404          # no longer the lead's case


def test_overruling_through_the_api(platform, client, api_keys):
    case_id = handling_case(platform)
    headers = {"Authorization": f"Bearer {api_keys['station']}"}
    client.post(f"/api/v1/cases/{case_id}/co-handlers", json={"departments": ["water_affairs"]}, headers=headers)
    empty = client.post(f"/api/v1/cases/{case_id}/co-handlers/overrule", json={"department": "water_affairs",
                                                                             "reason": " "}, headers=headers)
    assert empty.status_code == 422 and "reason" in empty.get_json()["error"]["fields"]
    done = client.post(f"/api/v1/cases/{case_id}/co-handlers/overrule",
                       json={"department": "water_affairs", "reason": "不涉及供水"}, headers=headers)
    assert done.status_code == 200
    assert done.get_json()["co_handlers"][0]["decision_reason"] == "不涉及供水"
    with platform.db.session() as session:
        task = session.scalar(select(CoHandlingTask))
        assert (task.status, session.get(Department, task.department_id).key) == ("overruled", "water_affairs")
