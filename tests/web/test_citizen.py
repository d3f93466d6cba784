"""小兰帮办 through the pages: a citizen signs in with a text-message code, reports a problem with a photo, follows
it, rates the handling at follow-up, and reads the departments' policies; other citizens and other roles see
none of it."""
import datetime as dt
import json
import re
from pathlib import Path

from sqlalchemy import func, select, update

from minqing.core import publications
from minqing.core.actors import system_actor
from minqing.core.hooks import hookimpl
from minqing.core.models import (Account, Attachment, AuditRecord, Case, CaseEvent, CaseMilestone, VerificationCode,
                                 utcnow)

from tests.fixtures.citizen import (HOTLINE, OTHER_PHONE, PHONE, THEME, citizen_report_form, photo, report, sign_in,
                                    the_case)


# -- signing in ---------------------------------------------------------------------------------------------------

def test_first_sign_in_registers_a_citizen_and_later_ones_find_the_same_account(app, platform, world, gateway):
    client = app.test_client()
    assert "获取验证码" in client.get("/citizen/login").get_data(as_text=True)
    sent = client.post("/citizen/login/code", data={"phone": "139 1234 5678"})
    assert sent.status_code == 302
    page = client.get(sent.location).get_data(as_text=True)
    assert "139****5678" in page and PHONE not in page
    assert [n["channel"] for n in gateway.sent] == ["sms"] and gateway.sent[0]["recipient"] == PHONE
    code = gateway.code_for(PHONE)
    wrong = client.post("/citizen/login", data={"code": f"{(int(code) + 1) % 1_000_000:06d}"})
    assert wrong.status_code == 400 and "验证码错误，还可尝试4次" in wrong.get_data(as_text=True)
    right = client.post("/citizen/login", data={"code": code})
    assert right.status_code == 302 and right.location.endswith("/citizen/")
    assert "我要反映" in client.get("/citizen/").get_data(as_text=True)
    assert client.get("/").location.endswith("/citizen/")  # the menu sends a citizen to 小兰帮办

    with platform.db.session() as session:  # a minute later, on another phone, they sign in again
        session.execute(update(VerificationCode).values(created_at=utcnow() - dt.timedelta(minutes=2)))
    sign_in(app, gateway)
    with platform.db.session() as session:
        accounts = session.scalars(select(Account).where(Account.phone == PHONE)).all()
        assert len(accounts) == 1 and [grant.role for grant in accounts[0].grants] == ["citizen"]
        logins = session.scalars(select(AuditRecord).where(AuditRecord.action == "auth.login",
                                                           AuditRecord.actor_account_id == accounts[0].id)).all()
        assert len(logins) == 2 and all("验证码" in record.summary for record in logins)
        failed = session.scalar(select(AuditRecord).where(AuditRecord.action == "auth.login_failed"))
        assert failed is not None and PHONE not in failed.actor_name + failed.object_id + failed.summary


def test_codes_are_refused_politely(app, world, gateway):
    client = app.test_client()
    invalid = client.post("/citizen/login/code", data={"phone": "12345"})
    assert invalid.status_code == 400 and "请输入正确的11位手机号码" in invalid.get_data(as_text=True)
    assert client.post("/citizen/login", data={"code": "123456"}).status_code == 400  # no code asked for yet
    assert client.post("/citizen/login/code", data={"phone": PHONE}).status_code == 302
    again = client.post("/citizen/login/code", data={"resend": "1"})
    assert again.status_code == 429 and "秒后再重新获取" in again.get_data(as_text=True)
    assert len(gateway.sent) == 1
    code = gateway.code_for(PHONE)
    for _ in range(5):
        client.post("/citizen/login", data={"code": "000000" if code != "000000" else "111111"})
    locked = client.post("/citizen/login", data={"code": code})
    assert locked.status_code == 400 and "错误次数过多" in locked.get_data(as_text=True)
    assert client.get("/citizen/cases").status_code == 302  # still not signed in


def test_a_staff_phone_does_not_open_a_staff_account(app, platform, world, gateway):
    with platform.db.session() as session:
        session.execute(update(Account).where(Account.username == "worker").values(phone=PHONE))
    client = app.test_client()
    client.post("/citizen/login/code", data={"phone": PHONE})
    refused = client.post("/citizen/login", data={"code": gateway.code_for(PHONE)})
    assert refused.status_code == 400 and "用户名和密码登录" in refused.get_data(as_text=True)
    assert client.get("/work/").status_code == 302


# -- reporting and following ----------------------------------------------------------------------------------------

