"""Early-warning rules (预警规则) from the `warning_rules` hook: their settings, their current warnings, and
what operators did with them.

A rule is a dict a plugin answers (see `core/hooks.py`): ``key``, ``title``, ``settings`` (defaults),
``schema`` (JSON Schema of the settings) and ``evaluate(session, viewer, settings, now)`` returning
`EarlyWarning`s within the viewer's scope. An administrator's settings of a rule are kept in the `Setting`
table under ``warning_rule:<key>`` as JSON, validated against the rule's schema before they are stored.

A handled warning (acknowledged, or turned into a case: `WarningAction`) leaves the active list and stays in
the history. The stable key of a warning names what it is about (e.g. the grid, category and window), so the same
situation keeps its key from one evaluation to the next.

Stored warnings: `refresh` evaluates each rule once for the whole city (the scheduler every
`warning_store.REFRESH_SECONDS`, `minqing warnings refresh`, the warnings page's button) and replaces the rule's
rows in `core.warning_store`; `active`, `overview`, `page`, `current` and `find` read those rows within the viewer's
scope, minus handled warnings. A rule never evaluated, or last tried longer ago than `warning_store.max_age()`, is
evaluated by its reader in the reader's session (so a demo without a scheduler still shows current warnings); a
rule that fails keeps its previous rows and its error is recorded, so one broken rule never takes a page down.
`evaluate` still computes one rule live within a viewer's scope (briefs, tests).

A rule may also answer ``figures(session, viewer, settings, now)``: dicts of counts, each with its ``grid_id`` and
``region_code``, computed city-wide with its warnings and stored beside them (`StoredWarningFigure`); its dashboard
panel reads them with `figures` (within the viewer's scope) instead of querying a month of cases on every load.

`WARNING_SOURCE` (the source of the cases made from a warning) and `city_today` are what the rule plugins share.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import logging
import time
from collections.abc import Callable

import jsonschema
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import city, scope, warning_store
from .actors import Actor, system_actor
from .changes import record_change
from .models import Setting, StoredWarning, WarningAction, utcnow

WARNING_SOURCE = "warning"    # Case.source of the cases made from a warning


def city_today(now: dt.datetime | None = None, session: Session | None = None) -> dt.date:
    """Today's calendar date in the city (due dates are local dates), in its time zone setting (`core.city`)."""
    return city.today(session, now or utcnow())

log = logging.getLogger(__name__)
SETTING_PREFIX = "warning_rule:"
SEVERITIES = ("red", "yellow", "blue")
SEVERITY_TITLES = {"red": "红色", "yellow": "黄色", "blue": "蓝色"}


@dataclasses.dataclass(frozen=True)
class EarlyWarning:
    rule: str                      # the rule's key
    key: str                       # stable within the rule: the same situation keeps its key
    title: str
    reason: str                    # why it fired, in Chinese
    severity: str = "yellow"       # "red", "yellow" or "blue"
    grid_id: int | None = None
    region_code: str = ""
    lon: float | None = None
    lat: float | None = None
    objects: tuple[tuple[str, int], ...] = ()   # (kind, id): ("case", 12), ("key_place", 3), ...
    theme_key: str = ""            # what a case made from it is reported under, when the rule knows
    category: str = ""
    subcategory: str = ""
    department: str = ""           # the department whose matter it is, when the rule knows: its staff see it


