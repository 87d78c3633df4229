"""Alerts configuration: a TOML file (path in WZMON_ALERTS_CONFIG) overlaid by WZMON_* variables.

File (every key optional; shown with its default):

    [alerts]
    board_url = "http://127.0.0.1:8501"        # base of case links: {board_url}/案件详情?case=ID
    quiet_hours = "22:00-08:00"                # local (Asia/Shanghai); "" = none. Held, not dropped
    working_days_only = true                   # hold case alerts and digests on rest days
    digest_hour = "09:00"                      # daily digest per account and for the office; "" = off
    office_levels = ["通报"]                    # levels copied to the office contacts
    office_contacts = "email:duban@example.gov.cn; dingtalk:https://...#secret=env:DING_OFFICE"
    route_alert_minutes = 60                   # a Weibo route closed this long: one office alert per episode
    max_attempts = 8                           # then the alert is 'dead'
    backoff_seconds = 60                       # retry n waits backoff * 2**(n-1), capped
    backoff_max_seconds = 3600
    lease_seconds = 300                        # a 'sending' row older than this is taken back
    http_timeout_seconds = 10
    post_chars = 80                            # post text trimmed to this many characters

    [alerts.rate_limits]                       # messages per minute per robot (per address)
    dingtalk = 20
    wecom = 20
    feishu = 100

    [alerts.smtp]
    host = "smtp.example.gov.cn"
    port = 587                                 # default 587 starttls, 465 ssl, 25 plain
    security = "starttls"                      # starttls | ssl | plain
    user = "wzmon@example.gov.cn"
    password = "env:WZMON_SMTP_PASSWORD"       # a reference (env:NAME / file:/path), never the value
    from = "问政监测 <wzmon@example.gov.cn>"
    ca_file = ""                               # extra CA bundle for a private mail server

Environment (beats the file): WZMON_BOARD_URL, WZMON_ALERTS_OFFICE (a contacts cell),
WZMON_SMTP_HOST, WZMON_SMTP_PORT, WZMON_SMTP_USER, WZMON_SMTP_PASSWORD (the value itself) or
WZMON_SMTP_PASSWORD_FILE (a path), WZMON_SMTP_STARTTLS=1 / WZMON_SMTP_SSL=1 (else plain when a host
is set by env), WZMON_SMTP_FROM, WZMON_SMTP_CA_FILE, WZMON_ALERTS_QUIET_HOURS,
WZMON_ALERTS_WORKING_DAYS_ONLY, WZMON_ALERTS_DIGEST_HOUR.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from matrix.alerts import secrets
from matrix.alerts.contacts import parse_contacts, validate_contact
from matrix.alerts.errors import AlertsConfigError, ContactError, SecretError

SECURITY = ("starttls", "ssl", "plain")
_DEFAULT_PORT = {"starttls": 587, "ssl": 465, "plain": 25}


@dataclass(frozen=True)
class SmtpConfig:
    host: str = ""
    port: int = 0
    security: str = "starttls"
    user: str = ""
    password_ref: str = ""  # env:NAME / file:/path; resolved at send time only
    sender: str = ""
    ca_file: str = ""
    timeout: float = 20.0

    def password(self) -> str:
        """The SMTP password (resolved now), '' when no user is set."""
        if not self.user:
            return ""
        if not self.password_ref:
            raise SecretError(f"SMTP user {self.user} has no password: set WZMON_SMTP_PASSWORD or WZMON_SMTP_PASSWORD_FILE")
        return secrets.resolve(self.password_ref, "SMTP password")


@dataclass(frozen=True)
class AlertsConfig:
    board_url: str = "http://127.0.0.1:8501"
    quiet_hours: tuple[int, int] | None = (22 * 60, 8 * 60)  # minutes after local midnight [start, end)
    working_days_only: bool = True
    digest_minute: int | None = 9 * 60
    office_levels: tuple[str, ...] = ("通报",)
    office_contacts: tuple[dict, ...] = ()
    route_alert_minutes: float = 60.0  # a Weibo route closed this long reaches the office (matrix.storage.route_health)
    max_attempts: int = 8
    backoff_seconds: float = 60.0
    backoff_max_seconds: float = 3600.0
    lease_seconds: float = 300.0
    http_timeout: float = 10.0
    post_chars: int = 80
    rate_limits: dict[str, int] = field(default_factory=lambda: {"dingtalk": 20, "wecom": 20, "feishu": 100})
    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    source: str = "defaults"

    def with_(self, **changes: Any) -> "AlertsConfig":
        return replace(self, **changes)

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the attempts-th failed attempt."""
        return min(self.backoff_seconds * (2 ** max(attempts - 1, 0)), self.backoff_max_seconds)


