"""Lists staff can search and export (issue 22, "Lists"): search by case number or text within scope only, LIKE
wildcards taken literally, exports of the filtered list masked, audited and bounded; photo thumbnails behind the
attachment's own check, report and 处置反馈 photos apart."""
from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select

from minqing.core import attachments
from minqing.core.actors import actor_for
from minqing.core.models import Account, AuditRecord, Case, utcnow
from minqing.web.work import attachments as attachment_views
from minqing.web.work import case_export
from minqing.workflows import report_case

from tests.fixtures.web import INSIDE, OTHER

PHONE = "13987654321"


@pytest.fixture(autouse=True)
def upload_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("MINQING_UPLOAD_DIR", str(tmp_path / "uploads"))
    return tmp_path / "uploads"


def _actor(session, username: str):
    return actor_for(session, session.scalar(select(Account).where(Account.username == username)))


def _report(platform, title: str, description: str = "现场情况", point=INSIDE, username: str = "worker",
            form_data: dict | None = None) -> tuple[int, str]:
    with platform.db.session() as session:
        case = report_case(platform, session, _actor(session, username), theme_key="urban_management.street_vending",
                           title=title, description=description, lon=point[0], lat=point[1], source="grid_worker",
                           form_data=form_data)
        return case.id, case.number


def _listed(client, **params) -> str:
    """The case table of the list page (the search box above it repeats the search)."""
    response = client.get("/work/", query_string=params)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True).split('id="cases"', 1)[1]


def test_search_by_number_whole_or_prefix_and_by_text_within_scope_only(platform, world, as_user):
    mine, mine_number = _report(platform, "夜市占道经营", "张掖路夜市摊位占道")
    other, other_number = _report(platform, "酒泉路占道经营", "酒泉路口摊位", point=OTHER, username="other_worker")
    station = as_user("station")   # 张掖路街道: sees `mine`, not the case in 酒泉路街道
    assert mine_number in _listed(station, q=mine_number)
    assert mine_number in _listed(station, q=mine_number[:10].lower())          # MQ + the date: a prefix
    assert mine_number in _listed(station, q=str(mine))                         # the id's digits alone
    assert "没有符合条件的事件" in _listed(station, q=mine_number[:-1] + "9")   # a different number
    page = _listed(station, q="占道经营")
    assert "夜市占道经营" in page and "酒泉路占道经营" not in page
    assert "夜市占道经营" in _listed(station, q="夜市摊位".replace("摊位", ""))  # description text
    # another command post's case: not by its whole number, not by its text
    assert other_number not in _listed(station, q=other_number)
    assert "酒泉路占道经营" not in _listed(station, q="酒泉路")
    assert other_number in _listed(as_user("jiuquan"), q=other_number)
    # combined with the other filters
    assert "没有符合条件的事件" in _listed(station, q="夜市", urgency="critical")
    assert "夜市占道经营" in _listed(station, q="夜市", urgency="normal", status="open")


def test_like_wildcards_are_taken_literally(platform, world, as_user):
    _report(platform, "100%占道", "百分号")
    _report(platform, "普通占道", "没有特殊字符")
    _report(platform, "a_b 占道", "下划线")
    station = as_user("station")
    page = _listed(station, q="%")
    assert "100%占道" in page and "普通占道" not in page
    page = _listed(station, q="_")
    assert "a_b 占道" in page and "普通占道" not in page and "100%占道" not in page


def test_digits_search_case_numbers_only_never_the_masked_text(platform, world, as_user):
    _report(platform, "占道经营", f"摊主电话 {PHONE}")
    staff = as_user("chengguan")
    with platform.db.session() as session:   # dispatch-free: department staff see cases of their department
        case = session.scalar(select(Case))
        case.department_id = world.departments["urban_management"]
    assert "占道经营" in _listed(staff, q="占道")
    assert "没有符合条件的事件" in _listed(staff, q=PHONE[:7])   # no oracle for the masked phone


def test_a_search_too_long_is_refused_in_chinese_and_lists_unfiltered(platform, world, as_user):
    _report(platform, "占道经营")
    response = as_user("station").get("/work/", query_string={"q": "长" * 51})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "搜索：关键词不能超过 50 个字" in page and "占道经营" in page


