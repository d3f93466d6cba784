"""走村入户 on a phone (390×844) in real Chromium: a grid worker and a village cadre each open their household
list, pick a household not visited this period, fill the visit form (whom they met, the needs, a 帮办实事 promised)
and submit; the household then shows who visited it, and the cadre's visit counts for the cadre."""
from __future__ import annotations

from sqlalchemy import select

from minqing.core.models import Visit

from tests.fixtures import households as hh

SUBMIT = "#household-visit-form button[type=submit]"


def _visit(page, server, number: str, met: str, needs: str, promise: str | None) -> None:
    page.goto(f"{server}/work/households")
    row = page.locator("#household-list tr.unvisited", has_text=number)
    assert "本期未走访" in row.inner_text()
    row.get_by_role("link", name="走访").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == f"走访 {number}"
    page.fill("#met", met)
    page.fill("#needs", needs)
    if promise:
        page.check("input[name=promised][value=yes]")
        page.fill("#promise_text", promise)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px phone"
    page.click(SUBMIT)
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/work/households")
    assert f"已记录对 {number} 的走访" in page.content()


def test_a_grid_worker_and_a_village_cadre_visit_households_on_the_phone(server, open_page, sign_in, platform,
                                                                          world, password_hash):
    village = hh.build(platform, world, password_hash)
    worker_page, _ = open_page(phone=True)
    sign_in(worker_page, "worker")
    _visit(worker_page, server, "YC-1", "户主本人", "楼道灯坏了", None)
    width = worker_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the list is {width} px wide on a 390 px phone"
    assert "YC-1" not in " ".join(worker_page.locator("#household-list tr.unvisited").all_inner_texts())

    cadre_page, requested = open_page(phone=True)
    sign_in(cadre_page, "cun")
    cadre_page.goto(f"{server}/work/households")
    assert "村两委" in cadre_page.locator("#households").inner_text()
    _visit(cadre_page, server, "YC-2", "户主的女儿", "老人行动不便，希望有人帮忙取药", "每周帮忙取一次药")
    row = cadre_page.locator("#household-list tr", has_text="YC-2")
    assert "杨秀英" in row.inner_text() and "unvisited" not in (row.get_attribute("class") or "")
    assert "YC-1" in cadre_page.locator("#household-list").inner_text()   # the worker's visit shows too
    assert all(url.startswith(server) for url in requested)                 # nothing left the machine

    with platform.db.session() as session:
        visits = {visit.target_id: visit for visit in session.scalars(select(Visit))}
        assert visits[village.ids["YC-1"]].visitor_post is None
        cadre_visit = visits[village.ids["YC-2"]]
        assert cadre_visit.visitor_post == "village_committee"
        assert cadre_visit.form_data == {"met": "户主的女儿", "needs": "老人行动不便，希望有人帮忙取药",
                                         "promised": True, "promise_text": "每周帮忙取一次药"}
