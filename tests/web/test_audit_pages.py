"""The auditors' pages: every kind of event the issue names is in the log, auditors (and only they) read and
export it with personal data masked, and an auditor can change nothing else."""
from __future__ import annotations

import csv
import io
import re

from openpyxl import load_workbook
from sqlalchemy import select

from minqing.core.actors import Actor, actor_for
from minqing.core.audit.verify import verify
from minqing.core.changes import record_change
from minqing.core.ops.exporting import export_cases
from minqing.core.models import Account, AuditRecord, Case
from minqing.workflows import report_case, transition

from tests.fixtures.web import INSIDE, login

ID_NUMBER, PHONE = "620102199001011234", "13912345678"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def actor(platform, username: str) -> Actor:
    with platform.db.session() as session:
        account = session.scalar(select(Account).where(Account.username == username))
        return actor_for(session, account, origin="10.1.2.3")


def note(platform, action: str, count: int = 1, **fields) -> None:
    with platform.db.session() as session:
        for n in range(count):
            record_change(session, Actor(None, "测试", (), "127.0.0.1"), action, **fields)


def table(response) -> str:
    """The listed records only (the filter form above lists every action's name)."""
    return response.get_data(as_text=True).split("<tbody>", 1)[1]


def actions(platform) -> list[str]:
    with platform.db.session() as session:
        return session.scalars(select(AuditRecord.action).order_by(AuditRecord.seq)).all()


def test_every_kind_of_event_the_issue_names_is_in_the_chained_log(platform, world, client, as_user):
    assert login(client, "worker", "wrong").status_code == 400                        # failed login
    admin = as_user("admin")                                                             # login
    assert admin.post("/admin/plugins/dept_gas/disable", data={"confirm": "yes"}).status_code == 302  # switch
    with platform.db.session() as session:                                               # case transitions
        case = report_case(platform, session, actor(platform, "worker"), theme_key="urban_management.street_vending",
                           title="占道经营", description="夜市占道", lon=INSIDE[0], lat=INSIDE[1], source="grid_worker")
        case_id = case.id
    with platform.db.session() as session:
        transition(platform, session, session.get(Case, case_id), "accept", actor(platform, "station"),
                   {"comment": "受理"})
    with platform.db.session() as session:                                               # export
        export_cases(session, actor(platform, "centre"), io.BytesIO(), file_name="cases.csv")
    logged = actions(platform)
    for expected in ("theme.publish", "auth.login_failed", "auth.login", "plugin.disable", "case.report",
                     "case.accept", "export"):
        assert expected in logged, expected
    with platform.db.session() as session:
        failed = session.scalar(select(AuditRecord).where(AuditRecord.action == "auth.login_failed"))
        switched = session.scalar(select(AuditRecord).where(AuditRecord.action == "plugin.disable"))
        assert failed.origin == "127.0.0.1" and failed.at is not None
        assert (switched.actor_name, switched.object_id, switched.origin) == ("admin", "dept_gas", "127.0.0.1")
        assert verify(session).ok
    page = table(as_user("auditor").get("/audit/?action=plugin"))
    assert "停用插件" in page and "dept_gas" in page and "登录失败" not in page


def test_auditors_filter_and_page_through_the_log(platform, world, as_user):
    note(platform, "case.urge", 60, object_type="case", object_id="42", summary="催办")
    note(platform, "plugin.enable", object_type="plugin", object_id="dept_gas", summary="启用插件 dept_gas")
    auditor = as_user("auditor")
    first = auditor.get("/audit/")
    assert first.status_code == 200
    html = first.get_data(as_text=True)
    seqs = [int(n) for n in re.findall(r'id="audit-(\d+)"', html)]
    assert len(seqs) == 50 and seqs == sorted(seqs, reverse=True)
    assert "启用插件 dept_gas" in html  # newest first
    walked, pages = list(seqs), 1
    while (older := re.search(r'href="([^"]+)" rel="next"', html)) is not None:
        html = auditor.get(older.group(1).replace("&amp;", "&")).get_data(as_text=True)
        walked += [int(n) for n in re.findall(r'id="audit-(\d+)"', html)]
        pages += 1
    assert pages >= 3 and walked == list(range(len(actions(platform)), 0, -1))  # every record once, in order
    only_case = table(auditor.get("/audit/?action=case.urge&object_type=case&object_id=42"))
    assert "启用插件 dept_gas" not in only_case and len(re.findall(r'id="audit-', only_case)) == 50
    by_actor = table(auditor.get("/audit/?actor=auditor"))
    assert "登录成功" in by_actor and "催办" not in by_actor
    assert "没有符合条件的审计记录" in auditor.get("/audit/?until=2001-01-01").get_data(as_text=True)
    page = auditor.get("/audit/?since=去年&actor=" + "甲" * 70).get_data(as_text=True)
    assert "开始日期：开始日期“去年”不是有效日期" in page and "操作人：不能超过 64 个字符" in page
    bad_export = auditor.get("/audit/export?format=pdf")
    assert bad_export.status_code == 400 and "导出格式只能是 CSV 或 XLSX" in bad_export.get_data(as_text=True)
    backwards = auditor.get("/audit/?since=2026-06-02&until=2026-06-01").get_data(as_text=True)
    assert "结束日期不能早于开始日期" in backwards


