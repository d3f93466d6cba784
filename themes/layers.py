"""Map layers: the record layer of each enabled theme, and the computed layers of the `map_layers` hook.

Who sees a layer is the theme's ``layer.visible_to`` (admins see every layer); which features of it they see
is `minqing.core.scope` — except on a layer shown to citizens, whose records are public by definition.
"""
from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from minqing.core.geo import features as geofeatures, geojson
from minqing.core import scope
from minqing.core.geo.geojson import Page
from minqing.core.actors import Actor
from minqing.core.models import Department, Role, ThemeRecord

from .registry import Theme, UnknownTheme, registry

log = logging.getLogger(__name__)
MAX_FEATURES = geojson.MAX_LIMIT
LABEL_FIELDS = ("title", "name", "label")


class LayerHidden(PermissionError):
    def __init__(self, key: str):
        super().__init__(f"无权查看图层“{key}”")
        self.key = key


def may_see(theme: Theme, viewer: Actor) -> bool:
    return viewer.has_role(Role.ADMIN) or viewer.has_role(*theme.layer["visible_to"])


def theme_layer(theme: Theme) -> dict:
    layer = theme.layer
    return {"key": theme.key, "title": theme.title, "department": theme.department, "plugin": theme.plugin,
            "kind": "theme", "geometry": layer["geometry"], "style": layer["style"], "source": layer["source"],
            "icon": theme.document.get("icon", ""), "colour": theme.document.get("colour", ""),
            "visible_to": layer["visible_to"]}


def _computed(platform, session: Session, viewer: Actor, registered: dict[str, Theme]) -> list[tuple[str, dict]]:
    """The hook's layers, without those that are the features of a plugin-sourced theme of the same plugin."""
    found = []
    for plugin, layer in platform.plugins.collect("map_layers", viewer=viewer, session=session):
        theme = registered.get(layer.get("key"))
        if theme is not None and theme.plugin == plugin:
            continue
        found.append((plugin, layer))
    return found


def visible_layers(platform, session: Session, viewer: Actor) -> list[dict]:
    """The layers `viewer` may see, grouped by department: ``[{"department", "name", "layers": [...]}]``."""
    registered = registry(platform, session).themes
    layers = [theme_layer(theme) for theme in registered.values() if may_see(theme, viewer)]
    for plugin, layer in _computed(platform, session, viewer, registered):
        layers.append({"key": layer["key"], "title": layer.get("title", layer["key"]),
                       "department": layer.get("department", ""), "plugin": plugin, "kind": "computed",
                       "geometry": layer.get("geometry_type", "point"), "style": dict(layer.get("style", {})),
                       "source": "plugin", "icon": layer.get("icon", ""), "colour": layer.get("style", {}).get(
                           "color", "")})
    names = dict(session.execute(select(Department.key, Department.short_name)).all())
    groups: dict[str, dict] = {}
    for layer in sorted(layers, key=lambda layer: (layer["department"], layer["key"])):
        group = groups.setdefault(layer["department"], {"department": layer["department"],
                                                        "name": names.get(layer["department"], layer["department"]),
                                                        "layers": []})
        group["layers"].append(layer)
    return list(groups.values())


def layer_features(platform, session: Session, theme_key: str, viewer: Actor, bbox=None,
                   limit: int = MAX_FEATURES) -> list[dict]:
    """GeoJSON Features of a layer within `bbox` ``(min_lon, min_lat, max_lon, max_lat)``, as `viewer` may see:
    the first `limit` of them (`layer_page` gives any page and how many there are).

    Raises UnknownTheme when no enabled theme or computed layer has that key, LayerHidden when the viewer's
    roles may not see it.
    """
    return layer_page(platform, session, theme_key, viewer, bbox, Page(limit=limit))["features"]


