"""Crawler benchmark: detection latency under a fixed request budget, our scheduler vs round-robin.

Plain script (`python tests/bench/bench_crawler.py`, 3-6 minutes on 2 cores). For each of five seeds
(the scheduler is not tuned to any one), a scenario of 132 accounts (coordinator + 131 members, 264
sources: timeline + mentions each) is served by the fake Weibo server under a manual clock; the
budget's sleeps move that clock, so a simulated day takes well under a minute. The budget is 4
requests per simulated minute (one every 15 s: cautious for one logged-out client; round-robin then
visits each source about once an hour). Both schedulers poll the same scenario with the same budget
(and budget jitter seed) and the same 4 h warm-up, each on its own server, from the same start; the
runs go two at a time in worker processes.

Heavy tail (what the issue asks for, and why these numbers). In a real 问政 matrix citizen attention
is strongly concentrated: police, traffic police, the housing fund and the district governments
get most citizen mentions, while most of the ~130 accounts (district bureaus, street offices) get a
few a week or less, and many small offices rarely post anything of their own. The scenario draws
each member's activity from a Pareto distribution; its default shape 1.3 (capped at 40) leaves the
top 10 members with only ~35-45% of citizen mentions. The bench uses shape 0.8 (Zipf rank exponent
1/0.8 = 1.25, capped at 300), under which the top 10 members get ~55-65% of citizen mentions - "most",
as described - and lets only the most active 30% of members post announcements of their own
(`own_share=0.3`). Both are modelling assumptions, not measured figures; the bench prints the
resulting concentration so a reader can judge them, and `--activity-alpha 1.3 --own-share 1` runs
the scenario's default tail.

Reported, per seed and pooled over the seeds (a day holds only ~140 visible posts per seed, so one
seed's p90 rests on ~14 posts and swings by a third; read the pooled figure, ~720 posts): p50/p90 minutes from a post's creation to its ingestion
(posts created in the measured window that a poller of these sources can see), mean and p99, share
detected, requests per new post collected, and the p90 ratio (target: ours at most 0.50x round-robin's).
Parse throughput is measured on a fixed sample: page 1-2 of every account's timeline and mentions at
the end of the first seed's window, fetched once (getIndex JSON -> Post).
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from crawler.budget import RequestBudget, SimulatedClock  # noqa: E402
from crawler.client import WeiboClient  # noqa: E402
from crawler.fake_weibo import Scenario, SimClock, serve_in_thread  # noqa: E402
from crawler.parsers import parse_index  # noqa: E402
from crawler.poller import Poller, PriorityScheduler, RoundRobinScheduler  # noqa: E402
from crawler.store import MemoryStore  # noqa: E402

_MENTION_RE = re.compile(r"@([\w\u4e00-\u9fff\-]+)")
SCHEDULERS = {"priority": PriorityScheduler, "round-robin": RoundRobinScheduler}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def make_scenario(seed: int, args: argparse.Namespace) -> Scenario:
    return Scenario(seed=seed, accounts=args.accounts - 1, days=args.days, history_days=7, citizens=400,
                    threads_per_account_day=0.6, own_per_account_day=0.4, activity_alpha=args.activity_alpha,
                    activity_cap=args.activity_cap, own_share=args.own_share)


def visible_sources(scenario: Scenario, s) -> list[str]:
    """The polled sources a status shows up in: its author's timeline, the mentions of each account it names."""
    names = {a.screen_name for a in scenario.accounts}
    keys = [f"timeline:{s.author_uid}"] if s.author_uid in {a.uid for a in scenario.accounts} else []
    return keys + [f"mentions:{n}" for n in dict.fromkeys(_MENTION_RE.findall(s.text)) if n in names]


def targets(scenario: Scenario, start, end) -> list:
    """Posts created in [start, end] a poller of these sources can see (deleted within 6 h: left out)."""
    return [s for s in scenario.statuses.values()
            if start <= s.created_at <= end and not s.pinned and visible_sources(scenario, s)
            and (s.deleted_at is None or s.deleted_at > s.created_at + timedelta(hours=6))]


