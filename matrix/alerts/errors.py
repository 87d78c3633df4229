"""Typed errors of the alerts package; none of their messages may carry a secret value."""
from __future__ import annotations


class AlertsError(Exception):
    """Base of every alerts problem a user can act on."""


class ContactError(AlertsError, ValueError):
    """A roster contact that cannot be used as written (bad channel, address or secret reference)."""


class SecretError(AlertsError):
    """A secret reference that cannot be resolved (env variable unset, file missing or inside the repo)."""


class AlertsConfigError(AlertsError):
    """The alerts configuration (env WZMON_* or the TOML file) is wrong; says which key and why."""


class DeliveryError(AlertsError):
    """One delivery attempt failed.

    `permanent` errors (malformed address, 4xx, a robot refusing the message) are not retried:
    retrying would fail the same way. Everything else (network, 5xx, rate limits, missing
    configuration that an operator can fix) is retried with backoff.
    """

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent
