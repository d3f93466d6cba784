"""`minqing import grids FILE.geojson`: the city's grids (大/中/小网格) from a GeoJSON FeatureCollection.

Checked per feature, naming the feature's code: a valid polygon (with where it self-intersects), its level and
parent (a small grid inside its medium grid, a medium grid inside its large grid, 5 m tolerance), its region
(imported before; the grid inside the outline of its region or the nearest region above that has one), and no
overlap above 1 m² with another grid of its level. Gaps are reported as warnings. Areas are measured in metres
in a local equal-area projection; the overlap search runs on an STRtree, so a city of 8,703 grids checks in
seconds.

Grids absent from the file are kept. A grid whose outline changed keeps its former outline with its validity
period (`grid_outline_history`), and the open cases and base data whose point now lies in another grid move to it.
"""
from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import shape
from sqlalchemy import insert, select
from tqdm import tqdm

from .. import counters
from ..changes import record_change
from minqing.core.geo.integrity import GRIDS_COUNTER
from ..models import Grid, GridOutline, Region, utcnow
from minqing.core.geo.regions import prefix
from . import columns as C
from .city import Kind, feature_rows
from .geometry import Metric, parse_polygon, to_geojson
from .readers import ImportFileError
from .relocate import relocate

COLUMNS = (
    C.Column("code", "网格编码", ("网格编号", "网格代码", "编码", "code"), required=True),
    C.Column("name", "网格名称", ("名称", "name"), required=True),
    C.Column("level", "网格层级", ("层级", "级别", "level"), required=True),
    C.Column("region_code", "区划代码", ("所属区划", "所属区划代码", "region", "region_code", "regioncode")),
    C.Column("parent_code", "上级网格", ("上级网格编码", "上级网格代码", "parent", "parent_code", "parentcode")),
    C.Column("dedicated", "专属网格", ("是否专属网格", "dedicated")),
)
DEDICATED = {"是": True, "否": False, "true": True, "false": False, "yes": True, "no": False, "1": True, "0": False}
LEVELS = ("large", "medium", "small")
LEVEL_NAMES = {"large": "大网格", "medium": "中网格", "small": "小网格"}
LEVEL_ALIASES = {"large": "large", "大网格": "large", "大": "large", "medium": "medium", "中网格": "medium",
                 "中": "medium", "small": "small", "小网格": "small", "小": "small"}
TOLERANCE_M = 5.0       # a child may stick out of its parent by this much (surveys of one border rarely agree)
OVERLAP_M2 = 1.0        # overlaps up to this area are rounding noise, not an error
GAP_M2 = 100.0          # smaller gaps are slivers between borders digitised separately: not worth a warning


class _Grid:
    """A grid as it will be after the import: from the file (`where` set) or kept from the database."""

    __slots__ = ("where", "code", "name", "level", "region_code", "parent_code", "shape", "metric", "id",
                 "stored", "dedicated")

    def __init__(self, where, code, name, level, region_code, parent_code, shape_, grid_id=None, stored=None,
                 dedicated=None):
        self.where, self.code, self.name, self.level = where, code, name, level
        self.region_code, self.parent_code, self.shape = region_code, parent_code, shape_
        self.id, self.stored, self.metric = grid_id, stored, None
        self.dedicated = dedicated   # 专属网格; None: the file does not say (a stored grid keeps its flag)


