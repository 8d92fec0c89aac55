"""企业微信 and 钉钉 group robots played on 127.0.0.1, for the robot channels' tests.

The server checks what the platforms check and answers the way they answer (errors with HTTP 200 and an
`errcode`):

- the body is valid UTF-8 JSON;
- 企业微信 (`/cgi-bin/webhook/send?key=…`): a known key (else 93000); markdown content at most 4,096 bytes, text
  content at most 2,048 (else 40058);
- 钉钉 (`/robot/send?access_token=…`): a known token (else 300001); for a robot with a secret, a timestamp within
  an hour and the HMAC-SHA256 signature of f"{timestamp}\\n{secret}" (else 310000); for a robot with keywords, one
  of them in the text (else 310000); markdown text at most 20,000 bytes;
- any other path: HTTP 404.

It records every request and every message it accepted, and can be told to answer the next N requests with a rate
limit (45009 / 130101), a permanent error (93000 / 310000), HTTP 500 or HTTP 404, or to sleep before answering.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

WECOM_PATH = "/cgi-bin/webhook/send"
DINGTALK_PATH = "/robot/send"
WECOM_MARKDOWN_MAX = 4096
WECOM_TEXT_MAX = 2048
DINGTALK_MARKDOWN_MAX = 20_000
HOUR_MS = 3600 * 1000


@dataclass
class Message:
    kind: str  # "wecom" | "dingtalk"
    robot: str  # the key or access token
    payload: dict[str, Any]
    query: dict[str, str]

    @property
    def text(self) -> str:
        body = self.payload.get(self.payload.get("msgtype", ""), {})
        return str(body.get("content") or body.get("text") or "")


@dataclass
class DingtalkRobot:
    secret: str = ""
    keywords: tuple[str, ...] = ()


@dataclass
class _Trouble:
    how: str  # "rate_limit" | "permanent" | "http500" | "http404" | "sleep"
    kind: str | None  # only requests of this platform; None for either
    seconds: float = 0.0


@dataclass
class RobotServer:
    wecom_keys: set[str] = field(default_factory=set)
    dingtalk_robots: dict[str, DingtalkRobot] = field(default_factory=dict)
    accepted: list[Message] = field(default_factory=list)
    requests: int = 0
    refusals: list[tuple[str, int, str]] = field(default_factory=list)  # (kind, errcode or HTTP status, errmsg)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._troubles: deque[_Trouble] = deque()
        self._generation = 0  # raised by reset(): a request still sleeping from an earlier test records nothing
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False  # a sleeping answer must not hold up the end of the tests
        self._httpd.robots = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="robot-server", daemon=True)
        self._thread.start()

    # ---- set-up, from the tests

    @property
    def origin(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def wecom_base(self) -> str:
        return self.origin + WECOM_PATH

    @property
    def dingtalk_base(self) -> str:
        return self.origin + DINGTALK_PATH

    def add_wecom(self, key: str) -> str:
        """A 企业微信 robot with this key; its webhook URL."""
        with self._lock:
            self.wecom_keys.add(key)
        return f"{self.wecom_base}?key={key}"

    def add_dingtalk(self, token: str, *, secret: str = "", keywords: tuple[str, ...] = ()) -> str:
        """A 钉钉 robot with this access token and security settings; its webhook URL."""
        with self._lock:
            self.dingtalk_robots[token] = DingtalkRobot(secret=secret, keywords=keywords)
        return f"{self.dingtalk_base}?access_token={token}"

    def trouble(self, how: str, *, times: int = 1, kind: str | None = None, seconds: float = 0.0) -> None:
        """Answer the next `times` requests (of `kind`, or either platform) with `how`."""
        assert how in ("rate_limit", "permanent", "http500", "http404", "sleep"), how
        with self._lock:
            self._troubles.extend(_Trouble(how, kind, seconds) for _ in range(times))

    def reset(self) -> None:
        with self._lock:
            self.wecom_keys.clear()
            self.dingtalk_robots.clear()
            self.accepted.clear()
            self.refusals.clear()
            self._troubles.clear()
            self.requests = 0
            self._generation += 1

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # ---- answering, from the handler's thread

    def _next_trouble(self, kind: str) -> tuple[int, _Trouble | None]:
        with self._lock:
            self.requests += 1
            for t in list(self._troubles):
                if t.kind in (None, kind):
                    self._troubles.remove(t)
                    return self._generation, t
            return self._generation, None

    def answer(self, path: str, raw_query: str, body: bytes) -> tuple[int, dict[str, Any]]:
        kind = "wecom" if path == WECOM_PATH else "dingtalk" if path == DINGTALK_PATH else ""
        generation, trouble = self._next_trouble(kind)
        if not kind:
            return 404, {"errcode": 404, "errmsg": "not found"}
        if trouble is not None:
            if trouble.how == "sleep":
                time.sleep(trouble.seconds)
            elif trouble.how == "http500":
                return self._refuse(kind, 500, "internal error", status=500)
            elif trouble.how == "http404":
                return self._refuse(kind, 404, "not found", status=404)
            elif trouble.how == "rate_limit":
                code = 45009 if kind == "wecom" else 130101
                return self._refuse(kind, code, "api freq out of limit" if kind == "wecom" else "send too fast")
            elif trouble.how == "permanent":
                code = 93000 if kind == "wecom" else 310000
                return self._refuse(kind, code, "invalid webhook url" if kind == "wecom" else "sign not match")
        query = {k: v[0] for k, v in parse_qs(raw_query, keep_blank_values=True).items()}
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return self._refuse(kind, 40001 if kind == "wecom" else 400, "invalid json or not utf-8")
        if not isinstance(payload, dict):
            return self._refuse(kind, 40001, "invalid json")
        check = self._wecom if kind == "wecom" else self._dingtalk
        refused = check(query, payload)
        if refused is not None:
            return self._refuse(kind, *refused)
        robot = query.get("key", "") if kind == "wecom" else query.get("access_token", "")
        with self._lock:
            if generation == self._generation:
                self.accepted.append(Message(kind, robot, payload, query))
        return 200, {"errcode": 0, "errmsg": "ok"}

    def _refuse(self, kind: str, code: int, message: str, *, status: int = 200) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.refusals.append((kind, code, message))
        return status, {"errcode": code, "errmsg": message}

    def _wecom(self, query: dict[str, str], payload: dict[str, Any]) -> tuple[int, str] | None:
        if query.get("key") not in self.wecom_keys:
            return 93000, "invalid webhook url"
        msgtype = payload.get("msgtype")
        if msgtype == "markdown":
            content = payload.get("markdown", {}).get("content", "")
            limit = WECOM_MARKDOWN_MAX
        elif msgtype == "text":
            content = payload.get("text", {}).get("content", "")
            limit = WECOM_TEXT_MAX
        else:
            return 40008, "invalid message type"
        if not isinstance(content, str) or not content:
            return 44004, "empty content"
        if len(content.encode("utf-8")) > limit:
            return 40058, f"content exceed max length {limit}"
        return None

    def _dingtalk(self, query: dict[str, str], payload: dict[str, Any]) -> tuple[int, str] | None:
        robot = self.dingtalk_robots.get(query.get("access_token", ""))
        if robot is None:
            return 300001, "token is not exist"
        if robot.secret:
            try:
                ts = int(query.get("timestamp", ""))
            except ValueError:
                return 310000, "sign not match: no timestamp"
            if abs(time.time() * 1000 - ts) > HOUR_MS:
                return 310000, "sign not match: timestamp is more than an hour off"
            # The query is decoded once: a sign that was not URL-encoded has lost its "+" to spaces here.
            digest = hmac.new(robot.secret.encode(), f"{ts}\n{robot.secret}".encode(), hashlib.sha256).digest()
            if query.get("sign", "") != base64.b64encode(digest).decode():
                return 310000, "sign not match"
        msgtype = payload.get("msgtype")
        if msgtype == "markdown":
            md = payload.get("markdown", {})
            text, title = md.get("text", ""), md.get("title", "")
            if not title or not text:
                return 400, "markdown title and text required"
            if len(text.encode("utf-8")) > DINGTALK_MARKDOWN_MAX:
                return 460101, "message too long"
        elif msgtype == "text":
            text = payload.get("text", {}).get("content", "")
        else:
            return 400, "invalid msgtype"
        if robot.keywords and not any(k in text for k in robot.keywords):
            return 310000, "keywords not in content"
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        robots: RobotServer = self.server.robots  # type: ignore[attr-defined]
        status, answer = robots.answer(parts.path, parts.query, body)
        data = json.dumps(answer, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a timeout test)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the signature of http.server)
        pass
