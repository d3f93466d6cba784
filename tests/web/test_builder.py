"""主题搭建 through its pages, as department staff and administrators use it — and refused to everyone else.

The editor's JSON endpoints are posted to exactly as builder.js posts them; every answer is checked for what a
person sees: the problems with the JSON pointer of the field they belong to, the page, the published theme.
"""
import io
import json
import zipfile

from sqlalchemy import func, select

from minqing import themes
from minqing.core.models import AuditRecord, Case, ThemeDraft, ThemeRecord

from tests.fixtures.builder import KEY, draft_of, new_theme, save, with_fields


def test_who_may_build_and_how_a_theme_is_started(as_user, client, world, platform):
    chengguan = as_user("chengguan")
    assert "主题搭建" in as_user("chengguan").get("/builder/").get_data(as_text=True)
    assert "/builder/" in as_user("chengguan").get("/work/").get_data(as_text=True)
    assert as_user("admin").get("/builder/").status_code == 200
    for username in ("worker", "leader", "station", "citizen", "auditor"):
        signed_in = as_user(username)
        assert signed_in.get("/builder/").status_code == 403, username
        assert signed_in.get("/builder/new").status_code == 403, username
        assert "/builder/" not in signed_in.get("/").get_data(as_text=True)
    anonymous = client.get("/builder/")
    assert anonymous.status_code == 302 and "/login" in anonymous.location
    refused = new_theme(chengguan, title="", slug="井盖")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert 'id="title-error"' in page and "请填写主题名称" in page
    assert 'id="slug-error"' in page and "小写英文字母" in page
    foreign = new_theme(chengguan, department="water_affairs")
    assert foreign.status_code == 400 and "请选择本部门" in foreign.get_data(as_text=True)
    with platform.db.session() as session:
        assert session.scalar(select(func.count()).select_from(ThemeDraft)) == 0
    assert new_theme(chengguan, start="template", template="patrol").location.endswith(f"/builder/{KEY}/")
    assert "patrol_every_days" in json.dumps(draft_of(platform).document)
    copied = new_theme(chengguan, slug="vending_copy", start="copy", copy_of="urban_management.street_vending")
    assert copied.status_code == 302
    document = draft_of(platform, "urban_management.vending_copy").document
    assert document["key"] == "urban_management.vending_copy" and document["forms"]["report"]
    taken = new_theme(chengguan, slug="manhole_patrol")
    assert taken.status_code == 400 and "已被" in taken.get_data(as_text=True)
    page = chengguan.get("/builder/").get_data(as_text=True)
    assert "urban_management.street_vending" in page and "复制为新主题" in page
    assert "water_affairs." not in page   # another department's themes are not offered
    assert f'data-theme="{KEY}"' in page and "未发布" in page
    assert KEY not in as_user("water").get("/builder/").get_data(as_text=True)


