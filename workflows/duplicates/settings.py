"""A theme's duplicate settings (the theme document's optional `duplicates` object), with the defaults."""
from __future__ import annotations

import dataclasses

from sqlalchemy.orm import Session



@dataclasses.dataclass(frozen=True)
class DuplicateSettings:
    distance_m: float = 200.0     # reports farther apart than this are never duplicates
    hours: float = 168.0          # open cases reported at most this long before (or after) the report
    closed_days: float = 7.0      # closed cases closed at most this many days before the report
    min_score: float = 0.4        # candidates scoring below this are not shown
    photo_bits: int = 6           # dHashes differing in at most this many of 64 bits are the same photo
    limit: int = 10               # the most candidates shown

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


DEFAULTS = DuplicateSettings()
FIELDS = {field.name for field in dataclasses.fields(DuplicateSettings)}


def for_theme(platform, session: Session, theme_key: str) -> DuplicateSettings:
    """The theme's settings over the defaults; the defaults for a theme that sets none or is not known."""
    from minqing import themes

    try:
        document = themes.get_theme(platform, theme_key, session).document
    except (themes.UnknownTheme, themes.ThemeError):
        return DEFAULTS
    chosen = document.get("duplicates") or {}
    return dataclasses.replace(DEFAULTS, **{name: value for name, value in chosen.items() if name in FIELDS})
