"""A case's whole life in a real browser: a grid worker reports on a phone, the command post accepts and
dispatches, the department handles it with a photo, the reporter confirms and rates, and the closed case is
on the map — and no request ever leaves 127.0.0.1."""
from urllib.parse import urlparse

from PIL import Image
from sqlalchemy import select

from minqing.core.models import Case

THEME = "urban_management.street_vending"
SUBMIT = "button[type=submit]:not(.mq-default-submit)"  # the forms engine puts a hidden default button first


def jpeg(path) -> str:
    image = Image.new("RGB", (64, 48), (30, 140, 90))
    image.save(path, format="JPEG")
    return str(path)


def only_local(requested: list[str]) -> bool:
    return all(urlparse(url).hostname in ("127.0.0.1", None) or url.startswith(("data:", "blob:"))
               for url in requested)


def wait_for_count(page, attribute: str, at_least: int = 0) -> int:
    """Poll a data attribute the map sets once it drew something (page JS is not evaluated: the CSP forbids eval)."""
    page.wait_for_selector(f"#map[data-{attribute}]")
    for _ in range(100):
        value = int(page.locator("#map").get_attribute(f"data-{attribute}") or 0)
        if value >= at_least:
            return value
        page.wait_for_timeout(100)
    return value




def test_report_dispatch_handle_rate_close(server, open_page, sign_in, close_the_loop, platform, tmp_path):
    photo = jpeg(tmp_path / "现场.jpg")

    worker, worker_requests = open_page(phone=True)
    sign_in(worker, "worker")
    worker.goto(f"{server}/work/report")
    worker.click(f"a[data-theme='{THEME}']")
    worker.fill("input[name=title]", "张掖路流动摊贩占道")
    worker.fill("input[name='details-address']", "张掖路123号门前")
    worker.fill("input[name='details-location-lon']", "103.83")
    worker.fill("input[name='details-location-lat']", "36.05")
    worker.select_option("select[name='details-vending_type']", "流动摊贩")
    # the theme's UI shows its required yes/no questions as radio buttons: a person answers each
    worker.check("input[name='details-blocks_passage'][value='false']")
    worker.check("input[name='details-persuaded'][value='false']")
    worker.set_input_files("input[name='details-photos']", photo)
    worker.screenshot(path=str(tmp_path / "report-phone.png"), full_page=True)
    worker.click(f"main form {SUBMIT}")
    worker.wait_for_url("**/work/cases/*")
    assert "张掖路流动摊贩占道" in worker.content()
    case_url = worker.url

    station, station_requests, department_requests = close_the_loop(case_url, worker, photo,
                                                                    "已劝离摊贩，盲道恢复通行")

    with platform.db.session() as session:
        case = session.scalar(select(Case))
        assert case.status == "closed" and case.closed_at is not None

    station.goto(f"{server}/map/")
    assert wait_for_count(station, "grids-shown", 1) > 0
    # at the city's zoom the map draws circles per region: the one case is in view, counted in a circle
    assert wait_for_count(station, "cases-in-view", 1) == 1
    for requested in (worker_requests, station_requests, department_requests):
        assert requested and only_local(requested)


def test_map_loads_grids_and_layers_offline(server, open_page, sign_in, tmp_path):
    page, requested = open_page()
    sign_in(page, "leader")
    page.goto(f"{server}/map/")
    assert wait_for_count(page, "grids-shown", 1) > 0
    page.wait_for_selector(".leaflet-control-layers")
    page.locator(".leaflet-control-layers").hover()
    overlays = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    assert any("网格" in label for label in overlays)
    # every department's theme layers, in the layer list grouped by department (with a search box)
    page.wait_for_selector("#layer-groups .layer-item", state="attached")
    assert page.locator("#layer-groups .layer-item").count() > 50
    assert page.locator("#layer-groups .layer-group").count() > 10
    page.screenshot(path=str(tmp_path / "map.png"))
    assert only_local(requested)
