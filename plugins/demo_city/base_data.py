"""一标三实 of the demo city, written in bulk through `minqing.core.models`: standard addresses, houses,
households and residents for every small grid; units; key persons and key places.

No importer reads these from the generator yet (`minqing import addresses|houses|residents|units|key-persons`
reads files a city keeps, in batches that resume, which 200,000 generated residents do not need), so they are
inserted directly with ids assigned here, into tables that are empty when the demo is built.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import enum
import json
import operator

import numpy as np
import shapely
from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from minqing.core.models import Address, House, Household, KeyPerson, KeyPlace, Resident, Unit
from minqing.core.privacy import uscc
from minqing.core.privacy.masking import id_digest
from minqing.core.settings import lookup_key

from . import people

KEY_PERSON_CATEGORIES = (  # category, visit every N days, share of residents (per mille)
    ("独居老人", 7, 4.0), ("严重精神障碍患者", 14, 1.0), ("社区矫正对象", 7, 0.6), ("刑满释放人员", 30, 0.8),
    ("吸毒人员", 14, 0.5), ("留守儿童", 30, 1.5), ("困境儿童", 30, 0.6), ("特困供养人员", 30, 1.0),
    ("重点信访人员", 14, 0.3), ("残疾人", 30, 1.5),
)
KEY_PLACE_CATEGORIES = (  # category, responsible department, visit every N days, places per 100 grids
    ("加油加气站", "emergency", 30, 3), ("中小学校", "education", 30, 6), ("医院", "health", 30, 3),
    ("农贸市场", "market_regulation", 14, 4), ("养老机构", "civil_affairs", 14, 3), ("网吧", "culture_tourism", 30, 3),
    ("旅馆", "police", 30, 4), ("建筑工地", "housing_construction", 14, 5), ("危化品企业", "emergency", 7, 1),
    ("河道水库", "water_affairs", 14, 2), ("宗教活动场所", "ethnic_religious", 30, 2),
    ("地质灾害隐患点", "natural_resources", 14, 2), ("燃气调压站", "gas", 30, 2),
)
UNIT_KINDS = ("餐饮", "零售", "批发", "住宿", "物流", "制造", "建筑", "教育培训", "医疗", "物业", "社会组织", "机关事业单位")
ROOM_STRUCTURES = ("砖混", "框架", "钢混", "土木")
# GB 11643's check character (ISO 7064 MOD 11-2), as `idcard.check_char` computes it one number at a time
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"


def _with_check_chars(first17: list[str]) -> list[str]:
    """The GB 11643 check character (`idcard.check_char`) appended to many 17-digit prefixes at once."""
    if not first17:
        return []
    digits = np.frombuffer("".join(first17).encode("ascii"), dtype=np.uint8).reshape(-1, 17) - ord("0")
    checks = np.array(list(ID_CHECK_CHARS))[digits.astype(np.int64) @ np.array(ID_WEIGHTS) % 11].tolist()
    return [prefix + check for prefix, check in zip(first17, checks, strict=True)]


@contextlib.contextmanager
def large_page_cache(session: Session, kibibytes: int = 256 * 1024):
    """SQLite: a page cache big enough for the indexes of 200,000 rows while they are written (its default, 2 MiB,
    sends index pages back and forth to the WAL file and costs half the insert time); restored afterwards, so the
    connection goes back to the pool as it was. Other databases: nothing."""
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    before = session.execute(text("PRAGMA cache_size")).scalar()
    session.execute(text(f"PRAGMA cache_size=-{int(kibibytes)}"))
    try:
        yield
    finally:
        session.execute(text(f"PRAGMA cache_size={int(before)}"))


def bulk(session: Session, model, rows: list[dict], chunk: int = 5000) -> None:
    """Rows of one shape into the model's table: COPY on PostgreSQL (in the session's transaction), else one
    executemany per chunk (a Core INSERT: the ORM's bulk insert splits a chunk wherever a None starts or ends,
    which for residents without a phone meant 30,000 statements)."""
    if not rows:
        return
    table = model.__table__
    if session.get_bind().dialect.name == "postgresql":
        columns = list(rows[0])
        defaults = model_defaults(table, columns)   # what an INSERT fills in from the model and COPY does not
        names = ", ".join(f'"{name}"' for name in columns + list(defaults))
        extra = [_plain(value) for value in defaults.values()]
        converted = _converted(table, columns, rows[0])
        values = operator.itemgetter(*columns) if len(columns) > 1 else (lambda row: (row[columns[0]],))
        driver = session.connection().connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                line = list(values(row))
                for index in converted:   # only the columns that need it: _plain per value was a third of a load
                    line[index] = _plain(line[index])
                copy.write_row(line + extra)
        return
    for start in range(0, len(rows), chunk):
        session.execute(insert(table), rows[start:start + chunk])


def model_defaults(table, given: list[str]) -> dict:
    """The model's Python-side defaults (`default=utcnow`, `default=""`) of the columns `given` leaves out,
    evaluated once for the whole statement."""
    found = {}
    for column in table.columns:
        default = column.default
        if column.name in given or default is None or default.is_sequence or column.server_default is not None:
            continue
        found[column.name] = default.arg(None) if default.is_callable else default.arg
    return found


def _converted(table, columns: list[str], first: dict) -> list[int]:
    """The positions of the columns whose values COPY cannot take as they are: date-times, JSON documents, enums
    (by the column's type, or by the first row's value where the type does not say)."""
    found = []
    for index, name in enumerate(columns):
        try:
            kind = table.columns[name].type.python_type
        except NotImplementedError:
            kind = None
        value = first[name]
        if (kind is None or kind in (object, dt.datetime, dict, list) or issubclass(kind, enum.Enum)
                or isinstance(value, dt.datetime | dict | list | enum.Enum)):
            found.append(index)
    return found


def _plain(value):
    """A value as COPY's text format takes it: naive UTC for the UTCDateTime columns, JSON text for documents."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None) if value.tzinfo is dt.UTC else value.astimezone(dt.UTC).replace(tzinfo=None)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, enum.Enum):   # psycopg writes an enum's name; the column holds its value
        return value.value
    return value


