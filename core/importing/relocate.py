"""After grids were redrawn: move the open cases and the base data whose point now lies in another grid.

Only rows whose point lies in the bounding box of what changed are looked at, and they are located all at once
on the new outlines. A point that no grid covers any more keeps its grid (a case must stay with somebody) and is
counted, so the import can say so. Houses, households, residents and key persons have no point of their own:
they are placed by the standard address they hang from.
"""
from __future__ import annotations

import numpy as np
from sqlalchemy import and_, bindparam, select, update

from minqing.core.geo.locator import GridLocator
from ..models import Address, Case, House, Household, KeyPerson, KeyPlace, Resident, Unit
from minqing.core.geo.regions import prefix

def _sources(bounds):
    """(count name, model, SELECT of (id, grid id, region code, lon, lat)) for every kind of located row."""
    min_lon, min_lat, max_lon, max_lat = bounds

    def inside(lon, lat):
        return and_(lon >= min_lon, lon <= max_lon, lat >= min_lat, lat <= max_lat)

    def points(model):
        return select(model.id, model.grid_id, model.region_code, model.lon, model.lat).where(
            inside(model.lon, model.lat))

    def via(model, *joins):
        statement = select(model.id, model.grid_id, model.region_code, Address.lon, Address.lat)
        for join, on in joins:
            statement = statement.join(join, on)
        return statement.where(inside(Address.lon, Address.lat))

    open_cases = (select(Case.id, Case.grid_id, Case.region_code, Case.lon, Case.lat)
                  .where(Case.closed_at.is_(None), Case.merged_into_id.is_(None), inside(Case.lon, Case.lat)))
    household_joins = ((House, Household.house_id == House.id), (Address, House.address_id == Address.id))
    resident_joins = ((Household, Resident.household_id == Household.id), *household_joins)
    return (
        ("cases", Case, open_cases),
        ("residents", Resident, via(Resident, *resident_joins)),
        ("addresses", Address, points(Address)),
        ("units", Unit, points(Unit)),
        ("key_places", KeyPlace, points(KeyPlace)),
        ("houses", House, via(House, (Address, House.address_id == Address.id))),
        ("households", Household, via(Household, *household_joins)),
        ("key_persons", KeyPerson, via(KeyPerson, (Resident, KeyPerson.resident_id == Resident.id),
                                       *resident_joins)),
    )


def relocate(session, bounds: tuple[float, float, float, float], grid_regions: dict[int, str]) -> dict[str, int]:
    """Moved rows per kind ("cases", "residents", ...) and "outside": rows that no grid covers any more.

    `bounds`: the box around every outline that changed, old and new; `grid_regions`: grid id → region code."""
    locator = None   # built on the first rows to look at: a city's first grids have nothing to move yet
    moved: dict[str, int] = {"outside": 0}
    for name, model, statement in _sources(bounds):
        rows = session.execute(statement).all()
        moved[name] = 0
        if not rows:
            continue
        locator = locator or GridLocator.from_session(session)
        found = locator.locate_many(np.array([row.lon for row in rows]), np.array([row.lat for row in rows]))
        changes = []
        for row, grid_id in zip(rows, found.tolist()):
            if grid_id < 0 or grid_id == row.grid_id:
                continue
            changes.append({"row_id": row.id, "new_grid": grid_id,
                            "new_region": _region(model, row.region_code, grid_regions[grid_id])})
        moved["outside"] += int((found < 0).sum())
        if changes:
            _update(session, model, changes)
            moved[name] = len(changes)
    return moved


def _region(model, current: str, grid_region: str) -> str:
    """A case takes its grid's region (as a new report does); base data keeps its finer village or group code
    unless the new grid lies on another branch of the tree."""
    if model is Case or not current:
        return grid_region
    a, b = prefix(current), prefix(grid_region)
    return current if a.startswith(b) or b.startswith(a) else grid_region


def _update(session, model, changes: list[dict]) -> None:
    table = model.__table__
    values = {"grid_id": bindparam("new_grid"), "region_code": bindparam("new_region")}
    if model is Case:  # a changed row gets a new version, so a form opened before the move cannot overwrite it
        values["version"] = table.c.version + 1
    session.execute(update(table).where(table.c.id == bindparam("row_id")).values(**values), changes)
