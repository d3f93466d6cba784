"""Benchmark: the resident import (`minqing import residents FILE.csv`) against a hand-written import of the same file.

A small city (one county, a township, 20 villages with a grid each, 1 % of the file's people already registered)
and a generated CSV of N realistic rows (`--scale`: tiny 200, small 20,000, city 500,000): name, ID number,
gender, birth date, phone, relation, residency, ethnicity, region code and, for most rows, the grid code. About
7 % of the rows are bad, one reason each: a wrong check character, a bad phone, an unknown region code, an ID
number already in the file, a gender the ID number contradicts, a person already registered, a missing name.

- ours: `core.importing.import_file(platform, "residents", path)` (batches of 5,000, each its own transaction
  with its audit record, the error report written as it goes);
- baseline (`hand_written`): what a good engineer writes for this file: `csv.reader`, the same checks (the
  required cells and lengths, `idcard.problem`, birth date and gender against the ID number, the phone patterns,
  the region's level, the grid on the region's branch, duplicates in the file and in the database by the same
  keyed digest), the rejected rows' values masked the same way and written to a report, Core executemany inserts
  of 5,000 rows in one transaction with one audit record.

Both sides import the same file into the same database (the rows of the other side's run deleted first, not
timed); the residents stored and the problems reported (row, masked value, message) are checked equal. Rate: rows of the file per second.

    python -m benchmarks.import_rows [--scale small] [--db URL]      # --db: a database of its own (EMPTIED)
"""
from __future__ import annotations

import csv
import datetime as dt
import re
import tempfile
from pathlib import Path

from shapely.geometry import box, mapping
from sqlalchemy import delete, insert, select

from minqing.core import city
from minqing.core.actors import system_actor
from minqing.core.changes import record_change
from minqing.core.geo.regions import prefix
from minqing.core.importing import import_file
from minqing.core.models import Grid, Region, Resident
from minqing.core.platform import Platform
from minqing.core.privacy import idcard
from minqing.core.privacy.masking import id_digest, mask_id_number, mask_phone
from minqing.core.settings import lookup_key

from .harness import Figure, best_times, run_alone

VILLAGES = 20
AREA = "620102"
HEADER = ["姓名", "身份证号", "性别", "出生日期", "联系电话", "与户主关系", "人口类型", "民族", "区划代码", "网格编码"]
STORED = (Resident.name, Resident.id_number, Resident.id_digest, Resident.gender, Resident.birth_date,
          Resident.phone, Resident.household_id, Resident.relation, Resident.residency, Resident.ethnicity,
          Resident.grid_id, Resident.region_code)
BATCH = 5000


def build_city(platform: Platform) -> None:
    with platform.db.session() as session:
        ids = {}
        plan = [("620100000000", "city", None), ("620102000000", "county", "620100000000"),
                ("620102001000", "township", "620102000000")]
        plan += [(_village(n), "village", "620102001000") for n in range(VILLAGES)]
        for code, level, parent in plan:
            ids[code] = session.execute(insert(Region).values(code=code, name=code, level=level,
                                                              parent_id=ids.get(parent)).returning(Region.id)).scalar()
        session.execute(insert(Grid), [{"code": f"G{_village(n)}", "name": _village(n), "level": "small",
                                        "region_id": ids[_village(n)], "region_code": _village(n),
                                        "geometry": mapping(box(103.8 + n / 100, 36.05, 103.81 + n / 100, 36.06))}
                                       for n in range(VILLAGES)])


def _village(n: int) -> str:
    return f"620102001{n + 1:03d}"


