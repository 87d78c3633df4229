"""`wzmon sentiment eval` and `wzmon score` through click's runner."""
from __future__ import annotations

import csv
import io

import click
import pytest
from click.testing import CliRunner

import sentiment
from sentiment.cli import COMMANDS


@pytest.fixture()
def cli():
    @click.group()
    def root() -> None:
        pass

    for c in COMMANDS:
        root.add_command(c)
    return root


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_commands_exported(cli):
    assert {c.name for c in COMMANDS} == {"sentiment", "score"}
    assert set(cli.commands["sentiment"].commands) == {"train", "eval"}


def test_score_lines_from_stdin(cli):
    lines = ["请问公积金提取需要什么材料？", "为什么没人管？", "", "感謝民警同志的幫助！"]
    res = CliRunner().invoke(cli, ["score", "-"], input="\n".join(lines) + "\n")
    assert res.exit_code == 0, res.output
    rows = _csv(res.output)
    texts = [t for t in lines if t]
    assert [r["text"] for r in rows] == texts
    expected = sentiment.score_many(texts)
    assert [r["label"] for r in rows] == [s.label for s in expected]
    assert [float(r["score"]) for r in rows] == [round(s.score, 4) for s in expected]
    assert [r["kind"] for r in rows] == sentiment.kinds(texts)


def test_score_csv_column(cli, tmp_path):
    f = tmp_path / "posts.csv"
    f.write_text("id,body\n1,为什么没人管？\n2,谢谢你们\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["score", str(f), "--column", "body"])
    assert res.exit_code == 0, res.output
    rows = _csv(res.output)
    assert [r["text"] for r in rows] == ["为什么没人管？", "谢谢你们"]
    assert rows[0]["label"] == "negative" and rows[0]["kind"] == "投诉"


def test_score_missing_column_is_a_plain_error(cli, tmp_path):
    f = tmp_path / "posts.csv"
    f.write_text("id,body\n1,x\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["score", str(f)])
    assert res.exit_code != 0
    assert "no column 'text'" in res.output and "Traceback" not in res.output


def test_eval_three_way_prints_metrics_matching_the_model(cli, tmp_path):
    rows = [("请问公积金提取需要什么材料？", "neutral"), ("为什么没人管？", "negative"),
            ("感谢民警同志的帮助！", "positive"), ("谢谢回复，可是路灯还是不亮", "positive")]
    f = tmp_path / "e.csv"
    f.write_text("text,label\n" + "".join(f"{t},{l}\n" for t, l in rows), encoding="utf-8")
    res = CliRunner().invoke(cli, ["sentiment", "eval", str(f)])
    assert res.exit_code == 0, res.output
    from sentiment.metrics import evaluate

    pred = [s.label for s in sentiment.score_many([t for t, _ in rows])]
    report = evaluate([l for _, l in rows], pred, ["negative", "neutral", "positive"])
    assert "3-way" in res.output
    assert f"accuracy={report.accuracy:.4f}" in res.output
    assert f"macro-F1={report.macro_f1:.4f}" in res.output
    assert "confusion" in res.output


def test_eval_two_way_zero_one_labels(cli, tmp_path):
    f = tmp_path / "e.csv"
    f.write_text("text,label\n好开心[哈哈],1\n难过死了[泪],0\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["sentiment", "eval", str(f), "--strip-emoticons"])
    assert res.exit_code == 0, res.output
    assert "2-way" in res.output and "accuracy=1.0000" in res.output


def test_eval_bad_label_names_the_line(cli, tmp_path):
    f = tmp_path / "e.csv"
    f.write_text("text,label\n好,good\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["sentiment", "eval", str(f)])
    assert res.exit_code != 0
    assert "line 2" in res.output and "'good'" in res.output


def test_eval_with_snownlp_baseline(cli, tmp_path):
    f = tmp_path / "e.csv"
    f.write_text("text,label\n感谢民警同志的帮助！,positive\n为什么没人管？,negative\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["sentiment", "eval", str(f), "--model", "snownlp"])
    assert res.exit_code == 0, res.output
    assert "model snownlp" in res.output


def test_train_writes_a_loadable_model(cli, tmp_path):
    # A small stand-in for shared/data keeps this fast; the full rebuild is checked in test_sentiment_data_model.
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "sentiment_dev.csv").write_text(
        "text,label\n" + "".join(f"今天好开心{i}[哈哈],1\n今天好难过{i}[泪],0\n" for i in range(20)), encoding="utf-8")
    (shared / "weibo_senti_train.csv").write_text(
        "text,label\n" + "".join(f"真高兴{i}[哈哈],1\n真伤心{i}[泪],0\n" for i in range(20)), encoding="utf-8")
    res = CliRunner().invoke(cli, ["sentiment", "train", "--shared-data", str(shared), "--out", str(tmp_path / "m.json.gz")])
    assert res.exit_code == 0, res.output
    from sentiment.model import LinearModel

    assert LinearModel.load(tmp_path / "m.json.gz").score("为什么没人管？").label == "negative"


def test_train_without_shared_data_is_a_plain_error(cli, tmp_path):
    res = CliRunner().invoke(cli, ["sentiment", "train", "--shared-data", str(tmp_path), "--out", str(tmp_path / "m.gz")])
    assert res.exit_code != 0 and "sentiment_dev.csv" in res.output
    (tmp_path / "sentiment_dev.csv").write_text("text,label\n好开心[哈哈],1\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["sentiment", "train", "--shared-data", str(tmp_path), "--out", str(tmp_path / "m.gz")])
    assert res.exit_code != 0 and "weibo_senti_train.csv not found" in res.output
