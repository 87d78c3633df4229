"""Three-way sentiment and post kind for posts addressed to government Weibo accounts.

`score`/`score_many`/`kind`/`kinds` use the shipped default model (loaded once, offline);
`get_model("snownlp")` gives the snownlp baseline with the same methods.
"""
from __future__ import annotations

import threading
from typing import Iterable, Protocol

from .types import KINDS, LABELS, DataFileError, ModelFileError, Sentiment, SentimentError, UnknownModelError

__all__ = ["Sentiment", "LABELS", "KINDS", "score", "score_many", "kind", "kinds", "get_model", "MODEL_NAMES",
           "SentimentError", "ModelFileError", "UnknownModelError", "DataFileError", "Model"]

MODEL_NAMES = ("default", "snownlp")


class Model(Protocol):
    name: str

    def score(self, text: str | None) -> Sentiment: ...
    def score_many(self, texts: Iterable[str | None]) -> list[Sentiment]: ...
    def kind(self, text: str | None) -> str: ...
    def kinds(self, texts: Iterable[str | None]) -> list[str]: ...


_models: dict[str, Model] = {}
_lock = threading.Lock()


def get_model(name: str = "default") -> Model:
    """The model called `name` ("default" = ours, "snownlp" = baseline), loaded once per process."""
    if name not in MODEL_NAMES:
        raise UnknownModelError(f"unknown sentiment model {name!r}; choose one of: {', '.join(MODEL_NAMES)}")
    with _lock:
        if name not in _models:
            if name == "default":
                from .model import LinearModel

                _models[name] = LinearModel.load()
            else:
                from .baseline import SnowNLPModel

                _models[name] = SnowNLPModel()
        return _models[name]


def score(text: str | None) -> Sentiment:
    return get_model().score(text)


def score_many(texts: Iterable[str | None]) -> list[Sentiment]:
    return get_model().score_many(texts)


def kind(text: str | None) -> str:
    return get_model().kind(text)


def kinds(texts: Iterable[str | None]) -> list[str]:
    return get_model().kinds(texts)
