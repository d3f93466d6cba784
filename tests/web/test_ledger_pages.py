"""台账 pages (/ledgers): list, add, edit, retire and history of a theme's records through the test client, on the
trust world's two sides — scope (another department's ledger is refused), masking by role, a stale version, bad
input named by field, photos, and the city's optional tile URL (its origin allowed for images, only when set)."""
from __future__ import annotations

import contextlib
import io
import json
import re

import pytest
from PIL import Image
from sqlalchemy import event, func, select

from minqing.core.models import Attachment, ThemeRecord, ThemeVersion
from minqing.core.models.themes import ThemeRecordChange
from minqing.web import create_app

from tests.fixtures import trust_world as tw

BASE = f"/ledgers/{tw.THEME_A}"
FORM = {"location-lon": "103.82", "location-lat": "36.05", "details-name": "永昌路便民市场",
        "details-point_type": "便民市场", "details-stalls": "12", "details-manager_phone": "13912345678"}


@pytest.fixture
def world(platform):
    return tw.build(platform, with_drafts=False)


@pytest.fixture
def app(platform, world):
    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False},
                      platform=platform)


def _client(app, username: str):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": tw.PASSWORD})
    assert response.status_code == 302 and "/login" not in response.headers["Location"]
    return client


def _create(client, **changes) -> int:
    response = client.post(f"{BASE}/new", data={**FORM, **changes})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return int(re.search(r"/(\d+)$", response.headers["Location"]).group(1))


def _records(platform, name: str) -> list[ThemeRecord]:
    with platform.db.session() as session:
        return session.scalars(select(ThemeRecord).where(ThemeRecord.form_data["name"].as_string() == name)).all()


def test_staff_find_their_ledgers_in_the_menu_and_only_their_departments(app):
    staff = _client(app, "staff")
    home = staff.get("/ledgers").get_data(as_text=True)
    assert '<a href="/ledgers">台账</a>' in staff.get("/work/inbox").get_data(as_text=True)
    assert tw.THEME_A in home and "water_affairs." not in home
    assert staff.get(f"/ledgers/{tw.THEME_B}").status_code == 403            # 水务's ledger: not 城管's staff
    assert staff.get(f"/ledgers/{tw.THEME_B}/new").status_code == 403
    assert _client(app, "leader").get(f"{BASE}/new").status_code == 403      # leaders read, never write
    assert '<a href="/ledgers">台账</a>' not in _client(app, "leader").get("/ledgers").get_data(as_text=True)
    assert _client(app, "citizen").get("/ledgers").status_code == 403
    assert app.test_client().get("/ledgers").status_code == 302
    geoman = staff.get("/static/vendor/geoman/leaflet-geoman.min.js")    # vendored with its licence, no CDN
    assert geoman.status_code == 200 and b"L.PM" in geoman.data
    assert "MIT License" in staff.get("/static/vendor/geoman/LICENSE").get_data(as_text=True)


def test_add_list_edit_and_history_with_masking(app, platform, world):
    staff = _client(app, "staff")
    page = staff.get(f"{BASE}/new").get_data(as_text=True)
    assert 'data-geometry-kind="point"' in page and "leaflet-geoman.min.js" in page and 'name="geometry"' in page
    record_id = _create(staff)
    [record] = _records(platform, "永昌路便民市场")
    assert (record.lon, record.lat, record.version, record.department_key) == (103.82, 36.05, 1, "urban_management")
    assert record.form_data["manager_phone"] == "13912345678"
    listing = staff.get(BASE).get_data(as_text=True)
    assert "永昌路便民市场" in listing and "13912345678" not in listing
    # the edit form shows the phone masked; sending it back unchanged keeps the stored number
    shown = staff.get(f"{BASE}/{record_id}").get_data(as_text=True)
    assert "139****5678" in shown and "13912345678" not in shown and "version=1" in shown
    edited = staff.post(f"{BASE}/{record_id}?version=1",
                        data={**FORM, "details-stalls": "20", "details-manager_phone": "139****5678"})
    assert edited.status_code == 302
    [record] = _records(platform, "永昌路便民市场")
    assert record.version == 2 and record.form_data["stalls"] == 20
    assert record.form_data["manager_phone"] == "13912345678"
    history = staff.get(f"{BASE}/{record_id}/history").get_data(as_text=True)
    assert "摊位数" in history and "12" in history and "20" in history and "新增" in history and "修改" in history
    assert "13912345678" not in history and "139****5678" in history
    # a grid worker of the record's grid may see the phone (their role needs it); the ID canary never shows
    worker = _client(app, "worker").get(f"{BASE}/{record_id}/history").get_data(as_text=True)
    assert "13912345678" in worker
    planted = _client(app, "staff").get(f"{BASE}/{world.a['record']}").get_data(as_text=True)
    assert tw.CANARY_ID not in planted


