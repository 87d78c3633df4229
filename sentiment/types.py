"""Value types and errors shared by every sentiment model."""
from __future__ import annotations

from dataclasses import dataclass

LABELS: tuple[str, ...] = ("negative", "neutral", "positive")
KINDS: tuple[str, ...] = ("投诉", "咨询", "求助", "建议", "表扬", "其他")


@dataclass(frozen=True, slots=True)
class Sentiment:
    """One text's verdict: label, signed score in [-1, 1] (P(pos) - P(neg)) and confidence in [0, 1]."""

    label: str
    score: float
    confidence: float

    def __reduce__(self) -> tuple:
        # a verdict crosses processes by the thousand (wzmon import scores in a second process): rebuilt from its
        # three values, not through the slots dataclass's generic state, which looks up its fields for each one
        return (Sentiment, (self.label, self.score, self.confidence))


class SentimentError(Exception):
    """Base class for errors a user of the sentiment package can act on."""


class ModelFileError(SentimentError):
    """The model file is missing, unreadable or not a wzmon sentiment model."""


class UnknownModelError(SentimentError):
    """`get_model` was asked for a model name it does not know."""


class DataFileError(SentimentError):
    """An evaluation or training CSV is missing columns or has labels we cannot read."""