def layer_page(platform, session: Session, theme_key: str, viewer: Actor, bbox=None, page: Page = Page()) -> dict:
    """One page of a layer as a FeatureCollection that says how many features matched (`numberMatched`): the
    theme's records first (by id), then its cases (newest first). Raises like `layer_features`."""
    registered = registry(platform, session).themes
    theme = registered.get(theme_key)
    if theme is None:
        for plugin, layer in _computed(platform, session, viewer, registered):
            if layer.get("key") == theme_key:
                return _hook_page(plugin, layer, bbox, session, page)
        raise UnknownTheme(theme_key)
    if not may_see(theme, viewer):
        raise LayerHidden(theme_key)
    if theme.layer["source"] == "plugin":
        for plugin, layer in platform.plugins.collect("map_layers", viewer=viewer, session=session):
            if plugin == theme.plugin and layer.get("key") == theme_key:
                return _hook_page(plugin, layer, bbox, session, page)
        return geojson.collection([], matched=0)
    statement = select(ThemeRecord).where(ThemeRecord.theme_key == theme_key)
    if "citizen" not in theme.layer["visible_to"]:
        statement = scope.restrict(statement, ThemeRecord, viewer)
    if bbox is not None:
        min_lon, min_lat, max_lon, max_lat = bbox
        statement = statement.where(ThemeRecord.min_lon <= max_lon, ThemeRecord.max_lon >= min_lon,
                                    ThemeRecord.min_lat <= max_lat, ThemeRecord.max_lat >= min_lat)
    records_matched = session.scalar(select(func.count()).select_from(statement.subquery()))
    records = session.scalars(statement.order_by(ThemeRecord.id).offset(page.offset).limit(page.limit))
    features = [feature(record, theme) for record in records]
    matched = records_matched
    if theme.form("report") is not None or theme.categories:  # a theme that takes reports shows its cases too
        left = page.limit - len(features)
        cases = geofeatures.case_features(
            session, viewer, bbox=bbox, theme_key=theme_key,
            page=Page(limit=max(left, 1), offset=max(page.offset - records_matched, 0)))
        if left > 0:
            features.extend(_case_feature(item) for item in cases["features"])
        matched += cases["numberMatched"]
    return geojson.collection(features, matched=matched)


def _case_feature(item: dict) -> dict:
    """A case on its theme's layer; the id is prefixed so it cannot clash with a record's."""
    case_id = item["id"]
    return {**item, "id": f"case-{case_id}",
            "properties": {**item["properties"], "kind": "case", "case_id": case_id,
                           "label": item["properties"]["title"]}}


def _hook_page(plugin: str, layer: dict, bbox, session: Session, page: Page) -> dict:
    """A plugin layer's features, one page of them; a plugin that fails here shows an empty layer instead of
    breaking the map."""
    try:
        with session.begin_nested():  # a failed query of the plugin's rolls back to here, not the caller's work
            found = list(layer["features"](bbox, session))
    except Exception:
        log.exception("plugin %s failed to give the features of layer %s", plugin, layer.get("key"))
        found = []
    chosen = found[page.offset:page.offset + page.limit]
    return geojson.collection([{**item, "geometry": geojson.geometry(item.get("geometry"))} for item in chosen],
                              matched=len(found))


def feature(record: ThemeRecord, theme: Theme) -> dict:
    geometry = record.geometry
    if geometry is None and record.lon is not None and record.lat is not None:
        geometry = {"type": "Point", "coordinates": [record.lon, record.lat]}
    data = record.form_data or {}
    label = next((data[name] for name in LABEL_FIELDS if isinstance(data.get(name), str) and data[name]),
                 theme.title)
    return {"type": "Feature", "id": record.id, "geometry": geojson.geometry(geometry),
            "properties": {"id": record.id, "theme": record.theme_key, "theme_version": record.theme_version,
                           "label": label, "grid_id": record.grid_id, "region_code": record.region_code,
                           "updated_at": record.updated_at.isoformat() if record.updated_at else None}}