def test_stale_edit_is_refused_with_a_reload_link_and_changes_nothing(app, platform):
    staff = _client(app, "staff")
    record_id = _create(staff)
    assert staff.post(f"{BASE}/{record_id}?version=1", data={**FORM, "details-stalls": "30"}).status_code == 302
    stale = staff.post(f"{BASE}/{record_id}?version=1", data={**FORM, "details-stalls": "40"})
    text = stale.get_data(as_text=True)
    assert stale.status_code == 409 and "该记录已被他人修改" in text
    assert f'href="/ledgers/{tw.THEME_A}/{record_id}"' in text
    [record] = _records(platform, "永昌路便民市场")
    assert record.version == 2 and record.form_data["stalls"] == 30
    retire = staff.post(f"{BASE}/{record_id}/retire", data={"version": "1"}, follow_redirects=True)
    assert "该记录已被他人修改" in retire.get_data(as_text=True)
    assert _records(platform, "永昌路便民市场")[0].retired_at is None


def test_bad_input_is_named_by_field_in_chinese_and_stores_nothing(app, platform):
    staff = _client(app, "staff")
    bad = staff.post(f"{BASE}/new", data={**FORM, "details-stalls": "-3", "details-name": ""})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "mq-invalid" in text and "疏导点名称" in text
    worker = _client(app, "worker")   # a grid worker keeps records of their own grid only: side B's point is refused
    outside = worker.post(f"{BASE}/new", data={**FORM, "location-lon": "103.72", "location-lat": "36.05"})
    assert outside.status_code == 400 and "管辖范围" in outside.get_data(as_text=True)
    assert _records(platform, "永昌路便民市场") == []
    with platform.db.session() as session:
        assert session.scalar(select(func.count()).select_from(ThemeRecordChange)) == 0


def test_retire_hides_the_record_until_asked_and_search_by_field(app, platform):
    staff = _client(app, "staff")
    first = _create(staff)
    _create(staff, **{"details-name": "雁滩夜市", "details-point_type": "夜市"})
    found = staff.get(BASE, query_string={"field": "name", "q": "夜市"}).get_data(as_text=True)
    assert "雁滩夜市" in found and "永昌路便民市场" not in found
    probe = staff.get(BASE, query_string={"field": "name", "q": "1391"})
    assert probe.status_code == 400 and "连续数字" in probe.get_data(as_text=True)
    assert staff.post(f"{BASE}/{first}/retire", data={"version": "1", "reason": "已拆除"}).status_code == 302
    assert "永昌路便民市场" not in staff.get(BASE).get_data(as_text=True)
    assert "永昌路便民市场" in staff.get(BASE, query_string={"retired": "1"}).get_data(as_text=True)
    history = staff.get(f"{BASE}/{first}/history").get_data(as_text=True)
    assert "退出台账" in history and "已拆除" in history
    assert staff.post(f"{BASE}/{first}?version=2", data=FORM).status_code == 409


def test_another_departments_record_cannot_be_seen_or_changed(app, platform, world):
    staff_b = _client(app, "staff_b")
    record_a = world.a["record"]
    assert staff_b.get(f"{BASE}/{record_a}").status_code == 403
    assert staff_b.post(f"{BASE}/{record_a}/retire", data={"version": "1"}).status_code == 403
    own = f"/ledgers/{tw.THEME_B}"
    assert staff_b.get(f"{own}/{world.a['record']}").status_code == 404            # not a record of theirs
    worker = _client(app, "worker")
    assert worker.get(f"/ledgers/{tw.THEME_B}/{world.b['record']}").status_code == 404
    with platform.db.session() as session:
        assert session.get(ThemeRecord, record_a).retired_at is None


