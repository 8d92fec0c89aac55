from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from . import selectors
from .models import Notification


def bell(request: HttpRequest) -> dict[str, Any]:
    """The unread count for the bell on every page (one indexed count); on the office's 工作台, what went wrong in
    delivery lately (robots stopped by a permanent error, messages failed or of unknown outcome)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    context: dict[str, Any] = {
        "unread_notifications": Notification.objects.filter(recipient=user, read_at__isnull=True).count()
    }
    match = getattr(request, "resolver_match", None)
    if match is not None and match.view_name == "home" and user.sees_everything:
        context["delivery_alerts"] = selectors.delivery_alerts()
    return context
