"""DingTalk custom robot (钉钉自定义机器人): markdown message, optional 加签 HMAC-SHA256 signing.

Signing, as DingTalk documents it: string_to_sign = f"{timestamp_ms}\\n{secret}", HMAC-SHA256 keyed
with the secret, base64, URL-encoded, appended as `&timestamp=...&sign=...`. DingTalk refuses a
timestamp more than one hour from its clock. Limit: 20 messages per minute per robot (the sender
enforces it; errcode 130101 "send too fast" is retried).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import quote_plus

from matrix.alerts.channels.base import Message, post_json, resolve_secret, resolve_url, robot_reply
from matrix.alerts.config import AlertsConfig

RATE_LIMITED = (130101, 130102)


def sign(secret: str, timestamp_ms: int) -> str:
    """The DingTalk `sign` value (already URL-encoded) for timestamp_ms."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode("utf-8")
    digest = hmac.new(secret.encode("utf-8"), string_to_sign, hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))


def signed_url(url: str, secret: str | None, timestamp_ms: int | None = None) -> str:
    if not secret:
        return url
    ts = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    return f"{url}{'&' if '?' in url else '?'}timestamp={ts}&sign={sign(secret, ts)}"


def payload(message: Message) -> dict:
    return {"msgtype": "markdown", "markdown": {"title": message.subject[:60], "text": message.text.replace("\n", "\n\n")}}


def send(contact: dict, message: Message, config: AlertsConfig) -> None:
    url = resolve_url(contact)
    target = signed_url(url, resolve_secret(contact))
    reply = post_json("dingtalk", target, payload(message), config.http_timeout)
    robot_reply("dingtalk", url, reply, retry_codes=RATE_LIMITED)
