"""`minqing export grids -o FILE.geojson`: every grid as an RFC 7946 FeatureCollection with the properties the
grid import reads (code, name, level, region_code, parent_code), so an export imports again unchanged."""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from ..geo import geojson
from ..models import Grid

_LEVEL_ORDER = case({"large": 0, "medium": 1, "small": 2}, value=Grid.level)


def grid_features(session: Session) -> list[dict]:
    """Parents before children (large, medium, small), by code within a level."""
    rows = session.execute(select(Grid.id, Grid.code, Grid.name, Grid.level, Grid.region_code, Grid.parent_id,
                                  Grid.geometry, Grid.dedicated).order_by(_LEVEL_ORDER, Grid.code)).all()
    codes = {row.id: row.code for row in rows}
    return [{"type": "Feature",
             "properties": {"code": row.code, "name": row.name, "level": row.level, "region_code": row.region_code,
                            "parent_code": codes.get(row.parent_id) or "", "dedicated": "是" if row.dedicated else "否"},
             "geometry": geojson.geometry(row.geometry)} for row in rows]   # the one GeoJSON writer (RFC 7946)


def export_grids(session: Session, path: str | Path) -> int:
    """Write the grids to `path` (through a temporary file, so a failed export leaves no half file); their count."""
    path = Path(path)
    features = grid_features(session)
    partial = path.with_name(path.name + ".part")
    try:
        with open(partial, "w", encoding="utf-8") as handle:
            handle.write('{"type": "FeatureCollection", "features": [\n')
            for index, feature in enumerate(features):
                handle.write(("," if index else "") + json.dumps(feature, ensure_ascii=False,
                                                                 separators=(",", ":")) + "\n")
            handle.write("]}\n")
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return len(features)
