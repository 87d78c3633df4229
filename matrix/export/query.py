"""Export filters and the SQL that applies them (access scope included), one SELECT per table.

Filter meanings, per table:
- period (since inclusive, until exclusive): posts by created_at; cases by opened_at; events by the
  opened_at of their case (a case's timeline is never cut in half); rankings: the ranking period.
- accounts / department: posts written by those accounts, the posts of cases they owe, and comments under
  their posts; cases and events of cases they owe now; accounts and rankings: those accounts.
- kinds / sentiments: posts.post_kind / sentiment_label; the case's kind / sentiment for cases and events.
- statuses: the case status (posts: posts that opened a case in that status).
A filter that does not apply to a table (e.g. --kind for accounts) is recorded as ignored in provenance.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import Select, func, or_, select
from sqlalchemy.engine import Connection

from matrix.export.errors import ExportError
from matrix.storage.models import Account, Case, CaseEvent, Post
from matrix.timeutil import as_utc, iso_local

P = Post.__table__
C = Case.__table__
E = CaseEvent.__table__
A = Account.__table__

STATUSES = ("awaiting_forward", "open", "responded", "closed", "invalid", "merged")
SENTIMENTS = ("negative", "neutral", "positive")


@dataclass
class ExportFilters:
    """What to export. Empty lists and None mean 'no restriction'.

    account_uids is the access scope of the caller (contract: None = office, all accounts; a list = a
    member user's own accounts), applied on top of every other filter.
    """

    since: datetime | None = None
    until: datetime | None = None
    accounts: list[str] = field(default_factory=list)
    department: str | None = None
    kinds: list[str] = field(default_factory=list)
    sentiments: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    account_uids: list[str] | None = None

    @classmethod
    def coerce(cls, value: "ExportFilters | dict[str, Any] | None") -> "ExportFilters":
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        unknown = set(value) - set(cls.__dataclass_fields__)
        if unknown:
            raise ExportError(f"unknown export filter(s) {sorted(unknown)}; known: {sorted(cls.__dataclass_fields__)}")
        return cls(**value)

    def check(self) -> None:
        for name, vals, allowed in (("status", self.statuses, STATUSES), ("sentiment", self.sentiments, SENTIMENTS)):
            bad = [v for v in vals if v not in allowed]
            if bad:
                raise ExportError(f"unknown {name} {bad[0]!r}; use one of: {', '.join(allowed)}")
        if self.since and self.until and as_utc(self.since) >= as_utc(self.until):
            raise ExportError(f"--since {iso_local(self.since)} is not before --until {iso_local(self.until)}")

    def used(self) -> set[str]:
        out = set()
        for k, v in asdict(self).items():
            if k != "account_uids" and v not in (None, [], ""):
                out.add(k)
        return out

    def describe(self) -> dict[str, Any]:
        """JSON-ready, for provenance."""
        d = asdict(self)
        d["since"] = iso_local(self.since) or None
        d["until"] = iso_local(self.until) or None
        return d


def resolve_accounts(conn: Connection, filters: ExportFilters) -> list[str] | None:
    """The account uids the filters allow (None = no restriction). Unknown names are an error."""
    allowed: set[str] | None = None
    if filters.accounts:
        found: set[str] = set()
        for raw in filters.accounts:
            value = raw.strip().lstrip("@")
            uids = conn.execute(select(A.c.uid).where(or_(A.c.uid == value, A.c.screen_name == value))).scalars().all()
            if uids:
                found.update(uids)
            elif value.isdigit():
                found.add(value)  # a uid not (or no longer) on the roster
            else:
                raise ExportError(f"unknown account {raw!r}: not a uid or a screen name on the roster (see `wzmon export accounts`)")
        allowed = found
    if filters.department:
        dept = set(conn.execute(select(A.c.uid).where(A.c.department == filters.department)).scalars())
        if not dept:
            known = sorted({d for d in conn.execute(select(A.c.department).distinct()).scalars() if d})
            raise ExportError(f"no account in department {filters.department!r}; departments: {', '.join(known) or '(roster is empty)'}")
        allowed = dept if allowed is None else allowed & dept
    if filters.account_uids is not None:
        scope = set(filters.account_uids)
        allowed = scope if allowed is None else allowed & scope
    return None if allowed is None else sorted(allowed)


def _period(col: Any, f: ExportFilters) -> list[Any]:
    conds = []
    if f.since is not None:
        conds.append(col >= as_utc(f.since))
    if f.until is not None:
        conds.append(col < as_utc(f.until))
    return conds


def _case_conds(f: ExportFilters, uids: Sequence[str] | None, c: Any = C) -> list[Any]:
    conds = _period(c.c.opened_at, f)
    if uids is not None:
        conds.append(c.c.account_uid.in_(uids))
    if f.kinds:
        conds.append(c.c.kind.in_(f.kinds))
    if f.sentiments:
        conds.append(c.c.sentiment_label.in_(f.sentiments))
    if f.statuses:
        conds.append(c.c.status.in_(f.statuses))
    return conds


def posts_select(f: ExportFilters, uids: Sequence[str] | None) -> Select:
    conds = _period(P.c.created_at, f)
    if uids is not None:
        own = P.alias("own")
        conds.append(
            or_(
                P.c.user_id.in_(uids),
                P.c.id.in_(select(C.c.post_id).where(C.c.account_uid.in_(uids))),
                P.c.parent_id.in_(select(own.c.id).where(own.c.user_id.in_(uids))),
            )
        )
    if f.kinds:
        conds.append(P.c.post_kind.in_(f.kinds))
    if f.sentiments:
        conds.append(P.c.sentiment_label.in_(f.sentiments))
    if f.statuses:
        conds.append(P.c.id.in_(select(C.c.post_id).where(C.c.status.in_(f.statuses))))
    return select(P).where(*conds).order_by(P.c.id)


def cases_select(f: ExportFilters, uids: Sequence[str] | None) -> Select:
    from matrix.export.schema import CASES

    cols = [C.c[c.name] for c in CASES.cols if c.name in C.c]  # only what is exported, in schema order
    return select(*cols).where(*_case_conds(f, uids)).order_by(C.c.id)


def events_select(f: ExportFilters, uids: Sequence[str] | None) -> Select:
    """Events with their case's citizen (for pseudonymising the actor), never exported as columns."""
    stmt = (
        select(E, C.c.citizen_uid.label("_citizen_uid"), C.c.citizen_name.label("_citizen_name"))
        .join(C, C.c.id == E.c.case_id)
        .where(*_case_conds(f, uids))
        .order_by(E.c.id)
    )
    return stmt


def accounts_select(f: ExportFilters, uids: Sequence[str] | None) -> Select:
    stmt = select(A).order_by(A.c.uid)
    if uids is not None:
        stmt = stmt.where(A.c.uid.in_(uids))
    return stmt


SELECTS = {"posts": posts_select, "cases": cases_select, "events": events_select, "accounts": accounts_select}


def count_of(conn: Connection, stmt: Select) -> int:
    return int(conn.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one())


def collection_window(conn: Connection, table: str, stmt: Select | None) -> dict[str, Any]:
    """First and last fetched_at of the posts behind the exported rows (all posts for accounts/rankings)."""
    if table == "posts" and stmt is not None:
        sub = stmt.order_by(None).subquery()
        q = select(func.min(sub.c.fetched_at), func.max(sub.c.fetched_at))
        basis = "exported posts"
    elif table in ("cases", "events") and stmt is not None:
        sub = stmt.order_by(None).subquery()
        case_ids = sub.c.id if table == "cases" else sub.c.case_id
        q = select(func.min(P.c.fetched_at), func.max(P.c.fetched_at)).where(
            P.c.id.in_(select(C.c.post_id).where(C.c.id.in_(select(case_ids))))
        )
        basis = "posts that opened the exported cases"
    else:
        q = select(func.min(P.c.fetched_at), func.max(P.c.fetched_at))
        basis = "all stored posts"
    lo, hi = conn.execute(q).one()
    # raw aggregates bypass the column type on SQLite: parse strings there
    lo, hi = (_as_dt(v) for v in (lo, hi))
    return {"first_fetched_at": iso_local(lo) or None, "last_fetched_at": iso_local(hi) or None, "basis": basis}


def _as_dt(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return as_utc(value)
    return as_utc(datetime.fromisoformat(str(value)))
