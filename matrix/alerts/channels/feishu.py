"""Feishu/Lark custom bot (飞书自定义机器人): text message, optional signature.

Feishu's signing differs from DingTalk's: string_to_sign = f"{timestamp_s}\\n{secret}" is the HMAC
*key* and the message is empty; base64 of the digest goes in the JSON body with the timestamp
(seconds). Feishu refuses timestamps more than one hour off. Code 11232 (frequency limited) is retried.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import time

from matrix.alerts.channels.base import Message, post_json, resolve_secret, resolve_url, robot_reply
from matrix.alerts.config import AlertsConfig

RETRY = (11232, 9499)


def sign(secret: str, timestamp_s: int) -> str:
    key = f"{timestamp_s}\n{secret}".encode("utf-8")
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


def payload(message: Message, secret: str | None, timestamp_s: int | None = None) -> dict:
    body: dict = {"msg_type": "text", "content": {"text": message.text}}
    if secret:
        ts = int(time.time()) if timestamp_s is None else timestamp_s
        body["timestamp"] = str(ts)
        body["sign"] = sign(secret, ts)
    return body


def send(contact: dict, message: Message, config: AlertsConfig) -> None:
    url = resolve_url(contact)
    reply = post_json("feishu", url, payload(message, resolve_secret(contact)), config.http_timeout)
    robot_reply("feishu", url, reply, retry_codes=RETRY)
