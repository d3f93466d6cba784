"""Look-ups by ID number through a keyed digest, never through the plain number.

Residents carry `id_digest` = HMAC-SHA256(lookup key, number), unique; key persons are residents, so a key
person is found by the digest of their resident. Searches (the API, imports, plugins) compute the digest of the
number they were given and compare digests: no query and no index ever carries a plain ID number.

`rehash` computes every stored digest again under the current key (after MINQING_LOOKUP_KEY or the secret key
changed); migration 0010 runs it once, because the digests were first made with the secret key itself.
"""
from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from minqing.core.privacy.masking import id_digest
from minqing.core.models import KeyPerson, Resident
from minqing.core.settings import lookup_key

REHASH_BATCH = 1000
# Table-level, so migration 0010 keeps working whatever the models become later.
_RESIDENTS = sa.table("residents", sa.column("id", sa.Integer), sa.column("id_number", sa.String),
                      sa.column("id_digest", sa.String))


def digest(session: Session, id_number: str) -> str:
    """The look-up digest of one ID number (any letter case)."""
    return id_digest(lookup_key(session), id_number.strip())


def resident_is(session: Session, id_number: str) -> ColumnElement[bool]:
    """WHERE clause: the resident with this ID number."""
    return Resident.id_digest == digest(session, id_number)


def key_person_is(session: Session, id_number: str) -> ColumnElement[bool]:
    """WHERE clause: the key-person rows of the resident with this ID number."""
    return KeyPerson.resident_id.in_(select(Resident.id).where(resident_is(session, id_number)))


def rehash(connection: sa.Connection, key: bytes, *, batch_size: int = REHASH_BATCH,
           progress: Callable[[int], None] | None = None) -> int:
    """Recompute every resident's digest under `key`, `batch_size` rows at a time (keyset by id, so memory stays
    flat and a PostgreSQL or SQLite database of millions of residents is walked once). Returns the rows done."""
    done, last_id = 0, 0
    while True:
        rows = connection.execute(select(_RESIDENTS.c.id, _RESIDENTS.c.id_number).where(_RESIDENTS.c.id > last_id)
                                  .order_by(_RESIDENTS.c.id).limit(batch_size)).all()
        if not rows:
            return done
        connection.execute(_RESIDENTS.update().where(_RESIDENTS.c.id == sa.bindparam("row_id"))
                           .values(id_digest=sa.bindparam("new_digest")),
                           [{"row_id": row_id, "new_digest": id_digest(key, number)} for row_id, number in rows])
        done, last_id = done + len(rows), rows[-1][0]
        if progress:
            progress(len(rows))
