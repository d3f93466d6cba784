"""Rules checked on every flush, whoever writes: region codes must fit their parents, and a change to any grid
moves the grids counter so every process rebuilds its grid locator."""
from __future__ import annotations

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from minqing.core import counters
from minqing.core.models import Grid, Region
from minqing.core.geo.regions import code_problem

GRIDS_COUNTER = "grids"


class InvalidRegionCode(ValueError):
    pass


def _parent_code(session: Session, region: Region) -> str | None:
    if region.parent is not None:
        return region.parent.code
    if region.parent_id is None:
        return None
    return session.scalar(select(Region.code).where(Region.id == region.parent_id))


@event.listens_for(Session, "before_flush")
def _check_before_flush(session: Session, _context, _instances) -> None:
    for row in (*session.new, *session.dirty):
        if isinstance(row, Region):
            problem = code_problem(row.code, row.level, _parent_code(session, row))
            if problem:
                raise InvalidRegionCode(f"区划“{row.name}”：{problem}")


# region outlines count too: the maps cache region and grid outlines under this counter (core/geo/features.py)
counters.bump_when_flushed(GRIDS_COUNTER, Grid, Region)
