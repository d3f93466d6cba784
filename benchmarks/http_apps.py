"""The two baselines of the intake figure, as real minimal Flask apps served by gunicorn like ours:

- `floor()`: (a) the floor: `get_json()` and one SQLAlchemy Core INSERT of the case, committed;
- `hand_written()`: (b) the same work as ours written by hand: the theme's report form as a jsonschema validator
  compiled once, the grid from an in-memory STRtree, and Core inserts of the same rows (the case, its timeline
  event, its deadline milestone, an audit record) in one transaction. No authentication, routing or notices.

    gunicorn -w 2 'benchmarks.http_apps:hand_written()'      # MINQING_DATABASE_URL names the database
"""
from __future__ import annotations

import datetime as dt
import os
import random

import jsonschema
from flask import Flask, jsonify, request
from sqlalchemy import insert

from minqing.core.db import Database
from minqing.core.geo.locator import GridLocator
from minqing.core.models import AuditRecord, Case, CaseEvent, CaseMilestone, utcnow
from minqing.forms.formats import FORMAT_CHECKER

from .small_city import THEME

ACCEPT_WITHIN = dt.timedelta(hours=4)
DUE_WITHIN = dt.timedelta(days=5)


def _database() -> Database:
    return Database(os.environ["MINQING_DATABASE_URL"])   # the same engine settings (pool, SQLite pragmas) as ours


def _case_row(body: dict, grid_id, region_code: str, now) -> dict:
    point = body["details"]["location"]
    return {"theme_key": body["theme"], "title": body["title"], "category": body.get("category", ""),
            "subcategory": "", "description": body["details"].get("content", ""),
            "address": body["details"].get("address", ""), "lon": point["lon"], "lat": point["lat"],
            "grid_id": grid_id, "region_code": region_code, "source": "grid_worker", "reporter_name": "",
            "reporter_phone": "", "urgency": body.get("urgency", "normal"), "workflow_key": "standard",
            "status": "reported", "state_entered_at": now, "state_deadline_at": now + ACCEPT_WITHIN,
            "due_at": now + DUE_WITHIN, "form_data": body["details"], "schema_version": "", "rework_count": 0,
            "created_at": now, "updated_at": now, "version": 1}


def floor() -> Flask:
    database = _database()
    app = Flask(__name__)

    @app.post("/cases")
    def create():
        body = request.get_json()
        with database.engine.begin() as connection:
            connection.execute(insert(Case).values(_case_row(body, None, "", utcnow())))
        return jsonify({}), 201

    return app


def hand_written() -> Flask:
    from minqing.core.models import Grid
    from minqing.core.platform import Platform
    from minqing.themes.registry import registry
    from minqing.workflows.intake import report_schema

    platform = Platform(os.environ["MINQING_DATABASE_URL"])
    with platform.db.session() as session:
        validator = jsonschema.Draft202012Validator(report_schema(registry(platform, session).themes[THEME]),
                                                    format_checker=FORMAT_CHECKER)
        locator = GridLocator.from_session(session)
        regions = dict(session.query(Grid.id, Grid.region_code).all())
    platform.close()
    database = _database()
    app = Flask(__name__)

    @app.post("/cases")
    def create():
        body = request.get_json()
        document = {name: value for name, value in body.items() if name != "theme"}
        errors = [error.message for error in validator.iter_errors(document)]
        if errors:
            return jsonify({"errors": errors}), 422
        point = body["details"]["location"]
        grid_id = locator.locate(point["lon"], point["lat"])
        if grid_id is None:
            return jsonify({"errors": ["not in a grid"]}), 422
        now = utcnow()
        with database.engine.begin() as connection:
            case_id = connection.execute(insert(Case).values(_case_row(body, grid_id, regions[grid_id], now))
                                         .returning(Case.id)).scalar_one()
            connection.execute(insert(CaseEvent).values(
                case_id=case_id, at=now, actor_name="网格员", action="report", from_status=None,
                to_status="reported", comment=body["details"].get("content", ""), data={}, origin=""))
            connection.execute(insert(CaseMilestone).values(case_id=case_id, case_created_at=now,
                                                            accept_deadline_at=now + ACCEPT_WITHIN, voided=False))
            connection.execute(insert(AuditRecord).values(   # unchained: a negative number no chain uses
                seq=-random.getrandbits(62), prev_hash="", hash="", at=now, actor_name="网格员", action="case.report",
                object_type="case", object_id=str(case_id), summary="上报事件", details={}))
        return jsonify({"id": case_id}), 201

    return app


