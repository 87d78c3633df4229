"""Email over SMTP: plain, STARTTLS or SSL; login with the configured user and secret password.

The Message-ID is derived from the alert's dedupe key, so in the rare case a retry repeats a message
the server already accepted, mail systems can still tell it is the same alert.
"""
from __future__ import annotations

import hashlib
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from matrix.alerts import secrets
from matrix.alerts.channels.base import Message
from matrix.alerts.config import AlertsConfig, SmtpConfig
from matrix.alerts.contacts import _EMAIL
from matrix.alerts.errors import DeliveryError, SecretError

# Mailbox unknown / not allowed / syntax: retrying cannot help. Other 5xx (auth required, policy) often
# come from configuration an operator fixes, so they are retried until max_attempts.
PERMANENT_CODES = (501, 550, 551, 553)


def build(message: Message, to: str, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = message.subject
    msg["From"] = sender
    msg["To"] = to
    msg["Date"] = formatdate(localtime=False)
    digest = hashlib.sha256((message.dedupe_key or message.subject).encode("utf-8")).hexdigest()[:24]
    domain = parseaddr(sender)[1].rpartition("@")[2] or "wzmon.local"
    msg["Message-ID"] = f"<wzmon.{message.alert_id or 0}.{digest}@{domain}>"
    if message.alert_id is not None:
        msg["X-Wzmon-Alert-Id"] = str(message.alert_id)
    msg.set_content(message.text, charset="utf-8")
    return msg


def _tls_context(cfg: SmtpConfig) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if cfg.ca_file:
        try:
            context.load_verify_locations(cfg.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise DeliveryError(f"SMTP CA file {cfg.ca_file} cannot be loaded: {exc}") from None
    return context


def send(contact: dict, message: Message, config: AlertsConfig) -> None:
    cfg = config.smtp
    to = str(contact["address"]).strip()
    if not _EMAIL.match(to):
        raise DeliveryError(f"email {to}: not an email address", permanent=True)
    if not cfg.host:
        raise DeliveryError("email: no SMTP server configured (set WZMON_SMTP_HOST or [alerts.smtp] host)")
    sender = cfg.sender or cfg.user
    if not sender:
        raise DeliveryError("email: no sender address configured (set WZMON_SMTP_FROM or [alerts.smtp] from)")
    try:
        password = cfg.password()
    except SecretError as exc:
        raise DeliveryError(f"email: {exc}") from None
    where = f"{cfg.host}:{cfg.port} ({cfg.security})"
    try:
        if cfg.security == "ssl":
            server: smtplib.SMTP = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=_tls_context(cfg))
        else:
            server = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
        with server:
            server.ehlo()
            if cfg.security == "starttls":
                server.starttls(context=_tls_context(cfg))
                server.ehlo()
            if cfg.user:
                server.login(cfg.user, password)
            refused = server.send_message(build(message, to, sender), from_addr=parseaddr(sender)[1] or sender, to_addrs=[to])
        if refused:
            code, reason = refused.get(to, (0, b""))
            raise DeliveryError(f"email {to}: refused by {where}: {code} {_text(reason)}", permanent=code in PERMANENT_CODES)
    except DeliveryError:
        raise
    except smtplib.SMTPRecipientsRefused as exc:
        code, reason = next(iter(exc.recipients.values()), (0, b""))
        raise DeliveryError(f"email {to}: recipient refused by {where}: {code} {_text(reason)}", permanent=code in PERMANENT_CODES) from None
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"email: SMTP login as {cfg.user} refused by {where}: {exc.smtp_code} {_text(exc.smtp_error)}") from None
    except smtplib.SMTPNotSupportedError as exc:
        raise DeliveryError(f"email: {where} does not support this: {_scrub(str(exc), password)}") from None
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"email {to}: {where} answered {exc.smtp_code} {_scrub(_text(exc.smtp_error), password)}",
                            permanent=exc.smtp_code in PERMANENT_CODES) from None
    except smtplib.SMTPException as exc:
        raise DeliveryError(f"email {to}: SMTP error at {where}: {_scrub(str(exc), password)}") from None
    except ssl.SSLError as exc:
        raise DeliveryError(f"email: TLS with {where} failed: {exc.reason or exc}") from None
    except (socket.timeout, TimeoutError):
        raise DeliveryError(f"email: {where} did not answer within {cfg.timeout:g}s") from None
    except OSError as exc:
        raise DeliveryError(f"email: cannot connect to {where}: {exc.strerror or exc}") from None


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _scrub(text: str, password: str) -> str:
    return secrets.scrub(text, [password] if password else [])
