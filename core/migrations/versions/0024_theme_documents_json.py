"""theme documents and builder drafts keep their authors' key order on PostgreSQL

``theme_versions.document`` and ``theme_drafts.document`` become ``json`` instead of ``jsonb`` on PostgreSQL: jsonb
stores keys sorted (shorter first), so a form published from the builder showed its fields in that order instead
of the author's. Documents stored before keep the order jsonb gave them; a new version or draft save has the
author's. SQLite stores JSON as text already: nothing changes there.

Revision ID: 0024_theme_documents_json
Revises: 0023_patrol_photos
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0024_theme_documents_json'
down_revision = '0023_patrol_photos'
branch_labels = None
depends_on = None

COLUMNS = (("theme_versions", "document"), ("theme_drafts", "document"))


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in COLUMNS:
        op.alter_column(table, column, type_=sa.JSON(), existing_type=postgresql.JSONB(),
                        postgresql_using=f"{column}::json", existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in COLUMNS:
        op.alter_column(table, column, type_=postgresql.JSONB(), existing_type=sa.JSON(),
                        postgresql_using=f"{column}::jsonb", existing_nullable=False)
