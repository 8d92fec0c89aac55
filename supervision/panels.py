"""The 督办单 panel on the problem page (a hook the ledger offers: `ledger.panels`)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone

from ledger.models import Problem
from ledger.panels import Panel, register_panel

from . import orders, selectors


def order_panel(request: HttpRequest, problem: Problem) -> Panel | None:
    """The problem's orders (number, level, reply deadline, status; 逾期未回复 in red) and, for the office, the
    button to issue one. Nothing when there is neither."""
    found = selectors.problem_orders(problem)
    can_issue = orders.can_issue(request.user, problem)
    if not found and not can_issue:
        return None
    today = timezone.localdate()
    for o in found:
        o.overdue = orders.is_overdue(o, today)  # type: ignore[attr-defined]
    return {"template": "supervision/_problem_orders.html", "context": {"orders": found, "can_issue": can_issue}}


def register_panels() -> None:
    """Called from `SupervisionConfig.ready()`; calling it again changes nothing."""
    register_panel(order_panel)
