"""Badges for status and the deadline light, sortable column headers, and the home page's ledger figures."""

from __future__ import annotations

from typing import Any

from django import template
from django.http import QueryDict

from ledger import selectors
from ledger.lights import LightInfo
from ledger.models import Light, MeasureStatus, ProblemStatus

register = template.Library()

STATUS_CSS: dict[str, str] = {
    ProblemStatus.DRAFT: "secondary",
    ProblemStatus.IN_PROGRESS: "primary",
    ProblemStatus.PENDING_REVIEW: "info",
    ProblemStatus.CLOSED: "success",
    ProblemStatus.VOIDED: "dark",
}
MEASURE_CSS: dict[str, str] = {
    MeasureStatus.NOT_STARTED: "secondary",
    MeasureStatus.IN_PROGRESS: "primary",
    MeasureStatus.DONE: "success",
}
LIGHT_ICON = {Light.RED: "exclamation-octagon-fill", Light.YELLOW: "exclamation-triangle-fill",
              Light.GREEN: "check-circle-fill"}


@register.inclusion_tag("ledger/_light.html")
def light_badge(info: LightInfo | None, compact: bool = False) -> dict[str, Any]:
    """红黄绿灯 with days left or overdue; nothing for a closed or voided problem."""
    if info is None or info.light == Light.NONE:
        return {"show": False}
    return {"show": True, "info": info, "css": info.css, "icon": LIGHT_ICON.get(info.light, "circle"),
            "name": Light(info.light).label, "compact": compact}


@register.inclusion_tag("ledger/_status.html")
def status_badge(status: str) -> dict[str, Any]:
    try:
        label = ProblemStatus(status).label
    except ValueError:
        label = status
    return {"label": label, "css": STATUS_CSS.get(status, "secondary"), "status": status}


@register.inclusion_tag("ledger/_status.html")
def measure_status_badge(status: str) -> dict[str, Any]:
    return {"label": MeasureStatus(status).label, "css": MEASURE_CSS.get(status, "secondary"), "status": status}


@register.inclusion_tag("ledger/_sort_header.html", takes_context=True)
def sort_header(context: dict[str, Any], key: str, label: str) -> dict[str, Any]:
    """A column header that sorts by `key`, and reverses when it already does."""
    request = context["request"]
    current = request.GET.get("sort") or "-number"
    query: QueryDict = request.GET.copy()
    active = current.lstrip("-") == key
    descending = active and current.startswith("-")
    query["sort"] = key if descending or not active else f"-{key}"
    query.pop("page", None)
    return {"label": label, "url": f"?{query.urlencode()}", "active": active, "descending": descending}


@register.simple_tag(takes_context=True)
def ledger_home_counts(context: dict[str, Any]) -> dict[str, Any]:
    """The figures for templates/ledger/_home_cards.html, for the user viewing the page."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return selectors.home_counts(user) if user is not None else {}