class Grids(Kind):
    name, label = "grids", "网格"

    # -- checking -----------------------------------------------------------------------------------------------

    def check(self, session) -> None:
        if self.path.suffix.lower() in (".gpkg", ".shp"):
            raise ImportFileError("暂不支持 .gpkg/.shp：请先转换为 GeoJSON（如 ogr2ogr -f GeoJSON out.geojson in.shp）")
        self.regions = {code: (region_id, level, parent_id, geometry) for region_id, code, level, parent_id, geometry
                        in session.execute(select(Region.id, Region.code, Region.level, Region.parent_id,
                                                  Region.geometry))}
        self.region_codes = {value[0]: code for code, value in self.regions.items()}
        self.existing = self._existing(session)
        self.file: dict[str, _Grid] = {}
        features = list(feature_rows(self.path, COLUMNS))
        for where, cells, geometry in tqdm(features, desc="检查网格", unit="个", disable=not self.show_progress):
            self.summary.checked += 1
            self._parse(where, cells, geometry)
        self.final = {**self.existing, **self.file}
        for grid in self.file.values():
            self._check_relations(grid)
        usable = [grid for grid in self.final.values() if grid.shape is not None]
        metric = Metric.around([grid.shape for grid in usable])
        for grid, projected in zip(usable, metric.project([grid.shape for grid in usable])):
            grid.metric = projected
        self.metric = metric
        self._check_nesting()
        self._check_region_outlines()
        for level in LEVELS:
            self._check_overlaps(level)
        self._report_gaps()

    def _existing(self, session) -> dict[str, _Grid]:
        rows = session.execute(select(Grid.id, Grid.code, Grid.name, Grid.level, Grid.region_code, Grid.parent_id,
                                      Grid.geometry, Grid.dedicated)).all()
        codes = {row.id: row.code for row in rows}
        return {row.code: _Grid(None, row.code, row.name, row.level, row.region_code, codes.get(row.parent_id),
                                shape(row.geometry), row.id, row.geometry, row.dedicated) for row in rows}

    def _parse(self, where: int, cells: dict, geometry) -> None:
        code, name = cells.get("code", ""), cells.get("name", "")
        if not code:
            self.fail(where, "", "code", "网格编码不能为空")
            return
        if len(code) > 32:
            self.fail(where, code, "code", "网格编码超过32个字符")
            return
        if code in self.file:
            self.fail(where, code, "code", f"网格编码与第{self.file[code].where}个要素重复")
            return
        if not name:
            self.fail(where, code, "name", "网格名称不能为空")
        elif len(name) > 100:
            self.fail(where, code, "name", "网格名称超过100个字符")
        level_text = cells.get("level", "")
        level = LEVEL_ALIASES.get(level_text.lower())
        if level is None:
            self.fail(where, code, "level", f"网格层级“{level_text}”无效：应为 large、medium 或 small（大/中/小网格）")
        polygon, problem = parse_polygon(geometry)
        if problem:
            self.fail(where, code, "geometry", problem)
        flag = cells.get("dedicated", "")
        dedicated = DEDICATED.get(flag.lower()) if flag else None
        if flag and dedicated is None:
            self.fail(where, code, "dedicated", f"专属网格“{flag}”无效：应为 是 或 否（也可留空）")
        self.file[code] = _Grid(where, code, name, level, cells.get("region_code", ""),
                                cells.get("parent_code", "") or None, polygon, dedicated=dedicated)

    def _check_relations(self, grid: _Grid) -> None:
        where, code = grid.where, grid.code
        before = self.existing.get(code)
        if before is not None and grid.level and before.level != grid.level:
            self.fail(where, code, "level", f"不能更改已有网格的层级：数据库中为{LEVEL_NAMES[before.level]}")
        region = self.regions.get(grid.region_code)
        if not grid.region_code:
            self.fail(where, code, "region_code", "区划代码不能为空")
        elif region is None:
            self.fail(where, code, "region_code", f"区划 {grid.region_code} 不存在：请先导入区划")
        if grid.level is None:
            return
        if grid.level == "large":
            if grid.parent_code:
                self.fail(where, code, "parent_code", "大网格不能有上级网格")
            return
        wanted = LEVELS[LEVELS.index(grid.level) - 1]
        parent = self.final.get(grid.parent_code) if grid.parent_code else None
        if not grid.parent_code:
            self.fail(where, code, "parent_code", f"{LEVEL_NAMES[grid.level]}必须填写上级网格（{LEVEL_NAMES[wanted]}）")
        elif parent is None:
            self.fail(where, code, "parent_code", f"上级网格 {grid.parent_code} 不存在（文件和数据库中都没有）")
        elif parent.level != wanted:
            self.fail(where, code, "parent_code", f"上级网格 {grid.parent_code} 是{LEVEL_NAMES.get(parent.level, '未知层级')}，"
                                                  f"{LEVEL_NAMES[grid.level]}的上级应为{LEVEL_NAMES[wanted]}")
        elif region is not None and parent.region_code in self.regions \
                and not prefix(grid.region_code).startswith(prefix(parent.region_code)):
            self.fail(where, code, "region_code", f"区划 {grid.region_code} 不在上级网格 {parent.code} 的区划 "
                                                  f"{parent.region_code} 内")

    def _check_nesting(self) -> None:
        """Every child inside its parent (with the tolerance), where the child or the parent comes from the file."""
        pairs = [(child, self.final[child.parent_code]) for child in self.final.values()
                 if child.level in ("medium", "small") and child.parent_code in self.final
                 and child.metric is not None
                 and self.final[child.parent_code].metric is not None
                 and (child.where is not None or self.final[child.parent_code].where is not None)
                 and self.final[child.parent_code].level == LEVELS[LEVELS.index(child.level) - 1]]
        if not pairs:
            return
        children = np.array([child.metric for child, _ in pairs], dtype=object)
        buffered: dict[str, object] = {}   # each parent buffered once, not once per child
        for _child, parent in pairs:
            if parent.code not in buffered:
                buffered[parent.code] = parent.metric
        codes = list(buffered)
        buffered = dict(zip(codes, shapely.buffer(np.array(list(buffered.values()), dtype=object), TOLERANCE_M)))
        parents = np.array([buffered[parent.code] for _, parent in pairs], dtype=object)
        inside = shapely.covers(parents, children)
        for (child, parent), ok in zip(pairs, inside.tolist()):
            if ok:
                continue
            outside = self.metric.area([shapely.difference(child.shape, parent.shape)])[0]
            if child.where is not None:
                self.fail(child.where, child.code, "geometry", f"超出上级网格 {parent.code} 的边界约 {outside:.1f} 平方米"
                                                               f"（允许误差 {TOLERANCE_M:g} 米）")
            else:
                self.fail(parent.where, parent.code, "geometry", f"下级网格 {child.code} 超出本网格边界约 "
                                                                 f"{outside:.1f} 平方米（允许误差 {TOLERANCE_M:g} 米）")

    def _outline_of(self, region_code: str) -> tuple[str, dict] | None:
        """The region's outline or that of the nearest region above it that has one."""
        seen = 0
        while region_code in self.regions and seen < 6:
            region_id, _level, parent_id, geometry = self.regions[region_code]
            if geometry:
                return region_code, geometry
            region_code, seen = self.region_codes.get(parent_id), seen + 1
        return None

    def _check_region_outlines(self) -> None:
        outlines: dict[str, object] = {}
        for grid in self.file.values():
            if grid.metric is None:
                continue
            found = self._outline_of(grid.region_code)
            if found is None:
                continue
            code, geometry = found
            if code not in outlines:
                outlines[code] = shapely.buffer(self.metric.project([shape(geometry)])[0], TOLERANCE_M)
            if not shapely.covers(outlines[code], grid.metric):
                outside = self.metric.area([shapely.difference(grid.shape, shape(geometry))])[0]
                self.fail(grid.where, grid.code, "geometry", f"超出区划 {code} 的边界约 {outside:.1f} 平方米"
                                                             f"（允许误差 {TOLERANCE_M:g} 米）")

    def _check_overlaps(self, level: str) -> None:
        """Overlaps between grids of one level, found on an STRtree, where at least one grid is in the file."""
        grids = [grid for grid in self.final.values() if grid.level == level and grid.shape is not None]
        if len(grids) < 2:
            return
        shapes = np.array([grid.shape for grid in grids], dtype=object)
        tree = shapely.STRtree(shapes)
        mine = np.array([index for index, grid in enumerate(grids) if grid.where is not None], dtype=np.int64)
        if not len(mine):
            return
        left, right = tree.query(shapes[mine], predicate="intersects")
        left = mine[left]
        keep = left != right
        left, right = left[keep], right[keep]
        pairs = np.unique(np.sort(np.column_stack((left, right)), axis=1), axis=0)
        if len(pairs):   # neighbours that only share a border have no overlap to measure (the common case)
            pairs = pairs[shapely.relate_pattern(shapes[pairs[:, 0]], shapes[pairs[:, 1]], "T********")]
        if not len(pairs):
            return
        areas = self.metric.area(shapely.intersection(shapes[pairs[:, 0]], shapes[pairs[:, 1]]))
        for (a, b), area in zip(pairs.tolist(), areas.tolist()):
            if area <= OVERLAP_M2:
                continue
            first, second = grids[a], grids[b]
            if second.where is None or (first.where is not None and first.where > second.where):
                first, second = second, first   # the problem goes to a feature of the file, the later one
            self.fail(second.where, second.code, "geometry",
                      f"与{LEVEL_NAMES[level]} {first.code} 重叠约 {area:.1f} 平方米（超过 {OVERLAP_M2:g} 平方米）")

    def _report_gaps(self) -> None:
        """Warnings: parts of a large or medium grid (or of a region's outline) that no grid below covers, where
        the file touches that grid or one of its children."""
        children: dict[str, list[_Grid]] = {}
        for grid in self.final.values():
            if grid.parent_code in self.final and grid.shape is not None:
                children.setdefault(grid.parent_code, []).append(grid)
        wholes = []   # (what, whole, parts)
        for code in sorted(children):
            parent = self.final[code]
            if parent.shape is not None and (parent.where is not None
                                             or any(child.where is not None for child in children[code])):
                wholes.append((f"{LEVEL_NAMES.get(parent.level, '网格')} {code}", parent.shape,
                               [child.shape for child in children[code]]))
        outlined = {found[0] for found in (self._outline_of(grid.region_code) for grid in self.file.values()
                                           if grid.level == "large") if found}
        # a region's outline against every large grid inside it (a county's, not only those of its own code)
        large = [grid for grid in self.final.values() if grid.level == "large" and grid.shape is not None]
        tops = {code: [grid.shape for grid in large if grid.region_code.startswith(prefix(code))]
                for code in outlined}
        for code, parts in sorted(tops.items()):
            wholes.append((f"区划 {code}", shape(self._outline_of(code)[1]), parts))
        if not wholes:
            return
        gaps = [shapely.difference(whole, shapely.union_all(np.array(parts, dtype=object)))
                for _what, whole, parts in wholes]
        uncovered = self.metric.area(gaps)
        totals = self.metric.area([whole for _what, whole, _parts in wholes])
        for (what, _whole, _parts), gap, total in zip(wholes, uncovered.tolist(), totals.tolist()):
            if gap > GAP_M2:
                self.summary.warnings.append(f"{what} 有约 {gap:,.0f} 平方米（{gap / max(total, 1.0):.1%}）"
                                             f"未被下级网格覆盖")

    # -- writing ------------------------------------------------------------------------------------------------

    def apply(self, session) -> None:
        summary, now = self.summary, utcnow()
        for name in ("added", "updated", "redrawn", "unchanged"):
            summary.counts[name] = 0
        changed_bounds = []
        ids = {code: grid.id for code, grid in self.existing.items()}
        region_ids = {code: value[0] for code, value in self.regions.items()}
        for level in LEVELS:
            new = []
            for grid in (grid for grid in self.file.values() if grid.level == level):
                stored = self.existing.get(grid.code)
                if stored is None:
                    new.append(grid)
                    changed_bounds.append(grid.shape.bounds)
                    continue
                redrawn = not shapely.equals_exact(shapely.normalize(stored.shape), shapely.normalize(grid.shape),
                                                   tolerance=1e-7)
                if redrawn:
                    changed_bounds += [stored.shape.bounds, grid.shape.bounds]
                self._update(session, stored, grid, ids, region_ids, redrawn, now)
            if new:
                records = [self._record(grid, ids, region_ids, now) for grid in new]
                found = session.scalars(insert(Grid).returning(Grid.id, sort_by_parameter_order=True), records)
                ids.update(zip((grid.code for grid in new), found.all()))
                summary.count("added", len(new))
        session.flush()
        summary.written = bool(summary.counts["added"] or summary.counts["updated"] or summary.counts["redrawn"])
        if not summary.written:
            return
        counters.bump(session, GRIDS_COUNTER)  # bulk inserts bypass the flush hook that bumps it
        if changed_bounds:
            bounds = np.array(changed_bounds)
            box = (bounds[:, 0].min(), bounds[:, 1].min(), bounds[:, 2].max(), bounds[:, 3].max())
            grid_regions = dict(session.execute(select(Grid.id, Grid.region_code)).all())
            for name, count in relocate(session, box, grid_regions).items():
                summary.counts["moved_" + name] = count
        record_change(session, self.actor, "import", object_type="grids", object_id=self.path.name,
                      summary=f"导入网格：新增{summary.counts['added']}个，重绘{summary.counts['redrawn']}个，"
                              f"更新{summary.counts['updated']}个；事件改属网格{summary.counts.get('moved_cases', 0)}件，"
                              f"实有人口改属网格{summary.counts.get('moved_residents', 0)}人",
                      details={"file": self.path.name, **summary.counts})

    def _record(self, grid: _Grid, ids: dict, region_ids: dict, now) -> dict:
        min_lon, min_lat, max_lon, max_lat = grid.shape.bounds
        return {"code": grid.code, "name": grid.name, "level": grid.level, "parent_id": ids.get(grid.parent_code),
                "region_id": region_ids[grid.region_code], "region_code": grid.region_code,
                "dedicated": bool(grid.dedicated), "geometry": to_geojson(grid.shape), "outline_since": now,
                "min_lon": min_lon, "min_lat": min_lat, "max_lon": max_lon, "max_lat": max_lat}

    def _update(self, session, stored: _Grid, grid: _Grid, ids: dict, region_ids: dict, redrawn: bool, now) -> None:
        dedicated = stored.dedicated if grid.dedicated is None else grid.dedicated
        if (stored.name, stored.region_code, stored.parent_code, stored.dedicated) \
                == (grid.name, grid.region_code, grid.parent_code, dedicated) and not redrawn:
            self.summary.count("unchanged")
            return
        row = session.get(Grid, stored.id)
        attributes = {"name": grid.name, "region_code": grid.region_code, "region_id": region_ids[grid.region_code],
                      "parent_id": ids.get(grid.parent_code), "dedicated": dedicated}
        changed = {key: value for key, value in attributes.items() if getattr(row, key) != value}
        for key, value in changed.items():
            setattr(row, key, value)
        if changed:
            self.summary.count("updated")
        if redrawn:
            session.add(GridOutline(grid_id=row.id, geometry=row.geometry, valid_from=row.outline_since,
                                    valid_to=now, source=self.path.name[:200]))
            record = self._record(grid, ids, region_ids, now)
            for key in ("geometry", "outline_since", "min_lon", "min_lat", "max_lon", "max_lat"):
                setattr(row, key, record[key])
            self.summary.count("redrawn")