def geojson_layer() -> Flask:
    """The baseline of the GeoJSON figure: one theme's records as pages of GeoJSON, hand-written. The leader's
    scope (the city's region range) and the layer's conditions in one Core SELECT of the columns, the features
    built as dicts with the same properties (the form's answers through the project's masking rule, the patrol
    state, 7 decimals) and encoded with orjson; `limit`/`offset`, `numberMatched` and the `Link` to the next page
    as ours. No authentication, theme registry or cases."""
    import orjson
    from flask import Response
    from sqlalchemy import and_, func, select
    from urllib.parse import urlencode

    from minqing.core.clock import isoformat_local
    from minqing.core.geo.regions import prefix
    from minqing.core.models import ThemeRecord, ThemeVersion
    from minqing.core.privacy import masking
    from minqing.themes.records import shown_value

    from .small_city import LEADER

    database = _database()
    app = Flask(__name__)
    viewer_roles = frozenset({"leader"})
    start = prefix("620100000000")
    columns = (ThemeRecord.id, ThemeRecord.theme_version, ThemeRecord.form_data, ThemeRecord.lon, ThemeRecord.lat,
               ThemeRecord.grid_id, ThemeRecord.region_code, ThemeRecord.updated_at, ThemeRecord.created_at,
               ThemeRecord.last_patrolled_at)

    class Viewer:   # what the masking rule asks of a viewer: its roles
        name = LEADER

        @staticmethod
        def has_role(*roles):
            return bool(viewer_roles.intersection(roles))

    viewer = Viewer()
    labels = {"on_time": "按期巡查", "due_soon": "即将到期", "overdue": "巡查超期"}

    @app.get("/layers/<key>/features")
    def features(key: str):
        limit = min(int(request.args.get("limit", 10_000)), 10_000)
        offset = int(request.args.get("offset", 0))
        where = and_(ThemeRecord.theme_key == key, ThemeRecord.retired_at.is_(None),
                     ThemeRecord.region_code >= start, ThemeRecord.region_code < start + ":")
        with database.engine.connect() as connection:
            document, every = _theme(connection, key, ThemeVersion)
            matched = connection.scalar(select(func.count()).select_from(ThemeRecord).where(where))
            rows = connection.execute(select(*columns).where(where).order_by(ThemeRecord.id)
                                      .offset(offset).limit(limit)).all()
        form = (document.get("forms") or {}).get("record") or {}
        properties = form.get("properties") or {}
        now = utcnow()
        found, lons, lats = [], [], []
        for row in rows:
            data = row.form_data or {}
            label = next((data[name] for name in ("title", "name", "label")
                          if isinstance(data.get(name), str) and data[name].strip()), document["title"])
            fields = []
            for name in [name for name in properties if name in data] + sorted(set(data) - set(properties)):
                spec = properties.get(name) or {}
                text = shown_value(viewer, spec, data[name], name)   # as the map does: by the field's key
                if text:
                    fields.append({"key": name, "title": spec.get("title") or name, "value": text})
            last = (row.last_patrolled_at or row.created_at).replace(tzinfo=dt.UTC)
            due = last + dt.timedelta(days=every)
            status = ("overdue" if due < now else "due_soon" if due - now <= dt.timedelta(days=every / 5)
                      else "on_time")
            lon, lat = round(row.lon, 7), round(row.lat, 7)
            lons.append(lon)
            lats.append(lat)
            found.append({"type": "Feature", "id": row.id, "geometry": {"type": "Point", "coordinates": [lon, lat]},
                          "properties": {"id": row.id, "kind": "record", "theme": key,
                                         "theme_version": row.theme_version, "label": masking.text_for(viewer, label),
                                         "grid_id": row.grid_id, "region_code": row.region_code,
                                         "updated_at": isoformat_local(row.updated_at), "fields": fields,
                                         "patrol": {"status": status, "label": labels[status],
                                                    "due": isoformat_local(due), "last": isoformat_local(last)}}})
        body = {"type": "FeatureCollection", "features": found}
        if found:
            body["bbox"] = [min(lons), min(lats), max(lons), max(lats)]
        body.update(numberMatched=matched, numberReturned=len(found))
        links = [{"rel": "self", "href": request.url, "type": "application/geo+json"}]
        headers = {}
        if found and offset + len(found) < matched:
            following = f"{request.base_url}?{urlencode({'limit': limit, 'offset': offset + len(found)})}"
            links.append({"rel": "next", "href": following, "type": "application/geo+json"})
            headers["Link"] = f'<{following}>; rel="next"'
        body["links"] = links
        return Response(orjson.dumps(body), mimetype="application/geo+json", headers=headers)

    return app


def _theme(connection, key: str, theme_version) -> tuple[dict, int]:
    """The theme's newest published document and its patrol period."""
    from sqlalchemy import select

    document = connection.scalar(select(theme_version.document).where(theme_version.theme_key == key)
                                 .order_by(theme_version.version.desc()).limit(1))
    return document, int(document.get("patrol_every_days") or 0)
