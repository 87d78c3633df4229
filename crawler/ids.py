"""Weibo post ids: the 16-digit `mid` and its base62 short form `bid` (a.k.a. mblogid).

weibo.cn and weibo.com links carry the bid, the JSON APIs the mid; converting lets records from
saved HTML pages join the ones from the API. Ids stay text: they exceed a double's exact range.
"""
from __future__ import annotations

ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}


def _b62(n: int) -> str:
    if n == 0:
        return "0"
    out = []
    while n:
        n, r = divmod(n, 62)
        out.append(ALPHABET[r])
    return "".join(reversed(out))


def mid_to_bid(mid: str | int) -> str:
    """'4649031014551911' -> its bid; 7-digit groups from the right, each 4 base62 chars."""
    s = str(mid)
    if not s.isdigit():
        raise ValueError(f"mid must be digits, got {mid!r}")
    groups = []
    while s:
        s, chunk = s[:-7], s[-7:]
        groups.append(chunk)
    groups.reverse()
    out = []
    for i, chunk in enumerate(groups):
        enc = _b62(int(chunk))
        out.append(enc if i == 0 else enc.rjust(4, "0"))
    return "".join(out)


def bid_to_mid(bid: str) -> str:
    """A bid back to the numeric mid (as text)."""
    s = bid.strip()
    if not s or any(c not in _INDEX for c in s):
        raise ValueError(f"not a Weibo bid: {bid!r}")
    groups = []
    while s:
        s, chunk = s[:-4], s[-4:]
        groups.append(chunk)
    groups.reverse()
    out = []
    for i, chunk in enumerate(groups):
        n = 0
        for c in chunk:
            n = n * 62 + _INDEX[c]
        out.append(str(n) if i == 0 else str(n).rjust(7, "0"))
    return "".join(out).lstrip("0") or "0"


def looks_like_mid(value: str) -> bool:
    return value.isdigit() and 10 <= len(value) <= 20
