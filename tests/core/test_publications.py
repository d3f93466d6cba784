"""Policies and service guides: published per department, searched with bound parameters, grouped for the list,
and bodies read as plain text."""
import pytest
from sqlalchemy import func, select

from minqing.core import publications
from minqing.core.actors import system_actor
from minqing.core.departments import sync_departments
from minqing.core.models import AuditRecord, Publication


@pytest.fixture
def departments(platform, session):
    sync_departments(session, platform.plugins, system_actor("test"))
    session.commit()


def test_the_demo_content_covers_several_departments_and_is_added_once(session, departments):
    actor = system_actor("demo")
    added = publications.seed_demo(session, actor)
    assert added == len(publications.DEMO) >= 20
    assert publications.seed_demo(session, actor) == 0
    session.commit()
    items = publications.search(session)
    assert len(items) == added
    assert len({item.department.key for item in items}) >= 8
    assert {item.kind for item in items} == set(publications.KINDS)
    assert {item.area for item in items} - {""} == set(publications.AREAS)
    titles = {item.title for item in items}
    assert {"高龄津贴申领指南", "就业补贴政策", "异地就医备案办理指南", "公共租赁住房申请指南",
            "残疾人两项补贴申领指南"} <= titles
    assert items == sorted(items, key=lambda item: item.published_at, reverse=True)
    assert session.scalar(select(func.count()).select_from(AuditRecord)
                          .where(AuditRecord.action == "publication.publish")) == added


def test_search_by_words_kind_area_and_department(session, departments):
    publications.seed_demo(session, system_actor("demo"))
    assert [item.title for item in publications.search(session, keyword="异地就医")] == ["异地就医备案办理指南"]
    both = publications.search(session, keyword="残疾人 补贴")  # every word must occur
    assert "残疾人两项补贴申领指南" in {item.title for item in both}
    assert all("残疾人" in item.title + item.summary + item.body + item.department.short_name for item in both)
    assert {item.department.key for item in publications.search(session, keyword="医保")} == {"medical_insurance"}
    assert all(item.kind == "政策" for item in publications.search(session, kind="政策"))
    assert all(item.area == "融资" for item in publications.search(session, area="融资"))
    assert {item.department.key for item in publications.search(session, department_key="human_resources")} == \
        {"human_resources"}
    assert publications.search(session, keyword="没有这样的内容") == []


@pytest.mark.parametrize("keyword", ["%", "_", "\\", "' OR '1'='1", "%' --", "补贴%"])
def test_wildcards_and_quotes_in_a_keyword_are_plain_characters(session, departments, keyword):
    publications.seed_demo(session, system_actor("demo"))
    assert publications.search(session, keyword=keyword) == []


def test_a_keyword_with_a_percent_sign_finds_the_text_that_has_one(session, departments):
    publications.publish(session, system_actor(), department_key="finance", kind="政策", title="贴息比例说明",
                         body="贴息比例为50%_以内")
    publications.publish(session, system_actor(), department_key="finance", kind="政策", title="其他说明",
                         body="比例为50以内")
    assert [item.title for item in publications.search(session, keyword="50%_")] == ["贴息比例说明"]


def test_grouped_by_kind_then_department(session, departments):
    publications.seed_demo(session, system_actor("demo"))
    groups = publications.grouped(publications.search(session))
    assert [kind for kind, _ in groups] == list(publications.KINDS)
    for kind, by_department in groups:
        assert [name for name, _ in by_department] == sorted(name for name, _ in by_department)
        for name, items in by_department:
            assert all(item.kind == kind and item.department.short_name == name for item in items)


def test_publishing_checks_department_kind_area_and_title(session, departments):
    actor = system_actor()
    with pytest.raises(publications.PublicationInvalid, match="没有职能部门"):
        publications.publish(session, actor, department_key="nowhere", kind="政策", title="标题", body="")
    with pytest.raises(publications.PublicationInvalid, match="类型"):
        publications.publish(session, actor, department_key="health", kind="通知", title="标题", body="")
    with pytest.raises(publications.PublicationInvalid, match="服务专区"):
        publications.publish(session, actor, department_key="health", kind="服务", area="理财", title="标题",
                             body="")
    with pytest.raises(publications.PublicationInvalid, match="标题"):
        publications.publish(session, actor, department_key="health", kind="服务", title="x", body="")
    assert session.scalar(select(func.count()).select_from(Publication)) == 0


def test_a_withdrawn_item_is_neither_listed_nor_found(session, departments):
    item = publications.publish(session, system_actor(), department_key="health", kind="服务", title="义诊活动",
                                body="社区义诊")
    assert publications.get(session, item.id) is item
    publications.withdraw(session, system_actor(), item)
    assert publications.get(session, item.id) is None
    assert publications.search(session, keyword="义诊") == []


def test_bodies_are_read_as_headings_paragraphs_and_lists_of_plain_text():
    body = "导语第一行\n第二行\n\n## 所需材料\n- 身份证\n- <b>户口簿</b>\n\n1. 申请\n2. 审核\n\n<script>alert(1)</script>"
    assert publications.blocks(body) == [
        ("p", "导语第一行\n第二行"), ("h", "所需材料"), ("ul", ["身份证", "<b>户口簿</b>"]), ("ul", ["申请", "审核"]),
        ("p", "<script>alert(1)</script>"),
    ]
    assert publications.blocks("") == []