def test_export_of_the_filtered_list_is_masked_audited_and_in_rfc3339(platform, world, as_user):
    _report(platform, "夜市占道", f"摊主电话 {PHONE}，永昌路18号楼")
    _report(platform, "垃圾堆放", "路边垃圾")
    _report(platform, "酒泉路占道", "另一街道", point=OTHER, username="other_worker")
    leader = as_user("leader")   # the whole city, but phones and house numbers masked
    response = leader.get("/work/cases/export", query_string={"format": "csv", "q": "占道"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment;" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[0] == "事件编号" and {row[header.index("标题")] for row in body} == {"夜市占道", "酒泉路占道"}
    text = response.get_data().decode("utf-8-sig")
    assert PHONE not in text and "139****4321" in text and "18号楼" not in text
    created = body[0][header.index("上报时间")]
    assert created[10] == "T" and created.endswith("+08:00")      # RFC 3339 in the city's zone
    station = as_user("station").get("/work/cases/export", query_string={"format": "xlsx", "q": "占道"})
    assert station.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(station.get_data()), read_only=True).active
    titles = [row[4] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert titles == ["夜市占道"]                                    # scope: not the other township's case
    with platform.db.session() as session:
        records = session.scalars(select(AuditRecord).where(AuditRecord.action == "export")
                                  .order_by(AuditRecord.id)).all()
        assert [(r.actor_name, r.details["count"], r.details["format"], r.details["filters"]) for r in records] == [
            ("leader", 2, "csv", {"q": "占道"}), ("station", 1, "xlsx", {"q": "占道"})]


def test_export_is_bounded_and_says_so_in_chinese(platform, world, as_user, monkeypatch):
    for title in ("占道一", "占道二"):
        _report(platform, title)
    monkeypatch.setattr(case_export, "MAX_ROWS", 1)
    client = as_user("station")
    response = client.get("/work/cases/export", query_string={"format": "xlsx", "q": "占道"})
    assert response.status_code == 302 and "q=" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "符合条件的事件有 2 件，一次最多导出 1 件" in page
    assert "导出格式" in client.get("/work/cases/export?format=exe", follow_redirects=True).get_data(as_text=True)
    with platform.db.session() as session:
        assert session.scalar(select(AuditRecord).where(AuditRecord.action == "export")) is None
    assert client.get("/work/cases/export", query_string={"q": "占道一"}).status_code == 200


# -- photos ---------------------------------------------------------------------------------------------------------

def _image(size=(800, 600), colour=(200, 40, 40), fmt="JPEG", exif=None) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", size, colour).save(output, format=fmt, **({"exif": exif} if exif else {}))
    return output.getvalue()


def _case_with_photos(platform) -> tuple[int, str, str, str]:
    """A case with one report photo (named by its form), one 处置反馈 photo and one PDF added while handling."""
    case_id, _ = _report(platform, "占道经营")
    with platform.db.session() as session:
        worker, staff = _actor(session, "worker"), _actor(session, "chengguan")
        report = attachments.store(session, worker, _image(), "现场.jpg", case_id=case_id)
        feedback = attachments.store(session, staff, _image(colour=(30, 150, 30), fmt="PNG"), "处置后.png",
                                     case_id=case_id)
        document = attachments.store(session, staff, b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "说明.pdf",
                                     case_id=case_id)
        session.get(Case, case_id).form_data = {"photos": [report.id]}
        return case_id, report.id, feedback.id, document.id


def test_case_page_shows_report_and_feedback_photos_apart_as_thumbnails(platform, world, as_user):
    case_id, report, feedback, document = _case_with_photos(platform)
    page = as_user("station").get(f"/work/cases/{case_id}").get_data(as_text=True)
    report_group = page.split('id="photos-report"', 1)[1].split("</section>", 1)[0]
    feedback_group = page.split('id="photos-feedback"', 1)[1].split("</section>", 1)[0]
    assert "上报照片" in report_group and f"/work/attachments/{report}/thumbnail" in report_group
    assert f'href="/work/attachments/{report}"' in report_group and feedback not in report_group
    assert "处置反馈照片" in feedback_group and f"/work/attachments/{feedback}/thumbnail" in feedback_group
    assert f'href="/work/attachments/{document}"' in feedback_group and f"{document}/thumbnail" not in page


def test_thumbnails_are_small_jpegs_behind_the_attachments_own_check(platform, world, as_user, app, upload_dir):
    case_id, report, feedback, document = _case_with_photos(platform)
    station = as_user("station")
    for attachment_id in (report, feedback):
        response = station.get(f"/work/attachments/{attachment_id}/thumbnail")
        assert response.status_code == 200 and response.mimetype == "image/jpeg"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "no-store" in response.headers["Cache-Control"]
        with Image.open(io.BytesIO(response.get_data())) as thumbnail:
            assert thumbnail.format == "JPEG" and max(thumbnail.size) == attachment_views.THUMBNAIL_EDGE
    assert sorted(path.name for path in upload_dir.glob("*.thumb*.jpg")) and all(
        path.stat().st_mode & 0o077 == 0 for path in upload_dir.glob("*.thumb*.jpg"))   # cached, private
    assert station.get(f"/work/attachments/{document}/thumbnail").status_code == 404   # a PDF has none
    assert as_user("jiuquan").get(f"/work/attachments/{report}/thumbnail").status_code == 404   # out of scope
    assert as_user("other_worker").get(f"/work/attachments/{report}/thumbnail").status_code == 404
    assert app.test_client().get(f"/work/attachments/{report}/thumbnail").status_code == 403    # signed out
    assert station.get("/work/attachments/nosuchfile/thumbnail").status_code == 404


def test_a_thumbnail_is_turned_upright_by_its_exif_orientation():
    exif = Image.Exif()
    exif[0x0112] = 6   # rotate 90° clockwise to view
    data = _image(size=(640, 320), exif=exif)
    with Image.open(io.BytesIO(attachment_views.make_thumbnail(data))) as thumbnail:
        assert thumbnail.size == (160, 320)


def test_the_dashboards_overdue_list_exports_through_the_same_filters(platform, world, as_user):
    late, late_number = _report(platform, "超期的占道")
    _report(platform, "未超期的占道")
    with platform.db.session() as session:
        session.get(Case, late).state_deadline_at = utcnow() - dt.timedelta(hours=3)
    leader = as_user("leader")
    page = leader.get("/manage/").get_data(as_text=True)
    links = re.findall(r'href="([^"]*cases/export[^"]*)"', page.split('id="overdue-export"', 1)[1].split("</p>")[0])
    assert len(links) == 2
    response = leader.get(html.unescape(links[0]))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data().decode("utf-8-sig")
    assert late_number in text and "未超期的占道" not in text
