"""Reads of 督办单. An order is seen by whoever may see its problem: every read starts from
`Problem.objects.visible_to(user)`, so an order out of scope is a 404, the same answer as for one that does not
exist."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from ledger.models import Problem

from .models import OrderStatus, SupervisionOrder

OVERDUE = "overdue"  # pseudo-status of the register's filter: 待回复 past the reply deadline
STATUS_FILTER_CHOICES = [("", "全部状态"), *OrderStatus.choices, (OVERDUE, "逾期未回复")]


def orders_visible_to(user: Any) -> QuerySet[SupervisionOrder]:
    return SupervisionOrder.objects.filter(problem__in=Problem.objects.visible_to(user))


def order_detail_qs(user: Any) -> QuerySet[SupervisionOrder]:
    return orders_visible_to(user).select_related(
        "problem__campaign", "problem__lead_unit", "issued_by", "replied_by"
    )


def problem_orders(problem: Problem) -> list[SupervisionOrder]:
    """A problem's orders, the newest first (for its page: the problem is already in the viewer's scope)."""
    return list(problem.orders.select_related("issued_by").order_by("-issued_at", "-id"))


def overdue_q(today: dt.date | None = None) -> Q:
    return Q(status=OrderStatus.OPEN, reply_deadline__lt=today or timezone.localdate())


def order_register(user: Any, params: dict[str, Any], *, today: dt.date | None = None) -> QuerySet[SupervisionOrder]:
    """督办单台账: the orders the user may see, filtered by status (or 逾期未回复), level, lead unit (with its
    subtree) and year; the newest number first."""
    qs = order_detail_qs(user)
    status = params.get("status")
    if status == OVERDUE:
        qs = qs.filter(overdue_q(today))
    elif status:
        qs = qs.filter(status=status)
    if params.get("level"):
        qs = qs.filter(level=params["level"])
    if params.get("unit"):
        qs = qs.filter(problem__lead_unit__path__startswith=params["unit"].path)
    if params.get("year"):
        qs = qs.filter(year=params["year"])
    return qs.order_by("-year", "-seq")


def order_years() -> list[int]:
    """The years that have orders, the latest first (the register's year filter)."""
    return list(SupervisionOrder.objects.order_by("-year").values_list("year", flat=True).distinct())


__all__ = [
    "OVERDUE",
    "STATUS_FILTER_CHOICES",
    "order_detail_qs",
    "order_register",
    "order_years",
    "orders_visible_to",
    "overdue_q",
    "problem_orders",
]
