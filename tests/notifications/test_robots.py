"""The group-robot channels against a local 企业微信 / 钉钉 (tests/notifications/robot_server.py): payloads and
signatures the platforms accept, cutting to their limits, what rate limits, permanent errors and failures do to the
delivery and the robot, the per-minute limit, secrets at rest, and the office's robot pages."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from core.audit import history_for
from core.models import AuditEntry
from notifications import crypto, robots, services
from notifications.channels import dingtalk, wecom
from notifications.channels.http import cut_utf8
from notifications.models import Delivery, DeliveryStatus, Robot
from tests.conftest import County, People
from tests.notifications.robot_server import RobotServer

DS = DeliveryStatus
WECOM_KEY = "wk-7f3a9c21-SECRETKEY-e5b8"
DINGTALK_TOKEN = "dt-4b2d8e-SECRETTOKEN-91ac"
DINGTALK_SECRET = "SEC0123456789abcdefSECRETSIGN+/="
SECONDS = dt.timedelta(seconds=1)


# ---- the local platforms ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def robot_server() -> Iterator[RobotServer]:
    server = RobotServer()
    yield server
    server.close()


@pytest.fixture
def server(robot_server: RobotServer, settings: Any) -> RobotServer:
    robot_server.reset()
    settings.WECOM_WEBHOOK_BASE = robot_server.wecom_base
    settings.DINGTALK_WEBHOOK_BASE = robot_server.dingtalk_base
    settings.ROBOT_TIMEOUT_SECONDS = 2.0
    settings.ROBOT_RATE_PER_MINUTE = 20
    return robot_server


def make_wecom(server: RobotServer, people: People, unit: Any, key: str = WECOM_KEY) -> Robot:
    return robots.robot_create(kind="wecom", name="教体局整改工作群", unit=unit, webhook=server.add_wecom(key),
                               by=people.office)


def make_dingtalk(server: RobotServer, people: People, unit: Any, *, secret: str = DINGTALK_SECRET,
                  keyword: str = "", server_secret: str | None = None) -> Robot:
    url = server.add_dingtalk(DINGTALK_TOKEN, secret=secret if server_secret is None else server_secret,
                              keywords=(keyword,) if keyword else ())
    return robots.robot_create(kind="dingtalk", name="财政局整改工作群", unit=unit, webhook=url, secret=secret,
                               keyword=keyword, by=people.office)


def make_delivery(robot: Robot, n: int = 1, *, subject: str = "每日提醒：您有2个问题逾期",
                  body: str = "### 每日提醒（教体局）\n您有2个问题逾期\n> 窗口推诿扯皮") -> Delivery:
    return Delivery.objects.create(key=f"t|{robot.pk}|{n}", channel=robot.kind, robot=robot, unit=robot.unit,
                                   batch="t", subject=subject, body=body)


def send(delivery: Delivery, now: dt.datetime) -> services.SendStats:
    return services.delivery_send(delivery_id=delivery.pk, now=now)


def fresh(obj: Any) -> Any:
    obj.refresh_from_db()
    return obj


# ---- payloads and signatures -----------------------------------------------------------------------------------

def test_wecom_sends_the_markdown_payload(server: RobotServer, county: County, people: People) -> None:
    robot = make_wecom(server, people, county.education)
    d = make_delivery(robot)
    now = timezone.now()

    assert send(d, now).sent == 1

    [msg] = server.accepted
    assert msg.kind == "wecom" and msg.robot == WECOM_KEY
    assert msg.payload == {"msgtype": "markdown", "markdown": {"content": d.body}}
    assert fresh(d).status == DS.SENT and d.error == ""
    robot = fresh(robot)
    assert robot.last_sent_at == now and robot.consecutive_failures == 0 and robot.last_error == ""


def test_dingtalk_signs_and_adds_the_missing_keyword(server: RobotServer, county: County, people: People) -> None:
    robot = make_dingtalk(server, people, county.finance, keyword="整改台账")
    d = make_delivery(robot)

    assert send(d, timezone.now()).sent == 1

    [msg] = server.accepted  # the server checked the timestamp, the signature and the keyword
    assert set(msg.query) == {"access_token", "timestamp", "sign"}
    assert msg.payload["msgtype"] == "markdown"
    assert msg.payload["markdown"]["title"] == d.subject
    assert msg.payload["markdown"]["text"] == f"整改台账\n\n{d.body}"
    assert msg.payload["at"] == {"atMobiles": [], "isAtAll": False}


def test_dingtalk_keyword_already_in_the_text_is_not_added_again(
        server: RobotServer, county: County, people: People) -> None:
    robot = make_dingtalk(server, people, county.finance, keyword="逾期")
    d = make_delivery(robot)

    assert send(d, timezone.now()).sent == 1
    assert server.accepted[0].payload["markdown"]["text"] == d.body


def test_dingtalk_signature_matches_the_documented_recipe() -> None:
    # string_to_sign = f"{timestamp}\n{secret}", HMAC-SHA256 keyed with the secret, base64, then URL-encoded.
    import base64
    import hashlib
    import hmac
    from urllib.parse import quote_plus

    ts, secret = 1700000000000, "SECthis-is-secret"
    expected = quote_plus(base64.b64encode(
        hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()).decode())
    assert dingtalk.sign(secret, ts) == expected
    url = dingtalk.signed_url("https://oapi.dingtalk.com/robot/send?access_token=x", secret, timestamp_ms=ts)
    assert url == f"https://oapi.dingtalk.com/robot/send?access_token=x&timestamp={ts}&sign={expected}"


def test_a_wrong_dingtalk_secret_disables_the_robot_with_the_reason(
        server: RobotServer, county: County, people: People) -> None:
    robot = make_dingtalk(server, people, county.finance, server_secret="SECanother-secret")
    d = make_delivery(robot)

    assert send(d, timezone.now()).failed == 1

    assert server.refusals == [("dingtalk", 310000, "sign not match")]
    reason = "钉钉机器人安全设置校验失败（关键词、加签或IP白名单，errcode 310000）：请作风办检查机器人设置"
    assert fresh(d).status == DS.FAILED and d.error == reason
    robot = fresh(robot)
    assert not robot.is_enabled and robot.disabled_reason == reason
    assert robots.status(robot) == ("disabled", f"已停用（{reason}）")


# ---- cutting to the platforms' limits --------------------------------------------------------------------------

def test_a_long_chinese_digest_is_cut_to_4096_bytes_with_every_character_whole(
        server: RobotServer, county: County, people: People) -> None:
    lines = [f"> 第{i}项：县教育体育局窗口推诿扯皮、办事效率低下问题整改" for i in range(1, 400)]
    body = "\n".join(lines)
    body = body[:10_000]
    assert len(body) == 10_000
    robot = make_wecom(server, people, county.education)

    assert send(make_delivery(robot, body=body), timezone.now()).sent == 1

    content = server.accepted[0].payload["markdown"]["content"]
    raw = content.encode("utf-8")
    assert len(raw) <= wecom.MARKDOWN_MAX_BYTES
    assert raw.decode("utf-8") == content and "\ufffd" not in content
    assert content.endswith("……")
    kept = content.removesuffix("……")
    assert kept.endswith("\n")  # cut at a line
    assert body.startswith(kept)
    assert len(raw) > wecom.MARKDOWN_MAX_BYTES - 200  # nearly all of the room is used


def test_a_body_of_one_line_is_cut_inside_the_line_never_inside_a_character() -> None:
    body = "整改" * 5000  # 10,000 characters, 30,000 bytes, no line break
    content = cut_utf8(body, 4096)
    assert len(content.encode("utf-8")) <= 4096
    assert content.endswith("……") and body.startswith(content.removesuffix("……"))
    assert len(content.encode("utf-8")) >= 4096 - 3 - 2  # at most a character less than the room


@pytest.mark.parametrize("limit", range(0, 40))
def test_cutting_never_splits_a_character_at_any_limit(limit: int) -> None:
    text = "a整\nb😀c改é" * 4  # characters of 1, 2, 3 and 4 bytes
    cut = cut_utf8(text, limit)
    assert len(cut.encode("utf-8")) <= limit
    assert cut == text or text.startswith(cut.removesuffix("……"))


def test_dingtalk_text_is_kept_within_20000_bytes_with_the_keyword(
        server: RobotServer, county: County, people: People) -> None:
    robot = make_dingtalk(server, people, county.finance, keyword="整改台账")
    body = "\n".join(f"> 第{i}项：窗口推诿扯皮问题" for i in range(3000))

    assert send(make_delivery(robot, body=body), timezone.now()).sent == 1

    text = server.accepted[0].payload["markdown"]["text"]
    assert len(text.encode("utf-8")) <= dingtalk.MARKDOWN_MAX_BYTES
    assert text.startswith("整改台账\n\n") and text.endswith("……")


# ---- rate limits, permanent errors, failures -------------------------------------------------------------------

def test_a_rate_limit_answer_suspends_the_robot_and_the_message_goes_after_it(
        server: RobotServer, county: County, people: People) -> None:
    robot = make_wecom(server, people, county.education)
    first, second = make_delivery(robot, 1), make_delivery(robot, 2)
    server.trouble("rate_limit")
    t0 = timezone.now()

    assert send(first, t0).deferred == 1

    first = fresh(first)
    assert first.status == DS.PENDING and first.next_attempt_at == t0 + 60 * SECONDS
    assert "45009" in first.error
    robot = fresh(robot)
    assert robot.suspended_until == t0 + 60 * SECONDS and robot.is_enabled
    assert robots.status(robot, now=t0)[1] == f"暂停至{timezone.localtime(t0 + 60 * SECONDS):%H:%M}"

    # While suspended, another message waits without a request to the platform and without spending an attempt.
    assert send(second, t0 + 10 * SECONDS).deferred == 1
    second = fresh(second)
    assert server.requests == 1
    assert second.status == DS.PENDING and second.attempts == 0 and second.next_attempt_at == robot.suspended_until

    # Too early for the first: nothing happens.
    assert send(first, t0 + 30 * SECONDS).sent == 0 and server.requests == 1

    later = t0 + 61 * SECONDS
    assert send(first, later).sent == 1 and send(second, later).sent == 1
    assert len(server.accepted) == 2
    assert fresh(first).status == DS.SENT and fresh(second).status == DS.SENT
    assert robots.status(fresh(robot), now=later) == ("ok", "正常")


def test_dingtalk_rate_limit_suspends_the_robot_for_ten_minutes(
        server: RobotServer, county: County, people: People) -> None:
    robot = make_dingtalk(server, people, county.finance)
    d = make_delivery(robot)
    server.trouble("rate_limit")
    t0 = timezone.now()

    assert send(d, t0).deferred == 1

    assert fresh(robot).suspended_until == t0 + 600 * SECONDS
    assert fresh(d).next_attempt_at == t0 + 600 * SECONDS and "130101" in d.error
    assert send(d, t0 + 599 * SECONDS).sent == 0
    assert send(d, t0 + 601 * SECONDS).sent == 1


def test_a_permanent_error_fails_the_message_and_disables_the_robot(
        server: RobotServer, county: County, people: People) -> None:
    robot = make_wecom(server, people, county.education)
    first, second = make_delivery(robot, 1), make_delivery(robot, 2)
    server.trouble("permanent")
    t0 = timezone.now()

    assert send(first, t0).failed == 1

    first, robot = fresh(first), fresh(robot)
    assert first.status == DS.FAILED and "93000" in first.error and "Webhook 地址无效" in first.error
    assert not robot.is_enabled and robot.disabled_reason == first.error
    entry = history_for(robot).get(action=AuditEntry.Action.DEACTIVATE)
    assert entry.actor is None and entry.changes == {"disabled_reason": first.error}

    # Later messages to it fail at once, without a request to the platform.
    assert send(second, t0 + 3600 * SECONDS).failed == 1
    second = fresh(second)
    assert second.status == DS.FAILED and second.error.startswith("机器人已停用：")
    assert server.requests == 1 and server.accepted == []


def test_http_404_disables_the_robot(server: RobotServer, county: County, people: People) -> None:
    robot = make_wecom(server, people, county.education)
    d = make_delivery(robot)
    server.trouble("http404")

    assert send(d, timezone.now()).failed == 1

    robot = fresh(robot)
    assert not robot.is_enabled and "HTTP 404" in robot.disabled_reason
    assert fresh(d).status == DS.FAILED


def test_server_errors_are_retried_with_backoff_and_suspend_the_robot_after_three(
        server: RobotServer, county: County, people: People) -> None:
    robot = make_wecom(server, people, county.education)
    d = make_delivery(robot)
    server.trouble("http500", times=3)
    t0 = timezone.now()

    assert send(d, t0).deferred == 1
    d, robot = fresh(d), fresh(robot)
    assert d.status == DS.PENDING and d.next_attempt_at == t0 + 60 * SECONDS and "HTTP 500" in d.error
    assert robot.consecutive_failures == 1 and robot.suspended_until is None

    t1 = t0 + 60 * SECONDS
    assert send(d, t1).deferred == 1
    assert fresh(d).next_attempt_at == t1 + 120 * SECONDS
    assert fresh(robot).consecutive_failures == 2 and robot.suspended_until is None

    t2 = t1 + 120 * SECONDS
    assert send(d, t2).deferred == 1
    d, robot = fresh(d), fresh(robot)
    assert d.next_attempt_at == t2 + 240 * SECONDS
    assert robot.consecutive_failures == 3 and robot.suspended_until == t2 + 300 * SECONDS
    assert "连续失败 3 次" in robot.last_error
    assert robots.status(robot, now=t2)[0] == "suspended"

    # The message's next try falls inside the suspension: it waits for it, without a request.
    assert send(d, t2 + 240 * SECONDS).deferred == 1
    assert server.requests == 3 and fresh(d).next_attempt_at == robot.suspended_until

    assert send(d, t2 + 300 * SECONDS).sent == 1
    robot = fresh(robot)
    assert robot.consecutive_failures == 0 and robot.suspended_until is None and robot.last_error == ""
    assert fresh(d).attempts == 4


def test_a_timeout_after_sending_is_an_unknown_outcome_never_resent_by_itself(
        server: RobotServer, county: County, people: People, settings: Any) -> None:
    """The platform got the request and did not answer in time: it may have posted the message. Trying again could
    post it twice, so the delivery is 结果未知, for a person to resend."""
    settings.ROBOT_TIMEOUT_SECONDS = 0.3
    robot = make_wecom(server, people, county.education)
    d = make_delivery(robot)
    server.trouble("sleep", seconds=1.0)

    assert send(d, timezone.now()).unknown == 1

    d = fresh(d)
    assert d.status == DS.UNKNOWN and "超时" in d.error and "未自动重发" in d.error
    assert fresh(robot).consecutive_failures == 1 and robot.is_enabled
    assert services.deliveries_send(now=timezone.now() + dt.timedelta(hours=2)).sent == 0


def test_a_refused_connection_is_a_transient_failure(county: County, people: People) -> None:
    # A robot stored with a URL where nothing listens (the port of a server just closed).
    closed = RobotServer()
    url = closed.add_wecom("k1")
    closed.close()
    robot = Robot.objects.create(kind="wecom", name="无人应答", webhook_encrypted=crypto.encrypt(url))
    d = make_delivery(robot)

    assert send(d, timezone.now()).deferred == 1

    assert "连接被拒绝" in fresh(d).error and url not in d.error
    assert fresh(robot).consecutive_failures == 1


def test_the_per_minute_limit_holds_across_one_run(server: RobotServer, county: County, people: People,
                                                   settings: Any) -> None:
    settings.ROBOT_RATE_PER_MINUTE = 3
    robot = make_wecom(server, people, county.education)
    ids = [make_delivery(robot, n).pk for n in range(5)]
    before = timezone.now()

    stats = services.deliveries_send(ids=ids)

    assert (stats.sent, stats.deferred, stats.failed) == (3, 2, 0)
    assert len(server.accepted) == 3 and server.requests == 3
    waiting = Delivery.objects.filter(pk__in=ids, status=DS.PENDING)
    assert waiting.count() == 2 and all(d.attempts == 0 for d in waiting)

    later = before + 61 * SECONDS
    assert all(d.next_attempt_at <= later for d in waiting)
    stats = services.deliveries_send(ids=ids, now=later)

    assert stats.sent == 2
    assert len(server.accepted) == 5
    assert Delivery.objects.filter(pk__in=ids, status=DS.SENT).count() == 5


# ---- secrets at rest -------------------------------------------------------------------------------------------

def test_url_and_secret_are_stored_encrypted_and_shown_nowhere(
        server: RobotServer, county: County, people: People, client: Any) -> None:
    robot = make_dingtalk(server, people, county.finance, keyword="整改台账")
    url = f"{server.dingtalk_base}?access_token={DINGTALK_TOKEN}"
    robots.robot_update(robot=robot, by=people.office, name="财政局工作群", webhook=url + "X",
                        secret=DINGTALK_SECRET + "Y")
    robot = fresh(robot)

    with connection.cursor() as cursor:
        cursor.execute("SELECT webhook_encrypted, secret_encrypted, webhook_hint FROM notifications_robot "
                       "WHERE id = %s", [robot.pk])
        raw = " ".join(cursor.fetchone())
    assert DINGTALK_TOKEN not in raw and "SECRETSIGN" not in raw
    assert crypto.decrypt(robot.webhook_encrypted) == url + "X"
    assert crypto.decrypt(robot.secret_encrypted) == DINGTALK_SECRET + "Y"
    assert robot.webhook_hint.endswith("access_token=••••••1acX") and "SECRETTOKEN" not in robot.webhook_hint

    client.force_login(people.office)
    for page in (reverse("notifications:robot_list"), reverse("notifications:robot_edit", args=[robot.pk]),
                 reverse("notifications:robot_disable", args=[robot.pk])):
        html = client.get(page).content.decode()
        assert "SECRETTOKEN" not in html and "SECRETSIGN" not in html, page
    assert robot.webhook_hint in client.get(reverse("notifications:robot_list")).content.decode()

    # A form that comes back with errors does not write the typed URL or secret back into the page.
    response = client.post(reverse("notifications:robot_edit", args=[robot.pk]), {
        "name": "", "unit": county.finance.pk, "webhook": url + "Z", "secret": "SECRETSIGN-new", "keyword": "整改台账",
    })
    assert response.status_code == 200 and "请填写机器人名称" in response.content.decode()
    assert "SECRETTOKEN" not in response.content.decode() and "SECRETSIGN" not in response.content.decode()

    entries = history_for(robot)
    assert entries.count() == 2
    recorded = json.dumps([[e.changes, e.note] for e in entries], ensure_ascii=False)
    assert "SECRETTOKEN" not in recorded and "SECRETSIGN" not in recorded
    update = entries.get(action=AuditEntry.Action.UPDATE)
    assert update.changes == {"name": ["财政局整改工作群", "财政局工作群"], "webhook": "已更换", "secret": "已更换"}


def test_errors_never_carry_the_credentials(server: RobotServer, county: County, people: People) -> None:
    robot = make_wecom(server, people, county.education)
    d = make_delivery(robot)
    server.trouble("permanent")
    send(d, timezone.now())
    assert WECOM_KEY not in fresh(d).error and WECOM_KEY not in fresh(robot).disabled_reason


# ---- the office's services -------------------------------------------------------------------------------------

def refused(call: Any) -> dict[str, list[str]]:
    with pytest.raises(robots.ValidationError) as info:
        call()
    return info.value.message_dict


def test_webhooks_must_be_the_configured_platforms(server: RobotServer, county: County, people: People,
                                                   settings: Any) -> None:
    def create(kind: str, webhook: str) -> Any:
        return lambda: robots.robot_create(kind=kind, name="工作群", unit=None, webhook=webhook, by=people.office)

    port = server.origin.rsplit(":", 1)[1]
    cases = {
        f"http://evil.example.com:{port}/cgi-bin/webhook/send?key=k": "必须以 https:// 开头",
        "https://evil.example.com/cgi-bin/webhook/send?key=k": "不是本系统配置的企业微信机器人地址",
        f"{server.origin}/cgi-bin/other?key=k": "不是本系统配置的企业微信机器人地址",
        f"{server.origin}/cgi-bin/webhook/sendX?key=k": "不是本系统配置的企业微信机器人地址",
        f"{server.wecom_base}?token=k": "缺少 key= 参数",
        f"{server.wecom_base}?key=": "缺少 key= 参数",
        f"{server.dingtalk_base}?access_token=k": "不是本系统配置的企业微信机器人地址",
        f"http://u:p@127.0.0.1:{port}/cgi-bin/webhook/send?key=k": "不能包含用户名、密码",
        f"{server.wecom_base}?key=k k": "不能包含空格",
        "": "请填写 Webhook 地址",
    }
    for url, message in cases.items():
        errors = refused(create("wecom", url))
        assert list(errors) == ["webhook"] and message in errors["webhook"][0], (url, errors)
    assert "缺少 access_token= 参数" in refused(create("dingtalk", f"{server.dingtalk_base}?key=k"))["webhook"][0]

    # The public platforms' own bases: https only, outside development.
    settings.WECOM_WEBHOOK_BASE = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
    errors = refused(create("wecom", "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"))
    assert "必须以 https:// 开头" in errors["webhook"][0]
    settings.DEBUG = True
    assert create("wecom", "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k")().pk
    settings.DEBUG = False
    robot = create("wecom", "https://QYAPI.weixin.qq.com/cgi-bin/webhook/send?key=k")()
    assert robot.webhook_hint == crypto.mask("https://QYAPI.weixin.qq.com/cgi-bin/webhook/send?key=k")
    assert create("wecom", "https://qyapi.weixin.qq.com:443/cgi-bin/webhook/send?key=k")().pk
    errors = refused(create("wecom", "https://qyapi.weixin.qq.com:8443/cgi-bin/webhook/send?key=k"))
    assert "不是本系统配置的企业微信机器人地址" in errors["webhook"][0]


def test_wecom_robots_have_no_secret_or_keyword(server: RobotServer, people: People) -> None:
    errors = refused(lambda: robots.robot_create(kind="wecom", name="群", unit=None, webhook=server.add_wecom("k"),
                                                 secret="SECx", keyword="整改", by=people.office))
    assert set(errors) == {"secret", "keyword"}
    assert refused(lambda: robots.robot_create(kind="sms", name="群", unit=None, webhook="x",
                                               by=people.office)) == {"kind": ["请选择机器人类型（企业微信或钉钉）。"]}
    assert not Robot.objects.exists() and not AuditEntry.objects.exists()


def test_update_keeps_what_is_not_given_and_clears_what_is_empty(
        server: RobotServer, county: County, people: People) -> None:
    robot = make_dingtalk(server, people, county.finance, keyword="整改")
    stored = robot.webhook_encrypted

    robots.robot_update(robot=robot, by=people.office, name="新名称", webhook=None, secret=None, keyword=None)
    robot = fresh(robot)
    assert robot.name == "新名称" and robot.webhook_encrypted == stored and robot.unit == county.finance
    assert crypto.decrypt(robot.secret_encrypted) == DINGTALK_SECRET and robot.keyword == "整改"

    robots.robot_update(robot=robot, by=people.office, unit=None, secret="", keyword="")
    robot = fresh(robot)
    assert robot.unit is None and robot.secret_encrypted == "" and robot.keyword == ""
    last = history_for(robot).order_by("-id").first()
    assert last is not None and last.changes == {
        "unit": ["县财政局", "（无：专项行动工作群）"], "secret": "已清除", "keyword": ["整改", ""]}


def test_enable_clears_what_the_platform_set_and_disable_needs_a_reason(
        server: RobotServer, county: County, people: People) -> None:
    robot = make_wecom(server, people, county.education)
    Robot.objects.filter(pk=robot.pk).update(is_enabled=False, disabled_reason="平台返回永久性错误",
                                             suspended_until=timezone.now() + 60 * SECONDS, consecutive_failures=3)
    robots.robot_enable(robot=robot, by=people.office)
    robot = fresh(robot)
    assert robot.is_enabled and robot.disabled_reason == "" and robot.suspended_until is None
    assert robot.consecutive_failures == 0 and robots.status(robot) == ("ok", "正常")

    assert refused(lambda: robots.robot_disable(robot=robot, by=people.office, reason="  ")) == {
        "reason": ["请填写停用原因。"]}
    robots.robot_disable(robot=robot, by=people.office, reason="工作群已解散")
    robot = fresh(robot)
    assert not robot.is_enabled and robots.status(robot) == ("disabled", "已停用（工作群已解散）")
    d = make_delivery(robot)
    assert send(d, timezone.now()).failed == 1 and fresh(d).error == "机器人已停用：工作群已解散"
    assert server.requests == 0


def test_a_test_message_is_sent_and_recorded(server: RobotServer, county: County, people: People) -> None:
    robot = make_dingtalk(server, people, county.finance, keyword="整改台账")
    outcome = robots.robot_test(robot=robot, by=people.office)
    assert outcome.ok
    [msg] = server.accepted
    assert "【整改台账】机器人测试消息" in msg.text and msg.payload["markdown"]["title"] == "【整改台账】机器人测试消息"
    assert fresh(robot).last_sent_at is not None
    assert not Delivery.objects.exists()  # a test is not a message of the delivery log
    assert history_for(robot).filter(note="测试发送成功").exists()

    server.trouble("permanent")
    outcome = robots.robot_test(robot=robot, by=people.office)
    assert not outcome.ok and outcome.disable_robot and not fresh(robot).is_enabled
    with pytest.raises(robots.ValidationError, match="请先启用"):
        robots.robot_test(robot=robot, by=people.office)
    assert server.requests == 2


# ---- the pages -------------------------------------------------------------------------------------------------

def robot_urls(robot: Robot) -> dict[str, tuple[str, str]]:
    return {
        "robot_list": ("GET", reverse("notifications:robot_list")),
        "robot_create": ("GET", reverse("notifications:robot_create")),
        "robot_edit": ("GET", reverse("notifications:robot_edit", args=[robot.pk])),
        "robot_disable": ("GET", reverse("notifications:robot_disable", args=[robot.pk])),
        "robot_enable": ("POST", reverse("notifications:robot_enable", args=[robot.pk])),
        "robot_test": ("POST", reverse("notifications:robot_test", args=[robot.pk])),
    }


def test_only_the_office_and_admins_reach_the_robot_pages(
        server: RobotServer, county: County, people: People, client: Any) -> None:
    robot = make_wecom(server, people, county.education)
    Robot.objects.filter(pk=robot.pk).update(is_enabled=False, disabled_reason="作风办停用")
    urls = robot_urls(robot)

    for name, (method, url) in urls.items():
        client.logout()
        response = client.get(url) if method == "GET" else client.post(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), name

    for actor in ("liaison", "sibling_liaison", "leader", "outsider"):
        client.force_login(getattr(people, actor))
        for name, (method, url) in urls.items():
            response = client.get(url) if method == "GET" else client.post(url, {"reason": "x"})
            assert response.status_code == 403, (actor, name)
            if method == "POST":
                assert client.post(reverse("notifications:robot_disable", args=[robot.pk]),
                                   {"reason": "x"}).status_code == 403
    assert fresh(robot).disabled_reason == "作风办停用" and server.requests == 0

    for actor in ("office", "admin"):
        client.force_login(getattr(people, actor))
        for name in ("robot_list", "robot_create", "robot_edit", "robot_disable"):
            assert client.get(urls[name][1]).status_code == 200, (actor, name)
        assert client.get(urls["robot_enable"][1]).status_code == 405
        assert client.get(urls["robot_test"][1]).status_code == 405


def test_the_office_creates_edits_tests_disables_and_enables_a_robot(
        server: RobotServer, county: County, people: People, client: Any) -> None:
    client.force_login(people.office)
    url = server.add_wecom(WECOM_KEY)
    response = client.post(reverse("notifications:robot_create"), {
        "kind": "wecom", "name": "教体局整改工作群", "unit": county.education.pk, "webhook": url,
    })
    assert response.status_code == 302 and response["Location"] == reverse("notifications:robot_list")
    robot = Robot.objects.get()
    assert robot.kind == "wecom" and robot.unit == county.education and crypto.decrypt(robot.webhook_encrypted) == url
    assert robot.created_by == people.office

    html = client.get(reverse("notifications:robot_list")).content.decode()
    assert "教体局整改工作群" in html and "正常" in html and robot.webhook_hint in html

    # Saved with the webhook left empty: kept.
    edit = reverse("notifications:robot_edit", args=[robot.pk])
    assert "留空则保持不变" in client.get(edit).content.decode()
    response = client.post(edit, {"name": "教体局工作群", "unit": "", "webhook": ""})
    assert response.status_code == 302
    robot = fresh(robot)
    assert robot.name == "教体局工作群" and robot.unit is None and crypto.decrypt(robot.webhook_encrypted) == url

    response = client.post(reverse("notifications:robot_test", args=[robot.pk]), follow=True)
    assert "测试消息已发送" in response.content.decode()
    assert "【整改台账】机器人测试消息" in server.accepted[-1].text

    disable = reverse("notifications:robot_disable", args=[robot.pk])
    assert "确认停用" in client.get(disable).content.decode()
    response = client.post(disable, {"reason": ""})
    assert response.status_code == 200 and "请填写停用原因" in response.content.decode()
    assert fresh(robot).is_enabled
    response = client.post(disable, {"reason": "工作群已解散"}, follow=True)
    assert "已停用（工作群已解散）" in response.content.decode()
    assert not fresh(robot).is_enabled

    response = client.post(reverse("notifications:robot_test", args=[robot.pk]), follow=True)
    assert "请先启用" in response.content.decode() and len(server.accepted) == 1

    response = client.post(reverse("notifications:robot_enable", args=[robot.pk]), follow=True)
    assert "已启用机器人" in response.content.decode()
    robot = fresh(robot)
    assert robot.is_enabled and robot.disabled_reason == ""


def test_forged_form_fields_are_refused_in_chinese_and_change_nothing(
        server: RobotServer, county: County, people: People, client: Any) -> None:
    robot = make_dingtalk(server, people, county.finance, keyword="整改")
    client.force_login(people.office)
    before = list(Robot.objects.values())
    entries = AuditEntry.objects.count()
    port = server.origin.rsplit(":", 1)[1]
    good = {"kind": "wecom", "name": "群", "unit": county.education.pk, "webhook": server.add_wecom("k2")}
    forged = [
        ({"webhook": "https://evil.example.com/cgi-bin/webhook/send?key=k"}, "webhook",
         "不是本系统配置的企业微信机器人地址"),
        ({"webhook": f"http://evil.example.com:{port}/cgi-bin/webhook/send?key=k"}, "webhook", "必须以 https:// 开头"),
        ({"unit": "999999"}, "unit", "所选单位不存在或已停用"),
        ({"unit": "abc"}, "unit", "所选单位不存在或已停用"),
        ({"kind": "sms"}, "kind", "机器人类型只能是企业微信或钉钉"),
        ({"name": "群\x01"}, "name", "控制字符"),
    ]
    for change, field, message in forged:
        response = client.post(reverse("notifications:robot_create"), {**good, **change})
        assert response.status_code == 200, change
        errors = response.context["form"].errors
        assert field in errors and message in " ".join(errors[field]), (change, errors)

    edit = reverse("notifications:robot_edit", args=[robot.pk])
    for change, field, message in [
        ({"webhook": f"{server.wecom_base}?key=k"}, "webhook", "不是本系统配置的钉钉机器人地址"),
        ({"webhook": "https://evil.example.com/robot/send?access_token=t"}, "webhook",
         "不是本系统配置的钉钉机器人地址"),
        ({"unit": "999999"}, "unit", "所选单位不存在或已停用"),
        ({"secret": "SEC with spaces"}, "secret", "不能有空格"),
    ]:
        data = {"name": "改名", "unit": county.finance.pk, "webhook": "", "secret": "", "keyword": "整改", **change}
        response = client.post(edit, data)
        assert response.status_code == 200, change
        errors = response.context["form"].errors
        assert field in errors and message in " ".join(errors[field]), (change, errors)

    assert list(Robot.objects.values()) == before
    assert AuditEntry.objects.count() == entries
