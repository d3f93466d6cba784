"""The closed loop through the pages: a grid worker reports, the centre accepts and dispatches, the department
takes and handles it with a photo, the follow-up closes it — each person sees only what they may."""
import io
import re

from PIL import Image
from sqlalchemy import select

from minqing.core.models import Attachment, Case, CaseEvent, Department


THEME = "urban_management.street_vending"
INSIDE = (103.83, 36.05)  # inside the small grid of the `world` fixture


def photo() -> tuple[io.BytesIO, str]:
    output = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 120, 200)).save(output, format="JPEG")
    output.seek(0)
    return output, "现场.jpg"


def report_form(**overrides) -> dict:
    data = {
        "title": "张掖路夜市占道", "category": "1001", "urgency": "normal",
        "details-address": "张掖路123号门前", "details-location-lon": str(INSIDE[0]),
        "details-location-lat": str(INSIDE[1]), "details-vending_type": "流动摊贩",
        "details-blocks_passage": "true", "details-blocked_passage": "盲道", "details-persuaded": "false",
        "details-description": "流动摊贩占用盲道，联系电话13912345678", "details-photos": photo(),
    }
    data.update(overrides)
    return data


def case_of(platform, title="张掖路夜市占道") -> Case:
    with platform.db.session() as session:
        return session.scalar(select(Case).where(Case.title == title))


def step(client, case_id, name, **data):
    return client.post(f"/work/cases/{case_id}/steps/{name}", data=data, follow_redirects=True)


def test_a_grid_worker_reports_with_a_photo_and_a_retry_makes_no_duplicate(platform, as_user):
    worker = as_user("worker")
    choose = worker.get("/work/report").get_data(as_text=True)
    assert "占道经营" in choose and f'/work/report/{THEME}' in choose
    page = worker.get(f"/work/report/{THEME}").get_data(as_text=True)
    client_id = re.search(r"client_id=([0-9a-f]{32})", page).group(1)
    first = worker.post(f"/work/report/{THEME}?client_id={client_id}", data=report_form(),
                        content_type="multipart/form-data")
    assert first.status_code == 302, first.get_data(as_text=True)
    retry = worker.post(f"/work/report/{THEME}?client_id={client_id}", data=report_form(),
                        content_type="multipart/form-data")
    assert retry.status_code == 302 and retry.location == first.location
    with platform.db.session() as session:
        cases = session.scalars(select(Case)).all()
        assert len(cases) == 1
        case = cases[0]
        assert case.status == "reported" and case.grid_id is not None and case.region_code == "620102001001"
        assert case.form_data["vending_type"] == "流动摊贩" and case.theme_version >= 1
        photos = session.scalars(select(Attachment).where(Attachment.case_id == case.id)).all()
        assert len(photos) >= 1 and photos[0].content_type == "image/jpeg"
    shown = worker.get(first.location).get_data(as_text=True)
    assert "张掖路夜市占道" in shown and "流动摊贩" in shown
    assert "13912345678" in shown  # grid workers call people back: their role sees phone numbers


def test_a_report_with_errors_changes_nothing_and_says_which_field(platform, as_user):
    worker = as_user("worker")
    response = worker.post(f"/work/report/{THEME}", data=report_form(**{"details-vending_type": "", "title": "x"}),
                           content_type="multipart/form-data")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "经营类型" in page and "事件标题" in page
    with platform.db.session() as session:
        assert session.scalar(select(Case)) is None


def test_the_whole_loop_through_the_pages(platform, as_user, world):
    worker = as_user("worker")
    assert worker.post(f"/work/report/{THEME}", data=report_form(),
                       content_type="multipart/form-data").status_code == 302
    case = case_of(platform)

    station = as_user("station")
    inbox = station.get("/work/").get_data(as_text=True)
    assert case.title in inbox
    assert '<option value="reported" >待受理</option>' in inbox.replace("  ", " ")   # states by their titles
    assert "受理立案" in station.get(f"/work/cases/{case.id}").get_data(as_text=True)
    assert "已受理立案" in step(station, case.id, "accept", comment="属实").get_data(as_text=True)
    page = step(station, case.id, "dispatch", department="urban_management", comment="请城管处置")
    assert "已分拨交办" in page.get_data(as_text=True)

    water = as_user("water")  # another department: the case is not theirs
    assert water.get(f"/work/cases/{case.id}").status_code == 404

    chengguan = as_user("chengguan")
    assert case.title in chengguan.get("/work/").get_data(as_text=True)
    seen_by_department = chengguan.get(f"/work/cases/{case.id}").get_data(as_text=True)
    assert "13912345678" not in seen_by_department and "139****5678" in seen_by_department
    assert "已签收" in step(chengguan, case.id, "take").get_data(as_text=True)
    refused = step(chengguan, case.id, "feedback", result="已清理")  # no photo: the form says so
    assert "处置照片" in refused.get_data(as_text=True)
    assert case_of(platform).status == "handling"
    done = chengguan.post(f"/work/cases/{case.id}/steps/feedback",
                          data={"result": "已劝离摊贩，恢复盲道通行", "photos": photo()},
                          content_type="multipart/form-data", follow_redirects=True)
    assert "已处置反馈" in done.get_data(as_text=True)

    closed = step(station, case.id, "confirm", rating="5", comment="群众满意")
    assert "已回访确认" in closed.get_data(as_text=True)
    final = case_of(platform)
    assert final.status == "closed" and final.closed_at is not None
    with platform.db.session() as session:
        actions = session.scalars(select(CaseEvent.action).where(CaseEvent.case_id == final.id)
                                  .order_by(CaseEvent.id)).all()
    assert actions == ["report", "accept", "dispatch", "take", "feedback", "confirm"]
    timeline = station.get(f"/work/cases/{case.id}").get_data(as_text=True)
    assert "办理经过" in timeline and "回访确认" in timeline


