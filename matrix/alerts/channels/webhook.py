"""Generic JSON webhook: POST {"event", "subject", "text", "link", "alert_id", ...}.

With a secret, the request carries `X-Wzmon-Timestamp: <unix seconds>` and
`X-Wzmon-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>` so the receiver can check
origin and freshness. Any 2xx is success; the reply body is ignored.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time

from matrix.alerts.channels.base import Message, post_json, resolve_secret, resolve_url
from matrix.alerts.config import AlertsConfig


def signature(secret: str, timestamp_s: int, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), str(timestamp_s).encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def payload(message: Message) -> dict:
    return {
        "event": "wzmon.alert",
        "alert_id": message.alert_id,
        "dedupe_key": message.dedupe_key,
        "subject": message.subject,
        "text": message.text,
        "link": message.link,
        **message.extra,
    }


def send(contact: dict, message: Message, config: AlertsConfig) -> None:
    url = resolve_url(contact)
    body = json.dumps(payload(message), ensure_ascii=False).encode("utf-8")
    headers = {"Idempotency-Key": hashlib.sha256(message.dedupe_key.encode("utf-8")).hexdigest()[:32]} if message.dedupe_key else {}
    secret = resolve_secret(contact)
    if secret:
        ts = int(time.time())
        headers["X-Wzmon-Timestamp"] = str(ts)
        headers["X-Wzmon-Signature"] = signature(secret, ts, body)
    post_json("webhook", url, {}, config.http_timeout, headers=headers, body=body)