def test_a_citizen_reports_with_a_photo_and_a_retry_makes_no_duplicate(platform, as_citizen):
    citizen = as_citizen()
    choose = citizen.get("/citizen/report").get_data(as_text=True)
    assert f"/citizen/report/{HOTLINE}" in choose and f"/citizen/report/{THEME}" in choose
    assert choose.index(HOTLINE) < choose.index(THEME)  # the 12345 fallback comes first
    hotline = citizen.get(f"/citizen/report/{HOTLINE}").get_data(as_text=True)
    assert "诉求内容" in hotline and "紧急程度" not in hotline
    first, client_id = report(citizen)
    retry = citizen.post(f"/citizen/report/{THEME}?client_id={client_id}", data=citizen_report_form(),
                         content_type="multipart/form-data")
    assert retry.status_code == 302 and retry.location == first.location
    with platform.db.session() as session:
        cases = session.scalars(select(Case)).all()
        assert len(cases) == 1
        case = cases[0]
        account = session.scalar(select(Account).where(Account.phone == PHONE))
        assert case.source == "citizen" and case.reporter_account_id == account.id
        assert case.reporter_phone == PHONE and case.status == "reported" and case.grid_id is not None
        assert case.description.startswith("【投诉】") and case.urgency == "normal"
        assert session.scalar(select(func.count()).select_from(Attachment).where(Attachment.case_id == case.id)) == 1
    assert first.location.endswith(f"/citizen/cases/{case.id}")
    page = citizen.get(first.location).get_data(as_text=True)
    assert "小区门口夜市占道" in page and "待受理" in page and case.number in page
    assert "139****5678" in page and PHONE not in page  # free text passes the `personal` filter
    listed = citizen.get("/citizen/cases").get_data(as_text=True)
    assert "小区门口夜市占道" in listed
    photo_id = re.search(r"/work/attachments/([0-9a-f]{32})", page).group(1)
    assert citizen.get(f"/work/attachments/{photo_id}").status_code == 200
    assert f'<img src="/work/attachments/{photo_id}/thumbnail"' in page     # a picture, not the word 照片
    thumbnail = citizen.get(f"/work/attachments/{photo_id}/thumbnail")
    assert thumbnail.status_code == 200 and thumbnail.mimetype == "image/jpeg"


def test_a_report_with_errors_changes_nothing(platform, as_citizen):
    citizen = as_citizen()
    response = citizen.post(f"/citizen/report/{THEME}", data=citizen_report_form(title="x", **{"details-address": ""}),
                            content_type="multipart/form-data")
    assert response.status_code == 400 and "详细地址" in response.get_data(as_text=True)
    assert the_case(platform) is None


def test_a_citizen_sees_only_their_own_reports(app, platform, as_citizen, as_user):
    mine = as_citizen()
    report(mine)
    case = the_case(platform)
    other = as_citizen(OTHER_PHONE)
    assert other.get(f"/citizen/cases/{case.id}").status_code == 404
    assert other.get(f"/work/cases/{case.id}").status_code == 404
    assert other.post(f"/citizen/cases/{case.id}/rate", data={"rating": "1", "solved": "no"}).status_code == 404
    assert "小区门口夜市占道" not in other.get("/citizen/cases").get_data(as_text=True)
    with platform.db.session() as session:
        attachment = session.scalar(select(Attachment))
    assert other.get(f"/work/attachments/{attachment.id}").status_code == 404
    assert as_user("citizen").get(f"/citizen/cases/{case.id}").status_code == 404


def test_other_roles_are_refused_the_citizen_pages(app, world, as_user):
    for username in ("worker", "station", "chengguan", "leader", "auditor", "admin"):
        client = as_user(username)
        for path in ("/citizen/report", f"/citizen/report/{THEME}", "/citizen/cases", "/citizen/cases/1"):
            assert client.get(path).status_code == 403, (username, path)
    anonymous = app.test_client()
    refused = anonymous.get("/citizen/report")
    assert refused.status_code == 302 and "/citizen/login" in refused.location
    assert anonymous.get("/citizen/").status_code == 200


def follow_up(platform, as_user, case_id):
    """The centre accepts and dispatches, 城管 handles it with a photo: the case awaits the follow-up."""
    station = as_user("station")
    station.post(f"/work/cases/{case_id}/steps/accept", data={"comment": "属实，张三处理"})
    station.post(f"/work/cases/{case_id}/steps/dispatch", data={"department": "urban_management",
                                                                "comment": "请城管李四13800138000处置"})
    chengguan = as_user("chengguan")
    chengguan.post(f"/work/cases/{case_id}/steps/take")
    chengguan.post(f"/work/cases/{case_id}/steps/feedback", data={"result": "已劝离摊贩，恢复盲道通行",
                                                                  "photos": photo()},
                   content_type="multipart/form-data")
    assert the_case(platform).status == "awaiting_follow_up"


