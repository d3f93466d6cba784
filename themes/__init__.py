"""Business themes (业务主题): the theme document, the registry of the enabled plugins' themes, published
versions and theme records, routing by category, map layers, coverage and grid colours. See docs/themes.md.

    from minqing import themes

    themes.validate_theme(document)                        # [] or [ThemeProblem(path, message), ...]
    registry = themes.registry(platform, session)          # enabled plugins' themes + the issues found
    themes.sync_themes(platform, session, actor)           # publish changed documents as new versions
    themes.route(registry.get("urban_management.street_vending"), "0301")   # → department key
    themes.visible_layers(platform, session, viewer)       # layers by department
    themes.layer_features(platform, session, key, viewer, bbox)            # GeoJSON features, scoped
    themes.records.create/update/retire/history(...)       # department ledgers (台账), see themes/records.py
"""
from . import colours
from .citizen_form import citizen_fields, citizen_report_form, citizen_report_ui
from .coverage import coverage
from .document import (BrokenTheme, ThemeDocument, ThemeError, ThemeProblem, content_hash, load_theme_file,
                       meta_schema, validate_theme)
from .layers import BadFilter, LayerHidden, layer_features, layer_page, visible_layers
from .patrols import due_for_patrol, mark_patrolled
from .registry import THEMES_COUNTER, Registry, Theme, ThemeIssue, UnknownTheme, get_theme, registry, themes
from .routing import UnknownCategory, route, routing_table
from . import freshness, patrols  # 数据鲜活度; patrols of records (巡查: record_patrol, patrol_tasks)
from .patrols import PatrolRefused, overdue_counts, patrol_tasks, record_patrol
from . import ledger_files, records  # ledger_files: `minqing import/export records`
from .records import RecordError, RecordNotFound, RecordRefused, RecordRetired, StaleRecord
from .versions import (NotPublished, Published, RecordInvalid, UnknownFormVersion, add_record, form_version,
                       latest_versions, record_schema, sync_themes, theme_at, theme_version, validate_record)

__all__ = [
    "BrokenTheme", "citizen_fields", "citizen_report_form", "citizen_report_ui", "LayerHidden", "NotPublished", "Published", "RecordInvalid", "Registry", "Theme",
    "ThemeDocument", "ThemeError", "ThemeIssue", "ThemeProblem", "THEMES_COUNTER", "UnknownCategory",
    "UnknownTheme", "add_record", "colours", "content_hash", "coverage", "due_for_patrol", "get_theme",
    "form_version", "latest_versions", "layer_features", "layer_page", "load_theme_file", "mark_patrolled", "meta_schema", "record_schema",
    "registry", "route", "routing_table", "sync_themes", "theme_at", "theme_version", "UnknownFormVersion", "themes", "validate_record",
    "validate_theme", "visible_layers",
    "RecordError", "RecordNotFound", "RecordRefused", "RecordRetired", "StaleRecord", "ledger_files", "records",
    "PatrolRefused", "freshness", "overdue_counts", "patrol_tasks", "patrols", "record_patrol",
    "BadFilter",
]
