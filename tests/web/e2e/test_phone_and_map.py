"""At phone width (390×844) in real Chromium: the work end's case list is a stack of cards (no cell squeezed to a
character a line), the header is at most two lines, and the map's layer search filters the grouped layer list."""
from __future__ import annotations

import os

from sqlalchemy import select

from minqing.core.actors import actor_for
from minqing.core.models import Account
from minqing.workflows import report_case

from tests.fixtures.web import INSIDE
from tests.fixtures.browser import wait_until

SHOTS = os.environ.get("MINQING_SCREENSHOTS", "")   # a folder to keep screenshots in, to look at them


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def _cases(platform, n: int) -> None:
    with platform.db.session() as session:
        worker = actor_for(session, session.scalar(select(Account).where(Account.username == "worker")))
        for i in range(n):
            report_case(platform, session, worker, theme_key="urban_management.street_vending",
                        title=f"夜市占道经营第{i + 1}处", description="占道", lon=INSIDE[0], lat=INSIDE[1],
                        source="grid_worker")


def test_the_case_list_is_readable_on_a_phone(platform, server, open_page, sign_in):
    _cases(platform, 3)
    page, _ = open_page(phone=True)
    sign_in(page, "station")
    page.goto(f"{server}/work/")
    page.wait_for_selector("#cases tbody tr")
    shot(page, "work-inbox-phone")
    cells = page.evaluate("""() => Array.from(document.querySelectorAll('#cases tbody td')).map(td => {
        const style = getComputedStyle(td);
        return {width: td.getBoundingClientRect().width, font: parseFloat(style.fontSize), text: td.innerText};
    })""")
    assert len(cells) == 15
    narrow = [cell for cell in cells if cell["width"] < 3 * cell["font"]]
    assert not narrow, narrow
    for cell in cells:     # a status or department never wraps one character a line
        if "待受理" in cell["text"] or "待分拨" in cell["text"]:
            assert cell["width"] > 8 * cell["font"], cell
    assert page.evaluate("document.documentElement.scrollWidth") <= 390   # nothing runs off to the side
    header = page.evaluate("document.querySelector('header.top').getBoundingClientRect().height")
    links = page.evaluate("""() => new Set(Array.from(document.querySelectorAll('header.top a, header.top button'))
        .map(item => { const box = item.getBoundingClientRect(); return Math.round((box.top + box.bottom) / 40); })).size""")
    assert links <= 2 and header <= 2 * 2.6 * 16, (links, header)   # the brand and one row of links, not three


def test_the_map_layer_search_filters_the_grouped_list_and_the_worker_sees_their_grid(server, open_page, sign_in):
    page, _ = open_page()
    sign_in(page, "station")
    page.goto(f"{server}/map/")
    page.wait_for_selector("#layer-groups .layer-item", state="attached")
    every = page.locator("#layer-groups .layer-item").count()
    groups = page.locator("#layer-groups .layer-group").count()
    assert every > 3 and groups > 1
    page.fill("#layer-search", "燃气")
    visible = page.locator("#layer-groups .layer-item:visible")
    assert 0 < visible.count() < every
    searched = page.evaluate("""() => Array.from(document.querySelectorAll('#layer-groups .layer-item'))
        .filter(item => !item.hidden).map(item => item.dataset.search)""")
    assert searched and all("燃气" in text for text in searched)
    page.fill("#layer-search", "没有这样的图层")
    page.wait_for_selector("#layer-none:not([hidden])")
    page.fill("#layer-search", "")
    assert page.locator("#layer-groups .layer-item:visible").count() == 0   # groups are folded again
    assert page.evaluate("""() => Array.from(document.querySelectorAll('#layer-groups .layer-item'))
        .filter(item => !item.hidden).length""") == every
    first = page.locator("#layer-groups .layer-group").first
    first.locator("summary").click()
    first.locator(".layer-item input").first.check()          # a layer switched on from the list
    wait_until(page, "() => Object.keys(window.minqingMap._layers).length > 0")
    shot(page, "map-desktop")

    worker, _ = open_page(phone=True)
    sign_in(worker, "worker")
    worker.goto(f"{server}/map/")
    wait_until(worker, "() => document.getElementById('map').dataset.ownGridsShown === '1'")
    assert worker.locator("#map-legend").get_attribute("open") is None    # folded on a phone: the map first
    wait_until(worker, "() => document.getElementById('map').dataset.gridsShown !== undefined")
    worker.click("#map-legend summary")
    shot(worker, "map-phone")
