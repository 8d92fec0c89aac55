"""Report builds: a numbered run per build, its file made by a core job.

    run = report_build(campaign=c, kind=ReportKind.MONTHLY, period_label="2022-05", by=user)

Building a period again adds a run with the next version beside the earlier ones (which stay as they were).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from campaigns.models import Campaign
from core.audit import Action, audit_record
from core.jobs import job_start
from ledger.workflow import ROLE, WorkflowError, is_office
from units.models import Role

from .figures import Period, rate_text, snapshot
from .models import ReportKind, ReportRun, ReportStatus
from .monthly import build_monthly_xlsx

logger = logging.getLogger(__name__)
RUNNER_KIND = "report_build"
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(label: str) -> Period:
    """"2022-05" as the month's period; a malformed label or a month still to come is refused."""
    m = _MONTH.match((label or "").strip())
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1900:
        raise ValidationError(f"期间“{label}”格式不正确，应为“年-月”，如 2022-05。")
    period = Period.month(int(m.group(1)), int(m.group(2)))
    if period.start > timezone.localdate():
        raise ValidationError(f"期间“{label}”尚未开始，不能生成报表。")
    return period


def _may_build(user: Any) -> bool:
    return is_office(user) or bool(user and user.is_authenticated and user.is_active and user.has_role(Role.ADMIN))


@transaction.atomic
def report_build(*, campaign: Campaign, kind: str, period_label: str, by: Any, inline: bool = False) -> ReportRun:
    """Start building a report of a period as a new version; `inline` builds it before returning."""
    if not _may_build(by):
        raise WorkflowError("只有作风办人员可以生成报表。", ROLE)
    if kind not in ReportKind.values:
        raise ValidationError(f"不支持的报表类型：{kind}")
    if kind != ReportKind.MONTHLY:
        raise ValidationError(f"{ReportKind(kind).label}暂不支持生成。")
    period = parse_month(period_label)
    label = month_label(period.start)
    Campaign.objects.select_for_update().filter(pk=campaign.pk).first()  # one version number at a time
    last = ReportRun.objects.filter(campaign=campaign, kind=kind, period_label=label).aggregate(v=Max("version"))["v"]
    run = ReportRun.objects.create(
        campaign=campaign, kind=kind, period_label=label, period_start=period.start, period_end=period.end,
        version=(last or 0) + 1, status=ReportStatus.BUILDING, built_by=by if getattr(by, "pk", None) else None,
    )
    audit_record(action=Action.CREATE, actor=by, obj=run,
                 changes={"kind": ReportKind(kind).label, "period_label": label, "version": run.version},
                 note="生成报表")
    job = job_start(kind=RUNNER_KIND, by=by, options={"run_id": run.pk}, inline=inline)
    ReportRun.objects.filter(pk=run.pk).update(job=job)
    run.refresh_from_db()
    return run


@dataclass
class BuildResult:
    ok: bool
    run_id: int
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "run_id": self.run_id, "error": self.error}


def run_file_name(run: ReportRun) -> str:
    return f"{run.campaign.code}-{run.get_kind_display()}-{run.period_label}-v{run.version}.xlsx"


def report_summary(run: ReportRun) -> dict[str, Any]:
    """问题总数, 已销号 and 整改率 of the run's period, from the figures."""
    f = snapshot(run.campaign, Period(run.period_start, run.period_end)).figures()
    return {"问题总数": f.total, "已销号": f.closed, "整改率": rate_text(f.closure_rate)}


def run_report_build(job: Any, *, progress: Any = None, run_id: int, **_: Any) -> BuildResult:
    """The job's work: build the run's file and mark it ready, or failed with a Chinese message."""
    run = ReportRun.objects.select_related("campaign").get(pk=run_id)
    try:
        data = build_monthly_xlsx(run.campaign, Period(run.period_start, run.period_end))
        name = run_file_name(run)
        run.file.save(name, ContentFile(data), save=False)
        job.result_file.save(name, ContentFile(data), save=False)
        job.save(update_fields=["result_file"])
    except Exception as exc:
        logger.exception("report run %s failed", run_id)
        message = (exc.messages[0] if isinstance(exc, ValidationError)
                   else f"生成报表时发生系统错误（{type(exc).__name__}），请联系技术人员。")
        ReportRun.objects.filter(pk=run_id).update(status=ReportStatus.FAILED, error=message)
        return BuildResult(ok=False, run_id=run_id, error=message)
    run.status = ReportStatus.READY
    run.built_at = timezone.now()
    run.error = ""
    run.save(update_fields=["file", "status", "built_at", "error"])
    return BuildResult(ok=True, run_id=run_id)


def month_label(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"
