"""What walking the first hour in a browser (tests/web/e2e/test_first_hour.py) found, pinned down without one:
a resident's map picker does not speak of "your grid"; adopting a dispatch suggestion says where the case went;
"another category" starts at the reported category or the top suggestion, not at the list's first entry."""
from __future__ import annotations

import re

import pytest

from minqing.core.actors import system_actor
from minqing.core.models import Department
from minqing.workflows import report_case, transition

from tests.fixtures.web import INSIDE

THEME = "urban_management.street_vending"
OWN_GRID = "紫色虚线框是您负责的网格"


@pytest.fixture(autouse=True)
def folders(tmp_path, monkeypatch):
    monkeypatch.setenv("MINQING_MODEL_DIR", str(tmp_path / "models"))


def _accepted(platform, world, **fields) -> int:
    with platform.db.session() as session:
        session.get(Department, world.departments["urban_management_chengguan"]).parent_id = \
            world.departments["urban_management"]
        case = report_case(platform, session, system_actor("test"), theme_key=THEME, title="门前摆摊",
                           description="张掖路商铺门前有人占道经营摆摊卖菜", lon=INSIDE[0], lat=INSIDE[1],
                           source="hotline", **fields)
        transition(platform, session, case, "accept", system_actor("test"), {})
        return case.id


def _preselected(page: str) -> str:
    other = page.split('id="dispatch-other-code"')[1].split("</select>")[0]
    return re.search(r'<option value="([^"]+)" selected>', other).group(1)


def test_only_someone_with_a_grid_is_told_about_their_grid(as_user, as_citizen):
    worker = as_user("worker").get(f"/work/report/{THEME}").get_data(as_text=True)
    assert "点击地图放置标记" in worker and OWN_GRID in worker
    citizen = as_citizen().get(f"/citizen/report/{THEME}").get_data(as_text=True)
    assert "点击地图放置标记" in citizen and OWN_GRID not in citizen


def test_adopting_a_suggestion_says_where_the_case_went(platform, world, as_user):
    case_id = _accepted(platform, world)
    station = as_user("station")
    page = station.get(f"/work/cases/{case_id}").get_data(as_text=True)
    code = re.search(r'<li class="suggestion" data-code="([^"]+)"', page).group(1)
    answer = station.post(f"/work/cases/{case_id}/suggestions/confirm", data={"code": code},
                          follow_redirects=True)
    assert "已按所选分类分拨交办兰州市城市管理局" in answer.get_data(as_text=True)


def test_another_category_starts_at_the_reported_one_or_the_top_suggestion(platform, world, as_user):
    station = as_user("station")
    unsorted = station.get(f"/work/cases/{_accepted(platform, world)}").get_data(as_text=True)
    top = re.search(r'<li class="suggestion" data-code="([^"]+)"', unsorted).group(1)
    assert _preselected(unsorted) == top
    reported = _accepted(platform, world, category="1003")
    page = station.get(f"/work/cases/{reported}").get_data(as_text=True)
    assert _preselected(page) == "1003"
