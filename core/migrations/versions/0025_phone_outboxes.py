"""work end offline: what each phone's outbox holds

``phone_outboxes``: per account, the count of submissions waiting on the phone reported at its last sync, and when
that sync was (shown to the command post).

Revision ID: 0025_phone_outboxes
Revises: 0024_theme_documents_json
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa
import minqing.core.models.base


revision = '0025_phone_outboxes'
down_revision = '0024_theme_documents_json'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('phone_outboxes',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('pending', sa.Integer(), nullable=False),
    sa.Column('synced_at', minqing.core.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_phone_outboxes_account_id_accounts'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_phone_outboxes'))
    )


def downgrade() -> None:
    op.drop_table('phone_outboxes')
