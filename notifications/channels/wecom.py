"""企业微信 group robot: one markdown message per delivery.

`POST <WECOM_WEBHOOK_BASE>?key=…` with `{"msgtype": "markdown", "markdown": {"content": …}}`. The content may hold
4,096 bytes of UTF-8; a longer digest is cut at a line (never inside a character, which would have the whole
message refused) and ends with "……". Errors come back with HTTP 200 and an `errcode`: 45009 is the 20-a-minute
limit (the robot waits a minute), 93000 an invalid webhook URL (the robot is disabled until the office fixes it).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from notifications import crypto
from notifications.models import Channel, Delivery

from . import Outcome
from .http import Platform, cut_utf8, post_json, read_answer

NO_WEBHOOK = "机器人未设置 Webhook 地址：请作风办填写。"
MARKDOWN_MAX_BYTES = 4096
RATE_LIMITED = 45009
INVALID_WEBHOOK = 93000

WECOM = Platform(
    name="企业微信",
    rate_limited={RATE_LIMITED: 60},
    permanent={
        INVALID_WEBHOOK: "企业微信机器人 Webhook 地址无效（机器人可能已被移出群聊或删除，errcode {code}）："
                         "请作风办重新填写 Webhook 地址",
    },
)


def payload(delivery: Delivery) -> dict[str, Any]:
    return {"msgtype": "markdown", "markdown": {"content": cut_utf8(delivery.body, MARKDOWN_MAX_BYTES)}}


class WecomSender:
    code = Channel.WECOM.value

    def send(self, delivery: Delivery) -> Outcome:
        robot = delivery.robot
        if robot is None:
            return Outcome(ok=False, permanent=True, error="机器人已删除。")
        if robot.kind != self.code:
            return Outcome(ok=False, permanent=True, error="机器人类型与发送渠道不符（不是企业微信机器人）。")
        try:
            url = crypto.decrypt(robot.webhook_encrypted)
        except ValueError as exc:
            return Outcome(ok=False, permanent=True, disable_robot=True, error=str(exc))
        if not url:
            return Outcome(ok=False, permanent=True, disable_robot=True, error=NO_WEBHOOK)
        keys = tuple(parse_qs(urlsplit(url).query).get("key", []))
        return read_answer(WECOM, post_json(url, payload(delivery)), hide=keys)
