"""Before a report is sent, the page says when the chosen point lies outside every grid (its script asks the
server while the place is picked), and keeps the report from being sent; a point inside a grid clears the note."""
from PIL import Image
from sqlalchemy import func, select

from minqing.core.models import Case

THEME = "urban_management.street_vending"
SUBMIT = "button[type=submit]:not(.mq-default-submit)"  # the forms engine puts a hidden default button first


def test_a_point_outside_every_grid_is_named_before_the_report_is_sent(server, open_page, sign_in, platform,
                                                                       tmp_path):
    photo = tmp_path / "现场.jpg"
    Image.new("RGB", (64, 48), (30, 140, 90)).save(photo, format="JPEG")
    worker, _ = open_page(phone=True)
    sign_in(worker, "worker")
    worker.goto(f"{server}/work/report/{THEME}")
    note = worker.locator("#grid-check")
    assert note.is_hidden()
    worker.fill("input[name=title]", "张掖路流动摊贩占道")   # a form the browser would send as it is
    worker.fill("input[name='details-address']", "张掖路123号")
    worker.select_option("select[name='details-vending_type']", "流动摊贩")
    worker.check("input[name='details-blocks_passage'][value='false']")
    worker.check("input[name='details-persuaded'][value='false']")
    worker.set_input_files("input[name='details-photos']", str(photo))
    worker.fill("input[name='details-location-lon']", "100.0")
    worker.fill("input[name='details-location-lat']", "30.0")
    worker.locator("input[name='details-location-lat']").blur()
    note.wait_for(state="visible")
    assert "不在本平台任何网格内" in note.inner_text()
    form_url = worker.url
    worker.click(f"main form {SUBMIT}")
    worker.wait_for_load_state("networkidle")
    assert worker.url == form_url and note.is_visible()   # not sent: a refused post would land on its own URL
    with platform.db.session() as session:
        assert session.scalar(select(func.count(Case.id))) == 0

    worker.fill("input[name='details-location-lon']", "103.95")   # another grid: fine
    worker.fill("input[name='details-location-lat']", "36.05")
    worker.locator("input[name='details-location-lat']").blur()
    note.wait_for(state="hidden")
