"""`minqing dispatch evaluate`: a time split of a history CSV, the suggestion beside a keyword rule."""
from __future__ import annotations

import csv
import json

import pytest

from click.testing import CliRunner

from minqing.core.cli import build_cli
from minqing.plugins.demo_history.texts import history_rows
from minqing.workflows.dispatch import catalogue, history

CODES = ("1001", "1003", "5301", "5304", "0401", "0402", "2501", "2502", "5101", "5202")


def _csv(platform, path, count=240):
    with platform.db.session() as session:
        known = catalogue.categories(platform, session)
    categories = [{"code": code, "title": known[code].title, "theme_title": known[code].theme_title,
                   "department": known[code].default_department} for code in CODES]
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=history.CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(history_rows(categories, count, seed=11))
    return path


def test_evaluate_prints_the_model_and_the_keyword_rule(platform, tmp_path):
    path = _csv(platform, tmp_path / "history.csv")
    runner = CliRunner()
    result = runner.invoke(build_cli(), ["--db", platform.db.url, "dispatch", "evaluate", "--from", str(path),
                                         "--json"], catch_exceptions=False)
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert (figures["train"], figures["test"]) == (192, 48)
    for name in ("model_top1", "model_top3", "keyword_top1", "keyword_top3"):
        assert 0 <= figures[name] <= 1
    assert figures["model_top3"] >= figures["model_top1"] and figures["keyword_top3"] >= figures["keyword_top1"]
    assert figures["model_top3"] > 0.5      # generated text is learnable: far above chance (1 in 205)
    text = runner.invoke(build_cli(), ["--db", platform.db.url, "dispatch", "evaluate", "--from", str(path)],
                         catch_exceptions=False).output
    assert "智能分拨" in text and "关键词规则" in text and text.count("top-3") == 2


def test_the_split_is_by_time(tmp_path, platform):
    samples = history.read_csv(str(_csv(platform, tmp_path / "history.csv", count=50))).samples
    from minqing.workflows.dispatch.evaluation import split

    older, newer = split(samples)
    assert len(older) == 40 and max(s.at for s in older) <= min(s.at for s in newer)


def test_a_csv_without_the_needed_columns_is_refused_in_chinese(platform, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("text,category\n井盖丢了,5304\n", encoding="utf-8")
    result = CliRunner().invoke(build_cli(), ["--db", platform.db.url, "dispatch", "evaluate", "--from", str(path)])
    assert result.exit_code != 0 and "缺少列" in result.output and "reported_at" in result.output


@pytest.mark.parametrize("column", ["created_at", "time", "上报时间", " reported_at"])
def test_the_usual_names_of_an_exported_history_s_time_column_are_accepted_and_named(platform, tmp_path, column):
    path = tmp_path / "history.csv"
    path.write_text(f"text,category,{column}\n井盖丢了,5304,2026-11-02T09:00:00\n路灯不亮,5101,2026-11-03 10:00\n",
                    encoding="utf-8")
    read = history.read_csv(str(path))
    assert [sample.label for sample in read.samples] == ["5304", "5101"] and read.time_column == column.strip()


def test_a_file_that_is_not_csv_text_is_refused_in_one_chinese_line(platform, tmp_path):
    """A photo given to --from was an English decoding error ("'utf-8' codec can't decode byte 0xff…")."""
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + bytes(range(256)) * 4)
    result = CliRunner().invoke(build_cli(), ["--db", platform.db.url, "dispatch", "evaluate", "--from", str(path)])
    assert result.exit_code == 1 and result.exception.__class__ is SystemExit
    assert result.output.strip().count("\n") == 0 and "文件编码" in result.output and "codec" not in result.output


def test_a_history_exported_in_gb18030_is_read(tmp_path):
    path = tmp_path / "history.csv"
    path.write_bytes("text,category,上报时间\n井盖丢了,5304,2026-11-02 09:00\n".encode("gb18030"))
    read = history.read_csv(str(path))
    assert [(sample.text, sample.label) for sample in read.samples] == [("井盖丢了", "5304")]
    assert read.time_column == "上报时间"
