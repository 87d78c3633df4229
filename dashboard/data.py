"""The board's only road to the database: cached calls of `matrix.reading.queries` / `matrix.reading.rankings` functions.

Every call carries the database URL and the user's scope (account uids) as arguments, so the cache
can never hand one user's rows to another: the scope is part of the cache key.
"""
from __future__ import annotations

import importlib
import os
import threading
import time
from typing import Any

import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from matrix.storage.db import open_db, resolve_url

TTL_SECONDS = 60


def db_url() -> str:
    return resolve_url(os.environ.get("WZMON_DB"))


@st.cache_resource(show_spinner=False)
def engine(url: str) -> Engine:
    """One checked engine per URL per server process (raises matrix.storage.db.DatabaseError)."""
    return open_db(url)


def session() -> Session:
    return Session(engine(db_url()), expire_on_commit=False)


def _resolve(name: str) -> Any:
    module, _, attr = name.rpartition(".")
    return getattr(importlib.import_module(module or "matrix.reading.queries"), attr)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=512)
def _cached(url: str, name: str, args: tuple[Any, ...], kwargs: tuple[tuple[str, Any], ...]) -> Any:
    fn = _resolve(name)
    with Session(engine(url)) as s:
        return fn(s, *args, **dict(kwargs))


def _freeze(value: Any) -> Any:
    if isinstance(value, list | set):
        return tuple(value)
    return value


def q(name: str, *args: Any, **kwargs: Any) -> Any:
    """Call `matrix.reading.queries.<name>` (or a dotted `module.function`) through the cache."""
    frozen = tuple(sorted((k, _freeze(v)) for k, v in kwargs.items()))
    return _cached(db_url(), name, tuple(_freeze(a) for a in args), frozen)


def fresh(name: str, *args: Any, **kwargs: Any) -> Any:
    """The same call without the cache (case detail right after an action)."""
    fn = _resolve(name)
    with Session(engine(db_url())) as s:
        return fn(s, *args, **kwargs)


def has(name: str) -> bool:
    """Whether a read function exists yet (e.g. matrix.reading.rankings.account_rankings)."""
    try:
        _resolve(name)
    except (ImportError, AttributeError):
        return False
    return True


def clear() -> None:
    _cached.clear()


_warming: dict[tuple[Any, ...], float] = {}
_warm_lock = threading.Lock()
_threads: list[threading.Thread] = []


def prewarm(calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]]) -> None:
    """Fill the cache for likely next calls (the other period presets) in a background thread, so a
    filter change is a cache hit. Each set of calls is warmed at most once per TTL; WZMON_PREWARM=0
    turns it off."""
    if os.environ.get("WZMON_PREWARM", "1") == "0" or not calls:
        return
    url = db_url()
    key = (url, tuple((n, a, tuple(sorted((k, _freeze(v)) for k, v in kw.items()))) for n, a, kw in calls))
    now = time.monotonic()
    with _warm_lock:
        if now - _warming.get(key, -1e9) < TTL_SECONDS:
            return
        _warming[key] = now

    def work() -> None:
        for name, args, kwargs in calls:
            try:
                frozen = tuple(sorted((k, _freeze(v)) for k, v in kwargs.items()))
                _cached(url, name, tuple(_freeze(a) for a in args), frozen)
            except Exception:  # noqa: BLE001 - warming is best effort; the page itself reports errors
                return

    t = threading.Thread(target=work, name="wzmon-prewarm", daemon=True)
    _threads.append(t)
    t.start()


def wait_prewarm(timeout: float = 60.0) -> None:
    """Wait for warming threads (benchmarks measure a filter change after the user's pause)."""
    for t in list(_threads):
        t.join(timeout)
    _threads.clear()
