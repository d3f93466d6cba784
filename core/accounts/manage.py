"""Staff accounts, their roles and scopes, as an administrator manages them (the admin pages call these).

    account = create(session, actor, username="zhang.wei", display_name="张伟", phone="13900001111")
    grant(session, actor, account, "grid_worker", "永昌路第1网格（G620102001001001）")
    apply_template(session, actor, account, "grid_leader", "张掖路大网格（G620102001）")
    revoke(session, actor, account, grant_id)
    set_active(session, actor, account, False)            # its sign-in sessions end at once
    reset_password(session, actor, account)               # no password until its owner sets one with a code
    reset_totp(session, actor, account)                   # a lost phone: enrol again at the next sign-in

Every change is recorded with `record_change` in the caller's transaction. Bad input raises AccountInvalid with
the messages per field (in Chinese) and changes nothing. A new account has no password: its owner signs in with a
one-time code (core.accounts_codes) and sets one. The platform keeps at least one active administrator.
"""
from __future__ import annotations

import re

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from minqing.core.accounts import sessions as account_sessions, totp
from minqing.core.accounts.scopes import ROLE_TITLES, SCOPE_KIND, STAFF_ROLES, TEMPLATES, CADRE_LEVELS, ScopeInvalid, check_level, grant_columns, resolve
from minqing.core.actors import Actor
from minqing.core.changes import record_change
from minqing.core.privacy.masking import mask_phone
from minqing.core.models import Account, RoleGrant, SigninThrottle
from minqing.core.accounts.verification import InvalidPhone, normalise_phone

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{2,63}$")


