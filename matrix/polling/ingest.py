"""From crawled pages to stored, scored posts and up-to-date cases, one transaction per page.

A page's raw response, its new items (upserted on post id, so re-polls and several pollers never
double a post), their sentiment and kind, the cases they open or move, and the source's cursor are
committed together: a poller killed mid-batch loses nothing and, restarted, doubles nothing.
"""
from __future__ import annotations

import gzip
import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any, Callable, Iterable, Iterator, Sequence

from sqlalchemy import Engine, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crawler.store import decayed_rate
from matrix.casework.cases import WITHHOLD_ALERTS, process_items, sweep
from matrix.casework.inspection import record_links
from matrix.storage import rollup
from matrix.storage.bulkwrite import (
    COPY_MIN,
    bulk_executemany,
    bulk_insert,
    copy_insert_new,
    hold_write_lock,
)
from matrix.storage.db import chunks, session_scope
from matrix.storage.models import CrawlerHealth, PollCursor, Post, RawResponse
from matrix.storage.parsewarnings import add_parse_warnings, new_parse_warnings
from matrix.timeutil import as_utc, utcnow

log = logging.getLogger(__name__)
POST_COLUMNS = frozenset(c.key for c in Post.__table__.columns)


@dataclass
class StoreResult:
    source_key: str
    new_items: int = 0
    seen_items: int = 0
    cases_touched: set[int] = field(default_factory=set)
    parse_warnings: int = 0  # unreadable items first seen on these pages (see matrix.storage.parsewarnings)


def flatten_items(items: Iterable[Any]) -> list[Any]:
    """Items, the originals they repost, and comment replies, each once, originals first."""
    out: dict[str, Any] = {}

    def add(item: Any) -> None:
        retweeted = getattr(item, "retweeted", None)
        if retweeted is not None:
            add(retweeted)
        if item.id not in out:
            out[item.id] = item
        for reply in getattr(item, "replies", None) or []:
            add(reply)

    for item in items:
        add(item)
    return list(out.values())


def store_raws(session: Session, raws: Sequence[tuple[str, Any]]) -> list[int]:
    """Keep the original responses gzip-compressed, in one round trip; returns their ids in order."""
    rows = [dict(
        source_key=key, url=str(raw.url), status=int(raw.status or 0), content_type=str(raw.content_type or "")[:128],
        fetched_at=as_utc(raw.fetched_at) or utcnow(), encoding="gzip",
        body=getattr(raw, "gzipped", None) or gzip.compress(bytes(raw.body or b""), 6),
    ) for key, raw in raws]
    t = RawResponse.__table__
    if len(rows) >= COPY_MIN:
        return bulk_insert(session, t, rows, ids=True)
    result = session.connection().execute(t.insert().returning(t.c.id, sort_by_parameter_order=True), rows)
    return list(result.scalars())


def known_ids(session: Session, items: Sequence[Any]) -> set[str]:
    """Ids among ITEMS already stored."""
    run = session.connection().execute
    return {pid for chunk in chunks(sorted({i.id for i in items}))
            for pid in run(select(Post.id).where(Post.id.in_(chunk))).scalars()}


_INSERTS: dict[str, Any] = {}


def _insert_returning(dialect: str) -> Any:
    """INSERT of a post row that skips ids already stored and returns the ids it inserted (built once per dialect,
    so SQLAlchemy compiles it once and sends many rows per statement)."""
    stmt = _INSERTS.get(dialect)
    if stmt is None:
        mod = postgresql if dialect == "postgresql" else sqlite
        stmt = _INSERTS[dialect] = (mod.insert(Post.__table__).on_conflict_do_nothing(index_elements=["id"])
                                    .returning(Post.__table__.c.id))
    return stmt


def _insert_ignore_sqlite() -> Any:
    stmt = _INSERTS.get("sqlite-plain")
    if stmt is None:
        stmt = _INSERTS["sqlite-plain"] = sqlite.insert(Post.__table__).on_conflict_do_nothing(index_elements=["id"])
    return stmt


def score_texts(scorer: Any, texts: Sequence[str]) -> list[tuple[Any, str]]:
    """(sentiment, kind) of each text, each distinct text scored once and both read off one pass when the
    model can (`analyse_many`); replies such as 已收到 repeat thousands of times in an archive."""
    distinct = list(dict.fromkeys(texts))
    if hasattr(scorer, "analyse_many"):
        found = dict(zip(distinct, scorer.analyse_many(distinct)))
    else:
        found = dict(zip(distinct, zip(scorer.score_many(distinct), scorer.kinds(distinct))))
    return [found[t] for t in texts]