def test_the_citizen_rates_the_handling_on_the_timeline(platform, as_citizen, as_user):
    """Where a city's workflow keeps follow-up to its staff, the citizen's verdict is kept on the timeline."""
    platform.plugins.register(StaffOnlyFollowUp(), "staff_only_follow_up")
    try:
        _rate_on_the_timeline(platform, as_citizen, as_user)
    finally:
        platform.plugins.unregister("staff_only_follow_up")


def _rate_on_the_timeline(platform, as_citizen, as_user):
    citizen = as_citizen()
    report(citizen)
    case = the_case(platform)
    early = citizen.post(f"/citizen/cases/{case.id}/rate", data={"rating": "5", "solved": "yes"})
    assert early.status_code == 409 and "不在回访评价环节" in early.get_data(as_text=True)
    follow_up(platform, as_user, case.id)

    page = citizen.get(f"/citizen/cases/{case.id}").get_data(as_text=True)
    assert "评价办理结果" in page and "已劝离摊贩，恢复盲道通行" in page
    assert "请城管李四" not in page and "属实" not in page  # internal steps' comments stay inside
    assert "chengguan" not in page and "station" not in page and "工作人员" in page
    assert citizen.post(f"/citizen/cases/{case.id}/rate", data={"rating": "9", "solved": "no"}).status_code == 400

    rated = citizen.post(f"/citizen/cases/{case.id}/rate",
                         data={"rating": "2", "solved": "no", "comment": "晚上摊贩又回来了"}, follow_redirects=True)
    shown = rated.get_data(as_text=True)
    assert "感谢您的评价" in shown and "不太满意" in shown and "未解决" in shown and "晚上摊贩又回来了" in shown
    assert "评价办理结果" not in shown
    with platform.db.session() as session:
        event = session.scalar(select(CaseEvent).where(CaseEvent.action == "citizen_rating"))
        assert event.data["rating"] == 2 and event.data["solved"] is False
        assert session.get(Case, case.id).status == "awaiting_follow_up"  # the follow-up staff decide
        assert session.scalar(select(AuditRecord).where(AuditRecord.action == "case.citizen_rating")) is not None
    again = citizen.post(f"/citizen/cases/{case.id}/rate", data={"rating": "5", "solved": "yes"})
    assert again.status_code == 409 and "已评价" in again.get_data(as_text=True)
    staff_view = as_user("station").get(f"/work/cases/{case.id}").get_data(as_text=True)
    assert "群众评价" in staff_view and "晚上摊贩又回来了" in staff_view


class StaffOnlyFollowUp:
    """A workflow plugin that keeps confirm/rework to the follow-up staff (the standard one lets reporters)."""

    @hookimpl
    def register_workflows(self):
        import minqing.workflows as package
        document = json.loads((Path(package.__file__).parent / "builtin" / "standard.json").read_text("utf-8"))
        for step in document["transitions"]:
            if step["name"] in ("confirm", "rework"):
                step["roles"].remove("citizen")
        return [document]


def test_the_reporter_confirms_and_the_rating_closes_the_case(platform, as_citizen, as_user):
    citizen = as_citizen()
    report(citizen)
    case = the_case(platform)
    follow_up(platform, as_user, case.id)
    citizen.post(f"/citizen/cases/{case.id}/rate", data={"rating": "4", "solved": "yes"})
    with platform.db.session() as session:
        closed = session.get(Case, case.id)
        assert closed.status == "closed"
        assert session.get(CaseMilestone, case.id).rating == 4
        assert session.scalar(select(CaseEvent.action).order_by(CaseEvent.id.desc()).limit(1)) == "confirm"


# -- policies and service guides ----------------------------------------------------------------------------------

