"""Demo data of supervision: today's sweep, so the demo accounts open the app to their reminders.

Called by `load_demo` on every start; the sweep is idempotent (today's keys are taken after the first run)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from ledger.demo import CAMPAIGN_CODE
from ledger.models import Problem, ProblemStatus
from units.models import Role, User

from . import sweep
from .models import OrderLevel, SupervisionOrder
from .orders import order_issue


def _demo_order(stdout: Any) -> None:
    """One 督办单 on the most overdue problem, the first time only."""
    if SupervisionOrder.objects.exists():
        return
    office = User.objects.with_role(Role.OFFICE).filter(is_active=True).order_by("id").first()
    problem = (Problem.objects.filter(status=ProblemStatus.IN_PROGRESS, deadline__lt=timezone.localdate(),
                                      lead_unit__isnull=False).order_by("deadline").first())
    if office is None or problem is None:
        return
    order = order_issue(problem=problem, by=office, level=OrderLevel.SUPERVISE,
                        requirements="请你单位主要负责同志亲自研究部署，逐项制定整改措施，按期整改到位。")
    stdout.write(f"已签发示范督办单 {order.number}（{problem.number}）。")


def load_demo(stdout: Any) -> None:
    _demo_order(stdout)
    today = timezone.localdate()
    result = sweep.sweep_and_send(day=today)
    if not result["working_day"]:
        stdout.write(f"今天（{today:%Y-%m-%d}）不是工作日：每日督办巡查不发送提醒。")
        return
    levels = "，".join(f"{k} {v} 项" for k, v in result["levels"].items()) or "无到期事项"
    stdout.write(f"今日督办巡查：{levels}；新发送消息 {result['sent']} 条。")


def reset_demo(stdout: Any) -> None:
    """The demo campaign's 督办单 go before its problems (an order protects its problem)."""
    deleted, _ = SupervisionOrder.objects.filter(problem__campaign__code=CAMPAIGN_CODE).delete()
    if deleted:
        stdout.write(f"已删除示范督办单 {deleted} 份。")
