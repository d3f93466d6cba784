"""The city this installation serves — its root region, time zone and default map view — as settings, not constants.

`minqing init` and the first admin's web set-up store them with `initialise`; everything that needs the city's day,
time or map reads them here:

    settings(session)          the city (`City`), read through the `city` change counter and cached per process
    zone(session) / offset()   its time zone (a fixed offset: zones with daylight saving are refused)
    today(session)             today's calendar date in the city
    local(moment)              a moment (naive = UTC, as stored) in the city's time
    month_of(moment)           the calendar month it falls in there, as YYYYMM
    day_of(moment)             the calendar day it falls in there, as YYYYMMDD
    midnight(day)              the UTC moment a local calendar day begins
    map_view(session)          the map's default centre and zoom

Functions given a session read the setting (one counter look-up per session, the row only when the counter moved,
so a change made by any process is seen by every other one). Functions called without one — a template filter, a
form's datetime input, the month of a ranking — use what this process read last: the web application reads it
before every request, a worker before every task, the command line when it opens the database.

A database without a city (a test's, or one not initialised yet) counts time in DEFAULT_TIMEZONE, the one place
the platform names a zone; the demo build initialises Lanzhou like any city.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import weakref
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import counters
from .models import Grid, Region, Setting
from minqing.core.geo.regions import LEVEL_NAMES, code_problem, level_of

DEFAULT_TIMEZONE = "Asia/Shanghai"   # documented default (docs/setup.md): used only while no city is stored
DEFAULT_ZOOM = 9
ZOOMS = range(7, 19)                 # what the map offers (web/static/js/map.js)
SETTING = "city"
COUNTER = "city"
FIELDS = {"city_code": "城市区划代码", "name": "城市名称", "timezone": "时区", "centre": "地图中心", "zoom": "缩放级别",
          "tile_url": "底图瓦片地址"}


@dataclasses.dataclass(frozen=True)
class City:
    code: str | None = None            # the root region's 12-digit statistical division code
    name: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    centre: tuple[float, float] | None = None   # (lon, lat); None: the root region's outline centre
    zoom: int = DEFAULT_ZOOM

    @property
    def configured(self) -> bool:
        return self.code is not None

    @functools.cached_property   # read for every time an answer writes (a map page writes 20,000)
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def offset(self) -> dt.timedelta:
        """The zone's offset from UTC; fixed, because zones with daylight saving are refused."""
        return self.zone.utcoffset(dt.datetime(2000, 1, 1))

    def as_dict(self) -> dict:
        return {"code": self.code, "name": self.name, "timezone": self.timezone,
                "centre": list(self.centre) if self.centre else None, "zoom": self.zoom}

    @classmethod
    def from_dict(cls, data: dict) -> City:
        centre = data.get("centre")
        return cls(code=data["code"], name=data["name"], timezone=data["timezone"],
                   centre=(float(centre[0]), float(centre[1])) if centre else None, zoom=int(data["zoom"]))


# -- reading ---------------------------------------------------------------------------------------------------

_by_engine: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()   # engine -> (counter, City)
_current = City()                                                     # what this process read last


def settings(session: Session | None = None) -> City:
    """The city as stored (a `City` with the defaults while none is); without a session, what this process read
    last. A new engine (a new `Platform`) starts its own cache, so a database made again reads afresh."""
    global _current
    if session is None:
        return _current
    generation = counters.seen(session, COUNTER)
    engine = session.get_bind()
    cached = _by_engine.get(engine)
    if cached is None or cached[0] != generation:
        row = session.get(Setting, SETTING)
        cached = (generation, City.from_dict(json.loads(row.value)) if row else City())
        _by_engine[engine] = cached
    _current = cached[1]
    return cached[1]


def refresh(database) -> City:
    """Read the city of `database` (a `core.db.Database`) into this process's cache."""
    with database.session() as session:
        return settings(session)


def forget() -> None:
    """Nothing read yet: a new platform in this process must not show the time of a database read before it."""
    global _current
    _current = City()


def zone(session: Session | None = None) -> ZoneInfo:
    return settings(session).zone


def offset(session: Session | None = None) -> dt.timedelta:
    return settings(session).offset


def today(session: Session | None = None, now: dt.datetime | None = None) -> dt.date:
    """Today's calendar date in the city (due dates and daily figures are local dates)."""
    return (now or dt.datetime.now(dt.UTC)).astimezone(zone(session)).date()


