"""应急管理 (emergency management): the 危化品和安全生产 theme, a computed layer of the grids that hold high-risk
places, and a dashboard figure of those places' overdue inspections.

The layer answers "where are the dangerous sites" at the scale commanders plan at (the grid), without putting
every site's exact position on the map; it is computed from the key places the viewer may see.
"""
from __future__ import annotations

import collections

from sqlalchemy import func, select

from minqing.core import city, scope
from minqing.core.hooks import hookimpl
from minqing.core.models import Grid, KeyPlace

from .. import theme_files

MINQING_TITLE = "应急管理 · 危化品和安全生产"  # what the admin page and `minqing plugins list` show
MINQING_DESCRIPTION = "危化品和安全生产主题，以及危化品网格图层。"

HIGH_RISK_CATEGORIES = ("危化品企业", "加油加气站", "燃气调压站", "烟花爆竹仓库", "矿山")
LAYER_KEY = "emergency.high_risk_grids"


@hookimpl
def register_themes():
    return theme_files.load(__name__)  # fresh documents: the caller may annotate what it is given


@hookimpl
def map_layers(viewer, session):
    def features(bbox, session):
        return high_risk_grid_features(session, viewer, bbox)

    return [{"key": LAYER_KEY, "title": "高风险场所网格", "department": "emergency", "geometry_type": "polygon",
             "style": {"color": "#c62828", "fillColor": "#ef5350", "weight": 1, "fillOpacity": 0.35},
             "features": features}]


def high_risk_grid_features(session, viewer, bbox=None) -> list[dict]:
    places = scope.restrict(select(KeyPlace.grid_id, KeyPlace.category)
                            .where(KeyPlace.category.in_(HIGH_RISK_CATEGORIES), KeyPlace.grid_id.is_not(None)),
                            KeyPlace, viewer)
    by_grid: dict[int, collections.Counter] = collections.defaultdict(collections.Counter)
    for grid_id, category in session.execute(places):
        by_grid[grid_id][category] += 1
    if not by_grid:
        return []
    grids = select(Grid).where(Grid.id.in_(list(by_grid)))
    if bbox is not None:
        min_lon, min_lat, max_lon, max_lat = bbox
        grids = grids.where(Grid.min_lon <= max_lon, Grid.max_lon >= min_lon,
                            Grid.min_lat <= max_lat, Grid.max_lat >= min_lat)
    features = []
    for grid in session.scalars(grids.order_by(Grid.code)):
        counts = by_grid[grid.id]
        features.append({"type": "Feature", "id": f"grid-{grid.id}", "geometry": grid.geometry,
                         "properties": {"grid_code": grid.code, "name": grid.name, "count": sum(counts.values()),
                                        "categories": dict(sorted(counts.items())),
                                        "summary": "、".join(f"{name}{n}处" for name, n in sorted(counts.items()))}})
    return features


@hookimpl
def dashboard_figures(viewer, session):
    today = city.today(session)
    base = scope.restrict(select(func.count()).select_from(KeyPlace)
                          .where(KeyPlace.category.in_(HIGH_RISK_CATEGORIES)), KeyPlace, viewer)
    total = session.scalar(base) or 0
    overdue = session.scalar(base.where(KeyPlace.next_visit_due < today)) or 0
    return [{"key": "emergency.high_risk_overdue", "title": "高风险场所检查逾期", "value": overdue, "unit": "处",
             "department": "emergency", "detail": f"高风险场所共 {total} 处，其中 {overdue} 处超过检查周期未检查"}]
