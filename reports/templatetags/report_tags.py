from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.http import urlencode

from reports.figures import rate_text

register = template.Library()


@register.simple_tag
def drill_url(board: Any, figure: str, dim: str = "", key: Any = "") -> str:
    """The ledger list of exactly the problems one dashboard number counts."""
    return f"{reverse('ledger:problem_list')}?{urlencode({'drill': board.drill(figure, dim, str(key) if dim else '')})}"


@register.filter
def rate(value: float | None) -> str:
    return rate_text(value)


@register.simple_tag(takes_context=True)
def leader_dashboard(context: Any) -> Any:
    """The leader's 工作台: the dashboard of the running campaign within their scope (None for others)."""
    from campaigns.models import CampaignStatus
    from reports.dashboard import build_dashboard
    from reports.selectors import campaigns_for
    from units.models import Role

    user = context.get("user")
    if not user or not user.is_authenticated or not user.has_role(Role.LEADER) or user.has_role(Role.OFFICE):
        return None
    campaign = (campaigns_for(user).filter(status=CampaignStatus.ACTIVE).order_by("-start_date", "-id").first())
    return build_dashboard(user, campaign) if campaign else None
