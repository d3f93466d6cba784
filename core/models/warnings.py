"""Early warnings (预警): the current warnings of each rule as its last evaluation found them, when and how each
rule was last evaluated, and what operators did with a warning (acknowledged it, or turned it into a case)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, JSONDocument


class WarningAction(Base):
    """One handled warning, by rule and the warning's stable key; a handled warning leaves the active list."""

    __tablename__ = "warning_actions"
    __table_args__ = (UniqueConstraint("rule_key", "warning_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_key: Mapped[str] = mapped_column(String(60))
    warning_key: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(20))          # "acknowledge" or "case"
    title: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(String(15), default="", index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    actor_name: Mapped[str] = mapped_column(String(64), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime]


class StoredWarning(Base):
    """One warning of a rule's last city-wide evaluation (`core.warning_rules.refresh`), the fields of an
    `EarlyWarning`: pages and the map read these rows within the viewer's scope instead of evaluating the rule.
    Handled warnings stay here while the situation lasts; readers leave them out through `WarningAction`."""

    __tablename__ = "stored_warnings"
    __table_args__ = (UniqueConstraint("rule_key", "warning_key"),
                      Index("ix_stored_warnings_rule_severity", "rule_key", "severity_rank", "first_seen_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_key: Mapped[str] = mapped_column(String(60))
    warning_key: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(10), default="yellow")
    severity_rank: Mapped[int] = mapped_column(default=1)     # 0 red, 1 yellow, 2 blue: the most severe first
    grid_id: Mapped[int | None] = mapped_column(index=True)   # no foreign key: a re-imported grid must not fail it
    region_code: Mapped[str] = mapped_column(String(15), default="", index=True)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    objects: Mapped[list] = mapped_column(JSONDocument, default=list)   # [[kind, id], ...]
    theme_key: Mapped[str] = mapped_column(String(80), default="")
    category: Mapped[str] = mapped_column(String(80), default="")
    subcategory: Mapped[str] = mapped_column(String(80), default="")
    department_key: Mapped[str] = mapped_column(String(40), default="", index=True)   # its staff see it
    first_seen_at: Mapped[dt.datetime]     # the first evaluation that found it; kept while it persists
    evaluated_at: Mapped[dt.datetime]      # the last evaluation that found it


class StoredWarningFigure(Base):
    """A count a rule's last city-wide evaluation kept beside its warnings (`EarlyWarning`s are what it found;
    figures are what a dashboard panel adds up within a viewer's scope instead of reading a month of cases), e.g.
    同类事件激增's recent and baseline cases per grid, region code and category. Replaced with the rule's warnings;
    read within the viewer's scope by the row's region (and grid), as the warnings are."""

    __tablename__ = "stored_warning_figures"

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_key: Mapped[str] = mapped_column(String(60), index=True)
    grid_id: Mapped[int | None] = mapped_column(index=True)   # no foreign key, as stored_warnings
    region_code: Mapped[str] = mapped_column(String(15), default="", index=True)
    data: Mapped[dict] = mapped_column(JSONDocument, default=dict)
    evaluated_at: Mapped[dt.datetime]


class WarningRuleRun(Base):
    """A rule's last evaluation: when it was tried, when it last succeeded, how long it took, how many warnings it
    found, and the error when it failed (its previous warnings then stay as they were)."""

    __tablename__ = "warning_rule_runs"

    rule_key: Mapped[str] = mapped_column(String(60), primary_key=True)
    attempted_at: Mapped[dt.datetime]
    evaluated_at: Mapped[dt.datetime | None]     # the last success; None when it never succeeded
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    warnings: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")
