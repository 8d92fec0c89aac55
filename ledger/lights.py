"""The deadline light (红黄绿灯): computed from the deadline and today, never stored."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from campaigns.models import Campaign, DeadlineMode
from campaigns.workdays import add_working_days

from .models import OPEN_STATUSES, Light


@dataclass(frozen=True)
class LightInfo:
    light: Light
    days_left: int | None  # calendar days to the deadline; negative when overdue

    @property
    def label(self) -> str:
        if self.light == Light.NONE:
            return ""
        if self.light == Light.RED:
            return f"逾期{-(self.days_left or 0)}天"
        if self.days_left is None:
            return "长期坚持"
        if self.days_left == 0:
            return "今日到期"
        return f"剩余{self.days_left}天"

    @property
    def css(self) -> str:
        return {Light.RED: "danger", Light.YELLOW: "warning", Light.GREEN: "success"}.get(self.light, "secondary")


def yellow_limit(campaign: Campaign, today: dt.date) -> dt.date:
    """The last deadline that is inside the campaign's yellow window today."""
    if campaign.deadline_mode == DeadlineMode.WORKING:
        return add_working_days(today, campaign.yellow_window_days)
    return today + dt.timedelta(days=campaign.yellow_window_days)


def light_for(
    *, deadline: dt.date | None, is_open: bool, campaign: Campaign, today: dt.date | None = None,
    limit: dt.date | None = None,
) -> LightInfo:
    today = today or timezone.localdate()
    if not is_open:
        return LightInfo(Light.NONE, None)
    if deadline is None:
        return LightInfo(Light.GREEN, None)
    days = (deadline - today).days
    if deadline < today:
        return LightInfo(Light.RED, days)
    if deadline <= (limit or yellow_limit(campaign, today)):
        return LightInfo(Light.YELLOW, days)
    return LightInfo(Light.GREEN, days)


def problem_light(problem: object, today: dt.date | None = None, limit: dt.date | None = None) -> LightInfo:
    return light_for(
        deadline=problem.deadline, is_open=problem.status in OPEN_STATUSES,  # type: ignore[attr-defined]
        campaign=problem.campaign, today=today, limit=limit,  # type: ignore[attr-defined]
    )


def light_q(
    light: str, campaigns: Iterable[Campaign], today: dt.date | None = None, prefix: str = "",
    limits: dict[int, dt.date] | None = None,
) -> Q:
    """A filter for problems (or, with prefix "problem__", their measures' problems) showing `light` today.
    `limits` are the campaigns' yellow limits for `today` when the caller has computed them already."""
    today = today or timezone.localdate()
    open_q = Q(**{f"{prefix}status__in": OPEN_STATUSES})
    if light == Light.NONE:
        return ~open_q
    if light == Light.RED:
        return open_q & Q(**{f"{prefix}deadline__lt": today})
    q = Q(pk__in=[])
    for c in campaigns:
        limit = limits[c.pk] if limits and c.pk in limits else yellow_limit(c, today)
        in_campaign = Q(**{f"{prefix}campaign_id": c.pk})
        if light == Light.YELLOW:
            q |= in_campaign & Q(**{f"{prefix}deadline__gte": today, f"{prefix}deadline__lte": limit})
        else:
            q |= in_campaign & (Q(**{f"{prefix}deadline__gt": limit}) | Q(**{f"{prefix}deadline__isnull": True}))
    return open_q & q
