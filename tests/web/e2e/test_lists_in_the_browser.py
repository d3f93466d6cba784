"""Lists in Chromium at phone width (issue 22): a command post reads the notification of a new report from the
header's badge, opens the case and sees its photos as thumbnails, finds a case by its number and downloads the
filtered list. No console error (the fixture checks)."""
from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from minqing.core import attachments
from minqing.core.actors import actor_for
from minqing.core.models import Account, Case
from minqing.workflows import report_case

from tests.fixtures.web import INSIDE


@pytest.fixture(autouse=True)
def upload_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MINQING_UPLOAD_DIR", str(tmp_path / "uploads"))


def _photo() -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (900, 600), (40, 90, 200)).save(output, format="JPEG")
    return output.getvalue()


def _reported(platform, title: str, with_photo: bool = False) -> tuple[int, str]:
    with platform.db.session() as session:
        worker = actor_for(session, session.scalar(select(Account).where(Account.username == "worker")))
        case = report_case(platform, session, worker, theme_key="urban_management.street_vending", title=title,
                           description="巷口有摊位占道", lon=INSIDE[0], lat=INSIDE[1], source="grid_worker")
        if with_photo:
            photo = attachments.store(session, worker, _photo(), "现场.jpg", case_id=case.id)
            session.get(Case, case.id).form_data = {"photos": [photo.id]}
        return case.id, case.number


def test_search_export_and_a_notification_at_phone_width(platform, world, server, open_page, sign_in):
    _reported(platform, "早市占道经营")
    case_id, number = _reported(platform, "夜市占道经营", with_photo=True)
    page, _ = open_page(phone=True)
    sign_in(page, "station")

    # the header counts two unread notifications (two reports); read the newest by opening its case
    page.goto(f"{server}/work/")
    assert page.inner_text("#notification-badge") == "2"
    page.click("#notification-link")
    page.wait_for_load_state("networkidle")
    newest = page.locator("li.notification").first
    assert number in newest.inner_text()
    newest.locator("button.open-case").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/work/cases/{case_id}")
    thumbnail = page.locator("#photos-report img")
    assert thumbnail.count() == 1
    assert page.evaluate("img => img.complete && img.naturalWidth", thumbnail.element_handle()) == 320
    assert page.inner_text("#notification-badge") == "1"

    # find the case by its number in the list
    page.goto(f"{server}/work/")
    page.fill("#filters input[name=q]", number)
    page.click("#filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    rows = page.locator("#cases tbody tr")
    assert rows.count() == 1 and "夜市占道经营" in rows.first.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    # download the filtered list
    with page.expect_download() as download_info:
        page.click("#export-csv")
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    text = open(download.path(), encoding="utf-8-sig").read()
    assert number in text and "早市占道经营" not in text
