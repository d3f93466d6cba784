"""A grid worker on a phone (390×844) opens a patrol task, fills the theme's visit form, takes the location from
the phone ("使用我的位置", a fake geolocation granted to the page) with a photo, and submits: the patrol is stored
as a visit next to the record, and the task leaves the list."""
from __future__ import annotations

import datetime as dt

from PIL import Image
from sqlalchemy import select, update

from minqing import themes
from minqing.core.actors import system_actor
from minqing.core.models import ThemeRecord, Visit, utcnow

from tests.fixtures.browser import located_phone, wait_until
from tests.fixtures.ledgers import RIVER, RiverPlugin
from tests.fixtures.web import INSIDE

SUBMIT = "button[type=submit]:not(.mq-default-submit)"  # the forms engine puts a hidden default button first


def test_a_patrol_on_the_phone(server, browser, sign_in, platform, tmp_path):
    platform.plugins.register(RiverPlugin(), "river_plugin")
    with platform.db.session() as session:
        themes.sync_themes(platform, session, system_actor("test"))
        record = themes.add_record(platform, session, system_actor("test"), RIVER, {"name": "雁滩河段"},
                                   lon=INSIDE[0], lat=INSIDE[1])
        session.execute(update(ThemeRecord).where(ThemeRecord.id == record.id).values(
            created_at=utcnow() - dt.timedelta(days=9)))
        record_id = record.id
    photo = tmp_path / "河面.jpg"
    Image.new("RGB", (64, 48), (30, 90, 160)).save(photo, format="JPEG")
    near = {"longitude": INSIDE[0] + 0.0005, "latitude": INSIDE[1], "accuracy": 8}   # about 45 m east
    context, page, problems = located_phone(browser, near["longitude"], near["latitude"])
    try:
        sign_in(page, "worker")
        page.goto(f"{server}/work/patrols")
        assert page.locator("h1").inner_text().startswith("巡查任务")
        task = page.locator("#patrol-tasks a", has_text="雁滩河段")
        assert "2 天" in page.locator("#patrol-tasks tbody tr").first.inner_text()
        task.click()
        page.wait_for_load_state("networkidle")
        assert "河段名称" in page.locator("#record-fields").inner_text()
        page.fill("[name='details-summary']", "河面清洁，堤岸完好，无排污口")
        page.set_input_files("input[name='details-photos']", str(photo))
        page.get_by_role("button", name="使用我的位置").click()
        wait_until(page, "() => document.querySelector(\"[name='location-lat']\").value !== ''")
        assert float(page.input_value("[name='location-lon']")) == round(near["longitude"], 6)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page is {width} px wide on a 390 px phone"
        page.click(f"#patrol-form {SUBMIT}")
        page.wait_for_load_state("networkidle")
        assert page.url.endswith("/work/patrols")
        assert "巡查已记录" in page.content() and "雁滩河段" not in page.locator("#patrol-tasks").inner_text()
    finally:
        context.close()
    assert problems == []
    with platform.db.session() as session:
        visit = session.scalar(select(Visit))
        assert (visit.target_id, visit.distance_flagged) == (record_id, False) and 40 < visit.distance_m < 50
        assert visit.form_data["summary"] == "河面清洁，堤岸完好，无排污口" and len(visit.form_data["photos"]) == 1
        assert session.get(ThemeRecord, record_id).last_patrolled_at is not None
