"""Where the trained model lives, so every web process and the Celery worker use the same one.

The model (sklearn objects, joblib) is a file under MINQING_MODEL_DIR (default ./instance/models), named for the
database it was trained on and its version; the Setting row `dispatch_model` names the current version. A
process loads the file the row names and keeps it while the row names the same version, so a retrain in the
worker reaches every web process at their next suggestion. Old files are removed after a new one is stored.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import os
import uuid
from pathlib import Path

import joblib
from sqlalchemy.orm import Session

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


def model_dir() -> Path:
    path = Path(os.environ.get("MINQING_MODEL_DIR") or Path.cwd() / "instance" / "models")
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_key(platform) -> str:
    url = platform.db.engine.url.render_as_string(hide_password=True)
    return hashlib.sha256(url.encode()).hexdigest()[:12]


def save(platform, session: Session, model: TextModel, *, samples: int, categories: int,
         corrections: int) -> ModelInfo:
    version = uuid.uuid4().hex[:12]
    prefix = f"dispatch-{database_key(platform)}-"
    path = model_dir() / f"{prefix}{version}.joblib"
    joblib.dump(model, path, compress=3)
    info = ModelInfo(version=version, trained_at=utcnow().isoformat(timespec="seconds"), samples=samples,
                     categories=categories, corrections=corrections, file=path.name)
    row = session.get(Setting, SETTING)
    if row is None:
        session.add(Setting(name=SETTING, value=json.dumps(info.as_dict())))
    else:
        row.value = json.dumps(info.as_dict())
    session.flush()
    for old in model_dir().glob(f"{prefix}*.joblib"):
        if old.name != path.name and _older_than(old, minutes=10):  # a process may still be reading it
            old.unlink(missing_ok=True)
    return info


def _older_than(path: Path, *, minutes: int) -> bool:
    age = dt.datetime.now().timestamp() - path.stat().st_mtime
    return age > minutes * 60


def current(session: Session) -> ModelInfo | None:
    row = session.get(Setting, SETTING)
    if row is None:
        return None
    return ModelInfo(**json.loads(row.value))


def load(session: Session) -> tuple[ModelInfo, TextModel] | None:
    """The current model, or None when none was trained or its file is missing on this machine."""
    info = current(session)
    if info is None or not (model_dir() / info.file).exists():
        return None
    return info, _load_file(str(model_dir() / info.file))


@functools.lru_cache(maxsize=4)
def _load_file(path: str) -> TextModel:
    # keyed by the file's path, which holds the version: a new version is a new key, nothing to invalidate
    return joblib.load(path)
