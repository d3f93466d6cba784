"""研判简报 (analysis briefs), hotspots and repeat places: docs/briefs.md.

- `periods`: months ("2026-11") and ISO weeks ("2026-W45"), the one before and a year before;
- `content.build`: every figure of a brief within a viewer's scope, one JSON-ready dict;
- `hotspots`: DBSCAN clusters of a period's cases per category and what changed since the period before;
- `places`: repeat places (same address or within metres, over months) and repeat reporters, masked;
- `render`: Word, HTML and PDF; `archive`: publishing, storing and listing briefs;
- `plugin`: the `minqing brief` command and the hotspot map layer.
"""
from . import archive, content, hotspots, periods, places, render
from .periods import Period

__all__ = ["Period", "archive", "content", "hotspots", "periods", "places", "render"]
