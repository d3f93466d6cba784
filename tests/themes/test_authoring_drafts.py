"""The theme builder: who may edit, starting drafts, saving with the optimistic lock, publishing."""
import json

import pytest
from sqlalchemy import func, select

from minqing import themes
from minqing.core import counters
from minqing.core.actors import Actor, Grant
from minqing.core.models import AuditRecord, ThemeDraft, ThemeVersion
from minqing.core.platform import Platform
from minqing.themes import authoring as builder


def _count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_only_own_department_staff_and_admins_edit(platform, staff, system):
    gas, water = staff("gas"), staff("water_affairs")
    leader = Actor(account_id=None, name="领导", grants=(Grant(role="leader", region_code="620100000000"),))
    assert builder.can_edit(gas, "gas") and not builder.can_edit(gas, "water_affairs")
    assert builder.can_edit(system, "water_affairs") and not builder.can_edit(leader, "gas")
    with platform.db.session() as session:
        assert [d.key for d in builder.editable_departments(session, gas)] == ["gas"]
        assert {d.key for d in builder.editable_departments(session, system)} == {"gas", "water_affairs"}
        assert builder.editable_departments(session, leader) == []
        with pytest.raises(builder.NotAllowed, match="只能编辑本部门"):
            builder.start_draft(platform, session, water, department="gas", slug="households", title="燃气用户")
        with pytest.raises(builder.NotAllowed, match="只有职能部门工作人员和系统管理员"):
            builder.start_draft(platform, session, leader, department="gas", slug="households", title="燃气用户")
        draft = builder.start_draft(platform, session, gas, department="gas", slug="households", title="燃气用户",
                                    template="register")
        for attempt in (lambda: builder.get_draft(session, water, draft.theme_key),
                        lambda: builder.save_draft(platform, session, water, draft.theme_key, draft.document,
                                                   revision=1),
                        lambda: builder.publish_draft(platform, session, water, draft.theme_key)):
            with pytest.raises(builder.NotAllowed):
                attempt()
        assert [d.theme_key for d in builder.list_drafts(session, gas)] == ["gas.households"]
        assert builder.list_drafts(session, water) == []
        assert builder.publish_draft(platform, session, system, draft.theme_key).version == 1  # an admin may


@pytest.mark.parametrize("template", sorted(builder.TEMPLATES))
def test_every_template_starts_a_publishable_theme(platform, staff, template):
    gas = staff("gas")
    with platform.db.session() as session:
        draft = builder.start_draft(platform, session, gas, department="gas", slug=f"t_{template}",
                                    title="燃气巡查", template=template)
        document = draft.document
        assert document["key"] == f"gas.t_{template}" and document["department"] == "gas"
        assert document["title"] == "燃气巡查" and document["layer"]["geometry"] and document["categories"]
        assert document["workflow"] == "standard" and "report" in document["forms"]
        assert builder.draft_problems(platform, session, draft) == []
        assert draft.started_from == f"template:{template}" and draft.revision == 1


def test_start_from_scratch_copy_and_document(platform, staff):
    gas = staff("gas")
    with platform.db.session() as session:
        blank = builder.start_draft(platform, session, gas, department="gas", slug="blank", title="空白")
        assert builder.draft_problems(platform, session, blank) == [] and blank.started_from == "template:blank"
        # A copy of a builtin file theme takes a new key of the copying department; the original stays.
        copied = builder.start_draft(platform, session, gas, department="gas", slug="heating_copy",
                                     copy_of="heating.heating_quality")
        original = themes.get_theme(platform, "heating.heating_quality", session)
        assert copied.document["key"] == "gas.heating_copy" and copied.document["department"] == "gas"
        assert copied.document["forms"] == original.document["forms"] and original.department == "heating"
        imported = builder.start_draft(platform, session, gas, department="gas", slug="imported",
                                       document=dict(blank.document, key="x.y", title="导入的主题"))
        assert imported.document["key"] == "gas.imported" and imported.document["title"] == "导入的主题"
        with pytest.raises(builder.KeyTaken, match="另一个草稿"):
            builder.start_draft(platform, session, gas, department="gas", slug="blank", title="又一个")
        with pytest.raises(builder.DraftInvalid, match="主题标识"):
            builder.start_draft(platform, session, gas, department="gas", slug="燃气", title="x")
        with pytest.raises(builder.AuthoringError, match="只能选择一种起点"):
            builder.start_draft(platform, session, gas, department="gas", slug="two", title="x", template="visit",
                                copy_of="heating.heating_quality")
        with pytest.raises(builder.AuthoringError, match="没有名为“nope”的主题模板"):
            builder.start_draft(platform, session, gas, department="gas", slug="nope", title="x", template="nope")


