from __future__ import annotations

from typing import Any

from django import template

from reports.figures import rate_text

register = template.Library()


@register.simple_tag
def drill_url(board: Any, figure: str, dim: str = "", key: Any = "") -> str:
    """The ledger list of exactly the problems one dashboard number counts."""
    return str(board.drill_url(figure, dim, key))


@register.filter
def rate(value: float | None) -> str:
    return rate_text(value)


@register.simple_tag(takes_context=True)
def leader_dashboard(context: Any) -> Any:
    """The leader's 工作台 (`reports.dashboard.leader_home`)."""
    from reports.dashboard import leader_home

    return leader_home(context.get("user"))