def parse_clock(text: str, key: str, source: str) -> int:
    try:
        hh, mm = str(text).strip().split(":")
        value = int(hh) * 60 + int(mm)
        if not (0 <= int(hh) <= 24 and 0 <= int(mm) < 60 and value <= 1440):
            raise ValueError
        return value
    except ValueError:
        raise AlertsConfigError(f"{source}: {key} = {text!r} is not a time like 09:00") from None


def parse_quiet_hours(text: str, source: str) -> tuple[int, int] | None:
    text = str(text or "").strip()
    if not text:
        return None
    start, sep, end = text.replace("–", "-").partition("-")
    if not sep:
        raise AlertsConfigError(f"{source}: quiet_hours = {text!r}: write it as 22:00-08:00 (or \"\" for none)")
    a, b = parse_clock(start, "quiet_hours", source), parse_clock(end, "quiet_hours", source)
    return None if a == b else (a, b)


def _bool(value: Any, key: str, source: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise AlertsConfigError(f"{source}: {key} = {value!r} is not true/false")


def _int(value: Any, key: str, source: str, minimum: float = 0) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise AlertsConfigError(f"{source}: {key} = {value!r} is not a whole number") from None
    if number < minimum:
        raise AlertsConfigError(f"{source}: {key} = {number} must be at least {minimum}")
    return number


def _float(value: Any, key: str, source: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise AlertsConfigError(f"{source}: {key} = {value!r} is not a number") from None
    if number <= 0:
        raise AlertsConfigError(f"{source}: {key} must be positive")
    return number


def load_config(path: str | os.PathLike | None = None, env: dict[str, str] | None = None) -> AlertsConfig:
    """The alerts config from path (else $WZMON_ALERTS_CONFIG, else defaults) with env overrides."""
    env = dict(os.environ if env is None else env)
    path = path or env.get("WZMON_ALERTS_CONFIG") or None
    data: dict[str, Any] = {}
    source = "defaults"
    if path:
        source = str(path)
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise AlertsConfigError(f"alerts config {path} does not exist (WZMON_ALERTS_CONFIG)") from None
        except tomllib.TOMLDecodeError as exc:
            raise AlertsConfigError(f"alerts config {path} is not valid TOML: {exc}") from None
        data = raw.get("alerts", raw)
        if not isinstance(data, dict):
            raise AlertsConfigError(f"{source}: [alerts] must be a table")
    cfg = AlertsConfig(source=source)
    changes: dict[str, Any] = {}
    known = {
        "board_url", "quiet_hours", "working_days_only", "digest_hour", "office_levels", "office_contacts",
        "max_attempts", "backoff_seconds", "backoff_max_seconds", "lease_seconds", "http_timeout_seconds",
        "post_chars", "rate_limits", "smtp", "route_alert_minutes",
    }
    unknown = sorted(set(data) - known)
    if unknown:
        raise AlertsConfigError(f"{source}: unknown key(s) {', '.join(unknown)} in [alerts] (known: {', '.join(sorted(known))})")

    board = env.get("WZMON_BOARD_URL") or data.get("board_url")
    if board:
        changes["board_url"] = str(board).rstrip("/")
    quiet = env.get("WZMON_ALERTS_QUIET_HOURS", data.get("quiet_hours"))
    if quiet is not None:
        changes["quiet_hours"] = parse_quiet_hours(quiet, source if "quiet_hours" in data else "WZMON_ALERTS_QUIET_HOURS")
    wdo = env.get("WZMON_ALERTS_WORKING_DAYS_ONLY", data.get("working_days_only"))
    if wdo is not None:
        changes["working_days_only"] = _bool(wdo, "working_days_only", source)
    digest = env.get("WZMON_ALERTS_DIGEST_HOUR", data.get("digest_hour"))
    if digest is not None:
        text = str(digest).strip()
        if text.isdigit():
            text = f"{int(text)}:00"
        changes["digest_minute"] = parse_clock(text, "digest_hour", source) if text else None
    if "office_levels" in data:
        levels = data["office_levels"]
        if not isinstance(levels, list) or not all(isinstance(x, str) for x in levels):
            raise AlertsConfigError(f"{source}: office_levels must be a list like [\"催办\", \"通报\"]")
        changes["office_levels"] = tuple(levels)
    office = env.get("WZMON_ALERTS_OFFICE", data.get("office_contacts"))
    if office:
        try:
            if isinstance(office, str):
                contacts = parse_contacts(office)
            elif isinstance(office, list):
                contacts = [validate_contact(c) for c in office]
            else:
                raise ContactError("write office_contacts as a contacts cell or a list of {channel, address, secret}")
        except ContactError as exc:
            raise AlertsConfigError(f"{source}: office_contacts: {exc}") from None
        changes["office_contacts"] = tuple(contacts)
    for key, attr in (("max_attempts", "max_attempts"), ("post_chars", "post_chars")):
        if key in data:
            changes[attr] = _int(data[key], key, source, 1)
    for key, attr in (
        ("backoff_seconds", "backoff_seconds"),
        ("backoff_max_seconds", "backoff_max_seconds"),
        ("lease_seconds", "lease_seconds"),
        ("http_timeout_seconds", "http_timeout"),
        ("route_alert_minutes", "route_alert_minutes"),
    ):
        if key in data:
            changes[attr] = _float(data[key], key, source)
    if "rate_limits" in data:
        limits = dict(cfg.rate_limits)
        if not isinstance(data["rate_limits"], dict):
            raise AlertsConfigError(f"{source}: [alerts.rate_limits] must be a table like dingtalk = 20")
        for channel, value in data["rate_limits"].items():
            limits[channel] = _int(value, f"rate_limits.{channel}", source, 0)
        changes["rate_limits"] = limits
    changes["smtp"] = _smtp(data.get("smtp") or {}, env, source)
    cfg = replace(cfg, **changes)
    if cfg.lease_seconds <= max(cfg.http_timeout, cfg.smtp.timeout) * 2:
        raise AlertsConfigError(f"{source}: lease_seconds must be well above the send timeouts (at least twice)")
    return cfg


def _smtp(data: dict, env: dict[str, str], source: str) -> SmtpConfig:
    if not isinstance(data, dict):
        raise AlertsConfigError(f"{source}: [alerts.smtp] must be a table")
    unknown = sorted(set(data) - {"host", "port", "security", "user", "password", "password_file", "from", "ca_file", "timeout"})
    if unknown:
        raise AlertsConfigError(f"{source}: unknown key(s) {', '.join(unknown)} in [alerts.smtp]")
    security = str(data.get("security", "starttls")).lower()
    if env.get("WZMON_SMTP_SSL") and _bool(env["WZMON_SMTP_SSL"], "WZMON_SMTP_SSL", "env"):
        security = "ssl"
    elif env.get("WZMON_SMTP_STARTTLS") is not None and env.get("WZMON_SMTP_STARTTLS") != "":
        security = "starttls" if _bool(env["WZMON_SMTP_STARTTLS"], "WZMON_SMTP_STARTTLS", "env") else "plain"
    elif env.get("WZMON_SMTP_HOST") and "security" not in data:
        security = "plain"
    if security not in SECURITY:
        raise AlertsConfigError(f"{source}: smtp.security = {security!r}: use starttls, ssl or plain")
    password_ref = ""
    if env.get("WZMON_SMTP_PASSWORD"):
        password_ref = "env:WZMON_SMTP_PASSWORD"
    elif env.get("WZMON_SMTP_PASSWORD_FILE"):
        password_ref = "file:" + env["WZMON_SMTP_PASSWORD_FILE"]
    elif data.get("password"):
        password_ref = str(data["password"])
        if not secrets.is_reference(password_ref):
            raise AlertsConfigError(
                f"{source}: smtp.password must be a reference (env:NAME or file:/path), not the password itself"
            )
    elif data.get("password_file"):
        password_ref = "file:" + str(data["password_file"])
    host = env.get("WZMON_SMTP_HOST") or str(data.get("host", ""))
    port_value = env.get("WZMON_SMTP_PORT") or data.get("port") or _DEFAULT_PORT[security]
    port = _int(port_value, "smtp.port", source, 1)
    timeout = _float(data.get("timeout", 20), "smtp.timeout", source)
    return SmtpConfig(
        host=host,
        port=port,
        security=security,
        user=env.get("WZMON_SMTP_USER") or str(data.get("user", "")),
        password_ref=password_ref,
        sender=env.get("WZMON_SMTP_FROM") or str(data.get("from", "")),
        ca_file=env.get("WZMON_SMTP_CA_FILE") or str(data.get("ca_file", "")),
        timeout=timeout,
    )
