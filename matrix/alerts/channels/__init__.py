"""Delivery channels: one module each, all with `send(contact, message, config) -> None`.

`contact` is a validated roster contact (references unresolved); each channel resolves its secrets
at send time and raises `DeliveryError` (permanent or retryable) with a message free of secrets.
"""
from __future__ import annotations

from typing import Callable

from matrix.alerts.channels import dingtalk, email, feishu, webhook, wecom
from matrix.alerts.channels.base import Message
from matrix.alerts.config import AlertsConfig

Sender = Callable[[dict, Message, AlertsConfig], None]

SENDERS: dict[str, Sender] = {
    "email": email.send,
    "dingtalk": dingtalk.send,
    "wecom": wecom.send,
    "feishu": feishu.send,
    "webhook": webhook.send,
}

__all__ = ["Message", "SENDERS", "Sender"]
