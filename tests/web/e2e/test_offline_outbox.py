"""小兰网格 without signal, in real Chromium on a phone (390×844): a grid worker signs in, the network goes away —
every route aborted, the service worker's own fetches included, and the browser told it is offline — and the
worker opens the report form and a patrol from the phone's cache, fills and submits both (with photos), and sees
them queued; a third report, posted while the phone believes it has signal, fails by network and is kept by the
service worker. The pages still open after a reload. The network comes back: the `online` event sends the
outbox, one answer is lost on the way (the server made the case, the phone did not hear it), "立即发送" sends
again — each arrives exactly once — and the report the server refuses (a point outside every grid) comes back to
the outbox with its message, is corrected and sent."""
from __future__ import annotations

from PIL import Image
from sqlalchemy import func, select

from minqing.core.models import Attachment, Case, Visit

from tests.fixtures import households
from tests.fixtures.browser import located_phone, wait_until
from tests.fixtures.ledgers import add_river
from tests.fixtures.web import INSIDE

THEME = "urban_management.street_vending"
SUBMIT = "button[type=submit]:not(.mq-default-submit)"  # the forms engine puts a hidden default button first
OUTSIDE = ("110.5", "20.1")                              # in no grid of the test city


def _count_is(page, count: int) -> None:
    wait_until(page, f"() => document.getElementById('outbox-count').textContent === '待发送 {count} 条'")


def _fill_report(page, title: str, point, photo) -> None:
    page.fill("input[name=title]", title)
    page.fill("input[name='details-address']", "张掖路123号门前")
    page.fill("input[name='details-location-lon']", str(point[0]))
    page.fill("input[name='details-location-lat']", str(point[1]))
    page.select_option("select[name='details-vending_type']", "流动摊贩")
    page.check("input[name='details-blocks_passage'][value='false']")
    page.check("input[name='details-persuaded'][value='false']")
    page.set_input_files("input[name='details-photos']", str(photo))


def _cases(platform) -> list[tuple[str, str]]:
    with platform.db.session() as session:
        return [tuple(row) for row in session.execute(select(Case.title, Case.client_id).order_by(Case.id))]


def test_reports_and_a_patrol_made_without_network_arrive_once(server, browser, sign_in, platform, world,
                                                              tmp_path):
    record_id = add_river(platform)
    photo = tmp_path / "现场.jpg"
    Image.new("RGB", (2400, 1800), (30, 90, 160)).save(photo, format="JPEG", quality=95)
    context, page, errors = located_phone(browser, *INSIDE, service_workers="allow")
    try:
        page.set_default_timeout(20_000)
        sign_in(page, "worker")
        page.goto(f"{server}/work/my-grid")
        wait_until(page, "() => document.documentElement.dataset.offlineReady === '1'", timeout=90)

        # -- no network: nothing reaches the server, not even the service worker's fetches --------------------
        context.route("**/*", lambda route: route.abort())
        context.set_offline(True)
        page.goto(f"{server}/work/report/{THEME}")                  # from the phone's cache
        assert page.locator("h1").inner_text() == "占道经营"
        _fill_report(page, "张掖路流动摊贩占道", INSIDE, photo)
        page.click(f"main form {SUBMIT}")
        _count_is(page, 1)
        assert "已存入待发送" in page.locator("#outbox-state").inner_text()
        assert page.input_value("input[name=title]") == ""          # the form is free for the next one

        page.goto(f"{server}/work/patrols/{record_id}")
        assert "雁滩河段" in page.locator("h1").inner_text()
        page.fill("[name='details-summary']", "河面清洁，堤岸完好")
        page.set_input_files("input[name='details-photos']", str(photo))
        page.get_by_role("button", name="使用我的位置").click()
        wait_until(page, "() => document.querySelector(\"[name='location-lat']\").value !== ''")
        page.click(f"#patrol-form {SUBMIT}")
        _count_is(page, 2)
        items = page.locator("#outbox-items li")
        assert "上报：占道经营" in items.nth(0).inner_text() and "巡查：" in items.nth(1).inner_text()
        assert "照片 1 张" in items.nth(1).inner_text()
        # the photo was made smaller on the phone before it was stored
        edge = page.evaluate("""() => new Promise(resolve => {
            indexedDB.open('xiaolan-outbox').onsuccess = event => {
              event.target.result.transaction('items').objectStore('items').getAll().onsuccess = found => {
                createImageBitmap(found.target.result[1].files[0].blob)
                  .then(image => resolve(Math.max(image.width, image.height)));
              };
            };
          })""")
        assert edge == 1600

        # the phone believes it has signal again, but nothing gets through: the post fails, the worker keeps it
        context.set_offline(False)
        page.goto(f"{server}/work/report/{THEME}")
        _fill_report(page, "城外误报", OUTSIDE, photo)
        page.click(f"main form {SUBMIT}")
        page.wait_for_url(f"**/work/report/{THEME}")
        _count_is(page, 3)
        assert "已存入待发送" in page.locator("#outbox-kept").inner_text()

        page.reload()                                                   # the pages still open with no network
        _count_is(page, 3)
        page.goto(f"{server}/work/my-grid")
        assert page.locator("h1").count() and page.locator("#outbox").is_visible()
        assert _cases(platform) == []

        # -- the network returns; the first answer is lost on its way back to the phone --------------------------
        context.set_offline(True)
        context.unroute("**/*")
        lost: list[str] = []

        def lose_the_first_answer(route):
            if not lost:
                lost.append(route.request.url)
                route.fetch()            # the server receives the report and makes the case ...
                route.abort()            # ... but the phone never hears back
            else:
                route.continue_()
        context.route("**/work/sync/report/**", lose_the_first_answer)
        context.set_offline(False)                                      # the `online` event starts the sending
        wait_until(page, "() => document.getElementById('outbox-state').textContent.indexOf('发送中断') >= 0")
        assert lost and _cases(platform) == [("张掖路流动摊贩占道", _cases(platform)[0][1])]
        _count_is(page, 3)                                              # not heard back: still waiting

        page.click("#outbox-send")                                      # 立即发送: the same report again
        _count_is(page, 1)
        refused = page.locator("#outbox-items li.refused")
        assert "不在本平台任何网格内" in refused.inner_text()
        assert len(_cases(platform)) == 1                               # the re-sent report made no second case
        with platform.db.session() as session:
            visit = session.scalar(select(Visit))
            assert visit.target_id == record_id and visit.form_data["summary"] == "河面清洁，堤岸完好"
            assert len(visit.form_data["photos"]) == 1
            assert session.scalar(select(func.count()).select_from(Visit)) == 1

        # -- the refused report: corrected on its form and sent ----------------------------------------------------
        refused.get_by_role("link", name="修改").click()
        page.wait_for_load_state("networkidle")
        assert "不在本平台任何网格内" in page.locator("#outbox-errors").inner_text()
        assert page.input_value("input[name=title]") == "城外误报"
        page.fill("input[name='details-location-lon']", str(INSIDE[0]))
        page.fill("input[name='details-location-lat']", str(INSIDE[1]))
        page.click(f"main form {SUBMIT}")
        _count_is(page, 0)
        titles = [title for title, _ in _cases(platform)]
        assert titles == ["张掖路流动摊贩占道", "城外误报"]
        with platform.db.session() as session:
            assert session.scalar(select(func.count()).select_from(Attachment)) == 3   # one photo each, once
    finally:
        context.close()
    assert errors == []


