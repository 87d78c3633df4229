"""The default scorer: a linear model over character n-grams and cue features, plus override rules.

The model file is gzip JSON holding integer-quantised weights (see `train.py`), read once, offline.
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Iterable

import numpy as np

from . import rules
from .datasets import MODEL_FILE
from .features import PolarityLexicon, as_lexicon, body_features, features
from .linear import softmax
from .types import KINDS, LABELS, ModelFileError, Sentiment

FORMAT = "wzmon-sentiment-linear"
_EMPTY = Sentiment("neutral", 0.0, 0.0)
_NEG, _NEU, _POS = 0, 1, 2
_KIND_END = len(LABELS) + len(KINDS)  # logits: 3 sentiment, 6 kind, then the polar boost when the model has one


def _sentiment(p: np.ndarray) -> Sentiment:
    i = int(np.argmax(p))
    return Sentiment(LABELS[i], round(float(p[_POS] - p[_NEG]), 6), round(float(p[i]), 6))


def _sentiment_boosted(z: np.ndarray, boost: float) -> Sentiment:
    """Neutral or polar as the 3-way logits Z say; which pole, and the score, after adding BOOST to
    positive-vs-negative (+boost/2, -boost/2)."""
    p = softmax(z)
    pb = softmax(z + np.array([-boost / 2, 0.0, boost / 2]))
    score = round(float(pb[_POS] - pb[_NEG]), 6)
    if int(np.argmax(p)) == _NEU:
        return Sentiment("neutral", score, round(float(p[_NEU]), 6))
    i = _POS if pb[_POS] > pb[_NEG] else _NEG
    return Sentiment(LABELS[i], score, round(float(pb[i]), 6))


class LinearModel:
    """Three-way sentiment and six-way kind from one sparse linear layer."""

    name = "default"

    def __init__(self, index: dict[str, int], weights: np.ndarray, meta: dict | None = None,
                 lexicon: dict[str, float] | None = None, polar: np.ndarray | None = None):
        if weights.shape != (len(index), len(LABELS) + len(KINDS)):
            raise ModelFileError(f"weights have shape {weights.shape}, expected ({len(index)}, {len(LABELS) + len(KINDS)})")
        self.index = index
        # issue 21: optional polar boost (one weight a feature), added to positive-vs-negative only once the
        # post is judged polar: the 2-way head then weighs more on which pole without making fewer posts neutral
        self.has_polar = polar is not None
        if polar is not None:
            weights = np.hstack([weights, np.asarray(polar, dtype=np.float64).reshape(len(index), 1)])
        self._w = weights  # every column scored at once: sentiment, kind, then the polar boost if any
        self.weights = weights[:, :_KIND_END]  # (n, 9) view: sentiment and kind
        self.meta = meta or {}
        # external polarity lexicon baked into the model file (word -> score), or None
        self.lexicon = as_lexicon(lexicon)

    # ---- loading -------------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path = MODEL_FILE) -> "LinearModel":
        path = Path(path)
        try:
            with gzip.open(path, "rt", encoding="utf-8") as fh:
                doc = json.load(fh)
        except FileNotFoundError:
            raise ModelFileError(f"{path}: model file not found; run `wzmon sentiment train` to build it") from None
        except (OSError, ValueError) as exc:
            raise ModelFileError(f"{path}: not a readable gzip JSON model file ({exc})") from None
        if doc.get("format") != FORMAT or doc.get("labels") != list(LABELS) or doc.get("kinds") != list(KINDS):
            raise ModelFileError(f"{path}: not a {FORMAT} model with labels {LABELS} and kinds {KINDS}")
        names = doc["features"]
        w = np.asarray(doc["weights"], dtype=np.float64).reshape(len(names), len(LABELS) + len(KINDS))
        polar = doc.get("polar")
        if polar is not None:
            polar = np.asarray(polar, dtype=np.float64) / doc["scale"]
        lex = doc.get("lexicon")
        lexicon = None
        if lex:
            lex_scale = doc.get("lexicon_scale", doc["scale"])
            lexicon = PolarityLexicon({word: v / lex_scale for word, v in zip(lex["words"], lex["scores"])})
        return cls({n: i for i, n in enumerate(names)}, w / doc["scale"], doc.get("meta"), lexicon, polar)

    @property
    def polar(self) -> np.ndarray | None:
        """The polar-boost weights (see `__init__`), or None."""
        return self._w[:, _KIND_END] if self.has_polar else None

    # ---- scoring -------------------------------------------------------------------------------------
    def _logits(self, feats: dict[str, float]) -> np.ndarray:
        get = self.index.get
        hits = [(j, v) for k, v in feats.items() if (j := get(k)) is not None]
        if not hits:
            return np.zeros(self._w.shape[1])
        idx, vals = zip(*hits)
        return np.asarray(vals) @ self._w[list(idx)]

    def _tail_is_negative(self, tail: str) -> bool:
        feats = body_features(tail, [], rules.cues(tail), self.lexicon)
        p = softmax(self._logits(feats)[:len(LABELS)])
        return int(np.argmax(p)) == _NEG

    def _decide(self, logits: np.ndarray, c: rules.Cues, body: str, empty: bool) -> tuple[Sentiment, str]:
        if empty:
            return _EMPTY, "其他"
        if self.has_polar:
            s = _sentiment_boosted(logits[:len(LABELS)], float(logits[_KIND_END]))
        else:
            s = _sentiment(softmax(logits[:len(LABELS)]))
        has = c.counts
        if has.get("R:nocjk") and not any(has.get(k) for k in ("R:pos", "R:neg", "R:negpos", "R:emo+", "R:emo-")):
            # No Chinese and no word we know: the n-grams of Latin text or digits carry no trained signal.
            return Sentiment("neutral", 0.0, 0.3), "其他"
        forced = c.forced_negative
        if not forced and c.tail and s.label != "negative" and self._tail_is_negative(c.tail):
            forced = "praise-then-complaint"
        if forced and s.label != "negative":
            s = Sentiment("negative", min(s.score, -0.5), max(s.confidence, 0.7))
        kind = KINDS[int(np.argmax(logits[len(LABELS):_KIND_END]))]
        if s.label == "negative" and kind in ("表扬",) or forced and kind in ("表扬", "咨询", "其他", "建议"):
            kind = rules.rule_kind(body, c, s.label)
            if kind in ("表扬", "咨询", "其他", "建议"):
                kind = "投诉"
        elif s.label == "positive" and kind == "投诉":
            kind = rules.rule_kind(body, c, s.label)
        if kind == "表扬" and not rules.praise_allowed(body, c):
            kind = self._not_praise(logits, body, c, s.label)
        return s, kind

    @staticmethod
    def _not_praise(logits: np.ndarray, body: str, c: rules.Cues, label: str) -> str:
        """Best kind other than 表扬; if that is 其他 but the cues name a kind, the cues win."""
        k = logits[len(LABELS):_KIND_END].copy()
        k[KINDS.index("表扬")] = -np.inf
        kind = KINDS[int(np.argmax(k))]
        if kind == "其他":
            ruled = rules.rule_kind(body, c, label)
            if ruled != "表扬":
                kind = ruled
        return kind

    def analyse(self, text: str | None) -> tuple[Sentiment, str]:
        feats, c, body = features(text, self.lexicon)
        empty = not body and not any(k.startswith("E:") for k in feats)
        return self._decide(self._logits(feats), c, body, empty)

    def analyse_many(self, texts: Iterable[str | None]) -> list[tuple[Sentiment, str]]:
        """Batch form: features per text, then one sparse product for the whole batch."""
        lex = self.lexicon
        parsed = [features(t, lex) for t in texts]
        if not parsed:
            return []
        index = self.index
        rows, cols, vals = [], [], []
        get = index.get
        for r, (feats, _, _) in enumerate(parsed):
            hit = [(j, v) for k, v in feats.items() if (j := get(k)) is not None]
            rows.extend([r] * len(hit))
            cols.extend(j for j, _ in hit)
            vals.extend(v for _, v in hit)
        rows_a, cols_a, vals_a = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64), np.asarray(vals)
        logits = np.zeros((len(parsed), self._w.shape[1]))
        if len(rows_a):
            np.add.at(logits, rows_a, vals_a[:, None] * self._w[cols_a])
        out = []
        for r, (feats, c, body) in enumerate(parsed):
            empty = not body and not any(k.startswith("E:") for k in feats)
            out.append(self._decide(logits[r], c, body, empty))
        return out

    def score(self, text: str | None) -> Sentiment:
        return self.analyse(text)[0]

    def score_many(self, texts: Iterable[str | None]) -> list[Sentiment]:
        return [s for s, _ in self.analyse_many(texts)]

    def kind(self, text: str | None) -> str:
        return self.analyse(text)[1]

    def kinds(self, texts: Iterable[str | None]) -> list[str]:
        return [k for _, k in self.analyse_many(texts)]
