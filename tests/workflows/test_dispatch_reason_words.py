"""The dispatch suggestion's reason is a sentence for people: the rule that decided is named by its plugin's
Chinese title, never by the plugin's internal id (it read "按属地权责规则（dept_urban_management）")."""
from __future__ import annotations

from minqing.core.models import Case
from minqing.plugins import urban_management
from minqing.workflows.dispatch import catalogue


def test_a_plugin_routed_reason_names_the_plugin_in_chinese(platform, world):
    with platform.db.session() as session:
        found = catalogue.categories(platform, session)
        vending = next(category for code, category in found.items() if code in urban_management.STREET_VENDING)
        case = Case(title="流动摊贩", description="路口占道", region_code="620102001000", grid_id=None)
        answer = catalogue.responsible(platform, session, vending, case)
    assert answer.department_key == "urban_management_chengguan"
    assert "dept_urban_management" not in answer.reason and "（" not in answer.reason
    assert f"按“{urban_management.MINQING_TITLE}”的属地权责规则由兰州市城关区城市管理综合执法局直接负责" in answer.reason
