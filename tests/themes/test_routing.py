"""Routing by category: the category's department, else the theme's."""
import pytest

from minqing import themes


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
