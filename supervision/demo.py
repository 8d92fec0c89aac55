"""Demo data of supervision: today's sweep, so the demo accounts open the app to their reminders.

Called by `load_demo` on every start; the sweep is idempotent (today's keys are taken after the first run)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from . import sweep


def load_demo(stdout: Any) -> None:
    today = timezone.localdate()
    result = sweep.sweep_and_send(day=today)
    if not result["working_day"]:
        stdout.write(f"今天（{today:%Y-%m-%d}）不是工作日：每日督办巡查不发送提醒。")
        return
    levels = "，".join(f"{k} {v} 项" for k, v in result["levels"].items()) or "无到期事项"
    stdout.write(f"今日督办巡查：{levels}；新发送消息 {result['sent']} 条。")
