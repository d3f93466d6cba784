"""申诉 and 考核排名 as the roles use them: a department appeals from the case page, the command centre decides in
its queue, the ranking page shows the live ranking moved by the appeal, the city centre publishes it; and the same
through the API."""
from __future__ import annotations


import pytest
from sqlalchemy import select

from minqing.core.accounts import apikeys
from minqing.core.actors import system_actor
from minqing.core.models import Case, CaseEvent
from minqing.core.models.appeals import CaseAppeal
from minqing.workflows import months

from tests.fixtures.rankings import ranked_month

LAST_MONTH = months.previous(months.current())
WHY = "该事件实为供水管网问题，系派遣错误导致超期"


@pytest.fixture
def last_month(platform, world):
    """城管: two on time, one late (67 %); 水务: one on time, one late (50 %) — 城管 ranks first."""
    return ranked_month(platform, world, LAST_MONTH)


def page(client, path, **query):
    response = client.get(path, query_string=query)
    return response.status_code, response.get_data(as_text=True)


def order_on(page_text: str) -> list[str]:
    """The department names of the ranking table, in order."""
    table = page_text.split('id="ranking"', 1)[1].split("</table>", 1)[0]
    shown = [name for name in ("城管", "水务") if f"<td>{name}</td>" in table]
    return sorted(shown, key=lambda name: table.index(f"<td>{name}</td>"))


