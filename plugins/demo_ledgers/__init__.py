"""Demo ledgers (台账): every department's own objects on its layer — shelters, hydrants, schools, gas users,
rivers and their 河长, elderly living alone… — about 3,000 records in all, placed inside the demo city's real grid
outlines, with answers that fit each theme's record form and a spread of patrol states (on time, due soon,
overdue), so a leader opening the map sees every department's objects."""
from __future__ import annotations

import datetime as dt
import logging
import random
import re

from sqlalchemy import insert, select

from minqing import forms, themes
from minqing.core import city
from minqing.core.actors import system_actor
from minqing.core.changes import record_change
from minqing.core.hooks import hookimpl
from minqing.core.models import Region, ThemeRecord, utcnow

from .names import COUNTS, DEFAULT_COUNT, NAMES
from .worker_grid import place_in_worker_grid
from .values import HERITAGE, ROADS, SURNAMES, WORDS, Values, company, estate, is_person

MINQING_TITLE = "演示部门台账"  # what the admin page and `minqing plugins list` show
MINQING_DESCRIPTION = "演示数据：每个部门的台账记录（约 3000 条），落在真实网格内，带巡查状态。"

log = logging.getLogger(__name__)
CHUNK = 500


def ledger_themes(platform, session) -> list:
    """The enabled themes whose layer shows their own records and that have a record form, by key."""
    found = themes.registry(platform, session).themes.values()
    return sorted((theme for theme in found if theme.form("record") is not None
                   and theme.layer.get("source", "records") == "records"), key=lambda theme: theme.key)


@hookimpl
def seed_demo(platform, session, seed):
    from .places import Sampler   # shapely is loaded when the demo is built, not by every `minqing` command

    rng = random.Random(seed * 31 + 17)
    sampler = Sampler(session, rng, platform.locator().locate)
    if not sampler.ready:
        return
    places = _places(session)
    now = utcnow().replace(microsecond=0)
    today = city.today(session)
    actor = system_actor("demo")
    photos = []
    ledgers = ledger_themes(platform, session)
    for theme in ledgers:
        try:
            version = themes.theme_version(session, theme.key)
        except themes.NotPublished:                  # a theme enabled after the demo's themes were published
            continue
        schema = version.document["forms"]["record"]
        if forms.attachment_specs(schema) and not photos:   # a record form with a photo field
            photos.append(_photo(session, actor, rng))
        rows = [row for row in (_record(theme, version.version, schema, sampler, places, rng, today, now, photos,
                                        number) for number in range(COUNTS.get(theme.key, DEFAULT_COUNT))) if row]
        for start in range(0, len(rows), CHUNK):
            session.execute(insert(ThemeRecord), rows[start:start + CHUNK])
        record_change(session, actor, "theme_record.create", object_type="theme", object_id=theme.key,
                      summary=f"演示数据：在业务主题“{theme.title}”新增 {len(rows)} 条台账记录",
                      details={"theme": theme.key, "version": version.version, "count": len(rows), "demo": True})
    session.flush()
    place_in_worker_grid(session, sampler, rng, {theme.key: theme for theme in ledgers}, now)


def _record(theme, version: int, schema: dict, sampler, places, rng, today, now, photos, number) -> dict | None:
    geometry_kind = theme.layer["geometry"]
    placed = sampler.place(geometry_kind)
    grid = placed.grid
    village, township = places.get(grid.region_code, ("", ""))
    place = {"region_code": grid.region_code, "village": village, "township": township, "photos": photos}
    values = Values(rng, today, place, theme.key)
    data = None
    for full in (False, True):   # an answer a condition of the form requires is filled on the second try
        data = values.document(schema, full, placed.point)
        _name(theme.key, schema, data, place, rng, number)
        if not forms.validate(schema, data):
            break
    else:
        log.warning("demo record of %s left out: %s", theme.key, forms.validate(schema, data)[:2])
        return None
    created, patrolled = _times(theme.patrol_every_days, rng, now)
    min_lon, min_lat, max_lon, max_lat = placed.bounds
    return {"theme_key": theme.key, "theme_version": version, "department_key": theme.department, "form_data": data,
            "schema_version": f"{theme.key}@{version}", "lon": placed.point[0], "lat": placed.point[1],
            "geometry": placed.geometry, "min_lon": min_lon, "min_lat": min_lat, "max_lon": max_lon,
            "max_lat": max_lat, "grid_id": grid.id, "region_code": grid.region_code or "", "created_by": "demo",
            "created_at": created, "updated_at": created, "last_patrolled_at": patrolled, "version": 1}


