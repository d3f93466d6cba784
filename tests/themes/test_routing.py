"""Routing by category: the category's department, else the theme's."""
import pytest

from minqing import themes

from tests.fixtures.city import build_places


def test_route_by_category(platform, theme, theme_plugin):
    platform.plugins.register(theme_plugin(theme()), "city_plugin")
    vending = themes.get_theme(platform, "urban_management.zz_stalls")
    assert themes.route(vending, "0301") == "urban_management"
    assert themes.route(vending, "0302") == "market_regulation"
    assert themes.route(vending, None) == themes.route(vending, "") == "urban_management"
    assert themes.route(theme(), "0302") == "market_regulation"  # a plain document works too
    assert vending.workflow == "standard" and vending.patrol_every_days == 7
    assert vending.form("report")["properties"]["note"]["type"] == "string" and vending.form("visit") is None
    assert themes.routing_table(vending) == {"0301": "urban_management", "0302": "market_regulation"}
    with pytest.raises(themes.UnknownCategory, match="没有代码为“9999”的分类"):
        themes.route(vending, "9999")


def test_category_routing_to_an_unknown_department_rejects_the_theme(platform, theme, theme_plugin):
    bad = theme(categories=[{"code": "01", "title": "甲", "department": "moon_bureau"}])
    platform.plugins.register(theme_plugin(bad), "city_plugin")
    found = themes.registry(platform)
    assert "urban_management.zz_stalls" not in found.themes
    issue = next(issue for issue in found.issues if issue.plugin == "city_plugin")
    assert issue.problems[0].path == "/categories/0/department" and "moon_bureau" in issue.message


def test_dispatch_without_a_department_follows_the_theme_table(platform, system):
    """No plugin routes this theme: the built-in theme_routing plugin answers last from the published table."""
    from minqing import themes, workflows
    from minqing.core.departments import sync_departments
    from minqing.core.models import Department

    with platform.db.session() as session:
        sync_departments(session, platform.plugins, system)
        themes.sync_themes(platform, session, system)
        build_places(session, [("620100000000", "兰州市", "city", None)],
                     [("G620102001", "网格", "small", None, "620100000000", (103, 36, 104, 37))])
    theme = next(t for t in themes.themes(platform) if t.department == "water_supply")
    category = theme.categories[0]
    with platform.db.session() as session:
        case = workflows.report_case(platform, session, system, theme_key=theme.key, title="停水", description="停水",
                                     lon=103.5, lat=36.5, source="hotline", subcategory=category["code"],
                                     category=category.get("parent", ""))
        case.theme_version = themes.theme_version(session, theme.key).version
        workflows.transition(platform, session, case, "accept", system, {})
        workflows.transition(platform, session, case, "dispatch", system, {})
        department = session.get(Department, case.department_id)
        assert department.key == (category.get("department") or "water_supply")
        assert platform.plugins.is_required("theme_routing")