def insert_items(session: Session, items: Sequence[tuple[Any, int | None]], scorer: Any) -> list[dict[str, Any]]:
    """Score and insert (ITEM, RAW_ID) pairs, many rows per statement; returns the rows inserted, as written
    (scored, with their raw response's id). An id a racing writer stored first is skipped, not doubled."""
    fresh = []
    for item, raw_id in items:
        row = {k: v for k, v in item.to_row().items() if k in POST_COLUMNS}
        row["raw_id"] = raw_id
        row.setdefault("is_pinned", False)  # comments have none; one insert needs the same keys in every row
        fresh.append(row)
    if not fresh:
        return []
    if scorer is not None:
        for r, (s, k) in zip(fresh, score_texts(scorer, [r["text"] or "" for r in fresh])):
            r.update(sentiment_label=s.label, sentiment_score=float(s.score),
                     sentiment_confidence=float(s.confidence), post_kind=k)
    else:
        for r in fresh:
            r.update(sentiment_label=None, sentiment_score=None, sentiment_confidence=None, post_kind=None)
    name = session.get_bind().dialect.name
    if name not in ("postgresql", "sqlite"):  # other engines: plain insert of what we did not see (single writer)
        session.execute(Post.__table__.insert(), fresh)
        return fresh
    if name == "postgresql" and len(fresh) >= COPY_MIN:
        inserted = _insert_many_pg(session, fresh)
    elif len(fresh) >= COPY_MIN:
        # SQLite, under its one write lock: what is not stored now is what this insert adds
        hold_write_lock(session, Post.__table__)
        known = known_ids(session, [SimpleNamespace(id=r["id"]) for r in fresh])
        inserted = {r["id"] for r in fresh} - known
        rows = [r for r in fresh if r["id"] in inserted]
        with rollup.trigger_set_aside(session.connection(), "rollup_posts_ins",
                                      rollup.utc_days(r["created_at"] for r in rows), len(rows)):
            bulk_executemany(session, _insert_ignore_sqlite(), rows)
    else:
        inserted = set(session.connection().execute(_insert_returning(name), fresh).scalars())
    return [r for r in fresh if r["id"] in inserted]


def _insert_many_pg(session: Session, rows: list[dict[str, Any]]) -> set[str]:
    """Many rows on PostgreSQL: one COPY and one INSERT ... ON CONFLICT DO NOTHING RETURNING (see
    `matrix.storage.bulkwrite`); the ids inserted (a racing writer's row for the same id is left alone)."""
    return {r[0] for r in copy_insert_new(session, Post.__table__, rows, conflict=["id"], returning=["id"])}


def advance_cursor(session: Session, source_key: str, cursor: dict | None,
                   polled_at: datetime, new_items: int, requests: int, last_item_at: datetime | None,
                   new_created: list[datetime] | None = None, row: PollCursor | None = None) -> None:
    """Move the source's cursor in the caller's transaction (so it never runs ahead of its posts).

    ROW: the cursor's row when the caller has read it already (None: read or created here)."""
    row = row or session.get(PollCursor, source_key)
    if row is None:
        row = new_cursor_row(session, source_key)
    if cursor is not None:
        row.cursor = dict(cursor)
    # crawler.store.decayed_rate takes the new items' creation times (it weighs each by its age)
    row.activity_rate = decayed_rate(float(row.activity_rate or 0.0), as_utc(row.last_polled_at), polled_at,
                                     list(new_created or []))
    row.cooldown_until = None
    row.consecutive_errors = 0
    row.last_polled_at = polled_at
    if new_items:
        row.last_new_at = polled_at
    if last_item_at is not None and (row.last_item_at is None or last_item_at > as_utc(row.last_item_at)):
        row.last_item_at = last_item_at
    row.items_total = (row.items_total or 0) + new_items
    row.requests_total = (row.requests_total or 0) + requests
    row.last_error = ""


def _by_source(pages: Sequence[tuple[str, Any, dict | None]], flat: Sequence[list[Any]]
               ) -> dict[str, list[tuple[tuple[Any, dict | None], list[Any]]]]:
    """The pages of each source key, in order, each with its flattened items."""
    out: dict[str, list[tuple[tuple[Any, dict | None], list[Any]]]] = {}
    for (key, page, cursor), items in zip(pages, flat):
        out.setdefault(key, []).append(((page, cursor), items))
    return out


CASES_LOCK = 0x777A6D6F6E  # "wzmon": the advisory lock key that serialises case updates on PostgreSQL


