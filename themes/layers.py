"""Map layers: the record layer of each enabled theme, and the computed layers of the `map_layers` hook.

Who sees a layer is the theme's ``layer.visible_to`` (admins see every layer); which features of it they see
is `minqing.core.scope` — except on a layer shown to citizens, whose records are public by definition.
"""
from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from minqing.core.geo import features as geofeatures, geojson
from minqing.core import scope
from minqing.core.clock import isoformat_local
from minqing.core.geo.geojson import Page
from minqing.core.actors import Actor
from minqing.core.models import Department, Role, ThemeRecord, ThemeVersion, utcnow
from minqing.core.privacy import masking

from . import patrols, records as ledger
from .registry import Theme, UnknownTheme, registry

log = logging.getLogger(__name__)
MAX_FEATURES = geojson.MAX_LIMIT
# What a record's feature shows, read as columns (`RecordFeatures` takes such a row or a ThemeRecord alike).
RECORD_COLUMNS = (ThemeRecord.id, ThemeRecord.theme_key, ThemeRecord.theme_version, ThemeRecord.form_data,
                  ThemeRecord.lon, ThemeRecord.lat, ThemeRecord.geometry, ThemeRecord.grid_id,
                  ThemeRecord.region_code, ThemeRecord.updated_at, ThemeRecord.created_at,
                  ThemeRecord.last_patrolled_at)
LABEL_FIELDS = ("title", "name", "label")


PATROL_LABELS = {"on_time": "按期巡查", "due_soon": "即将到期", "overdue": "巡查超期"}
BOOLEAN_VALUES = {"true": True, "false": False}


class BadFilter(ValueError):
    """A layer filter that names no filterable field of the theme's record form, or a value it does not offer;
    `parameter` is the query parameter at fault (``field`` or ``patrol``)."""

    def __init__(self, message: str, parameter: str = "field"):
        super().__init__(message)
        self.parameter = parameter


def paired_filters(keys: list[str], values: list[str]) -> dict[str, str]:
    """field key → value from the repeated ``field``/``value`` query parameters, paired by position (the web map
    and the REST API alike); BadFilter when they do not pair up or a key is empty."""
    if len(keys) != len(values):
        raise BadFilter("筛选条件 field 和 value 应成对给出")
    if any(not key for key in keys):
        raise BadFilter("筛选字段 field 不能为空（不筛选时请省略该参数）")
    return dict(zip(keys, values))


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
            "visible_to": layer["visible_to"], "records": theme.form("record") is not None,
            "patrol_every_days": theme.patrol_every_days, "filters": record_filters(theme)}


def record_filters(theme: Theme) -> list[dict]:
    """The fields of a theme's record form a layer can be filtered by: those with a fixed set of values (an
    ``enum`` of strings, or a boolean), each with its values and their labels."""
    form = theme.form("record") or {}
    found = []
    for key, spec in (form.get("properties") or {}).items():
        if not isinstance(spec, dict):
            continue
        title = spec.get("title") or key
        if spec.get("type") == "string" and isinstance(spec.get("enum"), list):
            found.append({"key": key, "title": title,
                          "values": [{"value": str(item), "label": str(item)} for item in spec["enum"]]})
        elif spec.get("type") == "boolean":
            found.append({"key": key, "title": title,
                          "values": [{"value": "true", "label": "是"}, {"value": "false", "label": "否"}]})
    return found


def patrol_soon_days(every_days: int) -> float:
    """How many days before its due date a record counts as due soon: the last fifth of its patrol period."""
    return every_days / 5


def patrol_status(every_days: int | None, last_seen: dt.datetime | None, now: dt.datetime) -> dict | None:
    """The patrol state of a record last seen (patrolled, or else created) at `last_seen`: ``{"status":
    "on_time" | "due_soon" | "overdue", "label", "due", "last"}``; None for a theme without a patrol period."""
    if not every_days or last_seen is None:
        return None
    last_seen = last_seen if last_seen.tzinfo else last_seen.replace(tzinfo=dt.UTC)
    due = last_seen + dt.timedelta(days=every_days)
    if due < now:
        status = "overdue"
    elif due - now <= dt.timedelta(days=patrol_soon_days(every_days)):
        status = "due_soon"
    else:
        status = "on_time"
    return {"status": status, "label": PATROL_LABELS[status], "due": isoformat_local(due),
            "last": isoformat_local(last_seen)}


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


