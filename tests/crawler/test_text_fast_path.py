"""The parser-free reading of Weibo's text markup must give exactly what the HTML parser gives.

`crawler.text._clean_simple` reads the common markup (links, spans, emoticon images, line breaks) token by
token, for speed; anything it is not sure of goes to BeautifulSoup (`_clean_parsed`). The reference here is
the parser's reading, on every text of the recorded corpus, on the fake site's texts and on awkward markup.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.fake_weibo import render
from crawler.fake_weibo.scenario import Scenario
from crawler.text import _clean_parsed, _clean_simple

CORPUS = Path(__file__).parent / "corpus"


def _texts(node, out: list[str]) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("text", "longTextContent", "reply_text") and isinstance(v, str):
                out.append(v)
            else:
                _texts(v, out)
    elif isinstance(node, list):
        for v in node:
            _texts(v, out)


def corpus_texts() -> list[str]:
    out: list[str] = []
    for f in sorted(CORPUS.rglob("*.json")):
        _texts(json.loads(f.read_text(encoding="utf-8")), out)
    return out


def fake_texts() -> list[str]:
    sc = Scenario(seed=11, accounts=6, days=2)
    return [render.text_html(s.text) for s in sc.statuses.values()] + [render.text_html(c.text) for c in
                                                                        sc.comments.values()]


AWKWARD = [
    "纯文本 &amp; 实体 &nbsp;空格 &lt;b&gt; &foo; &#x4e2d;",
    "<a href='/n/银川公安'>@银川公安</a> 你好<br/>第二行<br>第三行",
    '<span class="url-icon"><img alt="[哈哈]" src="x.png" /></span>好<img src="p.png" alt="图片">',
    '<img data-alt="[假]" alt=[真] src=x>',
    '正文 ...<a href="/status/1">全文</a>',
    '正文…<a href="/status/1"> 全文 </a>',
    '正文<a action-type="fl_unfold">展开<i class="wbicon">c</i></a>',
    '<a href="x"><span>@</span>名字</a>说',
    "a < b 与 c > d",
    "<!-- 注释 -->可见",
    "<script>alert(1)</script>正文",
    "<p>段落一</p><p>段落二</p>",
    "<a href='x'>链接<a href='y'>嵌套</a></a>",
    "<span>未闭合",
    "</span>多余的闭合",
    "<A HREF='/n/张三'>@张三</A>",
    '<a href="x" title="a>b">@带尖括号属性</a>',
    "<br/><br/><br/><br/>只有换行",
    "<b>粗</b><i>斜</i><u>下</u>",
]


@pytest.mark.parametrize("source", ["corpus", "fake", "awkward"])
def test_fast_reading_equals_the_parser(source: str) -> None:
    texts = {"corpus": corpus_texts, "fake": fake_texts, "awkward": lambda: AWKWARD}[source]()
    assert texts, f"no {source} texts found"
    fast_taken = 0
    for html in texts:
        fast = _clean_simple(html)
        if fast is None:
            continue
        fast_taken += 1
        assert fast == _clean_parsed(html), html
    if source != "awkward":
        # the point of the fast path: the real markup goes through it
        assert fast_taken >= 0.95 * len(texts), f"{fast_taken} of {len(texts)} {source} texts read without the parser"


def test_unsure_markup_goes_to_the_parser() -> None:
    for html in ("<!-- 注释 -->可见", "<script>alert(1)</script>正文", "<a href='x'>链接<a href='y'>嵌套</a></a>",
                 "<span>未闭合", "</span>多余的闭合", "a < b"):
        assert _clean_simple(html) is None, html
