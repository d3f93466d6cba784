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
            connection.execute(insert(CaseMilestone).values(case_id=case_id, accept_deadline_at=now + ACCEPT_WITHIN,
                                                            voided=False))
            connection.execute(insert(AuditRecord).values(   # unchained: a negative number no chain uses
                seq=-random.getrandbits(62), prev_hash="", hash="", at=now, actor_name="网格员", action="case.report",
                object_type="case", object_id=str(case_id), summary="上报事件", details={}))
        return jsonify({"id": case_id}), 201

    return app
