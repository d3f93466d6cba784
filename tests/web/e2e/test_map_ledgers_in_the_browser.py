"""A department's ledger on the map in real Chromium: turn the layer on, open a record's popup (its answers by
Chinese title and its patrol status), and filter the layer by a field's value."""
from minqing import themes
from minqing.core.actors import system_actor

PHONE = "13912345678"
# two shelters far enough apart inside the worker's small grid not to be clustered together
SHELTERS = (("雁滩公园应急避难场所", "Ⅰ类（长期）", (103.806, 36.012)),
            ("永昌路小学操场避难点", "Ⅲ类（紧急）", (103.845, 36.090)))


def test_a_ledger_layer_shows_its_records_with_popups_and_filters(platform, server, open_page, sign_in):
    with platform.db.session() as session:
        for name, level, (lon, lat) in SHELTERS:
            themes.add_record(platform, session, system_actor("test"), "emergency.shelters",
                              {"name": name, "level": level, "capacity": 3000, "manager_phone": PHONE},
                              lon=lon, lat=lat)

    page, requested = open_page()
    sign_in(page, "worker")
    page.goto(f"{server}/map/")
    page.fill("#layer-search", "应急避难场所")
    item = page.locator("#layer-groups .layer-item", has_text="应急避难场所")
    item.locator("input[type=checkbox]").check()
    markers = page.locator(".leaflet-marker-pane .record-marker")
    markers.nth(1).wait_for()
    assert markers.count() == 2

    page.locator(".record-marker[title='雁滩公园应急避难场所']").click()
    popup = page.locator(".leaflet-popup-content .record-popup")
    popup.wait_for()
    text = popup.inner_text()
    assert "雁滩公园应急避难场所" in text and "场所类别：Ⅰ类（长期）" in text
    assert f"管理负责人电话：{PHONE}" in text and "巡查状态：按期巡查" in text

    item.locator(".record-filter-field").select_option("level")
    item.locator(".record-filter-value").select_option("Ⅲ类（紧急）")
    page.locator(".record-marker[title='永昌路小学操场避难点']").wait_for()
    page.locator(".record-marker[title='雁滩公园应急避难场所']").wait_for(state="detached")
    assert markers.count() == 1
    assert any("field=level" in url for url in requested)
    assert all(url.startswith(server) or url.startswith("data:") for url in requested)
