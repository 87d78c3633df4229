"""Roster contacts: parsing the `contacts` cell, validating each contact, redacting addresses.

Cell format: items `channel:address[#secret=env:NAME]` separated by
`;` (full-width `；` and new lines are accepted too, as are full-width colons after the channel).

    email:ops@police.yinchuan.gov.cn;
    dingtalk:https://oapi.dingtalk.com/robot/send?access_token=abc123#secret=env:DING_POLICE
    wecom:env:WECOM_POLICE_URL; feishu:https://open.feishu.cn/open-apis/bot/v2/hook/xxx#secret=file:/etc/wzmon/fs

A robot's address may itself be a reference (`env:NAME` / `file:/path` holding the webhook URL) so the
access token need not sit in the roster at all. The `secret` (robot signing key, webhook HMAC key) must
always be a reference: a value written inline is refused.
"""
from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from matrix.alerts import secrets
from matrix.alerts.errors import ContactError

CHANNELS = ("email", "dingtalk", "wecom", "feishu", "webhook")
SIGNED = {"dingtalk", "feishu", "webhook"}  # channels that can take a signing secret
_SEPARATORS = re.compile(r"[;；\n]+")
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
_TOKEN_PARAMS = {"access_token", "key", "token", "sign", "secret", "signature", "auth", "apikey", "api_key"}


def parse_contacts(cell: str | None) -> list[dict]:
    """Contacts of one roster cell as dicts {"channel", "address"[, "secret"]}; [] for an empty cell.

    Raises ContactError (a ValueError) saying which item is wrong and why; the message shows the
    address redacted, never a token or secret.
    """
    if cell is None:
        return []
    contacts: list[dict] = []
    items = [p.strip() for p in _SEPARATORS.split(str(cell)) if p.strip()]
    for n, item in enumerate(items, 1):
        channel, sep, rest = item.replace("：", ":", 1).partition(":")
        channel = channel.strip().lower()
        if not sep:
            raise ContactError(f"contact {n} ({_preview(item)}): write it as channel:address, e.g. email:ops@example.gov.cn")
        secret = None
        idx = rest.rfind("#secret=")
        if idx >= 0:
            rest, secret = rest[:idx], rest[idx + len("#secret="):].strip()
        contact: dict[str, Any] = {"channel": channel, "address": rest.strip()}
        if secret is not None:
            contact["secret"] = secret
        try:
            contacts.append(validate_contact(contact))
        except ContactError as exc:
            raise ContactError(f"contact {n}: {exc}") from None
    return contacts


def validate_contact(contact: Any) -> dict:
    """A clean copy of one contact dict, or ContactError saying what is wrong."""
    if not isinstance(contact, dict):
        raise ContactError(f"a contact must be a mapping with channel and address, got {type(contact).__name__}")
    channel = str(contact.get("channel") or "").strip().lower()
    address = str(contact.get("address") or "").strip()
    secret = contact.get("secret")
    if channel not in CHANNELS:
        raise ContactError(f"unknown channel {channel!r}: use one of {', '.join(CHANNELS)}")
    if not address:
        raise ContactError(f"{channel} contact has no address")
    shown = redact_address(channel, address)
    if secret is not None and str(secret).strip():
        secret = str(secret).strip()
        if not secrets.is_reference(secret):
            raise ContactError(
                f"{channel} contact {shown}: the secret is written inline; put it in an environment variable "
                "or a file outside the repository and write #secret=env:NAME or #secret=file:/path"
            )
        if channel not in SIGNED:
            raise ContactError(f"{channel} contact {shown}: {channel} takes no signing secret (remove #secret=...)")
    else:
        secret = None
    if channel == "email":
        if not _EMAIL.match(address):
            raise ContactError(f"email contact {shown}: not an email address like name@example.gov.cn")
    elif not secrets.is_reference(address):
        check_webhook_url(channel, address)
    out = {"channel": channel, "address": address}
    if secret:
        out["secret"] = secret
    return out


def check_webhook_url(channel: str, url: str) -> None:
    """Raise ContactError unless url is a usable webhook address for channel."""
    shown = redact_address(channel, url)
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise ContactError(f"{channel} contact {shown}: not a URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ContactError(f"{channel} contact {shown}: expected an https:// webhook URL")
    if parts.scheme == "http" and host not in _LOOPBACK:
        raise ContactError(f"{channel} contact {shown}: webhook URLs carry access tokens, use https://")
    query = dict(parse_qsl(parts.query))
    if channel == "dingtalk" and not query.get("access_token"):
        raise ContactError(f"dingtalk contact {shown}: the robot URL needs ?access_token=... (copy it from the robot settings)")
    if channel == "wecom" and not query.get("key"):
        raise ContactError(f"wecom contact {shown}: the robot URL needs ?key=... (copy it from the group robot)")
    if channel == "feishu" and not re.search(r"/hook/[^/]+$", parts.path):
        raise ContactError(f"feishu contact {shown}: expected .../open-apis/bot/v2/hook/<token>")


def redact_address(channel: str, address: str) -> str:
    """The address with access tokens cut to 4 characters: safe for the outbox, logs and pages."""
    address = (address or "").strip()
    if channel == "email" or secrets.is_reference(address):
        return address
    try:
        parts = urlsplit(address)
    except ValueError:
        return _preview(address)
    if not parts.scheme or not parts.netloc:
        return _preview(address)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    if parts.username or parts.password:
        netloc = "***@" + netloc
    path = parts.path
    m = re.search(r"(/hook/)([^/]+)$", path)
    if m:
        path = path[: m.start(2)] + _cut(m.group(2))
    # a display string, not a request URL: joined by hand so "…" stays readable
    query = "&".join(
        f"{k}={_cut(v) if k.lower() in _TOKEN_PARAMS or len(v) >= 16 else v}"
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    )
    return urlunsplit((parts.scheme, netloc, path, query, ""))


def contact_key(contact: dict) -> str:
    """Stable short fingerprint of (channel, address): names a contact (and a robot) without its token."""
    raw = f"{contact.get('channel', '')}|{str(contact.get('address', '')).strip()}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


def describe(contact: dict) -> str:
    """'dingtalk https://oapi.dingtalk.com/robot/send?access_token=abcd…' for messages and the CLI."""
    channel = str(contact.get("channel", "?"))
    return f"{channel} {redact_address(channel, str(contact.get('address', '')))}"


def _cut(token: str) -> str:
    if token.startswith("env:") or token.startswith("file:"):
        return token
    return token[:4] + "…" if len(token) > 4 else "…"


def _preview(text: str) -> str:
    """First characters of an unparseable item, enough to find it in the roster, cut before any token."""
    text = text.strip().split("?", 1)[0].split("#", 1)[0]
    return (text[:24] + "…") if len(text) > 24 else text
