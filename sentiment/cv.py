"""Cross-validation on training rows only (how hyper-parameters and feature changes are chosen).

    python -m sentiment.cv [--folds 3] [--salts cv,r1,r2]

Folds: the training three quarters of sentiment_dev.csv (never the held-out quarter) and the hand-written
rows of gov_train.csv are each split in `folds` parts by a hash of the text; template rows always train.
Per fold it reports 2-way accuracy on the dev fold (raw and with `[表情]` stripped), 3-way macro-F1 and
6-way kind macro-F1 on the hand-written fold. Neither gov_eval.csv nor the dev held-out quarter is read.
`--salts` repeats the whole thing with other fold assignments (salts of the hash) and averages, for less noise
(round 4 chose with `--salts cv,r1,r2`: 9 train/test splits).
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import time
from dataclasses import replace

from .datasets import GOV_TRAIN, Example, dev_split, read_labelled_csv
from .metrics import evaluate
from .text import strip_emoticons
from .train import Params, fit, load_lexicon, read_extra

THREE = ["negative", "neutral", "positive"]


def _fold(text: str, k: int, salt: str = "cv") -> int:
    return hashlib.sha256((salt + ":" + text).encode("utf-8")).digest()[1] % k


def gov_rows() -> tuple[list[Example], list[Example]]:
    """(template rows, hand-written rows) of gov_train.csv."""
    rows = read_labelled_csv(GOV_TRAIN)
    return [e for e in rows if e.source != "handwritten"], [e for e in rows if e.source == "handwritten"]


def run(params: Params, lex, folds: int = 3, verbose: bool = True, errors: list | None = None,
        salt: str = "cv") -> dict[str, float]:
    tmpl, hand = gov_rows()
    dev, _ = dev_split()  # the held-out quarter is dropped here
    extra = read_extra() if params.extra_weight > 0 or params.two_way_extra_weight > 0 else []  # weibo_senti_train.csv: always trains
    sums = {"raw": 0.0, "stripped": 0.0, "hand3": 0.0, "neu": 0.0, "kind": 0.0}
    for f in range(folds):
        tr_hand = [e for e in hand if _fold(e.text, folds, salt) != f]
        te_hand = [e for e in hand if _fold(e.text, folds, salt) == f]
        tr_dev = [e for e in dev if _fold(e.text, folds, salt) != f]
        te_dev = [e for e in dev if _fold(e.text, folds, salt) == f]
        model = fit(tmpl + tr_hand, tr_dev, params, lex, extra)
        raw = model.score_many([e.text for e in te_dev])
        stripped = model.score_many([strip_emoticons(e.text) for e in te_dev])
        gold2 = [e.label for e in te_dev]
        acc = lambda preds: sum(("positive" if p.score > 0 else "negative") == g for p, g in zip(preds, gold2)) / len(gold2)
        res = model.analyse_many([e.text for e in te_hand])
        if errors is not None:
            errors.extend((e.text, e.label, s.label, e.kind, k) for e, (s, k) in zip(te_hand, res)
                          if e.label != s.label or e.kind != k)
        r3 = evaluate([e.label for e in te_hand], [s.label for s, _ in res], THREE)
        m = {"raw": acc(raw), "stripped": acc(stripped), "hand3": r3.macro_f1, "neu": r3.f1["neutral"],
             "kind": evaluate([e.kind for e in te_hand], [k for _, k in res]).macro_f1}
        if verbose:
            print(f"  fold {f}: " + "  ".join(f"{k} {v:.4f}" for k, v in m.items()), flush=True)
        for k in sums:
            sums[k] += m[k] / folds
    return sums


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--salts", default="cv", help="comma-separated fold-hash salts; results are averaged over them")
    ap.add_argument("--no-lexicon", action="store_true")
    ap.add_argument("--lex-file", default=None, help="experiment: another lexicon TSV")
    ap.add_argument("--lex-div", type=float, default=None, help="experiment: features.LEX_DIV")
    ap.add_argument("--errors", help="write the hand-written training rows missed in their fold to this CSV")
    ap.add_argument("--set", action="append", default=[], help="Params field=value (repeatable)")
    args = ap.parse_args(argv)
    params = Params()
    for kv in args.set:
        k, v = kv.split("=", 1)
        params = replace(params, **{k: type(getattr(params, k))(v) if not isinstance(getattr(params, k), bool) else v == "1"})
    lex = None if args.no_lexicon else load_lexicon(args.lex_file, params.lex_min)  # cut-off: --set lex_min=…
    if args.lex_div:
        from . import features
        features.LEX_DIV = args.lex_div
    t0 = time.time()
    errors: list | None = [] if args.errors else None
    salts = [x for x in args.salts.split(",") if x]
    res = {}
    for salt in salts:
        for k, v in run(params, lex, args.folds, errors=errors, salt=salt).items():
            res[k] = res.get(k, 0.0) + v / len(salts)
    if args.errors:
        with open(args.errors, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["text", "label", "predicted", "kind", "predicted_kind"])
            w.writerows(errors)
    print(f"CV mean ({args.folds} folds x {len(salts)} salts, {time.time() - t0:.0f}s) lexicon={'no' if lex is None else len(lex)} "
          f"{args.set}: " + "  ".join(f"{k} {v:.4f}" for k, v in res.items()))


if __name__ == "__main__":
    main()
