"""用户与角色 through the admin pages: accounts created, edited, deactivated and reactivated; roles granted with a
scope picked by name (one by one or by a post's template) and revoked; passwords and second factors reset and
one-time codes given out. Administrators only; every change audited; bad input changes nothing."""
from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import func, select

from minqing.core.accounts import totp
from minqing.core.actors import system_actor
from minqing.core.models import Account, AccountSession, AuditRecord, RoleGrant

from tests.fixtures.web import login

NEW_PASSWORD = "Baita#Shan2026"
OTHER_ROLES = ("centre", "chengguan", "worker", "leader", "auditor")


def account_named(platform, username: str) -> Account:
    with platform.db.session() as session:
        account = session.scalar(select(Account).where(Account.username == username))
        session.expunge_all()
        return account


def grants_of(platform, username: str) -> set[tuple]:
    with platform.db.session() as session:
        rows = session.execute(select(RoleGrant.role, RoleGrant.region_id, RoleGrant.department_id, RoleGrant.grid_id)
                               .join(Account).where(Account.username == username)).all()
    return {tuple(row) for row in rows}


def audited(platform, action: str) -> list[AuditRecord]:
    with platform.db.session() as session:
        rows = session.scalars(select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.id)).all()
        session.expunge_all()
        return rows


def create(admin, username="zhang.wei", display_name="张伟", phone="13900001111"):
    return admin.post("/admin/users", data={"username": username, "display_name": display_name, "phone": phone})


@pytest.fixture
def admin(as_user):
    return as_user("admin")


@pytest.fixture
def new_account(platform, admin) -> int:
    response = create(admin)
    assert response.status_code == 302, response.get_data(as_text=True)
    return account_named(platform, "zhang.wei").id


def test_only_administrators_open_or_change_accounts(platform, as_user, new_account):
    paths = [("get", "/admin/users"), ("get", f"/admin/users/{new_account}"), ("get", "/admin/scopes?kind=grid"),
             ("post", "/admin/users"), ("post", f"/admin/users/{new_account}/edit"),
             ("post", f"/admin/users/{new_account}/active"), ("post", f"/admin/users/{new_account}/grants"),
             ("post", f"/admin/users/{new_account}/password-reset"), ("post", f"/admin/users/{new_account}/code"),
             ("post", f"/admin/users/{new_account}/totp-reset")]
    before = len(audited(platform, "account.create"))
    for username in OTHER_ROLES:
        client = as_user(username)
        for method, path in paths:
            data = {"username": "intruder", "display_name": "x", "role": "admin", "active": "0"}
            response = client.get(path) if method == "get" else client.post(path, data=data)
            assert response.status_code == 403, (username, path)
    assert len(audited(platform, "account.create")) == before
    assert account_named(platform, "intruder") is None
    assert account_named(platform, "zhang.wei").is_active


def test_a_new_account_has_no_password_and_shows_in_the_list(platform, admin, new_account):
    account = account_named(platform, "zhang.wei")
    assert account.password_hash is None and account.password_must_change and account.phone == "13900001111"
    record = audited(platform, "account.create")[-1]
    assert record.object_id == str(new_account) and record.actor_name == "admin"
    assert "139****1111" in record.details["phone"]
    page = admin.get("/admin/users?q=zhang").get_data(as_text=True)
    assert "zhang.wei" in page and "张伟" in page and "待设置密码" in page and "chengguan" not in page


@pytest.mark.parametrize("fields, field, message", [
    ({"username": "ab"}, "username", "用户名须为3至64个字母"),
    ({"username": "admin"}, "username", "用户名“admin”已被使用"),
    ({"username": "ADMIN"}, "username", "已被使用"),
    ({"display_name": ""}, "display_name", "姓名须为1至60个字"),
    ({"phone": "12345"}, "phone", "请输入正确的11位手机号码"),
])
def test_bad_input_for_a_new_account_says_what_is_wrong_and_adds_nothing(platform, admin, fields, field, message):
    before = len(audited(platform, "account.create"))
    with platform.db.session() as session:
        accounts = session.scalar(select(func.count()).select_from(Account))
    response = create(admin, **{"username": "li.na", "display_name": "李娜", "phone": "", **fields})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with platform.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Account)) == accounts
    assert len(audited(platform, "account.create")) == before


