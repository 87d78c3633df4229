"""Structured log lines: `WZMON_LOG_FORMAT=json` turns every log record into one JSON object per line.

Fields: ts (UTC, ISO 8601), level, logger, msg, pid, and whatever the caller passed in `extra=`
(poller, source_key, requests, new_items ...); exceptions as `exc`. The text format stays the
default for people at a terminal; JSON is for journald/Loki/ELK and for `jq`.
"""
from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timezone

FORMAT_ENV = "WZMON_LOG_FORMAT"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record; extra attributes are kept, unserialisable ones as their str()."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": record.process,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and key not in out:
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def log_format() -> str:
    value = (os.environ.get(FORMAT_ENV) or "text").strip().lower()
    if value not in ("text", "json"):
        raise ValueError(f"{FORMAT_ENV} must be 'text' or 'json', got {value!r}")
    return value


def apply_log_format(fmt: str | None = None, level: int | None = None) -> str:
    """Give every root handler the chosen format (adding a stderr handler if there is none); returns it."""
    fmt = fmt or log_format()
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    formatter: logging.Formatter = JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT)
    for handler in root.handlers:
        handler.setFormatter(formatter)
    if level is not None:
        root.setLevel(level)
    return fmt
