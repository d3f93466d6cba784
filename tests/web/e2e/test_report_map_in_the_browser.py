"""Reporting on the map in real Chromium at phone width: a grid worker finds an address, places the report by
tapping the map, drags the marker, is warned that the point is outside their own grid, sends it and opens the
case; a citizen finds the theme by searching and reports with the citizen's form (no worker's fields, no photo
required). No console error on the way (the open_page fixture fails the test on any)."""
from __future__ import annotations

import re

import pytest
from PIL import Image
from sqlalchemy import select

from minqing.core.models import Address, Case

from tests.fixtures.web import INSIDE, OTHER
from tests.fixtures.browser import wait_until

THEME = "urban_management.street_vending"
SUBMIT = "main form[data-mq-form] button[type=submit]:not(.mq-default-submit)"


@pytest.fixture
def address(platform, world):
    with platform.db.session() as session:
        session.add(Address(code="YC-12", text="张掖路街道永昌路12号", lon=INSIDE[0], lat=INSIDE[1],
                            grid_id=world.grids["G620102001001001"], region_code="620102001001"))
        session.commit()


def _point(page) -> tuple[float, float]:
    return (float(page.input_value("input[name='details-location-lon']")),
            float(page.input_value("input[name='details-location-lat']")))


def _changed_from(page, lon: float) -> None:
    wait_until(page,
               f"() => document.querySelector(\"input[name='details-location-lon']\").value !== '{lon:.6f}'")


def _tap(page, dx: float, dy: float) -> None:
    box = page.locator(".report-map-canvas").bounding_box()
    page.touchscreen.tap(box["x"] + box["width"] / 2 + dx, box["y"] + box["height"] / 2 + dy)


def test_a_worker_places_a_report_on_the_map_and_opens_the_case(server, open_page, sign_in, platform, world,
                                                                 address, tmp_path):
    photo = tmp_path / "现场.jpg"
    Image.new("RGB", (64, 48), (30, 140, 90)).save(photo, format="JPEG")
    worker, requested = open_page(phone=True)
    sign_in(worker, "worker")
    worker.goto(f"{server}/work/report/{THEME}")
    worker.locator("[data-report-map]").wait_for(state="visible")
    assert worker.locator("fieldset[data-mq-geo] [data-report-map]").count() == 1   # inside the place field
    wait_until(worker, "() => document.querySelector('[data-report-map]').dataset.ownGridShown === '1'")

    worker.fill("input[name=title]", "酒泉路流动摊贩占道")
    worker.select_option("select[name='details-vending_type']", "流动摊贩")
    worker.check("input[name='details-blocks_passage'][value='false']")
    worker.check("input[name='details-persuaded'][value='false']")
    worker.set_input_files("input[name='details-photos']", str(photo))

    worker.fill(".report-map-query", "永昌路12号")          # a standard address of the worker's grid
    worker.click(".report-map-go")
    worker.locator(".report-map-result", has_text="张掖路街道永昌路12号").click()
    assert worker.input_value("input[name='details-address']") == "张掖路街道永昌路12号"
    assert _point(worker) == pytest.approx(INSIDE, abs=1e-6)

    _tap(worker, 40, 30)                                       # tap to place
    _changed_from(worker, INSIDE[0])
    tapped = _point(worker)
    assert tapped[0] > INSIDE[0] and tapped[1] < INSIDE[1]     # right of and below the centre, as tapped
    assert tapped == pytest.approx(INSIDE, abs=0.01)

    pin = worker.locator(".report-map-pin").bounding_box()   # drag the marker to adjust
    worker.mouse.move(pin["x"] + pin["width"] / 2, pin["y"] + pin["height"] / 2)
    worker.mouse.down()
    worker.mouse.move(pin["x"] - 30, pin["y"] - 20, steps=8)
    worker.mouse.up()
    _changed_from(worker, tapped[0])
    dragged = _point(worker)
    assert dragged[0] < tapped[0] and dragged[1] > tapped[1]

    # Typed coordinates move the map there (the other township's grid); a tap then places the report.
    worker.fill("input[name='details-location-lon']", str(OTHER[0]))
    worker.fill("input[name='details-location-lat']", str(OTHER[1]))
    _tap(worker, -25, 15)
    _changed_from(worker, OTHER[0])
    placed = _point(worker)
    assert placed[0] < OTHER[0] and placed == pytest.approx(OTHER, abs=0.01)

    warning = worker.locator("#grid-own")
    warning.wait_for(state="visible")
    assert "不在您负责的网格内" in warning.inner_text() and "仍可上报" in warning.inner_text()
    assert worker.locator("#grid-check").is_hidden()
    worker.click(SUBMIT)
    worker.wait_for_url(re.compile(r"/work/cases/\d+$"))
    page = worker.content()
    assert "已上报，事件编号" in page and "酒泉路流动摊贩占道" in page and "页面不存在" not in page
    with platform.db.session() as session:
        case = session.scalar(select(Case))
        assert case.grid_id == world.grids["G620102002"]
        assert (case.lon, case.lat) == pytest.approx(placed, abs=1e-6)
    assert all(url.startswith(server) for url in requested)          # no tiles, nothing off the machine


def test_a_citizen_searches_the_theme_and_reports_with_the_citizen_form(server, open_page, sign_in, platform,
                                                                        world):
    citizen, requested = open_page(phone=True)
    sign_in(citizen, "citizen")
    citizen.goto(f"{server}/citizen/report")
    citizen.fill("form[data-theme-search] input[name=q]", "占道")   # filtered while typing
    vending = citizen.locator(f"a[data-theme='{THEME}']")
    vending.wait_for(state="visible")
    assert citizen.locator("a[data-theme='water_affairs.pipe_burst']:visible").count() == 0
    vending.click()
    citizen.wait_for_load_state("networkidle")
    form = citizen.locator("main form[data-mq-form]")
    assert "是否已现场劝导" not in form.inner_text() and "经营类型" not in form.inner_text()
    assert "情况描述" in form.inner_text()
    citizen.locator("[data-report-map]").wait_for(state="visible")
    citizen.fill("input[name=title]", "小区门口有人摆摊占道")
    citizen.fill("input[name='details-address']", "永昌路12号门前")
    citizen.fill("textarea[name='details-description'], input[name='details-description']", "晚上摆摊占用人行道")
    box = citizen.locator(".report-map-canvas").bounding_box()
    citizen.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wait_until(citizen, "() => document.querySelector(\"input[name='details-location-lon']\").value !== ''")
    # The city's centre may lie outside the test grids: the note says so and the report waits for another place.
    citizen.fill("input[name='details-location-lon']", str(world.inside[0]))
    citizen.fill("input[name='details-location-lat']", str(world.inside[1]))
    citizen.locator("input[name='details-location-lat']").blur()
    citizen.locator(".report-map-pin").wait_for(state="visible")
    wait_until(citizen, "() => document.getElementById('grid-check').hidden")
    assert citizen.locator("#grid-own").is_hidden()                  # a citizen has no grid of their own
    citizen.click(SUBMIT)
    citizen.wait_for_url(re.compile(r"/citizen/cases/\d+$"))
    assert "已提交，事件编号" in citizen.content()
    with platform.db.session() as session:
        case = session.scalar(select(Case))
        assert set(case.form_data) == {"address", "location", "description"} and case.source == "citizen"
    assert all(url.startswith(server) for url in requested)