def test_the_editor_saves_drafts_with_problems_by_field_and_publishes_only_valid_ones(as_user, world, platform):
    chengguan = as_user("chengguan")
    new_theme(chengguan)
    response = chengguan.get(f"/builder/{KEY}/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<script type="application/json" id="theme-document">' in page
    assert "/static/js/builder.js" in page and "/vendor/leaflet/leaflet.js" in page and "https://" not in page
    assert 'name="document"' in page and "检查通过，可以发布" in page   # the no-JS fallback
    assert "<script>" not in page and " style=" not in page and " onclick=" not in page   # CSP: nothing inline
    assert "standard" in page   # the workflow templates for the workflow panel
    draft = draft_of(platform)
    document = with_fields(draft.document)
    document["forms"]["report"]["properties"]["damage"]["maxLength"] = 1   # less than minLength 2
    document["categories"] = [{"code": "01", "title": "井盖破损", "department": "no_such_department"}]
    saved = save(chengguan, document, draft.revision)
    answer = saved.get_json()
    assert saved.status_code == 200 and answer["revision"] == draft.revision + 1 and not answer["valid"]
    paths = {problem["path"] for problem in answer["problems"]}
    assert any(path.startswith("/forms/report/properties/damage") for path in paths), paths
    assert any(path.startswith("/categories/0/department") for path in paths), paths
    assert all(problem["message"] and not problem["message"].isascii() for problem in answer["problems"])
    assert draft_of(platform).document["categories"][0]["department"] == "no_such_department"  # kept as work

    stale = save(chengguan, document, draft.revision)
    assert stale.status_code == 409 and "已被他人修改" in stale.get_json()["message"]
    not_json = chengguan.post(f"/builder/{KEY}/draft", json={"document": "text", "revision": answer["revision"]})
    assert not_json.status_code == 400 and draft_of(platform).revision == answer["revision"]
    draft = draft_of(platform)
    bad = with_fields(draft.document)
    bad["forms"]["report"]["properties"]["damage"]["pattern"] = "(["
    revision = save(chengguan, bad, draft.revision).get_json()["revision"]
    refused = chengguan.post(f"/builder/{KEY}/publish", json={})
    assert refused.status_code == 409
    assert any(p["path"].startswith("/forms/report/properties/damage") for p in refused.get_json()["problems"]), refused.get_json()
    assert KEY not in themes.registry(platform).themes

    del bad["forms"]["report"]["properties"]["damage"]["pattern"]
    assert save(chengguan, bad, revision).get_json()["valid"]
    published = chengguan.post(f"/builder/{KEY}/publish", json={})
    assert published.status_code == 200 and published.get_json()["version"] == 1
    assert KEY in themes.registry(platform).themes          # no restart, no sync
    report_page = as_user("worker").get(f"/work/report/{KEY}").get_data(as_text=True)
    assert "井盖是否破损" in report_page and "data-mq-when" in report_page
    again = chengguan.post(f"/builder/{KEY}/publish", json={})
    assert again.status_code == 400 and "无需发布" in again.get_json()["message"]
    with platform.db.session() as session:
        actions = set(session.scalars(select(AuditRecord.action)))
    assert {"theme.draft_create", "theme.draft_save", "theme.publish"} <= actions


def test_only_the_departments_staff_and_admins_reach_a_draft_and_the_no_js_form_saves(as_user, world, platform):
    new_theme(as_user("chengguan"))
    revision = draft_of(platform).revision
    water = as_user("water")
    for path in (f"/builder/{KEY}/", f"/builder/{KEY}/preview", f"/builder/{KEY}/workflow.svg",
                 f"/builder/{KEY}/export.json"):
        assert water.get(path).status_code == 403, path
    assert save(water, {"key": KEY}, revision).status_code == 403
    assert water.post(f"/builder/{KEY}/publish", json={}).status_code == 403
    assert draft_of(platform).revision == revision
    assert as_user("worker").get(f"/builder/{KEY}/").status_code == 403
    assert as_user("chengguan").get("/builder/urban_management.nothing/").status_code == 404
    assert as_user("admin").get(f"/builder/{KEY}/").status_code == 200   # administrators edit every department's
    chengguan = as_user("chengguan")
    draft = draft_of(platform)
    document = dict(draft.document, title="井盖巡查（改）")
    saved = chengguan.post(f"/builder/{KEY}/draft", data={"document": json.dumps(document, ensure_ascii=False),
                                                          "revision": str(draft.revision)})
    assert saved.status_code == 302 and draft_of(platform).document["title"] == "井盖巡查（改）"
    broken = chengguan.post(f"/builder/{KEY}/draft", data={"document": "{oops", "revision": str(draft.revision + 1)},
                            follow_redirects=True)
    assert "不是有效的 JSON" in broken.get_data(as_text=True)
    response = chengguan.get(f"/builder/{KEY}/workflow.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    assert svg.lstrip().startswith("<svg") and "待受理" in svg and "<script" not in svg


def test_the_preview_is_the_report_form_and_a_trial_submission_is_checked_not_stored(as_user, world, platform):
    chengguan = as_user("chengguan")
    new_theme(chengguan)
    draft = draft_of(platform)
    document = draft.document
    document["forms"]["report"]["properties"]["description"]["minLength"] = "two"
    save(chengguan, document, draft.revision)
    page = chengguan.get(f"/builder/{KEY}/preview").get_data(as_text=True)
    assert 'id="preview-problems"' in page and "改正后才能预览" in page
    draft = draft_of(platform)
    document = with_fields(draft.document)
    del document["forms"]["report"]["properties"]["description"]["minLength"]
    save(chengguan, document, draft.revision)
    response = chengguan.get(f"/builder/{KEY}/preview?form=report")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "事件标题" in page and "井盖是否破损" in page and "/vendor/forms/forms.js" in page
    assert "frame-ancestors 'none'" in chengguan.get(f"/builder/{KEY}/").headers["Content-Security-Policy"]

    trial = {"title": "井盖", "category": "0901", "urgency": "normal", "details-has_damage": "true",
             "details-location-lon": "103.83", "details-location-lat": "36.05", "details-description": "井盖缺失"}
    checked = chengguan.post(f"/builder/{KEY}/preview?form=report", data=trial).get_data(as_text=True)
    assert "破损情况" in checked and "必填" in checked and 'id="preview-result"' not in checked
    trial["details-damage"] = "井盖碎裂"
    passed = chengguan.post(f"/builder/{KEY}/preview?form=report", data=trial).get_data(as_text=True)
    assert 'id="preview-result"' in passed and "井盖碎裂" in passed
    with platform.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0
        assert session.scalar(select(func.count()).select_from(ThemeRecord)) == 0


def upload(client, name: str, content: bytes, **fields):
    data = {"department": "urban_management", "title": "导入的主题", "slug": "imported", **fields,
            "file": (io.BytesIO(content), name)}
    return client.post("/builder/new", data=data, content_type="multipart/form-data")

def _zip(files: dict) -> bytes:
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return output.getvalue()

def xlsform() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    survey = book.active
    survey.title = "survey"
    for row in [("type", "name", "label", "required", "relevant", "calculation"),
                ("text", "address", "详细地址", "yes", "", ""),
                ("select_one yn", "broken", "是否破损", "yes", "", ""),
                ("text", "detail", "破损情况", "", "${broken} = 'yes'", ""),
                ("calculate", "score", "", "", "", "1 + 1")]:
        survey.append(row)
    choices = book.create_sheet("choices")
    for row in [("list_name", "name", "label"), ("yn", "yes", "是"), ("yn", "no", "否")]:
        choices.append(row)
    settings = book.create_sheet("settings")
    settings.append(("form_title", "form_id"))
    settings.append(("井盖巡查表", "manhole_form"))
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()

def test_theme_files_and_xlsforms_are_imported_and_bad_uploads_refused_by_content(as_user, world, platform):
    chengguan = as_user("chengguan")
    new_theme(chengguan)
    exported = chengguan.get(f"/builder/{KEY}/export.json")
    assert exported.status_code == 200 and "attachment" in exported.headers["Content-Disposition"]
    imported = upload(chengguan, "theme.json", exported.data, start="json")
    assert imported.status_code == 302
    document = draft_of(platform, "urban_management.imported").document
    assert document["forms"] == json.loads(exported.data)["forms"]

    for name, content, message in [
        ("theme.json", b"<html>not json</html>", "不是有效的 JSON"),
        ("theme.json", b"[1, 2]", "JSON 对象"),
        ("theme.json", b"{" + b" " * (2 * 1024 * 1024) + b"}", "文件过大"),
    ]:
        refused = upload(chengguan, name, content, start="json", slug="other")
        assert refused.status_code == 400 and message in refused.get_data(as_text=True), message
    for content, message in [(b"PK\x03\x04 not really a zip", "已损坏"), (b"\xd0\xcf\x11\xe0 old xls", "不是 Excel"),
                             (_zip({"readme.txt": "hello"}), "没有 Excel 工作簿")]:
        refused = upload(chengguan, "form.xlsx", content, start="xlsform", slug="other")
        assert refused.status_code == 400 and message in refused.get_data(as_text=True), message
    with platform.db.session() as session:
        assert session.scalar(select(func.count()).select_from(ThemeDraft)) == 2
    response = upload(chengguan, "井盖巡查.xlsx", xlsform(), start="xlsform", slug="", title="")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert 'id="unconverted"' in page and "score" in page and "calculate" in page
    assert 'href="/builder/urban_management.manhole_form/" id="open-editor"' in page   # form_id of settings
    report = draft_of(platform, "urban_management.manhole_form").document
    fields = json.dumps(report["forms"], ensure_ascii=False)
    assert "破损情况" in fields and "是否破损" in fields


def test_versions_page_shows_who_published_and_what_changed(as_user, world, platform):
    chengguan = as_user("chengguan")
    new_theme(chengguan)
    draft = draft_of(platform)
    assert chengguan.post(f"/builder/{KEY}/publish", json={}).status_code == 200
    revision = save(chengguan, with_fields(draft.document), draft.revision).get_json()["revision"]
    assert chengguan.post(f"/builder/{KEY}/publish", json={}).status_code == 200
    document = draft_of(platform).document
    del document["forms"]["report"]["properties"]["photos"]
    save(chengguan, document, revision)
    assert chengguan.post(f"/builder/{KEY}/publish", json={}).status_code == 200

    page = chengguan.get(f"/builder/{KEY}/versions").get_data(as_text=True)
    assert "第 3 版" in page and "chengguan" in page and "首次发布" in page
    assert 'id="diff-removed"' in page and "现场照片" in page          # 2 → 3 by default
    first_two = chengguan.get(f"/builder/{KEY}/versions?old=1&new=2").get_data(as_text=True)
    added = first_two.split('id="diff-added"', 1)[1].split("</ul>", 1)[0]
    assert "井盖是否破损" in added and "破损情况" in added and "井盖清单" in added
    assert as_user("water").get(f"/builder/{KEY}/versions").status_code == 403
    assert chengguan.get("/builder/urban_management.nothing/versions").status_code == 404