def test_appeal_decide_and_publish_through_the_pages(as_user, platform, last_month):
    water, station, centre, leader = as_user("water"), as_user("station"), as_user("centre"), as_user("leader")
    late = last_month["water_late"]

    status, text = page(leader, "/manage/rankings", period=LAST_MONTH)
    assert status == 200 and "未发布 · 申诉期" in text and order_on(text) == ["城管", "水务"]
    assert 'id="publish"' not in text                                    # a leader reads, the centre publishes

    status, text = page(water, "/work/appeals")
    assert status == 200 and f"/work/cases/{late}#appeal" in text
    assert f"/work/cases/{last_month['urban_late']}" not in text          # another department's case
    status, text = page(water, f"/work/cases/{late}")
    assert 'id="appeal-form"' in text

    response = water.post(f"/work/cases/{late}/appeal", data={"ground": "dispatch_error", "reason": "短"},
                          follow_redirects=True)
    assert "请填写申诉理由" in response.get_data(as_text=True)
    response = water.post(f"/work/cases/{late}/appeal", data={"ground": "dispatch_error", "reason": WHY},
                          follow_redirects=True)
    assert "申诉已提交" in response.get_data(as_text=True)
    response = water.post(f"/work/cases/{late}/appeal", data={"ground": "other", "reason": WHY},
                          follow_redirects=True)
    assert "不能重复申诉" in response.get_data(as_text=True)

    assert "申诉审核" in page(station, "/work/appeals/queue")[1] and WHY in page(station, "/work/appeals/queue")[1]
    response = station.post(f"/work/cases/{late}/appeal/decision", data={"decision": "approve", "reason": "",
                                                                       "next": "queue"}, follow_redirects=True)
    assert "请填写审核意见" in response.get_data(as_text=True)
    response = station.post(f"/work/cases/{late}/appeal/decision",
                            data={"decision": "approve", "reason": "经核实确属派遣错误，同意剔除", "next": "queue"},
                            follow_redirects=True)
    assert "申诉已通过" in response.get_data(as_text=True)
    text = page(water, f"/work/cases/{late}")[1]
    assert "申诉通过" in text and "经核实确属派遣错误" in text and 'id="appeal-form"' not in text

    status, text = page(leader, "/manage/rankings", period=LAST_MONTH)
    assert order_on(text) == ["水务", "城管"]
    changes = text.split('id="appeal-changes"', 1)[1]
    assert "第 2 → 第 1 名" in changes and "50.0% → 100.0%" in changes and "1 → 0" in changes
    with platform.db.session() as session:
        number = session.get(Case, late).number
    assert number in changes and "派遣错误" in changes

    assert station.post("/manage/rankings/publish", data={"period": LAST_MONTH}).status_code == 403
    response = centre.post("/manage/rankings/publish", data={"period": LAST_MONTH}, follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "考核排名已发布" in text and 'id="ranking-published"' in text and "发布时间" in text
    assert order_on(text) == ["水务", "城管"] and number in text
    dashboard = page(leader, "/manage/")[1]
    assert f"{months.title(LAST_MONTH)}排名已于" in dashboard and "申诉调整 1 件" in dashboard

    response = as_user("chengguan").post(f"/work/cases/{last_month['urban_late']}/appeal",
                                         data={"ground": "force_majeure", "reason": "暴雨停工，属于不可抗力"},
                                         follow_redirects=True)
    assert "的排名已发布，不能再申诉" in response.get_data(as_text=True)
    with platform.db.session() as session:
        assert session.scalar(select(CaseAppeal).where(CaseAppeal.case_id == last_month["urban_late"])) is None
        titles = session.scalars(select(CaseEvent.data).where(CaseEvent.case_id == late)).all()
        assert [t["title"] for t in titles] == ["申诉提交", "申诉通过"]


def test_who_sees_the_appeal_pages(as_user, last_month):
    assert as_user("worker").get("/work/appeals").status_code == 403
    assert as_user("water").get("/work/appeals/queue").status_code == 403
    assert as_user("chengguan").get("/manage/rankings").status_code == 200
    assert as_user("citizen").get("/manage/rankings").status_code == 403
    assert as_user("centre").post(f"/work/cases/{last_month['water_late']}/appeal",
                                  data={"ground": "other", "reason": WHY}).status_code == 403
    status, text = page(as_user("leader"), "/manage/rankings", period="2026-13")
    assert status == 400 and "格式不正确" in text


@pytest.fixture
def api_keys(platform, world):
    with platform.db.session() as session:
        made = {name: apikeys.create(session, system_actor("test"), name, "appeals")[1]
                for name in ("water", "chengguan", "station", "centre", "leader")}
        session.commit()
    return made


def test_appeals_and_rankings_through_the_api(client, api_keys, last_month):
    def call(method, user, path, body=None, **query):
        headers = {"Authorization": f"Bearer {api_keys[user]}"}
        if method == "GET":
            return client.get(f"/api/v1{path}", headers=headers, query_string=query)
        return client.post(f"/api/v1{path}", headers=headers, json=body)

    late = last_month["urban_late"]
    assert call("POST", "water", f"/cases/{late}/appeal", {"ground": "other", "reason": WHY}).status_code == 404
    bad = call("POST", "chengguan", f"/cases/{late}/appeal", {"ground": "luck", "reason": ""})
    assert bad.status_code == 422 and set(bad.get_json()["error"]["fields"]) == {"ground", "reason"}
    made = call("POST", "chengguan", f"/cases/{late}/appeal", {"ground": "force_majeure", "reason": "暴雨停工无法施工"})
    assert made.status_code == 201 and made.get_json()["status"] == "pending"
    assert made.get_json()["period"] == LAST_MONTH
    again = call("POST", "chengguan", f"/cases/{late}/appeal", {"ground": "other", "reason": "再次提出申诉"})
    assert again.status_code == 409

    assert call("GET", "chengguan", "/appeals").get_json()["total"] == 1
    assert call("GET", "water", "/appeals").get_json()["total"] == 0
    assert call("GET", "station", "/appeals", status="pending").get_json()["total"] == 1
    assert call("GET", "station", "/appeals", period="2026/11").status_code == 400

    assert call("POST", "chengguan", f"/cases/{late}/appeal/decision",
                {"decision": "approve", "reason": "自己审核自己"}).status_code == 403
    no_reason = call("POST", "centre", f"/cases/{late}/appeal/decision", {"decision": "reject"})
    assert no_reason.status_code == 422 and "reason" in no_reason.get_json()["error"]["fields"]
    publish_early = call("POST", "centre", "/rankings/publish", {"period": LAST_MONTH})
    assert publish_early.status_code == 409 and "待审核" in publish_early.get_json()["error"]["message"]
    rejected = call("POST", "centre", f"/cases/{late}/appeal/decision",
                    {"decision": "reject", "reason": "当日无极端天气记录，不予支持"})
    assert rejected.status_code == 200 and rejected.get_json()["status"] == "rejected"

    live = call("GET", "leader", "/rankings", period=LAST_MONTH).get_json()
    assert live["status"] == "open" and live["published_at"] is None and live["appeals"] == []
    assert [row["name"] for row in live["standings"]] == ["城管", "水务"]   # a rejected appeal changes nothing

    assert call("POST", "station", "/rankings/publish", {"period": LAST_MONTH}).status_code == 403
    assert call("POST", "centre", "/rankings/publish", {"period": "下个月"}).status_code == 422
    published = call("POST", "centre", "/rankings/publish", {"period": LAST_MONTH})
    assert published.status_code == 200 and published.get_json()["status"] == "published"
    read = call("GET", "chengguan", "/rankings", period=LAST_MONTH).get_json()
    assert read["published_at"] == published.get_json()["published_at"] and read["published_by"] == "centre"
    assert read["standings"][0]["indicators"]["on_time_closure_rate"] == pytest.approx(2 / 3)
    assert call("POST", "centre", "/rankings/publish", {"period": LAST_MONTH}).status_code == 409
    late_appeal = call("POST", "water", f"/cases/{last_month['water_late']}/appeal", {"ground": "other",
                                                                                      "reason": WHY})
    assert late_appeal.status_code == 409 and "已发布" in late_appeal.get_json()["error"]["message"]