def test_builder_cannot_take_a_plugin_key(platform, system):
    with platform.db.session() as session:
        with pytest.raises(builder.KeyTaken, match="插件 declarative_themes"):
            builder.start_draft(platform, session, system, department="heating", slug="heating_quality",
                                title="冬季供暖")
        assert _count(session, ThemeDraft) == 0


def test_save_answers_located_problems_and_refuses_a_stale_revision(platform, staff):
    gas = staff("gas")
    with platform.db.session() as session:
        draft = builder.start_draft(platform, session, gas, department="gas", slug="households", title="燃气用户",
                                    template="register")
        session.commit()
        broken = json.loads(json.dumps(draft.document))
        broken["layer"]["geometry"] = "circle"
        broken["forms"]["record"]["properties"]["phone"]["format"] = "cn-phone"
        broken["categories"].append(dict(broken["categories"][0]))
        saved = builder.save_draft(platform, session, gas, "gas.households", broken, revision=1)
        paths = {problem.path for problem in saved.problems}
        assert "/layer/geometry" in paths and "/categories/3/code" in paths
        assert any(path.startswith("/forms/record/properties/phone") for path in paths)
        assert saved.draft.revision == 2 and saved.draft.document["layer"]["geometry"] == "circle"
        assert not saved.publishable and all(problem.message for problem in saved.problems)
        session.commit()
        with pytest.raises(builder.DraftConflict, match="已被他人修改.*第 1 稿.*第 2 稿"):
            builder.save_draft(platform, session, gas, "gas.households", draft.document, revision=1)
    with platform.db.session() as session:
        stored = session.scalar(select(ThemeDraft))
        assert stored.revision == 2 and stored.document["layer"]["geometry"] == "circle"
        saves = session.scalars(select(AuditRecord).where(AuditRecord.action == "theme.draft_save")).all()
        assert [(r.actor_name, r.object_id, r.details["revision"]) for r in saves] == [
            ("gas科员", "gas.households", 2)]


def test_two_saves_of_one_revision_exactly_one_wins(platform, staff):
    gas = staff("gas")
    with platform.db.session() as session:
        builder.start_draft(platform, session, gas, department="gas", slug="households", title="燃气用户")
    with platform.db.session() as first, platform.db.session() as second:
        mine = builder.get_draft(first, gas, "gas.households")
        theirs = builder.get_draft(second, gas, "gas.households")  # both opened revision 1
        builder.save_draft(platform, first, gas, "gas.households", dict(mine.document, title="甲"), revision=1)
        first.commit()
        with pytest.raises(builder.DraftConflict):
            builder.save_draft(platform, second, gas, "gas.households", dict(theirs.document, title="乙"),
                               revision=1)
    with platform.db.session() as session:
        assert session.scalar(select(ThemeDraft.document)).get("title") == "甲"


def test_publish_refuses_an_invalid_draft_and_changes_nothing(platform, staff):
    gas = staff("gas")
    with platform.db.session() as session:
        draft = builder.start_draft(platform, session, gas, department="gas", slug="households", title="燃气用户")
        broken = dict(draft.document, layer={"geometry": "circle"}, patrol_every_days=0)
        builder.save_draft(platform, session, gas, "gas.households", broken, revision=1)
        session.commit()
        before = counters.value(session, themes.THEMES_COUNTER)
        with pytest.raises(builder.DraftInvalid) as refused:
            builder.publish_draft(platform, session, gas, "gas.households")
        assert {p.path for p in refused.value.problems} == {"/layer/geometry", "/patrol_every_days"}
        assert "不能发布" in str(refused.value)
        assert _count(session, ThemeVersion) == 0 and counters.value(session, themes.THEMES_COUNTER) == before
        assert _count(session, AuditRecord, AuditRecord.action == "theme.publish") == 0
        assert "gas.households" not in themes.registry(platform, session).themes