def test_only_auditors_read_or_export_the_log(app, world, as_user):
    for username in ("admin", "centre", "chengguan", "worker", "leader", "citizen"):
        someone = as_user(username)
        assert someone.get("/audit/").status_code == 403, username
        assert someone.get("/audit/export?format=csv").status_code == 403, username
        assert "审计日志" not in someone.get("/", follow_redirects=True).get_data(as_text=True), username
    assert "/login" in app.test_client().get("/audit/").location  # signed-out visitors are sent to sign in
    assert "审计日志" in as_user("auditor").get("/", follow_redirects=True).get_data(as_text=True)


def test_exports_are_masked_complete_and_audited(platform, world, as_user):
    note(platform, "personal_data.reveal", object_type="resident", object_id="7",
         summary=f"查看居民身份证号 {ID_NUMBER}，电话 {PHONE}", details={"phone": PHONE, "id": ID_NUMBER})
    auditor = as_user("auditor")
    page = auditor.get("/audit/").get_data(as_text=True)
    assert ID_NUMBER not in page and PHONE not in page and "620102********1234" in page and "139****5678" in page
    response = auditor.get("/audit/export?format=csv&action=personal_data")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0][:3] == ["序号", "记录ID", "时间"] and len(rows) == 2
    text = "".join(rows[1])
    assert ID_NUMBER not in text and PHONE not in text and "620102********1234" in text
    workbook = load_workbook(io.BytesIO(auditor.get("/audit/export?format=xlsx").get_data()), read_only=True)
    cells = [[cell for cell in row] for row in workbook.active.iter_rows(values_only=True)]
    assert ID_NUMBER not in repr(cells) and len(cells) == 1 + len(actions(platform)) - 1  # all but this export
    with platform.db.session() as session:
        exports = session.scalars(select(AuditRecord).where(AuditRecord.object_type == "audit_log").order_by(AuditRecord.id)).all()
        assert [(e.action, e.details["format"], e.details["count"]) for e in exports] == [
            ("export", "csv", 1), ("export", "xlsx", len(cells) - 1)]
        assert exports[0].details["action"] == "personal_data" and exports[0].actor_name == "auditor"
        assert verify(session).ok


def _url(rule) -> str:
    """The rule's path with a harmless value for each argument (the first its converter accepts)."""
    path = rule.rule
    for argument in rule.arguments:
        converter = rule._converters.get(argument)
        regex = converter.regex if converter is not None else r"[^/]+"
        value = next(candidate for candidate in ("1", "json", "x") if re.fullmatch(regex, candidate))
        path = re.sub(rf"<(?:[^<>:]+:)?{argument}(?:\([^)]*\))?>", value, path)
    return path


def test_an_auditor_can_change_nothing(app, world, as_user):
    """Every route that accepts a change answers 403 to an auditor (apart from signing in and out and the
    auditor's own password and second factor), and so do the work, administration and builder pages."""
    auditor = as_user("auditor")
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(("auth.", "account.", "static")):
            continue
        url = _url(rule)
        for method in sorted(rule.methods & UNSAFE):
            response = auditor.open(url, method=method, data={})
            assert response.status_code == 403, (method, url, response.status_code)
            checked += 1
        if "GET" in rule.methods and rule.endpoint.split(".")[0] in ("admin", "work", "builder", "manage"):
            assert auditor.get(url).status_code == 403, url
            checked += 1
    assert checked > 40
    assert auditor.get("/audit/").status_code == 200
    assert auditor.post("/logout").status_code == 302  # signing out still works
