"""台账 in real Chromium: 水务's staff open their river ledger from the menu, draw a river section with
Leaflet-Geoman's line tool (vendored, no CDN), fill the record form and save; the line is stored as GeoJSON, the
record is in the list, and its history names who made it. Then they edit a field (the record's version is sent)
and see the change in the history. No console errors, nothing fetched from another host."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from minqing.core.models import ThemeRecord

from tests.fixtures import trust_world as tw
from tests.fixtures.browser import wait_until

pytestmark = pytest.mark.e2e
SUBMIT = "#ledger-form button[type=submit]:not(.mq-default-submit)"


@pytest.fixture
def world(platform):
    return tw.build(platform, with_drafts=False)


def test_draw_a_river_section_save_it_and_see_it_in_the_list_and_history(server, open_page, sign_in, platform):
    page, requested = open_page()
    sign_in(page, "staff_b", tw.PASSWORD)
    page.click("nav a:text-is('台账')")
    page.wait_for_load_state("networkidle")
    page.click(f"#ledger-themes a[href$='{tw.THEME_B}']")
    page.wait_for_load_state("networkidle")
    page.click("#new-record")
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-ledger-map]").is_visible()
    page.locator(".leaflet-pm-icon-polyline").click()
    canvas = page.locator(".ledger-map-canvas").bounding_box()
    x, y = canvas["x"] + canvas["width"] / 2, canvas["y"] + canvas["height"] / 2
    for dx, dy in ((-120, -40), (0, 30), (110, 60)):
        page.mouse.click(x + dx, y + dy)
    page.locator(".button-container.active .action-finish").click()
    wait_until(page, "() => document.querySelector('[data-ledger-geometry]').value !== ''")
    assert '"LineString"' in page.input_value("[data-ledger-geometry]")
    page.fill("[name='details-river_name']", "黄河")
    page.fill("[name='details-section_name']", "西园段")
    page.fill("[name='details-chief_name']", "王河长")
    page.check("[name='details-chief_level'][value='村级']")
    page.click(SUBMIT)
    page.wait_for_load_state("networkidle")
    assert "已新增台账记录" in page.content()
    with platform.db.session() as session:
        record = session.scalar(select(ThemeRecord).where(ThemeRecord.form_data["section_name"].as_string()
                                                          == "西园段"))
        assert record.geometry["type"] == "LineString" and len(record.geometry["coordinates"]) == 3
        assert record.theme_key == tw.THEME_B and record.version == 1

    # an edit of a field, sent with the record's version, then the list and the history
    page.fill("[name='details-section_name']", "西园段（上游）")
    page.click(SUBMIT)
    page.wait_for_load_state("networkidle")
    assert "已保存（第 2 版）" in page.content()
    page.goto(f"{server}/ledgers/{tw.THEME_B}")
    assert "黄河" in page.locator("#ledger-records").inner_text()
    page.locator("#ledger-records a", has_text="历史").first.click()
    page.wait_for_load_state("networkidle")
    history = page.locator("#ledger-history").inner_text()
    assert "新增" in history and "修改" in history and "西园段（上游）" in history and "位置" in history
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280
    host = urlsplit(server).netloc
    assert all(urlsplit(url).netloc == host for url in requested if url.startswith("http")), requested


def test_a_point_ledger_works_at_phone_width(server, open_page, sign_in, platform):
    page, _requested = open_page(phone=True)
    sign_in(page, "staff", tw.PASSWORD)
    page.goto(f"{server}/ledgers/{tw.THEME_A}/new")
    page.locator(".leaflet-pm-icon-marker").click()
    canvas = page.locator(".ledger-map-canvas").bounding_box()
    page.mouse.click(canvas["x"] + canvas["width"] / 2, canvas["y"] + canvas["height"] / 2)
    wait_until(page, "() => document.querySelector(\"[name='location-lon']\").value !== ''")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px phone"
    page.fill("[name='details-name']", "雁滩夜市")
    page.select_option("[name='details-point_type']", "夜市")
    page.click(SUBMIT)
    page.wait_for_load_state("networkidle")
    assert "已新增台账记录" in page.content()
    with platform.db.session() as session:
        record = session.scalar(select(ThemeRecord).where(ThemeRecord.form_data["name"].as_string() == "雁滩夜市"))
        assert record.lon is not None and record.geometry is None


def test_removing_the_drawn_point_clears_the_form_so_no_old_point_is_sent(server, open_page, sign_in, platform):
    """Geoman's removal tool takes the point off the map and out of the form: its longitude and latitude boxes are
    emptied (a saved record with an old point would otherwise keep it); typing a point again shows a new marker."""
    page, _requested = open_page()
    sign_in(page, "staff", tw.PASSWORD)
    page.goto(f"{server}/ledgers/{tw.THEME_A}/new")
    page.locator(".leaflet-pm-icon-marker").click()
    canvas = page.locator(".ledger-map-canvas").bounding_box()
    page.mouse.click(canvas["x"] + canvas["width"] / 2, canvas["y"] + canvas["height"] / 2)
    wait_until(page, "() => document.querySelector(\"[name='location-lon']\").value !== ''")
    assert page.get_attribute("[data-ledger-map]", "data-drawn") == "point"
    page.locator(".leaflet-pm-icon-delete").click()
    page.locator(".ledger-map-canvas .leaflet-marker-icon:not(.marker-icon)").first.click()
    wait_until(page, "() => document.querySelector(\"[name='location-lon']\").value === ''")
    assert page.input_value("[name='location-lat']") == ""
    assert page.get_attribute("[data-ledger-map]", "data-drawn") is None
    assert page.input_value("[data-ledger-geometry]") == ""
    page.locator(".leaflet-pm-icon-delete").click()   # out of removal mode
    page.fill("[name='location-lon']", "103.83")
    page.fill("[name='location-lat']", "36.05")
    wait_until(page, "() => document.querySelectorAll('.ledger-map-canvas .leaflet-marker-icon').length === 1")


def test_both_maps_share_one_address_search(server, open_page, sign_in):
    """The ledger map's address search is the report picker's markup (report_map/_address_search.html): its
    script finds the parts by the shared classes and searching answers in the shared note line."""
    page, _requested = open_page()
    sign_in(page, "staff", tw.PASSWORD)
    page.goto(f"{server}/ledgers/{tw.THEME_A}/new")
    search = page.locator("[data-ledger-map] .report-map-search")
    assert search.is_visible()
    page.fill("[data-ledger-map] .report-map-query", "张")
    page.click("[data-ledger-map] .report-map-go")
    wait_until(page, "() => document.querySelector('[data-ledger-map] .report-map-note').textContent !== ''")
    assert "至少输入 2 个字" in page.inner_text("[data-ledger-map] .report-map-note")
