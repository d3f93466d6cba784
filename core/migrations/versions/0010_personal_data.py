"""personal data: ID-number look-up digests under the dedicated look-up key

The residents' `id_digest` was first computed with the secret key itself. From this revision on it is keyed
with the look-up key (MINQING_LOOKUP_KEY, or derived from the secret key: `core.settings.lookup_key`), so this
data migration computes every digest again, 1,000 rows at a time, on SQLite and PostgreSQL alike. No schema
change: key persons are residents and are looked up through their resident's digest.

Downgrade computes the digests with the secret key again.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""
import os

from alembic import op
import sqlalchemy as sa

from minqing.core.privacy.id_lookup import rehash
from minqing.core.settings import derive_lookup_key


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

_SETTINGS = sa.table("settings", sa.column("name", sa.String), sa.column("value", sa.String))


def _secret(connection) -> bytes | None:
    from_environment = os.environ.get("MINQING_SECRET_KEY")
    if from_environment:
        return from_environment.encode()
    value = connection.execute(sa.select(_SETTINGS.c.value).where(_SETTINGS.c.name == "secret_key")).scalar()
    return value.encode() if value else None


def _has_residents(connection) -> bool:
    return connection.execute(sa.text("SELECT 1 FROM residents LIMIT 1")).first() is not None


def upgrade() -> None:
    connection = op.get_bind()
    if not _has_residents(connection):
        return
    from_environment = os.environ.get("MINQING_LOOKUP_KEY")
    secret = _secret(connection)
    if not from_environment and secret is None:
        raise RuntimeError("residents exist but no secret key is known: set MINQING_SECRET_KEY or MINQING_LOOKUP_KEY")
    rehash(connection, from_environment.encode() if from_environment else derive_lookup_key(secret))


def downgrade() -> None:
    connection = op.get_bind()
    secret = _secret(connection)
    if _has_residents(connection) and secret is not None:
        rehash(connection, secret)
