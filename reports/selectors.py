"""Which reports and dashboards a user may see.

A report covers a campaign's whole jurisdiction (a 通报 is addressed to every unit in it): the office and admins
see every run; a leader sees the built runs of the campaigns whose jurisdiction holds their scope; nobody else
sees any. The dashboard itself narrows to the leader's scope (`reports.dashboard.scoped_snapshot`).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from campaigns.models import Campaign, CampaignStatus
from ledger.workflow import is_office
from units.models import Role, scope_paths

from .models import ReportRun, ReportStatus


def sees_all(user: Any) -> bool:
    return is_office(user) or bool(user and user.is_authenticated and user.is_active and user.has_role(Role.ADMIN))


def may_see_reports(user: Any) -> bool:
    return sees_all(user) or bool(user and user.is_authenticated and user.is_active and user.has_role(Role.LEADER))


def campaigns_for(user: Any) -> QuerySet[Campaign]:
    """Campaigns whose reports and dashboards the user may open."""
    if not may_see_reports(user):
        return Campaign.objects.none()
    qs = Campaign.objects.visible_to(user)
    paths = scope_paths(user)
    if paths is None:
        return qs
    if not paths:
        return qs.none()
    # The campaign's jurisdiction holds one of the leader's subtrees (a root at or above it).
    roots = Campaign.jurisdiction.through.objects.values_list("campaign_id", "unit__path")
    ids = {cid for cid, root in roots if any(p.startswith(root) for p in paths)}
    return qs.filter(pk__in=ids)


def default_campaign(user: Any) -> Campaign | None:
    """The campaign a dashboard opens on: the latest one running, else the latest one."""
    campaigns = campaigns_for(user).order_by("-start_date", "-id")
    return campaigns.filter(status=CampaignStatus.ACTIVE).first() or campaigns.first()


def runs_for(user: Any) -> QuerySet[ReportRun]:
    qs = ReportRun.objects.filter(campaign__in=campaigns_for(user))
    if not sees_all(user):
        qs = qs.filter(status=ReportStatus.READY)
    return qs.select_related("campaign", "built_by", "final_uploaded_by", "job")
