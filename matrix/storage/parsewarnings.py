"""Parse warnings in crawler health: items of a fetched page that the parser could not read (the rest of the page is
stored). They are kept as `crawler_health` rows of state `parse_warning`, one per page that brought new ones (with the
id of the stored answer), so the count per source and the latest warnings show on 采集状态 and in `wzmon status`
without a schema change.

A timeline's first page is read again on every poll; an item that stays unreadable would warn again each time. A
warning already among the source's recent warning rows is therefore not counted again: the count is of warnings
first seen, not of polls.
"""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from matrix.storage.db import chunks
from matrix.storage.models import CrawlerHealth

PARSE_WARNING = "parse_warning"
RECENT_ROWS = 20  # a source's warning rows a new warning is compared with
KEPT_PER_PAGE = 50  # new warnings of one page kept in a row's detail (the count is always whole)


def new_parse_warnings(session: Session, pages: Sequence[tuple[str, list[str]]]) -> list[list[str]]:
    """For each (SOURCE_KEY, WARNINGS) of pages about to be stored, in order, the warnings the source has not
    shown recently (nor an earlier page of PAGES)."""
    keys = sorted({key for key, ws in pages if ws})
    recent: dict[str, set[str]] = {key: set() for key in keys}
    for chunk in chunks(keys):
        rows = session.execute(
            select(CrawlerHealth.source_key, CrawlerHealth.detail)
            .where(CrawlerHealth.state == PARSE_WARNING, CrawlerHealth.source_key.in_(chunk))
            .order_by(CrawlerHealth.id.desc())
        )
        taken: dict[str, int] = {}
        for key, detail in rows:
            if taken.get(key, 0) < RECENT_ROWS:
                taken[key] = taken.get(key, 0) + 1
                recent[key].update((detail or {}).get("warnings") or [])
    out: list[list[str]] = []
    for key, warnings in pages:
        if not warnings:
            out.append([])
            continue
        out.append([w for w in dict.fromkeys(warnings) if w not in recent[key]])
        recent[key].update(warnings)
    return out


def add_parse_warnings(session: Session, source_key: str, new: list[str], at: datetime,
                       raw_response_id: int | None = None) -> None:
    """One health row for a page that brought NEW warnings (RAW_RESPONSE_ID: the stored answer they were found
    in): the first as the message, all of them (up to KEPT_PER_PAGE, the count whole) in `detail`."""
    more = f" (and {len(new) - 1} more)" if len(new) > 1 else ""
    detail: dict = {"new": len(new), "warnings": new[:KEPT_PER_PAGE]}
    if raw_response_id is not None:
        detail["raw_response_id"] = raw_response_id
    session.add(CrawlerHealth(at=at, source_key=source_key, state=PARSE_WARNING, message=(new[0] + more)[:2000],
                              detail=detail))


def parse_warning_counts(session: Session, keys: Sequence[str] | None = None) -> dict[str, int]:
    """Per source, the parse warnings counted so far (KEYS: only these sources)."""
    q = select(CrawlerHealth.source_key, CrawlerHealth.detail).where(CrawlerHealth.state == PARSE_WARNING)
    counts: dict[str, int] = {}
    for chunk in (chunks(list(keys)) if keys is not None else [None]):
        rows = session.execute(q if chunk is None else q.where(CrawlerHealth.source_key.in_(chunk)))
        for key, detail in rows:
            counts[key] = counts.get(key, 0) + int((detail or {}).get("new") or 0)
    return counts


def latest_parse_warnings(session: Session, limit: int = 50, keys: Sequence[str] | None = None) -> list[tuple]:
    """The latest warnings, newest first, one (at, source_key, warning, raw_response_id) each (KEYS: only these
    sources)."""
    q = select(CrawlerHealth.at, CrawlerHealth.source_key, CrawlerHealth.detail).where(
        CrawlerHealth.state == PARSE_WARNING)
    if keys is not None:
        q = q.where(CrawlerHealth.source_key.in_(list(keys)))
    out: list[tuple] = []
    for at, key, detail in session.execute(q.order_by(CrawlerHealth.id.desc()).limit(limit)):
        detail = detail or {}
        out.extend((at, key, w, detail.get("raw_response_id")) for w in detail.get("warnings") or [])
        if len(out) >= limit:
            break
    return out[:limit]
