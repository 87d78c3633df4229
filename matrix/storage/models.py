"""SQLAlchemy 2.x models: the only description of the schema (Alembic migrations follow it).

Ids from Weibo are text: 16-digit ids exceed a double's exact range. Datetimes are stored in UTC
and come back timezone-aware (see `UTCDateTime`).
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from matrix.timeutil import as_utc, utcnow

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utc_text(value: datetime) -> str:
    """VALUE as UTCDateTime stores it on SQLite, in one step: UTC, naive, `YYYY-MM-DD HH:MM:SS.ffffff` (SQLAlchemy's
    SQLite DATETIME text; PostgreSQL casts the same text). For writers below the ORM: the bulk writer and the
    clock's sweep, where the two type layers cost more per value than the write itself."""
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value.isoformat(" ", "microseconds")


class UTCDateTime(TypeDecorator):
    """Stores aware datetimes as UTC; returns them aware (SQLite keeps no zone of its own)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        v = as_utc(value)
        return v.replace(tzinfo=None) if v is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return as_utc(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class Account(Base):
    """A matrix account: the coordinator (@问政银川) or a member (police, education, districts...)."""

    __tablename__ = "accounts"
    uid: Mapped[str] = mapped_column(String(32), primary_key=True)
    screen_name: Mapped[str] = mapped_column(String(128), index=True)
    name: Mapped[str] = mapped_column(String(256), default="")
    department: Mapped[str] = mapped_column(String(256), default="")
    category: Mapped[str] = mapped_column(String(64), default="")
    role: Mapped[str] = mapped_column(String(16), default="member")  # coordinator | member
    contacts: Mapped[list[Any]] = mapped_column(JSON, default=list)
    active_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    active_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AccountHistory(Base):
    """Every roster change, so rankings of a past period use the roster of that period."""

    __tablename__ = "account_history"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uid: Mapped[str] = mapped_column(String(32), index=True)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(128), default="")
    change: Mapped[str] = mapped_column(String(16))  # created | updated | deactivated
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    source: Mapped[str] = mapped_column(String(512), default="")


class RawResponse(Base):
    """The original response body (compressed) behind parsed records: nothing lost if a parser is wrong."""

    __tablename__ = "raw_responses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_key: Mapped[str] = mapped_column(String(256), index=True)
    url: Mapped[str] = mapped_column(Text)
    status: Mapped[int] = mapped_column(Integer, default=200)
    content_type: Mapped[str] = mapped_column(String(128), default="")
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    encoding: Mapped[str] = mapped_column(String(16), default="gzip")
    body: Mapped[bytes] = mapped_column(LargeBinary)


class Post(Base):
    """Any item seen on Weibo: a post, a repost or a comment (comments carry parent_id)."""

    __tablename__ = "posts"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    item_type: Mapped[str] = mapped_column(String(16), default="post")  # post | repost | comment
    mid: Mapped[str | None] = mapped_column(String(32), nullable=True)
    bid: Mapped[str | None] = mapped_column(String(32), nullable=True)
    user_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # indexed by ix_posts_user_kind_created
    screen_name: Mapped[str] = mapped_column(String(128), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column()  # indexed by ix_posts_dash_created, whose first column it is (0010)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    parent_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    reply_to_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reposted_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    mentions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    topics: Mapped[list[Any]] = mapped_column(JSON, default=list)
    is_long_text: Mapped[bool] = mapped_column(Boolean, default=False)
    client: Mapped[str] = mapped_column(String(128), default="")
    region: Mapped[str] = mapped_column(String(64), default="")
    reposts_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    comments_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    attitudes_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source_url: Mapped[str] = mapped_column(Text, default="")
    sentiment_label: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    sentiment_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    sentiment_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    post_kind: Mapped[str | None] = mapped_column(String(8), nullable=True)
    raw_id: Mapped[int | None] = mapped_column(ForeignKey("raw_responses.id"), nullable=True)
    # pinned to the top of its author's timeline (0009): shown above newer posts, so a first read of a timeline
    # does not vouch for the time between a pinned post and the oldest other post it shows (matrix.casework.inspection)
    is_pinned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __table_args__ = (
        Index("ix_posts_dash_created", "created_at", "user_id", "sentiment_label"),
        # an author's posts of one kind since a time (the case engine reads the members' own posts so, 0010)
        Index("ix_posts_user_kind_created", "user_id", "item_type", "created_at"),
    )


class PolicyVersion(Base):
    """Each policy file the cases were judged by, kept whole so a ruling can be re-read later."""

    __tablename__ = "policy_versions"
    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text)


class Case(Base):
    """A post that needs an answer: who owes it, by when, and whether they made it."""

    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    post_id: Mapped[str] = mapped_column(ForeignKey("posts.id"), unique=True)
    citizen_uid: Mapped[str | None] = mapped_column(String(32), nullable=True)
    citizen_name: Mapped[str] = mapped_column(String(128), default="")
    addressed_uids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    account_uid: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(8), default="其他")
    status: Mapped[str] = mapped_column(String(24), default="open", index=True)
    opened_at: Mapped[datetime] = mapped_column(index=True)
    forwarded_at: Mapped[datetime | None] = mapped_column(nullable=True)
    first_response_at: Mapped[datetime | None] = mapped_column(nullable=True)
    first_response_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    last_response_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_citizen_at: Mapped[datetime | None] = mapped_column(nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    forward_due: Mapped[datetime | None] = mapped_column(nullable=True)
    response_clock_at: Mapped[datetime | None] = mapped_column(nullable=True)
    closure_clock_at: Mapped[datetime | None] = mapped_column(nullable=True)
    first_response_due: Mapped[datetime | None] = mapped_column(nullable=True)
    next_reply_due: Mapped[datetime | None] = mapped_column(nullable=True)
    closure_due: Mapped[datetime | None] = mapped_column(nullable=True)
    extension_working_days: Mapped[int] = mapped_column(Integer, default=0)
    first_response_working_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    first_response_calendar_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    overdue_level: Mapped[str] = mapped_column(String(16), default="")
    overdue_deadline: Mapped[str] = mapped_column(String(16), default="")
    overdue_since: Mapped[datetime | None] = mapped_column(nullable=True)
    # deadlines counted across a day of a provisional calendar year (comma-separated clock names), and
    # deadlines that could not be counted at all (时限待定: JSON {clock: reason}); see matrix/rules/holidays.py
    provisional_dues: Mapped[str] = mapped_column(String(64), default="", server_default="")
    pending_dues: Mapped[str | None] = mapped_column(Text, nullable=True)
    # where the request was seen (0009): 'mention' (a post naming the account) or 'comment' (a comment under
    # a member's own post, see matrix/casework/inspection.py)
    origin: Mapped[str] = mapped_column(String(16), default="mention", server_default="mention")
    sentiment_label: Mapped[str | None] = mapped_column(String(16), nullable=True)
    merged_into: Mapped[int | None] = mapped_column(Integer, nullable=True)
    policy_version: Mapped[str] = mapped_column(String(64), default="")
    evaluated_at: Mapped[datetime | None] = mapped_column(nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        Index("ix_cases_account_status", "account_uid", "status"),
        # the board's period queries (opened in a period, by account, status, sentiment); no column the
        # SLA clock rewrites, so a recomputation does not pay for this index
        Index("ix_cases_dash_opened", "opened_at", "account_uid", "status", "sentiment_label"),
    )


class CaseEvent(Base):
    """Every state change of a case, with calendar and working minutes since it opened; also the audit log."""

    __tablename__ = "case_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(index=True)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    type: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(128), default="")
    post_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    account_uid: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    calendar_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    working_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    policy_version: Mapped[str] = mapped_column(String(64), default="")


class LinkCheck(Base):
    """A link seen in a member's own post (0009) and what its last check found: one row per URL, checked
    at most once a day within the crawler's request budget (matrix/casework/inspection.py, crawler/linkcheck.py)."""

    __tablename__ = "link_checks"
    url: Mapped[str] = mapped_column(String(1024), primary_key=True)
    post_id: Mapped[str] = mapped_column(String(32))
    account_uid: Mapped[str] = mapped_column(String(32), index=True)
    first_seen_at: Mapped[datetime] = mapped_column()
    checked_at: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    checks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    ok: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    http_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    final_url: Mapped[str] = mapped_column(Text, default="", server_default="")
    error: Mapped[str] = mapped_column(Text, default="", server_default="")
    dead_since: Mapped[datetime | None] = mapped_column(nullable=True)


