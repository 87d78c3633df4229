"""Which route (door) to read a source through, when one is closed, and when to try a closed one again.

Routes: `mobile` (m.weibo.cn JSON, search included), `pc` (weibo.com/ajax, `crawler.pc_api`), `search`
(s.weibo.com HTML search), `feed` (a member's own @-mention feed on weibo.com/ajax, only for a member whose login
cookie the office supplied; a refusal there takes that cookie out of use and closes no door for the others). Each kind of source has routes in order of preference; the poller takes the first
one open (or due for a probe), and when a route refuses (432 and the like, a login wall, ok:-100) it marks that
route closed and reads the same source through the next. A closed route is probed again after a back-off that
doubles with each refusal in a row (`probe_after` up to `probe_max`); one success opens it again. The state is
per route, not per source: when Weibo closes a door it closes it for every source behind it.

A cursor's resume point (`since_id`, `page`, `max_id`) belongs to the route that produced it, so the cursor
carries `route`; on a change of route the resume point is dropped and the walk starts from the newest item
down to the mark (`last_created_at`/`seen`), which no route changes: nothing is skipped, and what is read
twice is de-duplicated by id.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from crawler.cursors import RESUME_KEYS

ROUTES = ("mobile", "pc", "search", "feed")
PROBE_AFTER = 600.0  # seconds before a closed route is probed again, doubling with each refusal in a row
PROBE_MAX = 6 * 3600.0
FEED = "feed"
SEARCH = "search"
PREFERENCE: dict[str, tuple[str, ...]] = {
    "timeline": ("mobile", "pc"),
    "comments": ("mobile", "pc"),
    "reposts": ("mobile", "pc"),
    "mentions": ("mobile", "feed", "search"),
}
WHAT_TO_DO = {
    "mobile": "m.weibo.cn is refusing (432 or a login wall): collection goes through weibo.com/ajax and s.weibo.com "
              "search; if it lasts, renew the cookie (wzmon login) or lower the request rate",
    "pc": "weibo.com/ajax wants a login: renew the cookie (wzmon login); collection goes through m.weibo.cn",
    "search": "s.weibo.com search wants a login: renew the cookie (wzmon login); mentions go through m.weibo.cn",
    "feed": "a member's own mention feed wants a login: renew that member's cookie (wzmon login)",
}


@dataclass
class Closure:
    """One episode of a closed route."""

    route: str
    since: datetime
    probe_at: datetime
    streak: int
    cause: str
    detail: str


class RouteBook:
    """The open/closed state of each route and the next probe of the closed ones."""

    def __init__(self, probe_after: float = PROBE_AFTER, probe_max: float = PROBE_MAX) -> None:
        self.probe_after = probe_after
        self.probe_max = probe_max
        self.closed: dict[str, Closure] = {}

    def candidates(self, kind: str, now: datetime) -> list[str]:
        """Routes to try for a kind of source, in order: open ones by preference, then closed ones due a probe."""
        prefs = PREFERENCE.get(kind, ("mobile",))
        open_ = [r for r in prefs if r not in self.closed]
        due = [r for r in prefs if r in self.closed and self.closed[r].probe_at <= now]
        return due[:1] + open_ if due else open_

    def refused(self, route: str, cause: str, detail: str, now: datetime) -> Closure:
        """Mark `route` closed (or keep it closed, doubling the wait before the next probe)."""
        old = self.closed.get(route)
        streak = (old.streak + 1) if old else 1
        wait = min(self.probe_after * 2 ** (streak - 1), self.probe_max)
        closure = Closure(route, old.since if old else now, now + timedelta(seconds=wait), streak, cause, detail)
        self.closed[route] = closure
        return closure

    def restore(self, closures: list[Closure]) -> None:
        """Take over episodes a previous process found (handed in by whoever stores them, e.g. matrix at start-up),
        so a route still closed is not reported closed anew by every `poll --once` run."""
        for closure in closures:
            if closure.route in ROUTES and closure.route not in self.closed:
                self.closed[closure.route] = closure

    def worked(self, route: str) -> Closure | None:
        """`route` answered: open it; returns the episode that ended, if it was closed."""
        return self.closed.pop(route, None)


def cursor_for(cursor: dict | None, route: str) -> dict | None:
    """The stored cursor as `route` may resume it: its resume point dropped when another route made it."""
    if not cursor:
        return cursor
    if cursor.get("route", "mobile") == route:
        return cursor
    return {k: v for k, v in cursor.items() if k not in RESUME_KEYS and not k.startswith("walk_")}
