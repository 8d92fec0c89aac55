"""Group robots: the office's robots (create, change, enable, disable, a test message), the slot each request takes
within a robot's rate limit (across workers), and what an answer does to the robot.

A robot's webhook URL is its whole credential (and the 钉钉 signing secret a second one): both are checked against
the configured base (WECOM_WEBHOOK_BASE / DINGTALK_WEBHOOK_BASE, where a private 政务微信 host is configured), stored
encrypted, shown only masked (`webhook_hint`) and never written to the audit trail.

What an answer does: a success clears the robot's failures; a rate limit suspends it for as long as the platform
blocks it; three transient failures in a row (5xx, timeouts, refused connections) suspend it for five minutes; a
permanent error (invalid URL, failed signature or keyword check) disables it, with the reason, until a person
re-enables it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.audit import Action, audit_record
from units.models import Unit

from . import channels, crypto
from .models import ROBOT_CHANNELS, Channel, Delivery, Robot, RobotSend

WINDOW = dt.timedelta(seconds=60)
FAILURES_BEFORE_SUSPEND = 3
FAILURE_SUSPENSION = dt.timedelta(minutes=5)
TEST_TITLE = "【整改台账】机器人测试消息"
WEBHOOK_MAX_LENGTH = 1000
SECRET_MAX_LENGTH = 200
REASON_MAX_LENGTH = 300

# kind → (the setting holding its base URL, the query parameter carrying the credential)
WEBHOOKS: Final = {
    Channel.WECOM.value: ("WECOM_WEBHOOK_BASE", "key"),
    Channel.DINGTALK.value: ("DINGTALK_WEBHOOK_BASE", "access_token"),
}


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = _Keep()  # robot_update: leave the unit as it is (None means: no unit)


# ---- sending: the rate limit and the robot's state -------------------------------------------------------------

@dataclass(frozen=True)
class Slot:
    ok: bool
    until: dt.datetime | None = None
    reason: str = ""
    fail: bool = False  # the robot cannot send at all (disabled): the delivery fails


def is_disabled(robot: Robot) -> bool:
    return not robot.is_enabled or bool(robot.disabled_reason)


def _take(robot: Robot, now: dt.datetime) -> Slot:
    """One of the robot's requests of the last minute, or when the oldest of them leaves the window. The caller
    holds the robot's row lock, so two workers count the same rows."""
    recent = list(
        RobotSend.objects.filter(robot=robot, at__gt=now - WINDOW).order_by("at").values_list("at", flat=True)
    )
    if len(recent) >= settings.ROBOT_RATE_PER_MINUTE:
        return Slot(ok=False, until=recent[0] + WINDOW,
                    reason=f"机器人每分钟最多发送 {settings.ROBOT_RATE_PER_MINUTE} 条，已满，稍后自动发送。")
    RobotSend.objects.create(robot=robot, at=now)
    RobotSend.objects.filter(robot=robot, at__lt=now - 10 * WINDOW).delete()
    return Slot(ok=True)


@transaction.atomic
def reserve(delivery: Delivery, *, now: dt.datetime | None = None) -> Slot:
    """Take a slot for this delivery's robot under the robot's row lock, or say until when to wait (suspended, the
    minute full), or that it cannot be sent (the robot is disabled or gone)."""
    now = now or timezone.now()
    robot = (
        Robot.objects.select_for_update(of=("self",)).filter(pk=delivery.robot_id).first()
        if delivery.robot_id else None
    )
    if robot is None:
        return Slot(ok=False, fail=True, reason="机器人已删除。")
    if is_disabled(robot):
        return Slot(ok=False, fail=True, reason=f"机器人已停用：{robot.disabled_reason or '作风办停用'}")
    if robot.suspended_until and robot.suspended_until > now:
        return Slot(ok=False, until=robot.suspended_until,
                    reason=f"机器人暂停发送至 {timezone.localtime(robot.suspended_until):%H:%M}：{robot.last_error}")
    return _take(robot, now)


