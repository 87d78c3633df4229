"""Turn a text into sparse features: character 1-3-grams of the body, emoticon names and rule cues."""
from __future__ import annotations

import math

from . import rules
from .text import normalize, split

NGRAM_MAX = 3


def analyse(text: str | None) -> tuple[str, list[str], rules.Cues]:
    body, emoticons = split(normalize(text))
    return body, emoticons, rules.cues(body, emoticons)


def ngram_features(body: str, emoticons: list[str]) -> dict[str, float]:
    """Binary n-grams, L2-normalised so long and short posts weigh alike."""
    padded = "^" + body + "$"
    n = len(padded)
    feats = {padded[i:i + size] for size in range(1, NGRAM_MAX + 1) for i in range(n - size + 1)}
    feats.discard("^")
    feats.discard("$")
    feats = {g for g in feats if not g.isspace()}
    for e in emoticons:
        feats.add("E:" + e)
    if not feats:
        return {}
    w = 1.0 / math.sqrt(len(feats))
    return dict.fromkeys(sorted(feats), w)  # sorted: training sums in a fixed order, whatever the hash seed


def features(text: str | None) -> tuple[dict[str, float], rules.Cues, str]:
    """All features of one text. (jieba word features were tried and dropped: no gain in cross-validation
    on the training data, and they tripled the cost per text.)"""
    body, emoticons, c = analyse(text)
    feats = ngram_features(body, emoticons)
    for k, v in c.counts.items():
        feats[k] = v
    feats["B:bias"] = 1.0
    return feats, c, body
