"""Early-warning rules (预警规则) from the `warning_rules` hook: their settings, their current warnings, and
what operators did with them.

A rule is a dict a plugin answers (see `core/hooks.py`): ``key``, ``title``, ``settings`` (defaults),
``schema`` (JSON Schema of the settings) and ``evaluate(session, viewer, settings, now)`` returning
`EarlyWarning`s within the viewer's scope. An administrator's settings of a rule are kept in the `Setting`
table under ``warning_rule:<key>`` as JSON, validated against the rule's schema before they are stored.

A handled warning (acknowledged, or turned into a case: `WarningAction`) leaves the active list and stays in
the history. Warnings are computed on demand: the stable key of a warning names what it is about (e.g. the
grid, category and window), so the same situation keeps its key from one evaluation to the next.

`WARNING_SOURCE` (the source of the cases made from a warning) and `city_today` are what the rule plugins share.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging

import jsonschema
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import city, scope
from .actors import Actor
from .changes import record_change
from .models import Setting, WarningAction, utcnow

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


def active(platform, session: Session, viewer: Actor, now: dt.datetime | None = None
           ) -> list[tuple[dict, list[EarlyWarning]]]:
    """(rule, its active warnings) for every rule of the enabled plugins; a rule that fails is logged and left
    out, so one broken rule does not take the dashboard down."""
    now = now or utcnow()
    shown = []
    for rule in rules(platform, session).values():
        try:
            shown.append((rule, evaluate(session, viewer, rule, now)))
        except Exception:
            log.exception("warning rule %s failed", rule["key"])
    return shown


def find(platform, session: Session, viewer: Actor, rule_key: str, warning_key: str,
         now: dt.datetime | None = None) -> tuple[dict, EarlyWarning]:
    """The active warning, as the viewer sees it; WarningNotFound when handled, gone or out of scope."""
    rule = rules(platform, session).get(rule_key)
    if rule is not None:
        for warning in evaluate(session, viewer, rule, now):
            if warning.key == warning_key:
                return rule, warning
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


__all__ = ["EarlyWarning", "SettingsInvalid", "WarningNotFound", "acknowledge", "active", "evaluate", "find",
           "geojson_features", "history", "record_action", "rules", "save_settings", "settings_of",
           "validate_settings"]