def _name(key: str, schema: dict, data: dict, place: dict, rng, number: int) -> None:
    """The record's name from the theme's templates; their implied answers overwrite the random ones."""
    field = (schema.get("properties") or {}).get("name")
    templates = NAMES.get(key)
    if field is None or templates == [] or is_person(field.get("title", "")):
        return                                        # the name is a person's: the generic answer stands
    if not templates:
        data["name"] = f"{place['village']}{schema.get('title', '')}"
        return
    template, implied = rng.choice(templates)
    data.update(implied)
    roads = rng.sample(ROADS, 2)
    words = {"v": place["village"], "t": place["township"], "road": roads[0], "road2": roads[1],
             "estate": place["village"][:2] + estate(rng), "word": rng.choice(WORDS), "n": str(rng.randint(1, 99)),
             "code": place["region_code"][4:6] + f"{number:04d}", "heritage": rng.choice(HERITAGE),
             "company": company(rng), "surname": rng.choice(SURNAMES)}
    words.update({field: str(value) for field, value in data.items() if isinstance(value, (str, int))})
    text = re.sub(r"\{(\w+)\}", lambda match: words.get(match.group(1), ""), template)
    limit = ((schema.get("properties") or {}).get("name") or {}).get("maxLength", 100)
    data["name"] = text[:limit]


def _times(every: int | None, rng, now: dt.datetime) -> tuple[dt.datetime, dt.datetime | None]:
    """When a record was created and last patrolled: most on time, some due soon, some overdue, a few never."""
    created = now - dt.timedelta(days=rng.uniform(30, 720))
    if not every:
        return created, None
    state = rng.choices(("on_time", "due_soon", "overdue", "never"), (68, 14, 14, 4))[0]
    if state == "never":
        return now - dt.timedelta(days=rng.uniform(0.2, 0.6) * every), None
    # shares of the period since the last patrol; "due soon" is its last fifth (minqing.themes.layers)
    share = {"on_time": (0.05, 0.75), "due_soon": (0.83, 0.97), "overdue": (1.05, 3.0)}[state]
    patrolled = now - dt.timedelta(days=rng.uniform(*share) * every)
    return min(created, patrolled - dt.timedelta(days=1)), patrolled


def _photo(session, actor, rng) -> str:
    """One small generated picture that the demo records requiring a photo share."""
    import io

    from PIL import Image

    from minqing.core import attachments

    output = io.BytesIO()
    Image.new("RGB", (64, 48), (rng.randrange(256), rng.randrange(256), rng.randrange(256))).save(output, "JPEG")
    return attachments.store(session, actor, output.getvalue(), "现场照片.jpg").id


def _places(session) -> dict[str, tuple[str, str]]:
    """region code → the names of the village (community) and the township it lies in (a grid may belong to a
    group, a village or a township)."""
    rows = session.execute(select(Region.id, Region.code, Region.name, Region.level, Region.parent_id)).all()
    by_id = {row.id: row for row in rows}
    found = {}
    for row in rows:
        names, current = {}, row
        while current is not None:
            names.setdefault(current.level, current.name)
            current = by_id.get(current.parent_id)
        township = names.get("township") or names.get("county", "")
        found[row.code] = (names.get("village") or township, township)
    return found
