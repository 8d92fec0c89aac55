"""Reads of the notification centre: who is in a unit's circle, the bell's list, the delivery log in scope."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from units.models import Role, Unit, User, UserRole

from .models import Delivery, DeliveryStatus, Notification, Robot


@dataclass
class Circles:
    """The people around each unit: its liaisons, its leaders, and the leaders who oversee it (分管领导, a unit
    assigned to them or an ancestor of it); and the office. Built in four queries for any number of units."""

    liaisons: dict[int, list[User]] = field(default_factory=lambda: defaultdict(list))
    leaders: dict[int, list[User]] = field(default_factory=lambda: defaultdict(list))
    overseers: dict[int, list[User]] = field(default_factory=lambda: defaultdict(list))
    office: list[User] = field(default_factory=list)


def circles(unit_ids: Iterable[int]) -> Circles:
    unit_ids = set(unit_ids)
    out = Circles()
    units = dict(Unit.objects.filter(pk__in=unit_ids).values_list("pk", "path"))
    grants = (UserRole.objects.filter(role__in=[Role.LIAISON, Role.LEADER, Role.OFFICE], user__is_active=True)
              .filter(user__unit_id__in=unit_ids) | UserRole.objects.filter(role=Role.OFFICE, user__is_active=True)
              ).select_related("user")
    for g in grants:
        u = g.user
        if g.role == Role.OFFICE:
            if u not in out.office:
                out.office.append(u)
        elif g.role == Role.LIAISON and u.unit_id in unit_ids:
            out.liaisons[u.unit_id].append(u)
        elif g.role == Role.LEADER and u.unit_id in unit_ids:
            out.leaders[u.unit_id].append(u)
    overseen = User.overseen_units.through.objects.filter(
        user__is_active=True, user__role_grants__role=Role.LEADER
    ).select_related("user", "unit")
    by_path: list[tuple[str, User]] = [(o.unit.path, o.user) for o in overseen]
    for uid, path in units.items():
        seen: set[int] = set()
        for p, leader in by_path:
            if path.startswith(p) and leader.pk not in seen:
                seen.add(leader.pk)
                out.overseers[uid].append(leader)
    return out


def notifications_for(user: Any, *, unread: bool = False, group: str = "") -> QuerySet[Notification]:
    qs = Notification.objects.filter(recipient=user)
    if unread:
        qs = qs.filter(read_at__isnull=True)
    if group:
        qs = qs.filter(group=group)
    return qs


def deliveries_visible_to(user: Any) -> QuerySet[Delivery]:
    """The delivery log: the office and admins see every message; nobody else sees the log."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Delivery.objects.none()
    if user.sees_everything:
        return Delivery.objects.all()
    return Delivery.objects.none()


ALERT_DAYS = 7


def delivery_alerts(*, days: int = ALERT_DAYS) -> dict[str, int]:
    """What went wrong in delivery lately, for the office's 工作台: robots stopped by a permanent error, and
    messages of the last `days` days that failed or whose outcome is unknown."""
    since = timezone.now() - dt.timedelta(days=days)
    return {
        "robots": Robot.objects.exclude(disabled_reason="").count(),
        "failed": Delivery.objects.filter(
            status__in=[DeliveryStatus.FAILED, DeliveryStatus.UNKNOWN], created_at__gte=since).count(),
        "days": days,
    }
