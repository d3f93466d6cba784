"""走村入户 in the work end and `POST /api/v1/visits` for cadres: the household list of a grid worker and of a
cadre, the visit form (good and bad input), the API path through the same service, and who may open what."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from minqing.core.accounts import apikeys
from minqing.core.actors import system_actor
from minqing.core.models import PracticalMatter, Visit

from tests.fixtures import households as hh
from tests.fixtures.api import Api


@pytest.fixture
def village(platform, world, password_hash):
    return hh.build(platform, world, password_hash)


def _visits(platform, **where) -> list[Visit]:
    with platform.db.session() as session:
        statement = select(Visit).where(*(getattr(Visit, name) == value for name, value in where.items()))
        return list(session.scalars(statement.order_by(Visit.id)))


def test_a_grid_worker_lists_the_households_of_their_grid_with_heads_masked(as_user, village):
    page = as_user("worker").get("/work/households").get_data(as_text=True)
    assert "走村入户" in page and "共 3 户" in page
    assert "YC-1" in page and "JQ-1" not in page
    assert "张**" in page and "张建国" not in page               # the head of household, masked
    assert "永昌路12号楼3单元502室" in page                       # a grid worker needs the exact address
    assert page.count('class="unvisited"') == 3 and "从未走访" in page


def test_a_village_cadre_records_a_visit_on_the_form_and_it_shows_on_the_list(platform, as_user, village):
    client = as_user("cun")
    home = client.get("/work/households").get_data(as_text=True)
    assert "村两委" in home and "YC-2" in home and "JQ-1" not in home
    form = client.get(f"/work/households/{village.ids['YC-2']}/visit").get_data(as_text=True)
    assert "李**" in form and "见到的人" in form and "是否承诺帮办实事" in form
    answer = client.post(f"/work/households/{village.ids['YC-2']}/visit",
                         data={"met": "户主本人", "needs": "孩子上学", "promised": "yes", "promise_text": "联系学校",
                               "client_id": "form-1"})
    assert answer.status_code == 302
    [visit] = _visits(platform, target_id=village.ids["YC-2"])
    assert visit.visitor_post == "village_committee" and visit.form_data["promise_text"] == "联系学校"
    after = client.get("/work/households").get_data(as_text=True)
    assert after.count('class="unvisited"') == 2 and "杨秀英" in after
    again = client.post(f"/work/households/{village.ids['YC-2']}/visit", data={"met": "户主本人",
                                                                                  "client_id": "form-1"})
    assert again.status_code == 302 and len(_visits(platform, target_id=village.ids["YC-2"])) == 1  # a retry


def test_bad_input_names_the_field_and_changes_nothing(platform, as_user, village):
    client = as_user("cun")
    answer = client.post(f"/work/households/{village.ids['YC-1']}/visit",
                         data={"met": "户主", "promised": "yes", "promise_text": ""})
    assert answer.status_code == 400
    assert "帮办实事：承诺帮办时请写明办什么" in answer.get_data(as_text=True)
    answer = client.post(f"/work/households/{village.ids['YC-1']}/visit", data={"met": " "})
    assert answer.status_code == 400 and "见到的人：请填写" in answer.get_data(as_text=True)
    assert _visits(platform) == []


def test_households_out_of_scope_are_hidden_and_other_roles_refused(as_user, village):
    cun = as_user("cun")
    assert cun.get(f"/work/households/{village.ids['JQ-1']}/visit").status_code == 404
    assert cun.post(f"/work/households/{village.ids['JQ-1']}/visit", data={"met": "户主"}).status_code == 404
    assert as_user("zhen").get(f"/work/households/{village.ids['JQ-1']}/visit").status_code == 200
    for username in ("station", "leader", "chengguan", "admin"):
        assert as_user(username).get("/work/households").status_code == 403, username
    assert as_user("citizen").get("/work/households").status_code == 403
    assert as_user("cun").get("/work/my-grid").status_code == 403          # key persons are grid workers' work
    menu = as_user("cun").get("/work/households").get_data(as_text=True)
    assert 'href="/work/households"' in menu


def test_a_township_cadre_without_grids_sees_their_whole_township(as_user, village):
    page = as_user("zhen").get("/work/households").get_data(as_text=True)
    assert "乡镇包村干部" in page and "JQ-1" in page and "JQ-2" in page and "YC-1" not in page


@pytest.fixture
def cadre_api(platform, client, village):
    with platform.db.session() as session:
        _row, key = apikeys.create(session, system_actor("test"), "cun", "cadre app")
        session.commit()
    return Api(client, key)


def test_a_cadre_records_household_visits_through_the_api_with_the_same_service(platform, cadre_api, village):
    body = {"kind": "household", "target_id": village.ids["YC-3"], "summary": "入户走访，家中老人身体好",
            "met": "户主", "needs": "申请低保", "promised": True, "promise_text": "协助办理低保申请"}
    answer = cadre_api.post("/visits", body, headers={"Idempotency-Key": "cadre-visit-1"})
    assert answer.status_code == 201, answer.get_json()
    [visit] = _visits(platform, target_id=village.ids["YC-3"])
    assert visit.visitor_post == "village_committee" and visit.form_data["needs"] == "申请低保"
    assert "承诺帮办：协助办理低保申请" in visit.summary
    assert cadre_api.post("/visits", body, headers={"Idempotency-Key": "cadre-visit-1"}).status_code == 201
    assert len(_visits(platform)) == 1
    plain = cadre_api.post("/visits", {"kind": "household", "target_id": village.ids["YC-1"],
                                        "summary": "路过看看"})        # without details: a plain visit
    assert plain.status_code == 201 and _visits(platform, target_id=village.ids["YC-1"])[0].visitor_post
    listed = cadre_api.get("/visits").get_json()
    assert listed["total"] == 2
    dated = cadre_api.post("/visits", {**body, "target_id": village.ids["YC-1"], "promise_deadline": "2099-01-01"})
    assert dated.status_code == 422 and "promise_deadline" in dated.get_json()["error"]["fields"]   # over a year
    soon = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    dated = cadre_api.post("/visits", {**body, "target_id": village.ids["YC-1"], "promise_deadline": soon})
    assert dated.status_code == 201, dated.get_json()
    with platform.db.session() as session:
        matter = session.scalar(select(PracticalMatter).where(PracticalMatter.visit_id == dated.get_json()["id"]))
        assert matter.deadline.isoformat() == soon


def test_the_api_refuses_bad_household_details_by_field(platform, cadre_api, village):
    base = {"kind": "household", "target_id": village.ids["YC-1"], "summary": "入户走访"}
    for extra, field in (({"met": "户主", "promised": True}, "promise_text"), ({"met": 3}, "met"),
                         ({"met": "户主", "promised": "yes"}, "promised")):
        answer = cadre_api.post("/visits", {**base, **extra})
        assert answer.status_code == 422 and field in answer.get_json()["error"]["fields"], (extra, answer.get_json())
    key_person = cadre_api.post("/visits", {"kind": "key_person", "target_id": 1, "summary": "走访", "met": "本人"})
    assert key_person.status_code == 422 and "met" in key_person.get_json()["error"]["fields"]
    out = cadre_api.post("/visits", {**base, "target_id": village.ids["JQ-1"], "met": "户主"})
    assert out.status_code == 422 and "target_id" in out.get_json()["error"]["fields"]
    assert _visits(platform) == []


def test_the_admin_user_page_shows_and_edits_a_cadres_post(platform, as_user, village, world):
    admin = as_user("admin")
    url = f"/admin/users/{village.accounts['cun']}"
    page = admin.get(url).get_data(as_text=True)
    assert "干部职务" in page and "村两委" in page and hh.SMALL in page
    answer = admin.post(f"{url}/cadre-post", data={"post": "party_secretary", "grids": f"{hh.SMALL}"})
    assert answer.status_code == 302
    assert "党组织书记" in admin.get(url).get_data(as_text=True)
    bad = admin.post(f"{url}/cadre-post", data={"post": "group_leader", "grids": f"{hh.SMALL};{hh.LARGE_B}"})
    assert bad.status_code == 400 and f"网格 {hh.LARGE_B} 不在永昌路社区" in bad.get_data(as_text=True)
    unknown = admin.post(f"{url}/cadre-post", data={"post": "group_leader", "grids": "G404"})
    assert unknown.status_code == 400 and "网格 G404 不存在" in unknown.get_data(as_text=True)
    with platform.db.session() as session:
        from minqing.core.grassroots import cadres
        assert cadres.post_of(session, village.accounts["cun"]).post == "party_secretary"
    removed = admin.post(f"{url}/cadre-post", data={"post": ""})
    assert removed.status_code == 302
    with platform.db.session() as session:
        from minqing.core.grassroots import cadres
        assert cadres.post_of(session, village.accounts["cun"]) is None
    worker = admin.post(f"/admin/users/{_account_id(platform, 'worker')}/cadre-post", data={"post": "村两委"})
    assert worker.status_code == 400 and "先授予“村、乡镇干部”角色" in worker.get_data(as_text=True)
    assert "干部职务" not in admin.get(f"/admin/users/{_account_id(platform, 'worker')}").get_data(as_text=True)


def _account_id(platform, username: str) -> int:
    from minqing.core.models import Account
    with platform.db.session() as session:
        return session.scalar(select(Account.id).where(Account.username == username))


@pytest.mark.parametrize("path", ["/work/", "/manage/", "/work/my-grid", "/work/report", "/admin/users", "/audit/"])
def test_a_cadre_opens_no_other_staff_page(as_user, village, path):
    assert as_user("cun").get(path).status_code == 403


def test_a_cadre_lands_on_the_household_list(as_user, village):
    assert as_user("cun").get("/").location.endswith("/work/households")


def test_household_details_without_met_are_refused_not_dropped(platform, cadre_api, village):
    """A promise (or any household field) sends the visit to the household service, which asks for `met`: it is
    never recorded as a plain visit with the promise silently dropped."""
    base = {"kind": "household", "target_id": village.ids["YC-1"], "summary": "入户走访"}
    for extra in ({"promised": True, "promise_text": "协助办理低保申请"}, {"needs": "申请低保"},
                  {"promised": False}, {"promise_deadline": "2030-01-01"}):
        answer = cadre_api.post("/visits", {**base, **extra})
        assert answer.status_code == 422, (extra, answer.get_json())
        assert list(answer.get_json()["error"]["fields"]) == ["met"], (extra, answer.get_json())
    assert _visits(platform) == []
    with platform.db.session() as session:
        assert session.scalars(select(PracticalMatter)).all() == []