def sample_points(rng, geometry, count: int) -> list[tuple[float, float]]:
    """`count` uniformly random points inside a polygon (rejection sampling in its bounding box); `rng` is a
    `random.Random` or, for many calls in a row, a numpy generator (one made per call costs more than the call)."""
    generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng.randrange(2**32))
    min_lon, min_lat, max_lon, max_lat = geometry.bounds
    found: list[tuple[float, float]] = []
    shapely.prepare(geometry)
    while len(found) < count:
        lons = generator.uniform(min_lon, max_lon, count * 2 + 8)
        lats = generator.uniform(min_lat, max_lat, count * 2 + 8)
        inside = shapely.contains_xy(geometry, lons, lats)
        found.extend(zip(lons[inside].round(6).tolist(), lats[inside].round(6).tolist()))
    return found[:count]


HOUSEHOLD_SIZES = np.array((1, 2, 2, 3, 3, 3, 4, 4, 5))
TODAY = np.datetime64("2026-11-24")
VISITS_FROM = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
# Residents drawn and written at a time: the default city (200,000) in one batch, Lanzhou's 4.4 million in ~18
BATCH_RESIDENTS = 250_000


def _batches(per_grid: list[int], size: int):
    """`per_grid` split into consecutive runs of grids of about `size` residents each: the same list with zeros
    outside the run (the grid numbers stay indexes into the small grids)."""
    start, running = 0, 0
    for index, count in enumerate(per_grid):
        running += count
        if running >= size and index + 1 < len(per_grid):
            yield [0] * start + per_grid[start:index + 1] + [0] * (len(per_grid) - index - 1)
            start, running = index + 1, 0
    yield [0] * start + per_grid[start:]


