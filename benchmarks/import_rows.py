"""Import speed: residents from a generated CSV (or XLSX) file into a fresh database.

Builds a small city (one county, a township, 20 villages with a grid each), writes N residents with a share of
bad rows (bad checksums, bad phones, unknown region codes, duplicates in the file), some located by coordinates
instead of a region code, imports them with `minqing.core.importing.import_file` and prints rows per second.

    python benchmarks/import_rows.py [--rows 100000] [--batch 5000] [--xlsx] [--db URL] [--progress]
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import tempfile
import time
from pathlib import Path

from shapely.geometry import box, mapping

from minqing.core.privacy import idcard
from minqing.core.importing import import_file
from minqing.core.models import Grid, Region
from minqing.core.platform import Platform

VILLAGES = 20


def build_city(platform: Platform) -> None:
    with platform.db.session() as session:
        ids = {}
        plan = [("620100000000", "city", None), ("620102000000", "county", "620100000000"),
                ("620102001000", "township", "620102000000")]
        plan += [(f"620102001{n:03d}", "village", "620102001000") for n in range(1, VILLAGES + 1)]
        for code, level, parent in plan:
            region = Region(code=code, name=code, level=level, parent_id=ids.get(parent))
            session.add(region)
            session.flush()
            ids[code] = region.id
        for n in range(1, VILLAGES + 1):
            code = f"620102001{n:03d}"
            x = 103.80 + n * 0.01
            session.add(Grid(code=f"G{code}", name=code, level="small", region_id=ids[code], region_code=code,
                             geometry=mapping(box(x, 36.05, x + 0.01, 36.06))))


def write_rows(rows: int) -> list[list[str]]:
    out = []
    for n in range(rows):
        number = idcard.make("620102", dt.date(1950, 1, 1) + dt.timedelta(days=n // 450), (n % 450) * 2 + 1)
        village = f"620102001{n % VILLAGES + 1:03d}"
        phone, lon, lat = "13912345678", "", ""
        if n % 100 == 1:
            number = number[:17] + ("0" if number[17] != "0" else "1")
        elif n % 100 == 2:
            phone = "12345"
        elif n % 100 == 3:
            village = "620102001999"
        elif n % 100 == 4 and n > 4:
            number = out[n - 4][1]
        elif n % 10 == 5:  # located by coordinates
            village, lon, lat = "", f"{103.805 + (n % VILLAGES + 1) * 0.01:.4f}", "36.055"
        out.append([f"居民{n}", number, phone, village, lon, lat])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--xlsx", action="store_true", help="Write and read an XLSX file instead of CSV.")
    parser.add_argument("--db", default=None, help="Database URL of an EMPTY database (default: a temporary SQLite).")
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        platform = Platform(args.db or f"sqlite:///{folder / 'bench.db'}")
        platform.db.upgrade()
        build_city(platform)
        header = ["姓名", "身份证号", "联系电话", "区划代码", "经度", "纬度"]
        started = time.perf_counter()
        rows = write_rows(args.rows)
        if args.xlsx:
            from openpyxl import Workbook

            path = folder / "residents.xlsx"
            workbook = Workbook(write_only=True)
            sheet = workbook.create_sheet()
            sheet.append(header)
            for row in rows:
                sheet.append(row)
            workbook.save(path)
        else:
            path = folder / "residents.csv"
            with open(path, "w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(header)
                writer.writerows(rows)
        print(f"generated {args.rows:,} rows ({path.suffix}) in {time.perf_counter() - started:.1f} s")
        summary = import_file(platform, "residents", path, report_path=folder / "report.csv",
                              batch_size=args.batch, show_progress=args.progress)
        print(f"imported {summary.imported:,}, rejected {summary.rejected:,} ({len(summary.errors):,} report lines), "
              f"{summary.batches} batches, {summary.seconds:.1f} s, "
              f"{args.rows / max(summary.seconds, 1e-9):,.0f} rows/s on {platform.db.engine.dialect.name}")
        platform.close()


if __name__ == "__main__":
    main()
