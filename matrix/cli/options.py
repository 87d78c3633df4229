"""Options and helpers every `wzmon` command module shares: the policy file, the --now time."""
from __future__ import annotations

import os
from datetime import datetime

import click

from matrix.timeutil import as_utc, utcnow


def load_policy_or_fail(path: str | None):  # noqa: ANN201 - Policy
    from matrix.rules.policy import PolicyError, load_policy

    try:
        return load_policy(path or os.environ.get("WZMON_POLICY") or None)
    except PolicyError as exc:
        raise click.ClickException(str(exc)) from exc
    except FileNotFoundError as exc:
        raise click.ClickException(f"policy file {path} does not exist") from exc


def parse_when(value: str | None) -> datetime:
    """--now: ISO 8601; a value without an offset is read as Asia/Shanghai time."""
    if not value:
        return utcnow()
    from matrix.timeutil import SHANGHAI

    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a time like 2026-11-20T17:30 or 2026-11-20T17:30+08:00") from None
    return as_utc(t if t.tzinfo else t.replace(tzinfo=SHANGHAI))


policy_option = click.option("--policy", "policy_path", metavar="FILE", envvar="WZMON_POLICY",
                             help="Policy TOML (default: the shipped default policy; env WZMON_POLICY).")
