"""Counts as Weibo shows them: ints, or strings like "100万+", "1.2万", "3亿", "1,024", "转发"."""
from __future__ import annotations

import re

_UNITS = {"万": 10_000, "w": 10_000, "W": 10_000, "亿": 100_000_000, "千": 1_000, "k": 1_000, "K": 1_000}
_NUM = re.compile(r"(\d+(?:\.\d+)?)\s*([万亿千wWkK]?)\s*\+?")


def parse_count(value: object) -> int | None:
    """The count as an int; None when the value carries no number at all (missing, null, "")."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    text = str(value).strip().replace(",", "").replace("，", "")
    if not text:
        return None
    m = _NUM.search(text)
    if not m:
        return None
    number, unit = m.groups()
    return int(round(float(number) * _UNITS.get(unit, 1)))


def parse_count_or_zero(value: object) -> int:
    """For HTML buttons that show a bare label ("转发", "评论", "赞") when the count is zero."""
    n = parse_count(value)
    return 0 if n is None else n
