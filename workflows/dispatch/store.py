"""Where the trained model lives, so every web process and the Celery worker use the same one.

The model (sklearn objects, joblib) is an object in the models store (core/storage.py: a file under
MINQING_MODEL_DIR, default ./instance/models, or the object store every node shares), named for the database it was
trained on and its version; the Setting row `dispatch_model` names the current version. A process loads the object
the row names and keeps it while the row names the same version, so a retrain in the worker reaches every web
process at their next suggestion. Old models are removed after a new one is stored.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import io
import json
import uuid

import joblib
from sqlalchemy.orm import Session

from minqing.core import storage
from minqing.core.models import Setting, utcnow

from .model import TextModel

SETTING = "dispatch_model"


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    version: str
    trained_at: str
    samples: int            # cases learnt from (the categories' own titles not counted)
    categories: int
    corrections: int        # cases re-dispatched after a 退回, learnt with their corrected category
    file: str

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def database_key(platform) -> str:
    url = platform.db.engine.url.render_as_string(hide_password=True)
    return hashlib.sha256(url.encode()).hexdigest()[:12]


def save(platform, session: Session, model: TextModel, *, samples: int, categories: int,
         corrections: int) -> ModelInfo:
    version = uuid.uuid4().hex[:12]
    prefix = f"dispatch-{database_key(platform)}-"
    name = f"{prefix}{version}.joblib"
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=3)
    models = storage.models()
    models.put(name, buffer.getvalue())
    info = ModelInfo(version=version, trained_at=utcnow().isoformat(timespec="seconds"), samples=samples,
                     categories=categories, corrections=corrections, file=name)
    row = session.get(Setting, SETTING)
    if row is None:
        session.add(Setting(name=SETTING, value=json.dumps(info.as_dict())))
    else:
        row.value = json.dumps(info.as_dict())
    session.flush()
    stale = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)   # a process may still be reading a recent one
    for old, modified in list(models.listing(prefix)):
        if old != name and old.endswith(".joblib") and modified < stale:
            models.delete(old)
    return info


def current(session: Session) -> ModelInfo | None:
    row = session.get(Setting, SETTING)
    if row is None:
        return None
    return ModelInfo(**json.loads(row.value))


def load(session: Session) -> tuple[ModelInfo, TextModel] | None:
    """The current model, or None when none was trained or its object is missing from this node's store."""
    info = current(session)
    if info is None:
        return None
    try:
        return info, _load(storage.models(), info.file)
    except storage.Missing:
        return None


@functools.lru_cache(maxsize=4)
def _load(models: storage.Store, name: str) -> TextModel:
    # keyed by the store (its folder, or bucket and prefix) and the object's name, which holds the version: a new
    # version is a new key, nothing to invalidate; a missing object raises, so it is not cached and is looked for
    # again at the next call
    return joblib.load(io.BytesIO(models.get(name)))
