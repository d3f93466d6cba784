"""Which pages each role finds in the menu (pages still check roles and scope themselves)."""
from __future__ import annotations

from flask import current_app

from minqing.core.actors import Actor

# endpoint, label, roles that see it
MENU = [
    ("work.my_grid", "我的网格", ("grid_worker",)),
    ("work.report", "上报事件", ("grid_worker",)),
    ("work.inbox", "事件办理", ("admin", "operator", "department_staff", "grid_worker")),
    ("map.index", "民情地图", ("admin", "operator", "department_staff", "grid_worker", "leader")),
    ("manage.dashboard", "小兰民情", ("admin", "operator", "leader")),
    ("manage.rankings_page", "考核排名", ("admin", "operator", "leader", "department_staff")),
    ("work.my_appeals", "申诉", ("department_staff",)),
    ("work.appeal_queue", "申诉审核", ("admin", "operator")),
    ("builder.index", "主题搭建", ("admin", "department_staff")),
    ("work.publications_page", "政策服务", ("admin", "department_staff")),
    ("citizen.index", "小兰帮办", ("citizen",)),
    ("admin.plugins", "系统管理", ("admin",)),
    ("audit.index", "审计日志", ("auditor",)),  # auditors only: administrators are what they audit
    ("account.security", "账号安全", ("admin", "operator", "department_staff", "grid_worker", "leader", "auditor")),
]


def nav_items(viewer: Actor) -> list[tuple[str, str]]:
    endpoints = current_app.view_functions
    return [(endpoint, label) for endpoint, label, roles in MENU
            if endpoint in endpoints and viewer.has_role(*roles)]