def test_out_of_scope_cases_are_invisible(platform, as_user):
    worker = as_user("worker")
    worker.post(f"/work/report/{THEME}", data=report_form(), content_type="multipart/form-data")
    case = case_of(platform)
    for username in ("other_worker", "jiuquan", "water", "citizen"):
        client = as_user(username)
        assert client.get(f"/work/cases/{case.id}").status_code == 404, username
    assert as_user("citizen").get("/work/").status_code == 403
    listed = as_user("jiuquan").get("/work/").get_data(as_text=True)
    assert case.title not in listed
    with platform.db.session() as session:
        attachment = session.scalar(select(Attachment))
    assert as_user("other_worker").get(f"/work/attachments/{attachment.id}").status_code == 404
    served = as_user("station").get(f"/work/attachments/{attachment.id}")
    assert served.status_code == 200 and served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Disposition"].startswith("inline; filename*=UTF-8''")


def test_urge_and_supervise_are_recorded_on_the_case(platform, as_user):
    as_user("worker").post(f"/work/report/{THEME}", data=report_form(), content_type="multipart/form-data")
    case = case_of(platform)
    centre = as_user("centre")
    assert "已催办" in centre.post(f"/work/cases/{case.id}/urge", data={"comment": "请尽快受理"},
                                    follow_redirects=True).get_data(as_text=True)
    page = centre.post(f"/work/cases/{case.id}/supervise", data={"comment": "市中心督办", "hours": "8"},
                       follow_redirects=True).get_data(as_text=True)
    assert "已督办" in page and "市中心督办" in page
    township = as_user("station").post(f"/work/cases/{case.id}/supervise",
                                       data={"comment": "街道督办社区", "hours": "4"}, follow_redirects=True)
    assert "已督办" in township.get_data(as_text=True)  # a township command post is above the community
    denied = as_user("worker").post(f"/work/cases/{case.id}/supervise", data={"comment": "网格员督办", "hours": "8"},
                                    follow_redirects=True).get_data(as_text=True)
    assert 'class="flash error"' in denied and "网格员督办" not in denied


def test_a_report_always_needs_a_place_even_when_the_theme_form_leaves_it_optional(platform, as_user):
    worker = as_user("worker")
    response = worker.post("/work/report/hotline.general_appeals",
                           data={"title": "综合诉求", "category": "4001", "urgency": "normal",
                                 "details-appeal_type": "求助", "details-content": "楼道灯坏了很久",
                                 "details-urgent": "false", "details-caller": "王女士",
                                 "details-phone": "13912345678"}, content_type="multipart/form-data")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "有1处需要修改" in page and "位置：此项为必填项" in page
    with platform.db.session() as session:
        assert session.scalar(select(Case)) is None


def test_dispatch_takes_the_department_s_name_and_a_wrong_one_is_said_once_in_chinese(platform, as_user, world):
    worker = as_user("worker")
    assert worker.post(f"/work/report/{THEME}", data=report_form(),
                       content_type="multipart/form-data").status_code == 302
    case = case_of(platform)
    station = as_user("station")
    step(station, case.id, "accept", comment="属实")
    wrong = step(station, case.id, "dispatch", department="没有这个局", comment="分拨").get_data(as_text=True)
    assert wrong.count("没有名为“没有这个局”的在用部门") == 1 and "department：" not in wrong
    assert case_of(platform).status == "registered"                         # nothing changed
    named = step(station, case.id, "dispatch", department="城管", comment="请城管处置")  # the name the page shows
    assert "已分拨交办" in named.get_data(as_text=True)
    with platform.db.session() as session:
        department_id = session.get(Case, case.id).department_id
        assert session.get(Department, department_id).key == "urban_management"
