from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .models import Notification


def bell(request: HttpRequest) -> dict[str, Any]:
    """The unread count for the bell on every page (one indexed count)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": Notification.objects.filter(recipient=user, read_at__isnull=True).count()}
