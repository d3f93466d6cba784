"""小兰网格 offline: the sync endpoints a phone's outbox sends to (web/work/offline.py), the app's manifest and
service worker, what a phone keeps, and the waiting count the command post sees. The browser side is
tests/web/e2e/test_offline_outbox.py."""
from __future__ import annotations

import io
import json
import re

from PIL import Image
from sqlalchemy import func, select

from minqing import themes
from minqing.web import create_app
from minqing.core.actors import system_actor
from minqing.core.models import Account, Attachment, AuditRecord, Case, PhoneOutbox, Visit

from tests.fixtures import households as household_fixtures
from tests.fixtures.citizen import THEME, report_form
from tests.fixtures.ledgers import RIVER, VISIT, RiverPlugin, east_of
from tests.fixtures.web import INSIDE, PASSWORD

JSON = {"Accept": "application/json"}


def _work_report(**overrides) -> dict:
    fields = report_form(**overrides)
    del fields["kind"]                # the citizens' field; staff give the urgency
    fields["urgency"] = "normal"
    return fields


def _sync(client, kind: str, target, client_id: str | None, data: dict, form_version=None):
    query = f"?client_id={client_id}" if client_id else "?"
    if form_version is not None:
        query += f"&form_version={form_version}"
    return client.post(f"/work/sync/{kind}/{target}{query}", data=data, headers=JSON,
                       content_type="multipart/form-data")


def _count(platform, model, *where) -> int:
    with platform.db.session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_report_sent_twice_makes_one_case_with_its_photo_once(platform, world, as_user):
    worker = as_user("worker")
    first = _sync(worker, "report", THEME, "offline-report-0001", _work_report())
    assert first.status_code == 200, first.get_data(as_text=True)
    answer = first.get_json()
    assert answer["ok"] is True and answer["message"].startswith("已上报，事件编号") and "/work/cases/" in answer["url"]
    again = _sync(worker, "report", THEME, "offline-report-0001", _work_report())   # the answer was lost: re-sent
    assert again.status_code == 200 and again.get_json() == answer
    assert _count(platform, Case) == 1 and _count(platform, Attachment) == 1      # the photo not stored twice
    with platform.db.session() as session:
        case = session.scalar(select(Case))
        assert case.client_id == "offline-report-0001" and case.form_data["description"] == "摊贩占用盲道，我的电话13912345678"
    # another account re-using the id is refused, not answered with the worker's case
    other = _sync(as_user("other_worker"), "report", THEME, "offline-report-0001", _work_report())
    assert other.status_code == 422 and "编号已被使用" in other.get_json()["message"]


def test_a_refusal_comes_back_with_its_chinese_message_and_stores_nothing(platform, world, as_user):
    worker = as_user("worker")
    outside = _sync(worker, "report", THEME, "offline-report-0002",
                    _work_report(**{"details-location-lon": "110.5", "details-location-lat": "20.1"}))
    body = outside.get_json()
    assert outside.status_code == 422 and body["ok"] is False
    assert "不在本平台任何网格内" in body["message"] and "details.location" in body["errors"]
    missing = _sync(worker, "report", THEME, "offline-report-0003", _work_report(title=""))
    assert missing.status_code == 422 and "title" in missing.get_json()["errors"]
    unknown = _sync(worker, "report", THEME, "offline-report-0004", _work_report(**{"details-surprise": "1"}))
    assert unknown.status_code == 422 and "表单中没有这些项" in unknown.get_json()["message"]
    no_id = _sync(worker, "report", THEME, None, _work_report())
    assert no_id.status_code == 422 and "提交编号" in no_id.get_json()["message"]
    assert _count(platform, Case) == 0 and _count(platform, Attachment) == 0


def test_signed_out_and_other_roles_get_json_not_a_page(platform, world, app, as_user):
    anonymous = app.test_client()
    answer = _sync(anonymous, "report", THEME, "offline-report-0005", _work_report())
    assert answer.status_code == 401 and answer.get_json()["signin"] is True
    assert "仍保存在手机上" in answer.get_json()["message"]
    assert anonymous.get("/work/offline/session", headers=JSON).status_code == 401
    leader = _sync(as_user("leader"), "report", THEME, "offline-report-0006", _work_report())
    assert leader.status_code == 403 and leader.get_json()["ok"] is False
    assert _count(platform, Case) == 0


