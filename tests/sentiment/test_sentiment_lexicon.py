"""The external polarity lexicon baked into the model, and the negation/cue rules it shares with `rules.py`."""
from __future__ import annotations

import gzip
import json

import pytest

import sentiment
from sentiment import extlex, rules
from sentiment.datasets import EXT_LEXICON, MODEL_FILE
from sentiment.features import PolarityLexicon, analyse, features, lexicon_features
from sentiment.train import load_lexicon

LEX = PolarityLexicon({"满意": 2.5, "温柔": 2.0, "敷衍": -2.0, "不错": 2.0, "不满意": -3.0})


def test_lexicon_words_count_with_their_sign():
    f = lexicon_features("服务很满意，医生也温柔", LEX)
    assert f["X:pos"] > 0 and f["X:neg"] == 0 and f["X:net"] > 0
    f = lexicon_features("回复太敷衍了", LEX)
    assert f["X:neg"] > 0 and f["X:pos"] == 0 and f["X:net"] < 0
    assert lexicon_features("路灯坏了", LEX) == {}


def test_lexicon_negation_flips_but_intensifiers_do_not():
    assert lexicon_features("一点都不满意", LEX)["X:net"] < 0
    assert lexicon_features("不太满意", LEX)["X:net"] < 0
    # 非常/特别 contain a negator character but negate nothing; 不错不错 is praise twice.
    assert lexicon_features("非常满意", LEX)["X:net"] > 0
    assert lexicon_features("护士特别温柔", LEX)["X:net"] > 0
    assert lexicon_features("不错不错", LEX)["X:net"] > 0
    # the longest word wins: 不满意 is one negative word, not a negated 满意
    assert lexicon_features("很不满意", LEX)["X:net"] < 0


def test_rules_negation_ignores_look_alike_words():
    assert rules.negated_at("不太满意", 2)
    assert rules.negated_at("没有及时", 2)
    assert not rules.negated_at("非常满意", 2)
    assert not rules.negated_at("特别及时", 2)
    assert not rules.negated_at("不满。满意", 3)  # a clause boundary stops the scope
    assert analyse("非常满意")[2].counts.get("R:pos") and not analyse("非常满意")[2].counts.get("R:negpos")


def test_new_cues():
    c = analyse("感谢你们的“高效”，我的问题排到明年了")[2]
    assert c.counts.get("R:quoted_praise") and c.counts.get("R:sarc")
    assert analyse("路灯已经修好了，谢谢")[2].counts.get("R:resolved")
    assert not analyse("路灯还没修好了")[2].counts.get("R:resolved")
    c = analyse("路口的摄像头是摆设吗？")[2]
    assert c.counts.get("R:rhet_soft") and not c.counts.get("R:plainq")


def test_shipped_model_carries_the_lexicon_and_its_provenance():
    with gzip.open(MODEL_FILE, "rt", encoding="utf-8") as fh:
        doc = json.load(fh)
    words, scores = doc["lexicon"]["words"], doc["lexicon"]["scores"]
    assert len(words) == len(scores) > 10000 and words == sorted(words)
    assert EXT_LEXICON.name in doc["meta"]["inputs"]
    model = sentiment.get_model()
    assert model.lexicon["满意"] > 0 and model.lexicon["敷衍"] < 0
    # the lexicon file in the repository is the one the model was built from (minus the weak words)
    lex = load_lexicon()
    kept = {w for w, v in lex.items() if abs(v) >= doc["meta"]["params"]["lex_min"]}
    assert kept == set(words)
    feats, _, _ = features("非常满意", model.lexicon)
    assert feats["X:pos"] > 0


def test_extlex_build_normalises_and_filters(tmp_path):
    src = tmp_path / "sentiment_dict.txt"
    src.write_text("滿意 2.5\n敷衍 -1.2\n一般 0.1\nfuck... -6\n好 2\n太好了吧真的 3\n坏了 -9\n满意 1.0\n", encoding="utf-8")
    lex = extlex.build(src)
    # traditional -> simplified; |score| >= MIN_ABS; 2-4 CJK characters only; clipped; first entry wins
    assert lex == {"满意": 2.5, "敷衍": -1.2, "坏了": -extlex.CLIP}
    out = extlex.write(lex, tmp_path / "lex.tsv")
    assert load_lexicon(out) == lex


def test_model_without_lexicon_still_loads_and_scores(tmp_path):
    from sentiment.model import LinearModel
    from sentiment.train import serialise

    m = sentiment.get_model()
    bare = LinearModel(m.index, m.weights, m.meta)
    path = tmp_path / "bare.json.gz"
    path.write_bytes(serialise(bare, {}))
    loaded = LinearModel.load(path)
    assert loaded.lexicon is None
    assert loaded.score("为什么没人管？").label == "negative"


@pytest.mark.parametrize("text", ["@问政银川 窗口服务非常周到，非常满意", "@银川市卫健委 值班护士特别耐心，谢谢"])
def test_praise_with_look_alike_negators_is_positive(text):
    assert sentiment.score(text).label == "positive"
