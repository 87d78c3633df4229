"""Where training and evaluation data live, how CSV labels are read, and the fixed dev split."""
from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from .types import LABELS, DataFileError

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = PACKAGE_DIR / "data"
GOV_TRAIN = DATA_DIR / "gov_train.csv"
GOV_EVAL = DATA_DIR / "gov_eval.csv"
MODEL_FILE = DATA_DIR / "model.json.gz"
# issue 21: a second hand-written set of posts to government accounts, kept out of training and of every
# choice made in cross-validation; the bench and tests/sentiment score it
HOLDOUT = DATA_DIR / "handwritten_holdout.csv"
EXT_LEXICON = DATA_DIR / "ext_lexicon.txt"

_LABEL_ALIASES = {
    "negative": "negative", "neg": "negative", "-1": "negative", "0": "negative", "负面": "negative",
    "neutral": "neutral", "neu": "neutral", "中性": "neutral",
    "positive": "positive", "pos": "positive", "1": "positive", "正面": "positive",
}


def shared_data_dir() -> Path:
    """../shared/data next to the repository, or $WZMON_SHARED_DATA."""
    env = os.environ.get("WZMON_SHARED_DATA")
    if env:
        return Path(env)
    return PACKAGE_DIR.parent.parent / "shared" / "data"


def sentiment_dev_path() -> Path:
    return shared_data_dir() / "sentiment_dev.csv"


def weibo_train_path() -> Path:
    """19,768 more emoticon-labelled Weibo posts (weibo_senti_100k, disjoint from sentiment_dev.csv): 2-way
    training rows only, never measured on."""
    return shared_data_dir() / "weibo_senti_train.csv"


@dataclass(frozen=True)
class Example:
    text: str
    label: str  # negative / neutral / positive
    kind: str | None = None
    source: str = ""  # gov CSVs: "handwritten" or "template-…"


def parse_label(raw: str, where: str) -> str:
    label = _LABEL_ALIASES.get(str(raw).strip().lower())
    if label is None:
        raise DataFileError(f"{where}: label {raw!r} is not one of negative/neutral/positive or 0/1")
    return label


def read_labelled_csv(path: str | Path, text_column: str = "text", label_column: str = "label") -> list[Example]:
    """Rows of a CSV with text and label columns (and an optional kind column)."""
    path = Path(path)
    if not path.exists():
        raise DataFileError(f"{path}: file not found")
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        cols = reader.fieldnames or []
        for need in (text_column, label_column):
            if need not in cols:
                raise DataFileError(f"{path}: no column {need!r} (columns are: {', '.join(cols) or 'none'})")
        out = []
        for i, row in enumerate(reader, start=2):
            label = parse_label(row[label_column], f"{path} line {i}")
            kind = (row.get("kind") or "").strip() or None
            out.append(Example(row[text_column] or "", label, kind, (row.get("source") or "").strip()))
    return out


def in_dev_holdout(text: str) -> bool:
    """Fixed quarter of sentiment_dev.csv kept out of training (by a hash of the text, so it never drifts)."""
    return hashlib.sha256(text.encode("utf-8")).digest()[0] % 4 == 0


def dev_split(path: str | Path | None = None) -> tuple[list[Example], list[Example]]:
    """(training three quarters, held-out quarter) of sentiment_dev.csv; both are 2-way (negative/positive)."""
    rows = read_labelled_csv(path or sentiment_dev_path())
    train = [r for r in rows if not in_dev_holdout(r.text)]
    held = [r for r in rows if in_dev_holdout(r.text)]
    return train, held


assert set(_LABEL_ALIASES.values()) == set(LABELS)
