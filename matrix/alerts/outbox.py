"""Writing alerts into the outbox in the caller's transaction; one row per (case, level, contact), ever.

The case engine calls `enqueue_for_event` in the transaction that records the level change, so an alert
exists exactly when its event does. Rows are keyed by `dedupe_key` and inserted with INSERT ... ON
CONFLICT DO NOTHING (SQLite and PostgreSQL), so re-evaluating a case or two writers racing never
produce a second alert. The address stored is redacted; the sender finds the full contact again in the
roster by `contact_key` when it delivers.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matrix.alerts import messages
from matrix.alerts.config import AlertsConfig, load_config
from matrix.alerts.contacts import contact_key, redact_address
from matrix.alerts.errors import AlertsConfigError
from matrix.storage.bulkwrite import (
    COPY_MIN,
    bulk_executemany,
    copy_insert_new,
    hold_write_lock,
)
from matrix.storage.db import chunks
from matrix.storage.models import Account, Alert, Case, CaseEvent, Post
from matrix.timeutil import as_utc, local, utcnow

log = logging.getLogger(__name__)

CASE_LEVEL_EVENTS = ("warning", "overdue", "escalated", "催办", "通报")
DEADLINE_FIELDS = {
    "forward": "forward_due",
    "first_response": "first_response_due",
    "next_reply": "next_reply_due",
    "closure": "closure_due",
}

_config: AlertsConfig | None = None


def configure(config: AlertsConfig | None) -> None:
    """Use this config for enqueueing from now on (None: load from the environment again)."""
    global _config
    _config = config


def current_config() -> AlertsConfig:
    """The configured alerts config, loaded from WZMON_ALERTS_CONFIG / WZMON_* on first use."""
    global _config
    if _config is None:
        _config = load_config()
    return _config


def _config_for_enqueue() -> AlertsConfig:
    # A broken alerts config must not stop the case engine: queue member alerts with the defaults and
    # shout; the sender refuses to start with the same error, so the operator sees it.
    try:
        return current_config()
    except AlertsConfigError as exc:
        log.error("alerts config unusable, queueing without office copies: %s", exc)
        return AlertsConfig()


def event_level(event: CaseEvent) -> str | None:
    """The alert level an event calls for (warning, overdue, 催办, 通报, ...) or None."""
    if event.type not in CASE_LEVEL_EVENTS:
        return None
    level = (event.detail or {}).get("level") if event.type == "escalated" else event.type
    if event.type in ("overdue", "warning"):
        level = event.type
    return str(level) if level else None


def enqueue_for_event(session: Session, case: Case, event: CaseEvent, *, config: AlertsConfig | None = None) -> int:
    """Queue the alerts a case event calls for; returns how many were queued (0 when all existed).

    One alert per contact of the case's account, plus office copies for the levels in
    `config.office_levels`. An account without contacts gets one 'dead' row saying so, so the gap
    shows in the delivery log instead of passing silently (it is not counted as queued).
    """
    return enqueue_for_events(session, [(case, event)], config=config)


def enqueue_for_events(session: Session, pairs: Iterable[tuple[Case, CaseEvent]], *,
                       config: AlertsConfig | None = None) -> int:
    """`enqueue_for_event` for many (case, event) pairs: accounts and posts read in one query each and
    every alert row written in one statement per thousand rows; how many were queued."""
    pairs = [(c, e) for c, e in pairs if event_level(e) is not None]
    if not pairs:
        return 0
    cfg = config or _config_for_enqueue()
    if any(c.id is None for c, _ in pairs):
        session.flush()
    uids = sorted({c.account_uid for c, _ in pairs if c.account_uid})
    post_ids = sorted({c.post_id for c, _ in pairs if c.post_id})
    # read into the session (held here: its identity map keeps only weak references), so session.get finds them
    held = [a for chunk in chunks(uids) for a in session.scalars(select(Account).where(Account.uid.in_(chunk)))]
    held += [p for chunk in chunks(post_ids) for p in session.scalars(select(Post).where(Post.id.in_(chunk)))]
    rows: list[dict[str, Any]] = []
    for case, event in pairs:
        rows.extend(_event_rows(session, case, event, event_level(event) or "", cfg))
    del held
    return insert_alerts(session, rows)


def _event_rows(session: Session, case: Case, event: CaseEvent, level: str, cfg: AlertsConfig) -> list[dict[str, Any]]:
    """The outbox rows of one level event: one per contact of the account (or a dead marker), office copies."""
    now = as_utc(event.at) or utcnow()
    facts = case_facts(session, case, event, cfg)
    account = session.get(Account, case.account_uid) if case.account_uid else None
    rows: list[dict[str, Any]] = []
    subject, text, _link = messages.case_alert(facts, level, now, cfg.board_url)
    contacts = list(account.contacts or []) if account is not None else []
    for contact in contacts:
        key = contact_key(_as_contact(contact))
        rows.append(_row(f"case:{case.id}:{level}:{key}", case.id, case.account_uid, level, contact, key,
                         subject, text, now))
    if not contacts and case.account_uid:
        who = f"@{account.screen_name}" if account is not None else case.account_uid
        rows.append(_row(f"case:{case.id}:{level}:nocontact", case.id, case.account_uid, level,
                         {"channel": "none", "address": ""}, "", subject, text, now,
                         status="dead", error=f"account {who} has no contacts in the roster: nobody was told"))
    if level in cfg.office_levels and cfg.office_contacts:
        o_subject, o_text, _ = messages.case_alert(facts, level, now, cfg.board_url, office_copy=True)
        for contact in cfg.office_contacts:
            key = contact_key(contact)
            rows.append(_row(f"case:{case.id}:{level}:office:{key}", case.id, None, level, contact, key,
                             o_subject, o_text, now))
    return rows


def case_facts(session: Session, case: Case, event: CaseEvent | None, cfg: AlertsConfig) -> messages.CaseFacts:
    """What a message says about CASE (names, post text, wait, the deadline that matters)."""
    account = session.get(Account, case.account_uid) if case.account_uid else None
    post = session.get(Post, case.post_id) if case.post_id else None
    label, due = case_due(case, (event.detail or {}) if event is not None else {})
    waiting = case.last_citizen_at if case.status == "responded" and case.last_citizen_at else case.opened_at
    return messages.CaseFacts(
        case_id=case.id,
        account=_account_name(account, case.account_uid),
        citizen=f"@{case.citizen_name}" if case.citizen_name else "",
        post_text=messages.trim(post.text if post is not None else "", cfg.post_chars),
        waiting_since=waiting,
        due_label=label,
        due=due,
        working_minutes=event.working_minutes if event is not None else None,
    )


def case_due(case: Case, detail: dict | None = None) -> tuple[str, datetime | None]:
    """(label, due) of the deadline that drives the case's level: the event's, else by status."""
    detail = detail or {}
    name = detail.get("deadline") or getattr(case, "overdue_deadline", "") or ""
    if not name:
        name = {"awaiting_forward": "forward", "open": "first_response"}.get(case.status, "")
        if not name:
            name = "next_reply" if case.next_reply_due is not None else "closure"
    field = DEADLINE_FIELDS.get(name, "closure_due")
    due = getattr(case, field, None)
    if detail.get("due"):
        try:
            due = datetime.fromisoformat(str(detail["due"]))
        except ValueError:
            pass
    return messages.DUE_LABEL[field], as_utc(due)


def enqueue_digests(session: Session, now: datetime, config: AlertsConfig | None = None, *,
                    account_uids: Iterable[str] | None = None, office: bool = True, anytime: bool = False,
                    is_working_day=None) -> int:
    """Queue today's digests (per account with open cases, and the office's); deduped by local date.

    Runs only at or after the configured digest hour on an allowed day unless `anytime` (the
    `alerts digest` command). Returns how many rows were queued.
    """
    cfg = config or current_config()
    now = as_utc(now)
    today = local(now)
    if not anytime:
        if cfg.digest_minute is None or today.hour * 60 + today.minute < cfg.digest_minute:
            return 0
        if cfg.working_days_only and is_working_day is not None and not is_working_day(today.date()):
            return 0
    day = today.strftime("%Y-%m-%d")
    shown_day = today.strftime("%m月%d日")
    wanted = set(account_uids) if account_uids is not None else None
    cases = session.execute(
        select(Case, Post.text)
        .outerjoin(Post, Post.id == Case.post_id)
        .where(Case.status.in_(messages.OPEN_STATUSES), Case.account_uid.is_not(None))
        .order_by(Case.id)
    ).all()
    by_account: dict[str, list[messages.DigestLine]] = {}
    accounts = {a.uid: a for a in session.scalars(select(Account)).all()}
    for case, text in cases:
        label, due = case_due(case)
        by_account.setdefault(case.account_uid, []).append(messages.DigestLine(
            case_id=case.id, account=_account_name(accounts.get(case.account_uid), case.account_uid),
            overdue=bool(case.overdue), due_label=label, due=due, post_text=messages.trim(text or "", 30)))
    rows: list[dict[str, Any]] = []
    for uid, lines in by_account.items():
        if wanted is not None and uid not in wanted:
            continue
        account = accounts.get(uid)
        if account is None:
            continue
        subject, text = messages.account_digest(_account_name(account, uid), shown_day, lines, now, cfg.board_url)
        for contact in account.contacts or []:
            key = contact_key(_as_contact(contact))
            rows.append(_row(f"digest:{day}:{uid}:{key}", None, uid, "digest", contact, key, subject, text, now))
    if office and cfg.office_contacts and by_account:
        per = [(_account_name(accounts.get(uid), uid), len(lines), sum(1 for l in lines if l.overdue))
               for uid, lines in by_account.items()]
        open_cases = [case for case, _text in cases]
        notes = messages.calendar_notes(sum(1 for c in open_cases if c.pending_dues),
                                        sum(1 for c in open_cases if c.provisional_dues), _calendar_warning(now))
        subject, text = messages.office_digest(shown_day, per, cfg.board_url, calendar_notes=notes)
        for contact in cfg.office_contacts:
            key = contact_key(contact)
            rows.append(_row(f"digest:{day}:office:{key}", None, None, "digest", contact, key, subject, text, now))
    return insert_alerts(session, rows)


def enqueue_route_alerts(session: Session, now: datetime, config: AlertsConfig | None = None,
                         minutes: float | None = None) -> int:
    """One alert per office contact per episode of a closed Weibo route (matrix.storage.route_health): the dedupe key holds
    the route and the moment it closed, so a route that stays closed is told once, and again only when it closes
    anew after having answered."""
    from matrix.storage.route_health import closed_routes

    cfg = config or current_config()
    now = as_utc(now)
    rows: list[dict[str, Any]] = []
    for r in closed_routes(session, now, cfg.route_alert_minutes if minutes is None else minutes):
        since = local(r["since"]).strftime("%m-%d %H:%M")
        subject = f"[wzmon] 采集线路 {r['route']} 自 {since} 起被微博关闭"
        body = (f"微博关闭了采集线路 {r['route']}（自 {since} 起），采集正通过其他线路继续。\n"
                f"{r['message']}\n{cfg.board_url or ''}").strip()
        for contact in cfg.office_contacts:
            key = contact_key(contact)
            rows.append(_row(f"route:{r['route']}:{r['since'].isoformat()}:{key}", None, None, "route", contact, key,
                             subject, body, now))
    return insert_alerts(session, rows)


def _calendar_warning(now: datetime) -> str:
    """The warning before the official calendar runs out, for the office digest ('' when none or unreadable)."""
    import os

    from matrix.rules.notices import calendar_outlook
    from matrix.rules.policy import PolicyError, load_policy

    try:
        return calendar_outlook(load_policy(os.environ.get("WZMON_POLICY") or None), now)["warning"]
    except PolicyError as exc:
        return f"the policy cannot be read: {exc}"


def enqueue_test(session: Session, account: Account, now: datetime, config: AlertsConfig | None = None,
                 nonce: str = "") -> list[int]:
    """One 'test' row per contact of ACCOUNT (never deduped against earlier tests); their ids."""
    cfg = config or current_config()
    now = as_utc(now)
    nonce = nonce or now.strftime("%Y%m%dT%H%M%S%f")
    subject, text = messages.test_message(_account_name(account, account.uid), now, cfg.board_url)
    rows = []
    for contact in account.contacts or []:
        key = contact_key(_as_contact(contact))
        rows.append(_row(f"test:{account.uid}:{key}:{nonce}", None, account.uid, "test", contact, key, subject, text, now))
    insert_alerts(session, rows)
    keys = [r["dedupe_key"] for r in rows]
    return list(session.scalars(select(Alert.id).where(Alert.dedupe_key.in_(keys)).order_by(Alert.id))) if keys else []


_INSERTS: dict[str, Any] = {}


def insert_alerts(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert rows, silently skipping dedupe keys that exist; how many were new (SQLite + PostgreSQL).

    One statement per thousand rows (a cached INSERT ... ON CONFLICT DO NOTHING RETURNING, sent as
    many-values); RETURNING, not rowcount, since drivers disagree on rowcount for ON CONFLICT DO NOTHING.
    """
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        stmt = _INSERTS.get(dialect)
        if stmt is None:
            ins = sqlite_insert if dialect == "sqlite" else pg_insert
            t = Alert.__table__
            stmt = _INSERTS[dialect] = (ins(t).on_conflict_do_nothing(index_elements=["dedupe_key"])
                                        .returning(t.c.status))
        # a key repeated within ROWS is inserted once (the first), as row-by-row inserts would
        keys: set[str] = set()
        unique = [r for r in rows if not (r["dedupe_key"] in keys or keys.add(r["dedupe_key"]))]
        if dialect == "postgresql" and len(unique) >= COPY_MIN:
            return sum(1 for (status,) in copy_insert_new(session, Alert.__table__, unique, conflict=["dedupe_key"],
                                                          returning=["status"]) if status != "dead")
        if dialect == "sqlite" and len(unique) >= COPY_MIN:
            # SQLite, under its one write lock: what is not stored now is what this insert adds
            t = Alert.__table__
            hold_write_lock(session, t)
            held = {k for chunk in chunks(sorted(keys)) for k in session.scalars(select(t.c.dedupe_key)
                                                                                   .where(t.c.dedupe_key.in_(chunk)))}
            fresh = [r for r in unique if r["dedupe_key"] not in held]
            bulk_executemany(session, sqlite_insert(t).on_conflict_do_nothing(index_elements=["dedupe_key"]), fresh)
            return sum(1 for r in fresh if r["status"] != "dead")
        # "queued" counts deliverable rows only: the no-contact marker is born dead
        return sum(1 for status in session.connection().execute(stmt, unique).scalars() if status != "dead")
    new = 0
    for row in rows:  # any other database: a savepoint per row, a duplicate rolls back only itself
        try:
            with session.begin_nested():
                session.execute(insert(Alert.__table__).values(**row))
            added = 1
        except IntegrityError:
            added = 0
        if row["status"] != "dead":
            new += added
    return new


def _row(dedupe: str, case_id: int | None, account_uid: str | None, level: str, contact: Any, key: str,
         subject: str, body: str, now: datetime, status: str = "pending", error: str = "") -> dict[str, Any]:
    c = _as_contact(contact)
    channel = (c["channel"] or "unknown")[:32]
    return {
        "dedupe_key": dedupe[:256],
        "case_id": case_id,
        "account_uid": account_uid,
        "level": level,
        "channel": channel,
        "address": redact_address(channel, c["address"]),
        "subject": subject,
        "body": body,
        "status": status,
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": None,
        "sent_at": None,
        "last_error": error,
        "contact_key": key,
        "claimed_at": None,
        "claimed_by": "",
    }


def _as_contact(contact: Any) -> dict[str, str]:
    """channel/address of a roster entry as written (even a malformed one), for keys and redaction."""
    if isinstance(contact, dict):
        return {"channel": str(contact.get("channel") or "").strip().lower(), "address": str(contact.get("address") or "").strip()}
    return {"channel": "unknown", "address": str(contact)}


def _account_name(account: Account | None, uid: str | None) -> str:
    if account is None:
        return uid or "（未分派）"
    return f"@{account.screen_name}" if account.screen_name else (account.name or account.uid)