class SettingsInvalid(ValueError):
    """Settings that do not satisfy the rule's schema; `errors` maps each field to its messages (Chinese)."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{field}: {', '.join(messages)}" for field, messages in errors.items()))
        self.errors = errors


class WarningNotFound(LookupError):
    """No active warning with this rule and key is visible to the actor."""


# -- rules and their settings -------------------------------------------------------------------------------

def rules(platform, session: Session | None = None) -> dict[str, dict]:
    """The rules of the enabled plugins, by key (the first plugin to bring a key wins)."""
    found: dict[str, dict] = {}
    for plugin, rule in platform.plugins.collect("warning_rules", session=session):
        if rule["key"] in found:
            log.warning("warning rule %s of plugin %s ignored: key taken", rule["key"], plugin)
            continue
        found[rule["key"]] = {"settings": {}, "schema": {"type": "object"}, **rule, "plugin": plugin}
    return found


def settings_of(session: Session, rule: dict) -> dict:
    """The rule's defaults overlaid with what an administrator stored."""
    row = session.get(Setting, SETTING_PREFIX + rule["key"])
    stored = json.loads(row.value) if row is not None else {}
    return {**rule["settings"], **stored}


def _message(error: jsonschema.ValidationError) -> str:
    limit = error.validator_value
    return {"minimum": f"不能小于 {limit}", "maximum": f"不能大于 {limit}",
            "exclusiveMinimum": f"应大于 {limit}", "exclusiveMaximum": f"应小于 {limit}",
            "type": {"integer": "应为整数", "number": "应为数字", "string": "应为文本",
                     "boolean": "应为是或否"}.get(str(limit), "类型不对"),
            "enum": "不在可选值之内", "required": "必须填写", "additionalProperties": "不是本规则的设置项",
            }.get(error.validator, "不符合要求")


def validate_settings(rule: dict, values: dict) -> dict:
    """The full settings (defaults overlaid with `values`), or SettingsInvalid naming each bad field."""
    merged = {**rule["settings"], **values}
    errors: dict[str, list[str]] = {}
    for error in jsonschema.Draft202012Validator(rule["schema"]).iter_errors(merged):
        if error.validator == "required":
            field = error.message.split("'")[1] if "'" in error.message else ""
        elif error.validator == "additionalProperties":
            field = ", ".join(sorted(set(merged) - set(rule["schema"].get("properties", {}))))
        else:
            field = ".".join(str(part) for part in error.absolute_path)
        title = rule["schema"].get("properties", {}).get(field, {}).get("title", field)
        errors.setdefault(field, []).append(f"{title}{_message(error)}")
    if errors:
        raise SettingsInvalid(errors)
    return merged


def save_settings(session: Session, actor: Actor, rule: dict, values: dict) -> dict:
    """Validate and store a rule's settings; recorded as a change. Nothing is stored when one value is bad."""
    merged = validate_settings(rule, values)
    name = SETTING_PREFIX + rule["key"]
    row = session.get(Setting, name)
    before = json.loads(row.value) if row is not None else {}
    if row is None:
        row = Setting(name=name, value="{}")
        session.add(row)
    row.value = json.dumps(merged, ensure_ascii=False, sort_keys=True)
    record_change(session, actor, "warning_rule.settings", object_type="warning_rule", object_id=rule["key"],
                  summary=f"修改预警规则「{rule['title']}」的设置", details={"before": before, "after": merged})
    warning_store.expire(session, rule["key"])   # its stored warnings answer the old settings: evaluate it again
    return merged


# -- warnings ----------------------------------------------------------------------------------------------

def _handled(session: Session, rule_key: str) -> set[str]:
    return set(session.scalars(select(WarningAction.warning_key).where(WarningAction.rule_key == rule_key)))


def evaluate(session: Session, viewer: Actor, rule: dict, now: dt.datetime | None = None, *,
             include_handled: bool = False) -> list[EarlyWarning]:
    """One rule's current warnings for `viewer` (not yet handled, unless asked)."""
    found = rule["evaluate"](session, viewer, settings_of(session, rule), now or utcnow())
    if include_handled:
        return list(found)
    handled = _handled(session, rule["key"])
    return [warning for warning in found if warning.key not in handled]


# -- stored warnings: refreshed city-wide, read within the viewer's scope -------------------------------------

DASHBOARD_LIMIT = 10     # warnings per rule on the dashboard; the warnings page lists them all, page by page


