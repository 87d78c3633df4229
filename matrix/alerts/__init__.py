"""Overdue alerts: an outbox written with the state change, delivered once by the sender.

- `outbox.enqueue_for_event(session, case, event)`: the case engine's hook (same transaction);
  `outbox.enqueue_digests`, `outbox.enqueue_test`.
- `sender.Sender(engine, config).run_once(now)` / `.loop()`: claim, deliver, retry, log attempts.
- `contacts.parse_contacts(cell)`: roster contacts cell -> list of contact dicts (ValueError on bad ones).
- `config.load_config()`: TOML file in WZMON_ALERTS_CONFIG plus WZMON_* variables.
- `channels`: email (SMTP), dingtalk, wecom, feishu, webhook.

Alert status: pending -> sending (claimed) -> sent | failed (retry at next_attempt_at) | dead
(permanent error or max_attempts) | cancelled (its case ended before it could go out).
"""
