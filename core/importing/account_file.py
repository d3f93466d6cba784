"""`minqing import accounts FILE`: the staff roster, one row per grant (a repeated username adds grants).

The roster is the truth for the accounts it names: their name, phone and grants become what the file says
(grants not in the file are revoked), so importing the same file twice changes nothing. No password travels in
the roster: a new account has none and must set one at first sign-in (`password_must_change`).
`deactivate_missing` also deactivates the staff accounts the file no longer names (never a citizen's account,
and never the last administrator).

A grid worker's grant also makes them a member of the grid (网格长 of a large or medium grid, 专职网格员 of a
small one), which the grid's staff counts read. A cadre's row may give their post (`post`: 村两委, 乡镇包村干部,
党组织书记, 自然村长/村民小组长) and the grids they answer for (`grids`: grid codes separated by ";"), within their
village or township (core.grassroots.cadres); a cadre row without a post leaves the recorded post as it is.
"""
from __future__ import annotations

import dataclasses
import re

from sqlalchemy import delete, insert, select
from tqdm import tqdm

from ..grassroots import cadres
from ..changes import record_change
from ..models import Account, Department, Grid, GridMember, Person, Region, Role, RoleGrant
from minqing.core.geo.regions import LEVEL_NAMES, prefix
from . import columns as C
from . import values as V
from .city import Kind, table_rows
from .kinds import chunks

COLUMNS = (
    C.Column("username", "用户名", ("账号", "登录名", "username", "user"), required=True),
    C.Column("name", "姓名", ("name", "display_name"), required=True),
    C.Column("phone", "手机号", ("手机号码", "联系电话", "电话", "phone", "mobile")),
    C.Column("role", "角色", ("role",), required=True),
    C.Column("scope", "范围", ("管辖范围", "区划或部门", "scope")),
    C.Column("grid_code", "网格编码", ("网格", "所属网格", "grid", "grid_code", "gridcode")),
    C.Column("post", "职务", ("干部职务", "post")),
    C.Column("grids", "负责网格", ("包抓网格", "包网格", "grids")),
)
_GRID_LIST = re.compile(r"[;；,，、\s]+")
ROLES = {
    "admin": Role.ADMIN, "系统管理员": Role.ADMIN, "管理员": Role.ADMIN,
    "operator": Role.OPERATOR, "值班员": Role.OPERATOR, "指挥所值班员": Role.OPERATOR,
    "department_staff": Role.DEPARTMENT_STAFF, "部门处置员": Role.DEPARTMENT_STAFF, "部门工作人员": Role.DEPARTMENT_STAFF,
    "grid_worker": Role.GRID_WORKER, "网格员": Role.GRID_WORKER, "网格长": Role.GRID_WORKER,
    "cadre": Role.CADRE, "干部": Role.CADRE, "村干部": Role.CADRE, "乡镇干部": Role.CADRE,
    "leader": Role.LEADER, "领导": Role.LEADER, "auditor": Role.AUDITOR, "审计员": Role.AUDITOR,
}
ROLE_CHOICES = "admin、operator、department_staff、grid_worker、cadre、leader 或 auditor"
REGION_ROLES = (Role.OPERATOR, Role.LEADER, Role.CADRE)
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{2,63}$")   # the rule of the admin pages (core/accounts/manage.py)


@dataclasses.dataclass(frozen=True)
class _Grant:
    role: str
    region_id: int | None = None
    department_id: int | None = None
    grid_id: int | None = None


@dataclasses.dataclass
class _Person:
    where: int
    username: str
    name: str
    phone: str | None
    grants: dict[_Grant, int] = dataclasses.field(default_factory=dict)   # grant → its row
    post: tuple[str, int, tuple[int, ...]] | None = None   # a cadre's (post, region id, grid ids)


