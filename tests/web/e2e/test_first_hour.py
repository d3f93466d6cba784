"""The first hour of real staff (issue #22, "Done when"), one journey per end in real Chromium on the small city
of tests/fixtures/web.py, each failing on any console error or script error (the open_page fixture checks):

- 小兰网格 at phone width: a grid worker finds the theme by searching, places the report on the map by tapping,
  is warned when the point leaves their own grid and not once it is back, sends it with a photo and opens it from
  我上报的事件;
- the command post at desktop width: finds a case by its number, accepts it and adopts the top dispatch
  suggestion (towards a department with an account), dispatches a second one with the department picker by typing
  part of a name, and downloads the filtered list (the case in it, the reporter's phone masked);
- the department: the unread badge, the notification opened, 处置反馈 with a photo, the case awaiting 回访;
- 小兰帮办 at phone width: a resident signs in with an SMS code, reports with the citizen form (the worker's fields
  absent, no photo required), finds the report in their list, confirms it once handled and reads 已办结.

With MINQING_SCREENSHOTS set to a folder (docs/img), the journeys also write the README's screenshots there
(docs/img/make_screenshots.py runs them so).
"""
from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from minqing import workflows
from minqing.core import attachments
from minqing.core.actors import actor_for
from minqing.core.models import Account, Case, Department

from tests.fixtures.web import INSIDE, OTHER, PHONE
from tests.fixtures.browser import wait_until

THEME = "urban_management.street_vending"
TEAM = "urban_management_chengguan"          # 城关区's street-vending team: no account of its own
SUBMIT = "main form[data-mq-form] button[type=submit]:not(.mq-default-submit)"
STEP_SUBMIT = "button[type=submit]:not(.mq-default-submit)"
DESKTOP = {"width": 1366, "height": 900}
SHOTS = os.environ.get("MINQING_SCREENSHOTS")


