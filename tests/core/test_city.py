"""`minqing init`: the city's root region, time zone and default map view stored as settings — on an empty database,
checked against an existing root, refused in Chinese with nothing written when a value is wrong, unchanged when
run again, changed only with --update, and seen by every process through the change counter."""
from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from minqing.core import city, counters
from minqing.core.cli import build_cli
from minqing.core.models import AuditRecord, Region, Setting
from minqing.core.platform import Platform
from minqing.core.warning_rules import city_today

LANZHOU = "620100000000"


def init(database_url, *args):
    return CliRunner().invoke(build_cli(), ["--db", database_url, "init", *args])


def written(platform) -> dict:
    """Everything init may write: the root region, the setting, the counter and the audit record."""
    with platform.db.session() as session:
        return {"regions": session.scalar(select(func.count()).select_from(Region)),
                "setting": session.get(Setting, city.SETTING) is not None,
                "counter": counters.value(session, city.COUNTER),
                "audit": session.scalar(select(func.count()).where(AuditRecord.action.like("city.%")))}


def stored(platform) -> city.City:
    with platform.db.session() as session:
        return city.settings(session)


def test_init_on_an_empty_database_creates_the_root_and_pads_a_6_digit_code(database_url, platform):
    result = init(database_url, "--city-code", "620100", "--name", "兰州市", "--centre", "103.83,36.06",
                  "--zoom", "10")
    assert result.exit_code == 0, result.output
    assert "城市设置已初始化：兰州市（620100000000），时区 Asia/Shanghai（UTC+8）" in result.output
    with platform.db.session() as session:
        root = session.scalar(select(Region))
        assert (root.code, root.name, root.level, root.parent_id) == (LANZHOU, "兰州市", "city", None)
        assert session.scalar(select(AuditRecord.action).where(AuditRecord.object_type == "city")) == "city.init"
    assert stored(platform) == city.City(code=LANZHOU, name="兰州市", timezone=city.DEFAULT_TIMEZONE,
                                         centre=(103.83, 36.06), zoom=10)


@pytest.mark.parametrize("arguments, field, message", [
    (["--city-code", "62010"], "城市区划代码", "应为12位统计用区划代码"),
    (["--city-code", "62010000000x"], "城市区划代码", "应为12位统计用区划代码"),
    (["--city-code", "620102"], "城市区划代码", "620102000000 是县(区)一级的代码，应为市级代码"),
    (["--city-code", "620102001000"], "城市区划代码", "是乡镇(街道)一级的代码"),
    (["--city-code", "620000000000"], "城市区划代码", "620000000000 是省级代码"),
    (["--timezone", "Asia/Lanzhou"], "时区", "未知的时区“Asia/Lanzhou”"),
    (["--timezone", "Europe/Berlin"], "时区", "实行夏令时（一年中在 UTC+1、UTC+2 之间切换）"),
    (["--timezone", "America/New_York"], "时区", "城市的时差必须全年固定"),
    (["--centre", "103.83"], "地图中心", "应为“经度,纬度”两个数字"),
    (["--centre", "203.83,36.06"], "地图中心", "超出范围"),
    (["--zoom", "25"], "缩放级别", "应为 7 到 18 之间的整数"),
    (["--name", " "], "城市名称", "请填写城市名称"),
])
def test_a_wrong_value_is_refused_in_chinese_and_nothing_is_written(database_url, platform, arguments, field,
                                                                     message):
    given = {"--city-code": LANZHOU, "--name": "兰州市"}
    given.update(dict(zip(arguments[::2], arguments[1::2])))
    result = init(database_url, *[part for pair in given.items() for part in pair])
    assert result.exit_code == 1
    assert f"城市设置未保存：{field}：" in result.output and message in result.output, result.output
    assert written(platform) == {"regions": 0, "setting": False, "counter": 0, "audit": 0}


def test_every_wrong_field_is_named_at_once(database_url, platform):
    result = init(database_url, "--city-code", "620102", "--name", "兰州市", "--timezone", "Europe/Paris",
                  "--zoom", "3")
    assert result.exit_code == 1
    assert all(f"{field}：" in result.output for field in ("城市区划代码", "时区", "缩放级别")), result.output


def test_running_init_again_with_the_same_values_changes_nothing(database_url, platform):
    assert init(database_url, "--city-code", LANZHOU, "--name", "兰州市").exit_code == 0
    before = written(platform)
    again = init(database_url, "--city-code", "620100", "--name", "兰州市", "--timezone", "Asia/Shanghai")
    assert again.exit_code == 0 and "城市设置未变化" in again.output
    assert written(platform) == before == {"regions": 1, "setting": True, "counter": 1, "audit": 1}


def test_different_values_are_refused_without_update(database_url, platform):
    assert init(database_url, "--city-code", LANZHOU, "--name", "兰州市").exit_code == 0
    before = written(platform)
    refused = init(database_url, "--city-code", LANZHOU, "--name", "兰州市", "--timezone", "Asia/Urumqi")
    assert refused.exit_code == 1
    assert "时区：已设置为“Asia/Shanghai”，本次为“Asia/Urumqi”；确需修改请加 --update" in refused.output
    assert written(platform) == before and stored(platform).timezone == city.DEFAULT_TIMEZONE

    changed = init(database_url, "--city-code", LANZHOU, "--name", "兰州市（新）", "--timezone", "Asia/Urumqi",
                   "--update")
    assert changed.exit_code == 0 and "城市设置已修改" in changed.output and "UTC+6" in changed.output
    assert stored(platform).timezone == "Asia/Urumqi"
    with platform.db.session() as session:
        assert session.scalar(select(Region.name).where(Region.code == LANZHOU)) == "兰州市（新）"
        assert session.scalar(select(func.count()).where(AuditRecord.action == "city.update")) == 1
    other_city = init(database_url, "--city-code", "650100", "--name", "乌鲁木齐市", "--update")
    assert other_city.exit_code == 1 and "不能改为另一个城市的代码 650100000000" in other_city.output


