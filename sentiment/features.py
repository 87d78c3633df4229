"""Turn a text into sparse features: character 1-3-grams of the body, emoticon names, rule cues and, when the
model carries one, scores from an external polarity lexicon (see `data/README.md`)."""
from __future__ import annotations

import math

from . import rules
from .text import normalize, split

NGRAM_MAX = 3
LEX_MAX = 4  # longest lexicon word looked up
LEX_DIV = 6.0  # lexicon sums are squashed with tanh(sum / LEX_DIV)


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


class PolarityLexicon(dict):
    """word -> polarity score, with the set of two-character prefixes for a fast scan."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.prefixes = frozenset(w[:2] for w in self)


def as_lexicon(lex: dict[str, float] | None) -> PolarityLexicon | None:
    """LEX ready for scanning (its prefix set built once), or None when there is none."""
    if not lex:
        return None
    return lex if isinstance(lex, PolarityLexicon) else PolarityLexicon(lex)


def lexicon_features(body: str, lex: dict[str, float]) -> dict[str, float]:
    """Greedy longest-match of `lex` words (2-4 characters) over the body; a word after a negator counts with
    the opposite sign. Gives the summed positive and negative strength (squashed) and the net balance."""
    lex = as_lexicon(lex)
    if lex is None:
        return {}
    prefixes = lex.prefixes
    pos = neg = 0.0
    i, n = 0, len(body)
    while i < n:
        if body[i:i + 2] not in prefixes:
            i += 1
            continue
        for size in range(min(LEX_MAX, n - i), 1, -1):
            s = lex.get(body[i:i + size])
            if s is not None:
                if rules.negated_at(body, i):
                    s = -s
                if s > 0:
                    pos += s
                else:
                    neg -= s
                i += size
                break
        else:
            i += 1
    if not pos and not neg:
        return {}
    d = LEX_DIV
    return {"X:pos": math.tanh(pos / d), "X:neg": math.tanh(neg / d), "X:net": math.tanh((pos - neg) / d)}


def features(text: str | None, lex: dict[str, float] | None = None) -> tuple[dict[str, float], rules.Cues, str]:
    """All features of one text. (jieba word features were tried and dropped: no gain in cross-validation
    on the training data, and they tripled the cost per text.)"""
    body, emoticons, c = analyse(text)
    return body_features(body, emoticons, c, lex), c, body


def body_features(body: str, emoticons: list[str], c: rules.Cues, lex: dict[str, float] | None = None
                  ) -> dict[str, float]:
    """The features of an already normalised body (a whole text, or the tail after a 但是)."""
    feats = ngram_features(body, emoticons)
    for k, v in c.counts.items():
        feats[k] = v
    if lex:
        feats.update(lexicon_features(body, lex))
    feats["B:bias"] = 1.0
    return feats
