"""a city runs its staff, departments and citizen content: parent departments, one-time password codes,
publication drafts with their history

``departments.parent_id``: a county's bureau under the city's department (城关区城市管理综合执法局 under 城管).
``password_codes``: one-time codes (SMS or given out by an administrator) with which staff sign in to set a
password. ``publications.status`` (draft, published, withdrawn; existing rows from ``withdrawn``),
``publications.updated_at`` and ``publication_events``: who wrote, published and withdrew an item, and when.

Revision ID: 0017_accounts_content
Revises: 0016_city_import
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa
import minqing.core.models.base


revision = '0017_accounts_content'
down_revision = '0016_city_import'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_departments_parent_id'), ['parent_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_departments_parent_id_departments'), 'departments',
                                    ['parent_id'], ['id'])
    op.create_table('password_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('code_digest', sa.String(length=64), nullable=False),
    sa.Column('created_at', minqing.core.models.base.UTCDateTime(), nullable=False),
    sa.Column('expires_at', minqing.core.models.base.UTCDateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('used_at', minqing.core.models.base.UTCDateTime(), nullable=True),
    sa.Column('origin', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_password_codes_account_id_accounts'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_codes'))
    )
    with op.batch_alter_table('password_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_password_codes_account_id'), ['account_id'], unique=False)
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=20), server_default='published', nullable=False))
        batch_op.add_column(sa.Column('updated_at', minqing.core.models.base.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_publications_status'), ['status'], unique=False)
    op.execute("UPDATE publications SET status = 'withdrawn' WHERE withdrawn")
    op.create_table('publication_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('publication_id', sa.Integer(), nullable=False),
    sa.Column('at', minqing.core.models.base.UTCDateTime(), nullable=False),
    sa.Column('actor_account_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['actor_account_id'], ['accounts.id'],
                            name=op.f('fk_publication_events_actor_account_id_accounts')),
    sa.ForeignKeyConstraint(['publication_id'], ['publications.id'],
                            name=op.f('fk_publication_events_publication_id_publications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publication_events'))
    )
    with op.batch_alter_table('publication_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_publication_events_publication_id'), ['publication_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('publication_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_publication_events_publication_id'))
    op.drop_table('publication_events')
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_publications_status'))
        batch_op.drop_column('updated_at')
        batch_op.drop_column('status')
    with op.batch_alter_table('password_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_password_codes_account_id'))
    op.drop_table('password_codes')
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_departments_parent_id_departments'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_departments_parent_id'))
        batch_op.drop_column('parent_id')
