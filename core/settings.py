"""Installation-wide secrets and values, created once and kept in the database unless the environment sets them.

Production sets MINQING_SECRET_KEY (and keeps it out of the database backups' reach); a demo or a test gets a
random key made on first use.
"""
from __future__ import annotations

import os
import secrets

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


def secret_key(session: Session) -> bytes:
    from_environment = os.environ.get("MINQING_SECRET_KEY")
    if from_environment:
        return from_environment.encode()
    return get_or_create(session, SECRET_KEY, lambda: secrets.token_hex(32)).encode()
