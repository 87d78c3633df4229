"""Text clean-up done before any model sees a post: same treatment at training and at scoring time."""
from __future__ import annotations

import re
import unicodedata

import opencc

EMOTICON_RE = re.compile(r"\[[^\[\]]{1,8}\]")
URL_RE = re.compile(r"https?://[^\s\u4e00-\u9fff]+|www\.[^\s\u4e00-\u9fff]+")
# Weibo screen names: up to 30 word chars/CJK/-/_; they end at whitespace, punctuation or ':'.
MENTION_RE = re.compile(r"@[\w\u4e00-\u9fff\-]{1,30}")
REPOST_RE = re.compile(r"//@[^:：]{1,30}[:：]")
DIGITS_RE = re.compile(r"\d+(?:\.\d+)?")
SPACE_RE = re.compile(r"\s+")

# Long posts (long-text expansions, pasted documents) are cut to a head and a tail: the opening states the
# matter and the end usually carries the demand or the thanks; the middle adds cost, not signal.
MAX_HEAD = 1500
MAX_TAIL = 500

_T2S = opencc.OpenCC("t2s")


def strip_emoticons(text: str) -> str:
    """Remove `[表情]` tokens (the labels of sentiment_dev.csv were derived from them)."""
    return EMOTICON_RE.sub("", text)


def clip(text: str) -> str:
    if len(text) <= MAX_HEAD + MAX_TAIL:
        return text
    return text[:MAX_HEAD] + "…" + text[-MAX_TAIL:]


def normalize(text: str | None) -> str:
    """Simplified Chinese, half-width, lower case, clipped; mentions/URLs/emoticons kept for `split`."""
    if not text:
        return ""
    text = clip(str(text))
    text = unicodedata.normalize("NFKC", text)
    text = _T2S.convert(text)
    return text.lower()


def split(norm: str) -> tuple[str, list[str]]:
    """Split a normalized text into (body, emoticon names). The body has mentions, URLs and digits masked."""
    emoticons = [m[1:-1] for m in EMOTICON_RE.findall(norm)]
    body = EMOTICON_RE.sub(" ", norm)
    body = REPOST_RE.sub(" / ", body)
    body = URL_RE.sub(" ", body)
    body = MENTION_RE.sub("@", body)
    body = DIGITS_RE.sub("0", body)
    body = SPACE_RE.sub(" ", body).strip()
    return body, emoticons
