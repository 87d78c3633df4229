"""`wzmon import`: saved responses from files, folders and globs into the database, at archive speed.

Each file is parsed by `crawler.importer.parse_file` (by a second process when there are many: it also scores the
texts and compresses the raw responses) and stored through `Ingestor.store_pages`, the path the poller uses, in
batches of about 2,000 items per transaction: items, raw responses, cases, deadlines, level events and alerts
set-wise, giving the same cases as storing one page at a time (tests/ingest). Memory stays flat whatever the
archive size. A file that cannot be read costs only itself; importing the same files again adds nothing.
"""
from __future__ import annotations

import glob
import gzip
import multiprocessing as mp
import os
from collections import deque
from contextlib import contextmanager
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import unquote

from crawler.exceptions import WeiboError
from crawler.types import Page

__all__ = ["ImportSummary", "collect_files", "import_files"]

_GLOB = set("*?[")
# in a folder, files that are never a saved response (notes, code, pictures) are passed over; named one by one,
# every file is tried
_NOT_RESPONSES = {".md", ".rst", ".py", ".pyc", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".mp4", ".pdf"}


def collect_files(paths: tuple[str, ...] | list[str]) -> tuple[list[Path], list[str]]:
    """The files named by PATHS (files; folders, recursively, hidden files and notes/code/pictures skipped; glob
    patterns, `**` too),
    each once, in order; and a 'path: why' line for each path that names nothing."""
    out: list[Path] = []
    seen: set[str] = set()
    missing: list[str] = []

    def add(p: Path | str, key: str | None = None) -> None:
        key = key or os.path.realpath(p)
        if key not in seen:
            seen.add(key)
            out.append(Path(p))

    for raw in paths:
        p = Path(raw).expanduser()
        if p.is_dir():
            found = _files_under(p)
            if not found:
                missing.append(f"{raw}: the folder holds no files")
            for f, key in found:
                add(f, key)
        elif p.is_file():
            add(p)
        elif _GLOB & set(raw):
            matches = sorted(Path(m) for m in glob.glob(os.path.expanduser(raw), recursive=True) if Path(m).is_file())
            if not matches:
                missing.append(f"{raw}: no file matches this pattern")
            for m in matches:
                add(m)
        else:
            missing.append(f"{raw}: no such file or folder")
    return out, missing


def _files_under(folder: Path) -> list[tuple[str, str]]:
    """(path, real path) of the files under FOLDER that may be responses, in the order of their relative paths'
    parts (as sorted Paths would be), without hidden entries or symlinked folders (as `Path.rglob` walks).

    One `scandir` per folder and one `realpath` per folder, not a `stat` and a `resolve` per file: an archive of
    55,000 files took the storing process seconds before its first file."""
    found: list[tuple[tuple[str, ...], str, str]] = []
    stack: list[tuple[str, tuple[str, ...]]] = [(str(folder), ())]
    while stack:
        here, parts = stack.pop()
        try:
            entries = list(os.scandir(here))
        except OSError:
            continue
        real = os.path.realpath(here)
        for e in entries:
            if e.name.startswith("."):
                continue
            try:
                if e.is_dir():
                    if not e.is_symlink():
                        stack.append((e.path, (*parts, e.name)))
                elif e.is_file() and os.path.splitext(e.name)[1].lower() not in _NOT_RESPONSES:
                    key = os.path.realpath(e.path) if e.is_symlink() else os.path.join(real, e.name)
                    found.append(((*parts, e.name), e.path, key))
            except OSError:
                continue
    found.sort()
    return [(path, key) for _, path, key in found]


@dataclass
class ImportSummary:
    files: int = 0
    items: int = 0
    new: int = 0
    cases_touched: set[int] = field(default_factory=set)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    kinds: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # items that could not be read (their files were kept)
    alerts_withheld: int | None = None  # with --no-alerts: the level events recorded without an alert

    def line(self) -> str:
        done = self.files - len([f for f in self.failed if f[1]])
        text = (f"Imported {done} of {self.files} file(s): {self.items} items, {self.new} new, "
                f"{len(self.cases_touched)} cases touched, {len(self.failed)} failed")
        if self.warnings:
            text += f", {len(self.warnings)} unreadable item(s) skipped"
        if self.items and not self.new:
            text += " (nothing new: every item was already stored)"
        if self.alerts_withheld is not None:
            text += f"; {self.alerts_withheld} deadline level(s) recorded without alerts (--no-alerts)"
        return text + "."

    def as_dict(self) -> dict[str, Any]:
        return {"files": self.files, "items": self.items, "new": self.new, "cases_touched": len(self.cases_touched),
                "failed": [{"path": p, "reason": why} for p, why in self.failed], "shapes": self.kinds,
                "warnings": self.warnings, "alerts_withheld": self.alerts_withheld}


