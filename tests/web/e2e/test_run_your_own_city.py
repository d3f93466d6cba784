"""README's "Run your own city" in a real browser, on a city made only by `minqing init` and the imports of the
example files (no demo builder, no test world): the administrator signs in with the password set from the command
line, enrols the second factor an administrator must have, and gives out a one-time code on the admin page; the
imported grid worker, on a phone (390×844), signs in with it at 首次登录, sets a password and reports an event at a
point inside their imported grid. No console error on the way (the `open_page` fixture checks)."""
from __future__ import annotations

import threading

import pyotp
import pytest
from PIL import Image
from sqlalchemy import select
from werkzeug.serving import make_server

from minqing.core.models import Case, Grid
from minqing.core.platform import Platform
from minqing.web import create_app

from tests.fixtures.own_city import (ADMIN, ADMIN_PASSWORD, empty_database, example_grids, example_worker,
                                     point_inside, set_up_example_city)

WORKER_PASSWORD = "Liufang#Grid2026"
SUBMIT = "button[type=submit]:not(.mq-default-submit)"  # the forms engine puts a hidden default button first


@pytest.fixture
def own_city(tmp_path_factory):
    """The example city set up from an empty database through the command line, and its platform."""
    with empty_database(tmp_path_factory) as url:
        set_up_example_city(url)
        platform = Platform(url)
        yield platform
        platform.close()


@pytest.fixture
def city_server(own_city):
    app = create_app({"TESTING": False}, platform=own_city)  # as `minqing serve`: CSRF on, admins need TOTP
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=10)


def submit(page, selector: str = "main button[type=submit]") -> None:
    page.click(selector)
    page.wait_for_load_state("networkidle")


def give_out_code(page, server: str, username: str) -> str:
    """The administrator's first sign-in (password, then enrolling TOTP) and a one-time code for `username`."""
    page.goto(f"{server}/login")
    page.fill("input[name=username]", ADMIN)
    page.fill("input[name=password]", ADMIN_PASSWORD)
    submit(page)
    assert page.url.endswith("/account/totp")              # an administrator's second factor comes first
    secret = page.inner_text("#totp-secret").replace(" ", "")
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    submit(page, "main form:not(.inline) button[type=submit]")
    page.goto(f"{server}/admin/users?q={username}")
    page.click(f"main a:text-is('{username}')")
    page.click("button:text-is('生成一次性验证码')")
    page.wait_for_load_state("networkidle")
    return page.inner_text("#issued-code").strip()


def test_an_imported_grid_worker_signs_in_with_a_code_and_reports_in_their_grid(own_city, city_server, open_page,
                                                                                 tmp_path):
    worker, grid_code = example_worker()
    admin, _ = open_page()
    code = give_out_code(admin, city_server, worker)
    assert len(code) == 8 and code.isdigit()

    phone, requested = open_page(phone=True)
    phone.goto(f"{city_server}/login")
    phone.click("text=首次登录或忘记密码")
    phone.wait_for_load_state("networkidle")
    code_form = phone.locator("form[action$='/login/code']")
    code_form.locator("input[name=username]").fill(worker)
    code_form.locator("input[name=code]").fill(code)
    submit(phone, "form[action$='/login/code'] button[type=submit]")
    assert phone.url.endswith("/account/password")
    phone.fill("input[name=new]", WORKER_PASSWORD)
    phone.fill("input[name=confirm]", WORKER_PASSWORD)
    submit(phone)
    assert "/account/password" not in phone.url and "密码已设置" in phone.content()

    photo = tmp_path / "现场.jpg"
    Image.new("RGB", (64, 48), (30, 140, 90)).save(photo, format="JPEG")
    lon, lat = point_inside(grid_code)
    phone.goto(f"{city_server}/work/report")
    phone.click("a[href$='/work/report/urban_management.street_vending']")
    phone.wait_for_load_state("networkidle")
    phone.fill("input[name=title]", "金塔巷流动摊贩占道")
    phone.fill("input[name='details-address']", "金塔巷12号门前")
    phone.select_option("select[name='details-vending_type']", "流动摊贩")
    phone.check("input[name='details-blocks_passage'][value='false']")
    phone.check("input[name='details-persuaded'][value='false']")
    phone.set_input_files("input[name='details-photos']", str(photo))
    phone.fill("input[name='details-location-lon']", str(lon))
    phone.fill("input[name='details-location-lat']", str(lat))
    phone.locator("input[name='details-location-lat']").blur()
    submit(phone, f"main form {SUBMIT}")
    assert "/work/cases/" in phone.url and "已上报" in phone.content()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390   # nothing wider than the phone

    with own_city.db.session() as session:
        case = session.scalar(select(Case))
        assert case.title == "金塔巷流动摊贩占道" and (case.lon, case.lat) == (lon, lat)
        assert session.get(Grid, case.grid_id).code == grid_code
        assert case.region_code == example_grids()[grid_code]["properties"]["region_code"]
    assert all(url.startswith(city_server) or url.startswith(("data:", "blob:")) for url in requested)
