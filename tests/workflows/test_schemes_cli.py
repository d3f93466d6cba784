"""`minqing schemes list|show|check|import`: files checked with every problem located, imported as versions."""
from __future__ import annotations

import json

from click.testing import CliRunner

from minqing.core.cli import build_cli
from minqing.workflows import schemes


def _run(database_url, *arguments):
    return CliRunner().invoke(build_cli(), ["--db", database_url, "schemes", *arguments])


def test_check_import_list_and_show(platform, database_url, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"title": "坏方案", "units": ["department"], "indicators": [
        {"indicator": "response_rate", "weight": 50, "scoring": "linear", "floor": 0, "target": 2}]},
        ensure_ascii=False), encoding="utf-8")
    result = _run(database_url, "check", str(bad))
    assert result.exit_code == 1
    assert "/indicators：各指标权重之和应为 100，现为 50" in result.output
    assert "/indicators/0/target：“响应率”是比率" in result.output
    assert _run(database_url, "import", str(bad)).exit_code == 1

    good = tmp_path / "good.json"
    document = {**schemes.default_document(), "title": "导入的方案"}
    good.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    assert _run(database_url, "check", str(good)).exit_code == 0
    assert "已保存为第 1 版" in _run(database_url, "import", str(good)).output
    assert "未生成新版本" in _run(database_url, "import", str(good)).output
    listed = json.loads(_run(database_url, "list", "--json").output)
    assert [(row["scope"], row["version"], row["title"]) for row in listed] == [("", 1, "导入的方案")]
    assert json.loads(_run(database_url, "show", "--version", "1").output) == document
    assert json.loads(_run(database_url, "show", "--version", "0").output) == schemes.default_document()
    assert _run(database_url, "show", "--version", "7").exit_code == 1
    nothing = tmp_path / "nothing.json"
    nothing.write_text("[]", encoding="utf-8")
    assert "应为一个 JSON 对象" in _run(database_url, "check", str(nothing)).output
