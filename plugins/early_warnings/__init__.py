"""Built-in early-warning rules (预警规则), one internal plugin each, through the `warning_rules` hook.

- `surges`: a surge of one category in one grid against its own recent baseline (同类事件激增);
- `repeat_reports`: the same place reported again after closure (办结后同一地点再次上报);
- `repeat_places`: the same address or spot coming back over months (重复地点; docs/briefs.md);
- `overdue_visits`: key persons and places whose visit is overdue (重点人员、场所走访逾期);
- `unvisited_households`: households never visited, per village (走村不漏户).

Each owns its queries (set-based, within the viewer's scope through `minqing.core.scope.restrict`; the platform
evaluates them city-wide and stores the result, `core.warning_rules.refresh`), answers
`map_layers` with its located, active warnings, so they appear in the map's layer switcher, and — except
`repeat_reports` and `repeat_places`, whose warnings are their summary — `dashboard_panels` with its summary on the dashboard (小兰民情).
Disabling one of these plugins removes its rule, its layer and its panel: the dashboard knows none of them by key.
"""
from __future__ import annotations

from sqlalchemy import case, func

from minqing.core import warning_rules
from minqing.core.hooks import hookimpl

WARNINGS_SECTION = "warnings"    # the dashboard section the rules' panels sit in (see `dashboard_panels`)


def count_where(condition):
    """SUM(CASE WHEN condition THEN 1 ELSE 0 END): a count of one condition inside a GROUP BY."""
    return func.sum(case((condition, 1), else_=0))


def percent(rate: float | None) -> str:
    """0.953 → "95.3%"; None (no denominator) → "—", as the dashboard writes rates."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


def layer(rule: dict, viewer, colour: str) -> dict:
    """The map layer of one rule's active, located warnings as `viewer` sees them: its stored warnings within the
    box (`core.warning_rules.current`), not an evaluation of the rule on every request."""
    def features(bbox, session):
        return warning_rules.geojson_features(warning_rules.current(session, viewer, rule, bbox=bbox, located=True))

    return {"key": f"warnings.{rule['key']}", "title": f"预警：{rule['title']}", "geometry_type": "point",
            "style": {"color": colour, "fillColor": colour, "radius": 7, "weight": 2, "fillOpacity": 0.8},
            "features": features}


def integer(title: str, minimum: int, maximum: int) -> dict:
    return {"type": "integer", "title": title, "minimum": minimum, "maximum": maximum}


def schema(**properties) -> dict:
    return {"type": "object", "properties": properties, "required": sorted(properties),
            "additionalProperties": False}


def hooks(rule: dict, colour: str | None = None):
    """The rule plugin's hook implementations: its rule, and (for a rule with located warnings and a colour)
    its map layer. A module assigns them to the hook names: ``warning_rules, map_layers = hooks(RULE, "#c00")``."""
    @hookimpl
    def rules():
        return [rule]

    @hookimpl
    def layers(viewer):
        return [layer(rule, viewer, colour)]

    return (rules, layers) if colour else (rules, None)
