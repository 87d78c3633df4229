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

from .datasets import (EXT_LEXICON, GOV_TRAIN, MODEL_FILE, Example, dev_split, read_labelled_csv, sentiment_dev_path,
                       weibo_train_path)
from .features import as_lexicon, features
from .linear import Sparse, fit_softmax
from .model import FORMAT, LinearModel
from .text import strip_emoticons
from .types import KINDS, LABELS, DataFileError

SCALE = 10000
LEX_SCALE = 100  # lexicon scores have two decimals


@dataclass(frozen=True)
class Params:
    min_df: int = 2  # over the gov and dev rows
    extra_min_df: int = 4  # or over all rows, weibo_senti_train.csv's included (issue 21: keeps the file small)
    l2: float = 3e-4  # sentiment head
    kind_l2: float = 3e-5  # kind head (fewer, cleaner rows: weaker penalty)
    kind_balanced: bool = True  # weight kind rows by 1 / rows of their kind, so 建议 and 求助 count
    epochs: int = 250
    lr: float = 0.05
    dev_weight: float = 2.0  # each of the two copies (raw, stripped) of a dev row
    gov_weight: float = 2.0
    lex_min: float = 1.0  # external-lexicon words with |score| below this are left out
    hand_weight: float = 8.0  # extra factor for hand-written gov rows (source "handwritten"), sentiment head
    kind_hand_weight: float = 1.0  # the same for the kind head (CV: no gain from weighting)
    two_way_mix: float = 1.0  # > 0: add this times a 2-way head fitted on the dev rows alone (product of experts)
    two_way_l2: float = 3e-5  # its L2 (issue 21: 3e-4 with 1,497 rows; 3e-5 with weibo_senti_train.csv's too)
    extra_weight: float = 0.0  # each copy (raw, stripped) of a weibo_senti_train.csv row in the 3-way head (issue 21)
    two_way_extra_weight: float = 2.0  # the same in the 2-way head
    extra_stripped_only: bool = True  # weibo_senti_train.csv rows only as stripped copies (no raw copy)
    stacked: bool = False  # fit the 3-way head on top of the 2-way head (its logits as a fixed offset)
    stack_polar_l2: float = 1.0  # when stacked: L2 factor on the 3-way head's positive-vs-negative part (0: none)
    stack_dev_weight: float = 2.0  # weight of each dev-row copy in the 3-way head when stacked (0: left out)
    polar_mix: float = 2.0  # > 0: this much more of the 2-way head as a polar boost (pole only, not neutral-or-not)
    two_way_nb: float = 1.0  # > 0: NB-weighted 2-way head (issue 21): n-gram columns scaled by |log-count ratio|, this smoothing


def load_lexicon(path: str | Path | None = None, min_abs: float = 0.0) -> dict[str, float] | None:
    """The external polarity lexicon (`word<TAB>score` lines) without the words whose |score| is below
    `min_abs` (training passes `Params.lex_min`), or None when the file is absent."""
    path = Path(path) if path else EXT_LEXICON
    if not path.exists():
        return None
    out = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#") or not line.strip():
                continue
            word, score = line.rstrip("\n").split("\t")
            if abs(float(score)) >= min_abs:
                out[word] = float(score)
    return out


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


def _rows(x: Sparse, keep_rows: np.ndarray) -> Sparse:
    """The rows of X picked by the boolean KEEP_ROWS, renumbered in order."""
    new = np.cumsum(keep_rows) - 1
    keep = keep_rows[x.rows]
    return Sparse(new[x.rows[keep]], x.cols[keep], x.vals[keep], int(keep_rows.sum()), x.n_cols)


def nb_scale(x: Sparse, yy: np.ndarray, alpha: float, ngram_cols: np.ndarray) -> np.ndarray:
    """|log-count ratio| of each column (Wang & Manning's NB-SVM): how much more often a feature is present in
    one class's rows than in the other's, with ALPHA smoothing. Columns not in NGRAM_COLS (cues, lexicon, bias)
    get 1. Scaling a column by it is the same as lowering its L2 penalty by its square, so n-grams that
    separate the classes are penalised less; the scale folds into the weights, so scoring is unchanged."""
    present = x.vals > 0
    p = alpha + np.bincount(x.cols[present & (yy[x.rows] == 1)], minlength=x.n_cols)
    q = alpha + np.bincount(x.cols[present & (yy[x.rows] == 0)], minlength=x.n_cols)
    r = np.abs(np.log((p / p.sum()) / (q / q.sum())))
    return np.where(ngram_cols, r, 1.0)


