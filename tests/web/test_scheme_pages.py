"""考核方案 pages: who reads and who edits, Chinese per-field errors that save nothing, a preview of last month's
ranking before saving, a saved version that reorders the ranking page with its breakdown, and the other units."""
from __future__ import annotations

import copy
import datetime as dt
import json

import pytest

from minqing.core.models import AssessmentScheme, Case, GridMember, Person, Supervision
from minqing.web.manage import rankings as rankings_page
from minqing.workflows import months

from tests.fixtures.rankings import ranked_month

LAST_MONTH = months.previous(months.current())
SUPERVISION_WEIGHS = {"title": "督办扣分方案", "units": ["department", "township", "grid_worker"],
                      "indicators": [{"indicator": "on_time_closure_rate", "weight": 100, "scoring": "linear",
                                      "floor": 0, "target": 1}],
                      "deductions": [{"count": "supervised", "points": 20, "cap": 30}]}


@pytest.fixture
def last_month(platform, world):
    """城管 67 %, 水务 50 %; one of 城管's on-time cases was supervised (督办)."""
    ids = ranked_month(platform, world, LAST_MONTH)
    with platform.db.session() as session:
        session.add(Supervision(case_id=ids["urban_0"], actor_name="centre", deadline_at=months.bounds(LAST_MONTH)[1]))
        leader = Person(name="网格长小王")       # of the large grid: answers for the small grid under it
        session.add(leader)
        session.flush()
        session.add(GridMember(grid_id=world.grids["G620102001"], person_id=leader.id, role="leader"))
        session.commit()
    return ids


def order_of(text: str, section: str) -> list[str]:
    table = text.split(f'id="{section}"', 1)[1].split("</table>", 1)[0]
    shown = [name for name in ("城管", "水务") if f"<td>{name}</td>" in table]
    return sorted(shown, key=lambda name: table.index(f"<td>{name}</td>"))


def saved(platform) -> int:
    with platform.db.session() as session:
        return session.query(AssessmentScheme).count()


def post(client, document, **form):
    text = document if isinstance(document, str) else json.dumps(document, ensure_ascii=False)
    return client.post("/manage/schemes", data={"document": text, **form})


def test_preview_then_save_a_scheme_that_reorders_the_ranking(as_user, platform, last_month):
    centre, leader = as_user("centre"), as_user("leader")
    text = leader.get("/manage/rankings", query_string={"period": LAST_MONTH}).get_data(as_text=True)
    assert order_of(text, "ranking") == ["城管", "水务"] and "兰州市默认考核方案（内置默认）" in text
    assert "按期办结率（70 分）" in text and "66.7% · 46.7" in text

    page = centre.get("/manage/schemes").get_data(as_text=True)
    assert 'id="scheme-form"' in page and "兰州市默认考核方案" in page and "尚未保存过" in page

    bad = copy.deepcopy(SUPERVISION_WEIGHS)
    bad["indicators"][0]["weight"] = 90
    bad["deductions"][0]["count"] = "late"
    response = post(centre, bad, action="save")
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="scheme-errors"' in text
    assert "/deductions/0/count" in text and "取值“late”无效" in text
    response = post(centre, {**SUPERVISION_WEIGHS, "indicators": bad["indicators"]}, action="save")
    assert "各指标权重之和应为 100，现为 90" in response.get_data(as_text=True)
    assert "不是有效的 JSON" in post(centre, "{oops", action="preview").get_data(as_text=True)
    assert saved(platform) == 0

    response = post(centre, SUPERVISION_WEIGHS, action="preview", unit="department")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and order_of(text, "preview") == ["水务", "城管"]
    assert "督办件 1 件 −20" in text and saved(platform) == 0     # a preview saves nothing

    response = post(centre, SUPERVISION_WEIGHS, action="save")
    assert response.status_code == 302 and saved(platform) == 1
    page = centre.get("/manage/schemes").get_data(as_text=True)
    assert "已保存为第 1 版" in page and "督办扣分方案（第 1 版）" in page and "scope=&amp;version=1" in page
    text = leader.get("/manage/rankings", query_string={"period": LAST_MONTH}).get_data(as_text=True)
    assert order_of(text, "ranking") == ["水务", "城管"] and "督办扣分方案（第 1 版）" in text
    assert "督办件 1 件 −20" in text