class AccountInvalid(ValueError):
    """What is wrong, per form field: {"username": ["用户名已被使用"], ...}."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("；".join(message for messages in errors.values() for message in messages))
        self.errors = errors


def _refuse(field: str, message: str) -> None:
    raise AccountInvalid({field: [message]})


def _clean_name(display_name: str) -> str:
    name = (display_name or "").strip()
    if not 1 <= len(name) <= 60:
        _refuse("display_name", "姓名须为1至60个字")
    return name


def _clean_phone(session: Session, phone: str, account: Account | None = None) -> str | None:
    if not (phone or "").strip():
        return None
    try:
        phone = normalise_phone(phone)
    except InvalidPhone as error:
        _refuse("phone", error.message)
    holder = session.scalar(select(Account).where(Account.phone == phone))
    if holder is not None and holder is not account:
        _refuse("phone", "该手机号已登记在另一个账号上")
    return phone


def create(session: Session, actor: Actor, *, username: str, display_name: str, phone: str = "") -> Account:
    """A staff account without a password or roles (grant them next); its owner sets a password at first sign-in."""
    username = (username or "").strip()
    if not USERNAME.match(username):
        _refuse("username", "用户名须为3至64个字母、数字或 _ . -，以字母或数字开头")
    if session.scalar(select(Account.id).where(func.lower(Account.username) == username.lower())) is not None:
        _refuse("username", f"用户名“{username}”已被使用")
    account = Account(username=username, display_name=_clean_name(display_name),
                      phone=_clean_phone(session, phone), password_hash=None, password_must_change=True)
    session.add(account)
    session.flush()
    record_change(session, actor, "account.create", object_type="account", object_id=account.id,
                  summary=f"新建账号 {username}（{account.display_name}）",
                  details={"phone": mask_phone(account.phone) if account.phone else ""})
    return account


def update(session: Session, actor: Actor, account: Account, *, display_name: str, phone: str = "") -> None:
    name, new_phone = _clean_name(display_name), _clean_phone(session, phone, account)
    changed = {field: [old, new] for field, old, new in (("display_name", account.display_name, name),
                                                         ("phone", account.phone, new_phone)) if old != new}
    if not changed:
        return
    account.display_name, account.phone = name, new_phone
    if "phone" in changed:
        changed["phone"] = [mask_phone(value) if value else "" for value in changed["phone"]]
    titles = "、".join({"display_name": "姓名", "phone": "手机号"}[field] for field in changed)
    record_change(session, actor, "account.update", object_type="account", object_id=account.id,
                  summary=f"修改账号 {account.username} 的{titles}", details=changed)


def _active_admins(session: Session) -> set[int]:
    return set(session.scalars(select(RoleGrant.account_id).join(Account).where(
        RoleGrant.role == "admin", Account.is_active.is_(True))))


def set_active(session: Session, actor: Actor, account: Account, active: bool) -> None:
    """Deactivate (every session of the account ends, its grants stay for its history) or reactivate."""
    if account.is_active == active:
        return
    if not active:
        if account.id == actor.account_id:
            _refuse("account", "不能停用自己的账号")
        if _active_admins(session) == {account.id}:
            _refuse("account", "这是唯一在用的系统管理员账号，不能停用")
    account.is_active = active
    ended = 0 if active else account_sessions.end_all(session, account.id, reason="disabled")
    record_change(session, actor, "account.reactivate" if active else "account.deactivate", object_type="account",
                  object_id=account.id, summary=f"{'启用' if active else '停用'}账号 {account.username}",
                  details={"sessions_ended": ended})


def grant(session: Session, actor: Actor, account: Account, role: str, scope_text: str = "") -> RoleGrant:
    """Give the account a role on a scope (a region subtree, a department or a grid, per the role)."""
    if role not in STAFF_ROLES:
        _refuse("role", "请选择角色")
    kind = SCOPE_KIND[role]
    scope = _scope(session, kind, scope_text, ROLE_TITLES[role], CADRE_LEVELS if role == "cadre" else ())
    return _add_grant(session, actor, account, role, kind, scope)


def apply_template(session: Session, actor: Actor, account: Account, template_key: str,
                   scope_text: str = "") -> list[RoleGrant]:
    """The grants of a post (网格员, 网格长, 指挥所值班员, 部门处置员, 领导, 审计员) on the chosen scope."""
    template = TEMPLATES.get(template_key)
    if template is None:
        _refuse("template", "请选择岗位模板")
    scope = _scope(session, template.kind, scope_text, template.title, template.levels)
    return [_add_grant(session, actor, account, role, template.kind, scope, template=template.title)
            for role in template.roles]


def _scope(session: Session, kind: str | None, text: str, title: str, levels: tuple[str, ...]):
    if kind is None:
        return None
    try:
        scope = resolve(session, kind, text)
        check_level(title, kind, scope, levels)
    except ScopeInvalid as error:
        _refuse("scope", error.message)
    return scope


def _add_grant(session: Session, actor: Actor, account: Account, role: str, kind: str | None, scope,
               template: str = "") -> RoleGrant:
    if any(existing.role == "citizen" for existing in account.grants):
        _refuse("role", "群众账号不能授予工作人员角色")
    columns = grant_columns(kind, scope) if scope is not None else grant_columns(None, None)
    for existing in account.grants:
        if existing.role == role and all(getattr(existing, column) == value for column, value in columns.items()):
            _refuse("scope", "该账号已有这个角色和范围")
    row = RoleGrant(role=role, **columns)
    account.grants.append(row)
    session.flush()
    where = f"（{scope.name}）" if scope is not None else ""
    record_change(session, actor, "account.grant", object_type="account", object_id=account.id,
                  summary=f"授予 {account.username} {ROLE_TITLES[role]}{where}" + (f"，岗位：{template}" if template else ""),
                  details={"grant_id": row.id, "role": role, **columns, "template": template})
    return row


def revoke(session: Session, actor: Actor, account: Account, grant_id: int) -> None:
    row = next((existing for existing in account.grants if existing.id == grant_id), None)
    if row is None:
        _refuse("grant", "该账号没有这项授权（可能已被收回）")
    if row.role == "admin" and account.is_active and _active_admins(session) == {account.id} \
            and sum(1 for existing in account.grants if existing.role == "admin") == 1:
        _refuse("grant", "这是唯一在用的系统管理员授权，不能收回")
    details = {"grant_id": row.id, "role": row.role, "region_id": row.region_id,
               "department_id": row.department_id, "grid_id": row.grid_id}
    account.grants.remove(row)
    session.flush()
    record_change(session, actor, "account.revoke", object_type="account", object_id=account.id,
                  summary=f"收回 {account.username} 的{ROLE_TITLES.get(row.role, row.role)}授权", details=details)


def reset_password(session: Session, actor: Actor, account: Account) -> None:
    """The password stops working at once; its owner signs in with a one-time code and sets a new one."""
    account.password_hash, account.password_must_change = None, True
    account.failed_logins, account.locked_until = 0, None
    session.execute(delete(SigninThrottle).where(SigninThrottle.account_id == account.id))
    ended = account_sessions.end_all(session, account.id, reason="password")
    record_change(session, actor, "account.password_reset", object_type="account", object_id=account.id,
                  summary=f"重置账号 {account.username} 的密码（下次登录须用验证码设置新密码）",
                  details={"sessions_ended": ended})


def reset_totp(session: Session, actor: Actor, account: Account) -> bool:
    """Remove the account's second factor (a lost phone); False when it had none (nothing recorded)."""
    enabled = totp.is_enabled(account)
    totp.disable(session, actor, account)
    return enabled


def find(session: Session, account_id: int) -> Account | None:
    return session.get(Account, account_id)


def listing(session: Session, *, query: str = "", page: int = 1, per_page: int = 100) -> list[Account]:
    """Accounts by id, those whose user name, name or phone contains `query`; citizens are not staff, left out."""
    statement = select(Account).where(~Account.grants.any(RoleGrant.role == "citizen"))
    words = (query or "").strip()[:50]
    if words:
        pattern = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(Account.username.like(pattern, escape="\\")
                                    | Account.display_name.like(pattern, escape="\\")
                                    | Account.phone.like(pattern, escape="\\"))
    return list(session.scalars(statement.order_by(Account.id).limit(per_page).offset((page - 1) * per_page)))