def two_way_head(x: Sparse, y: np.ndarray, first_dev: int, weights: np.ndarray, params: Params,
                 ngram_cols: np.ndarray | None = None) -> np.ndarray:
    """A negative-vs-positive logistic regression on the 2-way rows only (rows first_dev…, WEIGHTS their
    weights; rows of weight 0 are left out), returned as a (n_cols, 3) update of the sentiment head: +d/2 on
    positive, -d/2 on negative, so the two heads multiply as experts; neutral is untouched.
    With `params.two_way_nb` > 0 the NGRAM_COLS columns are NB-scaled first (see `nb_scale`)."""
    keep_rows = np.zeros(x.n_rows, dtype=bool)
    keep_rows[first_dev:] = weights > 0
    sub = _rows(x, keep_rows)
    yy = (y[keep_rows] == LABELS.index("positive")).astype(np.int64)
    scale = None
    if params.two_way_nb > 0:
        cols = np.ones(x.n_cols, dtype=bool) if ngram_cols is None else ngram_cols
        scale = nb_scale(sub, yy, params.two_way_nb, cols)
        sub = Sparse(sub.rows, sub.cols, sub.vals * scale[sub.cols], sub.n_rows, sub.n_cols)
    w2 = fit_softmax(sub, yy, 2, weights[weights > 0], l2=params.two_way_l2, epochs=params.epochs, lr=params.lr)
    d = (w2[:, 1] - w2[:, 0]) / 2
    if scale is not None:
        d = d * scale
    out = np.zeros((x.n_cols, len(LABELS)))
    out[:, LABELS.index("positive")] = d
    out[:, LABELS.index("negative")] = -d
    return out


def fit(gov: list[Example], dev: list[Example], params: Params = Params(),
        lex: dict[str, float] | None = None, extra: list[Example] = ()) -> LinearModel:
    """Fit both heads. `gov` rows carry a kind; `dev` rows (2-way) train the sentiment head only, and so do
    `extra` rows (weibo_senti_train.csv), weighted `params.extra_weight` instead of `dev_weight`.
    `lex` (word -> polarity) adds the external-lexicon features and is stored in the model."""
    two_way_dev = expand_dev(dev)
    if params.extra_stripped_only:  # the 2-way rows of weibo_senti_train.csv with their [表情] tokens removed only
        two_way_extra = [Example(t, r.label) for r in extra if (t := strip_emoticons(r.text).strip())]
    else:
        two_way_extra = expand_dev(extra)
    two_way = two_way_dev + two_way_extra
    examples = list(gov) + two_way
    lex = as_lexicon(lex)
    weights = np.array([params.gov_weight * (params.hand_weight if e.source == "handwritten" else 1.0) for e in gov]
                       + [params.dev_weight] * len(two_way_dev) + [params.extra_weight] * len(two_way_extra))
    feats = [features(e.text, lex)[0] for e in examples]
    n_small = len(gov) + len(two_way_dev)
    df: dict[str, int] = {}  # over the gov and dev rows
    for f in feats[:n_small]:
        for k in f:
            df[k] = df.get(k, 0) + 1
    df_all = dict(df)  # over every row, weibo_senti_train.csv's too
    for f in feats[n_small:]:
        for k in f:
            df_all[k] = df_all.get(k, 0) + 1
    names = sorted(k for k, n in df_all.items()
                   if df.get(k, 0) >= params.min_df or n >= params.extra_min_df or k[:2] in ("R:", "B:", "X:"))
    index = {n: i for i, n in enumerate(names)}
    x = Sparse.build(feats, index)
    ngram_cols = np.array([n[:2] not in ("R:", "B:", "X:") for n in names], dtype=bool)
    y = np.array([LABELS.index(e.label) for e in examples])
    # dev rows are 2-way: their softmax runs over negative/positive only.
    allowed = np.ones((len(examples), len(LABELS)), dtype=bool)
    allowed[len(gov):, LABELS.index("neutral")] = False
    polar = None
    w2 = np.array([params.dev_weight] * len(two_way_dev) + [params.two_way_extra_weight] * len(two_way_extra))
    if params.stacked and params.two_way_mix > 0 and len(gov) < len(examples):
        # issue 21: the 2-way head first (dev + weibo_senti_train rows), then the 3-way head fitted on top of it:
        # its logits enter every row as a fixed offset, so the 3-way head learns the neutral class (and what the
        # government rows add to polarity) given how sure the 2-way head already is.
        head2 = params.two_way_mix * two_way_head(x, y, len(gov), w2, params, ngram_cols)
        weights[len(gov):len(gov) + len(two_way_dev)] = params.stack_dev_weight
        used = weights > 0
        xs = _rows(x, used)
        basis, pen = [[0.0, 1.0, 0.0]], [1.0]  # neutral against the two polar classes
        if params.stack_polar_l2 > 0:  # and what the gov rows add to positive-vs-negative, penalised this much more
            basis.append([-1.0, 0.0, 1.0])
            pen.append(params.stack_polar_l2)
        w_sent = fit_softmax(xs, y[used], len(LABELS), weights[used], l2=params.l2, epochs=params.epochs,
                             lr=params.lr, allowed=allowed[used], offset=xs.dot(head2), basis=np.array(basis),
                             basis_l2=pen) + head2
    else:
        used = weights > 0  # extra rows at weight 0 shape the feature list and the 2-way head only
        w_sent = fit_softmax(_rows(x, used), y[used], len(LABELS), weights[used], l2=params.l2, epochs=params.epochs,
                             lr=params.lr, allowed=allowed[used])
        if params.two_way_mix > 0 and len(gov) < len(examples):
            head2 = two_way_head(x, y, len(gov), w2, params, ngram_cols)
            w_sent = w_sent + params.two_way_mix * head2
            if params.polar_mix > 0:
                polar = params.polar_mix * (head2[:, LABELS.index("positive")] - head2[:, LABELS.index("negative")])
    kinds = [e.kind for e in gov]
    if any(k not in KINDS for k in kinds):
        raise DataFileError(f"gov training rows need a kind in {KINDS}; found {sorted(set(map(str, kinds)) - set(KINDS))}")
    xk = Sparse.build(feats[:len(gov)], index)
    kind_weights = None
    if params.kind_balanced:
        count = {k: kinds.count(k) for k in KINDS}
        kind_weights = np.array([1.0 / count[k] for k in kinds])
    if params.kind_hand_weight != 1.0:
        hand = np.array([params.kind_hand_weight if e.source == "handwritten" else 1.0 for e in gov])
        kind_weights = hand if kind_weights is None else kind_weights * hand
    w_kind = fit_softmax(xk, np.array([KINDS.index(k) for k in kinds]), len(KINDS), kind_weights,
                         l2=params.kind_l2, epochs=params.epochs, lr=params.lr)
    w = np.hstack([w_sent, w_kind] + ([] if polar is None else [polar[:, None]]))
    q = np.rint(w * SCALE).astype(np.int64)
    keep = np.flatnonzero(np.abs(q).sum(axis=1) > 0)
    kept_names = [names[i] for i in keep]
    n_out = len(LABELS) + len(KINDS)
    return LinearModel({n: i for i, n in enumerate(kept_names)}, q[keep][:, :n_out] / SCALE,
                       polar=None if polar is None else q[keep][:, n_out] / SCALE, lexicon=lex, meta={"params": params.__dict__, "n_gov": len(gov), "n_dev_rows": len(dev),
                        "n_extra_rows": len(extra),
                        "n_examples": len(examples), "n_features": len(kept_names)})


