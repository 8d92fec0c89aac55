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
