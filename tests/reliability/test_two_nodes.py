"""Beyond one machine: two `minqing serve` processes (nodes A and B, each with its own working folder, upload folder
and model folder) and a `minqing worker`, on one PostgreSQL database and Redis, with the object store on a moto S3
server. What one node or the worker makes, the other node serves: a photo uploaded through A (and its thumbnail), a
dispatch model trained by the worker, a plugin switch and a theme publication made on A.

Always on PostgreSQL (SQLite is one machine's file, not something two nodes share): the suite's own database when
it runs on PostgreSQL, else the dedicated database of tests/fixtures/postgres.py (minqing_two_nodes on the local
server, created if absent, migrated and emptied). Marked `postgres`: without a PostgreSQL server it skips, saying
so, or fails under CI.
"""
from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
import requests
from PIL import Image

from minqing.core.actors import system_actor
from minqing.core.models import Setting
from minqing.themes import authoring
from minqing.workflows.dispatch import store as model_store
from minqing.workflows.tasks import make_celery

from tests.fixtures.api import street_vending
from tests.fixtures.database import ON_POSTGRES
from tests.fixtures.postgres import dedicated_database
from tests.fixtures.processes import free_port, stop, wait_for
from tests.fixtures.web import PASSWORD

BROKER = "redis://127.0.0.1:6379/13"
CLI = [sys.executable, "-m", "minqing.core.cli"]
BUCKET, PREFIX = "minqing-city", "lanzhou"
WATER_PLUGIN, WATER_THEME = "dept_water_affairs", "water_affairs.river_patrol"   # the plugin's own theme
NEW_THEME = "urban_management.two_nodes"

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def database_url(database_url):
    """The database of `platform`, `world` and the nodes: the suite's own when it runs on PostgreSQL, else the
    dedicated PostgreSQL database (tests/fixtures/postgres.py)."""
    return database_url if ON_POSTGRES else dedicated_database()


def wait_for_port(process: subprocess.Popen, port: int, what: str) -> None:
    def listening() -> bool:
        assert process.poll() is None, f"{what} stopped at start: {stop(process)[-3000:]}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False
    assert wait_for(listening, 120), f"{what} did not start"


@pytest.fixture
def object_store(tmp_path):
    """A moto S3 server on 127.0.0.1 with an empty bucket; yields its endpoint and a boto3 client on it."""
    import boto3

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_for_port(server, port, "moto_server")
        endpoint = f"http://127.0.0.1:{port}"
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="test", aws_secret_access_key="test")
        client.create_bucket(Bucket=BUCKET)
        yield endpoint, client
    finally:
        server.terminate()
        server.wait(30)


