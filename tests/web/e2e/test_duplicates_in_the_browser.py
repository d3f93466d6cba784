"""重复件 in a real browser: while a grid worker reports on a phone, the page lists the earlier report of the same
problem nearby (the script asks the server as the form is filled); the command post then merges the new report
into the earlier one from the case page and, finding it was a mistake, undoes the merge."""
from PIL import Image
from sqlalchemy import select

from minqing.core.actors import actor_for
from minqing.core.models import Account, Case
from minqing.workflows import report_case

THEME = "urban_management.street_vending"
SUBMIT = "button[type=submit]:not(.mq-default-submit)"  # the forms engine puts a hidden default button first


def earlier_report(platform) -> Case:
    with platform.db.session() as session:
        worker = actor_for(session, session.scalar(select(Account).where(Account.username == "worker")), "test")
        return report_case(platform, session, worker, theme_key=THEME, title="张掖路流动摊贩占道",
                           description="张掖路123号门前流动摊贩占道经营，堵住盲道", lon=103.8301, lat=36.0501,
                           category="市容环境", subcategory="1001", source="grid_worker")


def test_a_likely_duplicate_is_shown_while_reporting_then_merged_and_undone(server, open_page, sign_in, platform,
                                                                            tmp_path):
    first = earlier_report(platform)
    photo = tmp_path / "现场.jpg"
    Image.new("RGB", (64, 48), (30, 140, 90)).save(photo, format="JPEG")

    worker, _ = open_page(phone=True)
    sign_in(worker, "worker")
    worker.goto(f"{server}/work/report")
    worker.click(f"a[data-theme='{THEME}']")
    hint = worker.locator("#duplicate-check")
    assert hint.is_hidden()                                  # nothing to compare before the place is known
    worker.fill("input[name=title]", "张掖路又有流动摊贩占道")
    worker.fill("input[name='details-address']", "张掖路123号")
    worker.fill("input[name='details-location-lon']", "103.83")
    worker.fill("input[name='details-location-lat']", "36.05")
    worker.locator("input[name='details-location-lat']").blur()
    hint.wait_for(state="visible")
    assert first.number in hint.inner_text() and "附近已有类似事件" in hint.inner_text()
    assert "相距" in hint.inner_text()

    worker.select_option("select[name='details-vending_type']", "流动摊贩")
    worker.check("input[name='details-blocks_passage'][value='false']")
    worker.check("input[name='details-persuaded'][value='false']")
    worker.set_input_files("input[name='details-photos']", str(photo))
    worker.click(f"main form {SUBMIT}")
    worker.wait_for_url("**/work/cases/*")
    second_url = worker.url

    station, _ = open_page(phone=True)
    sign_in(station, "station")
    station.goto(second_url)
    candidate = station.locator(f"#duplicate-candidates li[data-case='{first.id}']")
    assert "相距" in candidate.inner_text()
    candidate.locator("input[name=into][value=other]").check()  # the earlier report becomes the master
    candidate.locator("input[name=reason]").fill("同一地点同一摊贩")
    candidate.locator("button[type=submit]").click()
    station.wait_for_load_state("networkidle")
    assert "已将" in station.content() and first.number in station.locator("#merged-into").inner_text()

    with platform.db.session() as session:
        second = session.scalar(select(Case).where(Case.id != first.id))
        assert second.merged_into_id == first.id

    station.locator("#merged-into ~ form input[name=reason]").fill("核实后并非同一摊位")
    station.locator("#merged-into ~ form button[type=submit]").click()
    station.wait_for_load_state("networkidle")
    assert "已撤销" in station.content() and station.locator("#merged-into").count() == 0
    with platform.db.session() as session:
        assert session.get(Case, second.id).merged_into_id is None
