"""The command line as a user meets it: --version and -h, one Chinese line (never a traceback) for a wrong database
address, a missing file or a file of the wrong kind, `apikey list|revoke`, and plugin failures logged in one line."""
from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest
from PIL import Image

from minqing.core.accounts import apikeys
from minqing.core.actors import system_actor
from minqing.core.cli import run as run_cli
from minqing.core.ops.cli_errors import OneLineFormatter
from minqing.core.models import Account


def run(*args: str) -> subprocess.CompletedProcess:
    """`minqing ARGS` in a process of its own, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "minqing.core.cli", *args], capture_output=True, text=True,
                          timeout=120)


def test_version_and_short_help():
    version = run("--version")
    assert version.returncode == 0 and version.stdout.startswith("minqing ")
    short = run("-h")
    assert short.returncode == 0 and "Usage: minqing" in short.stdout and "--version" in short.stdout
    sub = run("stats", "-h")
    assert sub.returncode == 0 and "Usage: minqing stats" in sub.stdout


@pytest.mark.parametrize("url, says", [
    ("notadialect://x", "数据库地址无效"),
    ("sqlite:////no/such/folder/minqing.db", "无法连接或打开数据库"),
    ("postgresql+psycopg://nobody@127.0.0.1:1/x", "无法连接或打开数据库"),
])
def test_a_bad_database_url_is_one_line_in_chinese(url, says):
    result = run("--db", url, "stats")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("错误：") and says in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback():
    result = run("--debug", "--db", "notadialect://x", "stats")
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_theme_import_checks_the_file_by_its_content(platform, tmp_path, capsys):
    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (4, 4)).save(photo)
    disguised = tmp_path / "theme.json"
    Image.new("RGB", (4, 4)).save(disguised, format="JPEG")
    for path, says in [(photo, "不支持的文件类型“.jpg”"), (disguised, "内容不是JSON"),
                       (tmp_path / "missing.json", "找不到文件")]:
        assert run_cli(["--db", platform.db.url, "themes", "import", str(path), "--department", "urban_management"]) == 1
        error = capsys.readouterr().err
        assert says in error and "Traceback" not in error, error


def test_apikey_list_and_revoke(platform, capsys):
    with platform.db.session() as session:
        session.add(Account(username="feeder", display_name="数据对接", password_hash="x"))
        session.flush()
        row, key = apikeys.create(session, system_actor("test"), "feeder", "12345 对接")
        key_id, prefix = row.id, row.prefix
    assert run_cli(["--db", platform.db.url, "apikey", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(item["id"], item["prefix"], item["account"]) for item in listed] == [(key_id, prefix, "feeder")]
    assert key not in json.dumps(listed)                    # the key itself is never shown again
    assert run_cli(["--db", platform.db.url, "apikey", "revoke", prefix]) == 0
    assert "已吊销" in capsys.readouterr().out
    with platform.db.session() as session:
        assert apikeys.authenticate(session, key) is None
    assert run_cli(["--db", platform.db.url, "apikey", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert run_cli(["--db", platform.db.url, "apikey", "revoke", "999999"]) == 1
    assert "没有编号或前缀" in capsys.readouterr().err


def test_a_plugin_failure_is_logged_in_one_line():
    try:
        raise RuntimeError("the snow plugin cannot reach its station\nsecond line")
    except RuntimeError:
        record = logging.getLogger("minqing.core.pluginhost.host").makeRecord(
            "minqing.core.pluginhost.host", logging.ERROR, __file__, 1, "plugin %s failed", ("snow",), sys.exc_info())
    line = OneLineFormatter("%(levelname)s %(name)s: %(message)s").format(record)
    assert "\n" not in line and "Traceback" not in line
    assert "plugin snow failed" in line and "RuntimeError: the snow plugin cannot reach its station" in line


def test_help_loads_none_of_the_heavy_libraries():
    """`minqing --help` (and every command's start) imports neither the web framework nor the map and machine
    learning libraries: each command imports what it needs when it runs."""
    probe = ("import sys\nfrom minqing.core.cli import run\nrun(['--help'])\n"
             "print(sorted(m for m in ('flask', 'sklearn', 'jieba', 'shapely') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout
