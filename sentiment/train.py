"""Rebuild the shipped model from repository data and ../shared/data, deterministically.

Inputs: sentiment/data/gov_train.csv (3-way + kind, written by the team, see data/README.md) and the
training half of shared/data/sentiment_dev.csv (2-way; the other quarter, chosen by `datasets.in_dev_holdout`,
is never read here). Each dev row is used twice, with and without its `[表情]` tokens, so the model
learns the words and not only the emoticons. Same inputs give a byte-identical model file.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .datasets import GOV_TRAIN, MODEL_FILE, Example, dev_split, read_labelled_csv, sentiment_dev_path
from .features import features
from .linear import Sparse, fit_softmax
from .model import FORMAT, LinearModel
from .text import strip_emoticons
from .types import KINDS, LABELS, DataFileError

SCALE = 10000


@dataclass(frozen=True)
class Params:
    min_df: int = 2
    l2: float = 3e-4  # sentiment head
    kind_l2: float = 3e-5  # kind head (fewer, cleaner rows: weaker penalty)
    kind_balanced: bool = True  # weight kind rows by 1 / rows of their kind, so 建议 and 求助 count
    epochs: int = 250
    lr: float = 0.05
    dev_weight: float = 2.0  # each of the two copies (raw, stripped) of a dev row
    gov_weight: float = 2.0


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def expand_dev(rows: list[Example]) -> list[Example]:
    out = []
    for r in rows:
        out.append(r)
        stripped = strip_emoticons(r.text).strip()
        if stripped and stripped != r.text.strip():
            out.append(Example(stripped, r.label, None))
    return out


def fit(gov: list[Example], dev: list[Example], params: Params = Params()) -> LinearModel:
    """Fit both heads. `gov` rows carry a kind; `dev` rows (2-way) train the sentiment head only."""
    examples = list(gov) + expand_dev(dev)
    weights = np.array([params.gov_weight] * len(gov) + [params.dev_weight] * (len(examples) - len(gov)))
    feats = [features(e.text)[0] for e in examples]
    df: dict[str, int] = {}
    for f in feats:
        for k in f:
            df[k] = df.get(k, 0) + 1
    names = sorted(k for k, n in df.items() if n >= params.min_df or k[:2] in ("R:", "B:"))
    index = {n: i for i, n in enumerate(names)}
    x = Sparse.build(feats, index)
    y = np.array([LABELS.index(e.label) for e in examples])
    # dev rows are 2-way: their softmax runs over negative/positive only.
    allowed = np.ones((len(examples), len(LABELS)), dtype=bool)
    allowed[len(gov):, LABELS.index("neutral")] = False
    w_sent = fit_softmax(x, y, len(LABELS), weights, l2=params.l2, epochs=params.epochs, lr=params.lr,
                         allowed=allowed)
    kinds = [e.kind for e in gov]
    if any(k not in KINDS for k in kinds):
        raise DataFileError(f"gov training rows need a kind in {KINDS}; found {sorted(set(map(str, kinds)) - set(KINDS))}")
    xk = Sparse.build(feats[:len(gov)], index)
    kind_weights = None
    if params.kind_balanced:
        count = {k: kinds.count(k) for k in KINDS}
        kind_weights = np.array([1.0 / count[k] for k in kinds])
    w_kind = fit_softmax(xk, np.array([KINDS.index(k) for k in kinds]), len(KINDS), kind_weights,
                         l2=params.kind_l2, epochs=params.epochs, lr=params.lr)
    w = np.hstack([w_sent, w_kind])
    q = np.rint(w * SCALE).astype(np.int64)
    keep = np.flatnonzero(np.abs(q).sum(axis=1) > 0)
    kept_names = [names[i] for i in keep]
    return LinearModel({n: i for i, n in enumerate(kept_names)}, q[keep] / SCALE,
                       {"params": params.__dict__, "n_gov": len(gov), "n_dev_rows": len(dev),
                        "n_examples": len(examples), "n_features": len(kept_names)})


def serialise(model: LinearModel, meta: dict) -> bytes:
    names = sorted(model.index, key=model.index.get)
    q = np.rint(model.weights * SCALE).astype(np.int64)
    doc = {"format": FORMAT, "labels": list(LABELS), "kinds": list(KINDS), "scale": SCALE,
           "meta": meta, "features": names, "weights": q.ravel().tolist()}
    raw = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(raw)
    return buf.getvalue()


def train(out: str | Path = MODEL_FILE, gov_path: str | Path = GOV_TRAIN, dev_path: str | Path | None = None,
          params: Params = Params()) -> tuple[Path, LinearModel]:
    gov_path = Path(gov_path)
    dev_path = Path(dev_path) if dev_path else sentiment_dev_path()
    gov = read_labelled_csv(gov_path)
    dev_train, dev_held = dev_split(dev_path)
    model = fit(gov, dev_train, params)
    meta = dict(model.meta)
    meta["inputs"] = {gov_path.name: _sha256(gov_path), dev_path.name: _sha256(dev_path)}
    meta["dev_holdout_rows"] = len(dev_held)
    data = serialise(model, meta)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(out)
    return out, LinearModel.load(out)