def test_a_line_is_drawn_as_geojson_and_must_be_drawn(app, platform, world):
    admin_b = _client(app, "staff_b")
    path = f"/ledgers/{tw.THEME_B}/new"
    data = {"details-river_name": "黄河", "details-section_name": "西园段", "details-chief_name": "王河长",
            "details-chief_level": "村级"}
    missing = admin_b.post(path, data=data)
    assert missing.status_code == 400 and "请在地图上画出线" in missing.get_data(as_text=True)
    line = {"type": "LineString", "coordinates": [[103.71, 36.02], [103.73, 36.06]]}
    made = admin_b.post(path, data={**data, "geometry": json.dumps(line)})
    assert made.status_code == 302
    with platform.db.session() as session:
        record = session.scalar(select(ThemeRecord).where(ThemeRecord.form_data["river_name"].as_string() == "黄河"))
        assert record.geometry["type"] == "LineString" and record.department_key == "water_affairs"
    broken = admin_b.post(path, data={**data, "geometry": "{not json"})
    assert broken.status_code == 400 and "绘制的图形格式有误" in broken.get_data(as_text=True)


def test_an_edit_keeps_the_line_unless_the_user_removed_it(app, platform, world):
    admin_b = _client(app, "staff_b")
    data = {"details-river_name": "洮河", "details-section_name": "东段", "details-chief_name": "李河长",
            "details-chief_level": "村级"}
    line = {"type": "LineString", "coordinates": [[103.71, 36.02], [103.73, 36.06]]}
    made = admin_b.post(f"/ledgers/{tw.THEME_B}/new", data={**data, "geometry": json.dumps(line)})
    record_path = made.headers["Location"]

    def stored():
        with platform.db.session() as session:
            return session.get(ThemeRecord, int(record_path.rsplit("/", 1)[1]))

    # No drawing posted (a browser without JS): the line stays.
    kept = admin_b.post(f"{record_path}?version=1", data={**data, "details-section_name": "东二段", "geometry": ""})
    assert kept.status_code == 302 and stored().geometry["coordinates"] == line["coordinates"]
    # The drawing script says the line was removed and none drawn: refused, in Chinese, and nothing changes.
    removed = admin_b.post(f"{record_path}?version=2", data={**data, "geometry": "", "geometry_removed": "1"})
    text = removed.get_data(as_text=True)
    assert removed.status_code == 400 and "原有的线已删除" in text
    assert 'name="geometry_removed" form="ledger-form" value="1"' in text      # the page keeps saying so
    record = stored()
    assert record.version == 2 and record.geometry["coordinates"] == line["coordinates"]


def _jpeg() -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (16, 16), (30, 120, 30)).save(output, format="JPEG")
    return output.getvalue()


def test_photos_are_kept_and_shown_to_whoever_sees_the_record(app, platform):
    admin = _client(app, "admin")
    base = "/ledgers/housing_construction.self_built_housing"   # its record form has its own geo-point
    form = {"details-location-lon": "103.82", "details-location-lat": "36.05", "details-address": "永昌路12号", "details-owner_name": "张三",
            "details-floors": "3", "details-structure": "砖混", "details-appraisal": "未鉴定",
            "details-commercial": "false", "details-has_cracks": "false"}
    page = admin.get(f"{base}/new").get_data(as_text=True)
    assert 'name="details-photos"' in page and "image/*" in page          # the form's photo field, required

    made = admin.post(f"{base}/new", data={**form, "details-photos": (io.BytesIO(_jpeg()), "house.jpg")},
                      content_type="multipart/form-data")
    assert made.status_code == 302, re.findall(r"mq-error\">([^<]*)|flash error\"[^>]*>([^<]*)", made.get_data(as_text=True))
    record_id = int(made.headers["Location"].rsplit("/", 1)[1])
    with platform.db.session() as session:
        [photo] = session.scalars(select(Attachment).where(Attachment.filename == "house.jpg")).all()
    shown = admin.get(f"{base}/{record_id}").get_data(as_text=True)
    url = f"{base}/{record_id}/files/{photo.id}"
    assert url in shown
    assert _client(app, "operator").get(url).status_code == 200        # another account that sees the record
    assert _client(app, "operator").get(f"{base}/{record_id}/files/{'0' * 32}").status_code == 404


