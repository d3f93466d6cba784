"""Reporting with a map (issue #22, "Reporting"): every report form carries the map picker; the address search
over the standard addresses (scoped for staff, text and point only for citizens, bounded); the locate check (a
point outside every grid refused, outside the reporter's own grid a warning); the reporter opens what they
reported wherever it lies; the theme search; and the citizen's own form of a theme."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from minqing.core.models import Address, Case

from tests.fixtures.citizen import THEME, citizen_report_form, photo
from tests.fixtures.web import INSIDE, OTHER

OUTSIDE = (100.0, 30.0)   # in no grid at all
SUBMIT_WORKER = {"title": "张掖路流动摊贩占道", "category": "1001", "urgency": "normal",
                 "details-address": "酒泉路8号", "details-vending_type": "流动摊贩",
                 "details-blocks_passage": "false", "details-persuaded": "false"}


@pytest.fixture
def addresses(platform, world):
    """Standard addresses in the worker's small grid and in the other township's grid."""
    rows = [("A1", "张掖路街道永昌路社区永昌路12号", INSIDE, "G620102001001001", "620102001001"),
            ("A2", "张掖路街道永昌路社区永昌路120号院", (103.831, 36.051), "G620102001001001", "620102001001"),
            ("B1", "酒泉路街道酒泉路8号", OTHER, "G620102002", "620102002000"),
            ("B2", "酒泉路街道百分之百%商店", OTHER, "G620102002", "620102002000")]
    rows += [(f"C{n}", f"酒泉路街道永昌北路{n}号", OTHER, "G620102002", "620102002000") for n in range(15)]
    with platform.db.session() as session:
        for code, text, (lon, lat), grid, region in rows:
            session.add(Address(code=code, text=text, lon=lon, lat=lat, grid_id=world.grids[grid],
                                region_code=region))
        session.commit()


def _search(client, text):
    return client.get("/report-map/addresses.json", query_string={"q": text})


def test_staff_search_the_addresses_of_their_scope(as_user, addresses):
    worker = as_user("worker")
    found = _search(worker, "永昌路").get_json()["results"]
    assert [item["text"] for item in found] == ["张掖路街道永昌路社区永昌路12号", "张掖路街道永昌路社区永昌路120号院"]
    assert found[0] == {"text": "张掖路街道永昌路社区永昌路12号", "lon": INSIDE[0], "lat": INSIDE[1]}
    assert _search(worker, "酒泉路").get_json() == {"results": [], "message": "没有找到含这些文字的标准地址"}
    centre = _search(as_user("centre"), "酒泉路").get_json()["results"]
    assert len(centre) == 10                                    # bounded, shortest first
    assert centre[0]["text"] == "酒泉路街道酒泉路8号"


def test_citizens_search_every_address_but_see_only_its_text_and_point(as_citizen, addresses):
    citizen = as_citizen()
    found = _search(citizen, "酒泉路8号").get_json()["results"]
    assert found == [{"text": "酒泉路街道酒泉路8号", "lon": OTHER[0], "lat": OTHER[1]}]


def test_the_search_is_bounded_and_takes_wildcards_as_text(as_user, addresses):
    centre = as_user("centre")
    too_long = _search(centre, "路" * 41)
    assert too_long.status_code == 400 and "最多 40 个字" in too_long.get_json()["message"]
    assert _search(centre, "路").get_json() == {"results": [], "message": "请至少输入 2 个字"}
    assert [item["text"] for item in _search(centre, "百%").get_json()["results"]] == ["酒泉路街道百分之百%商店"]
    assert _search(centre, "%%").get_json()["results"] == []
    assert _search(centre, "__").get_json()["results"] == []
    assert as_user("auditor").get("/report-map/addresses.json?q=酒泉").status_code == 403


def _locate(client, point):
    return client.get("/work/report/locate", query_string={"lon": point[0], "lat": point[1]}).get_json()


def test_locate_names_the_grid_and_warns_outside_the_workers_own_grid(as_user, as_citizen, world):
    worker = as_user("worker")
    assert _locate(worker, INSIDE) == {"inside": True, "grid": "永昌路第1网格", "own": True, "message": "",
                                       "warning": ""}
    elsewhere = _locate(worker, OTHER)
    assert elsewhere["inside"] is True and elsewhere["own"] is False and elsewhere["grid"] == "酒泉路大网格"
    assert "不在您负责的网格内" in elsewhere["warning"] and "仍可上报" in elsewhere["warning"]
    outside = _locate(worker, OUTSIDE)
    assert outside["inside"] is False and "不在本平台任何网格内" in outside["message"]
    assert _locate(as_citizen(), OTHER) == {"inside": True, "grid": "酒泉路大网格", "own": None, "message": "",
                                            "warning": ""}
    assert worker.get("/work/report/locate").get_json()["inside"] is None


def test_a_worker_reporting_outside_their_grid_opens_the_case(as_user, platform, world):
    worker = as_user("worker")
    data = {**SUBMIT_WORKER, "details-location-lon": str(OTHER[0]), "details-location-lat": str(OTHER[1]),
            "details-photos": photo()}
    response = worker.post(f"/work/report/{THEME}", data=data, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    page = worker.get(response.location)
    assert page.status_code == 200 and "张掖路流动摊贩占道" in page.get_data(as_text=True)
    with platform.db.session() as session:
        case = session.scalar(select(Case))
        assert case.grid_id == world.grids["G620102002"]
    assert worker.get(f"/work/cases/{case.id}").status_code == 200
    outside = worker.post(f"/work/report/{THEME}", content_type="multipart/form-data",
                          data={**data, "details-photos": photo(), "details-location-lon": str(OUTSIDE[0]),
                                "details-location-lat": str(OUTSIDE[1])})
    assert outside.status_code == 400 and "不在本平台任何网格内" in outside.get_data(as_text=True)


def test_every_report_form_has_the_map_picker(as_user, as_citizen, world):
    pages = [as_user("worker").get(f"/work/report/{THEME}"), as_citizen().get(f"/citizen/report/{THEME}")]
    chengguan = as_user("chengguan")
    chengguan.post("/builder/new", data={"department": "urban_management", "title": "井盖巡查",
                                         "slug": "manhole_patrol", "start": "blank"})
    pages.append(chengguan.get("/builder/urban_management.manhole_patrol/preview?form=report"))
    for response in pages:
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "data-report-map" in page and "/static/js/report-map.js" in page and "/static/report-map.css" in page
        assert 'data-addresses-url="/report-map/addresses.json"' in page
        assert "data-mq-geo-lon" in page and "data-mq-geo-lat" in page    # the boxes stay, for no script
    worker_page = pages[0].get_data(as_text=True)
    assert 'data-my-grids-url="/map/my-grids.geojson"' in worker_page and 'id="grid-own"' in worker_page
    assert "data-my-grids-url" not in pages[1].get_data(as_text=True)     # a citizen has no grid


def test_the_theme_search_works_as_a_plain_query(as_user, as_citizen, world):
    worker = as_user("worker")
    every = worker.get("/work/report").get_data(as_text=True)
    assert f'data-theme="{THEME}"' in every and 'data-theme="hotline.general_appeals"' in every
    for text in ("占道", "城管", "市容"):          # title, department, category
        page = worker.get("/work/report", query_string={"q": text}).get_data(as_text=True)
        assert f'data-theme="{THEME}"' in page, text
        assert 'data-theme="hotline.general_appeals"' not in page, text
    none = worker.get("/work/report", query_string={"q": "没有这种主题"}).get_data(as_text=True)
    assert "data-theme=" not in none and "没有名称、部门或类别含" in none and "/static/js/theme-search.js" in none
    resident = as_citizen()
    citizen = resident.get("/citizen/report", query_string={"q": "占道"}).get_data(as_text=True)
    assert f'data-theme="{THEME}"' in citizen and "<details data-theme-group open>" in citizen
    shown = set(re.findall(r'data-theme="([^"]+)"', citizen))
    offered = set(re.findall(r'data-theme="([^"]+)"', resident.get("/citizen/report").get_data(as_text=True)))
    assert "hotline.general_appeals" in shown           # the 12345 fallback stays
    assert 2 <= len(shown) < len(offered) / 4


def test_the_citizen_form_is_not_the_workers_form(as_user, as_citizen, platform, world):
    work = as_user("worker").get(f"/work/report/{THEME}").get_data(as_text=True)
    assert "是否已现场劝导" in work and "经营类型" in work                 # the work end is unchanged
    citizen = as_citizen()
    page = citizen.get(f"/citizen/report/{THEME}").get_data(as_text=True)
    assert "是否已现场劝导" not in page and "经营类型" not in page and "情况描述" in page
    photos = re.search(r'<fieldset[^>]*data-mq-attachment[^>]*>.*?</legend>', page, re.S).group(0)
    assert "现场照片" in photos and "*" not in photos                       # photos optional
    form = citizen_report_form()
    del form["details-photos"]
    client_id = re.search(r"client_id=([0-9a-f]{32})", page).group(1)
    response = citizen.post(f"/citizen/report/{THEME}?client_id={client_id}", data=form,
                            content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    with platform.db.session() as session:
        case = session.scalar(select(Case))
        assert set(case.form_data) == {"address", "location", "description"}
    refused = citizen.post(f"/citizen/report/{THEME}", content_type="multipart/form-data",
                           data={**citizen_report_form(), "details-persuaded": "false"})
    assert refused.status_code == 400 and "details-persuaded" in refused.get_data(as_text=True)


STATIC = Path(__file__).resolve().parents[2] / "web" / "static"


def _rules(css: str, selector: str) -> list[str]:
    """The declarations of every rule whose selector list names `selector` exactly."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    return [body for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css)
            if selector in (part.strip() for part in selectors.split(","))]


def test_the_styles_live_where_the_pages_load_them(as_user, as_citizen, world):
    """The choose pages' theme search is styled by site.css (they load no map styles); the map page's layer rows
    and every page's thumbnails by one rule each in site.css; the address search has one set of classes."""
    site, picker = (STATIC / "site.css").read_text(), (STATIC / "report-map.css").read_text()
    for selector in (".theme-search", ".theme-search label", "[data-theme-group][hidden]"):
        assert _rules(site, selector) and not _rules(picker, selector), selector
    for path, client in (("/work/report", as_user("worker")), ("/citizen/report", as_citizen())):
        page = client.get(path).get_data(as_text=True)
        assert "data-theme-search" in page and "/static/report-map.css" not in page, path
    assert "flex-wrap: wrap" in _rules(site, ".layer-item")[0]
    assert not _rules((STATIC / "map-records.css").read_text(), ".layer-item")
    thumbnails = _rules(site, ".thumbnails img")
    assert thumbnails and "object-fit: cover" in thumbnails[0] and not _rules(site, "ul.thumbnails img")
    assert not re.search(r"\.ledger-map-results?\b", (STATIC / "ledgers.css").read_text())
