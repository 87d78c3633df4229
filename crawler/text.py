"""Weibo's HTML post text to clean text, keeping what a reader sees.

Mentions stay as `@name`, topics as `#话题#`, emoticons as their alt text (`[哈哈]`), repost chains
`//@name:` stay; the `全文` (full text) link and image-only icons go; `<br>` becomes a newline.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from bs4 import BeautifulSoup, NavigableString, Tag

_MENTION_TEXT = re.compile(r"@([\w\-·]{1,30})")
_TOPIC = re.compile(r"#([^#\n]{1,80})#")
_SPACES = re.compile(r"[ \t\u3000\xa0]+")
_FULLTEXT = ("全文", "全文>>", "展开全文", "展开全文c", "展开", "展开c")
_FOLD = ("收起", "收起d", "收起全文d", "收起全文")
_TRUNCATION = re.compile(r"(\.\.\.|…)+\s*$")


@dataclass
class CleanText:
    text: str
    mentions: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    truncated: bool = False  # a 全文 link was removed: the long text is elsewhere


def _unique(seq) -> list[str]:
    seen: dict[str, None] = {}
    for s in seq:
        s = s.strip()
        if s and s not in seen:
            seen[s] = None
    return list(seen)


def _is_fulltext_link(tag: Tag) -> bool:
    """`全文` on m.weibo.cn, `展开`/`收起` buttons on s.weibo.com: navigation, not text."""
    label = tag.get_text("", strip=True)
    return label in _FULLTEXT or label in _FOLD


def clean_html(html: str | None) -> CleanText:
    """Parse one post/comment body; never raises on odd markup (unknown tags keep their text).

    Results are cached by the HTML string: a poller re-reads the same first pages again and again.
    """
    if not html:
        return CleanText("")
    text, mentions, topics, truncated = _clean_cached(html)
    return CleanText(text, list(mentions), list(topics), truncated)


@lru_cache(maxsize=8192)
def _clean_cached(html: str) -> tuple[str, tuple[str, ...], tuple[str, ...], bool]:
    c = _clean(html)
    return c.text, tuple(c.mentions), tuple(c.topics), c.truncated


def _clean(html: str) -> CleanText:
    if "<" not in html and "&" not in html:  # plain text already
        text = _tidy(html)
        return CleanText(text, _unique(_MENTION_TEXT.findall(text)), _unique(_TOPIC.findall(text)))
    soup = BeautifulSoup(html, "lxml")
    mentions: list[str] = []
    truncated = False
    for tag in soup.find_all(["script", "style"]):
        tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for img in soup.find_all("img"):
        alt = (img.get("alt") or "").strip()
        img.replace_with(alt if alt.startswith("[") and alt.endswith("]") else "")
    for a in soup.find_all("a"):
        label = a.get_text("", strip=False)
        if _is_fulltext_link(a):
            truncated = truncated or a.get_text("", strip=True) in _FULLTEXT
            a.decompose()
            continue
        if label.strip().startswith("@"):
            mentions.append(label.strip()[1:])
    text = "".join(_strings(soup))
    if truncated:
        text = _TRUNCATION.sub("", text.rstrip())
    text = _tidy(text)
    if not mentions:
        mentions = _MENTION_TEXT.findall(text)
    topics = _TOPIC.findall(text)
    return CleanText(text, _unique(mentions), _unique(topics), truncated)


def _strings(soup: BeautifulSoup):
    """Visible text only (comments, CDATA and doctype nodes are NavigableString subclasses)."""
    for node in soup.descendants:
        if type(node) is NavigableString:
            yield str(node)


def _tidy(text: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r", "").split("\n")]
    out = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", out).strip()
