"""Several pollers on one database ingest a scenario exactly once: threads on SQLite and PostgreSQL,
separate `wzmon run` processes on PostgreSQL, one of them SIGKILLed while it holds sources."""
from __future__ import annotations

import time

from sqlalchemy import text

from matrix.storage.db import open_db

from . import scaleutil as su
from .conftest import pg_only


def test_three_pollers_ingest_a_scenario_exactly_once(db_url, policy, scorer, tmp_path):
    sc = su.scenario(seed=5)
    server = su.serve(sc)
    engine = open_db(db_url)
    su.load_roster(engine, sc, tmp_path)
    pollers = su.ThreadPollers(db_url, server, 3, policy, scorer).start()
    try:
        for t in su.steps(sc, hours=12):
            server.clock.set(t)
            su.wait_caught_up(engine, t, timeout=90, alive=pollers.check)
    finally:
        pollers.close()
        server.stop()
    result = su.tally(engine, server)
    assert result.published > 20 and result.cases > 5, result
    assert (result.lost, result.duplicated) == (0, 0), result
    with engine.connect() as conn:
        busy = conn.execute(text("SELECT count(*) FROM pollers WHERE requests_total > 0")).scalar()
        held = conn.execute(text("SELECT count(*) FROM poll_leases WHERE owner <> '' AND source_key NOT LIKE 'task:%'")).scalar()
    assert busy >= 2  # the work was shared
    assert held == 0  # every lease was given back at shutdown


def test_a_poller_sigkilled_mid_batch_loses_nothing(db_url, tmp_path):
    """Three `wzmon run` processes; one is killed with SIGKILL while it holds sources; its leases expire,
    the others take its sources over, and the database ends with every published post exactly once."""
    pg_only(db_url)
    sc = su.scenario(seed=8)
    server = su.serve(sc, page_timeline=3, page_search=3, page_comments=3)
    server.faults.add("slow", path="containerid=107603", probability=0.15, seconds=0.6)  # keep walks in flight
    engine = open_db(db_url)
    su.load_roster(engine, sc, tmp_path)
    procs = su.ProcessPollers(db_url, server.base_url, 3, lease_seconds=2.0, interval=1.0, log_dir=tmp_path)
    killed_holding = False
    try:
        for i, t in enumerate(su.steps(sc, hours=12)):
            server.clock.set(t)
            if i == 1:
                # kill p2 while it holds an account's source (a case's sources leave the list when the
                # case closes, so nobody would take them over); p2 may give its lease back between our
                # look and the signal, so what counts is what it still owns once it is dead
                for _attempt in range(5):
                    deadline = time.monotonic() + 30
                    while time.monotonic() < deadline and not su.holder_of_any_lease(engine, "p2", accounts_only=True):
                        time.sleep(0.005)
                    procs.kill("p2")
                    killed_holding = su.holder_of_any_lease(engine, "p2", accounts_only=True)
                    if killed_holding:
                        break
                    procs.start("p2")
                # before p2 comes back, its expired leases must be taken over by the others
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and _takeovers(engine) < 1:
                    time.sleep(0.1)
            if i == 3:
                procs.start("p2")  # back again under the same name
            su.wait_caught_up(engine, t, timeout=120, alive=procs.alive)
    finally:
        procs.close()
        server.stop()
    assert killed_holding, "p2 was never seen holding a source when it was killed"
    result = su.tally(engine, server)
    assert result.published > 20, result
    assert (result.lost, result.duplicated) == (0, 0), result
    assert _takeovers(engine) >= 1  # p2's sources were picked up from its expired leases
    # the pollers logged JSON lines
    import json

    first = (tmp_path / "p1.log").read_text().splitlines()
    assert first and all(json.loads(line)["logger"] for line in first if line.startswith("{"))


def _takeovers(engine) -> int:  # noqa: ANN001
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT coalesce(sum(takeovers), 0) FROM poll_leases")).scalar())
