"""`minqing import regions FILE`: the city's division tree 市-县(区)-乡镇(街道)-村(社区)-组 from a CSV, XLSX or GeoJSON
file (GeoJSON adds each region's outline, which grids are then checked against).

Re-import renames regions and adds new ones; it never deletes or moves one (cases, people and grids refer to
regions by code, and a code says where a region sits)."""
from __future__ import annotations

from sqlalchemy import insert, select

from .. import counters
from ..changes import record_change
from ..models import Region
from minqing.core.geo.integrity import GRIDS_COUNTER
from minqing.core.geo.regions import LEVEL_NAMES, LEVELS, code_problem, level_of, prefix
from . import columns as C
from .city import Kind, feature_rows, is_geojson, table_rows
from .geometry import bbox, parse_outline

COLUMNS = (
    C.Column("code", "区划代码", ("代码", "统计用区划代码", "行政区划代码", "code"), required=True),
    C.Column("name", "名称", ("区划名称", "name"), required=True, max_length=100),
    C.Column("level", "层级", ("级别", "区划层级", "level"), required=True),
    C.Column("parent_code", "上级代码", ("上级区划代码", "上级区划", "parent", "parent_code", "parentcode")),
)

LEVEL_ALIASES = {
    "city": "city", "市": "city", "地级市": "city", "市级": "city",
    "county": "county", "县": "county", "区": "county", "县区": "county", "县(区)": "county", "县级": "county",
    "township": "township", "乡镇": "township", "乡": "township", "镇": "township", "街道": "township",
    "乡镇(街道)": "township", "乡级": "township",
    "village": "village", "村": "village", "社区": "village", "村(社区)": "village", "村级": "village",
    "group": "group", "组": "group", "村民小组": "group", "居民小组": "group",
}
LEVEL_CHOICES = "city、county、township、village 或 group（也可写 市、县(区)、乡镇(街道)、村(社区)、组）"


def urban(code: str, level: str, parent_urban: bool) -> bool:
    """街道 and 社区 by the statistical numbering (街道 001-099, 居委会 001-199); a group follows its village."""
    if level == "township":
        return code[6:9] < "100"
    if level == "village":
        return code[9:12] < "200"
    return parent_urban if level == "group" else False


class _Row:
    __slots__ = ("where", "code", "name", "level", "parent_code", "outline")

    def __init__(self, where, code, name, level, parent_code, outline):
        self.where, self.code, self.name, self.level = where, code, name, level
        self.parent_code, self.outline = parent_code, outline