class PollCursor(Base):
    """Where each source's incremental paging stands; advanced in the same transaction as its posts."""

    __tablename__ = "poll_cursors"
    source_key: Mapped[str] = mapped_column(String(256), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # timeline | mentions | comments | reposts | search
    target: Mapped[str] = mapped_column(String(256))
    cursor: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_polled_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_new_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_item_at: Mapped[datetime | None] = mapped_column(nullable=True)
    items_total: Mapped[int] = mapped_column(Integer, default=0)
    requests_total: Mapped[int] = mapped_column(Integer, default=0)
    errors_total: Mapped[int] = mapped_column(Integer, default=0)
    consecutive_errors: Mapped[int] = mapped_column(Integer, default=0)
    cooldown_until: Mapped[datetime | None] = mapped_column(nullable=True)
    activity_rate: Mapped[float] = mapped_column(Float, default=0.0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CrawlerHealth(Base):
    """What the crawler saw happen: blocks, login walls, malformed pages, recoveries. Shown on the board."""

    __tablename__ = "crawler_health"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    source_key: Mapped[str] = mapped_column(String(256), default="")
    state: Mapped[str] = mapped_column(String(32))  # ok | blocked | login_required | empty | malformed | transport
    http_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")
    cooldown_until: Mapped[datetime | None] = mapped_column(nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Alert(Base):
    """Outbox row: written in the transaction that causes it, delivered later by the sender, once."""

    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(256), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), nullable=True, index=True)
    account_uid: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    level: Mapped[str] = mapped_column(String(32))  # warning | overdue | 催办 | 通报 | digest | test | route
    channel: Mapped[str] = mapped_column(String(32))  # email | dingtalk | wecom | feishu | webhook
    address: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending|sent|failed|dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime | None] = mapped_column(nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    contact_key: Mapped[str] = mapped_column(String(64), default="", server_default="", index=True)  # fingerprint of channel+address (0003)
    claimed_at: Mapped[datetime | None] = mapped_column(nullable=True)  # sender lease while status = 'sending' (0003)
    claimed_by: Mapped[str] = mapped_column(String(128), default="", server_default="")  # which sender holds it (0003)


class AlertAttempt(Base):
    """One delivery attempt of an alert: the delivery log on the board."""

    __tablename__ = "alert_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str] = mapped_column(Text, default="")
    duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __table_args__ = (UniqueConstraint("alert_id", "at", name="uq_alert_attempts_alert_at"),)


class PollLease(Base):
    """Who polls a source right now (0004): one row per source key (or task), leased until expires_at.

    A poller claims a free or expired row (PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED; SQLite: one
    atomic UPDATE ... WHERE expired), renews it with each page it commits, and checks `token` inside the
    commit's transaction, so a poller whose lease was taken over can never write for that source again.
    """

    __tablename__ = "poll_leases"
    source_key: Mapped[str] = mapped_column(String(256), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128), default="", server_default="")
    token: Mapped[str] = mapped_column(String(32), default="", server_default="")
    leased_at: Mapped[datetime | None] = mapped_column(nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    released_at: Mapped[datetime | None] = mapped_column(nullable=True)
    claims: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    takeovers: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # claims of an expired lease
    last_owner: Mapped[str] = mapped_column(String(128), default="", server_default="")  # whose expired lease the last claim took over


class SiteBudget(Base):
    """One request budget per site shared by every poller (0004): a token bucket row updated atomically.

    Times are Unix seconds (float) so every process and machine reads the same bucket; `version`
    makes each update a compare-and-swap.
    """

    __tablename__ = "site_budgets"
    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    per_minute: Mapped[float] = mapped_column(Float)
    burst: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    tokens: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    stamp: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    paused_until: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    pause_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    granted_total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PollerProcess(Base):
    """Each running poller's heartbeat (0004), for `wzmon status` and the board."""

    __tablename__ = "pollers"
    poller_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    host: Mapped[str] = mapped_column(String(256), default="", server_default="")
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    state: Mapped[str] = mapped_column(String(32), default="running", server_default="running")  # running|stopped
    passes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    requests_total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    items_total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_pass_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="", server_default="")


