"""Departments a city runs itself: added by hand with a parent department and the region they serve (administrators
only), and the departments a plugin declares created as soon as the plugin is enabled (admin page or command
line) or the database is upgraded — not only when the demo is built."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from minqing.core.actors import system_actor
from minqing.core.cli import build_cli
from minqing.core.hooks import hookimpl
from minqing.core.models import AuditRecord, Department

COUNTY_BUREAU = {"name": "城关区城市管理综合执法局", "short_name": "城关执法", "parent": "城管",
                 "region": "城关区（620102000000）", "kind": "government"}


def department(platform, key: str) -> Department | None:
    with platform.db.session() as session:
        row = session.scalar(select(Department).where(Department.key == key))
        session.expunge_all()
        return row


def count(platform) -> int:
    with platform.db.session() as session:
        return session.scalar(select(func.count()).select_from(Department))


def test_a_county_bureau_is_added_under_the_city_department(platform, world, as_user):
    admin = as_user("admin")
    response = admin.post("/admin/departments", data=COUNTY_BUREAU)
    assert response.status_code == 302, response.get_data(as_text=True)
    added = department(platform, "urban_management_620102")
    assert (added.name, added.short_name) == ("城关区城市管理综合执法局", "城关执法")
    assert added.parent_id == world.departments["urban_management"] and added.region_id == world.ids["620102000000"]
    page = admin.get("/admin/departments").get_data(as_text=True)
    assert "urban_management_620102" in page and "城关区" in page
    with platform.db.session() as session:
        record = session.scalar(select(AuditRecord).where(AuditRecord.action == "department.add"))
        assert record.actor_name == "admin" and "城关区城市管理综合执法局" in record.summary
    again = admin.post("/admin/departments", data={**COUNTY_BUREAU, "name": "城关区城管执法二大队"})
    assert again.status_code == 302 and department(platform, "urban_management_620102_2") is not None


@pytest.mark.parametrize("fields, message", [
    ({"parent": "没有的部门"}, "没有名为“没有的部门”的职能部门"),
    ({"region": "X（999999999999）"}, "没有编码为“999999999999”的行政区划"),
    ({"name": "城"}, "部门全称须为2至100个字"),
    ({"key": "Bad Key"}, "标识须为2至40个小写字母"),
    ({"key": "water_affairs"}, "标识“water_affairs”已被使用"),
])
def test_bad_input_names_the_field_and_adds_nothing(platform, world, as_user, fields, message):
    before = count(platform)
    response = as_user("admin").post("/admin/departments", data={**COUNTY_BUREAU, **fields})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert count(platform) == before


def test_editing_refuses_a_loop_of_parents(platform, world, as_user):
    admin = as_user("admin")
    admin.post("/admin/departments", data=COUNTY_BUREAU)
    city = world.departments["urban_management"]
    looped = admin.post(f"/admin/departments/{city}", data={"name": "兰州市城市管理局", "short_name": "城管",
                                                            "parent": "城关执法", "active": "1"})
    assert looped.status_code == 400 and "上级部门不能是本部门或其下级部门" in looped.get_data(as_text=True)
    assert department(platform, "urban_management").parent_id is None
    renamed = admin.post(f"/admin/departments/{city}", data={"name": "兰州市城市管理局", "short_name": "市城管",
                                                             "active": "1"})
    assert renamed.status_code == 302 and department(platform, "urban_management").short_name == "市城管"


def test_only_administrators_add_departments(platform, world, as_user):
    before = count(platform)
    for username in ("centre", "chengguan", "worker", "leader", "auditor"):
        client = as_user(username)
        assert client.post("/admin/departments", data=COUNTY_BUREAU).status_code == 403
        assert client.get(f"/admin/departments/{world.departments['urban_management']}").status_code == 403
    assert count(platform) == before


class WinterServicePlugin:
    @hookimpl
    def register_departments(self):
        return [{"key": "winter_service", "name": "兰州市冬季除雪保畅指挥部", "short_name": "除雪保畅",
                 "parent": "urban_management"}]


@pytest.fixture
def winter_service(platform, world):
    platform.plugins.register(WinterServicePlugin(), "test_winter_service")
    with platform.db.session() as session:
        platform.plugins.set_enabled("test_winter_service", False, session=session, actor=system_actor("test"))
    yield
    platform.plugins.unregister("test_winter_service")


def test_enabling_a_plugin_in_the_web_creates_its_departments(platform, world, as_user, winter_service):
    assert department(platform, "winter_service") is None
    response = as_user("admin").post("/admin/plugins/test_winter_service/enable", follow_redirects=True)
    assert "新增职能部门：winter_service" in response.get_data(as_text=True)
    added = department(platform, "winter_service")
    assert added.name == "兰州市冬季除雪保畅指挥部" and added.parent_id == world.departments["urban_management"]
    assert added.region_id == world.ids["620100000000"]   # the city the platform is rooted at


def test_upgrade_and_enabling_on_the_command_line_sync_departments(platform):
    run = lambda *args: CliRunner().invoke(build_cli(), ["--db", platform.db.url, *args])
    assert run("plugins", "disable", "dept_urban_management").exit_code == 0
    upgraded = run("upgrade")
    assert upgraded.exit_code == 0 and "职能部门已与插件同步，新增" in upgraded.output
    assert department(platform, "urban_management") is not None          # from lanzhou_departments
    assert department(platform, "urban_management_chengguan") is None    # its plugin is disabled
    assert run("plugins", "enable", "dept_urban_management").exit_code == 0
    assert department(platform, "urban_management_chengguan").name == "兰州市城关区城市管理综合执法局"
    assert "新增" not in run("upgrade").output                            # nothing more to add