class Regions(Kind):
    name, label = "regions", "区划"

    def check(self, session) -> None:
        self.existing = {region.code: region for region in session.scalars(select(Region))}
        codes_by_id = {region.id: region.code for region in self.existing.values()}
        self.existing_parent = {code: codes_by_id.get(region.parent_id) for code, region in self.existing.items()}
        rows = feature_rows(self.path, COLUMNS) if is_geojson(self.path) else table_rows(self.path, COLUMNS)
        self.rows: dict[str, _Row] = {}
        parsed = []
        for where, cells, geometry in rows:
            self.summary.checked += 1
            row = self._parse(where, cells, geometry)
            if row is not None:
                parsed.append(row)
        for row in parsed:
            self._check_parent(row)
            self._check_existing(row)

    def _parse(self, where: int, cells: dict, geometry) -> _Row | None:
        code, name = cells.get("code", ""), cells.get("name", "")
        level_text, parent = cells.get("level", ""), cells.get("parent_code", "") or None
        problems = len(self.summary.problems)
        if not name:
            self.fail(where, code, "name", "名称不能为空")
        elif len(name) > 100:
            self.fail(where, code, "name", "名称超过100个字符")
        level = LEVEL_ALIASES.get(level_text.lower().replace("（", "(").replace("）", ")"))
        if level is None:
            return self._fail(where, code, "level", f"层级“{level_text}”无效：应为{LEVEL_CHOICES}")
        if not code:
            return self._fail(where, code, "code", "区划代码不能为空")
        width = 15 if level == "group" else 12
        if not code.isdigit() or len(code) != width:
            return self._fail(where, code, "code", f"{LEVEL_NAMES[level]}的区划代码应为{width}位数字")
        if level_of(code) != level:
            return self._fail(where, code, "level", f"区划代码 {code} 是{LEVEL_NAMES[level_of(code)]}一级的代码，"
                                                   f"与层级“{LEVEL_NAMES[level]}”不符")
        if code in self.rows:
            return self._fail(where, code, "code", f"区划代码与第{self.rows[code].where}行重复")
        outline = None
        if geometry is not None:
            outline, problem = parse_outline(geometry)
            if problem:
                self.fail(where, code, "geometry", problem)
        row = _Row(where, code, name, level, parent, outline)
        self.rows[code] = row   # even with a bad name: its children should not also fail for a missing parent
        return row if len(self.summary.problems) == problems else None

    def _fail(self, where: int, code: str, field: str, message: str) -> None:
        """Record a problem that stops the row here (nothing else can be checked without it)."""
        self.fail(where, code, field, message)

    def _check_parent(self, row: _Row) -> None:
        code, parent = row.code, row.parent_code
        if row.level == "city":
            if parent:
                self.fail(row.where, code, "parent_code", "市级区划不能有上级")
            cities = [other for other, region in self.existing.items() if region.level == "city" and other != code]
            if cities:
                self.fail(row.where, code, "code", f"数据库中已有市级区划 {cities[0]}：一个平台只管一个市")
            return
        wanted = LEVELS[LEVELS.index(row.level) - 1]
        if not parent:
            self.fail(row.where, code, "parent_code", f"{LEVEL_NAMES[row.level]}必须填写上级区划代码")
            return
        parent_level = (self.rows[parent].level if parent in self.rows else
                        self.existing[parent].level if parent in self.existing else None)
        if parent_level is None:
            self.fail(row.where, code, "parent_code", f"上级区划 {parent} 不存在（文件和数据库中都没有）")
        elif parent_level != wanted:
            self.fail(row.where, code, "parent_code", f"上级区划 {parent} 是{LEVEL_NAMES[parent_level]}，"
                                                      f"{LEVEL_NAMES[row.level]}的上级应为{LEVEL_NAMES[wanted]}")
        elif not code.startswith(prefix(parent)):
            self.fail(row.where, code, "parent_code", f"区划代码 {code} 应以上级代码 {parent} 的前缀 "
                                                      f"{prefix(parent)} 开头")
        else:
            problem = code_problem(code, row.level, parent)  # the rule the database enforces on every flush
            if problem:
                self.fail(row.where, code, "code", problem)

    def _check_existing(self, row: _Row) -> None:
        if row.code not in self.existing:
            return
        before = self.existing_parent[row.code]
        if before != row.parent_code:
            self.fail(row.where, row.code, "parent_code",
                      f"不能更改已有区划的上级：数据库中为 {before or '无'}，文件中为 {row.parent_code or '无'}")

    # -- writing ------------------------------------------------------------------------------------------------

    def apply(self, session) -> None:
        summary = self.summary
        for name in ("added", "renamed", "outlines", "unchanged"):
            summary.counts[name] = 0
        by_level = sorted(self.rows.values(), key=lambda row: (LEVELS.index(row.level), row.where))
        self.added: dict[str, tuple[int, bool]] = {}   # code → (id, urban) of the regions added by this import
        for level in LEVELS:
            new = []
            for row in (row for row in by_level if row.level == level):
                if row.code in self.existing:
                    self._update(row)
                else:
                    new.append(self._record(row))
            session.flush()
            # Bulk INSERTs, with and without an outline (a missing outline is SQL NULL, not JSON null): every
            # row passed `code_problem` in `check`, the rule of the flush hook they bypass.
            for part in ([record for record in new if "geometry" in record],
                         [record for record in new if "geometry" not in record]):
                if part:
                    ids = session.scalars(insert(Region).returning(Region.id, sort_by_parameter_order=True),
                                          part).all()
                    self.added.update((record["code"], (region_id, record["urban"]))
                                      for record, region_id in zip(part, ids))
            summary.count("added", len(new))
        if summary.counts["added"]:
            counters.bump(session, GRIDS_COUNTER)   # bulk inserts bypass the flush hook that bumps it (map caches)
        summary.written = bool(summary.counts["added"] or summary.counts["renamed"] or summary.counts["outlines"])
        if summary.written:
            record_change(session, self.actor, "import", object_type="regions", object_id=self.path.name,
                          summary=f"导入区划：新增{summary.counts['added']}个，更名{summary.counts['renamed']}个，"
                                  f"更新边界{summary.counts['outlines']}个",
                          details={"file": self.path.name, **summary.counts})

    def _record(self, row: _Row) -> dict:
        """A new region as a row to insert; its parent is in the database or was added at the level above."""
        parent_id, parent_urban = None, False
        if row.parent_code in self.added:
            parent_id, parent_urban = self.added[row.parent_code]
        elif row.parent_code in self.existing:
            parent = self.existing[row.parent_code]
            parent_id, parent_urban = parent.id, bool(parent.urban)
        record = {"code": row.code, "name": row.name, "level": row.level, "parent_id": parent_id,
                  "urban": urban(row.code, row.level, parent_urban)}
        if row.outline is not None:
            record["geometry"] = row.outline
            record.update(zip(("min_lon", "min_lat", "max_lon", "max_lat"), bbox(row.outline)))
        return record

    def _update(self, row: _Row) -> None:
        region = self.existing[row.code]
        outline = row.outline
        changed = False
        if region.name != row.name:
            region.name = row.name
            self.summary.count("renamed")
            changed = True
        if outline is not None and region.geometry != outline:
            _set_outline(region, outline)
            self.summary.count("outlines")
            changed = True
        if not changed:
            self.summary.count("unchanged")


def _set_outline(region: Region, outline: dict) -> None:
    region.geometry = outline
    region.min_lon, region.min_lat, region.max_lon, region.max_lat = bbox(outline)