def local(moment: dt.datetime | None, session: Session | None = None) -> dt.datetime | None:
    """`moment` in the city's zone; a naive value is taken as UTC, which is how the database keeps times."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(zone(session))


def month_of(moment: dt.datetime, session: Session | None = None) -> int:
    """The calendar month `moment` falls in, in the city's time, as YYYYMM (`visits.visit_month`)."""
    moment = local(moment, session)
    return moment.year * 100 + moment.month


def day_of(moment: dt.datetime, session: Session | None = None) -> int:
    """The calendar day `moment` falls in, in the city's time, as YYYYMMDD (`visits.visit_day`)."""
    return number_of_day(local(moment, session).date())


def number_of_day(day: dt.date) -> int:
    """A calendar day as YYYYMMDD, as `visits.visit_day` keeps it."""
    return day.year * 10000 + day.month * 100 + day.day


def midnight(day: dt.date, session: Session | None = None) -> dt.datetime:
    """The UTC moment the city's calendar day `day` begins."""
    return dt.datetime.combine(day, dt.time(), zone(session)).astimezone(dt.UTC)


def map_view(session: Session) -> tuple[tuple[float, float], int]:
    """The map's default (lon, lat) centre and zoom: as stored, else the centre of the root region's outline,
    else of all grids, else of the top regions (a database with no outlines at all shows 0, 0)."""
    city = settings(session)
    if city.centre:
        return city.centre, city.zoom
    return outline_centre(session, city.code) or (0.0, 0.0), city.zoom


def outline_centre(session: Session, code: str | None) -> tuple[float, float] | None:
    """The centre of the bounding box of the region `code`'s outline (of the top regions' when None)."""
    region = (Region.code == code) if code else Region.parent_id.is_(None)
    for model, condition in ((Region, region), (Grid, Grid.parent_id.is_(None))):
        box = session.execute(select(func.min(model.min_lon), func.min(model.min_lat), func.max(model.max_lon),
                                     func.max(model.max_lat)).where(condition)).one()
        if None not in box:
            return round((box[0] + box[2]) / 2, 6), round((box[1] + box[3]) / 2, 6)
    return None


# -- checking what init is given ---------------------------------------------------------------------------------

class CityInvalid(ValueError):
    """What is wrong with the values given to init, by field, in Chinese; nothing was written."""

    def __init__(self, problems: dict[str, str]):
        self.problems = problems
        super().__init__("；".join(f"{FIELDS.get(field, field)}：{message}" for field, message in problems.items()))


def normalise_code(text: str) -> tuple[str | None, str | None]:
    """(the 12-digit code, None) or (None, why not) for a city's code: 12 digits, or 6 (GB/T 2260) padded."""
    code = (text or "").strip()
    if code.isdigit() and len(code) == 6:
        code += "000000"
    if not code.isdigit() or len(code) != 12:
        return None, f"“{text or ''}”应为12位统计用区划代码（如 620100000000）或6位行政区划代码（如 620100）"
    if code[2:4] == "00":
        return None, f"{code} 是省级代码，应为地级市（市、州、盟）的代码，如 620100000000"
    if level_of(code) != "city":
        return None, f"{code} 是{LEVEL_NAMES[level_of(code)]}一级的代码，应为市级代码（后8位为0），如 620100000000"
    problem = code_problem(code, "city", None)
    return (None, problem) if problem else (code, None)


def timezone_problem(name: str, years: int = 5) -> str | None:
    """Why `name` cannot be the city's zone, in Chinese: unknown, or not one fixed offset over the coming years."""
    try:
        zone = ZoneInfo(name)
    except (ValueError, OSError, ZoneInfoNotFoundError):
        return f"未知的时区“{name}”，应为 IANA 时区名，如 {DEFAULT_TIMEZONE}、Asia/Urumqi"
    this_year = dt.date.today().year
    offsets = {zone.utcoffset(dt.datetime(year, month, 1, 12)) for year in range(this_year, this_year + years)
               for month in range(1, 13)}
    if len(offsets) > 1:
        shown = "、".join(utc_text(value) for value in sorted(offsets))
        return (f"时区“{name}”实行夏令时（一年中在 {shown} 之间切换），城市的时差必须全年固定，"
                "请选择没有夏令时的时区")
    return None


