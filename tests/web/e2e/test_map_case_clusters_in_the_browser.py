"""The map's cases in real Chromium, on a desktop and on a phone (issue #20): zoomed out to the city, numbered
circles per region from the server (no case markers); a click on a circle zooms in; in a street, the markers."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from minqing.core.actors import actor_for
from minqing.core.models import Account
from minqing.workflows import report_case

from tests.fixtures.browser import wait_until
from tests.fixtures.web import INSIDE, OTHER

MAP = "document.getElementById('map').dataset"


def _cases(platform) -> None:
    """Three cases around 永昌路 (张掖路街道), two in 酒泉路街道."""
    with platform.db.session() as session:
        for username, points in (("worker", [INSIDE, (103.831, 36.051), (103.829, 36.049)]),
                                 ("other_worker", [OTHER, (103.951, 36.051)])):
            actor = actor_for(session, session.scalar(select(Account).where(Account.username == username)))
            for i, (lon, lat) in enumerate(points):
                report_case(platform, session, actor, theme_key="urban_management.street_vending",
                            title=f"占道经营第{i + 1}处", description="占道", lon=lon, lat=lat, source="grid_worker")


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_the_city_view_shows_numbered_circles_and_a_street_shows_markers(platform, server, open_page, sign_in,
                                                                       phone):
    _cases(platform)
    page, requested = open_page(phone=phone)
    sign_in(page, "leader")
    page.goto(f"{server}/map/")
    page.evaluate("window.minqingMap.setView([36.05, 103.88], 9, {animate: false})")   # the city's view
    wait_until(page, f"() => {MAP}.clustersShown === '1'")
    circle = page.locator(".case-cluster")
    assert circle.count() == 1 and circle.inner_text() == "5"          # 城关区: all five cases, one circle
    assert "城关区" in circle.get_attribute("title")
    assert page.evaluate(f"{MAP}.casesShown") == "0"
    assert any("/map/case-clusters.geojson" in url and "recent_days=30" in url for url in requested)
    assert not any("/map/cases.geojson" in url for url in requested)   # no markers fetched for the city view
    assert "按区划聚合" in page.text_content("#case-count")

    circle.click()                                                     # into the townships: two circles
    wait_until(page, "() => window.minqingMap.getZoom() === 11")
    wait_until(page, f"() => {MAP}.clustersShown === '2'")
    assert sorted(page.locator(".case-cluster").all_inner_texts()) == ["2", "3"]

    page.evaluate("window.minqingMap.setView([36.05, 103.83], 16, {animate: false})")   # a street
    wait_until(page, f"() => {MAP}.casesShown === '3'")
    assert page.locator(".case-cluster").count() == 0 and page.evaluate(f"{MAP}.clustersShown") == "0"
    assert any("/map/cases.geojson" in url and "recent_days=30" in url for url in requested)
    assert "视野内未办结及近 30 天上报的事件 3 件" in page.text_content("#case-count")
