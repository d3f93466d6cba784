"""The city centre on a phone, in real Chromium: edits the assessment scheme, previews last month's ranking, saves
a version, and the page never scrolls sideways (the tables scroll in their boxes)."""
from __future__ import annotations

import json

import pytest

from minqing.workflows import months

from tests.fixtures.rankings import ranked_month

SCHEME = {"title": "三率方案", "units": ["department", "township"], "response_hours": 2,
          "indicators": [{"indicator": "on_time_closure_rate", "weight": 40, "scoring": "linear", "floor": 0,
                          "target": 1},
                         {"indicator": "resolution_rate", "weight": 30, "scoring": "linear", "floor": 0, "target": 1},
                         {"indicator": "satisfaction_rate", "weight": 30, "scoring": "bands",
                          "bands": [{"min": 0.9, "score": 1}]}]}


@pytest.fixture
def no_second_factor(monkeypatch):
    monkeypatch.setenv("MINQING_REQUIRE_TOTP_ROLES", "")


def test_the_centre_previews_and_saves_a_scheme_on_a_phone(no_second_factor, server, open_page, sign_in, platform,
                                                          world):
    ranked_month(platform, world, months.previous(months.current()))
    page, requested = open_page(phone=True)
    sign_in(page, "centre")
    page.goto(f"{server}/manage/schemes")
    page.fill("textarea[name=document]", json.dumps(SCHEME, ensure_ascii=False, indent=2))
    page.click("button[value=preview]")
    page.wait_for_load_state("networkidle")
    preview = page.locator("#preview")
    assert "城管" in preview.inner_text() and "按期办结率（40 分）" in preview.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.click("button[value=save]")
    page.wait_for_load_state("networkidle")
    assert "已保存为第 1 版" in page.inner_text("body") and "三率方案（第 1 版）" in page.inner_text("#scheme-status")
    page.goto(f"{server}/manage/rankings")
    assert "三率方案（第 1 版）" in page.inner_text("#ranking")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert all(url.startswith(server) for url in requested)
