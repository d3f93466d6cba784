"""Published versions: a new one whenever a document changes, old ones kept, records keep theirs."""
import pytest
from sqlalchemy import select

from minqing import themes
from minqing.core import counters
from minqing.core.models import AuditRecord, ThemeRecord, ThemeVersion


def _versions(session, key):
    return session.scalars(select(ThemeVersion.version).where(ThemeVersion.theme_key == key)
                           .order_by(ThemeVersion.version)).all()


def test_sync_publishes_on_change_and_keeps_old_versions(platform, system, theme, theme_plugin):
    plugin = theme_plugin(theme("water_affairs.zz_river", title="河湖"))
    platform.plugins.register(plugin, "water_plugin")
    with platform.db.session() as session:
        published = themes.sync_themes(platform, session, system)
        assert ("water_affairs.zz_river", 1, "water_plugin") in [(p.key, p.version, p.plugin) for p in published]
        first_counter = counters.value(session, themes.THEMES_COUNTER)
    with platform.db.session() as session:
        assert themes.sync_themes(platform, session, system) == []  # nothing changed: nothing published
        assert counters.value(session, themes.THEMES_COUNTER) == first_counter

    plugin.documents[0]["title"] = "河湖长制"
    plugin.documents[0]["forms"]["record"]["properties"]["length_km"] = {"type": "number", "title": "长度"}
    with platform.db.session() as session:
        published = themes.sync_themes(platform, session, system)
        assert [(p.key, p.version) for p in published] == [("water_affairs.zz_river", 2)]
        assert counters.value(session, themes.THEMES_COUNTER) == first_counter + 1
    with platform.db.session() as session:
        assert _versions(session, "water_affairs.zz_river") == [1, 2]
        old, new = (themes.theme_version(session, "water_affairs.zz_river", n) for n in (1, 2))
        assert old.document["title"] == "河湖" and new.document["title"] == "河湖长制"
        assert old.plugin_name == new.plugin_name == "water_plugin" and new.department_key == "water_affairs"
        assert new.published_by == "系统" and old.content_hash != new.content_hash
        assert themes.theme_version(session, "water_affairs.zz_river").version == 2
        audit = session.scalars(select(AuditRecord).where(AuditRecord.action == "theme.publish",
                                                          AuditRecord.object_id == "water_affairs.zz_river")
                                .order_by(AuditRecord.id)).all()
        assert [record.details["version"] for record in audit] == [1, 2]
        assert "第 2 版" in audit[1].summary


def test_records_keep_the_version_they_were_filled_in(platform, system, city, theme, theme_plugin):
    plugin = theme_plugin(theme("water_affairs.zz_river", title="河湖"))
    platform.plugins.register(plugin, "water_plugin")
    with platform.db.session() as session:
        with pytest.raises(themes.NotPublished, match="尚未发布"):
            themes.add_record(platform, session, system, "water_affairs.zz_river", {"name": "黄河"},
                              lon=103.01, lat=36.01)
        themes.sync_themes(platform, session, system)
        old = themes.add_record(platform, session, system, "water_affairs.zz_river", {"name": "黄河"},
                                lon=103.01, lat=36.01, client_id="app-1")
        assert old.theme_version == 1 and old.schema_version == "water_affairs.zz_river@1"
        assert old.grid_id == city["small"] and old.region_code == city["zhangye"]
        assert old.department_key == "water_affairs" and old.created_by == "系统"
        again = themes.add_record(platform, session, system, "water_affairs.zz_river", {"name": "黄河"},
                                  lon=103.01, lat=36.01, client_id="app-1")
        assert again.id == old.id  # a resent record is not made twice

    plugin.documents[0]["forms"]["record"]["properties"]["length_km"] = {"type": "number", "title": "长度"}
    plugin.documents[0]["forms"]["record"]["required"] = ["name", "length_km"]
    with platform.db.session() as session:
        themes.sync_themes(platform, session, system)
        new = themes.add_record(platform, session, system, "water_affairs.zz_river", {"name": "湟水", "length_km": 3},
                                geometry={"type": "LineString", "coordinates": [[103.11, 36.01], [103.15, 36.05]]})
        assert new.theme_version == 2 and new.grid_id == city["west"]
        assert (new.min_lon, new.max_lon) == (103.11, 103.15)
    with platform.db.session() as session:
        old = session.scalar(select(ThemeRecord).where(ThemeRecord.client_id == "app-1"))
        assert old.theme_version == 1
        assert themes.record_schema(session, old)["required"] == ["name"]
        assert "length_km" not in themes.record_schema(session, old)["properties"]
        assert themes.validate_record(platform, session, old) == []  # valid as filled in, under version 1
        new = session.get(ThemeRecord, new.id)
        assert themes.record_schema(session, new)["required"] == ["name", "length_km"]
        judged_by_new = ThemeRecord(theme_key=old.theme_key, theme_version=2, form_data=old.form_data)
        assert [path for path, _ in themes.validate_record(platform, session, judged_by_new)] == ["length_km"]
        with pytest.raises(themes.RecordInvalid, match="zz_river") as raised:
            themes.add_record(platform, session, system, "water_affairs.zz_river", {"name": "庄浪河"},
                              lon=103.01, lat=36.01)
        assert [path for path, _ in raised.value.errors] == ["length_km"]
        assert themes.record_schema(session, new, "report")["properties"]["note"]["type"] == "string"
        assert session.scalar(select(AuditRecord.action).where(AuditRecord.object_type == "theme_record"))