def layer_page(platform, session: Session, theme_key: str, viewer: Actor, bbox=None, page: Page = Page(), *,
               filters: dict[str, str] | None = None, patrol: str | None = None,
               now: dt.datetime | None = None) -> dict:
    """One page of a layer as a FeatureCollection that says how many features matched (`numberMatched`): the
    theme's records first (by id), then its cases (newest first). Raises like `layer_features`.

    `filters` (field key → value, from `record_filters`) and `patrol` (``on_time``, ``due_soon``, ``overdue``)
    keep only the records that match, and no cases; a field or value the form does not offer raises BadFilter.
    Retired records are never on the map."""
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
    now = now or utcnow()
    statement = ledger.active(select(*RECORD_COLUMNS).where(ThemeRecord.theme_key == theme_key))
    statement = _filtered(statement, theme, filters or {}, patrol, now)
    if "citizen" not in theme.layer["visible_to"]:
        statement = scope.restrict(statement, ThemeRecord, viewer)
    if bbox is not None:
        min_lon, min_lat, max_lon, max_lat = bbox
        statement = statement.where(ThemeRecord.min_lon <= max_lon, ThemeRecord.max_lon >= min_lon,
                                    ThemeRecord.min_lat <= max_lat, ThemeRecord.max_lat >= min_lat)
    records_matched = session.scalar(select(func.count()).select_from(statement.subquery()))
    # columns through Core, not ORM objects: building 10,000 entities a page took most of its time
    records = session.connection().execute(statement.order_by(ThemeRecord.id).offset(page.offset)
                                           .limit(page.limit)).all()
    forms = _record_forms(session, theme_key, {record.theme_version for record in records})
    build = RecordFeatures(theme, viewer, forms, now)
    features = [build(record) for record in records]
    matched = records_matched
    if (theme.form("report") is not None or theme.categories) and not filters and not patrol:  # a theme that takes reports shows its cases too
        left = page.limit - len(features)
        rows, cases_matched = geofeatures.case_rows(
            session, viewer, bbox=bbox, theme_key=theme_key,
            page=Page(limit=max(left, 1), offset=max(page.offset - records_matched, 0)))
        if left > 0:
            features.extend(_case_feature(row) for row in rows)
        matched += cases_matched
    return geojson.collection(features, matched=matched)


def _case_feature(row) -> dict:
    """A case (a row of `geofeatures.CASE_COLUMNS`) on its theme's layer: its point as the map's cases show it;
    the id is prefixed so it cannot clash with a record's."""
    properties = geofeatures.case_properties(row)
    properties.update(kind="case", case_id=row.id, label=row.title)
    return {"type": "Feature", "id": f"case-{row.id}", "geometry": geofeatures.case_point(row),
            "properties": properties}


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


def _filtered(statement, theme: Theme, filters: dict[str, str], patrol: str | None, now: dt.datetime):
    offered = {item["key"]: {value["value"] for value in item["values"]} for item in record_filters(theme)}
    for key, value in filters.items():
        if key not in offered:
            raise BadFilter(f"筛选字段“{key}”不是图层“{theme.title}”可筛选的字段")
        if value not in offered[key]:
            raise BadFilter(f"筛选字段“{key}”没有取值“{value}”")
        field = ThemeRecord.form_data[key]
        kind = (theme.form("record") or {})["properties"][key].get("type")
        statement = statement.where(field.as_boolean() == BOOLEAN_VALUES[value] if kind == "boolean"
                                    else field.as_string() == value)
    if patrol:
        if patrol not in PATROL_LABELS:
            raise BadFilter("巡查状态应为 on_time、due_soon 或 overdue", "patrol")
        every = theme.patrol_every_days
        if not every:
            raise BadFilter(f"图层“{theme.title}”没有巡查周期", "patrol")
        seen = patrols.last_seen()
        overdue_before = now - dt.timedelta(days=every)       # last seen before this: overdue
        soon_before = overdue_before + dt.timedelta(days=patrol_soon_days(every))
        statement = statement.where({"overdue": seen < overdue_before,
                                     "due_soon": (seen >= overdue_before) & (seen <= soon_before),
                                     "on_time": seen > soon_before}[patrol])
    return statement


