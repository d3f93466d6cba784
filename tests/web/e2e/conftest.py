"""End-to-end tests in real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, against the
web application served on 127.0.0.1 by a real WSGI server in a thread. Every request the browser makes is
recorded, so a test can assert that nothing left the machine."""
from __future__ import annotations

import threading

import pytest
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from minqing.web import create_app

from tests.fixtures.browser import PHONE, SUBMIT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture
def server(platform, world):
    app = create_app({"TESTING": False}, platform=platform)  # CSRF on, as in production
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser):
    """open_page(phone=True) → (page, requested URLs). Each call is a fresh browser context (own cookies)."""
    contexts = []
    problems: list[str] = []

    def opened(phone: bool = False):
        context = browser.new_context(**(PHONE if phone else {"viewport": {"width": 1280, "height": 800},
                                                              "locale": "zh-CN"}))
        contexts.append(context)
        requested: list[str] = []
        context.on("request", lambda request: requested.append(request.url))
        page = context.new_page()
        # Any Content-Security-Policy violation or script error fails the test that caused it.
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.set_default_timeout(15_000)
        return page, requested

    yield opened
    for context in contexts:
        context.close()
    real = [problem for problem in problems if "favicon" not in problem and "404" not in problem]
    assert real == [], real


@pytest.fixture
def sign_in(server):
    """sign_in(page, username) with the password every account of the `world` fixture has."""
    def signed_in(page, username: str, password: str = "Test#Pass2026") -> None:
        page.goto(f"{server}/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
    return signed_in


def _open_step(page, name: str) -> None:
    details = page.locator(f"#step-{name}")
    if details.get_attribute("open") is None:
        details.locator("summary").click()


def _take_step(page, name: str, fill=None) -> None:
    _open_step(page, name)
    if fill:
        fill(page)
    page.click(f"#step-{name} {SUBMIT}")
    page.wait_for_load_state("networkidle")


@pytest.fixture
def close_the_loop(open_page, sign_in):
    """close_the_loop(case_url, reporter_page, photo, result) takes a reported case through the closed loop as
    each role does it in the browser: the station accepts and dispatches to 城管, the department takes it and
    feeds back with a photo, the reporter confirms with five stars. Returns the station's page and the URLs
    the station's and the department's browsers requested."""
    def closed(case_url: str, reporter, photo, result: str):
        station, station_requests = open_page()
        sign_in(station, "station")
        station.goto(case_url)
        _take_step(station, "accept")
        _take_step(station, "dispatch",
                   lambda page: page.select_option("#step-dispatch select[name=department]", "urban_management"))
        assert "已分拨交办" in station.content()

        department, department_requests = open_page()
        sign_in(department, "chengguan")
        department.goto(case_url)
        _take_step(department, "take")

        def feed_back(page):
            page.fill("#step-feedback textarea[name=result], #step-feedback input[name=result]", result)
            page.set_input_files("#step-feedback input[name=photos]", str(photo))
        _take_step(department, "feedback", feed_back)
        assert "已处置反馈" in department.content()

        def rate(page):
            if page.locator("#step-confirm select[name=rating]").count():
                page.select_option("#step-confirm select[name=rating]", "5")
            else:
                page.check("#step-confirm input[name=rating][value='5']")
        reporter.goto(case_url)
        _take_step(reporter, "confirm", rate)
        assert "已回访确认" in reporter.content()
        return station, station_requests, department_requests
    return closed