def test_publish_goes_live_in_another_process_without_restart(platform, database_url, staff):
    gas = staff("gas")
    other = Platform(database_url)  # a second web process on the same database
    try:
        with other.db.session() as session:
            assert "gas.households" not in themes.registry(other, session).themes
        with platform.db.session() as session:
            draft = builder.start_draft(platform, session, gas, department="gas", slug="households",
                                        title="燃气用户", template="register")
            published = builder.publish_draft(platform, session, gas, "gas.households")
            assert (published.key, published.version, published.plugin) == ("gas.households", 1, "theme_builder")
            with pytest.raises(builder.NothingToPublish, match="无需发布"):
                builder.publish_draft(platform, session, gas, "gas.households")
            session.commit()
        with other.db.session() as session:
            theme = themes.get_theme(other, "gas.households", session)
            assert theme.plugin == "theme_builder" and theme.title == "燃气用户"
            assert themes.theme_version(session, "gas.households").published_by == "gas科员"
        with platform.db.session() as session:
            document = dict(draft.document, title="燃气用户台账")
            builder.save_draft(platform, session, gas, "gas.households", document, revision=draft.revision)
            assert builder.publish_draft(platform, session, gas, "gas.households").version == 2
            session.commit()
        with other.db.session() as session:  # the other process's cached registry moves on at once
            assert themes.get_theme(other, "gas.households", session).title == "燃气用户台账"
            history = builder.version_history(session, "gas.households")
            assert [(v.version, v.published_by) for v in history] == [(2, "gas科员"), (1, "gas科员")]
            assert history[0].changes == ("主题名称由“燃气用户”改为“燃气用户台账”",)
            assert history[1].changes == ("首次发布",)
            actions = session.scalars(select(AuditRecord.action).where(AuditRecord.object_id == "gas.households")
                                      .order_by(AuditRecord.id)).all()
            assert actions == ["theme.draft_create", "theme.publish", "theme.draft_save", "theme.publish"]
            # sync_themes sees nothing to publish for a builder theme: its document is its newest version
            synced = themes.sync_themes(other, session, gas)
            assert synced and "gas.households" not in {item.key for item in synced}
    finally:
        other.close()


def test_disabling_the_builder_plugin_removes_its_themes(platform, staff, system):
    gas = staff("gas")
    with platform.db.session() as session:
        builder.start_draft(platform, session, gas, department="gas", slug="households", title="燃气用户")
        builder.publish_draft(platform, session, gas, "gas.households")
        assert "gas.households" in themes.registry(platform, session).themes
        platform.plugins.set_enabled("theme_builder", False, session=session, actor=system)
        assert "gas.households" not in themes.registry(platform, session).themes


def test_records_of_an_older_builder_version_still_validate_against_it(platform, staff, city):
    gas = staff("gas")
    with platform.db.session() as session:
        draft = builder.start_draft(platform, session, gas, department="gas", slug="households", title="燃气用户",
                                    template="register")
        builder.publish_draft(platform, session, gas, "gas.households")
        old = themes.add_record(platform, session, gas, "gas.households", {"name": "张三家", "address": "一号楼"},
                                lon=103.01, lat=36.01)
        document = json.loads(json.dumps(draft.document))
        record_form = document["forms"]["record"]
        record_form["properties"]["meter"] = {"type": "string", "title": "表号", "minLength": 6}
        record_form["required"].append("meter")
        builder.save_draft(platform, session, gas, "gas.households", document, revision=1)
        builder.publish_draft(platform, session, gas, "gas.households")
        assert old.theme_version == 1 and "meter" not in themes.record_schema(session, old)["properties"]
        assert themes.validate_record(platform, session, old) == []
        with pytest.raises(themes.RecordInvalid, match="表号"):
            themes.add_record(platform, session, gas, "gas.households", {"name": "李四家", "address": "二号楼"},
                              lon=103.01, lat=36.01)
        new = themes.add_record(platform, session, gas, "gas.households",
                                {"name": "李四家", "address": "二号楼", "meter": "A123456"}, lon=103.01, lat=36.01)
        assert new.theme_version == 2