def test_edit_name_and_phone_is_audited_and_a_taken_phone_is_refused(platform, admin, new_account):
    response = admin.post(f"/admin/users/{new_account}/edit", data={"display_name": "张伟（网格员）",
                                                                     "phone": "139 0000 2222"})
    assert response.status_code == 302
    account = account_named(platform, "zhang.wei")
    assert (account.display_name, account.phone) == ("张伟（网格员）", "13900002222")
    record = audited(platform, "account.update")[-1]
    assert record.details["display_name"] == ["张伟", "张伟（网格员）"]
    create(admin, username="li.na", display_name="李娜", phone="13900003333")
    refused = admin.post(f"/admin/users/{new_account}/edit", data={"display_name": "改名", "phone": "13900003333"})
    assert refused.status_code == 400 and "该手机号已登记在另一个账号上" in refused.get_data(as_text=True)
    assert account_named(platform, "zhang.wei").display_name == "张伟（网格员）"


def test_grants_are_picked_by_name_and_revoked(platform, world, admin, new_account):
    grant = lambda role, scope: admin.post(f"/admin/users/{new_account}/grants", data={"role": role, "scope": scope})
    assert grant("grid_worker", "永昌路第1网格（G620102001001001）").status_code == 302
    assert grant("operator", "张掖路街道").status_code == 302             # a unique name alone is enough
    assert grant("department_staff", "城管").status_code == 302           # a department by its short name
    assert grant("cadre", "永昌路社区（620102001001）").status_code == 302  # a village cadre
    assert grants_of(platform, "zhang.wei") == {
        ("grid_worker", None, None, world.grids["G620102001001001"]),
        ("operator", world.ids["620102001000"], None, None),
        ("department_staff", None, world.departments["urban_management"], None),
        ("cadre", world.ids["620102001001"], None, None)}
    assert [record.details["role"] for record in audited(platform, "account.grant")] == \
        ["grid_worker", "operator", "department_staff", "cadre"]
    page = admin.get(f"/admin/users/{new_account}").get_data(as_text=True)
    assert "永昌路第1网格（G620102001001001）" in page and "兰州市城市管理局（urban_management）" in page
    with platform.db.session() as session:
        grant_id = session.scalar(select(RoleGrant.id).join(Account).where(
            Account.username == "zhang.wei", RoleGrant.role == "operator"))
    assert admin.post(f"/admin/users/{new_account}/grants/{grant_id}/revoke").status_code == 302
    assert "operator" not in {row[0] for row in grants_of(platform, "zhang.wei")}
    assert audited(platform, "account.revoke")[-1].details["role"] == "operator"


@pytest.mark.parametrize("role, scope, message", [
    ("grid_worker", "没有的网格", "没有名为“没有的网格”的网格"),
    ("grid_worker", "X（G999）", "没有编码为“G999”的网格"),
    ("cadre", "城关区（620102000000）", "村、乡镇干部的范围须为乡镇（街道）、村（社区），“城关区”是区县"),
    ("operator", "", "请选择行政区划"),
    ("citizen", "", "请选择角色"),
])
def test_a_wrong_scope_is_refused_per_field_and_grants_nothing(platform, world, admin, new_account, role, scope,
                                                              message):
    response = admin.post(f"/admin/users/{new_account}/grants", data={"role": role, "scope": scope})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert grants_of(platform, "zhang.wei") == set()
    assert audited(platform, "account.grant") == []


def test_role_templates_set_the_grants_of_a_post(platform, world, admin, new_account):
    apply = lambda template, scope="": admin.post(f"/admin/users/{new_account}/grants",
                                                  data={"template": template, "scope": scope})
    refused = apply("grid_leader", "永昌路第1网格（G620102001001001）")   # a small grid is a 网格员's
    assert refused.status_code == 400
    assert "网格长的范围须为大网格、中网格，“永昌路第1网格”是小网格" in refused.get_data(as_text=True)
    assert apply("grid_leader", "张掖路大网格（G620102001）").status_code == 302
    assert apply("department_handler", "兰州市水务局").status_code == 302
    assert apply("duty_operator", "张掖路街道（620102001000）").status_code == 302
    assert apply("leader", "兰州市").status_code == 302
    assert apply("auditor").status_code == 302
    assert apply("grid_worker", "永昌路第1网格（G620102001001001）").status_code == 302
    assert grants_of(platform, "zhang.wei") == {
        ("grid_worker", None, None, world.grids["G620102001"]),
        ("department_staff", None, world.departments["water_affairs"], None),
        ("operator", world.ids["620102001000"], None, None), ("leader", world.ids["620100000000"], None, None),
        ("auditor", None, None, None), ("grid_worker", None, None, world.grids["G620102001001001"])}
    assert {record.details["template"] for record in audited(platform, "account.grant")} == \
        {"网格长", "部门处置员", "指挥所值班员", "领导", "审计员", "网格员"}
    again = apply("auditor")
    assert again.status_code == 400 and "该账号已有这个角色和范围" in again.get_data(as_text=True)


