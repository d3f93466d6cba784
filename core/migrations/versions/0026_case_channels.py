"""intake channels: each case names the channel it came in through and that channel's own id of the item, one case
per (channel, external id); the rows a channel sends back to its outside system (status back)

Cases stored before take their channel from their source (a grid worker's report came through the work end, a
citizen's through the citizen end, an API client's through REST; Open311 reports were stored as "api" and stay
there); other sources (early warnings, plugins) are their own channel.

Revision ID: 0026_case_channels
Revises: 0025_phone_outboxes
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

from minqing.core.models.base import UTCDateTime


revision = '0026_case_channels'
down_revision = '0025_phone_outboxes'
branch_labels = None
depends_on = None

CHANNEL_OF_SOURCE = {"grid_worker": "work", "citizen": "citizen", "api": "api", "hotline": "12345"}


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=20), server_default='', nullable=False))
        batch_op.add_column(sa.Column('external_id', sa.String(length=100), nullable=True))
        batch_op.create_unique_constraint('uq_cases_channel_external_id', ['channel', 'external_id'])
    cases = sa.table('cases', sa.column('source', sa.String), sa.column('channel', sa.String))
    for source, channel in CHANNEL_OF_SOURCE.items():
        op.execute(cases.update().where(cases.c.source == source).values(channel=channel))
    op.execute(cases.update().where(cases.c.channel == '').values(channel=sa.func.substr(cases.c.source, 1, 20)))
    op.create_table(
        'channel_updates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('external_id', sa.String(length=100), nullable=False),
        sa.Column('transition', sa.String(length=40), nullable=False),
        sa.Column('status', sa.String(length=40), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_channel_updates_case_id_cases')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_updates')))
    with op.batch_alter_table('channel_updates', schema=None) as batch_op:
        batch_op.create_index('ix_channel_updates_channel_id', ['channel', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_channel_updates_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_channel_updates_at'), ['at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('channel_updates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_channel_updates_at'))
        batch_op.drop_index(batch_op.f('ix_channel_updates_case_id'))
        batch_op.drop_index('ix_channel_updates_channel_id')
    op.drop_table('channel_updates')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint('uq_cases_channel_external_id', type_='unique')
        batch_op.drop_column('external_id')
        batch_op.drop_column('channel')
