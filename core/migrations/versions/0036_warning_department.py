"""stored early warnings carry the department whose matter they are (``department_key``), so that department's staff
see them (``core/scope.py``), as they see the warnings under their department's themes

Nothing to backfill: a rule's next refresh (every few minutes, or the next reader of a stale rule) rewrites its
rows with the department; until then the column is empty and department staff see the warnings of their themes.

Revision ID: 0036_warning_department
Revises: 0035_dashboard_panels
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa


revision = '0036_warning_department'
down_revision = '0035_dashboard_panels'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('stored_warnings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('department_key', sa.String(length=40), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_stored_warnings_department_key'), ['department_key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('stored_warnings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stored_warnings_department_key'))
        batch_op.drop_column('department_key')
