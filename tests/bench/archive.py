"""A researcher's archive in real m.weibo.cn shapes, generated from the fake site's scenario.

    python tests/bench/archive.py OUT_DIR [--items 200000] [--seed 7]

Writes what a crawler walking the matrix would have saved over four weeks: every roster account's timeline
(getIndex 107603), the @-mention searches of each account (getIndex 100103, flat and `card_group` cards), the
comments under every post (comments/hotflow, replies nested) and its reposts (repostTimeline), each page a file,
with the scenario's roster beside the folder (`<folder>-roster.csv`). Files carry the scenario's end as their modification time,
so relative dates ("3小时前") resolve as they would have when saved. The same arguments give the same files.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from crawler.fake_weibo import payloads  # noqa: E402
from crawler.fake_weibo.scenario import Scenario  # noqa: E402

PAGE = 20
# items (statuses + comments) a scenario of 60 members over 28 days yields per thread/account/day, measured
ITEMS_PER_THREAD_RATE = 47_000 / 6


@dataclass
class Archive:
    folder: Path
    roster: Path
    files: int
    statuses: int
    comments: int
    scenario: Scenario

    @property
    def items(self) -> int:
        return self.statuses + self.comments


def scenario_for(items: int, seed: int = 7, accounts: int = 60) -> Scenario:
    """A four-week scenario with about ITEMS statuses and comments."""
    rate = max(items / ITEMS_PER_THREAD_RATE, 0.05)
    return Scenario(seed=seed, accounts=accounts, days=28, history_days=0, citizens=max(200, items // 100),
                    threads_per_account_day=rate, own_per_account_day=1.0)


def write_archive(folder: Path, items: int = 200_000, seed: int = 7, comment_dates: str = "mixed",
                  scenario: Scenario | None = None) -> Archive:
    """Write the archive (see the module docstring) of SCENARIO (default: `scenario_for(ITEMS, SEED)`) into
    FOLDER and say what is in it."""
    sc = scenario or scenario_for(items, seed)
    now = sc.end
    folder.mkdir(parents=True, exist_ok=True)
    stamp = now.timestamp()
    files = 0

    def write(name: str, payload: dict) -> None:
        nonlocal files
        path = folder / name
        path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
        os.utime(path, (stamp, stamp))
        files += 1

    roster = folder.parent / f"{folder.name}-roster.csv"
    roster.write_text(sc.roster_csv(), encoding="utf-8")
    for acc in sc.accounts:
        since, n = 0, 0
        while True:
            page = payloads.timeline(sc, acc.uid, now, since, PAGE)
            n += 1
            write(f"timeline_{acc.uid}_{n:04d}.json", page)
            since = page["data"]["cardlistInfo"].get("since_id") or 0
            if not since:
                break
        hits = [s for s in sc.mentions.get(acc.screen_name, []) if s.visible(now) and not s.pinned]
        cid = f"100103type=1&q=@{acc.screen_name}"
        for i in range(0, len(hits), PAGE):
            page_no = i // PAGE + 1
            nxt = page_no + 1 if i + PAGE < len(hits) else None
            write(f"search_{acc.uid}_{page_no:04d}.json",
                  payloads.search(sc, cid, f"@{acc.screen_name}", hits[i:i + PAGE], page_no, nxt, len(hits), PAGE, now))
    for st in sc.ordered:
        if not st.visible(now):
            continue
        max_id, n = 0, 0
        while sc.root_comments.get(st.id):
            page = payloads.hotflow(sc, st, now, max_id, PAGE, comment_dates)
            n += 1
            write(f"hotflow_{st.id}_{n:04d}.json", page)
            max_id = page["data"]["max_id"]
            if not max_id:
                break
        reps = [s for s in sc.reposts.get(st.id, ()) if s.visible(now)]
        for page_no in range(1, (len(reps) + PAGE - 1) // PAGE + 1):
            write(f"reposts_{st.id}_{page_no:04d}.json", payloads.reposts(sc, st, now, page_no, PAGE))
    statuses = sum(1 for s in sc.statuses.values() if s.visible(now))
    comments = sum(1 for c in sc.comments.values() if c.visible(now))
    return Archive(folder, roster, files, statuses, comments, sc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--items", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    a = write_archive(args.out, args.items, args.seed)
    print(f"{a.files} files, {a.statuses} statuses and {a.comments} comments in {a.folder}")


if __name__ == "__main__":
    main()
