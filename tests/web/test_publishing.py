"""政策服务的编写: department staff write a draft, preview it, publish, withdraw and rework it; citizens see published
items only; every step is kept with who and when; other departments' staff and other roles cannot touch it."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from minqing.core import publications
from minqing.core.actors import system_actor
from minqing.core.models import AuditRecord, Publication, PublicationEvent

DRAFT = {"department": "urban_management", "kind": "办事指南", "area": "", "title": "占道经营审批办理指南",
         "summary": "临时占用道路经营须先审批。", "body": "## 办理地点\n- 区城管执法局窗口\n\n<script>alert(1)</script>"}


def citizen_sees(client, title: str) -> bool:
    return title in client.get("/citizen/publications").get_data(as_text=True)


def events(platform, publication_id: int) -> list[tuple[str, str, str]]:
    with platform.db.session() as session:
        return [tuple(row) for row in session.execute(
            select(PublicationEvent.action, PublicationEvent.to_status, PublicationEvent.actor_name)
            .where(PublicationEvent.publication_id == publication_id).order_by(PublicationEvent.id)).all()]


@pytest.fixture
def draft_id(platform, as_user) -> int:
    response = as_user("chengguan").post("/work/publications/new", data=DRAFT)
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/work/publications/(\d+)$", response.location).group(1))


def test_the_life_of_a_publication_and_what_citizens_see(platform, app, as_user, draft_id):
    staff, visitor = as_user("chengguan"), app.test_client()
    preview = staff.get(f"/work/publications/{draft_id}").get_data(as_text=True)
    assert "草稿" in preview and "办理地点" in preview and "&lt;script&gt;" in preview and "<script>alert" not in preview
    assert not citizen_sees(visitor, DRAFT["title"])
    assert 'value="urban_management"' not in visitor.get("/citizen/publications").get_data(as_text=True)
    assert visitor.get(f"/citizen/publications/{draft_id}").status_code == 404
    edited = staff.post(f"/work/publications/{draft_id}/edit", data={**DRAFT, "title": "占道经营临时审批指南"})
    assert edited.status_code == 302
    assert staff.post(f"/work/publications/{draft_id}/publish").status_code == 302
    assert citizen_sees(visitor, "占道经营临时审批指南")
    assert 'value="urban_management"' in visitor.get("/citizen/publications").get_data(as_text=True)
    assert visitor.get(f"/citizen/publications/{draft_id}").status_code == 200
    refused = staff.post(f"/work/publications/{draft_id}/edit", data={**DRAFT, "title": "半截修改"})
    assert refused.status_code == 400 and "只能修改草稿" in refused.get_data(as_text=True)
    assert staff.post(f"/work/publications/{draft_id}/withdraw").status_code == 302
    assert not citizen_sees(visitor, "占道经营临时审批指南")
    assert visitor.get(f"/citizen/publications/{draft_id}").status_code == 404
    assert staff.post(f"/work/publications/{draft_id}/reopen").status_code == 302
    assert events(platform, draft_id) == [("create", "draft", "chengguan"), ("edit", "draft", "chengguan"),
                                          ("publish", "published", "chengguan"),
                                          ("withdraw", "withdrawn", "chengguan"), ("reopen", "draft", "chengguan")]
    history = staff.get(f"/work/publications/{draft_id}").get_data(as_text=True)
    assert all(word in history for word in ("起草", "修改", "发布", "撤回", "重新编辑"))
    with platform.db.session() as session:
        actions = session.scalars(select(AuditRecord.action).where(AuditRecord.object_type == "publication")
                                  .order_by(AuditRecord.id)).all()
    assert actions == ["publication.create", "publication.edit", "publication.publish", "publication.withdraw",
                       "publication.reopen"]


def test_a_published_item_cannot_be_published_twice(platform, as_user, draft_id):
    staff = as_user("chengguan")
    staff.post(f"/work/publications/{draft_id}/publish")
    again = staff.post(f"/work/publications/{draft_id}/publish", follow_redirects=True)
    assert "已发布的内容不能发布" in again.get_data(as_text=True)
    assert [action for action, _status, _name in events(platform, draft_id)] == ["create", "publish"]


def test_other_departments_and_other_roles_cannot_write(platform, as_user, draft_id):
    water = as_user("water")
    assert draft_id and water.get(f"/work/publications/{draft_id}").status_code == 404
    assert water.post(f"/work/publications/{draft_id}/publish").status_code == 404
    foreign = water.post("/work/publications/new", data={**DRAFT, "title": "冒名发布"})
    assert foreign.status_code == 400 and "您不能以“城管”的名义发布内容" in foreign.get_data(as_text=True)
    assert DRAFT["title"] not in water.get("/work/publications").get_data(as_text=True)
    for username in ("worker", "centre", "leader", "auditor"):
        client = as_user(username)
        assert client.get("/work/publications").status_code == 403, username
        assert client.post("/work/publications/new", data=DRAFT).status_code == 403, username
    with platform.db.session() as session:
        assert session.scalars(select(Publication.title)).all() == [DRAFT["title"]]
        assert session.scalar(select(Publication.status)) == "draft"


def test_bad_input_names_the_field_and_stores_nothing(platform, as_user, world):
    staff = as_user("chengguan")
    short = staff.post("/work/publications/new", data={**DRAFT, "title": "短"})
    assert short.status_code == 400 and "标题须为2至200个字" in short.get_data(as_text=True)
    area = staff.post("/work/publications/new", data={**DRAFT, "area": "没有"})
    assert area.status_code == 400 and "服务专区只能是" in area.get_data(as_text=True)
    with platform.db.session() as session:
        assert session.scalars(select(Publication.id)).all() == []


def test_an_administrator_writes_for_any_department(platform, as_user, world):
    admin = as_user("admin")
    response = admin.post("/work/publications/new", data={**DRAFT, "department": "water_affairs", "title": "停水通知"})
    assert response.status_code == 302
    publication_id = int(response.location.rsplit("/", 1)[1])
    assert admin.post(f"/work/publications/{publication_id}/publish").status_code == 302
    assert "停水通知" in admin.get("/work/publications?status=published").get_data(as_text=True)


def test_the_demo_seeder_goes_through_the_same_steps(platform, session, world):
    added = publications.seed_demo(session, system_actor("demo"))
    session.commit()
    assert added > 0
    steps = session.execute(select(PublicationEvent.action, PublicationEvent.to_status)
                            .order_by(PublicationEvent.id).limit(2)).all()
    assert [tuple(step) for step in steps] == [("create", "draft"), ("publish", "published")]
    assert len(publications.search(session)) == added