def _record_forms(session: Session, theme_key: str, versions: set[int]) -> dict[int, dict]:
    """theme version → its record form, for the versions given (a record is shown with the form it was filled
    in): only the versions of the records on the page are read."""
    if not versions:
        return {}
    rows = session.execute(select(ThemeVersion.version, ThemeVersion.document)
                           .where(ThemeVersion.theme_key == theme_key, ThemeVersion.version.in_(versions)))
    return {version: (document.get("forms") or {}).get("record") or {} for version, document in rows}


def _shown(viewer: Actor | None, spec: dict, value, key: str = "") -> str:
    """A form answer as text for the viewer: ID numbers and phones masked by their format, an address field
    (named by `key`) by the address rule, free text scrubbed."""
    from .records import shown_value   # the rule the ledger export shares (records imports no layers)
    return shown_value(viewer, spec, value, key)


def _ranked(form: dict, order: list[str] | None) -> list[str]:
    """The form's fields in the order a record's answers are shown: its ``ui:order``, else `order` (the theme
    document's own field order: a version read back from PostgreSQL's JSONB has its keys in JSONB's order, not the
    author's), else its properties' order."""
    properties = form.get("properties") or {}
    ranked = [key for key in form.get("ui:order") or order or properties if key in properties]
    return ranked + [key for key in properties if key not in ranked]


def _fields(properties: dict, ranked: list[str], data: dict, viewer: Actor | None) -> list[dict]:
    """The record's answers in `ranked` order, each ``{"key", "title", "value"}`` with its Chinese title and the
    value as the viewer may see it (answers no longer in the form come last, by key)."""
    keys = [key for key in ranked if key in data] + sorted(key for key in data if key not in properties)
    fields = []
    for key in keys:
        spec = properties.get(key) if isinstance(properties.get(key), dict) else {}
        text = _shown(viewer, spec, data[key], key)
        if text:
            fields.append({"key": key, "title": spec.get("title") or key, "value": text})
    return fields


def record_label(form: dict, data: dict, default: str) -> str:
    """What the record is called: its title, name or label field, else the first field named ``…_name`` (in the
    form's order; in the answers' order when no form is given). Unmasked: show it through `record_title` or
    ``masking.text_for``."""
    names = list(LABEL_FIELDS) + [key for key in (form.get("properties") or data) if key.endswith("_name")]
    return next((data[name] for name in names if isinstance(data.get(name), str) and data[name].strip()), default)


def record_title(viewer: Actor | None, record: ThemeRecord, form: dict | None = None) -> str:
    """The record's label (`record_label`, else its number) as `viewer` may see it: the one title of a record on
    lists, pages and panels."""
    label = record_label(form or {}, record.form_data or {}, f"记录 #{record.id}")
    return masking.text_for(viewer, label.strip()[:80])


class RecordFeatures:
    """Records as GeoJSON Features for one viewer: their geometry, label, form answers (masked for the viewer)
    and patrol state. What every record of a page shares (the current form and its field order, the forms of
    the versions on the page, the time) is worked out once, not once per record."""

    def __init__(self, theme: Theme, viewer: Actor | None = None, forms: dict[int, dict] | None = None,
                 now: dt.datetime | None = None):
        self.theme, self.viewer, self.now = theme, viewer, now or utcnow()
        self.current = theme.form("record") or {}
        self.forms = forms or {}
        self._order = list(self.current.get("properties") or ())
        self._ranked: dict[int, list[str]] = {}   # theme version → its form's fields in their order

    def __call__(self, record) -> dict:
        """`record`: a ThemeRecord, or a row of `RECORD_COLUMNS`."""
        data = record.form_data or {}
        form = self.forms.get(record.theme_version) or self.current
        ranked = self._ranked.get(record.theme_version)
        if ranked is None:
            ranked = self._ranked[record.theme_version] = _ranked(form, self._order)
        label = masking.text_for(self.viewer, record_label(form, data, self.theme.title))
        return {"type": "Feature", "id": record.id, "geometry": geojson.geometry(ledger.location(record)),
                "properties": {"id": record.id, "kind": "record", "theme": record.theme_key,
                               "theme_version": record.theme_version, "label": label, "grid_id": record.grid_id,
                               "region_code": record.region_code,
                               "updated_at": isoformat_local(record.updated_at),
                               "fields": _fields(form.get("properties") or {}, ranked, data, self.viewer),
                               "patrol": patrol_status(self.theme.patrol_every_days,
                                                       record.last_patrolled_at or record.created_at, self.now)}}
