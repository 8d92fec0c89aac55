"""钉钉 custom robot: one markdown message per delivery, signed when the robot has a signing secret.

`POST <DINGTALK_WEBHOOK_BASE>?access_token=…[&timestamp=…&sign=…]` with
`{"msgtype": "markdown", "markdown": {"title": …, "text": …}, "at": {…}}`. Signing: the timestamp in milliseconds,
`sign = urlencode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")))`; the platform refuses a timestamp
more than an hour off. A robot secured by keyword refuses a message without it: the keyword is put in front of a
text that lacks it.

钉钉 publishes no byte limit for markdown text. The text is kept within 20,000 bytes of UTF-8 (cut at a line, never
inside a character): far more than a digest needs (it lists at most 30 items), and what other robot platforms take
(飞书 caps a body at 20 KB), so a runaway body is cut by us instead of being refused as a whole.

Errors come back with HTTP 200 and an `errcode`: 130101 is the 20-a-minute limit (the platform then blocks the robot
for 10 minutes), 310000 a failed keyword, signature or IP check, 300001/300005 an access token that does not exist
(both disable the robot until the office fixes it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlsplit

from notifications import crypto
from notifications.models import Channel, Delivery

from . import Outcome
from .http import Platform, cut_utf8, post_json, read_answer

NO_WEBHOOK = "机器人未设置 Webhook 地址：请作风办填写。"
MARKDOWN_MAX_BYTES = 20_000
RATE_LIMITED = 130101
SECURITY_CHECK_FAILED = 310000
DEFAULT_TITLE = "整改台账"

_NO_TOKEN = "钉钉机器人 Webhook 地址无效（access_token 不存在，errcode {code}）：请作风办重新填写 Webhook 地址"
DINGTALK = Platform(
    name="钉钉",
    rate_limited={RATE_LIMITED: 600},
    permanent={
        SECURITY_CHECK_FAILED: "钉钉机器人安全设置校验失败（关键词、加签或IP白名单，errcode {code}）："
                               "请作风办检查机器人设置",
        300001: _NO_TOKEN,
        300005: _NO_TOKEN,
    },
)


def sign(secret: str, timestamp_ms: int) -> str:
    """The `sign` parameter, already URL-encoded."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode("ascii"))


def signed_url(url: str, secret: str, *, timestamp_ms: int | None = None) -> str:
    if not secret:
        return url
    ts = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    return f"{url}{'&' if '?' in url else '?'}timestamp={ts}&sign={sign(secret, ts)}"


def text_for(body: str, keyword: str) -> str:
    """The markdown text within the limit, with the keyword in it (in front, when the body lacks it)."""
    text = cut_utf8(body, MARKDOWN_MAX_BYTES)
    if not keyword or keyword in text:
        return text
    head = f"{keyword}\n\n"
    return head + cut_utf8(body, MARKDOWN_MAX_BYTES - len(head.encode("utf-8")))


def payload(delivery: Delivery, keyword: str) -> dict[str, Any]:
    return {
        "msgtype": "markdown",
        "markdown": {"title": delivery.subject or DEFAULT_TITLE, "text": text_for(delivery.body, keyword)},
        "at": {"atMobiles": [], "isAtAll": False},
    }


class DingtalkSender:
    code = Channel.DINGTALK.value

    def send(self, delivery: Delivery) -> Outcome:
        robot = delivery.robot
        if robot is None:
            return Outcome(ok=False, permanent=True, error="机器人已删除。")
        if robot.kind != self.code:
            return Outcome(ok=False, permanent=True, error="机器人类型与发送渠道不符（不是钉钉机器人）。")
        try:
            url = crypto.decrypt(robot.webhook_encrypted)
            secret = crypto.decrypt(robot.secret_encrypted)
        except ValueError as exc:
            return Outcome(ok=False, permanent=True, disable_robot=True, error=str(exc))
        if not url:
            return Outcome(ok=False, permanent=True, disable_robot=True, error=NO_WEBHOOK)
        hide = (*parse_qs(urlsplit(url).query).get("access_token", []), secret)
        answer = post_json(signed_url(url, secret), payload(delivery, robot.keyword))
        return read_answer(DINGTALK, answer, hide=hide)
