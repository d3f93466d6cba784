"""patrol photos: an attachment may belong to a visit (a patrol of a theme record, a key person's or place's
visit), so the department can open it through the record's permission and it is never an unused upload

Revision ID: 0023_patrol_photos
Revises: 0022_key_grids
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0023_patrol_photos'
down_revision = '0022_key_grids'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visit_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_attachments_visit_id'), ['visit_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_attachments_visit_id_visits'), 'visits', ['visit_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_attachments_visit_id_visits'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_attachments_visit_id'))
        batch_op.drop_column('visit_id')
