"""An auditor on a phone, in real Chromium: the audit log fits the screen, filters work, the export downloads."""
from __future__ import annotations

import csv

import pytest

from minqing.core.actors import Actor
from minqing.core.changes import record_change


@pytest.fixture
def no_second_factor(monkeypatch):
    """The production default makes auditors enrol a second factor first (tested in test_account_security)."""
    monkeypatch.setenv("MINQING_REQUIRE_TOTP_ROLES", "")


def test_an_auditor_reads_filters_and_exports_on_a_phone(no_second_factor, server, open_page, sign_in, platform,
                                                        tmp_path):
    with platform.db.session() as session:  # a failed sign-in to find (a browser's 400 page would fail the test)
        record_change(session, Actor(None, "worker", (), "10.9.8.7"), "auth.login_failed", object_type="account",
                      summary="登录失败：密码错误")
    page, requested = open_page(phone=True)
    sign_in(page, "auditor")
    assert page.url.endswith("/audit/")                        # the auditor lands on the audit log
    assert page.locator("tbody tr").count() > 10
    # the page itself never scrolls sideways on a phone; the table scrolls inside its box
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.fill("input[name=action]", "auth.login_failed")
    page.click("form.audit-filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    rows = page.locator("tbody tr")
    assert rows.count() == 1 and "登录失败" in rows.first.inner_text() and "worker" in rows.first.inner_text()
    with page.expect_download() as download:
        page.click("text=CSV")
    path = tmp_path / "audit.csv"
    download.value.save_as(path)
    lines = list(csv.reader(path.open(encoding="utf-8-sig")))
    assert lines[0][0] == "序号" and len(lines) == 2 and lines[1][6] == "auth.login_failed"
    assert all(url.startswith(server) for url in requested)    # nothing fetched from anywhere else