@pytest.fixture(autouse=True)
def folders(tmp_path, monkeypatch):
    monkeypatch.setenv("MINQING_UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.setenv("MINQING_MODEL_DIR", str(tmp_path / "models"))


@pytest.fixture
def photo(tmp_path) -> str:
    path = tmp_path / "现场.jpg"
    Image.new("RGB", (640, 480), (30, 140, 90)).save(path, format="JPEG")
    return str(path)


def shoot(page, name: str, phone: bool = False, full_page: bool = False, until: str | None = None) -> None:
    """Write docs/img/<name>.png when asked to (MINQING_SCREENSHOTS): at CSS pixels, so a phone shot is 390 wide,
    cut below the element `until` if given, reduced to a palette and optimised."""
    if not SHOTS:
        return
    data = page.screenshot(scale="css", full_page=full_page, animations="disabled")
    image = Image.open(io.BytesIO(data)).convert("RGB")
    if until:
        bottom = page.locator(until).evaluate("e => e.getBoundingClientRect().bottom + window.scrollY")
        image = image.crop((0, 0, image.width, min(image.height, int(bottom) + 24)))
    if not phone and image.width > 1366:
        image = image.resize((1366, round(image.height * 1366 / image.width)))
    image = image.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    target = Path(SHOTS) / f"{name}.png"
    image.save(target, format="PNG", optimize=True)
    assert target.stat().st_size < 200_000, (target, target.stat().st_size)


def _reported(platform, username: str, title: str, description: str = "巷口有摊位占道",
              where: tuple[float, float] = INSIDE) -> tuple[int, str]:
    with platform.db.session() as session:
        reporter = actor_for(session, session.scalar(select(Account).where(Account.username == username)))
        case = workflows.report_case(platform, session, reporter, theme_key=THEME, title=title,
                                     description=description, lon=where[0], lat=where[1], source="grid_worker")
        return case.id, case.number


def _step(platform, case_id: int, username: str, name: str, data: dict | None = None) -> None:
    with platform.db.session() as session:
        actor = actor_for(session, session.scalar(select(Account).where(Account.username == username)))
        workflows.transition(platform, session, session.get(Case, case_id), name, actor, data or {})


def _feedback(platform, case_id: int) -> None:
    """城管 feeds back with a photo, in its own transaction."""
    with platform.db.session() as session:
        actor = actor_for(session, session.scalar(select(Account).where(Account.username == "chengguan")))
        output = io.BytesIO()
        Image.new("RGB", (64, 48), (200, 120, 10)).save(output, format="JPEG")
        stored = attachments.store(session, actor, output.getvalue(), "处置.jpg", case_id=case_id)
        workflows.transition(platform, session, session.get(Case, case_id), "feedback", actor,
                             {"result": "已劝离摊贩，恢复通行", "photos": [stored.id]})


def _status(platform, case_id: int) -> tuple[str, int | None]:
    with platform.db.session() as session:
        case = session.get(Case, case_id)
        return case.status, case.department_id


def _open_step(page, name: str):
    step = page.locator(f"#step-{name}")
    if step.get_attribute("open") is None:
        step.locator("summary").click()
    return step


def _take_step(page, name: str, fill=None) -> None:
    step = _open_step(page, name)
    if fill:
        fill(step)
    step.locator(STEP_SUBMIT).click()
    page.wait_for_load_state("networkidle")


def _point(page) -> tuple[float, float]:
    return (float(page.input_value("input[name='details-location-lon']") or "nan"),
            float(page.input_value("input[name='details-location-lat']") or "nan"))


def _tap_centre(page, before: str) -> None:
    box = page.locator(".report-map-canvas").bounding_box()
    page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wait_until(page,
               f"() => document.querySelector(\"input[name='details-location-lon']\").value !== {before!r}")


def _centre_on(page, where: tuple[float, float]) -> None:
    """Type a place into the coordinate boxes (the map moves there), then tap the map's centre to place it."""
    before = page.input_value("input[name='details-location-lon']")
    page.fill("input[name='details-location-lon']", str(where[0]))
    page.fill("input[name='details-location-lat']", str(where[1]))
    page.locator("input[name='details-location-lat']").blur()
    _tap_centre(page, before)


def test_a_grid_worker_reports_on_the_map_at_phone_width(platform, world, server, open_page, sign_in, photo):
    worker, requested = open_page(phone=True)
    sign_in(worker, "worker")
    worker.goto(f"{server}/work/report")
    worker.fill("form[data-theme-search] input[name=q]", "摊贩")          # theme search while typing
    worker.locator(f"a[data-theme='{THEME}']").wait_for(state="visible")
    assert worker.locator("a[data-theme='water_affairs.pipe_burst']:visible").count() == 0
    worker.click(f"a[data-theme='{THEME}']")
    worker.locator("[data-report-map]").wait_for(state="visible")
    wait_until(worker, "() => document.querySelector('[data-report-map]').dataset.ownGridShown === '1'")

    worker.fill("input[name=title]", "永昌路流动摊贩占道")
    worker.fill("input[name='details-address']", "永昌路12号门前")
    worker.select_option("select[name='details-vending_type']", "流动摊贩")
    worker.check("input[name='details-blocks_passage'][value='false']")
    worker.check("input[name='details-persuaded'][value='false']")
    worker.set_input_files("input[name='details-photos']", photo)

    own = worker.locator("#grid-own")
    worker.locator(".report-map-canvas").scroll_into_view_if_needed()
    _tap_centre(worker, "")                            # the map opened on the worker's grid: a tap places the point
    assert _point(worker) == pytest.approx((103.825, 36.05), abs=0.01)
    wait_until(worker, "() => document.getElementById('grid-check').hidden")
    assert own.is_hidden()
    hint = worker.locator("[data-report-map] .mq-hint").last.inner_text()
    assert "紫色虚线框是您负责的网格" in hint                             # a worker has a grid of their own
    shoot(worker, "work-report-map-phone", phone=True)
    _centre_on(worker, OTHER)                                              # moved out: a warning, not a refusal
    own.wait_for(state="visible")
    assert "不在您负责的网格内" in own.inner_text()
    _centre_on(worker, INSIDE)                                             # and back: the warning goes
    own.wait_for(state="hidden")
    placed = _point(worker)
    assert placed == pytest.approx(INSIDE, abs=0.01)
    assert worker.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    worker.click(SUBMIT)
    worker.wait_for_url(re.compile(r"/work/cases/\d+$"))
    assert "已上报，事件编号" in worker.content()
    case_url = worker.url
    worker.goto(f"{server}/work/my-grid")                                   # 我上报的事件 → the case
    worker.click("a:has-text('永昌路流动摊贩占道')")
    worker.wait_for_load_state("networkidle")
    assert worker.url == case_url
    assert "永昌路流动摊贩占道" in worker.content() and "页面不存在" not in worker.content()
    assert worker.locator("#photos-report img").count() == 1
    with platform.db.session() as session:
        case = session.scalar(select(Case))
        assert case.grid_id == world.grids["G620102001001001"]
        assert (case.lon, case.lat) == pytest.approx(placed, abs=1e-6)
    assert all(url.startswith(server) for url in requested)


def test_a_command_post_searches_dispatches_and_exports_at_desktop_width(platform, world, server, open_page,
                                                                         sign_in):
    with platform.db.session() as session:   # the district team sits under 城管, whose `chengguan` can act
        session.get(Department, world.departments[TEAM]).parent_id = world.departments["urban_management"]
    first_id, first = _reported(platform, "worker", "张掖路商铺门前占道经营",
                                "张掖路商铺门前有人占道经营摆摊卖菜，举报人证件号620102199003071234")
    second_id, second = _reported(platform, "worker", "永昌路水管漏水", "永昌路南口水管漏水", (103.81, 36.01))
    page, requested = open_page()
    page.set_viewport_size(DESKTOP)
    sign_in(page, "station")

    page.goto(f"{server}/work/")
    page.fill("#filters input[name=q]", first)                            # find the case by its number
    page.click("#filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    rows = page.locator("#cases tbody tr")
    assert rows.count() == 1 and "张掖路商铺门前占道经营" in rows.first.inner_text()
    rows.first.locator("a").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/work/cases/{first_id}")
    _take_step(page, "accept")
    assert _status(platform, first_id)[0] == "registered"

    suggestion = page.locator("#dispatch-suggestions li.suggestion").first   # adopt the top suggestion
    button = suggestion.locator("button[type=submit]")
    assert "兰州市城市管理局" in button.inner_text() and "置信度" in suggestion.inner_text()
    assert button.bounding_box()["height"] >= 40                           # a button to press, not a native stub
    _open_step(page, "dispatch")
    shoot(page, "work-case-dispatch", full_page=True, until="#step-dispatch")
    button.click()
    page.wait_for_load_state("networkidle")
    assert "已按所选分类分拨交办兰州市城市管理局" in page.locator(".flash").first.inner_text()  # says where
    assert _status(platform, first_id) == ("dispatched", world.departments["urban_management"])

    page.goto(f"{server}/work/cases/{second_id}")                         # the second by the picker
    _take_step(page, "accept")

    def pick(step):
        step.locator("input.dept-picker-filter").fill("水务")
        assert step.locator("select[data-dept-picker]").input_value() == "water_affairs"
    _take_step(page, "dispatch", pick)
    assert "已分拨交办" in page.content()
    assert _status(platform, second_id) == ("dispatched", world.departments["water_affairs"])

    page.goto(f"{server}/work/")                                          # export what the search found
    page.fill("#filters input[name=q]", "张掖路")
    page.click("#filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator("#cases tbody tr").count() == 1
    with page.expect_download() as download_info:
        page.click("#export-csv")
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    assert first in text and second not in text
    assert "620102199003071234" not in text and "620102********1234" in text  # the ID number masked
    assert all(url.startswith(server) for url in requested)


def test_a_department_reads_its_notification_and_handles_the_case(platform, world, server, open_page, sign_in,
                                                                   photo):
    case_id, number = _reported(platform, "worker", "永昌路夜市占道")
    _step(platform, case_id, "station", "accept")
    _step(platform, case_id, "station", "dispatch", {"department": "urban_management"})
    page, requested = open_page(phone=True)
    sign_in(page, "chengguan")
    page.goto(f"{server}/work/")
    assert page.inner_text("#notification-badge") == "1"
    page.click("#notification-link")
    page.wait_for_load_state("networkidle")
    notice = page.locator("li.notification").first
    assert "新交办事件" in notice.inner_text() and number in notice.inner_text()
    shoot(page, "notifications-phone", phone=True)
    notice.locator("button.open-case").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/work/cases/{case_id}")
    assert page.locator("#notification-badge").count() == 0              # read: no badge left

    _take_step(page, "take")

    def feed_back(step):
        step.locator("textarea[name=result], input[name=result]").fill("已劝离摊贩，恢复通行")
        step.locator("input[name=photos]").set_input_files(photo)
    _take_step(page, "feedback", feed_back)
    assert "已处置反馈" in page.content()
    assert _status(platform, case_id)[0] == "awaiting_follow_up"
    assert page.locator("#photos-feedback img").count() == 1
    assert all(url.startswith(server) for url in requested)


def test_a_citizen_reports_with_the_citizen_form_and_reads_that_it_closed(platform, world, server, open_page,
                                                                          gateway):
    citizen, requested = open_page(phone=True)
    citizen.goto(f"{server}/citizen/login")
    citizen.fill("input[name=phone]", PHONE)
    citizen.click("button.primary")
    citizen.wait_for_load_state("networkidle")
    citizen.fill("input[name=code]", gateway.code_for(PHONE))
    citizen.click("button.primary")
    citizen.wait_for_load_state("networkidle")
    assert citizen.url.endswith("/citizen/")

    citizen.goto(f"{server}/citizen/report")
    citizen.fill("form[data-theme-search] input[name=q]", "占道")
    citizen.locator(f"a[data-theme='{THEME}']").wait_for(state="visible")
    citizen.click(f"a[data-theme='{THEME}']")
    citizen.wait_for_load_state("networkidle")
    form = citizen.locator("main form[data-mq-form]")
    assert "是否已现场劝导" not in form.inner_text() and "经营类型" not in form.inner_text()
    assert citizen.locator("input[name='details-photos'][required]").count() == 0
    citizen.fill("input[name=title]", "小区门口有人摆摊占道")
    citizen.fill("input[name='details-address']", "永昌路12号门前")
    citizen.fill("textarea[name='details-description'], input[name='details-description']", "晚上摆摊占用人行道")
    _centre_on(citizen, INSIDE)
    hint = citizen.locator("[data-report-map] .mq-hint").last.inner_text()
    assert "点击地图放置标记" in hint and "网格" not in hint                 # a resident has no grid to be shown
    wait_until(citizen, "() => document.getElementById('grid-check').hidden")
    shoot(citizen, "citizen-report-phone", phone=True, full_page=True)
    citizen.click(SUBMIT)
    citizen.wait_for_url(re.compile(r"/citizen/cases/\d+$"))
    assert "已提交，事件编号" in citizen.content()
    case_id = int(citizen.url.rsplit("/", 1)[1])

    citizen.goto(f"{server}/citizen/cases")                               # the report in their list
    citizen.locator(f"a[href$='/citizen/cases/{case_id}']").first.wait_for()
    assert "小区门口有人摆摊占道" in citizen.content()

    _step(platform, case_id, "station", "accept")                          # handled elsewhere meanwhile
    _step(platform, case_id, "station", "dispatch", {"department": "urban_management"})
    _step(platform, case_id, "chengguan", "take")
    _feedback(platform, case_id)
    citizen.goto(f"{server}/citizen/cases/{case_id}")                      # the status changed: rate it
    assert "待回访" in citizen.inner_text("#case-state") and "承办部门：城管" in citizen.inner_text("#case")
    rate = citizen.locator("#rate")
    rate.locator("input[name=solved][value=yes]").check()
    rate.locator("input[name=rating][value='5']").check()
    rate.locator("button[type=submit]").click()
    citizen.wait_for_load_state("networkidle")
    assert _status(platform, case_id)[0] == "closed"

    citizen.goto(f"{server}/citizen/")
    citizen.click("#notification-link")
    citizen.wait_for_load_state("networkidle")
    notice = citizen.locator("li.notification", has_text="您反映的事件已办结")
    assert notice.count() == 1
    notice.locator("button.open-case").click()
    citizen.wait_for_load_state("networkidle")
    assert citizen.url.endswith(f"/citizen/cases/{case_id}") and "已办结" in citizen.content()
    assert all(url.startswith(server) for url in requested)