def _number(n: int) -> str:
    """A valid ID number, different for every n (birth date and sequence)."""
    return idcard.make(AREA, dt.date(1940, 1, 1) + dt.timedelta(days=n // 900), n % 900 + 1)


def write_file(path: Path, rows: int) -> list[str]:
    """The CSV of `rows` residents; returns the ID numbers registered before the import (1 % of the rows)."""
    registered = []
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(rows):
            number = _number(n)
            born, male = idcard.birth_date(number), idcard.sex(number) == "male"
            village = _village(n % VILLAGES)
            row = [f"居民{n}", number, "男" if male else "女", born.isoformat(), f"139{n % 100_000_000:08d}",
                   ("户主", "配偶", "子女", "父母")[n % 4], "流动" if n % 7 == 0 else "户籍",
                   "回族" if n % 11 == 0 else "汉族", village, f"G{village}" if n % 5 else ""]
            bad = n % 100
            if bad == 1:
                row[1] = number[:17] + ("0" if number[17] != "0" else "1")
            elif bad == 2:
                row[4] = "12345"
            elif bad == 3:
                row[8] = "620102001999"
            elif bad == 4 and n > 4:
                row[1] = _number(n - 3)
            elif bad == 5:
                row[2] = "女" if male else "男"
            elif bad == 6:
                registered.append(number)
            elif bad == 7:
                row[0] = ""
            writer.writerow(row)
    return registered


def register(platform: Platform, numbers: list[str]) -> None:
    """The people already registered before the file comes in."""
    with platform.db.session() as session:
        key = lookup_key(session)
        session.execute(insert(Resident), [
            {"name": "已登记", "id_number": number, "id_digest": id_digest(key, number),
             "gender": idcard.sex(number), "birth_date": idcard.birth_date(number), "region_code": _village(0)}
            for number in numbers])


# -- the baseline: a hand-written import of this file --------------------------------------------------------------

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")
_GENDERS = {"男": "male", "女": "female"}
_RESIDENCY = {"户籍": "registered", "流动": "floating"}


def hand_written(platform: Platform, path: Path, today: dt.date) -> list[tuple[int, str, str]]:
    """Import `path` as a good engineer would for this one file; returns the rejected rows' (row, value, message),
    values masked, also written to a report beside the file."""
    actor = system_actor("import")
    with platform.db.session() as session:
        key = lookup_key(session)
        regions = dict(session.execute(select(Region.code, Region.level)).all())
        grids = {code: (grid_id, region) for code, grid_id, region
                 in session.execute(select(Grid.code, Grid.id, Grid.region_code))}
        rejected, good = [], []
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            next(reader)
            for number, cells in enumerate(reader, start=2):
                record, problems = _check(cells, key, regions, grids, today)
                if problems:
                    rejected.extend((number, value, message) for value, message in problems)
                else:
                    good.append((number, record))
        existing = set()
        digests = [record["id_digest"] for _, record in good]
        for start in range(0, len(digests), 900):
            existing.update(session.scalars(select(Resident.id_digest)
                                            .where(Resident.id_digest.in_(digests[start:start + 900]))))
        first, records = {}, []
        for number, record in good:
            digest = record["id_digest"]
            if digest in existing:
                rejected.append((number, mask_id_number(record["id_number"]), "身份证号已存在：实有人口中已有此人"))
            elif digest in first:
                rejected.append((number, mask_id_number(record["id_number"]), f"身份证号与第{first[digest]}行重复"))
            else:
                first[digest] = number
                records.append(record)
        connection, table = session.connection(), Resident.__table__
        for start in range(0, len(records), BATCH):   # Core: every record has every column
            connection.execute(insert(table), records[start:start + BATCH])
        record_change(session, actor, "import", object_type="residents", object_id=path.name,
                      summary=f"导入实有人口：导入{len(records)}条，拒绝{len({row for row, *_ in rejected})}条",
                      details={"file": path.name, "imported": len(records)})
    with open(path.with_name("hand_written_report.csv"), "w", encoding="utf-8-sig", newline="") as report:
        csv.writer(report).writerows(sorted(rejected))
    return rejected


def _check(cells: list[str], key: bytes, regions: dict, grids: dict, today: dt.date):
    name, number, gender, born, phone, relation, residency, ethnicity, region, grid_code = \
        (cell.strip() for cell in cells)
    problems = []
    if not name:
        problems.append(("", "姓名不能为空"))
    elif len(name) > 50:
        problems.append((name, "姓名超过50个字符"))
    for value, limit, label in ((relation, 10, "与户主关系"), (ethnicity, 20, "民族")):
        if len(value) > limit:
            problems.append((value, f"{label}超过{limit}个字符"))
    number = number.replace(" ", "").upper()
    record = None
    problem = idcard.problem(number) if number else "身份证号不能为空"
    if problem:
        problems.append((mask_id_number(number), problem))
    else:
        birth, sex = idcard.birth_date(number), idcard.sex(number)
        if birth > today:
            problems.append((mask_id_number(number), "身份证号中的出生日期晚于今天"))
        if born and dt.date.fromisoformat(born) != birth:
            problems.append((born, "出生日期与身份证号不一致"))
        if gender and _GENDERS.get(gender) != sex:
            problems.append((gender, "性别与身份证号不一致" if gender in _GENDERS else "性别应为“男”或“女”"))
        record = {"name": name, "id_number": number, "id_digest": id_digest(key, number), "gender": sex,
                  "birth_date": birth}
    if phone and not (_MOBILE.match(phone) or _LANDLINE.match(phone)):
        problems.append((mask_phone(phone), "联系电话格式不正确：应为11位手机号码或带区号的固定电话"))
    if residency and residency not in _RESIDENCY:
        problems.append((residency, "人口类型应为“户籍”或“流动”"))
    known = False
    if not (region.isdigit() and len(region) in (12, 15)):
        problems.append((region, "区划代码应为12位（村、社区）或15位（组）数字"))
    elif region not in regions:
        problems.append((region, f"区划代码 {region} 不存在"))
    elif regions[region] not in ("village", "group"):
        problems.append((region, f"区划代码 {region} 不是村(社区)或组一级的代码"))
    else:
        known = True
    grid_id = None
    if grid_code:
        grid_id, grid_region = grids.get(grid_code, (None, None))
        if grid_id is None:
            problems.append((grid_code, f"网格编码 {grid_code} 不存在"))
        elif known and not (prefix(grid_region).startswith(prefix(region))
                            or prefix(region).startswith(prefix(grid_region))):
            problems.append((grid_code, f"网格 {grid_code} 不在区划 {region} 内"))
    if problems:
        return None, problems
    record.update(phone=phone or None, household_id=None, relation=relation,
                  residency=_RESIDENCY.get(residency, "registered"), ethnicity=ethnicity or "汉族",
                  grid_id=grid_id, region_code=region)
    return record, problems


# -- the figure -------------------------------------------------------------------------------------------------

def _stored(platform: Platform) -> list[tuple]:
    with platform.db.session() as session:
        return [tuple(row) for row in session.execute(select(*STORED).where(Resident.name != "已登记")
                                                      .order_by(Resident.id_digest))]


def _clear(platform: Platform) -> None:
    with platform.db.session() as session:
        session.execute(delete(Resident).where(Resident.name != "已登记"))


def figures(url: str, scale, rounds: int | None = None) -> list[Figure]:
    rows = scale.import_rows
    rounds = rounds or (3 if rows <= 50_000 else 1)
    platform = Platform(url)
    build_city(platform)
    today = city.today()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "residents.csv"
        register(platform, write_file(path, rows))
        report = Path(folder) / "report.csv"
        sides = {"ours": lambda: sorted({(error.row, error.value, error.message) for error in import_file(
                     platform, "residents", path, today=today, report_path=report).errors}),
                 "baseline": lambda: sorted(set(hand_written(platform, path, today)))}
        answers = {}
        best = best_times(sides, rounds, before=lambda: _clear(platform),
                          after=lambda side, refused: answers.__setitem__(side, (_stored(platform), refused)))
    platform.close()
    stored, refused = answers["ours"]
    assert answers["ours"] == answers["baseline"], "the hand-written import stored or refused other rows"
    return [Figure(f"resident import, {rows:,} CSV rows", rows / best["ours"], rows / best["baseline"], "rows/s",
                   0.5, True, note="baseline: csv.reader, the same checks and digests, Core executemany inserts "
                                   "in one transaction",
                   extra={"imported": len(stored), "rejected": len({row for row, *_ in refused})})]


if __name__ == "__main__":
    run_alone(figures, __doc__)
