"""Incremental paging state for one source, kept as a JSON-able dict in the store.

A walk goes from the newest item down until it meets what an earlier walk already saw. The cursor
holds the high-water mark of completed walks (`last_id`, `last_created_at`), the ids seen close to
that mark (`seen`, so equal or late-indexed timestamps are neither lost nor doubled) and, while a
walk is unfinished, where to resume (`since_id` / `page` / `max_id`) plus what it has seen so far.
The mark only moves when a walk completes, so a walk cut short is resumed and nothing is skipped.
Pinned posts never stop a walk; a deleted last-seen post does not matter, because the stop rule
is the time mark, not the presence of one id.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Iterable

from crawler.constants import SEEN_IDS_CAP
from crawler.timeparse import parse_created_at, to_shanghai

UNORDERED_SEEN_CAP = 5000  # comment ids remembered per post (hotflow stops near a few dozen pages anyway)
RESUME_KEYS = ("since_id", "page", "max_id", "max_id_type")


def _iso(dt: datetime) -> str:
    return to_shanghai(dt).isoformat(timespec="seconds")


def _parse(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return parse_created_at(value)
    except Exception:  # noqa: BLE001 - a damaged cursor only costs a wider walk
        return None


class Walk:
    """One pass over a source, fed page by page; produces the cursor to store after each page."""

    def __init__(self, cursor: dict | None, overlap_seconds: float = 0.0, ordered: bool = True) -> None:
        c = dict(cursor or {})
        self.original = c
        self.overlap = timedelta(seconds=overlap_seconds)
        self.ordered = ordered
        self.mark = _parse(c.get("last_created_at"))
        self.last_id = c.get("last_id")
        self.seen: dict[str, str] = dict(c.get("seen") or {})
        if self.last_id and self.last_id not in self.seen and self.mark is not None:
            self.seen[str(self.last_id)] = _iso(self.mark)
        self.resume = {k: c[k] for k in RESUME_KEYS if c.get(k) not in (None, "", 0)}
        self.walk_seen: dict[str, str] = dict(c.get("walk_seen") or {}) if self.resume else {}
        self.top_at = _parse(c.get("walk_top_at")) if self.resume else None
        self.top_id = c.get("walk_top_id") if self.resume else None

    @property
    def resuming(self) -> bool:
        return bool(self.resume)

    @property
    def first_walk(self) -> bool:
        return self.mark is None

    def is_known(self, item_id: str) -> bool:
        return item_id in self.seen or item_id in self.walk_seen

    def filter(self, items: Iterable[Any], pinned=lambda item: False) -> tuple[list[Any], bool]:
        """(new items, reached_old): new = not seen and not older than the mark minus the overlap.

        `reached_old` is set by a non-pinned item older than the window (ordered sources stop there).
        """
        fresh: list[Any] = []
        reached_old = False
        # unordered sources (hotflow) are read whole and deduped by id alone: their relative dates
        # ("06-05") can be a day coarse, so a time floor would drop real items
        floor = self.mark - self.overlap if self.mark is not None and self.ordered else None
        for item in items:
            created = item.created_at
            is_pinned = bool(pinned(item))
            if floor is not None and created < floor:
                if not is_pinned:
                    reached_old = True
                continue
            if self.is_known(item.id):
                continue
            fresh.append(item)
            self.walk_seen[item.id] = _iso(created)
            if self.top_at is None or created > self.top_at:
                self.top_at, self.top_id = created, item.id
        return fresh, reached_old

    def note(self, items: Iterable[Any]) -> None:
        """Remember items as seen without yielding them (e.g. already-known replies)."""
        for item in items:
            self.walk_seen.setdefault(item.id, _iso(item.created_at))

    def continuing(self, **resume: Any) -> dict:
        """Cursor to store when more pages of this walk remain."""
        out = {k: v for k, v in self.original.items() if k not in RESUME_KEYS and not k.startswith("walk_")}
        out.update({k: v for k, v in resume.items() if v is not None})
        out["walk_seen"] = dict(self.walk_seen)
        if self.top_at is not None:
            out["walk_top_at"] = _iso(self.top_at)
            out["walk_top_id"] = self.top_id
        return out

    def finished(self) -> dict:
        """Cursor to store when the walk is complete: the mark moves up to the newest item seen."""
        mark, last_id = self.mark, self.last_id
        if self.top_at is not None and (mark is None or self.top_at >= mark):
            mark, last_id = self.top_at, self.top_id
        seen = {**self.seen, **self.walk_seen}
        cap = SEEN_IDS_CAP if self.ordered else UNORDERED_SEEN_CAP
        if mark is not None and self.ordered:
            floor = mark - self.overlap
            seen = {k: v for k, v in seen.items() if (_parse(v) or mark) >= floor}
        if len(seen) > cap:
            seen = dict(sorted(seen.items(), key=lambda kv: kv[1], reverse=True)[:cap])
        out = {k: v for k, v in self.original.items()
               if k not in RESUME_KEYS and not k.startswith("walk_") and k not in ("seen", "last_id", "last_created_at")}
        out["seen"] = seen
        if mark is not None:
            out["last_created_at"] = _iso(mark)
            out["last_id"] = last_id
        return out
