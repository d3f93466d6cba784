"""cadres: posts and responsibilities, household visits

``cadre_posts``: an account's cadre post (村两委, 乡镇包村干部, 党组织书记, 自然村长/村民小组长) in a village or
township; ``cadre_grids``: the grids a cadre is responsible for; ``visits.visitor_post``: the post of a cadre who
made a visit, so it counts for them (户户见干部).

Revision ID: 0021_cadres
Revises: 0020_notifications_read
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa
import minqing.core.models.base


revision = '0021_cadres'
down_revision = '0020_notifications_read'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cadre_posts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('post', sa.String(length=20), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('assigned_at', minqing.core.models.base.UTCDateTime(), nullable=False),
    sa.CheckConstraint("post in ('village_committee','township_liaison','party_secretary','group_leader')",
                       name=op.f('ck_cadre_posts_post')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_cadre_posts_account_id_accounts'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_cadre_posts_region_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cadre_posts')),
    sa.UniqueConstraint('account_id', name=op.f('uq_cadre_posts_account_id'))
    )
    with op.batch_alter_table('cadre_posts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cadre_posts_region_id'), ['region_id'], unique=False)
    op.create_table('cadre_grids',
    sa.Column('cadre_post_id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('assigned_at', minqing.core.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['cadre_post_id'], ['cadre_posts.id'],
                            name=op.f('fk_cadre_grids_cadre_post_id_cadre_posts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_cadre_grids_grid_id_grids'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('cadre_post_id', 'grid_id', name=op.f('pk_cadre_grids'))
    )
    with op.batch_alter_table('cadre_grids', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cadre_grids_grid_id'), ['grid_id'], unique=False)
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visitor_post', sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_column('visitor_post')
    with op.batch_alter_table('cadre_grids', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cadre_grids_grid_id'))
    op.drop_table('cadre_grids')
    with op.batch_alter_table('cadre_posts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cadre_posts_region_id'))
    op.drop_table('cadre_posts')
