"""What every channel shares: the message, resolving the target URL, posting JSON safely."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx

from matrix.alerts import secrets
from matrix.alerts.contacts import check_webhook_url, redact_address
from matrix.alerts.errors import ContactError, DeliveryError, SecretError

secrets.install_log_filter()

_CLIENT: httpx.Client | None = None
_CLIENT_LOCK = threading.Lock()


def _client() -> httpx.Client:
    """One pooled client per process: building one loads the CA bundle (~0.15 s), too slow per message."""
    global _CLIENT
    with _CLIENT_LOCK:
        if _CLIENT is None:
            _CLIENT = httpx.Client(follow_redirects=False)
        return _CLIENT


@dataclass(frozen=True)
class Message:
    """One alert as channels see it: a subject line and a short plain-text body (Chinese)."""

    subject: str
    text: str
    alert_id: int | None = None
    dedupe_key: str = ""
    link: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def resolve_url(contact: dict) -> str:
    """The webhook URL of a robot contact, resolving an `env:`/`file:` address; validated again."""
    channel, address = contact["channel"], str(contact["address"]).strip()
    try:
        if secrets.is_reference(address):
            address = secrets.resolve(address, f"{channel} webhook address")
        check_webhook_url(channel, address)
    except SecretError as exc:
        raise DeliveryError(str(exc)) from None
    except ContactError as exc:
        raise DeliveryError(str(exc), permanent=True) from None
    for token in _tokens(address):
        secrets.remember(token)
    return address


def resolve_secret(contact: dict) -> str | None:
    """The signing secret of a contact, or None when it has none."""
    ref = contact.get("secret")
    if not ref:
        return None
    try:
        return secrets.resolve(ref, f"{contact['channel']} signing secret")
    except SecretError as exc:
        raise DeliveryError(str(exc)) from None


def post_json(channel: str, url: str, payload: dict, timeout: float, headers: dict | None = None,
              body: bytes | None = None) -> Any:
    """POST payload as JSON; the parsed JSON reply (or None). Raises DeliveryError without secrets.

    408/429/5xx and network errors are retryable; any other 4xx is permanent (the address is wrong).
    """
    shown = redact_address(channel, url)
    data = body if body is not None else json.dumps(payload, ensure_ascii=False).encode("utf-8")
    hdrs = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "wzmon-alerts"}
    hdrs.update(headers or {})
    try:
        response = _client().post(url, content=data, headers=hdrs, timeout=timeout)
    except httpx.TimeoutException:
        raise DeliveryError(f"{channel} {shown}: no answer within {timeout:g}s") from None
    except httpx.HTTPError as exc:
        reason = secrets.scrub(str(exc), _tokens(url)) or exc.__class__.__name__
        raise DeliveryError(f"{channel} {shown}: cannot connect ({reason})") from None
    status = response.status_code
    snippet = secrets.scrub(response.text[:200].strip(), _tokens(url))
    if status in (408, 429) or status >= 500:
        raise DeliveryError(f"{channel} {shown}: HTTP {status} {snippet}".strip())
    if status >= 300:
        raise DeliveryError(f"{channel} {shown}: HTTP {status} {snippet}".strip(), permanent=True)
    try:
        return response.json() if response.content else None
    except ValueError:
        return None


def _tokens(url: str) -> list[str]:
    """The token-like parts of a webhook URL (query values, hook path segment) to scrub from text."""
    from urllib.parse import parse_qsl, urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    found = [v for _k, v in parse_qsl(parts.query) if len(v) >= 8]
    last = parts.path.rstrip("/").rsplit("/", 1)[-1]
    if "/hook/" in parts.path and last:
        found.append(last)
    return found


def robot_reply(channel: str, url: str, reply: Any, ok_codes: tuple = (0,), retry_codes: tuple = ()) -> None:
    """Raise DeliveryError when a robot answered 200 but refused the message (errcode/code != 0)."""
    if not isinstance(reply, dict):
        return
    code = reply.get("errcode", reply.get("code", reply.get("StatusCode", 0)))
    if code in ok_codes:
        return
    msg = reply.get("errmsg") or reply.get("msg") or reply.get("StatusMessage") or ""
    text = secrets.scrub(f"{channel} {redact_address(channel, url)}: robot refused the message: {code} {msg}".strip(), _tokens(url))
    raise DeliveryError(text, permanent=code not in retry_codes)