def test_a_patrol_is_recorded_once_and_only_in_scope(platform, river, as_user):
    record_id = river()
    fields = {"location-lon": east_of(20), "location-lat": str(INSIDE[1]), "details-summary": "河面清洁，无排污"}
    worker = as_user("worker")
    for _ in range(2):
        sent = _sync(worker, "patrol", record_id, "offline-patrol-0001", fields)
        assert sent.status_code == 200 and sent.get_json()["message"] == "巡查已记录"
    assert _count(platform, Visit) == 1
    assert _count(platform, AuditRecord, AuditRecord.action == "theme_record.patrol") == 1
    outside = _sync(as_user("other_worker"), "patrol", record_id, "offline-patrol-0002", fields)
    assert outside.status_code == 404 and "不在您的网格范围内" in outside.get_json()["message"]   # as its page
    empty = _sync(worker, "patrol", record_id, "offline-patrol-0003", {**fields, "details-summary": ""})
    assert empty.status_code == 422 and "details.summary" in empty.get_json()["errors"]
    assert _count(platform, Visit) == 1


def test_a_patrol_is_checked_against_the_form_version_it_was_filled_under(platform, river, as_user):
    record_id = river()
    with platform.db.session() as session:
        first = themes.theme_version(session, RIVER).version
    # the department adds a required field: version 2
    platform.plugins.unregister("river_plugin")
    level = {"type": "string", "title": "水位", "minLength": 1}
    platform.plugins.register(RiverPlugin(forms={
        "record": {"type": "object", "properties": {"name": {"type": "string", "title": "河段名称"}},
                   "required": ["name"]},
        "report": {"type": "object", "properties": {}},
        "visit": {**VISIT, "properties": {**VISIT["properties"], "level": level}, "required": ["summary", "level"]}}),
        "river_plugin")
    with platform.db.session() as session:
        assert [item.version for item in themes.sync_themes(platform, session, system_actor("test"))] == [first + 1]
    worker = as_user("worker")
    page = worker.get(f"/work/patrols/{record_id}").get_data(as_text=True)
    assert f'data-form-version="{first + 1}"' in page           # what the phone keeps names the new version
    filled_before = {"location-lon": east_of(20), "location-lat": str(INSIDE[1]), "details-summary": "河面清洁"}
    under_new = _sync(worker, "patrol", record_id, "offline-patrol-0004", filled_before, form_version=first + 1)
    assert under_new.status_code == 422 and "水位" in under_new.get_json()["message"]
    under_old = _sync(worker, "patrol", record_id, "offline-patrol-0005", filled_before, form_version=first)
    assert under_old.status_code == 200, under_old.get_data(as_text=True)
    never = _sync(worker, "patrol", record_id, "offline-patrol-0006", filled_before, form_version=99)
    assert never.status_code == 422 and "没有第 99 版" in never.get_json()["message"]
    assert _count(platform, Visit) == 1


def test_a_report_under_an_older_form_version_keeps_that_version(platform, world, as_user):
    worker = as_user("worker")
    with platform.db.session() as session:
        version = themes.theme_version(session, THEME).version
    page = worker.get(f"/work/report/{THEME}").get_data(as_text=True)
    assert f'data-form-version="{version}"' in page and "data-offline-form" in page
    assert _sync(worker, "report", THEME, "offline-report-0007", _work_report(), form_version=version).status_code == 200
    with platform.db.session() as session:
        assert session.scalar(select(Case.theme_version)) == version


def test_a_household_visit_is_recorded_once_and_only_in_scope(platform, world, password_hash, as_user):
    made = household_fixtures.build(platform, world, password_hash)
    worker = as_user("worker")
    fields = {"met": "户主本人", "needs": "屋顶漏雨", "promised": "no"}
    for _ in range(2):
        sent = _sync(worker, "visit", made.ids["YC-1"], "offline-visit-0001", fields)
        assert sent.status_code == 200 and sent.get_json()["message"] == "走访已记录"
    assert _count(platform, Visit) == 1
    elsewhere = _sync(worker, "visit", made.ids["JQ-1"], "offline-visit-0002", fields)
    assert elsewhere.status_code == 404 and "不在您的走访范围内" in elsewhere.get_json()["message"]
    nobody = _sync(worker, "visit", made.ids["YC-2"], "offline-visit-0003", {**fields, "met": ""})
    assert nobody.status_code == 422 and "见到的人" in nobody.get_json()["message"]
    assert _count(platform, Visit) == 1


def _panel(page: str) -> str:
    """The rows of the dashboard's 网格员手机待发送 table."""
    table = page[page.index('id="phone-outboxes"'):]
    return re.sub(r"\s+", "", table[:table.index("</table>")])


