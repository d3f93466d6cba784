"""The platform's own bookkeeping: plugin switches, change counters, the audit log and its chain head."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class PluginState(Base):
    """An administrator's choice for one plugin, and the last error it raised. No row means enabled."""

    __tablename__ = "plugin_states"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_error_hook: Mapped[str] = mapped_column(String(60), default="")
    last_error_at: Mapped[dt.datetime | None]
    error_count: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")


class ChangeCounter(Base):
    """A number bumped whenever something cached in every process changes (grids, plugins, themes).

    Each process compares the number with the one it cached under, so a change made by one web process or
    CLI command takes effect in all of them without a restart.
    """

    __tablename__ = "change_counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


class AuditRecord(Base):
    """Who did what, when, from where. Rows are only ever added (the retention job alone removes old ones).

    The log is several hash chains, its streams (`stream`, the name of its head in `audit_chain`): `seq` numbers
    a stream's records without gaps in the order they were committed; `hash` is SHA-256 over the record's
    content and `prev_hash`, the hash of the record before it in its stream, so a changed or deleted record
    breaks its stream where it happened (`core.audit.chain` writes it, `core.audit.verify` walks it). Records
    written before streams existed are the stream "main" (migration 0029).
    """

    __tablename__ = "audit_log"
    __table_args__ = (UniqueConstraint("stream", "seq", name="uq_audit_log_stream_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stream: Mapped[str] = mapped_column(String(20), default="main", server_default="main")
    seq: Mapped[int] = mapped_column(BigInteger)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor_account_id: Mapped[int | None]
    actor_name: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str] = mapped_column(String(40), default="")
    object_id: Mapped[str] = mapped_column(String(64), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict] = mapped_column(default=dict)


class AuditChain(Base):
    """The head of one stream of the audit log (`name`: "main", "s1", "s2", …): updated by every committing
    transaction that sealed its audit records into that stream, and locked while it appends them so the stream
    stays one line. Writers committing at once take different streams (`core.audit.chain`).

    `anchor_seq`/`anchor_hash` are the stream's last record the retention job removed: it now starts after it.
    """

    __tablename__ = "audit_chain"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
    anchor_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    anchor_hash: Mapped[str] = mapped_column(String(64))
    anchor_at: Mapped[dt.datetime | None]


class Setting(Base):
    """Installation-wide values the platform creates once (e.g. the key of ID-number digests)."""

    __tablename__ = "settings"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