@dataclasses.dataclass(frozen=True)
class Outcome:
    """One rule's city-wide evaluation: its warnings, or None and the error when it failed."""
    rule: dict
    warnings: list[EarlyWarning] | None
    seconds: float
    error: str = ""
    figures: list[dict] | None = None   # what the rule's optional `figures` answered (module docstring)


def _evaluate_city_wide(session: Session, rule: dict, now: dt.datetime, *, savepoint: bool) -> Outcome:
    """The rule's warnings for the whole city (the platform's own viewer). `savepoint`: in a caller's transaction,
    whose work a failed statement must not abort (PostgreSQL aborts the whole transaction otherwise)."""
    started = time.perf_counter()
    try:
        with session.begin_nested() if savepoint else contextlib.nullcontext():
            actor, settings = system_actor("warnings"), settings_of(session, rule)
            found = list(rule["evaluate"](session, actor, settings, now))
            figures = list(rule["figures"](session, actor, settings, now)) if rule.get("figures") else None
        return Outcome(rule, found, time.perf_counter() - started, figures=figures)
    except Exception as error:   # any plugin's fault: recorded on the rule, its previous rows stay
        log.exception("warning rule %s failed", rule["key"])
        return Outcome(rule, None, time.perf_counter() - started, f"{type(error).__name__}: {error}"[:2000])


def _store(session: Session, actor: Actor, outcomes: list[Outcome], now: dt.datetime) -> dict[str, dict]:
    """Replace each evaluated rule's rows, record each failure, and ONE audit record for the whole refresh."""
    done: dict[str, dict] = {}
    for outcome in outcomes:
        key, error = outcome.rule["key"], outcome.error
        if outcome.warnings is not None:
            try:
                with session.begin_nested():   # a rule whose rows cannot be written fails alone
                    replaced = warning_store.replace(session, key, outcome.warnings, now, outcome.seconds,
                                                     figures=outcome.figures)
                done[key] = {**dataclasses.asdict(replaced), "seconds": round(outcome.seconds, 3)}
                continue
            except Exception as failure:
                log.exception("warnings of rule %s not stored", key)
                error = f"{type(failure).__name__}: {failure}"[:2000]
        warning_store.failed(session, key, now, outcome.seconds, error)
        done[key] = {"error": error, "seconds": round(outcome.seconds, 3)}
    if done:
        stored = [item for item in done.values() if "error" not in item]
        failed = [key for key, item in done.items() if "error" in item]
        summary = (f"刷新预警规则 {len(done)} 条：现有预警 {sum(item['warnings'] for item in stored)} 条"
                   f"（新增 {sum(item['added'] for item in stored)}，消失 {sum(item['removed'] for item in stored)}）"
                   + (f"；失败 {'、'.join(failed)}" if failed else ""))
        record_change(session, actor, "warning.refresh", object_type="warning_rule", summary=summary[:500],
                      details={"rules": done}, at=now)
    return done


def refresh(platform, actor: Actor | None = None, *, keys=None, now: dt.datetime | None = None,
            progress: Callable[[dict], None] | None = None) -> dict[str, dict]:
    """Evaluate the enabled rules (or those of `keys`) once for the whole city, each in a read-only session of its
    own, then replace their stored warnings in one transaction with one audit record. Returns, per rule, its
    count of warnings, how many were added and removed and how long it took, or its error."""
    now = now or utcnow()
    with platform.db.session() as session:
        chosen = [rule for key, rule in rules(platform, session).items() if keys is None or key in keys]
    outcomes = []
    for rule in chosen:
        session = platform.db.sessionmaker()
        try:   # only reads: nothing to keep, and on SQLite no write lock is taken while the rule runs
            outcomes.append(_evaluate_city_wide(session, rule, now, savepoint=False))
        finally:
            session.rollback()
            session.close()
        if progress is not None:
            progress(rule)
    with platform.db.session() as session:
        return _store(session, actor or system_actor("warnings"), outcomes, now)


