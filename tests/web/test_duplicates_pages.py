"""重复件 in the pages and the API: likely duplicates while reporting and on the case page, merging by a dispatcher,
the merged reports on the master, undo; the citizen's own case; the API; the dashboard's indicators."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from minqing.core.accounts import apikeys
from minqing.core.actors import actor_for, system_actor
from minqing.core.models import Account, Case, utcnow
from minqing.workflows import report_case

from tests.fixtures.web import INSIDE

THEME = "urban_management.street_vending"
NEAR = (INSIDE[0] + 0.0003, INSIDE[1])      # about 27 m away


@pytest.fixture
def pair(platform, world):
    """A hotline report and, two hours later and 27 m away, a citizen's report of the same stall."""
    now = utcnow()
    with platform.db.session() as session:
        first = report_case(platform, session, system_actor("test"), theme_key=THEME, title="门前摆摊",
                            description="张掖路商铺门前有人占道经营摆摊卖菜", lon=INSIDE[0], lat=INSIDE[1],
                            category="市容环境", subcategory="1001", source="hotline", now=now - dt.timedelta(hours=3))
        citizen = actor_for(session, session.scalar(select(Account).where(Account.username == "citizen")))
        second = report_case(platform, session, citizen, theme_key=THEME, title="有人摆摊卖菜",
                             description="张掖路商铺门前占道摆摊", lon=NEAR[0], lat=NEAR[1], category="市容环境",
                             subcategory="1001", source="citizen", now=now - dt.timedelta(hours=1))
        return first.id, second.id


def load(platform, case_id) -> Case:
    with platform.db.session() as session:
        return session.get(Case, case_id)


def test_the_dispatcher_sees_the_evidence_merges_and_undoes(platform, world, pair, as_user):
    first, second = pair
    station = as_user("station")
    page = station.get(f"/work/cases/{first}").get_data(as_text=True)
    assert "疑似重复件" in page and load(platform, second).number in page
    assert "相距 27" in page and "上报时间相差 2.0 小时" in page and "同一小类" in page
    assert f'action="/work/cases/{first}/duplicates/merge"' in page

    answer = station.post(f"/work/cases/{first}/duplicates/merge",
                          data={"other_id": second, "into": "this", "reason": "同一摊点重复反映"})
    assert answer.status_code == 302
    assert load(platform, second).merged_into_id == first
    master_page = station.get(f"/work/cases/{first}").get_data(as_text=True)
    assert "已并入的重复件（1）" in master_page and "重复件并入" in master_page
    assert f'action="/work/cases/{second}/duplicates/undo"' in master_page
    duplicate_page = station.get(f"/work/cases/{second}").get_data(as_text=True)
    assert "本件已合并到主件" in duplicate_page and "合并到主件" in duplicate_page

    station.post(f"/work/cases/{second}/duplicates/undo", data={"reason": "是两个摊点", "back": first})
    restored = load(platform, second)
    assert restored.merged_into_id is None and restored.status == "reported"
    master_page = station.get(f"/work/cases/{first}").get_data(as_text=True)
    assert "已并入的重复件" not in master_page and "撤销重复件合并" in master_page and "已撤销的合并（1）" in master_page


def test_a_bad_merge_is_told_and_changes_nothing(platform, world, pair, as_user):
    first, second = pair
    station = as_user("station")
    station.post(f"/work/cases/{first}/duplicates/merge", data={"other_id": first, "into": "this", "reason": "重复"})
    assert "不能把事件合并到它自己" in station.get(f"/work/cases/{first}").get_data(as_text=True)
    station.post(f"/work/cases/{first}/duplicates/merge", data={"other_id": second, "into": "this", "reason": ""})
    assert "请填写合并理由" in station.get(f"/work/cases/{first}").get_data(as_text=True)
    assert load(platform, second).merged_into_id is None


def test_who_may_merge(platform, world, pair, as_user):
    first, second = pair
    body = {"other_id": second, "into": "this", "reason": "同一摊点"}
    assert as_user("citizen").post(f"/work/cases/{first}/duplicates/merge", data=body).status_code == 403
    assert as_user("worker").post(f"/work/cases/{first}/duplicates/merge", data=body).status_code == 403
    assert as_user("jiuquan").post(f"/work/cases/{first}/duplicates/merge", data=body).status_code == 404
    assert load(platform, second).merged_into_id is None
    # the grid worker sees the likely duplicates of a case in the grid, without a merge form
    page = as_user("worker").get(f"/work/cases/{first}").get_data(as_text=True)
    assert "疑似重复件" in page and "duplicates/merge" not in page