class RollupCaseDay(Base):
    """The board's period figures per Asia/Shanghai day (the day cases opened) and account (0006).

    A cache of `cases`, exact by construction: triggers mark every day whose cases change in
    `rollup_dirty`, and readers compute marked days from `cases` itself (see `matrix.storage.rollup`).
    account_uid '' stands for cases with no account.
    """

    __tablename__ = "rollup_case_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    account_uid: Mapped[str] = mapped_column(String(32), primary_key=True)
    total: Mapped[int] = mapped_column(Integer, default=0)  # every case, whatever its status
    counted: Mapped[int] = mapped_column(Integer, default=0)  # not invalid, not merged
    active: Mapped[int] = mapped_column(Integer, default=0)  # awaiting_forward, open, responded
    overdue: Mapped[int] = mapped_column(Integer, default=0)  # counted and overdue now
    closed: Mapped[int] = mapped_column(Integer, default=0)
    negative: Mapped[int] = mapped_column(Integer, default=0)  # counted, case sentiment negative
    responded: Mapped[int] = mapped_column(Integer, default=0)  # counted, first response given
    on_time: Mapped[int] = mapped_column(Integer, default=0)  # counted, first response by its deadline
    minutes: Mapped[list[Any]] = mapped_column(JSON, default=list)  # counted cases' first-response working minutes, sorted
    on_time_closed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # closed by its deadline (0007)
    late_closed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # closed, late on a deadline
    late_closed_minutes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")  # their working minutes late
    calendar_key: Mapped[str] = mapped_column(String(16), default="", server_default="")  # calendar they were measured on


class RollupPostDay(Base):
    """Stored items (posts, reposts, comments) per Asia/Shanghai day (0006); kept exact like RollupCaseDay."""

    __tablename__ = "rollup_post_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    posts: Mapped[int] = mapped_column(Integer, default=0)
