"""The stored early warnings (预警): each rule's current warnings as its last city-wide evaluation found them, and
the rule's last run (`StoredWarning`, `WarningRuleRun`). `core.warning_rules` evaluates the rules and decides when;
this module only writes a rule's result and reads the rows within a viewer's scope.

Why stored: at a city's volume, evaluating every rule took about ten seconds, and the dashboard and each warning
layer of the map did it on every load. A refresh evaluates each rule once for the whole city and replaces its
rows; readers filter the rows by the viewer's scope (`core.scope`) and leave out handled warnings at read time,
so an acknowledgement takes effect at once.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import os

from sqlalchemy import Select, and_, delete, exists, func, insert as insert_into, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from . import scope
from .actors import Actor
from .models import Role, StoredWarning, StoredWarningFigure, WarningAction, WarningRuleRun

# How often the scheduler refreshes every rule (`minqing beat`); a rule whose last run is older than twice this is
# evaluated by its next reader, so a city without a scheduler (an embedded demo) still sees current warnings.
REFRESH_SECONDS = float(os.environ.get("MINQING_WARNINGS_REFRESH_SECONDS", "300"))
SEVERITY_RANK = {"red": 0, "yellow": 1, "blue": 2}
_CHUNK = 500     # keys per DELETE … IN: well within SQLite's limit on parameters


def max_age() -> dt.timedelta:
    return dt.timedelta(seconds=2 * REFRESH_SECONDS)


@dataclasses.dataclass(frozen=True)
class Replaced:
    """What one rule's new result changed in its stored rows."""
    warnings: int
    added: int
    removed: int


def runs(session: Session, rule_keys) -> dict[str, WarningRuleRun]:
    keys = list(rule_keys)
    if not keys:
        return {}
    return {run.rule_key: run for run in session.scalars(select(WarningRuleRun).where(
        WarningRuleRun.rule_key.in_(keys)))}


def stale(session: Session, rule_keys, now: dt.datetime) -> list[str]:
    """The rules never tried, or last tried longer ago than `max_age`. By the last attempt, not the last success:
    a rule that fails is not tried again by every page until the scheduler's next round."""
    known = runs(session, rule_keys)
    oldest = now - max_age()
    return [key for key in rule_keys if key not in known or known[key].attempted_at < oldest]


def expire(session: Session, rule_key: str) -> None:
    """Forget when the rule last ran (its settings changed): its next reader evaluates it again."""
    session.execute(delete(WarningRuleRun).where(WarningRuleRun.rule_key == rule_key))


def _dialect(session: Session):
    return postgresql if session.get_bind().dialect.name == "postgresql" else sqlite


def _row(rule_key: str, warning, now: dt.datetime) -> dict:
    return {"rule_key": rule_key, "warning_key": warning.key, "title": warning.title,
            "reason": warning.reason, "severity": warning.severity,
            "severity_rank": SEVERITY_RANK.get(warning.severity, len(SEVERITY_RANK)), "grid_id": warning.grid_id,
            "region_code": (warning.region_code or "")[:15], "lon": warning.lon, "lat": warning.lat,
            "objects": [list(item) for item in warning.objects], "theme_key": (warning.theme_key or "")[:80],
            "category": (warning.category or "")[:80], "subcategory": (warning.subcategory or "")[:80],
            "department_key": (warning.department or "")[:40],
            "first_seen_at": now, "evaluated_at": now}


def replace(session: Session, rule_key: str, warnings, now: dt.datetime, seconds: float, figures=None) -> Replaced:
    """Make the rule's stored rows exactly `warnings` (`EarlyWarning`s): upsert the new set in one executemany,
    delete the keys that vanished; a warning that persists keeps its first-seen time. `figures` (dicts, each
    with its `grid_id` and `region_code`), when the rule has them, replace its stored figures. Records the run."""
    if figures is not None:
        session.execute(delete(StoredWarningFigure).where(StoredWarningFigure.rule_key == rule_key))
        figure_rows = [{"rule_key": rule_key, "grid_id": figure.get("grid_id"),
                        "region_code": (figure.get("region_code") or "")[:15], "evaluated_at": now,
                        "data": {name: value for name, value in figure.items()
                                 if name not in ("grid_id", "region_code")}}
                        for figure in figures]
        if figure_rows:
            session.execute(insert_into(StoredWarningFigure), figure_rows)
    rows: dict[str, dict] = {}
    for warning in warnings:
        rows.setdefault(warning.key, _row(rule_key, warning, now))   # one row per key: an upsert may not touch a row twice
    before = set(session.scalars(select(StoredWarning.warning_key).where(StoredWarning.rule_key == rule_key)))
    vanished = sorted(before - rows.keys())
    for start in range(0, len(vanished), _CHUNK):
        session.execute(delete(StoredWarning).where(StoredWarning.rule_key == rule_key,
                                                    StoredWarning.warning_key.in_(vanished[start:start + _CHUNK])))
    if rows:
        insert = _dialect(session).insert(StoredWarning)
        kept = {"first_seen_at", "rule_key", "warning_key"}
        session.execute(insert.on_conflict_do_update(
            index_elements=["rule_key", "warning_key"],
            set_={column: insert.excluded[column] for column in rows[next(iter(rows))] if column not in kept}),
            [rows[key] for key in sorted(rows)])   # in key order: two refreshes at once lock rows in one order
    _record_run(session, rule_key, now, seconds, warnings=len(rows), error=None)
    return Replaced(warnings=len(rows), added=len(rows.keys() - before), removed=len(vanished))


