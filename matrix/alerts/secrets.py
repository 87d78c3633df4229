"""Secret references (`env:NAME`, `file:/path`) and scrubbing of secret values from text and logs.

Secrets are resolved only at delivery time and never stored: the roster and the alerts config hold
references, the outbox holds redacted addresses. Every value resolved here is remembered (in this
process only) so `scrub()` and the log filter can blank it out of error messages and log lines.
"""
from __future__ import annotations

import logging
import os
import re
import threading
from pathlib import Path

from matrix.alerts.errors import SecretError

REF_RE = re.compile(r"^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$")
REDACTED = "***"
_REPO_ROOT = Path(__file__).resolve().parents[2]

_known: set[str] = set()
_lock = threading.Lock()


def is_reference(value: str) -> bool:
    """True for `env:NAME` or `file:/abs/path`."""
    return bool(REF_RE.match(value.strip()))


def remember(value: str) -> None:
    """Treat value as a secret from now on: scrub() and the log filter blank it out."""
    if value and len(value) >= 4:
        with _lock:
            _known.add(value)


def scrub(text: str, extra: tuple[str, ...] | list[str] = ()) -> str:
    """text with every known secret value (and extra ones) replaced by ***."""
    if not text:
        return text
    with _lock:
        values = sorted(set(_known) | {v for v in extra if v and len(v) >= 4}, key=len, reverse=True)
    for value in values:
        if value in text:
            text = text.replace(value, REDACTED)
    return text


def resolve(ref: str, what: str = "secret") -> str:
    """The value behind `env:NAME` or `file:/path` (file content stripped of surrounding whitespace).

    Raises SecretError naming the reference (never the value) when it cannot be read.
    """
    ref = (ref or "").strip()
    if ref.startswith("env:"):
        name = ref[4:]
        value = os.environ.get(name)
        if not value:
            raise SecretError(f"{what}: environment variable {name} is not set (referenced as {ref})")
    elif ref.startswith("file:"):
        path = Path(ref[5:]).expanduser()
        if not path.is_absolute():
            raise SecretError(f"{what}: secret file must be an absolute path, got {ref}")
        resolved = path.resolve()
        if resolved == _REPO_ROOT or _REPO_ROOT in resolved.parents:
            raise SecretError(f"{what}: secret file {path} is inside the wzmon repository; keep secrets outside it")
        try:
            value = resolved.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise SecretError(f"{what}: secret file {path} does not exist") from None
        except OSError as exc:
            raise SecretError(f"{what}: cannot read secret file {path}: {exc.strerror}") from None
        if not value:
            raise SecretError(f"{what}: secret file {path} is empty")
    else:
        raise SecretError(f"{what}: expected a reference like env:NAME or file:/path")
    remember(value)
    return value


class ScrubFilter(logging.Filter):
    """Blanks known secrets out of log records (httpx logs full request URLs at INFO)."""

    def filter(self, record: logging.LogRecord) -> bool:
        with _lock:
            empty = not _known
        if empty:
            return True
        message = record.getMessage()
        clean = scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


_FILTER = ScrubFilter()


def install_log_filter() -> None:
    """Attach the scrub filter to the loggers that may print URLs or payloads (idempotent)."""
    for name in ("httpx", "httpcore", "matrix.alerts", "smtplib"):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