def test_the_tile_url_is_an_admin_setting_and_opens_the_csp_for_its_origin_only(app):
    admin, staff = _client(app, "admin"), _client(app, "staff")
    plain = staff.get(f"{BASE}/new")
    assert "img-src 'self' data: blob:;" in plain.headers["Content-Security-Policy"]
    bad = admin.post("/setup/map-tiles", data={"tile_url": "ftp://tiles.example.cn/{z}/{x}.png"})
    assert bad.status_code == 400 and "瓦片地址" in bad.get_data(as_text=True)
    assert staff.post("/setup/map-tiles", data={"tile_url": "https://evil.example/{z}/{x}/{y}.png"}).status_code == 403
    saved = admin.post("/setup/map-tiles", data={"tile_url": "https://tiles.lanzhou.example/{z}/{x}/{y}.png"})
    assert saved.status_code == 302
    page = staff.get(f"{BASE}/new")
    assert "img-src 'self' data: blob: https://tiles.lanzhou.example;" in page.headers["Content-Security-Policy"]
    assert 'data-tiles="https://tiles.lanzhou.example/{z}/{x}/{y}.png"' in page.get_data(as_text=True)
    assert "tiles.lanzhou.example" not in staff.get("/map/").headers.get("Content-Security-Policy", "")
    assert admin.post("/setup/map-tiles", data={"tile_url": ""}).status_code == 302
    assert "tiles.lanzhou.example" not in staff.get(f"{BASE}/new").headers["Content-Security-Policy"]


# -- review fixes: search, masked history, one query each, the file answer ----------------------------------------

