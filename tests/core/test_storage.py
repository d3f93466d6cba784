"""The file stores (core/storage.py): a private local folder by default, an S3 bucket when the settings name one
(moto's in-process S3 here; tests/reliability/test_two_nodes.py runs real processes on a moto server)."""
from __future__ import annotations

import stat

import boto3
import pytest
from moto import mock_aws

from minqing.core import storage


@pytest.fixture
def bucket(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("MINQING_S3_ENDPOINT_URL", raising=False)
    with mock_aws():
        storage._client.cache_clear()   # a client made outside the mock would talk to AWS itself
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="city")
        monkeypatch.setenv("MINQING_OBJECT_STORE_URL", "s3://city/lanzhou")
        yield client
        storage._client.cache_clear()


def test_without_an_object_store_files_are_private_files_in_the_configured_folders(tmp_path, monkeypatch):
    monkeypatch.delenv("MINQING_OBJECT_STORE_URL", raising=False)
    monkeypatch.setenv("MINQING_UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.setenv("MINQING_MODEL_DIR", str(tmp_path / "models"))
    uploads = storage.uploads()
    assert not uploads.exists("a.jpg") and not (tmp_path / "uploads").exists()   # nothing made before a write
    uploads.put("a.jpg", b"one")
    uploads.put("a.jpg", b"two")                                                   # replaced whole
    assert uploads.get("a.jpg") == b"two" and uploads.exists("a.jpg")
    assert stat.S_IMODE((tmp_path / "uploads").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "uploads" / "a.jpg").stat().st_mode) == 0o600
    assert [name for name, _ in uploads.listing()] == ["a.jpg"]                    # no temporary file left
    storage.models().put("m.joblib", b"model")
    assert (tmp_path / "models" / "m.joblib").read_bytes() == b"model"
    uploads.delete("a.jpg")
    with pytest.raises(storage.Missing):
        uploads.get("a.jpg")
    with pytest.raises(ValueError):
        uploads.put("../escape.jpg", b"x")


def test_with_an_object_store_every_area_has_its_prefix_in_the_bucket(bucket, tmp_path, monkeypatch):
    monkeypatch.setenv("MINQING_UPLOAD_DIR", str(tmp_path / "uploads"))
    uploads, models = storage.uploads(), storage.models()
    uploads.put("a.jpg", b"photo")
    models.put("dispatch-x-1.joblib", b"model")
    keys = {item["Key"] for item in bucket.list_objects_v2(Bucket="city")["Contents"]}
    assert keys == {"lanzhou/uploads/a.jpg", "lanzhou/models/dispatch-x-1.joblib"}
    assert uploads.get("a.jpg") == b"photo" and uploads.exists("a.jpg") and not uploads.exists("b.jpg")
    assert [name for name, _ in models.listing("dispatch-x-")] == ["dispatch-x-1.joblib"]
    uploads.delete("a.jpg")
    with pytest.raises(storage.Missing):
        uploads.get("a.jpg")
    assert not (tmp_path / "uploads").exists()                                     # nothing on the local disk


def test_an_object_store_url_that_names_no_bucket_is_refused_clearly(monkeypatch):
    monkeypatch.setenv("MINQING_OBJECT_STORE_URL", "http://minio.local/city")
    with pytest.raises(storage.ObjectStoreMisconfigured, match="s3://"):
        storage.uploads()