def _fresh(session: Session, chosen: list[dict], now: dt.datetime) -> None:
    """Evaluate, in the reader's own session, the rules never tried or tried too long ago (module docstring)."""
    due = set(warning_store.stale(session, [rule["key"] for rule in chosen], now))
    if due:
        outcomes = [_evaluate_city_wide(session, rule, now, savepoint=True) for rule in chosen if rule["key"] in due]
        _store(session, system_actor("warnings"), outcomes, now)


def _warning(row: StoredWarning) -> EarlyWarning:
    return EarlyWarning(rule=row.rule_key, key=row.warning_key, title=row.title, reason=row.reason,
                        severity=row.severity, grid_id=row.grid_id, region_code=row.region_code, lon=row.lon,
                        lat=row.lat, objects=tuple(tuple(item) for item in row.objects or ()),
                        theme_key=row.theme_key, category=row.category, subcategory=row.subcategory,
                        department=row.department_key)


def current(session: Session, viewer: Actor, rule: dict, now: dt.datetime | None = None, *, bbox=None,
            located: bool = False) -> list[EarlyWarning]:
    """One rule's stored, unhandled warnings within the viewer's scope, the most severe first (`bbox` or
    `located`: only those with a point, within the box)."""
    _fresh(session, [rule], now or utcnow())
    return [_warning(row) for row in warning_store.listed(session, viewer, rule["key"], bbox=bbox, located=located)]


def active(platform, session: Session, viewer: Actor, now: dt.datetime | None = None
           ) -> list[tuple[dict, list[EarlyWarning]]]:
    """(rule, all its active warnings) for every rule of the enabled plugins, as stored; a rule whose last run
    failed shows the warnings of its last success."""
    found = list(rules(platform, session).values())
    _fresh(session, found, now or utcnow())
    return [(rule, [_warning(row) for row in warning_store.listed(session, viewer, rule["key"])]) for rule in found]


def figures(session: Session, viewer: Actor, rule: dict, now: dt.datetime | None = None, *,
            reported_within: dt.timedelta) -> list[dict] | None:
    """The figures the rule's last city-wide evaluation stored (its `figures`), those within the viewer's scope,
    each with its `evaluated_at`; None when they cannot stand for the viewer's own query of the cases reported
    within `reported_within` before it (`warning_store.figures`): the caller then queries the cases itself."""
    _fresh(session, [rule], now or utcnow())
    return warning_store.figures(session, viewer, rule["key"], reported_within)


@dataclasses.dataclass(frozen=True)
class RuleWarnings:
    """A rule's active warnings as a page shows them: how many in all, the ones shown, and its last run."""
    rule: dict
    total: int
    warnings: list[EarlyWarning]
    evaluated_at: dt.datetime | None    # the last successful evaluation
    error: str                          # of the last run, when it failed


def overview(platform, session: Session, viewer: Actor, now: dt.datetime | None = None, *,
             limit: int = DASHBOARD_LIMIT) -> list[RuleWarnings]:
    """Every enabled rule with its count of active warnings and the first `limit` (most severe, newest)."""
    found = list(rules(platform, session).values())
    _fresh(session, found, now or utcnow())
    keys = [rule["key"] for rule in found]
    totals, runs = warning_store.counts(session, viewer, keys), warning_store.runs(session, keys)
    return [RuleWarnings(rule, totals.get(rule["key"], 0),
                         [_warning(row) for row in warning_store.listed(session, viewer, rule["key"], limit=limit)]
                         if limit and totals.get(rule["key"]) else [],
                         *_run_of(runs.get(rule["key"]))) for rule in found]