BATCH_ITEMS = 2000  # items stored per transaction on import: big enough for set-wise work, small enough to stay flat
BATCH_FILES = 500
PARALLEL_FROM = 200  # files: from this many on, a second process reads them while this one stores
_CHUNK = 32  # files per task of the reading process
_AHEAD = 8  # tasks in flight: memory stays flat even when storing is slower than reading
# On SQLite, how many pages the write-ahead log may hold before a commit copies them into the database (1000 by
# default). An import commits a batch every few hundred milliseconds, so at the default nearly every commit copied
# pages and waited for the disk, the same index pages again and again: 10,000 (40 MB) took 8-10 % off the
# 200,000-item bench. Only while the import writes; other connections keep the default.
IMPORT_WAL_PAGES = 10_000
SQLITE_WAL_PAGES = 1_000


@dataclass
class _Read:
    """One file as read: its records (without their source dicts, which the stored raw response keeps), or why not."""

    path: Path | str  # a str once it crossed from the reading process
    kind: str = ""
    items: list[Any] = field(default_factory=list)
    raw: Any = None
    warnings: list[str] = field(default_factory=list)
    failed: str | None = None
    scored: dict[str, Any] = field(default_factory=dict)  # text -> (sentiment, kind), when read by the second process


def _slim(item: Any) -> None:
    """Drop the source dict of an item (and of its reposted original and replies) but the mid the row needs:
    crossing to the storing process, the dicts would cost more than the reading saved."""
    item.raw = {"mid": item.raw.get("mid")} if isinstance(getattr(item, "raw", None), dict) else {}
    for inner in [getattr(item, "retweeted", None), *(getattr(item, "replies", None) or [])]:
        if inner is not None:
            _slim(inner)


def _read(path: Path, slim: bool = False) -> _Read:
    from crawler.importer import parse_file

    try:
        parsed = parse_file(path)
    except WeiboError as exc:
        return _Read(path, failed=getattr(exc, "reason", None) or str(exc))
    except OSError as exc:
        return _Read(path, failed=f"cannot be read ({exc.strerror or exc.__class__.__name__})")
    if slim:
        for item in parsed.items:
            _slim(item)
    return _Read(path, parsed.kind, list(parsed.items), parsed.raw, list(parsed.warnings))


_scorer: Any = None  # the model the second process scores with (inherited from this one at fork)
# what the second process scored, kept across chunks: an archive repeats its texts (已收到, 转发微博, the same
# complaint posted twice) across files far apart, a third as many distinct texts as per-chunk scoring sees
_scored: dict[str, Any] = {}
_SCORED_MAX = 100_000


def _read_chunk(paths: list[Path]) -> list[_Read]:
    """Files read in the second process; their raw responses are compressed and their texts scored there too
    (storing keeps the one and looks up the other)."""
    from matrix.polling.ingest import flatten_items, score_texts

    out = [_read(p, slim=True) for p in paths]
    texts = list(dict.fromkeys(i.text or "" for r in out for i in flatten_items(r.items)))
    scored: dict[str, Any] = {}
    if _scorer is not None and texts:
        missing = [t for t in texts if t not in _scored]
        if len(_scored) + len(missing) > _SCORED_MAX:  # bounded: memory stays flat on any archive
            _scored.clear()
        _scored.update(zip(missing, score_texts(_scorer, missing)))
        scored = {t: _scored[t] for t in texts}
    for r in out:
        if r.raw is not None:
            r.raw.gzipped = gzip.compress(bytes(r.raw.body or b""), 1)  # the files stay on disk: speed over size
        r.scored = {t: scored[t] for t in dict.fromkeys(i.text or "" for i in flatten_items(r.items)) if t in scored}
        r.path = str(r.path)  # a Path costs the storing process more to unpickle than the whole file's items
    return out


class _Prescored:
    """The ingestor's scorer, answering first from what the reading process scored already."""

    def __init__(self, scorer: Any) -> None:
        self.scorer = scorer
        self.known: dict[str, Any] = {}

    def analyse_many(self, texts: list[str]) -> list[Any]:
        from matrix.polling.ingest import score_texts

        missing = [t for t in dict.fromkeys(texts) if t not in self.known]
        if missing:
            self.known.update(zip(missing, score_texts(self.scorer, missing)))
        return [self.known[t] for t in texts]


def _reads(files: list[Path], scorer: Any = None) -> Iterator[_Read]:
    """Each file read, in order: in a second process for big imports on a machine with more than one core
    (which also scores the texts with SCORER)."""
    global _scorer
    if len(files) < PARALLEL_FROM or (os.cpu_count() or 1) < 2 or "fork" not in mp.get_all_start_methods():
        for f in files:
            yield _read(f)
        return
    _scorer = scorer
    chunks = [files[i:i + _CHUNK] for i in range(0, len(files), _CHUNK)]
    with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("fork")) as pool:
        pending: deque = deque()
        nxt = 0
        while pending or nxt < len(chunks):
            while nxt < len(chunks) and len(pending) < _AHEAD:
                pending.append(pool.submit(_read_chunk, chunks[nxt]))
                nxt += 1
            yield from pending.popleft().result()


