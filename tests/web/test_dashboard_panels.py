"""The dashboard's panels come from the `dashboard_panels` hook: a plugin's panel is shown on /manage (escaped,
within the viewer's scope as the plugin computed it), a panel of the wrong shape is left out, and the built-in
warning rules' summaries arrive the same way."""
import re

from minqing.core.hooks import hookimpl

from tests.fixtures.web import section


class SnowPanels:
    def __init__(self):
        self.viewers = []

    @hookimpl
    def dashboard_panels(self, viewer, session, now):
        self.viewers.append(viewer.name)
        return [{"key": "snow", "title": "积雪未清路段", "count": 2,
                 "blocks": [{"note": "超过 12 小时未清扫"},
                            {"table": {"id": "snow-streets", "columns": ["路段", {"title": "说明", "wrap": True}],
                                       "rows": [["张掖路", "<script>alert(1)</script>"], ["酒泉路", "已派人"]]}},
                            {"label": "提醒："}, {"items": ["明早再查"]}]},
                {"key": "flood", "title": "汛情", "section": "warnings", "blocks": [{"text": "无险情"}]},
                {"key": "broken", "title": "坏面板", "blocks": [{"html": "<b>不支持</b>"}]}]


def test_a_plugin_panel_shows_on_the_dashboard(platform, as_user):
    plugin = SnowPanels()
    platform.plugins.register(plugin, "snow_panels")
    try:
        page = as_user("leader").get("/manage/").get_data(as_text=True)
    finally:
        platform.plugins.unregister("snow_panels")
    assert plugin.viewers == ["leader"]
    snow = section(page, "panel-snow")
    assert re.search(r'积雪未清路段 <span class="warning-count" id="snow-count">2<', snow)
    assert "<small>超过 12 小时未清扫</small>" in snow and 'id="snow-streets"' in snow
    assert "<td>张掖路</td>" in snow and '<td class="wrap">已派人</td>' in snow
    assert "&lt;script&gt;" in snow and "<script>" not in page                  # text only, escaped
    assert "<strong>提醒：</strong>" in snow and "<li>明早再查</li>" in snow
    assert "汛情" in section(page, "warnings") and "无险情" in section(page, "warnings")
    assert "坏面板" not in page                                    # a block of a kind the hook has not is left out


def test_the_warning_rules_bring_their_panels(platform, as_user, world, system):
    page = as_user("leader").get("/manage/").get_data(as_text=True)
    warnings = section(page, "warnings")
    for count_id in ("surge-count", "visit-count", "household-count"):
        assert f'id="{count_id}"' in warnings
    with platform.db.session() as session:
        platform.plugins.set_enabled("warning_unvisited_households", False, session=session, actor=system)
    page = as_user("leader").get("/manage/").get_data(as_text=True)
    assert 'id="household-count"' not in page and 'id="surge-count"' in page
