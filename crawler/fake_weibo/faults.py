"""Refusals and breakage the fake server can inject, per path pattern, by count or seeded probability.

Kinds: 432, 418, 403 (HTTP status), captcha (`{"ok":-100,"url":".../captcha"}`), passport (302 to
passport.weibo.com), empty (`{"ok":0,"msg":"这里还没有内容"}`), html (an HTML page with status 200 where
JSON was due), login_page (status 200 with the passport sign-in page, as a proxy that follows the login
redirect hands it over), truncated (Content-Length larger than what is sent, then close), disconnect (headers and
part of the body, then a TCP reset), broken_json (a complete response whose JSON is cut short),
slow (sleep `seconds` before answering), bad_item (a whole answer whose first post or comment has a `created_at`
the site never sends: a client must drop that item with a warning and keep the rest), random (one of `kinds`,
default the refusals and breakage above except slow and bad_item). A cookie requirement (`require_cookie(after=K)`) gives requests without a `SUB=` cookie a
login wall (`wall`: passport or captcha) once K such requests have been served.
"""
from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field
from typing import Any

KINDS = ("432", "418", "403", "captcha", "passport", "empty", "html", "login_page", "truncated", "disconnect", "broken_json",
         "slow", "bad_item", "random")
RANDOM_KINDS = ("432", "418", "403", "captcha", "passport", "empty", "html", "login_page", "truncated", "disconnect", "broken_json")


BAD_TIME = "不是时间"  # what `bad_item` puts in place of the first item's created_at


def spoil_first_item(answer: Any) -> bool:
    """For `bad_item`: give the first post (getIndex cards, nested `card_group` too) or comment/repost (`data.data`)
    of ANSWER, in place, a `created_at` no Weibo answer has. False when the answer holds no item."""
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, dict):
        return False
    items: list[dict] = []
    for card in data.get("cards") or []:
        if not isinstance(card, dict):
            continue
        if isinstance(card.get("mblog"), dict):
            items.append(card["mblog"])
        items.extend(c["mblog"] for c in card.get("card_group") or [] if isinstance(c, dict)
                     and isinstance(c.get("mblog"), dict))
    if isinstance(data.get("data"), list):
        items.extend(d for d in data["data"] if isinstance(d, dict))
    if not items:
        return False
    items[0]["created_at"] = BAD_TIME
    return True


class FaultError(ValueError):
    """A fault rule that cannot be used (unknown kind, bad pattern, bad numbers)."""


@dataclass
class FaultRule:
    kind: str
    path: str = ".*"  # regex searched in "path?query"
    count: int | None = None  # deliver this many faults, then stop (None = unlimited)
    probability: float | None = None  # chance per matching request (None = every matching request)
    seconds: float = 5.0  # for slow
    kinds: tuple[str, ...] = RANDOM_KINDS  # for random
    delivered: int = 0
    seen: int = 0
    _re: re.Pattern | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.kind = str(self.kind)
        if self.kind not in KINDS:
            raise FaultError(f"unknown fault kind {self.kind!r}; use one of {', '.join(KINDS)}")
        bad = [k for k in self.kinds if k not in KINDS or k == "random"]
        if bad:
            raise FaultError(f"unknown fault kinds {bad} in 'kinds'")
        self.kinds = tuple(self.kinds)
        try:
            self._re = re.compile(self.path)
        except re.error as exc:
            raise FaultError(f"fault path pattern {self.path!r} is not a regular expression: {exc}") from exc
        if self.count is not None and self.count < 0:
            raise FaultError(f"fault count must be >= 0, got {self.count}")
        if self.probability is not None and not 0 <= self.probability <= 1:
            raise FaultError(f"fault probability must be within 0..1, got {self.probability}")

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self.delivered >= self.count

    def as_dict(self) -> dict:
        return {"kind": self.kind, "path": self.path, "count": self.count, "probability": self.probability,
                "seconds": self.seconds, "kinds": list(self.kinds), "delivered": self.delivered, "seen": self.seen}


class Faults:
    """The server's fault table; thread-safe; decisions use a seeded RNG so runs repeat."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self.rules: list[FaultRule] = []
        self.cookie_after: int | None = None
        self.wall = "passport"
        self.cookieless_served = 0

    def add(self, kind: str, path: str = ".*", count: int | None = None, probability: float | None = None,
            seconds: float = 5.0, kinds: tuple[str, ...] | list[str] | None = None) -> FaultRule:
        """Inject `kind` on requests whose path?query matches `path` (see module doc for kinds)."""
        rule = FaultRule(str(kind), path, count, probability, float(seconds), tuple(kinds or RANDOM_KINDS))
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
            self.cookie_after = None
            self.cookieless_served = 0

    def require_cookie(self, after: int = 0, wall: str = "passport") -> None:
        """Requests without a `SUB=` cookie get a login wall once `after` of them have been served."""
        if wall not in ("passport", "captcha"):
            raise FaultError(f"login wall must be 'passport' or 'captcha', got {wall!r}")
        with self._lock:
            self.cookie_after = int(after)
            self.wall = wall
            self.cookieless_served = 0

    def pick(self, target: str, has_cookie: bool) -> FaultRule | str | None:
        """The fault to deliver for this request (a rule, a wall kind string) or None."""
        with self._lock:
            if self.cookie_after is not None and not has_cookie:
                if self.cookieless_served >= self.cookie_after:
                    return self.wall
                self.cookieless_served += 1
            for rule in self.rules:
                if rule.exhausted or not rule._re.search(target):
                    continue
                rule.seen += 1
                if rule.probability is not None and self._rng.random() >= rule.probability:
                    continue
                rule.delivered += 1
                return rule
            return None

    def resolve_kind(self, rule: FaultRule) -> str:
        if rule.kind != "random":
            return rule.kind
        with self._lock:
            return self._rng.choice(rule.kinds)

    def configure(self, body: dict) -> None:
        """Apply a `POST /__sim/faults` body: {"clear": true}, {"add": [rule...]}, a single rule,
        {"require_cookie_after": K, "wall": "passport"}; keys combine (clear first)."""
        if not isinstance(body, dict):
            raise FaultError("fault configuration must be a JSON object")
        if body.get("clear"):
            self.clear()
        rules = body.get("add", [])
        if "kind" in body:
            rules = [*rules, body]
        for r in rules:
            if not isinstance(r, dict) or "kind" not in r:
                raise FaultError(f"each fault rule needs a 'kind', got {r!r}")
            self.add(r["kind"], r.get("path", ".*"), r.get("count"), r.get("probability"), r.get("seconds", 5.0),
                     r.get("kinds"))
        if "require_cookie_after" in body:
            if body["require_cookie_after"] is None:
                with self._lock:
                    self.cookie_after = None
            else:
                self.require_cookie(body["require_cookie_after"], body.get("wall", "passport"))

    def describe(self) -> dict:
        with self._lock:
            return {"rules": [r.as_dict() for r in self.rules], "require_cookie_after": self.cookie_after,
                    "wall": self.wall, "cookieless_served": self.cookieless_served}
