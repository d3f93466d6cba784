"""热点: DBSCAN finds the clusters planted in a generated history and leaves the noise alone; what changed since
the period before (new, grown, shrunk, gone); the parameters are settings checked in Chinese; the map layer, its
answer kept for a few minutes per scope and settings."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from minqing.core import warning_rules
from minqing.core.actors import Actor, system_actor
from minqing.core.models import Account, AuditRecord, Case
from minqing.core.platform import Platform
from minqing.themes import layers
from minqing.workflows.briefs import content, hotspots, periods

from tests.fixtures.briefs import (CHENGGUAN_CENTRE, QILIHE_CENTRE, at, build_city, offset, plant_cluster,
                                   scatter_noise)

NOVEMBER = periods.parse("2026-11")
MARKET, BRIDGE, SCHOOL, DEPOT = (103.82, 36.02), (103.87, 36.08), (103.85, 36.04), (103.88, 36.02)
SETTINGS = {"eps_m": 150, "min_cases": 5}


@pytest.fixture
def town(platform):
    with platform.db.session() as session:
        built = build_city(session)
        session.commit()
    return built


@pytest.fixture
def history(platform, town):
    """November: 12 cases round the market, 8 by the bridge, 6 by the school, 40 scattered; October: 6 round the
    market, 12 by the bridge, 10 at the depot. All 市容环境, in 城关."""
    with platform.db.session() as session:
        planted = {
            "market": plant_cluster(session, town, centre=MARKET, count=12, category="市容环境",
                                    reported=at(2026, 11, 2), seed=1),
            "bridge": plant_cluster(session, town, centre=BRIDGE, count=8, category="市容环境",
                                    reported=at(2026, 11, 5), seed=2),
            "school": plant_cluster(session, town, centre=SCHOOL, count=6, category="市容环境",
                                    reported=at(2026, 11, 9), seed=3, spread_m=30)}
        noise = scatter_noise(session, town, count=40, category="市容环境", reported=at(2026, 11, 12),
                              avoid=[MARKET, BRIDGE, SCHOOL, DEPOT])
        plant_cluster(session, town, centre=offset(*MARKET, 60, 0), count=6, category="市容环境",
                      reported=at(2026, 10, 2), seed=4)
        plant_cluster(session, town, centre=BRIDGE, count=12, category="市容环境", reported=at(2026, 10, 5), seed=5)
        plant_cluster(session, town, centre=DEPOT, count=10, category="市容环境", reported=at(2026, 10, 9), seed=6)
        session.commit()
    return planted, noise


def test_the_planted_clusters_are_found_and_the_noise_is_not(session, history):
    planted, noise = history
    found = hotspots.hotspots(session, CHENGGUAN_CENTRE, NOVEMBER.start, NOVEMBER.end, **SETTINGS)
    assert [sorted(spot.case_ids) for spot in found] == [planted["market"], planted["bridge"], planted["school"]]
    assert [spot.key for spot in found] == ["市容环境#1", "市容环境#2", "市容环境#3"]
    assert not {case_id for spot in found for case_id in spot.case_ids} & set(noise)
    market = found[0]
    assert abs(market.lon - MARKET[0]) < 0.001 and abs(market.lat - MARKET[1]) < 0.001
    assert 20 < market.radius_m < 200


def test_a_window_with_more_cases_than_the_bound_clusters_the_newest(session, history):
    planted, noise = history
    everything = hotspots.located_cases(session, CHENGGUAN_CENTRE, NOVEMBER.start, NOVEMBER.end)
    newest = hotspots.located_cases(session, CHENGGUAN_CENTRE, NOVEMBER.start, NOVEMBER.end, limit=10)
    assert [row.id for row in newest] == [row.id for row in everything][-10:]   # still in id order
    assert set(noise[-10:]) == {row.id for row in newest}    # the noise came last (12 November)


def test_what_changed_since_the_period_before(platform, session, history):
    brief = content.build(platform, session, CHENGGUAN_CENTRE, NOVEMBER, hotspot_settings=SETTINGS)
    changes = {(row["status"], row["cases"], row["previous"]) for row in brief["hotspots"]}
    assert changes == {("grown", 12, 6), ("shrunk", 8, 12), ("new", 6, 0), ("gone", 0, 10)}
    gone = next(row for row in brief["hotspots"] if row["status"] == "gone")
    assert abs(gone["lon"] - DEPOT[0]) < 0.001


def test_a_larger_minimum_leaves_the_small_cluster_out_and_another_county_sees_none(session, history):
    found = hotspots.hotspots(session, CHENGGUAN_CENTRE, NOVEMBER.start, NOVEMBER.end, eps_m=150, min_cases=7)
    assert [spot.cases for spot in found] == [12, 8]
    assert hotspots.hotspots(session, QILIHE_CENTRE, NOVEMBER.start, NOVEMBER.end, **SETTINGS) == []


def test_the_parameters_are_settings_checked_in_chinese(session, system):
    assert hotspots.settings_of(session) == {"eps_m": 300, "min_cases": 5}
    with pytest.raises(warning_rules.SettingsInvalid) as refused:
        hotspots.save_settings(session, system, {"eps_m": 5, "min_cases": "五"})
    assert refused.value.errors == {"eps_m": ["邻域半径（米）不能小于 10"], "min_cases": ["最少事件数应为整数"]}
    hotspots.save_settings(session, system, {"eps_m": 200})
    session.commit()
    assert hotspots.settings_of(session) == {"eps_m": 200, "min_cases": 5}
    assert session.query(AuditRecord).filter_by(action="hotspots.settings").count() == 1


def test_the_command_shows_and_sets_the_parameters(platform, database_url):
    from click.testing import CliRunner

    from minqing.core.cli import build_cli

    def run(*arguments):
        return CliRunner().invoke(build_cli(), ["--db", database_url, "hotspots", *arguments])

    assert run().output.strip() == "热点识别参数：邻域半径 300 米，最少 5 件"
    refused = run("--eps-m", "9")
    assert refused.exit_code != 0 and "邻域半径（米）不能小于 10" in refused.output
    assert "邻域半径 250 米，最少 5 件" in run("--eps-m", "250").output
    with platform.db.session() as session:
        assert hotspots.settings_of(session) == {"eps_m": 250, "min_cases": 5}


def test_the_hotspot_layer_is_on_the_map(platform, session, history, monkeypatch):
    from minqing.workflows.briefs import plugin

    monkeypatch.setattr(plugin, "utcnow", lambda: NOVEMBER.end)
    hotspots.save_settings(session, CHENGGUAN_CENTRE, SETTINGS)
    session.commit()
    listed = [layer for group in layers.visible_layers(platform, session, CHENGGUAN_CENTRE)
              for layer in group["layers"]]
    assert plugin.LAYER_KEY in {layer["key"] for layer in listed}
    shown = layers.layer_features(platform, session, plugin.LAYER_KEY, CHENGGUAN_CENTRE)
    features = shown["features"] if isinstance(shown, dict) else shown
    assert sorted(feature["properties"]["cases"] for feature in features) == [6, 8, 12]
    assert {feature["geometry"]["type"] for feature in features} == {"Polygon"}
    assert {feature["properties"]["change"] for feature in features} == {"grown", "shrunk", "new"}


def _at(monkeypatch, moment: dt.datetime) -> None:
    from minqing.workflows.briefs import plugin

    monkeypatch.setattr(plugin, "utcnow", lambda: moment)


def _layer(platform, session, viewer) -> list[dict]:
    from minqing.workflows.briefs import plugin

    session.commit()   # what this test wrote is committed, and the layer reads in a transaction of its own
    shown = layers.layer_features(platform, session, plugin.LAYER_KEY, viewer)
    session.commit()
    return sorted(shown["features"] if isinstance(shown, dict) else shown,
                  key=lambda feature: feature["properties"]["cases"])


def _sizes(features) -> list[int]:
    return [feature["properties"]["cases"] for feature in features]


def _computed(features) -> set[str]:
    return {feature["properties"]["computed_at"] for feature in features}


def test_the_layer_is_kept_for_a_few_minutes_and_says_when_it_was_computed(platform, session, town, history,
                                                                          monkeypatch):
    from minqing.workflows.briefs import layer

    hotspots.save_settings(session, CHENGGUAN_CENTRE, SETTINGS)
    _at(monkeypatch, NOVEMBER.end)
    first = _layer(platform, session, CHENGGUAN_CENTRE)
    assert _sizes(first) == [6, 8, 12]
    assert _computed(first) == {"2026-12-01T00:00:00+08:00"}
    assert all(feature["properties"]["reason"].endswith("；统计于 12-01 00:00") for feature in first)
    plant_cluster(session, town, centre=SCHOOL, count=3, category="市容环境", reported=at(2026, 11, 20), seed=9,
                  spread_m=30)
    _at(monkeypatch, NOVEMBER.end + layer.MAX_AGE - dt.timedelta(seconds=1))
    assert _layer(platform, session, CHENGGUAN_CENTRE) == first       # kept: the school's new cases not yet in
    _at(monkeypatch, NOVEMBER.end + layer.MAX_AGE)
    again = _layer(platform, session, CHENGGUAN_CENTRE)
    assert _sizes(again) == [8, 9, 12]
    assert _computed(again) == {"2026-12-01T00:05:00+08:00"}


def test_a_change_of_settings_takes_effect_at_once_in_every_process(platform, database_url, session, history,
                                                                    monkeypatch):
    hotspots.save_settings(session, CHENGGUAN_CENTRE, SETTINGS)
    _at(monkeypatch, NOVEMBER.end)
    assert _sizes(_layer(platform, session, CHENGGUAN_CENTRE)) == [6, 8, 12]
    other = Platform(database_url)    # another web process on the same database
    try:
        with other.db.session() as elsewhere:
            hotspots.save_settings(elsewhere, system_actor("test"), {**SETTINGS, "min_cases": 7})
            elsewhere.commit()
        _at(monkeypatch, NOVEMBER.end + dt.timedelta(minutes=1))
        changed = _layer(platform, session, CHENGGUAN_CENTRE)
        assert _sizes(changed) == [8, 12] and _computed(changed) == {"2026-12-01T00:01:00+08:00"}
        with other.db.session() as elsewhere:
            hotspots.save_settings(elsewhere, system_actor("test"), SETTINGS)
            elsewhere.commit()
    finally:
        other.close()
    _at(monkeypatch, NOVEMBER.end + dt.timedelta(minutes=2))
    back = _layer(platform, session, CHENGGUAN_CENTRE)    # the answer for these settings is still fresh
    assert _sizes(back) == [6, 8, 12] and _computed(back) == {"2026-12-01T00:00:00+08:00"}


def test_a_kept_answer_is_shared_only_by_viewers_with_the_same_grants(platform, session, history, monkeypatch):
    planted, _ = history
    hotspots.save_settings(session, CHENGGUAN_CENTRE, SETTINGS)
    accounts = [Account(username=name, display_name=name) for name in ("qilihe_a", "qilihe_b", "chengguan_b")]
    session.add_all(accounts)
    session.flush()
    reporter, colleague, chengguan = (Actor(account.id, account.username, centre.grants) for account, centre in
                                      zip(accounts, (QILIHE_CENTRE, QILIHE_CENTRE, CHENGGUAN_CENTRE)))
    _at(monkeypatch, NOVEMBER.end)
    assert _sizes(_layer(platform, session, system_actor("test"))) == [6, 8, 12]
    assert _layer(platform, session, QILIHE_CENTRE) == []                # another county: not the city's answer
    _at(monkeypatch, NOVEMBER.end + dt.timedelta(minutes=1))
    assert _computed(_layer(platform, session, CHENGGUAN_CENTRE)) == {"2026-12-01T00:01:00+08:00"}
    _at(monkeypatch, NOVEMBER.end + dt.timedelta(minutes=2))
    shared = _layer(platform, session, chengguan)                       # the same grants: the same answer
    assert _sizes(shared) == [6, 8, 12] and _computed(shared) == {"2026-12-01T00:01:00+08:00"}
    # a 七里河 operator who reported the school's cases may read them (core.scope); a colleague may not
    session.execute(update(Case).where(Case.id.in_(planted["school"])).values(reporter_account_id=reporter.account_id))
    own = _layer(platform, session, reporter)
    assert _sizes(own) == [6] and _computed(own) == {"2026-12-01T00:02:00+08:00"}
    assert _layer(platform, session, colleague) == [] and _layer(platform, session, QILIHE_CENTRE) == []


def test_at_most_max_kept_answers_are_kept_the_least_recently_used_dropped(platform, session, history,
                                                                          monkeypatch):
    from minqing.workflows.briefs import layer

    monkeypatch.setattr(layer, "MAX_KEPT", 2)
    hotspots.save_settings(session, CHENGGUAN_CENTRE, SETTINGS)
    for minute, viewer in enumerate((CHENGGUAN_CENTRE, QILIHE_CENTRE, system_actor("test"), CHENGGUAN_CENTRE)):
        _at(monkeypatch, NOVEMBER.end + dt.timedelta(minutes=minute))
        shown = _layer(platform, session, viewer)
    assert _computed(shown) == {"2026-12-01T00:03:00+08:00"}   # 城关's first answer was dropped for the city's
    _at(monkeypatch, NOVEMBER.end + dt.timedelta(minutes=4))
    assert _computed(_layer(platform, session, system_actor("test"))) == {"2026-12-01T00:02:00+08:00"}


def test_a_session_that_wrote_sees_its_own_cases_and_keeps_nothing_for_others(platform, session, town, history,
                                                                             monkeypatch):
    from minqing.workflows.briefs import plugin

    hotspots.save_settings(session, CHENGGUAN_CENTRE, SETTINGS)
    _at(monkeypatch, NOVEMBER.end)
    assert _sizes(_layer(platform, session, CHENGGUAN_CENTRE)) == [6, 8, 12]          # kept for 城关's grants
    plant_cluster(session, town, centre=SCHOOL, count=3, category="市容环境", reported=at(2026, 11, 20), seed=9,
                  spread_m=30)
    session.flush()                                       # not committed: only this session sees the three
    _at(monkeypatch, NOVEMBER.end + dt.timedelta(minutes=1))
    own = layers.layer_features(platform, session, plugin.LAYER_KEY, CHENGGUAN_CENTRE)
    assert sorted(feature["properties"]["cases"] for feature in own) == [8, 9, 12]
    session.rollback()
    again = _layer(platform, session, CHENGGUAN_CENTRE)   # the kept answer, not the rolled-back one
    assert _sizes(again) == [6, 8, 12] and _computed(again) == {"2026-12-01T00:00:00+08:00"}
