"""Which pages each role finds in the menu (pages still check roles and scope themselves)."""
from __future__ import annotations

from flask import current_app

from minqing.core.actors import Actor

# endpoint, label, roles that see it; a role lands on its first entry (home.index), so order is what each role
# does most: a grid worker their grid, a cadre their households, the others their cases
MENU = [
    ("work.my_grid", "我的网格", ("grid_worker",)),
    ("work.households", "走村入户", ("grid_worker", "cadre")),
    ("work.report", "上报事件", ("grid_worker",)),
    ("work.inbox", "事件办理", ("admin", "operator", "department_staff", "grid_worker")),
    ("work.my_matters", "帮办实事", ("cadre", "grid_worker", "operator")),
    ("work.patrols", "巡查任务", ("grid_worker", "department_staff")),
    ("map.index", "民情地图", ("admin", "operator", "department_staff", "grid_worker", "leader")),
    ("manage.dashboard", "小兰民情", ("admin", "operator", "leader")),
    ("manage.key_grids_page", "重点网格", ("admin", "operator", "leader")),
    ("manage.matters_page", "帮办实事台账", ("admin", "operator", "leader")),
    ("manage.rankings_page", "考核排名", ("admin", "operator", "leader", "department_staff")),
    ("manage.schemes_page", "考核方案", ("admin", "operator", "leader")),
    ("work.my_appeals", "申诉", ("department_staff",)),
    ("work.appeal_queue", "申诉审核", ("admin", "operator")),
    ("builder.index", "主题搭建", ("admin", "department_staff")),
    ("ledgers.index", "台账", ("admin", "operator", "department_staff")),
    ("work.publications_page", "政策服务", ("admin", "department_staff")),
    ("citizen.index", "小兰帮办", ("citizen",)),
    ("admin.plugins", "系统管理", ("admin",)),
    ("audit.index", "审计日志", ("auditor",)),  # auditors only: administrators are what they audit
    ("account.security", "账号安全", ("admin", "operator", "department_staff", "grid_worker", "leader", "auditor",
                                        "cadre")),
]


def nav_items(viewer: Actor) -> list[tuple[str, str]]:
    endpoints = current_app.view_functions
    return [(endpoint, label) for endpoint, label, roles in MENU
            if endpoint in endpoints and viewer.has_role(*roles)]
