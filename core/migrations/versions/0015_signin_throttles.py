"""sign-in failures per account and source address

``signin_throttles``: wrong passwords for one account from one source (an IPv4 address or an IPv6 /64), so a
source that guesses is locked out of that account without locking its owner out (see ``core/accounts/signin.py``).

Revision ID: 0015_signin_throttles
Revises: 0014
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa
import minqing.core.models.base


revision = '0015_signin_throttles'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('signin_throttles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('locked_until', minqing.core.models.base.UTCDateTime(), nullable=True),
    sa.Column('last_failure_at', minqing.core.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_signin_throttles_account_id_accounts'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signin_throttles')),
    sa.UniqueConstraint('account_id', 'source', name=op.f('uq_signin_throttles_account_id'))
    )
    with op.batch_alter_table('signin_throttles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signin_throttles_account_id'), ['account_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('signin_throttles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signin_throttles_account_id'))
    op.drop_table('signin_throttles')
