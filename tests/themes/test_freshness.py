"""数据鲜活度: per department and theme, the share of records created, updated or patrolled within their theme's
period (365 days without one), and the records untouched for a year — on a handful of records whose answer is
worked out by hand."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from minqing import themes
from minqing.core.actors import Actor, Grant
from minqing.core.models import ThemeRecord
from minqing.themes import freshness, freshness_plugin

NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
RIVER, PIPES = "water_affairs.zz_river", "gas.zz_pipes"       # patrolled weekly; no patrol period (365 days)


def _record(session, theme_key, name, created, updated=None, patrolled=None, retired=None):
    record = ThemeRecord(theme_key=theme_key, theme_version=1, department_key=theme_key.split(".")[0],
                         form_data={"name": name}, lon=103.01, lat=36.01, region_code="620102001000",
                         min_lon=103.01, max_lon=103.01, min_lat=36.01, max_lat=36.01)
    session.add(record)
    session.flush()
    values = {"created_at": created, "updated_at": updated or created, "last_patrolled_at": patrolled}
    if retired is not None:
        values["retired_at"] = retired
    session.execute(update(ThemeRecord).where(ThemeRecord.id == record.id).values(**values))
    return record.id


def build(platform, system, theme, theme_plugin):
    river = theme(RIVER, patrol_every_days=7)
    pipes = theme(PIPES)
    del pipes["patrol_every_days"]
    platform.plugins.register(theme_plugin(river, pipes), "ledgers")
    with platform.db.session() as session:
        themes.sync_themes(platform, session, system)
        _record(session, RIVER, "东岗段", NOW - 30 * DAY, patrolled=NOW - 3 * DAY)          # fresh (patrolled)
        _record(session, RIVER, "雁滩段", NOW - 30 * DAY)                                    # stale: 30 > 7 days
        _record(session, RIVER, "已停用段", NOW - 900 * DAY, retired=NOW - 10 * DAY)          # retired: left out
        _record(session, PIPES, "一号管线", NOW - 100 * DAY)                                 # fresh: 100 < 365
        _record(session, PIPES, "二号管线", NOW - 800 * DAY, updated=NOW - 400 * DAY)         # untouched a year
        _record(session, PIPES, "三号管线", NOW - 800 * DAY, patrolled=NOW - 20 * DAY)        # fresh (patrolled)
        _record(session, PIPES, "明年管线", NOW + 5 * DAY)                                   # after `now`: not yet


def test_freshness_per_department_and_theme(platform, system, city, theme, theme_plugin):
    build(platform, system, theme, theme_plugin)
    with platform.db.session() as session:
        rows = {row.theme_key: row for row in freshness.freshness(session, None, NOW)}
        assert {key: (r.department_key, r.period_days, r.records, r.fresh, r.untouched) for key, r in rows.items()} == {
            PIPES: ("gas", 365, 3, 2, 1), RIVER: ("water_affairs", 7, 2, 1, 0)}
        assert rows[RIVER].rate == 0.5
        assert [(item.title, item.last_touched) for item in freshness.untouched(session, None, NOW)] == [
            ("二号管线", NOW - 400 * DAY)]


def test_freshness_is_scoped(platform, system, city, theme, theme_plugin, departments):
    build(platform, system, theme, theme_plugin)
    gas = Actor(None, "燃气科员", (Grant("department_staff", department_id=departments["gas"],
                                          department_key="gas"),))
    elsewhere = Actor(None, "网格员", (Grant("grid_worker", grid_code="G620102002"),))
    with platform.db.session() as session:
        assert [row.theme_key for row in freshness.freshness(session, gas, NOW)] == [PIPES]
        assert freshness.freshness(session, elsewhere, NOW) == []
        assert freshness.by_department_id(session, NOW) == {departments["gas"]: (3, 2),
                                                            departments["water_affairs"]: (2, 1)}


def test_the_dashboard_panel(platform, system, city, theme, theme_plugin, departments):
    build(platform, system, theme, theme_plugin)
    with platform.db.session() as session:
        [panel] = freshness_plugin.dashboard_panels(viewer=None, session=session, now=NOW)
    assert (panel["key"], panel["title"], panel["count"]) == ("freshness", "数据鲜活度", 5)
    assert "共 5 条业务记录，3 条在周期内" in panel["blocks"][0]["text"] and "60.0%" in panel["blocks"][0]["text"]
    table = next(block["table"] for block in panel["blocks"] if "table" in block)
    assert ["燃气", "占道经营", 365, 3, 2, "66.7%", 1] in table["rows"]
    assert any("二号管线" in item for block in panel["blocks"] if "items" in block for item in block["items"])


def test_titles_are_masked_for_the_viewer(platform, system, city, theme, theme_plugin, departments):
    """A record named with a phone number shows masked on the panel, as the map shows it."""
    build(platform, system, theme, theme_plugin)
    with platform.db.session() as session:
        _record(session, PIPES, "王师傅13912345678", NOW - 800 * DAY)
        titles = [item.title for item in freshness.untouched(session, None, NOW)]
        assert "王师傅139****5678" in titles and not any("13912345678" in title for title in titles)
        _records, blocks = freshness.panel_blocks(session, None, NOW)
        assert "13912345678" not in str(blocks) and "王师傅139****5678" in str(blocks)


def test_the_published_settings_are_read_once_until_the_session_writes(platform, system, theme, theme_plugin):
    """The dashboard asked for the published themes' patrol periods four times a request (the patrol figures and
    warning, the freshness panel and figure): read once per session until it writes, flushes or ends."""
    from sqlalchemy import select

    from minqing.core.models import ThemeVersion
    from minqing.themes import patrols

    from tests.fixtures.statements import counting

    platform.plugins.register(theme_plugin(theme(RIVER, patrol_every_days=7)), "ledgers")
    with platform.db.session() as session:
        themes.sync_themes(platform, session, system)
        session.commit()
        with counting(platform.db.engine) as statements:
            assert patrols.published_settings(session)[RIVER][0] == 7
            assert patrols.published_periods(session)[RIVER] == 7
            freshness.freshness(session, None, NOW)
            freshness.panel_blocks(session, None, NOW)
            patrols.published_settings(session)[RIVER] = (1, "changed by a caller")   # a copy: not remembered
            assert patrols.published_settings(session)[RIVER][0] == 7
        assert sum("theme_versions" in statement for statement in statements) == 2, statements   # all / enabled
        newest = session.scalar(select(ThemeVersion).where(ThemeVersion.theme_key == RIVER))
        session.add(ThemeVersion(theme_key=RIVER, version=newest.version + 1,
                                 document={**newest.document, "patrol_every_days": 3},
                                 content_hash="x", department_key=newest.department_key,
                                 plugin_name=newest.plugin_name))
        session.flush()
        assert patrols.published_settings(session)[RIVER][0] == 3     # a version published in this session
        session.execute(ThemeVersion.__table__.delete().where(ThemeVersion.version > newest.version))
        assert patrols.published_periods(session)[RIVER] == 7           # a write without a flush
        session.rollback()
