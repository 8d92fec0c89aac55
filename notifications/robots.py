"""Group robots: reserving a slot within the robot's rate limit (across workers), and what an answer does to the
robot (suspended for a while, or disabled until a person re-enables it)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import channels
from .models import Delivery, Robot, RobotSend

WINDOW = dt.timedelta(seconds=60)


@dataclass(frozen=True)
class Slot:
    ok: bool
    until: dt.datetime | None = None
    reason: str = ""
    fail: bool = False  # the robot cannot send at all (disabled): the delivery fails


@transaction.atomic
def reserve(delivery: Delivery, *, now: dt.datetime | None = None) -> Slot:
    """Take one of the robot's requests for this minute, under the robot's row lock (so two workers count the
    same rows), or say until when to wait."""
    now = now or timezone.now()
    if delivery.robot_id is None:
        return Slot(ok=False, fail=True, reason="机器人已删除。")
    robot = Robot.objects.select_for_update().get(pk=delivery.robot_id)
    if not robot.is_enabled or robot.disabled_reason:
        return Slot(ok=False, fail=True, reason=f"机器人已停用：{robot.disabled_reason or '作风办停用'}")
    if robot.suspended_until and robot.suspended_until > now:
        return Slot(ok=False, until=robot.suspended_until,
                    reason=f"机器人暂停发送至 {timezone.localtime(robot.suspended_until):%H:%M}：{robot.last_error}")
    recent = list(
        RobotSend.objects.filter(robot=robot, at__gt=now - WINDOW).order_by("at").values_list("at", flat=True)
    )
    if len(recent) >= settings.ROBOT_RATE_PER_MINUTE:
        return Slot(ok=False, until=recent[0] + WINDOW, reason="机器人每分钟发送条数已满，稍后自动发送。")
    RobotSend.objects.create(robot=robot, at=now)
    RobotSend.objects.filter(robot=robot, at__lt=now - 10 * WINDOW).delete()
    return Slot(ok=True)


def record_outcome(robot: Robot, outcome: channels.Outcome, *, now: dt.datetime | None = None) -> None:
    now = now or timezone.now()
    if outcome.ok:
        Robot.objects.filter(pk=robot.pk).update(consecutive_failures=0, last_sent_at=now, last_error="")
        return
    fields: dict[str, object] = {"last_error": outcome.error[:300]}
    if outcome.disable_robot:
        fields["disabled_reason"] = outcome.error[:300] or "平台返回永久性错误"
    if outcome.suspend_seconds:
        fields["suspended_until"] = now + dt.timedelta(seconds=outcome.suspend_seconds)
    Robot.objects.filter(pk=robot.pk).update(consecutive_failures=robot.consecutive_failures + 1, **fields)