@contextmanager
def _fewer_checkpoints(engine: Any) -> Iterator[None]:
    """While the import writes, each SQLite connection it takes lets the WAL grow to IMPORT_WAL_PAGES before a
    checkpoint, and is given back with the default (see IMPORT_WAL_PAGES). Other databases: nothing to do."""
    if getattr(getattr(engine, "dialect", None), "name", "") != "sqlite":
        yield
        return
    from sqlalchemy import event

    def taken(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        dbapi_conn.execute(f"PRAGMA wal_autocheckpoint={IMPORT_WAL_PAGES}")

    def given_back(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_PAGES}")

    event.listen(engine, "checkout", taken)
    event.listen(engine, "checkin", given_back)
    try:
        yield
    finally:
        event.remove(engine, "checkout", taken)
        event.remove(engine, "checkin", given_back)


def _store(ingestor: Any, batch: list[tuple[str, Page, None]], summary: ImportSummary) -> list[Any]:
    """Store BATCH in one transaction; if the database refuses it, each file on its own, so one file the database
    refuses (an id too long for the column, say) costs only itself and is named. When every file is refused the
    problem is not the files: the first error is raised."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return [ingestor.store_pages(batch)]
    except SQLAlchemyError as exc:
        if len(batch) > 1:
            out, refused = [], []
            for page in batch:
                try:
                    out.append(ingestor.store_pages([page]))
                except SQLAlchemyError as one:
                    refused.append((page, one))
            if len(refused) < len(batch):
                for page, one in refused:
                    summary.failed.append((_path_of(page[1]), f"the database refused it: {_first_line(one)}"))
                return out
        raise exc


def _path_of(page: Page) -> str:
    url = str(getattr(page.raw, "url", "") or "")
    return unquote(url[7:]) if url.startswith("file://") else url


def _first_line(exc: Exception) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]


def import_files(engine: Any, policy: Any, files: list[Path], *, progress: bool = False,
                 ingestor: Any | None = None, batch_items: int = BATCH_ITEMS,
                 now: datetime | None = None, alerts: bool = True) -> ImportSummary:
    """Parse and store FILES; see the module docstring. `progress`: a tqdm bar on stderr (rate and time left).

    Files are read in order (by a second process when there are many) and stored in batches of about
    BATCH_ITEMS items (one transaction each, through `Ingestor.store_pages`), so memory stays flat whatever the
    archive size; `batch_items=1` stores each file on its own, as the poller stores each page. NOW: when the
    cases are judged after the import (default: the clock's now). ALERTS=False (a historical archive): deadline
    levels are recorded as always but no alert is queued for them (`--no-alerts`).
    """
    from matrix.polling.ingest import Ingestor

    ingestor = ingestor or Ingestor(engine, policy)
    ingestor.alerts = alerts
    scorer = ingestor.scorer
    prescored = _Prescored(scorer) if scorer is not None else None
    summary = ImportSummary(files=len(files))
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(files), unit="file", desc="import", dynamic_ncols=True)
    batch: list[tuple[str, Page, None]] = []
    batch_size = 0
    analysed = [0, 0]  # posts stored and cases touched at the last refresh of the planner's statistics

    def flush() -> None:
        nonlocal batch, batch_size
        if not batch:
            return
        ingestor.scorer = prescored
        try:
            results = _store(ingestor, batch, summary)
        finally:
            ingestor.scorer = scorer
        if prescored is not None:
            prescored.known.clear()  # memory stays flat: what a batch scored is not kept for the next
        for res in results:
            summary.items += res.seen_items
            summary.new += res.new_items
            summary.cases_touched.update(res.cases_touched)
        batch, batch_size = [], 0
        grown = (summary.new, len(summary.cases_touched))
        if any(now_ >= max(2 * then, floor) for now_, then, floor in zip(grown, analysed, (1000, 200))):
            # each time the posts or the cases have doubled (cases may start late: an archive's mention searches
            # can come after its timelines); the foreign-key checks' plans are remade then too, so a plan made
            # while cases was empty does not scan the whole table for every event and alert
            ingestor.analyze()
            analysed[:] = grown
        if bar is not None:
            bar.set_postfix(items=summary.items, new=summary.new, refresh=False)

    try:
        with _fewer_checkpoints(getattr(ingestor, "engine", engine)):
            for read in _reads(files, scorer):
                if bar is not None:
                    bar.update(1)
                f = str(read.path)
                if read.failed is not None:
                    summary.failed.append((f, read.failed))
                    continue
                page = Page(items=read.items, raw=read.raw, cursor=None, done=True, seen=len(read.items))
                folder = os.path.basename(os.path.dirname(f)) or os.path.basename(f)
                batch.append((f"import:{folder}", page, None))  # one source per folder
                batch_size += len(read.items)
                summary.kinds[read.kind] = summary.kinds.get(read.kind, 0) + 1
                summary.warnings.extend(read.warnings)
                if prescored is not None:
                    prescored.known.update(read.scored)
                if batch_size >= batch_items or len(batch) >= BATCH_FILES:
                    flush()
            flush()
    finally:
        if bar is not None:
            bar.close()
    if summary.new:
        ingestor.tick(now)  # judge the cases as of now, as the poller's clock would
    if not alerts:
        summary.alerts_withheld = sum(ingestor.withheld)
    return summary
