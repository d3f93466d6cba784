"""研判简报 as an internal plugin: the `minqing brief` and `minqing hotspots` commands and the hotspot layer of the
map (热点区域), so disabling the plugin takes them away (the dashboard's archive stays: published briefs are records).

The layer shows the hotspots of the last `LAYER_DAYS` days as the viewer may see them, each marked with what
changed against the `LAYER_DAYS` days before (hotspots.py), computed once per scope and settings and kept for a
few minutes (layer.py)."""
from __future__ import annotations

from minqing.core.hooks import hookimpl
from minqing.core.models import utcnow

MINQING_TITLE = "研判简报与热点"
MINQING_DESCRIPTION = "生成月度、周研判简报（Word、PDF、网页）；地图上的事件热点图层。"
LAYER_KEY = "briefs.hotspots"
LAYER_DAYS = 30
COLOUR = "#d84315"


def hotspot_layer(viewer) -> dict:
    def features(bbox, session):
        from . import hotspots, layer

        answer = layer.changes(session, viewer, utcnow(), days=LAYER_DAYS)
        shown = hotspots.features(answer.changes, computed_at=answer.computed_at)
        return [feature for feature in shown if _touches(feature, bbox)]

    return {"key": LAYER_KEY, "title": f"事件热点（近{LAYER_DAYS}天）", "geometry_type": "polygon",
            "style": {"color": COLOUR, "fillColor": COLOUR, "weight": 2, "fillOpacity": 0.25},
            "features": features}


def _touches(feature: dict, bbox) -> bool:
    if bbox is None:
        return True
    ring = feature["geometry"]["coordinates"][0]
    min_lon, min_lat, max_lon, max_lat = bbox
    return not (max(p[0] for p in ring) < min_lon or min(p[0] for p in ring) > max_lon
                or max(p[1] for p in ring) < min_lat or min(p[1] for p in ring) > max_lat)


@hookimpl
def map_layers(viewer):
    return [hotspot_layer(viewer)]


@hookimpl
def register_commands(cli):
    from .cli import brief_command, hotspots_command

    cli.add_command(brief_command)
    cli.add_command(hotspots_command)
