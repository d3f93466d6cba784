"""End-to-end tests in real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, against the
web application served on 127.0.0.1 by a real WSGI server in a thread. Every request the browser makes is
recorded, so a test can assert that nothing left the machine."""
from __future__ import annotations

import threading

import pytest
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from minqing.web import create_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True, "locale": "zh-CN"}


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