def _outbox_size(page) -> int:
    """Items in the phone's outbox, read from IndexedDB itself (also on pages without the outbox's script)."""
    return page.evaluate("""() => new Promise(resolve => {
        indexedDB.open('xiaolan-outbox', 1).onsuccess = event => {
          event.target.result.transaction('items').objectStore('items').count().onsuccess = found => {
            resolve(found.target.result);
          };
        };
      })""")


def test_an_expired_session_keeps_the_outbox_and_signing_out_clears_it(server, browser, sign_in, platform, world,
                                                                       password_hash):
    village = households.build(platform, world, password_hash)
    context, page, errors = located_phone(browser, *INSIDE, service_workers="allow")
    try:
        sign_in(page, "worker")
        page.goto(f"{server}/work/households")
        wait_until(page, "() => document.documentElement.dataset.offlineReady === '1'", timeout=90)

        context.route("**/*", lambda route: route.abort())          # no network: the visit form from the cache
        context.set_offline(True)
        page.goto(f"{server}/work/households/{village.ids['YC-1']}/visit")
        page.fill("#met", "户主本人")
        page.fill("#needs", "屋顶漏雨")
        page.click("#household-visit-form button[type=submit]")
        _count_is(page, 1)

        context.clear_cookies()                                        # the session expired meanwhile
        context.unroute("**/*")
        context.set_offline(False)
        wait_until(page, "() => document.getElementById('outbox-state').textContent.indexOf('登录已失效') >= 0")
        _count_is(page, 1)                                             # kept, not dropped

        sign_in(page, "worker")                                        # the next page sends it
        page.goto(f"{server}/work/households")
        _count_is(page, 0)
        with platform.db.session() as session:
            visit = session.scalar(select(Visit))
            assert visit.target_id == village.ids["YC-1"] and visit.form_data["needs"] == "屋顶漏雨"

        # an item that cannot be sent yet, then signing out on purpose: warned, then everything is cleared
        context.route("**/work/sync/**", lambda route: route.abort())
        context.set_offline(True)
        page.goto(f"{server}/work/households/{village.ids['YC-2']}/visit")
        page.fill("#met", "户主的女儿")
        page.click("#household-visit-form button[type=submit]")
        _count_is(page, 1)
        context.set_offline(False)
        warnings: list[str] = []

        def accept(dialog):
            warnings.append(dialog.message)
            dialog.accept()
        page.on("dialog", accept)
        page.click("form[action$='/logout'] button")
        page.wait_for_url("**/login")
        assert warnings and "还有 1 条未发送" in warnings[0]
        assert _outbox_size(page) == 0
        assert page.evaluate("() => caches.keys().then(keys => keys.filter(k => k.startsWith('xiaolan-')).length)") == 0
        with platform.db.session() as session:
            assert session.scalar(select(func.count()).select_from(Visit)) == 1
    finally:
        context.close()
    assert errors == []