@contextlib.contextmanager
def _statements(platform):
    """The SQL statements run inside the block."""
    seen: list[str] = []

    def count(_connection, _cursor, statement, _parameters, _context, _executemany):
        seen.append(statement)

    event.listen(platform.db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(platform.db.engine, "before_cursor_execute", count)


def test_a_search_with_a_digit_is_refused_unless_the_viewer_sees_phones_and_house_numbers(app):
    staff = _client(app, "staff")
    _create(staff, **{"details-name": "永昌路12号市场"})
    # staff see addresses but not phones, leaders neither: which records match "12号" would tell the masked digits
    for who in ("staff", "leader"):
        probe = _client(app, who).get(BASE, query_string={"field": "name", "q": "12号"})
        assert probe.status_code == 400 and "不能含数字" in probe.get_data(as_text=True), who
    # grid workers and operators see both: a short number is theirs to search; a long one is refused to everyone
    for who in ("worker", "operator"):
        found = _client(app, who).get(BASE, query_string={"field": "name", "q": "12号"})
        assert found.status_code == 200 and "永昌路12号市场" in found.get_data(as_text=True), who
    assert _client(app, "worker").get(BASE, query_string={"field": "name", "q": "1391"}).status_code == 400
    assert staff.get(BASE, query_string={"field": "name", "q": "市场"}).status_code == 200


def test_the_reason_of_a_retirement_is_masked_in_the_history_page_and_api(app, world):
    staff = _client(app, "staff")
    record_id = _create(staff)
    reason = "已拆除，联系人 13912345678"
    assert staff.post(f"{BASE}/{record_id}/retire", data={"version": "1", "reason": reason}).status_code == 302
    leader = _client(app, "leader").get(f"{BASE}/{record_id}/history").get_data(as_text=True)
    assert "13912345678" not in leader and "已拆除，联系人 139****5678" in leader
    assert "13912345678" in _client(app, "worker").get(f"{BASE}/{record_id}/history").get_data(as_text=True)
    api = app.test_client().get(f"/api/v1/themes/{tw.THEME_A}/records/{record_id}/history",
                                headers={"Authorization": f"Bearer {world.keys['leader']}"})
    retired = api.get_json()["items"][-1]["changes"]
    assert retired["reason"]["new"] == "已拆除，联系人 139****5678" and retired["retired_at"]["new"]


def test_history_reads_the_versions_it_needs_in_one_query_and_an_edit_reads_the_stored_form_once(app, platform):
    staff = _client(app, "staff")
    record_id = _create(staff)
    assert staff.post(f"{BASE}/{record_id}?version=1", data={**FORM, "details-stalls": "20"}).status_code == 302
    with platform.db.session() as session:   # the theme republished twice, the record filled in under the third
        first = session.scalar(select(ThemeVersion).where(ThemeVersion.theme_key == tw.THEME_A,
                                                          ThemeVersion.version == 1))
        for number in (2, 3):
            document = json.loads(json.dumps(first.document))
            if number == 3:
                document["forms"]["record"]["properties"]["stalls"]["title"] = "摊位数（第三版）"
            session.add(ThemeVersion(theme_key=tw.THEME_A, version=number, document=document,
                                     content_hash=f"{number}" * 64, department_key=first.department_key,
                                     plugin_name=first.plugin_name))
        record = session.get(ThemeRecord, record_id)
        record.theme_version = 3
        session.commit()
        version = record.version
    with _statements(platform) as statements:
        history = staff.get(f"{BASE}/{record_id}/history").get_data(as_text=True)
    assert "摊位数（第三版）" in history
    assert len([text for text in statements if "theme_versions" in text]) == 1   # the three versions at once
    with _statements(platform) as statements:
        edited = staff.post(f"{BASE}/{record_id}?version={version}", data={**FORM, "details-stalls": "30",
                                                                   "details-manager_phone": "139****5678"})
    assert edited.status_code == 302
    versions = [text for text in statements if "theme_versions" in text]
    assert len(versions) <= 3, versions   # the page's form, the record's own form once, the service's check
    [record] = _records(platform, "永昌路便民市场")
    assert record.form_data["stalls"] == 30 and record.form_data["manager_phone"] == "13912345678"


def test_a_photo_is_answered_as_the_work_end_answers_a_file_and_checked_without_reading_the_history(app, platform,
                                                                                                      world):
    admin = _client(app, "admin")
    base = "/ledgers/housing_construction.self_built_housing"
    form = {"details-location-lon": "103.82", "details-location-lat": "36.05", "details-address": "永昌路12号",
            "details-owner_name": "张三", "details-floors": "3", "details-structure": "砖混",
            "details-appraisal": "未鉴定", "details-commercial": "false", "details-has_cracks": "false"}
    made = admin.post(f"{base}/new", data={**form, "details-photos": (io.BytesIO(_jpeg()), "house.jpg")},
                      content_type="multipart/form-data")
    record_id = int(made.headers["Location"].rsplit("/", 1)[1])
    with platform.db.session() as session:
        [photo] = session.scalars(select(Attachment).where(Attachment.filename == "house.jpg")).all()
    # kept by sending its id back: the record's stored form names it (read once, unmasked)
    kept = admin.post(f"{base}/{record_id}?version=1", data={**form, "details-floors": "4",
                                                            "details-photos": photo.id})
    assert kept.status_code == 302, kept.get_data(as_text=True)[:2000]
    with platform.db.session() as session:
        assert session.get(ThemeRecord, record_id).form_data["photos"] == [photo.id]
    history = admin.get(f"{base}/{record_id}/history").get_data(as_text=True)
    url = f"{base}/{record_id}/files/{photo.id}"
    assert url in history and "照片 1 张" in history
    with _statements(platform) as statements:
        answer = _client(app, "operator").get(url)
    assert answer.status_code == 200 and answer.data[:2] == b"\xff\xd8"
    assert answer.headers["Content-Disposition"] == "inline; filename*=UTF-8''house.jpg"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Cache-Control"] == "private, no-store"
    changes = [text for text in statements if "theme_record_changes" in text]
    assert len(changes) <= 1 and not any("theme_record_changes.actor_name" in text for text in changes), changes
    # an upload not yet saved with the record (one through the API, for the form): its uploader's only
    uploaded = app.test_client().post("/api/v1/attachments", data={"file": (io.BytesIO(_jpeg()), "new.jpg")},
                                      headers={"Authorization": f"Bearer {world.keys['admin']}"},
                                      content_type="multipart/form-data")
    assert uploaded.status_code == 201, uploaded.get_json()
    pending_url = f"{base}/{record_id}/files/{uploaded.get_json()['id']}"
    own = admin.get(pending_url)
    assert own.status_code == 200 and own.headers["Cache-Control"] == "private, no-store"
    assert _client(app, "operator").get(pending_url).status_code == 404
