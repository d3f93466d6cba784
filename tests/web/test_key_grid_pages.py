"""Pages of 重点网格 and 帮办实事: operators assign and remove key grids in their region, the dashboard lists them,
owners carry a matter from promise to result in the work end, leaders read the ledger per village (masked), and
a citizen sees on 小兰帮办 the matters that name them."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from minqing.core.models import Grid, KeyGrid, PracticalMatter
from minqing.web import create_app

from tests.fixtures import key_grids as kg

RED, YELLOW, BLUE = "G620102001001001", "G620102001001002", "G620102001001003"


@pytest.fixture
def city(platform):
    return kg.build(platform)


@pytest.fixture
def app(platform, city):
    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}, platform=platform)


@pytest.fixture
def as_user(app):
    def signed_in(username):
        client = app.test_client()
        response = client.post("/login", data={"username": username, "password": kg.PASSWORD})
        assert response.status_code == 302 and "/login" not in response.headers["Location"], username
        return client
    return signed_in


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_operator_assigns_a_red_grid_is_refused_a_blue_one_and_removes(platform, city, as_user):
    operator = as_user("operator")
    page = _text(operator.get("/manage/key-grids"))
    assert "永昌路第1网格（红）" in page and "永昌路第2网格（黄）" in page
    assert "永昌路第3网格" not in page and "西园" not in page          # blue grids and side B are not offered
    assert "王书记（永昌路社区）" in page and "赵书记" not in page
    refused = operator.post("/manage/key-grids", data={"grid_id": city.grids[BLUE],
                                                       "holder_account_id": city.accounts["secretary"]},
                            follow_redirects=True)
    assert "蓝色网格不能设为重点网格" in _text(refused)
    done = operator.post("/manage/key-grids", data={"grid_id": city.grids[RED],
                                                    "holder_account_id": city.accounts["secretary"]},
                         follow_redirects=True)
    assert "已设为重点网格" in _text(done)
    with platform.db.session() as session:
        key_grid = session.scalar(select(KeyGrid))
        session.get(Grid, city.grids[RED]).colour = "blue"
        session.commit()
    page = _text(as_user("leader").get("/manage/key-grids"))
    assert "永昌路第1网格" in page and "王书记" in page and 'class="trend-improved">好转' in page
    assert "/remove" not in page                                      # leaders read only
    assert as_user("leader").post(f"/manage/key-grids/{key_grid.id}/remove", data={"reason": "调整"}).status_code == 403
    other = as_user("operator_b").post(f"/manage/key-grids/{key_grid.id}/remove", data={"reason": "调整"},
                                       follow_redirects=True)
    assert "不在您的管辖范围内" in _text(other)
    removed = operator.post(f"/manage/key-grids/{key_grid.id}/remove", data={"reason": "网格已稳定"},
                            follow_redirects=True)
    assert "已解除重点网格" in _text(removed) and "暂无重点网格" in _text(removed)


def test_the_form_offers_only_holders_the_assignment_accepts(platform, city, as_user):
    from minqing.core.models import RoleGrant

    with platform.db.session() as session:   # the secretary keeps the post but loses the role cadre
        session.execute(RoleGrant.__table__.delete().where(RoleGrant.account_id == city.accounts["secretary"],
                                                           RoleGrant.role == "cadre"))
        session.commit()
    assert "王书记" not in _text(as_user("operator").get("/manage/key-grids"))


def test_the_dashboard_panel_lists_key_grids_with_holder_cases_and_trend(platform, city, as_user):
    operator = as_user("operator")
    operator.post("/manage/key-grids", data={"grid_id": city.grids[YELLOW],
                                             "holder_account_id": city.accounts["secretary"]})
    page = _text(as_user("leader").get("/manage/"))
    assert 'id="key-grids"' in page and "永昌路第2网格" in page and "黄 → 黄" in page and "持平" in page
    assert 'id="key_grids-count"' in page and 'id="practical_matters-count"' in page and "帮办实事 0 件" in page


def test_a_matter_from_promise_to_result_in_the_work_end_and_on_the_citizens_page(platform, city, as_user):
    cadre = as_user("committee")
    choose = _text(cadre.get("/work/matters"))
    assert "HH-KG-a · 户主户**" in choose and "HH-KG-b" not in choose      # the cadre's village only, masked
    form = _text(cadre.get(f"/work/matters?household_id={city.households['a']}"))
    assert "张**（户主）" in form
    assert cadre.get(f"/work/matters?household_id={city.households['b']}").status_code == 404
    bad = cadre.post("/work/matters", data={"household_id": city.households["a"], "title": "代办高龄补贴",
                                            "deadline": "2020-01-01"})
    assert bad.status_code == 400 and "办理期限：不能早于今天" in _text(bad)
    deadline = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    made = cadre.post("/work/matters?client_id=abc", data={"household_id": city.households["a"],
                                                          "resident_id": city.residents["a"],
                                                          "title": "代办高龄补贴", "deadline": deadline})
    assert made.status_code == 302
    with platform.db.session() as session:
        matter = session.scalar(select(PracticalMatter))
    assert _text(as_user("citizen").get("/citizen/matters")).count("代办高龄补贴") == 1
    assert "代办高龄补贴" not in _text(as_user("citizen_b").get("/citizen/matters"))
    assert as_user("secretary_b").get(f"/work/matters/{matter.id}").status_code == 404
    assert as_user("worker").post(f"/work/matters/{matter.id}/start", follow_redirects=True).status_code == 200
    cadre.post(f"/work/matters/{matter.id}/start")
    empty = cadre.post(f"/work/matters/{matter.id}/finish", data={"result": ""}, follow_redirects=True)
    assert "办理结果：请至少填写2个字" in _text(empty)
    done = _text(cadre.post(f"/work/matters/{matter.id}/finish", data={"result": "补贴已到账"},
                            follow_redirects=True))
    assert "已办结" in done and "补贴已到账" in done
    citizen_page = _text(as_user("citizen").get("/citizen/matters"))
    assert "补贴已到账" in citizen_page and "李委员" not in citizen_page
    ledger = _text(as_user("leader").get("/manage/matters"))
    assert "永昌路社区" in ledger and "张**" in ledger and "张a民" not in ledger and "李委员" in ledger
    assert "代办高龄补贴" not in _text(as_user("operator_b").get("/manage/matters"))


def test_who_opens_the_pages(city, as_user, app):
    anonymous = app.test_client()
    assert anonymous.get("/work/matters").status_code == 302
    assert as_user("citizen").get("/work/matters").status_code == 403
    assert as_user("leader").get("/work/matters").status_code == 403
    assert as_user("committee").get("/manage/key-grids").status_code == 403
    assert as_user("worker").get("/manage/matters").status_code == 403
    assert as_user("committee").get("/citizen/matters").status_code == 403


def test_disabling_the_plugin_removes_the_panels_not_the_pages(platform, city, as_user):
    from minqing.core.actors import system_actor
    with platform.db.session() as session:
        platform.plugins.set_enabled("key_grids", False, session=session, actor=system_actor("test"))
        session.commit()
    leader = as_user("leader")
    page = _text(leader.get("/manage/"))
    assert 'id="key_grids-count"' not in page and 'id="practical_matters-count"' not in page
    assert leader.get("/manage/key-grids").status_code == 200