def utc_text(offset: dt.timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign, minutes = ("+" if minutes >= 0 else "-"), abs(minutes)
    return f"UTC{sign}{minutes // 60}" + (f":{minutes % 60:02d}" if minutes % 60 else "")


def parse_centre(text: str | None) -> tuple[tuple[float, float] | None, str | None]:
    """((lon, lat), None), (None, None) for nothing given, or (None, why not) for "LON,LAT"."""
    if text is None or not str(text).strip():
        return None, None
    parts = [part.strip() for part in str(text).replace("，", ",").split(",")]
    try:
        lon, lat = (float(part) for part in parts)
    except ValueError:
        return None, f"“{text}”应为“经度,纬度”两个数字，如 103.83,36.06"
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None, f"“{text}”超出范围：经度应在 -180 到 180 之间，纬度在 -90 到 90 之间"
    return (round(lon, 6), round(lat, 6)), None


def parse_zoom(value) -> tuple[int | None, str | None]:
    if value is None or str(value).strip() == "":
        return None, None
    text = str(value).strip()
    if not text.isdigit() or int(text) not in ZOOMS:
        return None, f"“{value}”应为 {ZOOMS.start} 到 {ZOOMS.stop - 1} 之间的整数"
    return int(text), None


# -- storing --------------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Outcome:
    city: City
    changed: bool          # False: the same values were stored already
    created_root: bool     # the root region was created by this call
    first: bool = False    # no city was stored before


def initialise(session: Session, actor, *, code: str, name: str, timezone: str | None = None,
               centre: str | tuple[float, float] | None = None, zoom: int | str | None = None,
               update: bool = False) -> Outcome:
    """Store the city: its root region (created if absent, else checked), time zone and default map view.

    Values not given keep what is stored (on the first run: DEFAULT_TIMEZONE, zoom DEFAULT_ZOOM, and no centre,
    which `map_view` reads as the centre of the root region's outline, once regions with outlines are imported). The same values again change nothing; different ones are refused unless `update`. Raises
    CityInvalid, naming each field that is wrong, before anything is written.
    """
    stored = settings(session)
    wanted, problems = _checked(stored, code, name, timezone, centre, zoom)
    root = None
    if wanted is not None:
        root, problem = _root_problem(session, stored, wanted, update)
        if problem:
            problems.update(problem)
    if problems:
        raise CityInvalid(problems)
    if stored.configured and wanted == stored:
        return Outcome(stored, changed=False, created_root=False)
    if stored.configured and not update:
        raise CityInvalid({field: f"已设置为“{before}”，本次为“{after}”；确需修改请加 --update（网页设置中勾选“修改”）"
                           for field, before, after in _differences(stored, wanted)})
    created = root is None
    _store(session, actor, stored, wanted, root)
    return Outcome(wanted, changed=True, created_root=created, first=not stored.configured)


def _checked(stored: City, code, name, timezone, centre, zoom) -> tuple[City | None, dict[str, str]]:
    problems: dict[str, str] = {}
    code, problem = normalise_code(code)
    if problem:
        problems["city_code"] = problem
    name = (name or "").strip()
    if not name or len(name) > 100:
        problems["name"] = "请填写城市名称（不超过100个字）" if not name else "城市名称不能超过100个字"
    timezone = (timezone or "").strip() or stored.timezone
    if problem := timezone_problem(timezone):
        problems["timezone"] = problem
    if isinstance(centre, tuple):
        centre = f"{centre[0]},{centre[1]}"
    centre_value, problem = parse_centre(centre)
    if problem:
        problems["centre"] = problem
    zoom_value, problem = parse_zoom(zoom)
    if problem:
        problems["zoom"] = problem
    if problems:
        return None, problems
    return City(code=code, name=name, timezone=timezone,
                centre=centre_value or (stored.centre if stored.code == code else None),
                zoom=zoom_value or stored.zoom), {}


def _root_problem(session: Session, stored: City, wanted: City, update: bool):
    """(the existing root region or None, {field: problem} or None)."""
    if stored.configured and stored.code != wanted.code:
        return None, {"city_code": f"本系统已初始化为{stored.name}（{stored.code}），不能改为另一个城市的代码 {wanted.code}"}
    roots = session.scalars(select(Region).where(Region.parent_id.is_(None)).order_by(Region.code)).all()
    root = next((region for region in roots if region.code == wanted.code), None)
    if root is None and roots:
        shown = "、".join(f"{region.name}（{region.code}）" for region in roots[:3])
        return None, {"city_code": f"数据库中的顶级区划是 {shown}，与 {wanted.code} 不一致"}
    if root is not None and root.level != "city":
        return None, {"city_code": f"区划 {root.code} 在数据库中是{LEVEL_NAMES.get(root.level, root.level)}，不是市级"}
    if root is not None and root.name != wanted.name and not stored.configured and not update:
        return root, {"name": f"数据库中区划 {root.code} 的名称是“{root.name}”，与“{wanted.name}”不一致；"
                              "确需改名请加 --update"}
    return root, None


def _differences(before: City, after: City):
    for field, old, new in (("name", before.name, after.name), ("timezone", before.timezone, after.timezone),
                            ("centre", _centre_text(before.centre), _centre_text(after.centre)),
                            ("zoom", before.zoom, after.zoom)):
        if old != new:
            yield field, old, new


def _centre_text(centre) -> str:
    return f"{centre[0]},{centre[1]}" if centre else "区划轮廓中心"


def _store(session: Session, actor, stored: City, wanted: City, root: Region | None) -> None:
    from .changes import record_change

    if root is None:
        session.add(Region(code=wanted.code, name=wanted.name, level="city", parent_id=None))
    elif root.name != wanted.name:
        root.name = wanted.name
    row = session.get(Setting, SETTING) or Setting(name=SETTING)
    row.value = json.dumps(wanted.as_dict(), ensure_ascii=False)
    session.add(row)
    counters.bump(session, COUNTER)   # this session's (and this request's) next read sees the new values
    record_change(session, actor, "city.update" if stored.configured else "city.init", object_type="city",
                  object_id=wanted.code, summary=f"{'修改' if stored.configured else '初始化'}城市设置：{wanted.name}",
                  details={"before": stored.as_dict() if stored.configured else None, "after": wanted.as_dict()})


# -- the optional base map's tiles ---------------------------------------------------------------------------------
# The map has no tiles by default (the outlines are the base map); a city with its own tile server names its URL
# template here (the city set-up page), and the pages that draw on a map then add it, allowing that one origin.

TILES_SETTING = "map_tiles"
MAX_TILE_URL = 300


def tile_url(session: Session) -> str | None:
    """The base map's tile URL template (``https://tiles.example.cn/{z}/{x}/{y}.png``), or None when not set."""
    row = session.get(Setting, TILES_SETTING)
    return json.loads(row.value).get("url") or None if row else None


def tile_origin(url: str | None) -> str | None:
    """The origin (scheme://host[:port]) tiles are fetched from: what the pages' CSP allows for images."""
    if not url:
        return None
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def tile_url_problem(url: str) -> str | None:
    """Why `url` cannot be the tile URL template, in Chinese; None when it can."""
    from urllib.parse import urlsplit

    if len(url) > MAX_TILE_URL:
        return f"瓦片地址不能超过 {MAX_TILE_URL} 个字符"
    if any(ch.isspace() or ch in "'\"<>;,\\`" for ch in url):
        return "瓦片地址不能含空格、引号、分号、逗号或尖括号"
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "瓦片地址应以 https:// 开头，如 https://tiles.example.cn/{z}/{x}/{y}.png"
    if "{" in parts.netloc or parts.username or parts.password:
        return "瓦片地址的主机名中不能有占位符（如 {s}）或用户名、密码"
    missing = [name for name in ("{z}", "{x}", "{y}") if name not in parts.path + parts.query]
    if missing:
        return f"瓦片地址应含占位符 {'、'.join(missing)}，如 https://tiles.example.cn/{{z}}/{{x}}/{{y}}.png"
    return None


def set_tile_url(session: Session, actor, url: str | None) -> bool:
    """Store (or, with an empty value, clear) the tile URL template; CityInvalid({"tile_url": …}) for a bad one.
    Answers whether anything changed; a change is recorded (`city.tiles`)."""
    from .changes import record_change

    url = (url or "").strip()
    if url and (problem := tile_url_problem(url)):
        raise CityInvalid({"tile_url": problem})
    before = tile_url(session)
    if (before or "") == url:
        return False
    row = session.get(Setting, TILES_SETTING) or Setting(name=TILES_SETTING)
    row.value = json.dumps({"url": url}, ensure_ascii=False)
    session.add(row)
    record_change(session, actor, "city.tiles", object_type="city", object_id=TILES_SETTING,
                  summary="设置底图瓦片地址" if url else "清除底图瓦片地址", details={"before": before, "after": url or None})
    return True


__all__ = ["City", "CityInvalid", "DEFAULT_TIMEZONE", "Outcome", "initialise", "local", "map_view", "midnight",
           "normalise_code", "offset", "refresh", "set_tile_url", "settings", "tile_origin", "tile_url", "timezone_problem",
           "today", "utc_text", "zone"]
