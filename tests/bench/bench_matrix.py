"""Bench: recompute 100,000 open cases under a policy change, and rank 200,000 cases.

    python tests/bench/bench_matrix.py [--cases 100000] [--db URL] [--tighten]

1. Inserts in bulk a roster (coordinator + 130 members) and N open cases opened over the 10 days
   before `now`, with the state the shipped policy gives them (due dates and levels from the case
   engine's own pure `matrix.casework.cases.clock`, so the database is what the engine would have left).
2. Times the explicit, recorded recomputation `matrix.casework.cases.recompute(session, policy, now)` under a
   changed policy (new version, every closure limit longer and first response 2 working days): every
   case's due dates move and each gets a `recomputed` event. Target: under 5 s for 100,000 on SQLite.
   With --tighten it then also recomputes under a tighter policy, where levels rise and the engine
   writes level events and alert-outbox rows for each rising case (a different, slower path).
3. Adds N closed cases and times `matrix.reading.rankings.account_rankings` over all 2N.
Prints figures and the ratio to the target (< 1 meets it).
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from sqlalchemy import func, select  # noqa: E402

from matrix.casework.cases import clock, ensure_policy_version, level_order, recompute  # noqa: E402
from matrix.storage.db import open_db, session_scope  # noqa: E402
from matrix.storage.models import Account, Case, CaseEvent, Post  # noqa: E402
from matrix.rules.policy import Policy, default_policy_path, load_policy  # noqa: E402
from matrix.reading.rankings import account_rankings  # noqa: E402
from matrix.timeutil import SHANGHAI  # noqa: E402

TARGET_RECOMPUTE_S = 5.0
TARGET_CASES = 100_000
KINDS = ["投诉", "咨询", "求助", "建议", "其他"]
CATEGORIES = ["公安", "教育", "卫健", ""]
MEMBERS = [f"3{i:04d}" for i in range(130)]
BATCH = 20_000


def variant(name: str, first_response: str, closures: dict[str, str]) -> Policy:
    """The shipped policy under a new version with other limits (so every due date moves)."""
    text = default_policy_path().read_text(encoding="utf-8")
    base = load_policy()
    text = text.replace(f'version = "{base.version}"', f'version = "{name}"', 1)
    text = text.replace('first_response = "1 working day"', f'first_response = "{first_response}"', 1)
    for old, new in closures.items():
        text = text.replace(f'closure = "{old}"', f'closure = "@@{new}"')
    text = text.replace('closure = "@@', 'closure = "')
    policy = Policy.from_text(text, source=f"bench variant {name}")
    if policy.version != name:
        raise SystemExit("could not derive a policy variant from default.toml (its version line moved?)")
    return policy


def add_roster(engine) -> None:  # noqa: ANN001
    with session_scope(engine) as s:
        s.add(Account(uid="1000", screen_name="问政银川", role="coordinator", department="网信办"))
        for i, uid in enumerate(MEMBERS):
            s.add(Account(uid=uid, screen_name=f"成员{uid}", role="member", department=f"部门{i % 12}",
                          category=CATEGORIES[i % 4]))


def fill(engine, n: int, status: str, now: datetime, policy: Policy, rng: random.Random, offset: int) -> None:  # noqa: ANN001
    """N cases (open: judged as the engine would at `now`; closed: answered and closed) with their posts."""
    order = level_order(policy)
    with session_scope(engine) as s:
        ensure_policy_version(s, policy)
    posts_t, cases_t = Post.__table__, Case.__table__
    for start in range(0, n, BATCH):
        posts, cases = [], []
        for i in range(start, min(n, start + BATCH)):
            opened = now - timedelta(minutes=rng.randrange(10 * 24 * 60))
            pid = f"7{offset + i:015d}"
            kind, uid = KINDS[i % 5], MEMBERS[i % len(MEMBERS)]
            posts.append({"id": pid, "item_type": "post", "user_id": f"9{i % 50000:06d}", "text": "求助",
                          "created_at": opened, "mentions": [], "post_kind": kind})
            fra = closed = None
            if status == "closed":
                fra = opened + timedelta(minutes=rng.randrange(30, 3000))
                closed = fra + timedelta(minutes=rng.randrange(0, 6000))
            res = clock(policy, CATEGORIES[MEMBERS.index(uid) % 4], kind, status, opened, None, opened, opened,
                        fra, fra, None, 0, now, order)
            overdue = status == "open" and order.index(res.level) >= order.index("overdue")
            cases.append({
                "post_id": pid, "account_uid": uid, "kind": kind, "status": status, "opened_at": opened,
                "response_clock_at": opened, "closure_clock_at": opened, "first_response_at": fra,
                "last_response_at": fra, "closed_at": closed,
                "first_response_working_minutes": policy.working_minutes(opened, fra) if fra else None,
                "first_response_due": res.first_response_due, "closure_due": res.closure_due,
                "forward_due": res.forward_due, "next_reply_due": res.next_reply_due,
                "overdue": overdue, "overdue_level": res.level if status == "open" else "",
                "overdue_deadline": res.deadline if status == "open" else "",
                "overdue_since": res.overdue_since if overdue else None,
                "sentiment_label": rng.choice(["negative", "neutral", "neutral", "positive"]),
                "extension_working_days": 0, "addressed_uids": [uid], "citizen_name": "",
                "policy_version": policy.version, "evaluated_at": now,
            })
        with engine.begin() as conn:
            conn.execute(posts_t.insert(), posts)
            conn.execute(cases_t.insert(), cases)


def timed_recompute(engine, policy: Policy, now: datetime, n: int) -> None:  # noqa: ANN001
    t0 = time.perf_counter()
    with session_scope(engine) as s:
        res = recompute(s, policy, now)
    wall = time.perf_counter() - t0
    with session_scope(engine) as s:
        recorded = s.scalar(select(func.count()).select_from(CaseEvent).where(
            CaseEvent.type == "recomputed", CaseEvent.policy_version == policy.version))
        levels = s.scalar(select(func.count()).select_from(CaseEvent).where(
            CaseEvent.type.in_(("warning", "overdue", "escalated")), CaseEvent.policy_version == policy.version))
    print(f"recompute under {policy.version}: {res.cases:,} cases, {res.changed:,} changed, {recorded:,} recomputed "
          f"events, {levels:,} level events; {wall:.2f} s with commit ({res.seconds:.2f} s inside recompute)")
    per_target = wall * TARGET_CASES / max(res.cases, 1)
    print(f"  {res.cases / wall:,.0f} cases/s; {per_target:.2f} s per {TARGET_CASES:,} vs target "
          f"{TARGET_RECOMPUTE_S:.0f} s -> ratio {per_target / TARGET_RECOMPUTE_S:.2f} (< 1 meets it)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=int, default=TARGET_CASES)
    ap.add_argument("--db", help="database URL of an EMPTY database (default: a new SQLite file in a temp folder)")
    ap.add_argument("--tighten", action="store_true", help="also recompute under a tighter policy (levels rise)")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    url = args.db or f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    engine = open_db(url, create=True)
    rng = random.Random(7)
    now = datetime(2025, 12, 3, 10, 0, tzinfo=SHANGHAI)  # a Wednesday
    n = args.cases
    base = load_policy()
    looser = variant("bench-looser", "2 working days", {"3 working days": "5 working days",
                                                         "5 working days": "7 working days",
                                                         "10 working days": "12 working days",
                                                         "15 working days": "20 working days"})

    add_roster(engine)
    t0 = time.perf_counter()
    fill(engine, n, "open", now, base, rng, 0)
    print(f"inserted {n:,} open cases (+ posts), judged under {base.version}, in {time.perf_counter() - t0:.1f} s")
    with session_scope(engine) as s:
        levels = dict(s.execute(select(Case.overdue_level, func.count()).group_by(Case.overdue_level)).all())
    print("  levels before: " + ", ".join(f"{k or 'none'} {v:,}" for k, v in sorted(levels.items())))

    timed_recompute(engine, looser, now, n)
    if args.tighten:
        tighter = variant("bench-tighter", "4 working hours", {"3 working days": "2 working days",
                                                               "5 working days": "4 working days"})
        timed_recompute(engine, tighter, now, n)

    t0 = time.perf_counter()
    fill(engine, n, "closed", now, base, rng, n)
    print(f"inserted {n:,} closed cases in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    with session_scope(engine) as s:
        ranks = account_rankings(s, now - timedelta(days=11), now + timedelta(minutes=1), now=now, policy=base)
    t_rank = time.perf_counter() - t0
    total = sum(r.cases for r in ranks)
    late = sum(r.overdue_count for r in ranks)
    print(f"account_rankings over {total:,} cases ({len(ranks)} accounts, {late:,} late): {t_rank:.2f} s, "
          f"{total / t_rank:,.0f} cases/s")
    engine.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    main()
