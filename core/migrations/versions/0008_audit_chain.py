"""hash-chained audit log

Adds the hash chain to ``audit_log`` (``seq``, ``prev_hash``, ``hash``; existing records are chained in the
order of their ids) and its head, ``audit_chain``. On PostgreSQL, triggers make the log append-only in the
database: UPDATE is always refused, TRUNCATE unless ``minqing.audit_truncate`` is on (emptying a test
database), DELETE unless ``minqing.audit_retention`` is on (set by the retention job inside its transaction) and
even then never for a record younger than 184 days. See ``core/audit/`` and docs/security.md, "Audit log".

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""
from types import SimpleNamespace

from alembic import op
import sqlalchemy as sa
import minqing.core.models.base


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

GENESIS = "0" * 64

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('minqing.audit_retention', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' AND current_setting('minqing.audit_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % refused (only the retention job removes old records)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
"""
KEEP_184_DAYS = """
CREATE OR REPLACE FUNCTION audit_log_keep_184_days() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM removed WHERE at > (now() AT TIME ZONE 'UTC') - interval '184 days') THEN
        RAISE EXCEPTION 'audit records younger than 184 days must be kept'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END $$;
"""
TRIGGERS = [
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_keep_184_days AFTER DELETE ON audit_log REFERENCING OLD TABLE AS removed "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_keep_184_days()",
]


def upgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
    last_seq, last_hash = _chain_existing_records()
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_audit_log_seq'), ['seq'])
    head = op.create_table('audit_chain',
    sa.Column('name', sa.String(length=20), nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.Column('anchor_seq', sa.BigInteger(), nullable=False),
    sa.Column('anchor_hash', sa.String(length=64), nullable=False),
    sa.Column('anchor_at', minqing.core.models.base.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_audit_chain'))
    )
    op.bulk_insert(head, [{"name": "main", "last_seq": last_seq, "last_hash": last_hash, "anchor_seq": 0,
                           "anchor_hash": GENESIS, "anchor_at": None}])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY)
        op.execute(KEEP_184_DAYS)
        for statement in TRIGGERS:
            op.execute(statement)


def _chain_existing_records() -> tuple[int, str]:
    """Number and hash the records already there, in the order they were written (by id)."""
    from minqing.core.audit.chain import record_hash

    log = sa.table('audit_log', sa.column('id', sa.Integer()), sa.column('at', minqing.core.models.base.UTCDateTime()),
                   sa.column('actor_account_id', sa.Integer()), sa.column('actor_name', sa.String()),
                   sa.column('origin', sa.String()), sa.column('action', sa.String()),
                   sa.column('object_type', sa.String()), sa.column('object_id', sa.String()),
                   sa.column('summary', sa.Text()), sa.column('details', minqing.core.models.base.JSONDocument),
                   sa.column('seq', sa.BigInteger()), sa.column('prev_hash', sa.String()),
                   sa.column('hash', sa.String()))
    bind = op.get_bind()
    rows = bind.execute(sa.select(log).order_by(log.c.id)).mappings().all()
    previous, updates = GENESIS, []
    for seq, row in enumerate(rows, start=1):
        record = SimpleNamespace(**{**row, "seq": seq, "prev_hash": previous})
        updates.append({"row_id": row["id"], "seq": seq, "prev_hash": previous, "hash": record_hash(record)})
        previous = updates[-1]["hash"]
    if updates:
        bind.execute(log.update().where(log.c.id == sa.bindparam("row_id"))
                     .values(seq=sa.bindparam("seq"), prev_hash=sa.bindparam("prev_hash"), hash=sa.bindparam("hash")),
                     updates)
    return len(rows), previous


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_keep_184_days ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_keep_184_days()")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    op.drop_table('audit_chain')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_log_seq'), type_='unique')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('seq')
