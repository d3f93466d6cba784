"""Where files live that every process must read: uploads (photos, PDFs, their thumbnails) and dispatch models.

Two backends behind one small interface (`put`, `get`, `exists`, `delete`, `listing`), chosen by settings:

- a local folder, the embedded default: uploads under MINQING_UPLOAD_DIR (./instance/uploads), models under
  MINQING_MODEL_DIR (./instance/models), published 研判 briefs under MINQING_BRIEF_DIR (./instance/briefs);
  folders 0700 and files 0600, whatever the umask (residents' photos);
- an S3-compatible object store, when MINQING_OBJECT_STORE_URL=s3://bucket/prefix is set: every web node and worker
  then reads the same objects, under ``prefix/uploads/``, ``prefix/models/`` and ``prefix/briefs/``.
  MINQING_S3_ENDPOINT_URL points it at a city's MinIO or Ceph (unset: AWS itself); credentials and region come from
  the usual AWS settings (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, or a profile or instance
  role) as boto3 reads them.

Keys are plain names made by the platform (``<hex id>.jpg``), never a user's file name.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import os
import secrets
from pathlib import Path
from typing import Iterator, Protocol
from urllib.parse import urlsplit

from .ops.private_files import private_directory, write_private

AREAS = {"uploads": ("MINQING_UPLOAD_DIR", "uploads"), "models": ("MINQING_MODEL_DIR", "models"),
         "briefs": ("MINQING_BRIEF_DIR", "briefs")}


class Missing(FileNotFoundError):
    """No object under that key (a FileNotFoundError, as reading a missing local file always was)."""


class ObjectStoreMisconfigured(ValueError):
    """MINQING_OBJECT_STORE_URL names no bucket this module can use; the message says how to write it."""


class Store(Protocol):
    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
    def listing(self, prefix: str = "") -> Iterator[tuple[str, dt.datetime]]: ...


def _checked(key: str) -> str:
    if not key or "/" in key or "\\" in key or key.startswith("."):
        raise ValueError(f"not a storage key: {key!r}")   # the platform's own names only: no paths
    return key


@dataclasses.dataclass(frozen=True)
class LocalStore:
    """A folder on this machine, created 0700 at the first write; files written 0600 and replaced atomically."""
    root: Path

    def put(self, key: str, data: bytes) -> None:
        folder = private_directory(self.root)
        target = folder / _checked(key)
        temporary = folder / f".{key}.{secrets.token_hex(4)}.tmp"
        write_private(temporary, data)
        os.replace(temporary, target)   # two writers at once: either wins, no reader sees half of one

    def get(self, key: str) -> bytes:
        try:
            return (self.root / _checked(key)).read_bytes()
        except FileNotFoundError:
            raise Missing(f"{self.root / key}") from None

    def exists(self, key: str) -> bool:
        return (self.root / _checked(key)).is_file()

    def delete(self, key: str) -> None:
        (self.root / _checked(key)).unlink(missing_ok=True)

    def listing(self, prefix: str = "") -> Iterator[tuple[str, dt.datetime]]:
        if not self.root.is_dir():
            return
        for path in self.root.glob(f"{prefix}*"):
            if path.is_file() and not path.name.startswith("."):
                yield path.name, dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc)


@dataclasses.dataclass(frozen=True)
class S3Store:
    """Objects under `prefix` in an S3 bucket (AWS, MinIO, Ceph RGW, …), private: no ACL is ever granted."""
    client: object
    bucket: str
    prefix: str

    def _name(self, key: str) -> str:
        return f"{self.prefix}{_checked(key)}"

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=data)

    def get(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"].read()
        except self.client.exceptions.NoSuchKey:
            raise Missing(f"s3://{self.bucket}/{self._name(key)}") from None

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def listing(self, prefix: str = "") -> Iterator[tuple[str, dt.datetime]]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                      Prefix=f"{self.prefix}{prefix}")
        for page in pages:
            for item in page.get("Contents", ()):
                yield item["Key"][len(self.prefix):], item["LastModified"]


def uploads() -> Store:
    """Uploaded files and their thumbnails."""
    return for_area("uploads")


def models() -> Store:
    """The dispatch suggestions' trained models."""
    return for_area("models")


def briefs() -> Store:
    """The published 研判 briefs (workflows/briefs/archive.py)."""
    return for_area("briefs")


def for_area(area: str) -> Store:
    """The store of `area` as the settings name it now (read on every call: a test or an operator may change them)."""
    url = os.environ.get("MINQING_OBJECT_STORE_URL", "").strip()
    if url:
        return _s3(url, os.environ.get("MINQING_S3_ENDPOINT_URL", "").strip(), area)
    variable, folder = AREAS[area]
    return LocalStore(Path(os.environ.get(variable) or Path.cwd() / "instance" / folder))


def _s3(url: str, endpoint: str, area: str) -> S3Store:
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ObjectStoreMisconfigured(f"MINQING_OBJECT_STORE_URL 应形如 s3://存储桶/前缀，而不是 {url!r}")
    base = parts.path.strip("/")
    return S3Store(client=_client(endpoint), bucket=parts.netloc, prefix=f"{base}/{area}/" if base else f"{area}/")


@functools.lru_cache(maxsize=4)
def _client(endpoint: str):
    """One boto3 client per endpoint and process (clients are thread-safe; making one costs tens of ms)."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30)
    return boto3.session.Session().client("s3", endpoint_url=endpoint or None, config=config)
