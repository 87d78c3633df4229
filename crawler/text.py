"""Weibo's HTML post text to clean text, keeping what a reader sees.

Mentions stay as `@name`, topics as `#话题#`, emoticons as their alt text (`[哈哈]`), repost chains
`//@name:` stay; the `全文` (full text) link and image-only icons go; `<br>` becomes a newline.
"""
from __future__ import annotations

import html as htmllib
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


_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
_ALT = re.compile(r"""(?:^|\s)alt\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""")
_SIMPLE_TAGS = frozenset({"a", "span", "img", "br", "i", "em", "b", "strong", "font", "u", "s"})  # inline only


def _clean_simple(html: str) -> CleanText | None:
    """The common case without a parser: Weibo's text markup (links, spans, emoticon images, line breaks) read
    token by token, giving exactly what `_clean` gives; None for anything else (comments, scripts, nested
    links, unbalanced or unknown tags), which the HTML parser then reads."""
    if "<!" in html or "<?" in html:
        return None
    out: list[str] = []
    mentions: list[str] = []
    truncated = False
    link_at: int | None = None  # where the open <a>'s text starts in OUT
    open_tags: list[str] = []
    pos = 0
    for m in _TAG.finditer(html):
        chunk = html[pos:m.start()]
        if "<" in chunk:
            return None
        if chunk:
            out.append(htmllib.unescape(chunk))
        pos = m.end()
        closing, name, attrs = m.group(1), m.group(2).lower(), m.group(3)
        if name not in _SIMPLE_TAGS:
            return None
        if name == "br":
            if closing:
                return None
            out.append("\n")
            continue
        if name == "img":
            if closing:
                return None
            a = _ALT.search(attrs)
            alt = htmllib.unescape(next((g for g in a.groups() if g is not None), "")).strip() if a else ""
            out.append(alt if alt.startswith("[") and alt.endswith("]") else "")
            continue
        if attrs.rstrip().endswith("/"):
            return None
        if not closing:
            if name == "a":
                if link_at is not None:
                    return None
                link_at = len(out)
            open_tags.append(name)
            continue
        if not open_tags or open_tags[-1] != name:
            return None
        open_tags.pop()
        if name == "a":
            pieces = out[link_at:]
            shown = "".join(p.strip() for p in pieces)  # as BeautifulSoup's get_text("", strip=True)
            if shown in _FULLTEXT or shown in _FOLD:
                truncated = truncated or shown in _FULLTEXT
                del out[link_at:]
            else:
                label = "".join(pieces).strip()
                if label.startswith("@"):
                    mentions.append(label[1:])
            link_at = None
    rest = html[pos:]
    if open_tags or "<" in rest:
        return None
    if rest:
        out.append(htmllib.unescape(rest))
    text = "".join(out)
    if truncated:
        text = _TRUNCATION.sub("", text.rstrip())
    text = _tidy(text)
    if not mentions:
        mentions = _MENTION_TEXT.findall(text)
    return CleanText(text, _unique(mentions), _unique(_TOPIC.findall(text)), truncated)


def _clean(html: str) -> CleanText:
    if "<" not in html and "&" not in html:  # plain text already
        text = _tidy(html)
        return CleanText(text, _unique(_MENTION_TEXT.findall(text)), _unique(_TOPIC.findall(text)))
    fast = _clean_simple(html)
    if fast is not None:
        return fast
    return _clean_parsed(html)


def _clean_parsed(html: str) -> CleanText:
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
    # the site pads many bodies with zero-width spaces (U+200B, `\u200b\u200b\u200b` at the end of weibo.com texts)
    if "\u200b" in text:
        text = text.replace("\u200b", "")
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r", "").split("\n")]
    out = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", out).strip()
