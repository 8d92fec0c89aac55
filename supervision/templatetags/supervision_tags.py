"""The status badge of a 督办单: 待回复, 已回复, 已撤销, or 逾期未回复 (red) once its reply deadline has passed."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from supervision.models import OrderLevel, OrderStatus, SupervisionOrder
from supervision.orders import is_overdue

register = template.Library()

STATUS_CSS = {OrderStatus.OPEN: "warning", OrderStatus.REPLIED: "success", OrderStatus.WITHDRAWN: "secondary"}
LEVEL_CSS = {OrderLevel.URGE: "info", OrderLevel.SUPERVISE: "warning", OrderLevel.LISTED: "danger"}


@register.inclusion_tag("supervision/_order_status.html")
def order_status_badge(order: SupervisionOrder) -> dict[str, Any]:
    overdue = getattr(order, "overdue", None)
    if overdue is None:
        overdue = is_overdue(order, timezone.localdate())
    if overdue:
        return {"label": "逾期未回复", "css": "danger", "icon": "exclamation-octagon-fill", "status": "overdue"}
    return {"label": order.get_status_display(), "css": STATUS_CSS.get(OrderStatus(order.status), "secondary"),
            "icon": "", "status": order.status}


@register.inclusion_tag("supervision/_order_level.html")
def order_level_badge(level: int) -> dict[str, Any]:
    return {"label": OrderLevel(level).label, "css": LEVEL_CSS.get(OrderLevel(level), "secondary")}