class BaseData:
    """一标三实 for every small grid: addresses, houses, households and residents; units; key persons and places.

    Residents and their households are drawn a whole city at a time from one numpy generator seeded from the
    builder's random generator (200,000 people one by one cost most of the demo's build), so the same seed
    still gives the same people."""

    def __init__(self, builder):  # build.Builder: the ids of the imported city, the bar
        self.b = builder
        self.rng = builder.rng
        self.generator = np.random.default_rng(self.rng.randrange(2**32))
        self.key = lookup_key(builder.session)
        self.today = dt.date(2026, 11, 24)
        self.used_numbers: set[str] = set()

    def build(self, resident_count: int) -> None:
        weights = [4.0 if cell.urban else 1.0 for cell in self.b.small_grids]
        total = sum(weights)
        per_grid = [int(resident_count * w / total) for w in weights]
        for index in range(resident_count - sum(per_grid)):
            per_grid[index % len(per_grid)] += 1
        batches = list(_batches(per_grid, BATCH_RESIDENTS))
        done = [0, 0]   # households and residents written: the ids of the next batch follow them
        for number, batch in enumerate(batches):
            # one batch (the default 200,000 residents) draws exactly what the whole city drew before batches
            progress = self.b.advance if len(batches) == 1 else None
            households = self._households(batch, progress)
            self.b.advance(65 + int(10 * (number + 1) / len(batches)) if len(batches) == 1 else
                           65 + int(23 * (number + 0.5) / len(batches)))
            addresses, houses, households, residents = self._rows(*households, first=done)
            session = self.b.session
            with large_page_cache(session):
                bulk(session, Address, addresses)
                bulk(session, House, houses)
                bulk(session, Household, households)
                bulk(session, Resident, residents)
            done = [done[0] + len(households), done[1] + len(residents)]
            self._key_persons(residents)
            del addresses, houses, households, residents   # a city of millions is never held whole
            self.b.advance(65 + int(23 * (number + 1) / len(batches)))
        self._units_and_places()
        self.b.advance(96)

    def _households(self, per_grid: list[int], progress=None):
        """Every household's grid (index into the small grids), size and point."""
        generator, cells = self.generator, self.b.small_grids
        grid_of, sizes, lons, lats = [], [], [], []
        for number, (cell, count) in enumerate(zip(cells, per_grid, strict=True)):
            if count <= 0:
                continue
            drawn = HOUSEHOLD_SIZES[generator.integers(0, len(HOUSEHOLD_SIZES), count)]
            reached = np.cumsum(drawn)
            last = int(np.searchsorted(reached, count))      # the household that reaches the grid's count
            drawn = drawn[:last + 1]
            drawn[-1] -= reached[last] - count
            points = sample_points(generator, cell.geometry, len(drawn))
            grid_of.append(np.full(len(drawn), number))
            sizes.append(drawn)
            lons.extend(lon for lon, _ in points)
            lats.extend(lat for _, lat in points)
            if number % 1000 == 0 and progress is not None:
                progress(65 + int(10 * number / len(cells)))
        return np.concatenate(grid_of), np.concatenate(sizes), lons, lats

    def _rows(self, grid_of: np.ndarray, sizes: np.ndarray, lons: list[float], lats: list[float],
              first: tuple[int, int] = (0, 0)):
        """The rows of these households and their residents; ids follow `first` (households, residents written)."""
        generator, cells = self.generator, self.b.small_grids
        count = len(sizes)
        urban = np.array([cell.urban for cell in cells])[grid_of]
        located = [{"grid_id": self.b.grid_ids[cell.code], "region_code": cell.region_code} for cell in cells]
        places = [self._place_name(cell.region_code) for cell in cells]
        building, unit, room, flat = (generator.integers(1, top + 1, count).tolist() for top in (40, 6, 30, 4))
        number = generator.integers(1, 201, count).tolist()
        structure = np.where(urban, generator.integers(0, 3, count), generator.integers(0, 4, count)).tolist()
        floors = np.where(urban, generator.integers(6, 34, count), generator.integers(1, 4, count)).tolist()
        area = np.round(generator.uniform(45, 160, count), 1).tolist()
        built = generator.integers(1975, 2025, count).tolist()
        unvisited = (generator.random(count) < 0.03).tolist()
        visit_days = generator.integers(0, 321, count).tolist()
        residents = self._residents(grid_of, sizes, located, first)
        heads = np.concatenate(([0], np.cumsum(sizes)[:-1])).tolist()
        addresses, houses, households = [], [], []
        for index, grid in enumerate(grid_of.tolist()):
            row_id, where, is_urban = first[0] + index + 1, located[grid], bool(urban[index])
            code = cells[grid].region_code
            text_ = (f"{places[grid]}{building[index]}号楼{unit[index]}单元{room[index]}0{flat[index]}室" if is_urban
                     else f"{places[grid]}{number[index]}号")
            head = residents[heads[index]]["name"]
            addresses.append({"id": row_id, "code": f"{code}{row_id:08d}", "text": text_, "lon": lons[index],
                              "lat": lats[index], **where})
            houses.append({"id": row_id, "address_id": row_id, "kind": "residential" if is_urban else "self_built",
                           "structure": ROOM_STRUCTURES[structure[index]], "floors": floors[index],
                           "area_m2": area[index], "built_year": built[index], "owner_name": head, **where})
            households.append({"id": row_id, "number": f"HH{row_id:09d}", "house_id": row_id, "head_name": head,
                               "size": int(sizes[index]), **where,
                               "last_visit_at": None if unvisited[index] else
                               VISITS_FROM + dt.timedelta(days=visit_days[index])})
        return addresses, houses, households, residents

    def _residents(self, grid_of: np.ndarray, sizes: np.ndarray, located: list[dict],
                   first: tuple[int, int] = (0, 0)) -> list[dict]:
        """Every household's members: the head (户主), a spouse (配偶), children (子女), with ID numbers that are
        valid and unique, born in their county."""
        generator, cells = self.generator, self.b.small_grids
        count = int(sizes.sum())
        household = np.repeat(np.arange(len(sizes)), sizes)
        position = np.arange(count) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        age = np.select([position == 0, position == 1],
                        [generator.integers(25, 86, count), generator.integers(22, 86, count)],
                        generator.integers(0, 41, count))
        born = TODAY - (age * 365 + generator.integers(0, 365, count)).astype("timedelta64[D]")
        sequence = generator.integers(0, 1000, count)
        grid = grid_of[household]
        counties = np.array([cell.region_code[:6] for cell in cells])[grid]
        days = np.char.replace(np.datetime_as_string(born, unit="D"), "-", "")
        first17 = np.char.add(np.char.add(counties, days), np.char.zfill(sequence.astype(str), 3)).tolist()
        sequence = sequence.tolist()
        used = self.used_numbers
        for index, digits in enumerate(first17):
            while digits in used:  # two people may not share a number: take the next sequence (+ 2 keeps the sex)
                sequence[index] = (sequence[index] + 2) % 1000
                digits = first17[index] = digits[:14] + f"{sequence[index]:03d}"
            used.add(digits)
        numbers = _with_check_chars(first17)
        phones = people.mobiles(generator, count)
        adult = (age >= 16).tolist()
        floating = (generator.random(count) < 0.12).tolist()
        names = people.names(generator, count)
        relations = np.array(["户主", "配偶", "子女"])[np.minimum(position, 2)].tolist()
        born_dates = born.tolist()
        key, where = self.key, [located[index] for index in grid.tolist()]
        household_ids = (household + first[0] + 1).tolist()
        return [{"id": first[1] + index + 1, "name": names[index], "id_number": numbers[index],
                 "id_digest": id_digest(key, numbers[index]), "gender": "male" if sequence[index] % 2 else "female",
                 "birth_date": born_dates[index], "phone": phones[index] if adult[index] else None,
                 "household_id": household_ids[index], "relation": relations[index],
                 "residency": "floating" if floating[index] else "registered", **where[index]}
                for index in range(count)]

    def _place_name(self, group_code: str) -> str:
        names = self.b.region_names
        county, township, village = group_code[:6] + "000000", group_code[:9] + "000", group_code[:12]
        return f"{names.get(county, '')}{names.get(township, '')}{names.get(village, '')}{names.get(group_code, '')}"

    def _key_persons(self, residents: list[dict]) -> None:
        rows = []
        for category, every, per_mille in KEY_PERSON_CATEGORIES:
            for resident in self.rng.sample(residents, max(1, int(len(residents) * per_mille / 1000))):
                last = dt.datetime(2026, 11, 24, tzinfo=dt.UTC) - dt.timedelta(days=self.rng.randint(0, every * 2))
                rows.append({"resident_id": resident["id"], "category": category,
                             "risk_level": self.rng.choice(("low", "low", "medium", "high")),
                             "visit_every_days": every, "last_visit_at": last,
                             "next_visit_due": (last + dt.timedelta(days=every)).date(),
                             "responsible_person_id": self.b.workers_by_grid.get(resident["grid_id"]),
                             "grid_id": resident["grid_id"], "region_code": resident["region_code"]})
        bulk(self.b.session, KeyPerson, rows)

    def _units_and_places(self) -> None:
        units, places = [], []
        grids = self.b.small_grids
        for serial, cell in enumerate(grids):
            located = {"grid_id": self.b.grid_ids[cell.code], "region_code": cell.region_code}
            unit_count = self.rng.randint(2, 5) if cell.urban else self.rng.randint(0, 2)
            for lon, lat in sample_points(self.generator, cell.geometry, unit_count):
                kind = self.rng.choice(UNIT_KINDS)
                units.append({"name": f"{self._place_name(cell.region_code)[-8:]}{kind}{len(units) + 1}号",
                              "credit_code": uscc.make("91", cell.region_code, len(units) + 1),
                              "kind": kind, "lon": lon, "lat": lat, "contact_name": people.name(self.rng),
                              "contact_phone": people.mobile(self.rng), "employees": self.rng.randint(1, 200),
                              **located})
        for category, department, every, per_hundred in KEY_PLACE_CATEGORIES:
            for cell in self.rng.sample(grids, len(grids) * per_hundred // 100):
                (lon, lat), = sample_points(self.generator, cell.geometry, 1)
                last = dt.datetime(2026, 11, 24, tzinfo=dt.UTC) - dt.timedelta(days=self.rng.randint(0, every * 2))
                places.append({"name": f"{self._place_name(cell.region_code)[-6:]}{category}",
                               "category": category, "department_key": department,
                               "address_text": self._place_name(cell.region_code), "lon": lon, "lat": lat,
                               "visit_every_days": every, "last_visit_at": last,
                               "next_visit_due": (last + dt.timedelta(days=every)).date(),
                               "responsible_person_id": self.b.workers_by_grid.get(self.b.grid_ids[cell.code]),
                               "grid_id": self.b.grid_ids[cell.code], "region_code": cell.region_code})
        bulk(self.b.session, Unit, units)
        bulk(self.b.session, KeyPlace, places)