def page(platform, session: Session, viewer: Actor, rule_key: str, number: int, size: int,
         now: dt.datetime | None = None) -> RuleWarnings | None:
    """Page `number` (from 1) of one rule's active warnings; None when no enabled rule has that key."""
    rule = rules(platform, session).get(rule_key)
    if rule is None:
        return None
    _fresh(session, [rule], now or utcnow())
    total = warning_store.counts(session, viewer, [rule_key]).get(rule_key, 0)
    shown = warning_store.listed(session, viewer, rule_key, limit=size, offset=(number - 1) * size)
    return RuleWarnings(rule, total, [_warning(row) for row in shown],
                        *_run_of(warning_store.runs(session, [rule_key]).get(rule_key)))


def _run_of(run) -> tuple[dt.datetime | None, str]:
    return (run.evaluated_at, run.error) if run is not None else (None, "")


def last_evaluated(shown: list[RuleWarnings]) -> dt.datetime | None:
    """When the shown warnings were evaluated: the oldest of the rules' last successes (None if none ran)."""
    times = [item.evaluated_at for item in shown if item.evaluated_at is not None]
    return min(times) if times else None


def find(platform, session: Session, viewer: Actor, rule_key: str, warning_key: str,
         now: dt.datetime | None = None) -> tuple[dict, EarlyWarning]:
    """The active warning, as the viewer sees it; WarningNotFound when handled, gone or out of scope."""
    rule = rules(platform, session).get(rule_key)
    if rule is not None:
        _fresh(session, [rule], now or utcnow())
        row = warning_store.one(session, viewer, rule_key, warning_key)
        if row is not None:
            return rule, _warning(row)
    raise WarningNotFound(f"{rule_key}:{warning_key}")


def record_action(session: Session, actor: Actor, rule: dict, warning: EarlyWarning, action: str, *,
                  case_id: int | None = None, comment: str = "") -> WarningAction:
    """Mark a warning handled (acknowledged or turned into a case); recorded as a change."""
    row = WarningAction(rule_key=warning.rule, warning_key=warning.key, action=action, title=warning.title[:200],
                        region_code=warning.region_code[:15], case_id=case_id, account_id=actor.account_id,
                        actor_name=actor.name[:64], comment=comment, at=utcnow())
    session.add(row)
    session.flush()
    verb = "确认预警" if action == "acknowledge" else "预警转为事件"
    record_change(session, actor, f"warning.{action}", object_type="warning", object_id=row.id,
                  summary=f"{verb}：{warning.title}"[:500],
                  details={"rule": warning.rule, "key": warning.key, "case_id": case_id, "comment": comment})
    return row


def acknowledge(platform, session: Session, actor: Actor, rule_key: str, warning_key: str, *,
                comment: str = "") -> WarningAction:
    rule, warning = find(platform, session, actor, rule_key, warning_key)
    return record_action(session, actor, rule, warning, "acknowledge", comment=comment)


def history(session: Session, viewer: Actor, limit: int = 50) -> list[WarningAction]:
    """Handled warnings within the viewer's scope (by the warning's region), the newest first."""
    statement = select(WarningAction).order_by(WarningAction.at.desc(), WarningAction.id.desc()).limit(limit)
    return list(session.scalars(scope.restrict(statement, WarningAction, viewer)))


def geojson_features(warnings: list[EarlyWarning]) -> list[dict]:
    """Point features of the warnings that have a location, written as every GeoJSON answer is (core.geo.geojson:
    7 decimals; a warning's point is a case's or a record's, stored with all of a float's digits)."""
    from .geo import geojson

    return [geojson.feature(f"{w.rule}:{w.key}", {"type": "Point", "coordinates": [w.lon, w.lat]},
                            {"rule": w.rule, "key": w.key, "title": w.title, "reason": w.reason,
                             "severity": w.severity, "grid_id": w.grid_id, "region_code": w.region_code})
            for w in warnings if w.lon is not None and w.lat is not None]


__all__ = ["EarlyWarning", "RuleWarnings", "SettingsInvalid", "WarningNotFound", "acknowledge", "active", "current",
           "evaluate", "find", "geojson_features", "history", "last_evaluated", "overview", "page", "record_action",
           "refresh", "rules", "save_settings", "settings_of", "validate_settings"]
