"""snownlp as a selectable baseline, mapped onto the same three labels and kinds.

snownlp's sentiment model was trained on shopping reviews and returns P(positive) in [0, 1]; we call
[0.35, 0.65] neutral (a band fixed in advance, not tuned on our eval sets). Kind comes from the cue rules,
since snownlp has no notion of it.
"""
from __future__ import annotations

from typing import Iterable

from . import rules
from .features import analyse
from .types import Sentiment

NEUTRAL_LOW = 0.35
NEUTRAL_HIGH = 0.65


class SnowNLPModel:
    name = "snownlp"

    def __init__(self) -> None:
        from snownlp import SnowNLP  # imported lazily: it loads its own model files on first use

        self._snow = SnowNLP

    def score(self, text: str | None) -> Sentiment:
        if not text or not str(text).strip():
            return Sentiment("neutral", 0.0, 0.0)
        p = float(self._snow(str(text)).sentiments)
        if p < NEUTRAL_LOW:
            label, conf = "negative", 1.0 - p
        elif p > NEUTRAL_HIGH:
            label, conf = "positive", p
        else:
            label, conf = "neutral", 1.0 - abs(p - 0.5) * 2
        return Sentiment(label, round(2 * p - 1, 6), round(conf, 6))

    def score_many(self, texts: Iterable[str | None]) -> list[Sentiment]:
        return [self.score(t) for t in texts]

    def kind(self, text: str | None) -> str:
        body, _, c = analyse(text)
        if not body:
            return "其他"
        return rules.rule_kind(body, c, self.score(text).label)

    def kinds(self, texts: Iterable[str | None]) -> list[str]:
        return [self.kind(t) for t in texts]
