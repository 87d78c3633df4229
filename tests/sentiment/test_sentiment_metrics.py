"""Metrics against figures worked out by hand."""
from __future__ import annotations

import pytest

from sentiment.metrics import evaluate


def test_three_way_by_hand():
    gold = ["negative", "negative", "negative", "neutral", "neutral", "positive"]
    pred = ["negative", "negative", "neutral", "neutral", "positive", "positive"]
    r = evaluate(gold, pred, ["negative", "neutral", "positive"])
    # negative: tp 2, fp 0, fn 1 -> 4/5; neutral: tp 1, fp 1, fn 1 -> 2/4; positive: tp 1, fp 1, fn 0 -> 2/3
    assert r.f1["negative"] == pytest.approx(0.8)
    assert r.f1["neutral"] == pytest.approx(0.5)
    assert r.f1["positive"] == pytest.approx(2 / 3)
    assert r.macro_f1 == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert r.accuracy == pytest.approx(4 / 6)
    assert r.confusion == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    text = r.format()
    assert "macro-F1=0.6556" in text and "accuracy=0.6667" in text


def test_class_never_predicted_scores_zero():
    r = evaluate(["negative", "positive"], ["negative", "negative"], ["negative", "positive"])
    assert r.f1 == {"negative": pytest.approx(2 / 3), "positive": 0.0}
    assert r.macro_f1 == pytest.approx(1 / 3)


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match="gold has 2"):
        evaluate(["negative", "positive"], ["negative"])