def concentration(scenario: Scenario) -> dict:
    """How heavy the tail is, over the whole scenario (history + window)."""
    per_source: dict[str, int] = {}
    for s in targets(scenario, scenario.start, scenario.end):
        for k in visible_sources(scenario, s):
            per_source[k] = per_source.get(k, 0) + 1
    mentions = sorted((sum(1 for s in scenario.mentions.get(m.screen_name, ()) if s.kind == "citizen")
                       for m in scenario.members), reverse=True)
    counts = sorted((per_source.get(f"{kind}:{target}", 0) for a in scenario.accounts
                     for kind, target in (("timeline", a.uid), ("mentions", a.screen_name))), reverse=True)
    weeks = (scenario.end - scenario.start) / timedelta(days=7)
    member_week = [(per_source.get(f"timeline:{m.uid}", 0) + per_source.get(f"mentions:{m.screen_name}", 0)) / weeks
                   for m in scenario.members]
    return {"top10_mention_share": sum(mentions[:10]) / max(1, sum(mentions)),
            "top25pct_source_share": sum(counts[: len(counts) // 4]) / max(1, sum(counts)),
            "median_member_per_week": statistics.median(member_week),
            "members_under_3_per_week": sum(1 for x in member_week if x < 3) / len(member_week),
            "posting_members": sum(1 for m in scenario.members if scenario.timelines.get(m.uid))}


def run(seed: int, scheduler_name: str, args: argparse.Namespace) -> dict:
    """One scheduler on its own server over one scenario; returns latencies and counts (picklable)."""
    scenario = make_scenario(seed, args)
    scheduler = SCHEDULERS[scheduler_name]()
    start = scenario.window_start - timedelta(hours=args.warmup_hours)
    server = serve_in_thread(scenario, port=0, clock=SimClock.fixed(start))
    try:
        clock = SimulatedClock(on_advance=lambda s: server.clock.advance(timedelta(seconds=s)))
        budget = RequestBudget.simulated(args.per_minute, burst=2, jitter=0.2, clock=clock, seed=seed)
        client = WeiboClient(server.base_url, server.base_url, budget=budget, timeout=10)
        store = MemoryStore()
        # cursors reach back two days: the first walk reads that history, which seeds each
        # source's activity estimate (only posts of the measured window count for latency)
        mark = {"last_created_at": (start - timedelta(days=2)).isoformat()}
        for a in scenario.accounts:
            store.add_source("timeline", a.uid, cursor=mark)
            store.add_source("mentions", a.screen_name, cursor=mark)
        poller = Poller(client, store, budget, scheduler=scheduler, now=server.clock.now,
                        requests_per_pass=max(1, int(args.per_minute)))
        t0 = time.perf_counter()
        while server.clock.now() < scenario.end:
            report = poller.poll_once()
            if report.requests == 0:
                clock.sleep(30)  # nothing due yet
        wall = time.perf_counter() - t0
        window = targets(scenario, scenario.window_start, scenario.end)
        lat = [(store.ingested_at[s.id] - s.created_at).total_seconds() / 60.0
               for s in window if s.id in store.ingested_at]
        return {"seed": seed, "scheduler": scheduler.name, "requests": client.requests, "new_posts": len(store.items),
                "posts_in_window": len(window), "latencies": lat, "wall_seconds": wall,
                "duplicates": store.duplicates, "prior": getattr(scheduler, "prior", None)}
    finally:
        server.stop()


def parse_sample(scenario: Scenario) -> list[bytes]:
    """A fixed sample of saved responses: pages 1-2 of each account's timeline and mentions at the window end."""
    server = serve_in_thread(scenario, port=0, clock=SimClock.fixed(scenario.end))
    try:
        budget = RequestBudget(1e6, burst=1000)
        client = WeiboClient(server.base_url, server.base_url, budget=budget, timeout=10, initial_pages=2,
                             expand_long_text=False)
        bodies = []
        for a in scenario.accounts:
            for walk in (client.timeline(a.uid), client.search_mentions(a.screen_name)):
                bodies += [page.raw.body for page in walk]
        return bodies
    finally:
        server.stop()


def parse_throughput(bodies: list[bytes], cached: bool, rounds: int = 3) -> tuple[float, int]:
    """Posts/second through json.loads + parse_index. cached=False bypasses the text-cleaning cache
    (every post's HTML parsed by BeautifulSoup); cached=True is what a poller re-reading pages sees."""
    import crawler.text as text_mod

    original = text_mod._clean_cached
    if not cached:
        def uncached(html: str):
            c = text_mod._clean(html)
            return c.text, tuple(c.mentions), tuple(c.topics), c.truncated

        text_mod._clean_cached = uncached
    else:
        original.cache_clear()
    try:
        posts = 0
        t0 = time.perf_counter()
        for _ in range(rounds):
            for body in bodies:
                payload = json.loads(body)
                if payload.get("ok") == 1:
                    posts += len(parse_index(payload, None).posts)
        return posts / max(time.perf_counter() - t0, 1e-9), posts // rounds
    finally:
        text_mod._clean_cached = original


def summary(rows: list[dict]) -> dict:
    lat = [x for r in rows for x in r["latencies"]]
    requests, new = sum(r["requests"] for r in rows), sum(r["new_posts"] for r in rows)
    return {"p50": percentile(lat, 0.5), "p90": percentile(lat, 0.9), "p99": percentile(lat, 0.99),
            "mean": statistics.fmean(lat) if lat else float("nan"), "detected": len(lat),
            "in_window": sum(r["posts_in_window"] for r in rows), "requests": requests,
            "req_per_post": requests / max(1, new), "dup": sum(r["duplicates"] for r in rows),
            "wall": sum(r["wall_seconds"] for r in rows)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=132, help="coordinator + members (default 132)")
    ap.add_argument("--per-minute", type=float, default=4.0, help="request budget in simulated requests/minute")
    ap.add_argument("--days", type=float, default=1.0, help="measured window in simulated days")
    ap.add_argument("--warmup-hours", type=float, default=4.0)
    ap.add_argument("--seeds", type=int, nargs="+", default=[11, 12, 13, 14, 15],
                    help="scenario seeds (default 11 12 13 14 15)")
    ap.add_argument("--activity-alpha", type=float, default=0.8, help="Pareto shape of member activity")
    ap.add_argument("--activity-cap", type=float, default=300.0)
    ap.add_argument("--own-share", type=float, default=0.3, help="share of members posting their own announcements")
    ap.add_argument("--jobs", type=int, default=2, help="runs in parallel (worker processes)")
    args = ap.parse_args()
    t_start = time.perf_counter()
    print(f"crawler bench: {args.accounts} accounts ({2 * args.accounts} sources), budget {args.per_minute:g} req/min "
          f"simulated, window {args.days:g} day(s) after {args.warmup_hours:g} h warm-up, seeds "
          f"{' '.join(map(str, args.seeds))}")
    print(f"activity tail: Pareto shape {args.activity_alpha:g} (cap {args.activity_cap:g}), own announcements from "
          f"the most active {args.own_share:.0%} of members (scenario default: shape 1.3, cap 40, all members)")
    scenarios = {seed: make_scenario(seed, args) for seed in args.seeds}
    for seed, sc in scenarios.items():
        c = concentration(sc)
        print(f"  seed {seed}: top 10 members get {c['top10_mention_share']:.0%} of citizen mentions; top 25% of "
              f"sources hold {c['top25pct_source_share']:.0%} of posts; median member {c['median_member_per_week']:.1f} "
              f"posts/week, {c['members_under_3_per_week']:.0%} of members under 3/week")
    jobs = [(seed, name) for seed in args.seeds for name in SCHEDULERS]
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(run, seed, name, args) for seed, name in jobs]
        results = [f.result() for f in futures]
    print(f"{'scheduler':<12} {'seed':>6} {'p50 min':>8} {'p90 min':>8} {'mean':>6} {'p99':>6} {'detected':>9} "
          f"{'requests':>9} {'req/new post':>13} {'dup':>4} {'wall s':>7}")
    pooled = {}
    for name in SCHEDULERS:
        rows = [r for r in results if r["scheduler"] == name]
        for label, group in [*((str(r["seed"]), [r]) for r in rows), ("all", rows)]:
            s = summary(group)
            if label == "all":
                pooled[name] = s
            print(f"{name:<12} {label:>6} {s['p50']:8.1f} {s['p90']:8.1f} {s['mean']:6.1f} {s['p99']:6.0f} "
                  f"{s['detected']:>4}/{s['in_window']:<4} {s['requests']:9d} {s['req_per_post']:13.2f} "
                  f"{s['dup']:4d} {s['wall']:7.1f}")
    per_seed = []
    for seed in args.seeds:
        ours, rr = (summary([r for r in results if r["seed"] == seed and r["scheduler"] == n]) for n in SCHEDULERS)
        per_seed.append(f"seed {seed} {ours['p90'] / rr['p90']:.2f}")
    priors = [f"seed {r['seed']} Gamma({r['prior'][0]:.2f} items, {r['prior'][1]:.1f} h)"
              for r in results if r["scheduler"] == "priority" and r["prior"]]
    print(f"priority's fitted rate prior at the end: {'; '.join(priors)}")
    ours, rr = pooled["priority"], pooled["round-robin"]
    ratio = ours["p90"] / rr["p90"] if rr["p90"] else float("nan")
    print(f"p90 ratio priority/round-robin: {ratio:.2f} pooled ({', '.join(per_seed)}); "
          f"p50 ratio {ours['p50'] / rr['p50']:.2f}, mean ratio {ours['mean'] / rr['mean']:.2f} "
          f"(target p90 <= 0.50: {'met' if ratio <= 0.5 else 'NOT met'})")
    bodies = parse_sample(scenarios[args.seeds[0]])
    cold, n = parse_throughput(bodies, cached=False)
    warm, _ = parse_throughput(bodies, cached=True)
    print(f"parse throughput: {cold:,.0f} posts/s cold, {warm:,.0f} posts/s with the text cache "
          f"(getIndex JSON -> Post, fixed sample: {n} posts in {len(bodies)} saved responses)")
    print(f"bench wall time: {time.perf_counter() - t_start:.0f} s")


if __name__ == "__main__":
    main()