def test_who_reads_and_who_edits_schemes(as_user, platform, last_month):
    leader = as_user("leader").get("/manage/schemes").get_data(as_text=True)
    assert 'id="scheme-form"' not in leader and "on_time_closure_rate" in leader    # read only
    assert as_user("water").get("/manage/schemes").status_code == 403
    assert post(as_user("leader"), SUPERVISION_WEIGHS, action="save").status_code == 403
    assert post(as_user("station"), SUPERVISION_WEIGHS, action="save").status_code == 403  # a township's centre
    assert post(as_user("admin"), SUPERVISION_WEIGHS, action="save", scope="999").status_code == 404
    county = {**SUPERVISION_WEIGHS, "units": ["department"]}
    response = post(as_user("admin"), county, action="save", scope="620102000000")
    assert response.status_code == 400 and "县(区)的考核方案只能考核本县(区)内的" in response.get_data(as_text=True)
    assert saved(platform) == 0
    page = as_user("admin").get("/manage/schemes", query_string={"scope": "620102000000"}).get_data(as_text=True)
    assert 'id="scheme-inherited"' in page and "城关区" in page


def test_the_ranking_page_ranks_townships_and_grid_workers(as_user, last_month):
    leader = as_user("leader")
    text = leader.get("/manage/rankings", query_string={"period": LAST_MONTH, "unit": "township"}).get_data(
        as_text=True)
    assert "<td>张掖路街道</td>" in text and "乡镇(街道)排名" in text and 'id="publish"' not in text
    text = leader.get("/manage/rankings", query_string={"period": LAST_MONTH, "unit": "grid_worker",
                                                       "county": "620102000000"}).get_data(as_text=True)
    assert "<td>网格长小王</td>" in text and "城关区网格员排名" in text
    response = leader.get("/manage/rankings", query_string={"period": LAST_MONTH, "unit": "planet"})
    assert response.status_code == 400 and "考核对象无效" in response.get_data(as_text=True)


def test_a_long_ranking_is_shown_a_page_at_a_time_with_its_places(as_user, platform, world, last_month,
                                                                   monkeypatch):
    """Every unit is placed, one page shown (a city has 7,505 grids): the next page goes on from the last place
    of the one before, keeps the period, unit and scope, and a page past the end shows the last one."""
    start, _ = months.bounds(LAST_MONTH)
    with platform.db.session() as session:   # a case in each of two more grids: three grids ranked
        for code in ("G620102001001", "G620102002"):
            session.add(Case(theme_key="urban_management.street_vending", title="井盖", source="grid_worker",
                             status="processing", grid_id=world.grids[code], region_code="620102001001",
                             department_id=world.departments["water_affairs"], created_at=start + dt.timedelta(days=3),
                             due_at=start + dt.timedelta(days=4)))
        session.commit()
    monkeypatch.setattr(rankings_page, "PAGE_SIZE", 2)
    leader = as_user("leader")

    def shown(number, **args):
        text = leader.get("/manage/rankings", query_string={"period": LAST_MONTH, "unit": "grid", "page": number,
                                                           **args}).get_data(as_text=True)
        table = text.split('id="ranking"', 1)[1].split("</table>", 1)[0]
        rows = [row.split("</td>", 2)[:2] for row in table.split("<tr><td>")[1:]]
        return text, [(int(place), name.removeprefix("<td>")) for place, name in rows]

    first, on_first = shown(1)
    assert [place for place, _ in on_first] == [1, 2] and "第 1–2 名，共 3 个" in first
    assert 'id="ranking-pages"' in first and "第 1 / 2 页" in first and "上一页" not in first.split('id="ranking-pages"')[1]
    assert f"page=2&amp;period={LAST_MONTH}&amp;unit=grid" in first
    second, on_second = shown(2)
    assert [place for place, _ in on_second] == [3] and "第 3–3 名，共 3 个" in second and "上一页" in second
    assert {name for _, name in on_first + on_second} == {"永昌路第1网格", "永昌路中网格", "酒泉路大网格"}
    assert shown(99)[1] == on_second
    scoped, _ = shown(1, county="620102000000")
    assert "county=620102000000" in scoped.split('id="ranking-pages"')[1]