class Accounts(Kind):
    name, label = "accounts", "账号"

    def check(self, session) -> None:
        self.regions = {code: (region_id, level) for region_id, code, level
                        in session.execute(select(Region.id, Region.code, Region.level))}
        self.region_codes = {region_id: code for code, (region_id, _level) in self.regions.items()}
        self.departments = dict(session.execute(select(Department.key, Department.id)).all())
        self.grids = {code: (grid_id, level, region_code) for grid_id, code, level, region_code
                      in session.execute(select(Grid.id, Grid.code, Grid.level, Grid.region_code))}
        self.grid_region_ids = {grid_id: self.regions[region_code][0] for grid_id, _level, region_code
                                in self.grids.values() if region_code in self.regions}
        self.phones = {phone: username for username, phone
                       in session.execute(select(Account.username, Account.phone).where(Account.phone.is_not(None)))}
        self.usernames = {username.lower(): username for username in session.scalars(select(Account.username))}
        self.people: dict[str, _Person] = {}
        self.file_phones: dict[str, str] = {}
        rows = tqdm(table_rows(self.path, COLUMNS), desc="检查账号", unit="行", disable=not self.show_progress)
        for where, cells, _ in rows:
            self.summary.checked += 1
            self._row(where, cells)
        if self.options.get("deactivate_missing"):
            self._plan_deactivation(session)

    def _row(self, where: int, cells: dict) -> None:
        username, name = cells.get("username", ""), cells.get("name", "")
        if not _USERNAME.match(username):
            self.fail(where, username, "username", "用户名须为3至64个字母、数字或 _ . -，以字母或数字开头")
            return
        known = self.usernames.setdefault(username.lower(), username)
        if known != username:   # sign-in and the admin pages ignore case
            self.fail(where, username, "username", f"用户名与已有账号 {known} 只差大小写")
            return
        problems = len(self.summary.problems)
        if not name:
            self.fail(where, username, "name", "姓名不能为空")
        elif len(name) > 50:
            self.fail(where, username, "name", "姓名超过50个字符")
        phone = None
        if cells.get("phone"):
            try:
                phone = V.phone(cells["phone"])
            except V.Bad as error:
                self.fail(where, username, "phone", str(error))
        grant = self._grant(where, username, cells)
        post = self._post(where, username, grant, cells)
        if len(self.summary.problems) > problems:
            return
        self._add(where, username, name, phone, grant)
        if post is not None:
            person = self.people[username]
            if person.post is not None and person.post != post:
                self.fail(where, username, "post", "同一账号只能有一个干部职务")
            person.post = post

    def _post(self, where: int, username: str, grant: _Grant | None, cells: dict):
        """A cadre's post and grids from the `post` and `grids` columns; None when the row gives none."""
        post_text, grids_text = cells.get("post", ""), cells.get("grids", "")
        if not post_text and not grids_text:
            return None
        if grant is None:
            return None
        if grant.role != Role.CADRE:
            self.fail(where, username, "post" if post_text else "grids", "只有干部（cadre）填写职务和负责网格")
            return None
        if not post_text:
            self.fail(where, username, "post", f"填写负责网格时须填写职务：{cadres.POST_CHOICES}")
            return None
        try:
            post = cadres.parse_post(post_text)
        except cadres.CadreInvalid as error:
            self.fail(where, username, "post", error.message)
            return None
        region_code = self.region_codes[grant.region_id]
        grid_ids = []
        for code in filter(None, _GRID_LIST.split(grids_text)):
            grid = self.grids.get(code)
            if grid is None:
                self.fail(where, username, "grids", f"网格 {code} 不存在：请先导入网格")
            elif not prefix(grid[2]).startswith(prefix(region_code)):
                self.fail(where, username, "grids", f"网格 {code} 不在干部的范围 {region_code} 内")
            else:
                grid_ids.append(grid[0])
        return post, grant.region_id, tuple(sorted(set(grid_ids)))

    def _add(self, where: int, username: str, name: str, phone: str | None, grant: _Grant) -> None:
        person = self.people.get(username)
        if person is None:
            person = self.people[username] = _Person(where, username, name, phone)
            if phone:
                other = self.file_phones.get(phone) or self.phones.get(phone)
                if other and other != username:
                    self.fail(where, username, "phone", f"手机号已被账号 {other} 使用")
                self.file_phones.setdefault(phone, username)
        elif person.name != name:
            self.fail(where, username, "name", f"同一账号的姓名与第{person.where}行不一致")
            return
        elif phone != person.phone:
            self.fail(where, username, "phone", f"同一账号的手机号与第{person.where}行不一致")
            return
        if grant in person.grants:
            self.fail(where, username, "role", f"与第{person.grants[grant]}行的授权重复")
        else:
            person.grants[grant] = where

    def _grant(self, where: int, username: str, cells: dict) -> _Grant | None:
        role_text, scope, grid_code = cells.get("role", ""), cells.get("scope", ""), cells.get("grid_code", "")
        role = ROLES.get(role_text.lower()) or ROLES.get(role_text)
        if role is None:
            self.fail(where, username, "role", f"角色“{role_text}”无效：应为{ROLE_CHOICES}")
            return None
        if grid_code and role != Role.GRID_WORKER:
            self.fail(where, username, "grid_code", "只有网格员（grid_worker）填写网格编码")
        if role in (Role.ADMIN, Role.AUDITOR):
            if scope:
                self.fail(where, username, "scope", f"角色 {role} 不需要范围：请留空")
            return _Grant(role)
        if role == Role.DEPARTMENT_STAFF:
            if scope not in self.departments:
                self.fail(where, username, "scope", f"部门“{scope}”不存在：部门处置员的范围应为部门标识（key）"
                          if scope else "部门处置员必须填写范围（部门标识）")
                return None
            return _Grant(role, department_id=self.departments[scope])
        if role == Role.GRID_WORKER:
            return self._grid_grant(where, username, scope, grid_code)
        return self._region_grant(where, username, role, scope)

    def _region_grant(self, where: int, username: str, role: str, scope: str) -> _Grant | None:
        if not scope:
            self.fail(where, username, "scope", "必须填写范围（区划代码）")
            return None
        region = self.regions.get(scope)
        if region is None:
            self.fail(where, username, "scope", f"区划 {scope} 不存在：请先导入区划")
            return None
        if role == Role.CADRE and region[1] not in ("village", "township"):
            self.fail(where, username, "scope", f"干部（cadre）的范围应为村(社区)或乡镇(街道)，区划 {scope} 是"
                                                f"{LEVEL_NAMES[region[1]]}")
            return None
        return _Grant(role, region_id=region[0])

    def _grid_grant(self, where: int, username: str, scope: str, grid_code: str) -> _Grant | None:
        if not grid_code:
            self.fail(where, username, "grid_code", "网格员（grid_worker）必须填写网格编码")
            return None
        grid = self.grids.get(grid_code)
        if grid is None:
            self.fail(where, username, "grid_code", f"网格 {grid_code} 不存在：请先导入网格")
            return None
        if scope and (scope not in self.regions or not (prefix(grid[2]).startswith(prefix(scope))
                                                         or prefix(scope).startswith(prefix(grid[2])))):
            self.fail(where, username, "scope", f"范围 {scope} 与网格 {grid_code} 的区划 {grid[2]} 不符（可留空）")
            return None
        return _Grant(Role.GRID_WORKER, grid_id=grid[0])

    def _plan_deactivation(self, session) -> None:
        """Staff accounts the file no longer names; refuse when no administrator would remain."""
        staff = session.execute(select(Account.username, RoleGrant.role).join(RoleGrant)
                                .where(Account.is_active.is_(True))).all()
        roles: dict[str, set[str]] = {}
        for username, role in staff:
            roles.setdefault(username, set()).add(role)
        self.missing = sorted(username for username, granted in roles.items()
                              if username not in self.people and granted - {Role.CITIZEN})
        admins_left = [username for username, granted in roles.items()
                       if Role.ADMIN in granted and username not in self.missing and username not in self.people]
        admins_in_file = [person for person in self.people.values()
                          if any(grant.role == Role.ADMIN for grant in person.grants)]
        if self.missing and not admins_left and not admins_in_file:
            self.fail(0, "", "role", "停用名单外的账号后将没有可用的系统管理员：名单中应至少有一个 admin")
        self.summary.counts["deactivated"] = len(self.missing)
        if self.missing:
            shown = "、".join(self.missing[:20]) + ("等" if len(self.missing) > 20 else "")
            self.summary.warnings.append(f"将停用名单外的 {len(self.missing)} 个账号：{shown}")

    # -- writing ------------------------------------------------------------------------------------------------

    def apply(self, session) -> None:
        summary = self.summary
        for name in ("added", "updated", "reactivated", "granted", "revoked", "unchanged"):
            summary.counts[name] = 0
        accounts = {account.username: account for part in chunks(list(self.people))
                    for account in session.scalars(select(Account).where(Account.username.in_(part)))}
        person_ids = sorted(account.person_id for account in accounts.values() if account.person_id)
        persons = {staff.id: staff for part in chunks(person_ids)
                   for staff in session.scalars(select(Person).where(Person.id.in_(part)))}
        grid_levels = {grid_id: level for grid_id, level, _ in self.grids.values()}
        known = [person for person in self.people.values() if person.username in accounts]
        for person in tqdm(known, desc="更新账号", unit="个", disable=not self.show_progress or not known):
            account = accounts[person.username]
            self._sync(session, account, persons.get(account.person_id), person, grid_levels)
        for username in getattr(self, "missing", ()):
            account = session.scalar(select(Account).where(Account.username == username))
            account.is_active = False
        session.flush()
        account_ids = {username: account.id for username, account in accounts.items()}
        account_ids.update(self._create(session, [person for person in self.people.values()
                                                  if person.username not in accounts], grid_levels))
        self._apply_posts(session, account_ids)
        counts = summary.counts
        summary.written = any(counts.get(name) for name in ("added", "updated", "reactivated", "granted", "revoked",
                                                            "deactivated", "posts"))
        if summary.written:
            record_change(session, self.actor, "import", object_type="accounts", object_id=self.path.name,
                          summary=f"导入账号：新增{counts['added']}个，更新{counts['updated']}个，"
                                  f"授权{counts['granted']}项，撤销{counts['revoked']}项，"
                                  f"停用{counts.get('deactivated', 0)}个，恢复{counts['reactivated']}个，"
                                  f"干部职务变更{counts['posts']}个",
                          details={"file": self.path.name, **counts,
                                   "deactivated_accounts": list(getattr(self, "missing", ()))})

    def _apply_posts(self, session, account_ids: dict[str, int]) -> None:
        """The cadres' posts and grids the file gives (all set at once: cadres.set_posts writes only what
        changed); a post of an account no longer a cadre is removed."""
        posts = {account_ids[person.username]: person.post for person in self.people.values()
                 if person.post is not None}
        no_longer = [account_ids[person.username] for person in self.people.values() if person.post is None
                     and not any(grant.role == Role.CADRE for grant in person.grants)]
        self.summary.counts["posts"] = cadres.set_posts(session, posts, dismiss=no_longer)

    def _create(self, session, people: list[_Person], grid_levels: dict) -> dict[str, int]:
        """The new accounts, in sets: their persons, accounts, grants and grid memberships, one statement each
        (ids come back in the order of the rows). Returns username → account id."""
        if not people:
            return {}
        homes = [_home(person, self.grid_region_ids) for person in people]
        person_ids = session.scalars(insert(Person).returning(Person.id, sort_by_parameter_order=True), [
            {"name": person.name, "phone": person.phone, "region_id": region_id, "department_id": department_id}
            for person, (region_id, department_id) in zip(people, homes)]).all()
        account_ids = session.scalars(insert(Account).returning(Account.id, sort_by_parameter_order=True), [
            {"username": person.username, "display_name": person.name, "phone": person.phone, "person_id": person_id,
             "password_hash": None, "password_changed_at": None, "password_must_change": True}
            for person, person_id in zip(people, person_ids)]).all()
        grants, members = [], []
        for person, person_id, account_id in zip(people, person_ids, account_ids):
            for grant in person.grants:
                grants.append({"account_id": account_id, "role": grant.role, "region_id": grant.region_id,
                               "department_id": grant.department_id, "grid_id": grant.grid_id})
                if grant.grid_id:
                    members.append({"grid_id": grant.grid_id, "person_id": person_id,
                                    "role": _member_role(grid_levels, grant.grid_id)})
        # NULLs written as such: the ORM's bulk insert leaves a None out, and a batch ends where the columns change
        # (a group leader's cadre grant, then their grid worker's grant, ...), a statement a row
        session.execute(insert(RoleGrant).execution_options(render_nulls=True), grants)
        if members:
            session.execute(insert(GridMember), members)
        self.summary.count("added", len(people))
        self.summary.count("granted", len(grants))
        return {person.username: account_id for person, account_id in zip(people, account_ids)}

    def _sync(self, session, account: Account, staff: Person | None, person: _Person, grid_levels: dict) -> None:
        changed = False
        if account.display_name != person.name or account.phone != person.phone:
            account.display_name, account.phone = person.name, person.phone
            changed = True
        if staff is None:
            region_id, department_id = _home(person, self.grid_region_ids)
            staff = Person(name=person.name, phone=person.phone, region_id=region_id, department_id=department_id)
            session.add(staff)
            session.flush()
            account.person_id = staff.id
            changed = True
        elif staff.name != person.name or staff.phone != person.phone:
            staff.name, staff.phone = person.name, person.phone
            changed = True
        if not account.is_active:
            account.is_active = True
            self.summary.count("reactivated")
        granted = {_Grant(grant.role, grant.region_id, grant.department_id, grant.grid_id): grant
                   for grant in account.grants}
        for grant, row in granted.items():
            if grant not in person.grants:
                account.grants.remove(row)
                self.summary.count("revoked")
                if grant.grid_id:
                    session.execute(delete(GridMember).where(GridMember.grid_id == grant.grid_id,
                                                             GridMember.person_id == staff.id))
        for grant in person.grants:
            if grant not in granted:
                account.grants.append(RoleGrant(role=grant.role, region_id=grant.region_id,
                                                department_id=grant.department_id, grid_id=grant.grid_id))
                self.summary.count("granted")
                if grant.grid_id:
                    session.add(GridMember(grid_id=grant.grid_id, person_id=staff.id,
                                           role=_member_role(grid_levels, grant.grid_id)))
        self.summary.count("updated" if changed else "unchanged")


def _member_role(grid_levels: dict, grid_id: int) -> str:
    return "full_time" if grid_levels.get(grid_id) == "small" else "leader"


def _home(person: _Person, grid_region_ids: dict[int, int]) -> tuple[int | None, int | None]:
    """Where the person works, from their first scoped grant: (region id, department id)."""
    for grant in person.grants:
        if grant.region_id or grant.department_id:
            return grant.region_id, grant.department_id
        if grant.grid_id:
            return grid_region_ids.get(grant.grid_id), None
    return None, None
