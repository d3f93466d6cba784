"""in-app notifications: read state

``notification_reads``: which in-app notification (channel ``inbox``) each account has read;
``notification_cursors``: an account's "mark all as read" (everything up to an id); and an index on the
notifications' recipient, for the notifications page and the unread badge.

Revision ID: 0020_notifications_read
Revises: 0019_record_patrols
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa
import minqing.core.models.base


revision = '0020_notifications_read'
down_revision = '0019_record_patrols'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notification_reads',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('notification_id', sa.Integer(), nullable=False),
    sa.Column('read_at', minqing.core.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_notification_reads_account_id_accounts'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'],
                            name=op.f('fk_notification_reads_notification_id_notifications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'notification_id', name=op.f('pk_notification_reads'))
    )
    op.create_table('notification_cursors',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('read_through_id', sa.Integer(), nullable=False),
    sa.Column('updated_at', minqing.core.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_notification_cursors_account_id_accounts'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_notification_cursors'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_recipient_id', ['recipient', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_recipient_id')
    op.drop_table('notification_cursors')
    op.drop_table('notification_reads')