@transaction.atomic
def record_outcome(robot: Robot, outcome: channels.Outcome, *, now: dt.datetime | None = None) -> None:
    """What the platform's answer does to the robot (read and written under its row lock: two workers' failures
    both count)."""
    now = now or timezone.now()
    locked = Robot.objects.select_for_update(of=("self",)).filter(pk=robot.pk).first()
    if locked is None:
        return
    robot = locked
    if outcome.ok:
        # A success ends a suspension for failures; a platform's rate-limit block (whose answer may have been
        # recorded just before this earlier request's success) runs its course.
        failing = robot.consecutive_failures >= FAILURES_BEFORE_SUSPEND
        Robot.objects.filter(pk=robot.pk).update(
            consecutive_failures=0, last_sent_at=now, last_error="",
            suspended_until=None if failing else robot.suspended_until)
        return
    error = outcome.error[:300]
    fields: dict[str, Any] = {"last_error": error}
    if outcome.disable_robot:
        reason = error or "平台返回永久性错误"
        if not is_disabled(robot):
            fields.update(is_enabled=False, disabled_reason=reason)
            audit_record(action=Action.DEACTIVATE, obj=robot, changes={"disabled_reason": reason},
                         note="平台返回永久性错误，机器人自动停用")
    elif outcome.suspend_seconds:
        until = now + dt.timedelta(seconds=outcome.suspend_seconds)
        fields["suspended_until"] = max(until, robot.suspended_until) if robot.suspended_until else until
    elif not outcome.permanent:
        # A transient failure (5xx, timeout, refused connection); a message the platform refuses as it stands
        # says nothing about the robot and is not counted.
        failures = robot.consecutive_failures + 1
        fields["consecutive_failures"] = failures
        if failures >= FAILURES_BEFORE_SUSPEND:
            minutes = int(FAILURE_SUSPENSION.total_seconds() // 60)
            fields["suspended_until"] = now + FAILURE_SUSPENSION
            fields["last_error"] = f"{error[:240]}（连续失败 {failures} 次，暂停发送 {minutes} 分钟）"
    Robot.objects.filter(pk=robot.pk).update(**fields)


def status(robot: Robot, *, now: dt.datetime | None = None) -> tuple[str, str]:
    """("ok" | "suspended" | "disabled", the label the office reads: 正常 / 暂停至HH:MM / 已停用（原因）)."""
    now = now or timezone.now()
    if is_disabled(robot):
        return "disabled", f"已停用（{robot.disabled_reason or '作风办停用'}）"
    if robot.suspended_until and robot.suspended_until > now:
        return "suspended", f"暂停至{timezone.localtime(robot.suspended_until):%H:%M}"
    return "ok", "正常"


# ---- checks ----------------------------------------------------------------------------------------------------

def _kind_label(kind: str) -> str:
    return Channel(kind).label


def webhook_check(kind: str, url: str) -> str:
    """The webhook URL, trimmed, if it is a `kind` robot's address under the configured base; otherwise a
    ValidationError on the field "webhook".

    https only; http is accepted in development (DEBUG) or when the configured base itself is http on the same host
    (a private deployment inside the government network)."""
    label = _kind_label(kind)
    setting, param = WEBHOOKS[kind]
    base = urlsplit(getattr(settings, setting))

    def refuse(message: str) -> ValidationError:
        return ValidationError({"webhook": message})

    url = (url or "").strip()
    if not url:
        raise refuse("请填写 Webhook 地址。")
    if len(url) > WEBHOOK_MAX_LENGTH:
        raise refuse(f"Webhook 地址过长（不能超过 {WEBHOOK_MAX_LENGTH} 个字符）。")
    if any(c.isspace() or not c.isprintable() for c in url) or not url.isascii():
        raise refuse("Webhook 地址不能包含空格、换行或全角字符，请从机器人设置处重新复制。")
    try:
        parts = urlsplit(url)
        port, base_port = _port(parts.scheme, parts.port), _port(base.scheme, base.port)
    except ValueError:
        raise refuse("Webhook 地址格式不正确，请从机器人设置处重新复制。") from None
    if parts.username is not None or parts.password is not None or parts.fragment:
        raise refuse("Webhook 地址格式不正确（不能包含用户名、密码或 # 后的内容）。")
    same_host = (parts.hostname or "") == (base.hostname or "").lower() and port == base_port
    if parts.scheme == "http":
        if not (settings.DEBUG or (base.scheme == "http" and same_host)):
            raise refuse("Webhook 地址必须以 https:// 开头。")
    elif parts.scheme != "https":
        raise refuse("Webhook 地址必须以 https:// 开头。")
    base_path = base.path.rstrip("/")
    path_ok = parts.path == base_path or parts.path.startswith(base_path + "/") or parts.path == base.path
    if not same_host or not path_ok:
        raise refuse(f"Webhook 地址不是本系统配置的{label}机器人地址：应以 {base.netloc}{base.path} 开头"
                     f"（请从{label}群设置的机器人处复制完整地址）。")
    values = parse_qs(parts.query, keep_blank_values=True).get(param, [])
    if len(values) != 1 or not values[0]:
        raise refuse(f"Webhook 地址缺少 {param}= 参数，请复制完整地址。")
    return url


def _port(scheme: str, port: int | None) -> int | None:
    """The port as written, None for the scheme's default: https://host:443/ is https://host/."""
    return None if port == {"http": 80, "https": 443}.get(scheme) else port


def _secret_check(secret: str) -> str:
    secret = secret.strip()
    if len(secret) > SECRET_MAX_LENGTH:
        raise ValidationError({"secret": f"加签密钥过长（不能超过 {SECRET_MAX_LENGTH} 个字符）。"})
    if secret and not (secret.isascii() and secret.isprintable() and " " not in secret):
        raise ValidationError(
            {"secret": "加签密钥只能包含字母、数字和符号，不能有空格，请从钉钉机器人设置处重新复制。"})
    return secret


def _keyword_check(keyword: str) -> str:
    keyword = keyword.strip()
    max_length = Robot._meta.get_field("keyword").max_length or 50
    if len(keyword) > max_length:
        raise ValidationError({"keyword": f"自定义关键词不能超过 {max_length} 个字。"})
    if any(not c.isprintable() for c in keyword):
        raise ValidationError({"keyword": "自定义关键词不能包含换行或控制字符。"})
    return keyword


def _name_check(name: str) -> str:
    name = (name or "").strip()
    max_length = Robot._meta.get_field("name").max_length or 100
    if not name:
        raise ValidationError({"name": "请填写机器人名称。"})
    if len(name) > max_length:
        raise ValidationError({"name": f"机器人名称不能超过 {max_length} 个字。"})
    return name


def _unit_check(unit: Unit | None, current: Unit | None = None) -> Unit | None:
    if unit is None:
        return None
    fresh = Unit.objects.filter(pk=unit.pk).first()
    if fresh is None:
        raise ValidationError({"unit": "所选单位不存在。"})
    if not fresh.is_active and fresh != current:
        raise ValidationError({"unit": "所选单位已停用，请选择其他单位。"})
    return fresh


def _dingtalk_only(kind: str, *, secret: str | None, keyword: str | None) -> None:
    if kind == Channel.DINGTALK:
        return
    errors = {}
    if secret:
        errors["secret"] = "企业微信机器人没有加签密钥，请留空。"
    if keyword:
        errors["keyword"] = "企业微信机器人没有自定义关键词，请留空。"
    if errors:
        raise ValidationError(errors)


def _collect(checks: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run every check (field → a callable), gather all their errors into one ValidationError by field."""
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for field, check in checks.items():
        try:
            values[field] = check()
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return values


def _unit_text(unit: Unit | None) -> str:
    return str(unit) if unit else "（无：专项行动工作群）"


# ---- the office's writes ---------------------------------------------------------------------------------------

@transaction.atomic
def robot_create(
    *, kind: str, name: str, unit: Unit | None, webhook: str, secret: str = "", keyword: str = "", by: Any,
    ip: str | None = None,
) -> Robot:
    if kind not in ROBOT_CHANNELS:
        raise ValidationError({"kind": "请选择机器人类型（企业微信或钉钉）。"})
    values = _collect({
        "name": lambda: _name_check(name),
        "unit": lambda: _unit_check(unit),
        "webhook": lambda: webhook_check(kind, webhook),
        "secret": lambda: _secret_check(secret or ""),
        "keyword": lambda: _keyword_check(keyword or ""),
    })
    _dingtalk_only(kind, secret=values["secret"], keyword=values["keyword"])
    url = values["webhook"]
    robot = Robot.objects.create(
        kind=kind, name=values["name"], unit=values["unit"], webhook_encrypted=crypto.encrypt(url),
        webhook_hint=crypto.mask(url)[:120], secret_encrypted=crypto.encrypt(values["secret"]),
        keyword=values["keyword"], created_by=by if getattr(by, "pk", None) else None,
    )
    changes: dict[str, Any] = {"kind": _kind_label(kind), "name": robot.name, "unit": _unit_text(robot.unit),
                               "webhook": "已设置"}
    if values["secret"]:
        changes["secret"] = "已设置"
    if values["keyword"]:
        changes["keyword"] = values["keyword"]
    audit_record(action=Action.CREATE, actor=by, obj=robot, ip=ip, changes=changes, note="新增群机器人")
    return robot


@transaction.atomic
def robot_update(
    *, robot: Robot, by: Any, name: str | None = None, unit: Unit | None | _Keep = KEEP, webhook: str | None = None,
    secret: str | None = None, keyword: str | None = None, ip: str | None = None,
) -> Robot:
    """Change what is given: None (KEEP for the unit) leaves a value as it is; an empty secret or keyword clears it;
    an empty webhook is kept (it cannot be cleared). The type of a robot does not change: a robot of the other
    platform is a new robot."""
    robot = Robot.objects.select_for_update(of=("self",)).select_related("unit").get(pk=robot.pk)
    checks: dict[str, Callable[[], Any]] = {}
    if name is not None:
        checks["name"] = lambda: _name_check(name)
    if not isinstance(unit, _Keep):
        checks["unit"] = lambda: _unit_check(unit, robot.unit)
    if webhook:
        checks["webhook"] = lambda: webhook_check(robot.kind, webhook)
    if secret is not None:
        checks["secret"] = lambda: _secret_check(secret)
    if keyword is not None:
        checks["keyword"] = lambda: _keyword_check(keyword)
    values = _collect(checks)
    _dingtalk_only(robot.kind, secret=values.get("secret"), keyword=values.get("keyword"))

    changes: dict[str, Any] = {}
    fields: list[str] = []
    if "name" in values and values["name"] != robot.name:
        changes["name"] = [robot.name, values["name"]]
        robot.name = values["name"]
        fields.append("name")
    if "unit" in values and values["unit"] != robot.unit:
        changes["unit"] = [_unit_text(robot.unit), _unit_text(values["unit"])]
        robot.unit = values["unit"]
        fields.append("unit")
    if "webhook" in values and values["webhook"] != _stored(robot.webhook_encrypted):
        robot.webhook_encrypted = crypto.encrypt(values["webhook"])
        robot.webhook_hint = crypto.mask(values["webhook"])[:120]
        changes["webhook"] = "已更换"
        fields += ["webhook_encrypted", "webhook_hint"]
    if "secret" in values and values["secret"] != _stored(robot.secret_encrypted):
        changes["secret"] = "已更换" if values["secret"] else "已清除"
        robot.secret_encrypted = crypto.encrypt(values["secret"])
        fields.append("secret_encrypted")
    if "keyword" in values and values["keyword"] != robot.keyword:
        changes["keyword"] = [robot.keyword, values["keyword"]]
        robot.keyword = values["keyword"]
        fields.append("keyword")
    if fields:
        robot.save(update_fields=[*fields, "updated_at"])
        audit_record(action=Action.UPDATE, actor=by, obj=robot, ip=ip, changes=changes)
    return robot


def _stored(token: str) -> str | None:
    """The stored text, or None when it cannot be read (the key has changed): anything entered is then new."""
    try:
        return crypto.decrypt(token)
    except ValueError:
        return None


@transaction.atomic
def robot_enable(*, robot: Robot, by: Any, ip: str | None = None) -> Robot:
    """A person re-enables the robot: disabled, suspended and the count of failures are cleared."""
    robot = Robot.objects.select_for_update(of=("self",)).get(pk=robot.pk)
    if status(robot)[0] == "ok" and robot.consecutive_failures == 0:
        return robot
    changes: dict[str, Any] = {}
    if is_disabled(robot):
        changes["is_enabled"] = [False, True]
        if robot.disabled_reason:
            changes["disabled_reason"] = [robot.disabled_reason, ""]
    if robot.suspended_until and robot.suspended_until > timezone.now():
        changes["suspended_until"] = [robot.suspended_until, None]
    robot.is_enabled, robot.disabled_reason, robot.suspended_until, robot.consecutive_failures = True, "", None, 0
    robot.save(update_fields=["is_enabled", "disabled_reason", "suspended_until", "consecutive_failures",
                              "updated_at"])
    audit_record(action=Action.ACTIVATE, actor=by, obj=robot, ip=ip, changes=changes, note="启用群机器人")
    return robot


@transaction.atomic
def robot_disable(*, robot: Robot, by: Any, reason: str, ip: str | None = None) -> Robot:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写停用原因。"})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError({"reason": f"停用原因不能超过 {REASON_MAX_LENGTH} 个字。"})
    robot = Robot.objects.select_for_update(of=("self",)).get(pk=robot.pk)
    changes: dict[str, Any] = {"disabled_reason": [robot.disabled_reason, reason]}
    if robot.is_enabled:
        changes["is_enabled"] = [True, False]
    robot.is_enabled, robot.disabled_reason = False, reason
    robot.save(update_fields=["is_enabled", "disabled_reason", "updated_at"])
    audit_record(action=Action.DEACTIVATE, actor=by, obj=robot, ip=ip, changes=changes, note="停用群机器人")
    return robot


def _test_body(robot: Robot, by: Any, now: dt.datetime) -> str:
    who = getattr(by, "full_name", "") or getattr(by, "username", "") or "作风办"
    return "\n".join([
        f"### {TEST_TITLE}",
        f"> 机器人：{robot.name}",
        f"> 发送人：{who}",
        f"> 时间：{timezone.localtime(now):%Y-%m-%d %H:%M}",
        "",
        "收到本消息，说明机器人设置正确，整改台账的提醒将发到本群。",
    ])


def robot_test(*, robot: Robot, by: Any, now: dt.datetime | None = None) -> channels.Outcome:
    """Send a short test message to the robot now, within its rate limit, and record the answer on the robot.

    No transaction is held across the request to the platform (it may take ROBOT_TIMEOUT_SECONDS): the slot, then
    the answer and its audit entry are each written in their own. A disabled robot is not tried (a person enables
    it first); a suspended one is, so the office can see whether the trouble is over."""
    now = now or timezone.now()
    with transaction.atomic():
        robot = Robot.objects.select_for_update(of=("self",)).get(pk=robot.pk)
        if is_disabled(robot):
            reason = robot.disabled_reason or "作风办停用"
            raise ValidationError(f"机器人已停用（{reason}）：请先启用，再发送测试消息。")
        slot = _take(robot, now)
    if not slot.ok:
        raise ValidationError(slot.reason.replace("稍后自动发送", "请一分钟后再试"))
    message = Delivery(channel=robot.kind, robot=robot, subject=TEST_TITLE, body=_test_body(robot, by, now))
    try:
        outcome = channels.get(robot.kind).send(message)
    except Exception as exc:  # a channel's bug must not hide behind the page: it is shown and recorded
        outcome = channels.Outcome(ok=False, error=f"发送异常：{type(exc).__name__}")
    with transaction.atomic():
        record_outcome(robot, outcome, now=now)
        note = "测试发送成功" if outcome.ok else f"测试发送失败：{outcome.error}"
        audit_record(action=Action.UPDATE, actor=by, obj=robot, note=note[:500])
    return outcome
