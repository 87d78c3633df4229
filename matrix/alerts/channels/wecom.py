"""WeCom group robot (企业微信群机器人): markdown message to `.../webhook/send?key=...`.

No signing: the key in the URL is the credential. Limit 20 messages per minute per robot; errcode
45009 (frequency limit) and -1 (busy) are retried, other refusals are permanent.
"""
from __future__ import annotations

from matrix.alerts.channels.base import Message, post_json, resolve_url, robot_reply
from matrix.alerts.config import AlertsConfig

RETRY = (45009, -1)
MAX_BYTES = 4096


def payload(message: Message) -> dict:
    content = message.text
    while len(content.encode("utf-8")) > MAX_BYTES:
        content = content[: int(len(content) * 0.9)] + "…"
    return {"msgtype": "markdown", "markdown": {"content": content}}


def send(contact: dict, message: Message, config: AlertsConfig) -> None:
    url = resolve_url(contact)
    reply = post_json("wecom", url, payload(message), config.http_timeout)
    robot_reply("wecom", url, reply, retry_codes=RETRY)
