"""The team-written data set and the shipped model file."""
from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from sentiment import datagen
from sentiment.datasets import (GOV_EVAL, GOV_TRAIN, MODEL_FILE, dev_split, read_labelled_csv, sentiment_dev_path,
                                weibo_train_path)
from sentiment.types import KINDS, LABELS


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("split", ["train", "eval"])
def test_committed_csv_is_what_the_generator_writes(split, tmp_path):
    out = datagen.write(split, tmp_path / f"{split}.csv")
    assert out.read_bytes() == (datagen.DATA_DIR / f"gov_{split}.csv").read_bytes()


def test_gov_sets_are_large_valid_and_disjoint():
    train, ev = _rows(GOV_TRAIN), _rows(GOV_EVAL)
    assert len(train) >= 500 and len(ev) >= 300
    for r in train + ev:
        assert r["label"] in LABELS and r["kind"] in KINDS and r["text"].strip()
    assert not {r["text"] for r in train} & {r["text"] for r in ev}
    for rows in (train, ev):
        assert {r["label"] for r in rows} == set(LABELS)
        assert {r["kind"] for r in rows} == set(KINDS)
        assert sum(r["source"] == "handwritten" for r in rows) >= 100


def test_dev_holdout_is_fixed_and_disjoint():
    if not sentiment_dev_path().exists():
        pytest.skip(f"{sentiment_dev_path()} not present")
    a_train, a_held = dev_split()
    b_train, b_held = dev_split()
    assert a_held == b_held and a_train == b_train
    assert not {e.text for e in a_train} & {e.text for e in a_held}
    assert 300 <= len(a_held) <= 700


def test_model_file_is_small_and_loads_with_the_network_disabled():
    assert MODEL_FILE.stat().st_size < 5 * 1024 * 1024
    code = (
        "import socket\n"
        "def _no(*a, **k): raise OSError('network disabled in this test')\n"
        "socket.socket = _no; socket.create_connection = _no; socket.getaddrinfo = _no\n"
        "import sentiment\n"
        "print(sentiment.score('为什么没人管？').label, sentiment.kind('请问公积金怎么提取？'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "NO_PROXY": "*"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["negative", "咨询"]


def test_broken_model_file_gives_a_clear_error(tmp_path):
    from sentiment.model import LinearModel
    from sentiment.types import ModelFileError

    with pytest.raises(ModelFileError, match="not found"):
        LinearModel.load(tmp_path / "missing.json.gz")
    bad = tmp_path / "bad.json.gz"
    bad.write_bytes(b"not gzip")
    with pytest.raises(ModelFileError, match="gzip JSON"):
        LinearModel.load(bad)


@pytest.mark.slow
@pytest.mark.timeout(1800)  # issue 21: ~43,000 training rows, a few minutes on a busy 2-core machine
def test_train_reproduces_the_shipped_model(tmp_path):
    for path in (sentiment_dev_path(), weibo_train_path()):
        if not path.exists():
            pytest.skip(f"{path} not present")
    from sentiment.train import train

    out, model = train(tmp_path / "model.json.gz")
    assert out.read_bytes() == MODEL_FILE.read_bytes()
    ev = read_labelled_csv(GOV_EVAL)
    assert len(model.score_many([e.text for e in ev])) == len(ev)


def test_two_way_head_moves_only_positive_against_negative():
    """Round 4: the dev-only 2-way head is added to the sentiment head as +d/2 (positive), -d/2 (negative):
    neutral weights and the kind head are untouched, and with no 2-way rows nothing is added."""
    import numpy as np

    from sentiment.datasets import Example
    from sentiment.train import Params, fit

    gov = [Example("请问办证要带什么材料", "neutral", "咨询", "handwritten"),
           Example("感谢你们帮我修好了路灯", "positive", "表扬", "handwritten"),
           Example("路灯坏了一个月没人管", "negative", "投诉", "handwritten"),
           Example("建议在路口加个红绿灯", "neutral", "建议", "handwritten"),
           Example("家里老人生病了求帮助", "negative", "求助", "handwritten"),
           Example("今天天气不错", "neutral", "其他", "handwritten")] * 2
    dev = [Example("开心死了太好了", "positive"), Example("气死我了真讨厌", "negative")] * 3
    p = Params(epochs=30, min_df=1)
    off = fit(gov, dev, Params(epochs=30, min_df=1, two_way_mix=0.0))
    on = fit(gov, dev, p)
    assert off.index == on.index
    neu = 1
    assert np.array_equal(off.weights[:, neu], on.weights[:, neu])
    assert np.array_equal(off.weights[:, 3:], on.weights[:, 3:])
    d_pos = on.weights[:, 2] - off.weights[:, 2]
    d_neg = on.weights[:, 0] - off.weights[:, 0]
    assert np.abs(d_pos).max() > 0
    assert np.allclose(d_pos, -d_neg, atol=2e-4)  # quantised to 1e-4 each
    # issue 21: the polar boost is polar_mix times the same head's positive-minus-negative, kept apart
    assert on.has_polar and not off.has_polar
    assert np.allclose(on.polar, p.polar_mix * (d_pos - d_neg), atol=p.polar_mix * 4e-4 + 1e-4)
    assert on.score("开心死了").score > off.score("开心死了").score
    assert fit(gov, [], p).weights.shape[1] == 9