def test_the_report_pages_ask_while_the_reporter_writes(platform, world, pair, as_user):
    first, second = pair
    worker = as_user("worker")
    form = worker.get(f"/work/report/{THEME}").get_data(as_text=True)
    assert 'id="duplicate-check"' in form and "js/duplicates.js" in form
    answer = worker.get("/work/duplicates/check", query_string={
        "theme": THEME, "category": "1001", "lon": NEAR[0] + 0.0001, "lat": NEAR[1], "text": "门前摆摊卖菜"})
    found = answer.get_json()["candidates"]
    assert {item["number"] for item in found} == {load(platform, first).number, load(platform, second).number}
    assert all(item["distance_m"] < 50 and item["url"].startswith("/work/cases/") for item in found)
    far = worker.get("/work/duplicates/check", query_string={"theme": THEME, "lon": INSIDE[0] + 0.01,
                                                             "lat": INSIDE[1], "text": "门前摆摊卖菜"})
    assert far.get_json()["candidates"] == []
    # a citizen sees only their own earlier reports
    citizen = as_user("citizen")
    assert 'id="duplicate-check"' in citizen.get(f"/citizen/report/{THEME}").get_data(as_text=True)
    mine = citizen.get("/work/duplicates/check", query_string={
        "theme": THEME, "category": "1001", "lon": NEAR[0], "lat": NEAR[1], "text": "摆摊"}).get_json()["candidates"]
    assert [item["number"] for item in mine] == [load(platform, second).number]
    assert mine[0]["url"] == f"/citizen/cases/{second}"


def test_the_citizen_follows_the_master_on_their_own_case(platform, world, pair, as_user):
    first, second = pair
    as_user("station").post(f"/work/cases/{first}/duplicates/merge",
                            data={"other_id": second, "into": "this", "reason": "同一摊点"})
    as_user("station").post(f"/work/cases/{first}/steps/accept", data={})
    page = as_user("citizen").get(f"/citizen/cases/{second}").get_data(as_text=True)
    assert f"已与事件 {load(platform, first).number} 合并办理" in page
    assert load(platform, second).status == "registered"


def _key(platform, username):
    with platform.db.session() as session:
        return apikeys.create(session, system_actor("test"), username, "duplicates test")[1]


def test_the_api(platform, world, pair, client):
    first, second = pair

    def call(method, path, username, **options):
        return client.open(path, method=method, headers={"Authorization": f"Bearer {_key(platform, username)}"},
                           **options)

    answer = call("GET", f"/api/v1/cases/{second}/duplicates", "station")
    assert answer.status_code == 200
    body = answer.get_json()
    assert [item["case_id"] for item in body["candidates"]] == [first]
    assert body["candidates"][0]["same_subcategory"] is True and body["settings"]["distance_m"] == 200
    assert call("GET", f"/api/v1/cases/{second}/duplicates", "jiuquan").status_code == 404

    assert call("POST", f"/api/v1/cases/{second}/merge", "worker",
                json={"master_id": first, "reason": "同一摊点"}).status_code == 403
    refused = call("POST", f"/api/v1/cases/{second}/merge", "station", json={"master_id": second, "reason": "同一摊点"})
    assert refused.status_code == 409 and "它自己" in refused.get_json()["error"]["message"]
    assert call("POST", f"/api/v1/cases/{second}/merge", "station", json={"reason": "同一摊点"}).status_code == 422
    merged = call("POST", f"/api/v1/cases/{second}/merge", "station", json={"master_id": first, "reason": "同一摊点"})
    assert merged.status_code == 200 and merged.get_json()["merged_into"]["id"] == first
    master = call("GET", f"/api/v1/cases/{first}", "station").get_json()
    assert [item["id"] for item in master["merged"]] == [second]
    assert master["timeline"][-1]["action"] == "merge_in"

    undone = call("POST", f"/api/v1/cases/{second}/unmerge", "station", json={"reason": "是两个摊点"})
    assert undone.status_code == 200 and undone.get_json()["merged_into"] is None
    assert undone.get_json()["status"] == "reported"
    again = call("POST", f"/api/v1/cases/{second}/unmerge", "station", json={"reason": "是两个摊点"})
    assert again.status_code == 409
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/cases/{case_id}/duplicates", "/cases/{case_id}/merge", "/cases/{case_id}/unmerge"} <= set(paths)


def test_the_dashboard_shows_the_duplicates(platform, world, pair, as_user):
    first, second = pair
    as_user("station").post(f"/work/cases/{first}/duplicates/merge",
                            data={"other_id": second, "into": "this", "reason": "同一摊点"})
    page = as_user("centre").get("/manage/").get_data(as_text=True)
    assert "重复件数" in page and 'id="fig-duplicates">1<' in page and "重复件占比" in page and "50.0%" in page