def test_the_waiting_count_reaches_the_command_post_of_the_region(platform, world, as_user):
    worker = as_user("worker")
    assert worker.post("/work/sync/status", data={"pending": "3"}, headers=JSON).get_json() == {"ok": True,
                                                                                               "pending": 3}
    refused = worker.post("/work/sync/status", data={"pending": "三"}, headers=JSON)
    assert refused.status_code == 422 and "待发送数量" in refused.get_json()["message"]
    with platform.db.session() as session:
        row = session.get(PhoneOutbox, session.scalar(select(Account.id).where(Account.username == "worker")))
        assert row.pending == 3 and row.synced_at is not None
    station = as_user("station").get("/manage/").get_data(as_text=True)
    assert "网格员手机待发送" in station
    rows = _panel(station)
    assert "<td>永昌路第1网格</td><td>3</td>" in rows and "酒泉路大网格" not in rows     # the region's workers only
    centre = _panel(as_user("centre").get("/manage/").get_data(as_text=True))
    assert "<td>酒泉路大网格</td><td>—</td><td>从未同步</td>" in centre                # never synced: said so
    assert "永昌路第1网格" not in _panel(as_user("jiuquan").get("/manage/").get_data(as_text=True))


def test_the_app_manifest_service_worker_and_policy(app, world, as_user):
    anonymous = app.test_client()
    manifest = anonymous.get("/work/manifest.webmanifest")
    body = json.loads(manifest.get_data(as_text=True))
    assert manifest.status_code == 200 and manifest.mimetype == "application/manifest+json"
    assert (body["name"], body["display"], body["start_url"]) == ("小兰网格", "standalone", "/work/my-grid")
    for icon in body["icons"]:
        image = anonymous.get(icon["src"])
        assert image.status_code == 200 and image.mimetype == "image/png"
        assert Image.open(io.BytesIO(image.data)).size == tuple(int(n) for n in icon["sizes"].split("x"))
    worker_script = anonymous.get("/work/sw.js")
    assert worker_script.status_code == 200 and worker_script.mimetype == "text/javascript"
    assert "no-cache" in worker_script.headers["Cache-Control"]
    policy = worker_script.headers["Content-Security-Policy"]
    assert "worker-src 'self'" in policy and "manifest-src 'self'" in policy and "unsafe" not in policy
    page = as_user("worker").get("/work/my-grid").get_data(as_text=True)
    assert 'rel="manifest"' in page and 'id="outbox"' in page and "js/offline.js" in page
    assert "<script>" not in page                                               # no inline script
    assert 'rel="manifest"' not in as_user("station").get("/work/inbox").get_data(as_text=True)


def test_without_https_the_pages_say_offline_use_needs_it(platform, world, as_user):
    assert 'id="offline-https"' not in as_user("worker").get("/work/my-grid").get_data(as_text=True)   # 127.0.0.1
    # plain HTTP on a name other than this machine (cookies allowed without TLS, as in plain-HTTP development)
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "INSECURE_COOKIES": True}, platform=platform)
    for base, warned in (("http://grid.example.org", True), ("https://grid.example.org", False)):
        client = app.test_client()
        assert client.post("/login", data={"username": "worker", "password": PASSWORD},
                           base_url=base).status_code == 302
        page = client.get("/work/my-grid", base_url=base).get_data(as_text=True)
        assert ('id="offline-https"' in page and "离线使用需要 HTTPS" in page) is warned, base
        proxied = client.get("/work/my-grid", base_url=base, headers={"X-Forwarded-Proto": "https"})
        assert "我的网格" in proxied.get_data(as_text=True)
        assert 'id="offline-https"' not in proxied.get_data(as_text=True)    # TLS ends at the city's proxy


def test_a_phone_keeps_only_the_workers_own_pages(platform, river, password_hash, world, as_user):
    record_id = river()
    made = household_fixtures.build(platform, world, password_hash)
    pages = as_user("worker").get("/work/offline/pages", headers=JSON).get_json()["pages"]
    assert f"/work/report/{THEME}" in pages and f"/work/patrols/{record_id}" in pages
    assert f"/work/households/{made.ids['YC-1']}/visit" in pages and "/map/my-grids.geojson" in pages
    assert f"/work/households/{made.ids['JQ-1']}/visit" not in pages
    other = as_user("other_worker").get("/work/offline/pages", headers=JSON).get_json()["pages"]
    assert f"/work/patrols/{record_id}" not in other and f"/work/households/{made.ids['JQ-1']}/visit" in other
    session = as_user("worker").get("/work/offline/session", headers=JSON).get_json()
    assert session["ok"] is True and re.fullmatch(r"[\w.-]+", session["csrf_token"])


def test_pages_kept_for_offline_use_leave_the_next_pages_message_alone(platform, river, as_user):
    record_id = river()
    worker = as_user("worker")
    answer = worker.post(f"/work/patrols/{record_id}?client_id=page-patrol-0001",
                         data={"location-lon": east_of(20), "location-lat": str(INSIDE[1]), "details-summary": "正常"})
    assert answer.status_code == 302
    kept = worker.get("/work/patrols", headers={"X-Offline-Keep": "1"})     # the service worker, meanwhile
    assert "巡查已记录" not in kept.get_data(as_text=True) and "Set-Cookie" not in kept.headers
    assert "巡查已记录" in worker.get("/work/patrols").get_data(as_text=True)   # the page the worker opens
