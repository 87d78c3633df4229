"""Database rows to export values: ids as text, times as (ISO +08:00, Unix), citizens pseudonymised.

Each `*_values` function returns the values in `TableSpec.out_names()` order as plain Python objects
(str, int, float, bool, list, dict, None); the writers decide how each format spells them.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Mapping

from matrix.export.pseudonym import Pseudonymiser
from matrix.export.schema import CASES

_CASE_COLS = [(c.name, c.type) for c in CASES.cols]

_EIGHT = timedelta(hours=8)


def when(value: datetime | None) -> tuple[str | None, int | None]:
    """(ISO 8601 in Beijing time with +08:00, whole Unix seconds); sub-second digits are dropped."""
    if value is None:
        return None, None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    # shifting the aware value keeps its offset text: take the wall-clock part and write +08:00 ourselves
    return (value + _EIGHT - value.utcoffset()).isoformat(timespec="seconds")[:19] + "+08:00", int(value.timestamp() // 1)


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _sid(value: Any) -> str | None:
    return None if value is None else str(value)


class RowMaker:
    """Turns one table's rows into export values, with or without pseudonyms."""

    def __init__(
        self,
        table: str,
        ps: Pseudonymiser | None,
        member_uids: frozenset[str] = frozenset(),
        coordinator_uids: frozenset[str] = frozenset(),
    ) -> None:
        self.table = table
        self.ps = ps  # None = identified export
        self.members = member_uids
        self.coordinators = coordinator_uids
        self.values: Callable[[Mapping[str, Any]], list[Any]] = getattr(self, f"_{table}")

    # -- posts -------------------------------------------------------------------------------------
    def _posts(self, r: Mapping[str, Any]) -> list[Any]:
        uid = r["user_id"]
        citizen = uid is None or uid not in self.members
        role = "coordinator" if uid in self.coordinators else ("citizen" if citizen else "member")
        screen_name, text, mentions, url = r["screen_name"], r["text"], r["mentions"] or [], r["source_url"]
        ps = self.ps
        if ps is not None:
            if citizen:
                uid = ps.uid(uid)
                screen_name = ps.name(screen_name)
                if url:
                    url = f"https://m.weibo.cn/detail/{r['mid'] or r['id']}"
            text = ps.text(text, mentions)
            mentions = [ps.name(m) for m in mentions]
        c_iso, c_unix = when(r["created_at"])
        f_iso, f_unix = when(r["fetched_at"])
        return [
            r["id"], r["item_type"], r["mid"], r["bid"], uid, screen_name, role, text,
            c_iso, c_unix, f_iso, f_unix,
            r["parent_id"], r["reply_to_id"], r["reposted_id"], mentions, r["topics"] or [],
            bool(r["is_long_text"]), r["client"], r["region"],
            r["reposts_count"], r["comments_count"], r["attitudes_count"], url,
            r["sentiment_label"], r["sentiment_score"], r["sentiment_confidence"], r["post_kind"],
        ]

    # -- cases: generic over CASES.cols, so a new column needs only a schema line ---------------------
    def _cases(self, r: Mapping[str, Any]) -> list[Any]:
        ps = self.ps
        out: list[Any] = []
        for name, kind in _CASE_COLS:
            v = r.get(name)
            if kind == "datetime":
                out.extend(when(v))
                continue
            if ps is not None:
                if name == "citizen_uid":
                    v = ps.uid(v)
                elif name == "citizen_name":
                    v = ps.name(v)
                elif name == "addressed_uids":
                    v = [ps.uid(a) for a in v or []]
            if kind == "string" and v is not None and not isinstance(v, str):
                v = str(v)
            elif kind == "boolean" and v is not None:
                v = bool(v)
            elif kind == "array" and v is None:
                v = []
            out.append(v)
        return out

    # -- events ------------------------------------------------------------------------------------
    def _events(self, r: Mapping[str, Any]) -> list[Any]:
        actor, account_uid, reason, detail = r["actor"], r["account_uid"], r["reason"], r["detail"] or {}
        ps = self.ps
        if ps is not None:
            swap = {}
            cu, cn = r["_citizen_uid"], r["_citizen_name"]
            if cu and cu not in ps.member_uids:
                swap[cu] = ps.uid(cu)
            if cn and cn not in ps.member_names:
                swap[cn] = ps.name(cn)
            if actor in swap:
                actor = swap[actor]
            elif actor and actor.isdigit() and actor not in ps.member_uids:
                actor = ps.uid(actor)
            if account_uid and account_uid not in ps.member_uids:
                account_uid = ps.uid(account_uid)
            reason = ps.text(reason)
            for old, new in swap.items():
                if reason and old in reason:
                    reason = reason.replace(old, new)
            detail = _scrub(detail, swap)
        out: list[Any] = [_sid(r["id"]), _sid(r["case_id"])]
        out.extend(when(r["at"]))
        out.extend(when(r["recorded_at"]))
        out += [r["type"], actor, r["post_id"], account_uid, reason, detail, r["calendar_minutes"], r["working_minutes"], r["policy_version"]]
        return out

    # -- accounts ----------------------------------------------------------------------------------
    def _accounts(self, r: Mapping[str, Any]) -> list[Any]:
        out: list[Any] = [r["uid"], r["screen_name"], r["name"], r["department"], r["category"], r["role"], _day(r["active_from"]), _day(r["active_to"])]
        out.extend(when(r["created_at"]))
        out.extend(when(r["updated_at"]))
        return out

    # -- rankings (rows are dicts built from AccountRank plus the period) ---------------------------
    def _rankings(self, r: Mapping[str, Any]) -> list[Any]:
        out: list[Any] = [_sid(r.get("account_uid")), r.get("screen_name"), r.get("name"), r.get("department")]
        out.extend(when(r.get("period_start")))
        out.extend(when(r.get("period_end")))
        for name in (
            "cases", "responded", "response_rate", "on_time_responses", "on_time_response_rate", "closed",
            "on_time_closed", "on_time_closure_rate", "median_response_working_minutes",
            "p90_response_working_minutes", "overdue_count", "days_overdue", "negative_share", "mention_cases",
            "comment_cases", "comment_on_time",
        ):
            out.append(r.get(name))
        return out


def _scrub(value: Any, swap: dict[str, str]) -> Any:
    """A JSON value with every string equal to a citizen id or name replaced by its pseudonym."""
    if not swap:
        return value
    if isinstance(value, str):
        return swap.get(value, value)
    if isinstance(value, list):
        return [_scrub(v, swap) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, swap) for k, v in value.items()}
    return value
