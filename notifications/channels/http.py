"""What the two group-robot channels share: one JSON POST with the standard library, cutting text to a byte limit
without splitting a character, and reading the platforms' answers into an `Outcome`.

Both platforms answer errors with HTTP 200 and an `errcode` in the body, so the body is always read. A webhook URL
is the robot's whole credential: nothing here puts it (or any part of its query) in an error message, and redirects
are not followed (a POST carrying the message must not be sent on to another host).
"""

from __future__ import annotations

import http.client
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from . import Outcome

ELLIPSIS = "……"
# An answer of this many bytes is enough for an errcode and errmsg; a larger one is not a robot's answer.
MAX_ANSWER_BYTES = 64 * 1024


@dataclass(frozen=True)
class Answer:
    """The platform's answer: the HTTP status (0 when none came), the JSON object it sent, or what went wrong."""

    status: int
    data: dict[str, Any] | None = None
    failure: str = ""  # the transport failure in Chinese (timeout, refused connection), when status is 0
    # The request was sent in full before the failure (no answer came): the platform may have the message.
    sent: bool = False


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx answer itself is returned as an HTTPError


_opener = urllib.request.build_opener(_NoRedirect())


def post_json(url: str, payload: Mapping[str, Any], *, timeout: float | None = None) -> Answer:
    """POST `payload` as UTF-8 JSON; never raises for network trouble (it is in the answer)."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    wait = settings.ROBOT_TIMEOUT_SECONDS if timeout is None else timeout
    try:
        with _opener.open(request, timeout=wait) as response:
            return Answer(status=response.status, data=_json(response.read(MAX_ANSWER_BYTES)))
    except urllib.error.HTTPError as exc:
        try:
            data = _json(exc.read(MAX_ANSWER_BYTES))
        except OSError:
            data = None
        finally:
            exc.close()
        return Answer(status=exc.code, data=data)
    except urllib.error.URLError as exc:
        # urllib wraps what fails while connecting and sending the request: the platform has nothing.
        return Answer(status=0, failure=_transport(exc.reason, wait))
    except ValueError as exc:  # a URL urllib cannot use
        return Answer(status=0, failure=_transport(exc, wait))
    except (TimeoutError, OSError, http.client.HTTPException) as exc:
        # Raised while waiting for or reading the answer: the request went out in full.
        return Answer(status=0, failure=_transport(exc, wait), sent=True)


def _json(raw: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _transport(reason: object, wait: float) -> str:
    if isinstance(reason, TimeoutError):
        return f"等待超时（超过 {wait:g} 秒无应答）"
    if isinstance(reason, ConnectionRefusedError):
        return "连接被拒绝"
    if isinstance(reason, socket.gaierror):
        return "无法解析服务器地址"
    if isinstance(reason, ConnectionResetError):
        return "连接被重置"
    if isinstance(reason, http.client.HTTPException):
        return "应答不完整或无法解析"
    # Other socket errors say only their kind: their text may name the address.
    return f"网络错误（{type(reason).__name__}）"


def cut_utf8(text: str, limit: int, *, marker: str = ELLIPSIS) -> str:
    """`text` within `limit` bytes of UTF-8, never splitting a character: cut at the last line break that keeps at
    least half of the room (a line otherwise), then `marker` added."""
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    room = limit - len(marker.encode("utf-8"))
    if room <= 0:
        return ""
    # Bytes past `room` may end inside a character: decoding drops that incomplete tail, and only it.
    head = raw[:room].decode("utf-8", errors="ignore")
    line_end = head.rfind("\n")
    if line_end >= 0 and len(head[: line_end + 1].encode("utf-8")) >= room // 2:
        head = head[: line_end + 1]
    return head + marker


@dataclass(frozen=True)
class Platform:
    """How one platform's answers read: its name, its rate-limit and permanent errcodes."""

    name: str
    rate_limited: Mapping[int, float]  # errcode → seconds the platform blocks the robot
    permanent: Mapping[int, str]  # errcode → what the office is told, in Chinese ("{code}" is the errcode)
    busy: frozenset[int] = frozenset({-1})  # 系统繁忙: try again later


def read_answer(platform: Platform, answer: Answer, *, hide: tuple[str, ...] = ()) -> Outcome:
    """The answer as an Outcome. `hide`: credentials to blank out should the platform's errmsg repeat them."""
    name = platform.name
    if answer.status == 0 and answer.sent:
        return Outcome(ok=False, unknown=True, error=(
            f"{name}机器人未应答：{answer.failure}。消息可能已送达群聊，为免重复未自动重发；"
            "请在群聊中确认，需要时在发送记录中手动重发。"))
    if answer.status == 0:
        return Outcome(ok=False, error=f"{name}机器人发送失败：{answer.failure}，稍后自动重试。")
    if answer.status == 404:
        return Outcome(
            ok=False, permanent=True, disable_robot=True,
            error=f"{name}机器人地址不存在（HTTP 404）：请作风办核对 Webhook 地址后重新填写。",
        )
    if answer.status == 429:
        return Outcome(ok=False, retry_after=60, suspend_seconds=60,
                       error=f"{name}机器人发送过于频繁（HTTP 429），暂停发送 1 分钟后自动重试。")
    if answer.status >= 500:
        return Outcome(ok=False, error=f"{name}服务器暂时不可用（HTTP {answer.status}），稍后自动重试。")
    if answer.status != 200:
        return Outcome(ok=False, error=f"{name}服务器返回 HTTP {answer.status}，稍后自动重试。")
    if answer.data is None or "errcode" not in answer.data:
        return Outcome(ok=False, error=f"{name}服务器的应答无法识别（不是预期的 JSON），稍后自动重试。")
    try:
        code = int(answer.data["errcode"])
    except (TypeError, ValueError):
        return Outcome(ok=False, error=f"{name}服务器的应答无法识别（errcode 不是数字），稍后自动重试。")
    if code == 0:
        return Outcome(ok=True)
    message = str(answer.data.get("errmsg", ""))
    for secret in hide:
        if secret:
            message = message.replace(secret, "••••••")
    message = message[:120]
    if code in platform.rate_limited:
        seconds = platform.rate_limited[code]
        return Outcome(
            ok=False, retry_after=seconds, suspend_seconds=seconds,
            error=f"{name}机器人发送过于频繁（errcode {code}），平台限流，暂停发送 {seconds / 60:g} 分钟后自动重试。",
        )
    if code in platform.permanent:
        return Outcome(ok=False, permanent=True, disable_robot=True, error=platform.permanent[code].format(code=code))
    if code in platform.busy:
        return Outcome(ok=False, error=f"{name}服务器繁忙（errcode {code}），稍后自动重试。")
    # Any other errcode refuses this message as it stands (its content or form): sending it again would not help.
    return Outcome(ok=False, permanent=True, error=f"{name}拒收该消息（errcode {code}：{message}）。")