def test_anyone_reads_policies_grouped_searched_and_escaped(app, platform, world):
    with platform.db.session() as session:
        publications.seed_demo(session, system_actor("demo"))
        hostile = publications.publish(session, system_actor(), department_key="health", kind="服务",
                                       title="<b>义诊</b>活动", body="## 安排\n- <script>alert(1)</script>\n\n第一行\n第二行")
        hostile_id = hostile.id
        guide_id = session.scalar(select(publications.Publication.id)
                                  .where(publications.Publication.title == "异地就医备案办理指南"))
    client = app.test_client()  # not signed in
    listing = client.get("/citizen/publications").get_data(as_text=True)
    for heading in ("政策", "办事指南", "服务", "民政", "人社", "医保", "残联"):
        assert f">{heading}</h" in listing, heading
    assert listing.index(">政策</h2>") < listing.index(">办事指南</h2>") < listing.index(">服务</h2>")
    found = client.get("/citizen/publications", query_string={"q": "异地就医"}).get_data(as_text=True)
    assert "异地就医备案办理指南" in found and "高龄津贴申领指南" not in found and "共找到 1 条" in found
    areas = client.get("/citizen/publications", query_string={"area": "融资"}).get_data(as_text=True)
    assert "创业担保贷款申请指南" in areas and "高龄津贴申领指南" not in areas
    nothing = client.get("/citizen/publications", query_string={"q": "%' OR 1=1 --"})
    assert nothing.status_code == 200 and "没有找到相关内容" in nothing.get_data(as_text=True)

    detail = client.get(f"/citizen/publications/{guide_id}").get_data(as_text=True)
    assert "兰州市医疗保障局" in detail and "<li>国家医保服务平台APP</li>" in detail
    escaped = client.get(f"/citizen/publications/{hostile_id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in escaped and "&lt;script&gt;alert(1)&lt;/script&gt;" in escaped
    assert "<b>义诊</b>" not in escaped and "&lt;b&gt;义诊&lt;/b&gt;活动" in escaped
    assert "<h2>安排</h2>" in escaped and "第一行<br>第二行" in escaped
    assert client.get("/citizen/publications/999999").status_code == 404


def test_the_reporter_says_not_solved_and_the_case_goes_back_as_rework(platform, as_citizen, as_user):
    citizen = as_citizen()
    report(citizen)
    case = the_case(platform)
    follow_up(platform, as_user, case.id)
    citizen.post(f"/citizen/cases/{case.id}/rate", data={"rating": "2", "solved": "no", "comment": "摊贩又回来了"})
    with platform.db.session() as session:
        reworked = session.get(Case, case.id)
        assert reworked.status == "handling" and reworked.rework_count == 1
        assert session.get(CaseMilestone, case.id).rating == 2
    # 重办: the reporter sees it on their own page, the department on the case page and in the API
    mine = citizen.get(f"/citizen/cases/{case.id}").get_data(as_text=True)
    assert "已重办 1 次" in mine and "重办" in mine and "摊贩又回来了" in mine
    staff = as_user("chengguan").get(f"/work/cases/{case.id}").get_data(as_text=True)
    assert "重办第 1 次（上限 2 次）" in staff and "督办中" not in staff


def test_a_departments_appeal_is_not_shown_to_the_reporter(platform, as_citizen, as_user):
    citizen = as_citizen()
    report(citizen)
    case = the_case(platform)
    follow_up(platform, as_user, case.id)
    appealed = as_user("chengguan").post(f"/work/cases/{case.id}/appeal",
                                         data={"ground": "out_of_remit", "reason": "该事件不属于城管职责范围"})
    assert appealed.status_code == 302
    with platform.db.session() as session:
        assert session.scalar(select(CaseEvent).where(CaseEvent.action == "appeal_filed")) is not None
    mine = citizen.get(f"/citizen/cases/{case.id}").get_data(as_text=True)
    assert "申诉" not in mine and "不属于城管职责范围" not in mine and "处置反馈" in mine


def test_the_case_page_shows_the_report_photos_as_the_staff_page_does_and_not_the_handlings(platform, as_citizen,
                                                                                            as_user):
    """The citizen's photos show as thumbnails in their own group (web/templates/work/_case_photos.html), not
    again in 我填写的信息; the files the staff added while handling stay on the staff's page."""
    citizen = as_citizen()
    report(citizen)
    case = the_case(platform)
    follow_up(platform, as_user, case.id)
    with platform.db.session() as session:
        files = session.scalars(select(Attachment).where(Attachment.case_id == case.id)
                                .order_by(Attachment.created_at, Attachment.id)).all()
        named = json.dumps(session.get(Case, case.id).form_data)
    reported = [row.id for row in files if row.id in named]
    handled = [row.id for row in files if row.id not in named]
    assert len(reported) == 1 and len(handled) == 1
    page = citizen.get(f"/citizen/cases/{case.id}").get_data(as_text=True)
    group = page.split('id="photos-report"', 1)[1].split("</section>", 1)[0]
    assert f'<img src="/work/attachments/{reported[0]}/thumbnail"' in group
    assert page.count(f"/work/attachments/{reported[0]}\"") == 1          # once: no 附件 link in the details
    assert handled[0] not in page and 'id="photos-feedback"' not in page
    staff = as_user("station").get(f"/work/cases/{case.id}").get_data(as_text=True)
    assert f"/work/attachments/{handled[0]}/thumbnail" in staff.split('id="photos-feedback"', 1)[1]
    assert staff.count(f'href="/work/attachments/{reported[0]}"') == 1   # the thumbnail only, no 附件 row
