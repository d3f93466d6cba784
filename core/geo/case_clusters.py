"""Cases counted by region for a map zoomed out (issue #20): at a city's volume a city view cannot draw a year of
markers, so the map draws one numbered circle per county, township or village instead, and markers only from
`MARKERS_FROM_ZOOM` on, where the box holds a street's cases.

The counts are one GROUP BY over the cases in the viewer's scope (core.scope), on the prefix of their region code
(a region's code starts with its parent's significant prefix, core/geo/regions.py), with the same filters as the
case markers (`features.located_cases`: bbox, open or recent), so a circle's number is the markers it stands for.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from minqing.core import scope
from minqing.core.actors import Actor
from minqing.core.geo.features import FINAL, BBox, feature_collection, located_cases
from minqing.core.geo.geojson import DECIMALS
from minqing.core.geo.regions import SIGNIFICANT
from minqing.core.models import Case, Region

# (first zoom of a level, level): the map shows its outlines of counties below zoom 11 and townships from 11
CLUSTER_LEVELS = ((0, "county"), (11, "township"), (13, "village"))
MARKERS_FROM_ZOOM = 15
LEVELS = tuple(level for _, level in CLUSTER_LEVELS)


def level_for_zoom(zoom: int) -> str:
    return [level for first, level in CLUSTER_LEVELS if zoom >= first][-1]


def next_zoom(level: str) -> int:
    """The zoom at which the map shows what a circle of `level` holds: the next level's circles, or markers."""
    index = LEVELS.index(level)
    return CLUSTER_LEVELS[index + 1][0] if index + 1 < len(CLUSTER_LEVELS) else MARKERS_FROM_ZOOM


def case_clusters(session: Session, viewer: Actor, *, level: str, now: dt.datetime, bbox: BBox | None = None,
                  since: dt.datetime | None = None) -> dict:
    """A FeatureCollection of one Point per region of `level` holding cases the viewer may see (in `bbox`, open
    or reported since `since`): at the mean position of those cases, with their number, how many are open and how
    many overdue, the region's code and name. `numberMatched` counts the regions, `casesMatched` the cases."""
    length = SIGNIFICANT[level]
    prefix = func.substr(Case.region_code, 1, length).label("prefix")
    is_open = Case.status.not_in(FINAL)
    statement = located_cases(select(
        prefix, func.count().label("count"),
        func.sum(case((is_open, 1), else_=0)).label("open"),
        func.sum(case((and_(is_open, Case.state_deadline_at < now), 1), else_=0)).label("overdue"),
        func.avg(Case.lon).label("lon"), func.avg(Case.lat).label("lat")), bbox=bbox, since=since)
    rows = session.execute(scope.restrict(statement, Case, viewer).group_by(prefix).order_by(prefix)).all()
    codes = {row.prefix: row.prefix.ljust(12, "0") for row in rows}
    names = dict(session.execute(select(Region.code, Region.name).where(Region.code.in_(set(codes.values())))).all())
    features = [{
        "type": "Feature", "id": codes[row.prefix],
        "geometry": {"type": "Point", "coordinates": [round(row.lon, DECIMALS), round(row.lat, DECIMALS)]},
        "properties": {"region_code": codes[row.prefix], "name": names.get(codes[row.prefix], ""), "level": level,
                       "count": row.count, "open": int(row.open or 0), "overdue": int(row.overdue or 0),
                       "zoom_in": next_zoom(level)},
    } for row in rows]
    body = feature_collection(features, matched=len(features))
    body["casesMatched"] = sum(row.count for row in rows)
    return body