def lock_cases(session: Session) -> None:
    """Serialise case derivation across pollers (PostgreSQL: a transaction advisory lock).

    Cases are derived from their whole thread; two pollers storing two items of one thread at once
    would each derive from a snapshot missing the other's item, and the later commit would win with
    stale facts. Held to the end of the transaction; posts are still inserted in parallel before it.
    SQLite needs nothing: it has one writer at a time already.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CASES_LOCK})


def member_uids(session: Session) -> set[str]:
    """The roster's member accounts (whose own posts are inspected)."""
    from matrix.storage.models import Account

    return set(session.scalars(select(Account.uid).where(Account.role != "coordinator")))


def refresh_rollups(engine: Engine, calendar: Any = None) -> None:
    """Fold the days changed since the last tick into the board's rollups (its own short transaction),
    measuring lateness on CALENDAR (the clock's policy's; default: the shipped policy's).

    Best effort: a day left marked is still read exactly (from the base tables), only slower.
    """
    try:
        with session_scope(engine) as session:
            rollup.refresh(session.connection(), calendar=calendar)
    except Exception as exc:  # noqa: BLE001 - never let the board's cache stop the clock
        log.warning("rollup refresh failed (days stay marked and are read directly): %s", exc)


def new_cursor_row(session: Session, source_key: str) -> PollCursor:
    """A source's cursor row, seen for the first time (added to the session)."""
    kind, target = split_source_key(source_key)
    row = PollCursor(source_key=source_key, kind=kind, target=target, cursor={}, items_total=0,
                     requests_total=0, errors_total=0, consecutive_errors=0, activity_rate=0.0)
    session.add(row)
    return row


def split_source_key(source_key: str) -> tuple[str, str]:
    kind, _, target = source_key.partition(":")
    return kind, target


