"""audit log streams: several hash chains, so committing writers need not queue on one head row

Adds ``audit_log.stream`` (the name of the record's chain, its head a row of ``audit_chain``) and makes ``seq``
unique within a stream instead of across the log. Every record already there becomes the stream ``main``
unchanged: a record of ``main`` is hashed without its stream, so the existing hashes still verify. The other
streams ("s1", "s2", …) get their head on first use and start at genesis. See ``core/audit/chain.py``.

Downgrade only while every other stream is empty (no record in it and its head never moved): below this revision
the log is one chain, and records of other streams cannot join it without being re-hashed, which would destroy
the evidence they are. The downgrade refuses otherwise, saying so; the empty heads are removed.

Revision ID: 0029_audit_streams
Revises: 0028_briefs
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa


revision = '0029_audit_streams'
down_revision = '0028_briefs'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN with a default fills the existing rows without an UPDATE (which the append-only trigger of
    # migration 0008 refuses on PostgreSQL)
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stream', sa.String(length=20), server_default='main', nullable=False))
        batch_op.drop_constraint('uq_audit_log_seq', type_='unique')
        batch_op.create_unique_constraint('uq_audit_log_stream_seq', ['stream', 'seq'])


def downgrade() -> None:
    bind = op.get_bind()
    records = bind.scalar(sa.text("SELECT count(*) FROM audit_log WHERE stream <> 'main'"))
    used = bind.scalar(sa.text("SELECT count(*) FROM audit_chain WHERE name <> 'main' AND last_seq > 0"))
    if records or used:
        raise RuntimeError(f"无法降级到 0029 之前：审计日志的 main 以外的链中有记录（{records} 条，{used} 条链用过）。"
                           "0029 之前审计日志只有一条链，这些记录无法并入而不重算哈希（那会毁掉它们作为证据的价值）。"
                           "请保留 0029 及之后的版本")
    op.execute("DELETE FROM audit_chain WHERE name <> 'main'")
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_constraint('uq_audit_log_stream_seq', type_='unique')
        batch_op.create_unique_constraint('uq_audit_log_seq', ['seq'])
        batch_op.drop_column('stream')