@pytest.fixture
def cluster(platform, world, keys, database_url, object_store, tmp_path):
    """Nodes A and B and a worker, sharing the database, Redis and the bucket, and nothing on disk."""
    endpoint, _client = object_store
    queue = f"minqing-test-{uuid.uuid4().hex[:8]}"
    common = {**os.environ, "MINQING_DATABASE_URL": database_url, "MINQING_BROKER_URL": BROKER,
              "MINQING_TASK_QUEUE": queue, "MINQING_OBJECT_STORE_URL": f"s3://{BUCKET}/{PREFIX}",
              "MINQING_S3_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
              "AWS_DEFAULT_REGION": "us-east-1",
              "MINQING_REQUIRE_TOTP_ROLES": ""}
    processes: dict[str, subprocess.Popen] = {}
    nodes: dict[str, str] = {}
    try:
        for name in ("a", "b", "worker"):
            folder = tmp_path / name
            folder.mkdir()
            env = {**common, "MINQING_UPLOAD_DIR": str(folder / "uploads"), "MINQING_MODEL_DIR": str(folder / "models")}
            if name == "worker":
                processes[name] = subprocess.Popen([*CLI, "worker", "--loglevel", "WARNING"], env=env, cwd=folder,
                                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                continue
            port = free_port()
            processes[name] = subprocess.Popen([*CLI, "serve", "--host", "127.0.0.1", "--port", str(port),
                                                "--threads", "4"], env=env, cwd=folder,
                                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            nodes[name] = f"http://127.0.0.1:{port}"
        for name, base in nodes.items():
            wait_for_port(processes[name], int(base.rsplit(":", 1)[1]), f"node {name}")
        yield {"nodes": nodes, "folders": {name: tmp_path / name for name in processes}, "queue": queue,
               "keys": keys, "processes": processes}
    finally:
        for process in processes.values():
            stop(process)
        broker = redis.Redis.from_url(BROKER)
        for key in broker.keys(queue + "*"):
            broker.delete(key)


class Node:
    """One node seen by its clients: the REST API with an account's key, and a signed-in browser session."""

    def __init__(self, base: str, keys: dict[str, str]):
        self.base, self.keys = base, keys

    def api(self, method: str, path: str, username: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.keys[username]}", **kwargs.pop("headers", {})}
        return requests.request(method, f"{self.base}/api/v1{path}", headers=headers, timeout=60, **kwargs)

    def theme_keys(self) -> set[str]:
        answer = self.api("GET", "/themes", "centre")
        assert answer.status_code == 200, answer.text
        return {item["key"] for item in answer.json()["items"]}

    def browser(self, username: str) -> requests.Session:
        browser = requests.Session()
        signed_in = browser.post(f"{self.base}/login", allow_redirects=False, timeout=60, data={
            "csrf_token": csrf_token(browser.get(f"{self.base}/login", timeout=60).text),
            "username": username, "password": PASSWORD})
        assert signed_in.status_code == 302, signed_in.text[-2000:]
        return browser


def csrf_token(page: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert found, page[-2000:]
    return found.group(1)


def photo() -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 60, 20)).save(output, format="JPEG")
    return output.getvalue()


def objects(client) -> set[str]:
    listed = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {item["Key"] for item in listed}


def files_under(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


@pytest.mark.redis
@pytest.mark.timeout(180)
def test_two_nodes_and_a_worker_share_photos_models_plugin_switches_and_theme_publications(
        platform, cluster, object_store):
    _endpoint, bucket = object_store
    a, b = (Node(cluster["nodes"][name], cluster["keys"]) for name in ("a", "b"))
    for node in (a, b):
        health = requests.get(f"{node.base}/healthz", timeout=30)
        assert health.status_code == 200 and health.json()["broker"] == "ok", health.text

    # -- a model trained by the worker is used by both nodes --------------------------------------------------------
    producer = make_celery(BROKER)
    producer.conf.task_default_queue = cluster["queue"]
    producer.send_task("minqing.periodic", args=["dispatch.retrain"])   # what beat sends every day

    def trained() -> model_store.ModelInfo | None:
        with platform.db.session() as session:
            return model_store.current(session)
    assert wait_for(lambda: trained() is not None or cluster["processes"]["worker"].poll() is not None)
    model = trained()
    assert model is not None, stop(cluster["processes"]["worker"])[-3000:]
    assert f"{PREFIX}/models/{model.file}" in objects(bucket)

    # -- a photo uploaded through A is served by B, its thumbnail too ----------------------------------------------
    uploaded = a.api("POST", "/attachments", "worker", files={"file": ("现场.jpg", photo(), "image/jpeg")})
    assert uploaded.status_code == 201, uploaded.text
    attachment = uploaded.json()["id"]
    reported = a.api("POST", "/cases", "worker", json=street_vending(**{"details.photos": [attachment]}))
    assert reported.status_code == 201, reported.text
    case_id = reported.json()["id"]
    on_b = b.browser("centre")
    served = on_b.get(f"{b.base}/work/attachments/{attachment}", timeout=60)
    assert served.status_code == 200 and served.headers["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(served.content)) as image:
        assert image.size == (640, 480)
    thumbnail = on_b.get(f"{b.base}/work/attachments/{attachment}/thumbnail", timeout=60)
    assert thumbnail.status_code == 200
    with Image.open(io.BytesIO(thumbnail.content)) as image:
        assert max(image.size) == 320
    on_a = a.browser("centre")   # A serves the thumbnail B made, from the store
    assert on_a.get(f"{a.base}/work/attachments/{attachment}/thumbnail", timeout=60).content == thumbnail.content

    # both nodes suggest with the worker's model: neither trained its own (that would have replaced the version)
    for node in (a, b):
        suggested = node.api("GET", f"/cases/{case_id}/suggestions", "centre")
        assert suggested.status_code == 200, suggested.text
        assert suggested.json(), suggested.text
    assert trained().version == model.version

    stored = objects(bucket)
    assert {f"{PREFIX}/uploads/{key}" for key in (f"{attachment}.jpg", f"{attachment}.thumb320.jpg")} <= stored
    for name in ("a", "b", "worker"):   # nothing of it on any machine's own disk
        folder = cluster["folders"][name]
        assert files_under(folder) == [], (name, files_under(folder))

    # -- a plugin switch and a theme publication made on A reach B -------------------------------------------------
    before = b.theme_keys()   # B has read (and cached) the themes before A changes them
    assert WATER_THEME in before and NEW_THEME not in before
    admin = a.browser("admin")
    page = admin.get(f"{a.base}/admin/plugins", timeout=60)
    switched = admin.post(f"{a.base}/admin/plugins/{WATER_PLUGIN}/disable", allow_redirects=False, timeout=60,
                          data={"csrf_token": csrf_token(page.text), "confirm": "yes"})
    assert switched.status_code == 302, switched.text[-2000:]
    assert WATER_THEME not in b.theme_keys()

    with platform.db.session() as session:   # a draft as the builder's "new theme" page starts one
        authoring.start_draft(platform, session, system_actor("test"), department="urban_management",
                              slug="two_nodes", title="两节点巡查", template="patrol")
    builder = a.browser("chengguan")
    editor = builder.get(f"{a.base}/builder/{NEW_THEME}/", timeout=60)
    assert editor.status_code == 200, editor.text[-2000:]
    published = builder.post(f"{a.base}/builder/{NEW_THEME}/publish", timeout=60,
                             headers={"Accept": "application/json"}, data={"csrf_token": csrf_token(editor.text)})
    assert published.status_code == 200 and published.json()["version"] == 1, published.text[-2000:]
    assert NEW_THEME in b.theme_keys()
    with platform.db.session() as session:
        assert json.loads(session.get(Setting, model_store.SETTING).value)["version"] == model.version
