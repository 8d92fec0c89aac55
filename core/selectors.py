"""Reads of the audit trail for its page and its export."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import AuditEntry


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def audit_list(
    *,
    user: str = "",
    unit: Any = None,
    action: str = "",
    result: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[AuditEntry]:
    """The trail, newest first, filtered by who acted (name or login; a failed login by the login name typed), the
    actor's unit with its subunits, the action, the result and the local dates, both included."""
    qs = AuditEntry.objects.select_related("actor", "actor__unit", "content_type")
    if user:
        qs = qs.filter(
            Q(actor_name__icontains=user)
            | Q(actor__username__icontains=user)
            | Q(actor__full_name__icontains=user)
            | Q(actor__isnull=True, action=AuditEntry.Action.LOGIN_FAILED, note__icontains=f"用户名：{user}")
        )
    if unit is not None:
        qs = qs.filter(actor__unit__path__startswith=unit.path)
    if action:
        qs = qs.filter(action=action)
    if result:
        qs = qs.filter(result=result)
    # Local days as ranges on the indexed time, not a date cast of every row.
    if date_from:
        qs = qs.filter(at__gte=_local_midnight(date_from))
    if date_to:
        qs = qs.filter(at__lt=_local_midnight(date_to + dt.timedelta(days=1)))
    return qs.order_by("-at", "-id")


__all__ = ["audit_list"]