def test_an_existing_root_region_is_checked_not_replaced(database_url, platform):
    with platform.db.session() as session:
        session.add(Region(code=LANZHOU, name="兰州市", level="city"))
    assert init(database_url, "--city-code", "650100000000", "--name", "乌鲁木齐市").exit_code == 1
    renamed = init(database_url, "--city-code", LANZHOU, "--name", "金城")
    assert renamed.exit_code == 1 and "数据库中区划 620100000000 的名称是“兰州市”" in renamed.output
    assert written(platform)["setting"] is False
    assert init(database_url, "--city-code", LANZHOU, "--name", "兰州市").exit_code == 0
    assert written(platform)["regions"] == 1


def test_a_change_reaches_another_process_through_the_counter(database_url, platform, system):
    other = Platform(database_url)    # another process: its own engine and cache
    try:
        with other.db.session() as session:
            assert city.settings(session).configured is False
        with platform.db.session() as session:
            city.initialise(session, system, code=LANZHOU, name="兰州市", timezone="Asia/Kolkata")
        with other.db.session() as session:
            assert city.settings(session).timezone == "Asia/Kolkata"
            assert city.offset(session) == dt.timedelta(hours=5, minutes=30)
    finally:
        other.close()


def test_without_a_city_the_documented_default_counts(platform):
    with platform.db.session() as session:
        assert city.settings(session) == city.City() and city.zone(session).key == city.DEFAULT_TIMEZONE


@pytest.mark.parametrize("zone, local_date", [("Asia/Urumqi", dt.date(2026, 5, 19)),    # 23:30 at UTC+6
                                              ("Asia/Kolkata", dt.date(2026, 5, 19)),   # 23:00 at UTC+5:30
                                              ("Asia/Shanghai", dt.date(2026, 5, 20))])  # 01:30 at UTC+8
def test_today_follows_the_city_zone(platform, system, zone, local_date):
    assert city.timezone_problem(zone) is None   # fixed offsets: no daylight saving in these zones
    with platform.db.session() as session:
        city.initialise(session, system, code=LANZHOU, name="兰州市", timezone=zone)
    with platform.db.session() as session:
        assert city_today(dt.datetime(2026, 5, 19, 17, 30, tzinfo=dt.UTC), session) == local_date
        assert city.midnight(dt.date(2026, 5, 20), session) == dt.datetime(2026, 5, 20, tzinfo=city.zone(session))


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Asia/Kolkata"])
def test_every_kind_of_time_is_written_in_the_citys_zone(platform, system, zone):
    """`clock.isoformat_local` (with its quick path for aware times, which a page of 10,000 map features writes
    20,000 of) writes None, naive (UTC), UTC and other offsets, texts and Shanghai's 1988 summer time in the
    city's zone, as the zone database says; a city changed to another zone writes the new zone's times."""
    from zoneinfo import ZoneInfo

    from minqing.core.clock import isoformat_local

    with platform.db.session() as session:
        city.initialise(session, system, code=LANZHOU, name="兰州市", timezone=zone)
    city.refresh(platform.db)
    instants = [dt.datetime(2026, 3, 1, 15, 59, 59, 999999, tzinfo=dt.UTC), dt.datetime(2026, 3, 1, 16, 0, tzinfo=dt.UTC),
                dt.datetime(1988, 7, 1, 16, 30, tzinfo=dt.UTC), dt.datetime(1988, 9, 10, 16, 30, tzinfo=dt.UTC),
                dt.datetime(2026, 1, 1, 8, 0, tzinfo=dt.UTC), dt.datetime(2026, 6, 30, 10, 0, tzinfo=dt.UTC)]
    values = [instants[0].replace(tzinfo=None), instants[1], instants[2], instants[3],
              instants[4].astimezone(dt.timezone(dt.timedelta(hours=-5))), "2026-01-01T08:00:00Z",
              "2026-06-30T12:00:00+02:00"]
    expected = [moment.astimezone(ZoneInfo(zone)).replace(microsecond=0).isoformat() for moment in instants]
    assert [isoformat_local(value) for value in values] == expected[:5] + [expected[4], expected[5]]
    assert isoformat_local(None) is None and isoformat_local("不是时间") == "不是时间"
    if zone == "Asia/Shanghai":
        assert isoformat_local(values[2]) == "1988-07-02T01:30:00+09:00"
        assert isoformat_local(values[0]) == "2026-03-01T23:59:59+08:00"
    with platform.db.session() as session:
        city.initialise(session, system, code=LANZHOU, name="兰州市", timezone="Asia/Urumqi", update=True)
    city.refresh(platform.db)
    assert isoformat_local(instants[1]) == "2026-03-01T22:00:00+06:00"   # the cached zone is the city's, not the last


def test_the_demo_is_initialised_like_any_city(demo_platform):
    with demo_platform.db.session() as session:
        assert city.settings(session) == city.City(code=LANZHOU, name="兰州市", timezone=city.DEFAULT_TIMEZONE,
                                                   centre=(103.83, 36.06), zoom=9)
        assert session.scalar(select(AuditRecord.origin).where(AuditRecord.action == "city.init")) == "demo"