def failed(session: Session, rule_key: str, now: dt.datetime, seconds: float, error: str) -> None:
    """Record a failed run; the rule's rows stay those of its last success."""
    _record_run(session, rule_key, now, seconds, warnings=None, error=error)


def _record_run(session: Session, rule_key: str, now: dt.datetime, seconds: float, *, warnings: int | None,
                error: str | None) -> None:
    values = {"attempted_at": now, "seconds": round(seconds, 3), "error": error or ""}
    if warnings is not None:
        values.update(evaluated_at=now, warnings=warnings)
    insert = _dialect(session).insert(WarningRuleRun).values(rule_key=rule_key, **{"evaluated_at": None,
                                                                                   "warnings": 0, **values})
    session.execute(insert.on_conflict_do_update(index_elements=["rule_key"],
                                                 set_={column: insert.excluded[column] for column in values}))


# -- reading -------------------------------------------------------------------------------------------------------

def visible(viewer: Actor, rule_keys, statement: Select | None = None) -> Select:
    """The rules' stored warnings that `viewer` may see (`core.scope`) and nobody has handled yet."""
    handled = exists().where(and_(WarningAction.rule_key == StoredWarning.rule_key,
                                  WarningAction.warning_key == StoredWarning.warning_key))
    statement = select(StoredWarning) if statement is None else statement
    return scope.restrict(statement.where(StoredWarning.rule_key.in_(list(rule_keys)), ~handled),
                          StoredWarning, viewer)


MOST_SEVERE_FIRST = (StoredWarning.severity_rank, StoredWarning.first_seen_at.desc(), StoredWarning.warning_key)


def counts(session: Session, viewer: Actor, rule_keys) -> dict[str, int]:
    """How many visible warnings each rule has."""
    statement = visible(viewer, rule_keys, select(StoredWarning.rule_key, func.count()))
    return dict(session.execute(statement.group_by(StoredWarning.rule_key)).all())


def listed(session: Session, viewer: Actor, rule_key: str, *, limit: int | None = None, offset: int = 0,
           bbox=None, located: bool = False) -> list[StoredWarning]:
    """One rule's visible warnings, the most severe (then the newest) first; `bbox` ``(min_lon, min_lat, max_lon,
    max_lat)`` or `located` keeps only those with a point."""
    statement = visible(viewer, [rule_key]).order_by(*MOST_SEVERE_FIRST)
    if located or bbox is not None:
        statement = statement.where(StoredWarning.lon.is_not(None), StoredWarning.lat.is_not(None))
    if bbox is not None:
        min_lon, min_lat, max_lon, max_lat = bbox
        statement = statement.where(StoredWarning.lon.between(min_lon, max_lon),
                                    StoredWarning.lat.between(min_lat, max_lat))
    if limit is not None:
        statement = statement.limit(limit).offset(offset)
    return list(session.scalars(statement))


def figures(session: Session, viewer: Actor, rule_key: str, reported_within: dt.timedelta) -> list[dict] | None:
    """The rule's stored figures that `viewer` may see, each a dict with its `grid_id`, `region_code` and
    `evaluated_at`; None when they would not add up to what the viewer's own query of cases reported within
    `reported_within` before the evaluation finds: a scope of cases not drawn by region (a department's, a grid
    worker's), or a report of the viewer's own outside their regions (`core.scope` lets them read it)."""
    if not viewer.has_role(Role.ADMIN):
        if not viewer.grants or any(grant.role not in (Role.LEADER, Role.OPERATOR) or not grant.region_code
                                    for grant in viewer.grants):
            return None
        run = session.scalar(select(WarningRuleRun.evaluated_at).where(WarningRuleRun.rule_key == rule_key))
        if run is not None and scope.reported_beyond(session, viewer, run - reported_within, run):
            return None
    statement = scope.restrict(select(StoredWarningFigure).where(StoredWarningFigure.rule_key == rule_key),
                               StoredWarningFigure, viewer).order_by(StoredWarningFigure.id)
    return [{**row.data, "grid_id": row.grid_id, "region_code": row.region_code, "evaluated_at": row.evaluated_at}
            for row in session.scalars(statement)]


def one(session: Session, viewer: Actor, rule_key: str, warning_key: str) -> StoredWarning | None:
    return session.scalar(visible(viewer, [rule_key]).where(StoredWarning.warning_key == warning_key))