def test_disabled_plugin_theme_is_not_published_nor_recordable(platform, system, theme, theme_plugin):
    platform.plugins.register(theme_plugin(theme("water_affairs.zz_river")), "water_plugin")
    with platform.db.session() as session:
        platform.plugins.set_enabled("water_plugin", False, session=session, actor=system)
    with platform.db.session() as session:
        assert "water_affairs.zz_river" not in [p.key for p in themes.sync_themes(platform, session, system)]
        with pytest.raises(themes.UnknownTheme):
            themes.add_record(platform, session, system, "water_affairs.zz_river", {}, lon=103.0, lat=36.0)


def test_records_due_for_patrol(platform, system, city, theme, theme_plugin):
    import datetime as dt

    from minqing.core.actors import Actor, Grant

    wells = theme("water_affairs.zz_wells")
    del wells["patrol_every_days"]
    platform.plugins.register(theme_plugin(theme("water_affairs.zz_river", patrol_every_days=7), wells),
                              "water_plugin")
    with platform.db.session() as session:
        themes.sync_themes(platform, session, system)
        east = themes.add_record(platform, session, system, "water_affairs.zz_river", {"name": "东"},
                                 lon=103.01, lat=36.01)
        west = themes.add_record(platform, session, system, "water_affairs.zz_river", {"name": "西"},
                                 lon=103.15, lat=36.05)
        themes.add_record(platform, session, system, "water_affairs.zz_wells", {"name": "井"}, lon=103.01, lat=36.01)
        ids = {"east": east.id, "west": west.id}
    later = east.created_at + dt.timedelta(days=8)
    with platform.db.session() as session:
        assert themes.due_for_patrol(platform, session, system, now=later - dt.timedelta(days=2)) == []
        due = themes.due_for_patrol(platform, session, system, now=later)
        assert sorted(record.id for record in due) == sorted(ids.values())  # not the well: no patrol rule
        worker = Actor(3, "网格员", (Grant("grid_worker", grid_code="G620102002"),))
        assert [r.id for r in themes.due_for_patrol(platform, session, worker, now=later)] == [ids["west"]]
        themes.mark_patrolled(session, system, session.get(ThemeRecord, ids["west"]), at=later)
    with platform.db.session() as session:
        assert [r.id for r in themes.due_for_patrol(platform, session, system, now=later)] == [ids["east"]]


def test_a_stored_document_keeps_its_authors_field_order(platform, system):
    """Forms show their fields in the order of `properties`: a published version and a builder draft read back
    from the database keep it (PostgreSQL's jsonb would sort the keys, shorter first)."""
    from minqing.core.models import ThemeDraft

    order = ["zz_last_written_first", "b", "mid_key", "a"]
    document = {"key": "x.order", "forms": {"report": {"type": "object",
                                                       "properties": {name: {"type": "string"} for name in order}}}}
    with platform.db.session() as session:
        session.add(ThemeVersion(theme_key="x.order", version=1, document=document, content_hash="0" * 64,
                                 department_key="x", plugin_name="test"))
        session.add(ThemeDraft(theme_key="x.order", department_key="x", document=document))
        session.commit()
    with platform.db.session() as session:
        stored = session.scalar(select(ThemeVersion.document).where(ThemeVersion.theme_key == "x.order"))
        draft = session.scalar(select(ThemeDraft.document).where(ThemeDraft.theme_key == "x.order"))
    assert list(stored["forms"]["report"]["properties"]) == order
    assert list(draft["forms"]["report"]["properties"]) == order