def serialise(model: LinearModel, meta: dict) -> bytes:
    names = sorted(model.index, key=model.index.get)
    q = np.rint(model.weights * SCALE).astype(np.int64)
    doc = {"format": FORMAT, "labels": list(LABELS), "kinds": list(KINDS), "scale": SCALE,
           "meta": meta, "features": names, "weights": q.ravel().tolist()}
    if model.has_polar:
        doc["polar"] = np.rint(model.polar * SCALE).astype(np.int64).tolist()
    if model.lexicon:
        words = sorted(model.lexicon)
        doc["lexicon"] = {"words": words, "scores": [int(round(model.lexicon[w] * LEX_SCALE)) for w in words]}
        doc["lexicon_scale"] = LEX_SCALE
    raw = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(raw)
    return buf.getvalue()


def read_extra(path: str | Path | None = None) -> list[Example]:
    """The 2-way rows of weibo_senti_train.csv (see shared/data/README.md), in file order."""
    return read_labelled_csv(path or weibo_train_path())


def train(out: str | Path = MODEL_FILE, gov_path: str | Path = GOV_TRAIN, dev_path: str | Path | None = None,
          params: Params = Params(), lex_path: str | Path | None = None,
          extra_path: str | Path | None = None) -> tuple[Path, LinearModel]:
    gov_path = Path(gov_path)
    dev_path = Path(dev_path) if dev_path else sentiment_dev_path()
    extra_path = Path(extra_path) if extra_path else weibo_train_path()
    gov = read_labelled_csv(gov_path)
    dev_train, dev_held = dev_split(dev_path)
    extra = read_extra(extra_path)
    lex_path = Path(lex_path) if lex_path else EXT_LEXICON
    lex = load_lexicon(lex_path, params.lex_min)
    model = fit(gov, dev_train, params, lex, extra)
    meta = dict(model.meta)
    meta["inputs"] = {gov_path.name: _sha256(gov_path), dev_path.name: _sha256(dev_path),
                      extra_path.name: _sha256(extra_path)}
    if lex is not None:
        meta["inputs"][lex_path.name] = _sha256(lex_path)
        meta["lexicon_words"] = len(lex)
    meta["dev_holdout_rows"] = len(dev_held)
    data = serialise(model, meta)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(out)
    return out, LinearModel.load(out)


if __name__ == "__main__":  # python -m sentiment.train: rebuild the shipped model file in place
    _path, _model = train()
    print(f"wrote {_path} ({_path.stat().st_size} bytes, {_model.meta['n_features']} features, "
          f"{_model.meta['n_examples']} training texts)")
