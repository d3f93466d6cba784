"""Installation-wide secrets and values, created once and kept in the database unless the environment sets them.

Production sets MINQING_SECRET_KEY (and keeps it out of the database backups' reach); a demo or a test gets a
random key made on first use.

MINQING_LOOKUP_KEY is the key of the digests that look residents up by ID number (`masking.id_digest`). Unset, it
is derived from the secret key (HMAC-SHA256 of the secret key over the label below), so one secret still does
and the session-signing key is never used as the digest key itself. Changing either key makes the stored digests
stale: `minqing personal-data rehash` computes them again.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import weakref

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .models import Setting

SECRET_KEY = "secret_key"


def get_or_create(session: Session, name: str, make) -> str:
    row = session.get(Setting, name)
    if row is not None:
        return row.value
    try:
        with session.begin_nested():
            session.add(Setting(name=name, value=make()))
    except IntegrityError:  # another process made it first: use theirs
        pass
    return session.get(Setting, name).value


_secrets: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()   # engine -> secret key: made once, never changed


def secret_key(session: Session) -> bytes:
    """The installation's secret (signing, API key digests): $MINQING_SECRET_KEY, else the one stored. Read from
    the database once per engine: every API request needs it, and nothing ever changes it once made."""
    from_environment = os.environ.get("MINQING_SECRET_KEY")
    if from_environment:
        return from_environment.encode()
    engine = session.get_bind()
    known = _secrets.get(engine)
    if known is None:
        known = _secrets[engine] = get_or_create(session, SECRET_KEY, lambda: secrets.token_hex(32)).encode()
    return known


LOOKUP_KEY_LABEL = b"minqing/id-number-lookup/v1"


def lookup_key(session: Session) -> bytes:
    """The key of ID-number look-up digests: MINQING_LOOKUP_KEY, else derived from the secret key."""
    from_environment = os.environ.get("MINQING_LOOKUP_KEY")
    if from_environment:
        return from_environment.encode()
    return derive_lookup_key(secret_key(session))


def derive_lookup_key(secret: bytes) -> bytes:
    return hmac.new(secret, LOOKUP_KEY_LABEL, hashlib.sha256).hexdigest().encode()