def test_scope_picker_suggests_by_name(world, admin):
    answer = admin.get("/admin/scopes?kind=grid&q=永昌").get_json()
    assert answer["options"] == ["永昌路中网格（G620102001001）", "永昌路第1网格（G620102001001001）"]
    assert "兰州市城市管理局（urban_management）" in admin.get("/admin/scopes?kind=department&q=城管").get_json()["options"]
    assert admin.get("/admin/scopes?kind=region&q=%").get_json()["options"] == []  # a wildcard is a plain character


def test_deactivation_ends_the_sessions_and_reactivation_lets_in_again(platform, app, world, admin):
    worker = app.test_client()
    assert login(worker, "worker").status_code == 302
    worker_id = account_named(platform, "worker").id
    assert admin.post(f"/admin/users/{worker_id}/active", data={"active": "0"}).status_code == 302
    assert not account_named(platform, "worker").is_active
    assert worker.get("/account/").status_code == 302       # signed out at once
    with platform.db.session() as session:
        assert session.scalar(select(func.count()).select_from(AccountSession).where(
            AccountSession.account_id == worker_id, AccountSession.ended_at.is_(None))) == 0
    assert login(app.test_client(), "worker").status_code == 400
    assert admin.post(f"/admin/users/{worker_id}/active", data={"active": "1"}).status_code == 302
    assert login(app.test_client(), "worker").status_code == 302
    changes = audited(platform, "account.deactivate") + audited(platform, "account.reactivate")
    assert [record.action for record in changes] == ["account.deactivate", "account.reactivate"]
    assert grants_of(platform, "worker")  # its grants (and history) stay


def test_an_administrator_cannot_lock_the_platform_out(platform, world, admin):
    admin_id = account_named(platform, "admin").id
    response = admin.post(f"/admin/users/{admin_id}/active", data={"active": "0"})
    assert response.status_code == 400 and "不能停用自己的账号" in response.get_data(as_text=True)
    with platform.db.session() as session:
        grant_id = session.scalar(select(RoleGrant.id).where(RoleGrant.account_id == admin_id))
    refused = admin.post(f"/admin/users/{admin_id}/grants/{grant_id}/revoke")
    assert refused.status_code == 400 and "唯一在用的系统管理员授权" in refused.get_data(as_text=True)
    assert account_named(platform, "admin").is_active and ("admin", None, None, None) in grants_of(platform, "admin")


def test_password_reset_and_a_code_given_out_lead_to_a_new_password(platform, app, world, admin):
    worker_id = account_named(platform, "worker").id
    assert admin.post(f"/admin/users/{worker_id}/password-reset").status_code == 302
    assert account_named(platform, "worker").password_hash is None
    assert login(app.test_client(), "worker").status_code == 400       # the old password is gone
    page = admin.post(f"/admin/users/{worker_id}/code").get_data(as_text=True)
    code = re.search(r'id="issued-code">(\d{8})<', page).group(1)
    assert code not in str([record.details for record in audited(platform, "account.code_issued")])
    worker = app.test_client()
    signed_in = worker.post("/login/code", data={"username": "worker", "code": code})
    assert signed_in.status_code == 302 and signed_in.location.endswith("/account/password")
    assert worker.get("/work/my-grid").location.endswith("/account/password")  # nothing else first
    assert worker.post("/account/password", data={"new": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert worker.get("/work/my-grid").status_code == 200
    assert login(app.test_client(), "worker", NEW_PASSWORD).status_code == 302
    assert app.test_client().post("/login/code", data={"username": "worker", "code": code}).status_code == 400
    assert [record.action for record in audited(platform, "account.password_reset")] == ["account.password_reset"]


def test_second_factor_reset_by_an_administrator(platform, world, admin):
    with platform.db.session() as session:
        account = session.scalar(select(Account).where(Account.username == "worker"))
        secret = totp.begin_enrolment(session, account)
        totp.confirm_enrolment(session, system_actor("test"), account, pyotp.TOTP(secret).now())
        worker_id = account.id
    assert "重置动态口令" in admin.get(f"/admin/users/{worker_id}").get_data(as_text=True)
    assert admin.post(f"/admin/users/{worker_id}/totp-reset").status_code == 302
    assert account_named(platform, "worker").totp_secret is None
    record = audited(platform, "account.totp_disable")[-1]
    assert record.actor_name == "admin" and "重置账号 worker 的动态口令" in record.summary