class Ingestor:
    """Stores pages for the poller and the importer, scores what is new and keeps cases current."""

    def __init__(self, engine: Engine, policy: Any, scorer: Any | None = None):
        self.engine = engine
        self.policy = policy
        if scorer is None:
            import sentiment

            scorer = sentiment.get_model("default")
        self.scorer = scorer
        self.alerts = True  # False: level events are recorded without alerts (`wzmon import --no-alerts`)
        self.withheld: list[int] = []  # the level events recorded without an alert, per batch

    @contextmanager
    def _session(self) -> Iterator[Session]:
        """A transaction of this ingestor's (marked to withhold alerts when `alerts` is off)."""
        with session_scope(self.engine) as session:
            if not self.alerts:
                session.info[WITHHOLD_ALERTS] = self.withheld
            yield session

    def store_page(self, source_key: str, page: Any, cursor: dict | None = None, *,
                   now: datetime | None = None, guard: Callable[[Session], None] | None = None) -> StoreResult:
        """Commit PAGE (raw response, items, cases) and advance SOURCE_KEY's cursor, all or nothing.

        GUARD(session), if given, runs first inside the same transaction and may raise to store nothing
        (a poller checks there that it still holds the source's lease, see `matrix.polling.leases`).
        """
        fetched = as_utc(page.raw.fetched_at) if page.raw is not None else None
        return self.store_pages([(source_key, page, cursor)], now=as_utc(now) or fetched, guard=guard)

    def store_pages(self, pages: Sequence[tuple[str, Any, dict | None]], *, now: datetime | None = None,
                    guard: Callable[[Session], None] | None = None) -> StoreResult:
        """Commit many (SOURCE_KEY, PAGE, CURSOR) at once, all or nothing, as if stored one after the other:
        one query per kind of lookup, the posts in bulk, scored together, and one run of the case engine.

        NOW (default: the newest fetch time among the pages) is when the cases are judged. Returns the totals
        (`source_key` is the first page's).
        """
        result = StoreResult(pages[0][0] if pages else "")
        if not pages:
            return result
        fetched = [as_utc(p.raw.fetched_at) for _, p, _ in pages if p.raw is not None and p.raw.fetched_at]
        now = as_utc(now) or (max(fetched) if fetched else None) or utcnow()
        with self._session() as session:
            if guard is not None:
                guard(session)
            flat = [flatten_items(page.items) for _, page, _ in pages]
            seen = known_ids(session, [i for items in flat for i in items])
            warned = [(key, list(getattr(page, "warnings", None) or [])) for key, page, _ in pages]
            new_warnings = new_parse_warnings(session, warned) if any(w for _, w in warned) else [[] for _ in pages]
            raws: list[tuple[str, Any]] = []
            owner: list[int] = []  # for each page, the index of its raw response in RAWS (or -1)
            fresh: list[list[Any]] = []
            for (key, page, _), items, unread in zip(pages, flat, new_warnings):
                result.seen_items += len(items)
                new = [i for i in dict((i.id, i) for i in items).values() if i.id not in seen]
                seen.update(i.id for i in new)
                fresh.append(new)
                owner.append(-1)
                # kept beside the records it brought, or the items it could not give; empty polls only counted
                if page.raw is not None and (new or unread):
                    owner[-1] = len(raws)
                    raws.append((key, page.raw))
                    raws.extend((key, extra) for extra in getattr(page, "extras", None) or [])
            raw_ids = store_raws(session, raws) if raws else []
            for (key, _), unread, o in zip(warned, new_warnings, owner):
                if unread:
                    add_parse_warnings(session, key, unread, now, raw_ids[o] if o >= 0 else None)
                    result.parse_warnings += len(unread)
            new_rows = insert_items(session, [(i, raw_ids[o] if o >= 0 else None)
                                              for new, o in zip(fresh, owner) for i in new], self.scorer)
            new_ids = [r["id"] for r in new_rows]
            result.new_items = len(new_ids)
            if new_ids:
                lock_cases(session)
                # the rows as written stand in for the posts (reading them back would cost more than storing)
                new_posts = [SimpleNamespace(**r) for r in new_rows]
                result.cases_touched = process_items(session, new_posts, self.policy, now)
                record_links(session, new_posts, member_uids(session))
            inserted = set(new_ids)
            by_source = _by_source(pages, flat)
            keys = sorted(by_source)
            rows = {r.source_key: r for chunk in chunks(keys)
                    for r in session.scalars(select(PollCursor).where(PollCursor.source_key.in_(chunk)))}
            for key, group in by_source.items():
                items = [i for _, items in group for i in items]
                last_page, last_cursor = group[-1][0]
                cursor = last_cursor if last_cursor is not None else last_page.cursor
                last_item_at = max((as_utc(i.created_at) for i in items), default=None)
                requests = sum(1 + len(getattr(p, "extras", None) or []) for (p, _), _ in group if p.raw is not None)
                new_created = [as_utc(i.created_at) for i in items if i.id in inserted and i.created_at is not None]
                advance_cursor(session, key, cursor, now, len({i.id for i in items} & inserted), requests,
                               last_item_at, new_created, row=rows.get(key) or new_cursor_row(session, key))
        return result

    def analyze(self) -> None:
        """Refresh PostgreSQL's planner statistics of the tables an import grows (an archive loaded into fresh
        tables outruns autovacuum: with stale counts the planner scans whole tables for lookups by id)."""
        if self.engine.dialect.name != "postgresql":
            return
        with self.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "ANALYZE posts, cases, case_events, raw_responses, alerts")

    def tick(self, now: datetime | None = None) -> int:
        """Run the SLA clock over all open cases (levels rise as time passes, even with no new posts)."""
        if self.policy.refresh_calendar():
            log.warning("working calendar file %s changed: judging on its days from now on",
                        self.policy.calendar.calendar_file)
        with self._session() as session:
            lock_cases(session)
            changed = sweep(session, self.policy, as_utc(now) or utcnow()).changed
        if self.alerts:  # a historical import's silences are history too: the poller's next tick judges them
            self.watch(now)
        refresh_rollups(self.engine, self.policy.calendar)
        return changed

    def watch(self, now: datetime | None = None) -> int:
        """The member accounts' silence (matrix.casework.inspection): alerts once per level and episode; how many queued.

        Its own transaction, so a problem here never costs the clock's work (logged, tried again next tick)."""
        from matrix.casework.inspection import watch_silence

        try:
            with session_scope(self.engine) as session:
                return watch_silence(session, self.policy, as_utc(now) or utcnow())
        except Exception as exc:  # noqa: BLE001 - the silence watch must not stop the SLA clock
            log.warning("silence watch failed (tried again at the next tick): %s", exc)
            return 0

    def record_health(self, state: str, source_key: str = "", message: str = "", http_status: int | None = None,
                      cooldown_until: datetime | None = None, detail: dict | None = None,
                      at: datetime | None = None) -> None:
        with session_scope(self.engine) as session:
            session.add(CrawlerHealth(at=as_utc(at) or utcnow(), source_key=source_key, state=state,
                                      http_status=http_status, message=message[:2000],
                                      cooldown_until=as_utc(cooldown_until), detail=detail or {}))
            row = session.get(PollCursor, source_key) if source_key else None
            if row is None and source_key and ":" in source_key and state != "ok":
                row = new_cursor_row(session, source_key)
            if row is not None and state != "ok":
                row.errors_total = (row.errors_total or 0) + 1
                row.consecutive_errors = (row.consecutive_errors or 0) + 1
                row.cooldown_until = as_utc(cooldown_until)
                row.last_polled_at = as_utc(at) or utcnow()
                row.last_error = f"{state}: {message}"[:2000]
