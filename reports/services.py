"""Report builds: a numbered run per build, its files made by a core job, on demand or on the campaign's calendar.

    run = report_build(campaign=c, kind=ReportKind.MONTHLY, period_label="2022-05", by=user)
    report_schedule(day=today)  # the beat: 月调度 on the policy's day, 季通报 after a quarter, 周报 on Mondays

Building a period again adds a run with the next version beside the earlier ones (which stay as they were). A
scheduled build claims its (campaign, kind, period) once, however many beats fire. When a run is ready the office
is told at once and the leaders find it in their digest.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, CampaignStatus
from campaigns.workdays import add_working_days, is_workday, overrides_map
from core.audit import Action, audit_record
from core.jobs import job_start
from ledger.models import Transition, TransitionAction
from ledger.workflow import ROLE, WorkflowError
from notifications.services import notify
from units.models import Role, User

from .figures import Period, rate_text, snapshot
from .models import ReportKind, ReportRun, ReportStatus
from .selectors import sees_all

logger = logging.getLogger(__name__)
RUNNER_KIND = "report_build"
SCHEDULED = (ReportKind.MONTHLY, ReportKind.QUARTERLY, ReportKind.WEEKLY)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})\s*-?\s*[Qq]([1-4])$")
_WEEK = re.compile(r"^(\d{4})\s*-?\s*[Ww](\d{1,2})$")
FORMATS: dict[str, str] = {ReportKind.MONTHLY: "2026-11", ReportKind.QUARTERLY: "2026Q3", ReportKind.WEEKLY: "2026-W48"}
CN_QUARTERS = "一二三四"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FINAL_TYPES = {".docx": DOCX, ".pdf": "application/pdf", ".doc": "application/msword",
               ".wps": "application/vnd.ms-works", ".ofd": "application/ofd"}
FINAL_MAX_BYTES = 20 * 1024 * 1024


# ---- periods ----------------------------------------------------------------------------------------------------

def parse_period(kind: str, label: str) -> tuple[str, Period]:
    """("2026Q3", the quarter) from a label of the kind; a malformed label or a period still to come is refused."""
    text = (label or "").strip()
    period: Period | None = None
    if kind in (ReportKind.MONTHLY, ReportKind.ADHOC):
        m = _MONTH.match(text)
        if m and 1 <= int(m.group(2)) <= 12 and int(m.group(1)) >= 1900:
            period = Period.month(int(m.group(1)), int(m.group(2)))
            text = f"{period.start.year:04d}-{period.start.month:02d}"
    elif kind == ReportKind.QUARTERLY:
        m = _QUARTER.match(text)
        if m and int(m.group(1)) >= 1900:
            period = Period.quarter(int(m.group(1)), int(m.group(2)))
            text = f"{m.group(1)}Q{m.group(2)}"
    elif kind == ReportKind.WEEKLY:
        m = _WEEK.match(text)
        if m and int(m.group(1)) >= 1900:
            try:
                period = Period.week(int(m.group(1)), int(m.group(2)))
            except ValueError:
                period = None
            text = f"{m.group(1)}-W{int(m.group(2)):02d}"
    else:
        raise ValidationError(f"不支持的报表类型：{kind}")
    if period is None:
        raise ValidationError(
            f"期间“{label}”格式不正确，{ReportKind(kind).label}的期间应写作“{FORMATS.get(kind, '2026-11')}”。")
    if period.start > timezone.localdate():
        raise ValidationError(f"期间“{label}”尚未开始，不能生成报表。")
    return text, period


def period_text(run: ReportRun) -> str:
    """2026年11月 / 2026年第三季度 / 2026年第48周（11月23日—11月29日）."""
    s, e = run.period_start, run.period_end
    if run.kind == ReportKind.QUARTERLY:
        return f"{s.year}年第{CN_QUARTERS[(s.month - 1) // 3]}季度"
    if run.kind == ReportKind.WEEKLY:
        return f"{s.isocalendar()[0]}年第{s.isocalendar()[1]}周（{s.month}月{s.day}日—{e.month}月{e.day}日）"
    return f"{s.year}年{s.month}月"


def month_label(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def counted_period(run: ReportRun) -> Period:
    return Period(run.period_start, run.period_end).until(run.as_of)


# ---- building ---------------------------------------------------------------------------------------------------

def may_build(user: Any) -> bool:
    """The office and admins build reports and put the signed finals back (they also see every run)."""
    return sees_all(user)


def _import_note(campaign: Campaign, period: Period) -> str:
    """A report of a period before an import says that the imported problems are not in it."""
    later = (Transition.objects.filter(problem__campaign=campaign, action=TransitionAction.IMPORT,
                                       at__gt=period.end_moment)
             .values("problem_id").distinct().count())
    if not later:
        return ""
    first = (Transition.objects.filter(problem__campaign=campaign, action=TransitionAction.IMPORT,
                                       at__gt=period.end_moment).order_by("at").values_list("at", flat=True).first())
    when = timezone.localtime(first).date() if first else period.end
    return (f"本期截止后，{when.year}年{when.month}月{when.day}日起另有{later}个问题由台账导入系统，"
            "按导入时间计入，不含在本期数据中。")


def _doc_number(campaign: Campaign, kind: str, label: str) -> tuple[str, int | None, int | None]:
    """季通报's 文号: a new period takes the year's next number; a new version of a period keeps its number."""
    if kind != ReportKind.QUARTERLY:
        return "", None, None
    earlier = (ReportRun.objects.filter(campaign=campaign, kind=kind, period_label=label, doc_seq__isnull=False)
               .order_by("version").first())
    if earlier is not None:
        return earlier.doc_number, earlier.doc_year, earlier.doc_seq
    year = timezone.localdate().year
    agency = (campaign.bulletin_agency or "作风办").strip()
    last = (ReportRun.objects.filter(doc_year=year, doc_number__startswith=f"{agency}〔")
            .aggregate(m=Max("doc_seq"))["m"])
    seq = (last or 0) + 1
    return f"{agency}〔{year}〕{seq}号", year, seq


@transaction.atomic
def report_build(*, campaign: Campaign, kind: str, period_label: str, by: Any, as_of: dt.date | None = None,
                 inline: bool = False, schedule_key: str | None = None) -> ReportRun:
    """Start building a report of a period as a new version; `inline` builds it before returning.

    `as_of` counts the period only up to that day (a 月调度 on the 25th); by default the period's last day, or
    today for a period still running. `by` None is the schedule."""
    if by is not None and not may_build(by):
        raise WorkflowError("只有作风办人员可以生成报表。", ROLE)
    if kind not in ReportKind.values:
        raise ValidationError(f"不支持的报表类型：{kind}")
    label, period = parse_period(kind, period_label)
    today = timezone.localdate()
    if as_of is not None and not period.start <= as_of <= period.end:
        raise ValidationError(f"统计截至日期应在{period.start:%Y-%m-%d}至{period.end:%Y-%m-%d}之间。")
    if as_of is not None and as_of > today:
        raise ValidationError("统计截至日期不能晚于今天。")
    counted_until = as_of or min(period.end, today)
    Campaign.objects.select_for_update().filter(pk=campaign.pk).first()  # one version number at a time
    last = ReportRun.objects.filter(campaign=campaign, kind=kind, period_label=label).aggregate(v=Max("version"))["v"]
    number, year, seq = _doc_number(campaign, kind, label)
    run = ReportRun.objects.create(
        campaign=campaign, kind=kind, period_label=label, period_start=period.start, period_end=period.end,
        as_of=counted_until, version=(last or 0) + 1, status=ReportStatus.BUILDING,
        built_by=by if getattr(by, "pk", None) else None, doc_number=number, doc_year=year, doc_seq=seq,
        notes=_import_note(campaign, period.until(counted_until)), schedule_key=schedule_key,
    )
    audit_record(action=Action.CREATE, actor=by, obj=run,
                 changes={"kind": ReportKind(kind).label, "period_label": label, "version": run.version},
                 note="按计划生成报表" if by is None else "生成报表")
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


def run_file_name(run: ReportRun, ext: str = "xlsx") -> str:
    return f"{run.campaign.code}-{run.get_kind_display()}-{run.period_label}-v{run.version}.{ext}"


def report_summary(run: ReportRun) -> dict[str, Any]:
    """问题总数, 已销号 and 整改率 of the run's period, from the figures."""
    f = snapshot(run.campaign, counted_period(run)).figures()
    return {"问题总数": f.total, "已销号": f.closed, "整改率": rate_text(f.closure_rate)}


def _files(run: ReportRun) -> list[tuple[str, bytes]]:
    """The run's files, the main one first: (name, content)."""
    period = counted_period(run)
    if run.kind == ReportKind.QUARTERLY:
        from . import quarterly

        s = run.period_start
        bulletin = quarterly.Bulletin(
            campaign=run.campaign, year=s.year, quarter=(s.month - 1) // 3 + 1, period=period,
            doc_number=run.doc_number, issued_on=timezone.localdate(), office_name=settings.SUPERVISION_OFFICE_NAME,
            requirements=run.campaign.bulletin_requirements,
        )
        return [(run_file_name(run, "docx"), quarterly.build_quarterly_docx(bulletin)),
                (run_file_name(run, "xlsx"), quarterly.build_quarterly_xlsx(bulletin))]
    if run.kind == ReportKind.WEEKLY:
        from .weekly import build_weekly_xlsx

        return [(run_file_name(run), build_weekly_xlsx(run.campaign, period))]
    from .monthly import build_monthly_xlsx

    return [(run_file_name(run), build_monthly_xlsx(run.campaign, period, notes=run.notes))]


def run_report_build(job: Any, *, progress: Any = None, run_id: int, **_: Any) -> BuildResult:
    """The job's work: build the run's files and mark it ready, or failed with a Chinese message. A run already
    built (a redelivered job) is left as it is."""
    run = ReportRun.objects.select_related("campaign").get(pk=run_id)
    if run.status != ReportStatus.BUILDING:
        return BuildResult(ok=run.status == ReportStatus.READY, run_id=run_id, error=run.error)
    try:
        files = _files(run)
        if progress:
            progress(80, 100)
        (name, data), *rest = files
        run.file.save(name, ContentFile(data), save=False)
        if rest:
            run.attachment.save(rest[0][0], ContentFile(rest[0][1]), save=False)
        job.result_file.save(name, ContentFile(data), save=False)
        job.save(update_fields=["result_file"])
    except Exception as exc:
        logger.exception("report run %s failed", run_id)
        message = (exc.messages[0] if isinstance(exc, ValidationError)
                   else f"生成报表时发生系统错误（{type(exc).__name__}），请联系技术人员。")
        ReportRun.objects.filter(pk=run_id).update(status=ReportStatus.FAILED, error=message)
        return BuildResult(ok=False, run_id=run_id, error=message)
    with transaction.atomic():
        claimed = ReportRun.objects.filter(pk=run_id, status=ReportStatus.BUILDING).update(
            status=ReportStatus.READY, built_at=timezone.now(), error="", file=run.file.name,
            attachment=run.attachment.name or "")
        if claimed:
            run.refresh_from_db()
            _tell_ready(run)
    return BuildResult(ok=True, run_id=run_id)


def _tell_ready(run: ReportRun) -> None:
    """The office and the leaders: in the notification centre at once, on their other channels in the next
    digest ("您有1份报表已生成"); once per run."""
    title = f"{run.campaign.name}{period_text(run)}{run.get_kind_display()}已生成（第{run.version}版）"
    url = reverse("reports:run_detail", args=[run.pk])
    people = (User.objects.with_role(Role.OFFICE) | User.objects.with_role(Role.LEADER)).filter(is_active=True)
    notify(ref=f"report:{run.pk}", title=title, url=url, recipients=list(people.distinct()), group="report_ready")


# ---- the signed final -------------------------------------------------------------------------------------------

@transaction.atomic
def report_upload_final(*, run: ReportRun, by: Any, upload: UploadedFile, ip: str | None = None) -> ReportRun:
    """The office puts the signed final (edited in Word/WPS, or scanned as PDF) back onto a built run."""
    if not may_build(by):
        raise WorkflowError("只有作风办人员可以上传签发稿。", ROLE)
    run = ReportRun.objects.select_for_update().get(pk=run.pk)
    if run.status != ReportStatus.READY:
        raise ValidationError("报表尚未生成完成，不能上传签发稿。")
    name = upload.name or ""
    ext = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    if ext not in FINAL_TYPES:
        raise ValidationError(f"签发稿“{name}”的格式不受支持，请上传 Word（.docx/.doc）、WPS、OFD 或 PDF 文件。")
    if (upload.size or 0) > FINAL_MAX_BYTES:
        raise ValidationError(f"签发稿“{name}”超过 {FINAL_MAX_BYTES // 1024 // 1024} MB。")
    head = upload.read(8)
    upload.seek(0)
    if ext == ".docx" and not head.startswith(b"PK"):
        raise ValidationError(f"签发稿“{name}”不是有效的 Word 文件。")
    if ext == ".pdf" and not head.startswith(b"%PDF"):
        raise ValidationError(f"签发稿“{name}”不是有效的 PDF 文件。")
    replaced = bool(run.final_file)
    run.final_file.save(f"{run.campaign.code}-{run.get_kind_display()}-{run.period_label}-签发稿{ext}", upload,
                        save=False)
    run.final_uploaded_by = by
    run.final_uploaded_at = timezone.now()
    run.save(update_fields=["final_file", "final_uploaded_by", "final_uploaded_at"])
    audit_record(action=Action.UPDATE, actor=by, ip=ip, obj=run, changes={"final_file": name},
                 note="更换签发稿" if replaced else "上传签发稿")
    return run


# ---- the schedule -----------------------------------------------------------------------------------------------

def _first_workday_from(day: dt.date, overrides: dict[dt.date, bool]) -> dt.date:
    """`day` itself when worked, else the next working day."""
    return add_working_days(day - dt.timedelta(days=1), 1, overrides)


def due_builds(campaign: Campaign, day: dt.date, overrides: dict[dt.date, bool]) -> list[tuple[str, str, dt.date]]:
    """What the campaign's calendar builds on `day`: (kind, period label, counted until)."""
    out: list[tuple[str, str, dt.date]] = []
    if not is_workday(day, overrides):
        return out
    # 月调度: on the policy's day (or the first working day after it), the month up to the day before.
    policy_day = dt.date(day.year, day.month, min(campaign.monthly_report_day or 25, 28))
    if day.day > 1 and _first_workday_from(policy_day, overrides) == day:
        out.append((ReportKind.MONTHLY, month_label(day), day - dt.timedelta(days=1)))
    # 季通报: on the first working day after a quarter, the quarter that ended.
    quarter_start = dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if _first_workday_from(quarter_start, overrides) == day:
        before = quarter_start - dt.timedelta(days=1)
        out.append((ReportKind.QUARTERLY, f"{before.year}Q{(before.month - 1) // 3 + 1}", before))
    # 周报: on the first working day of a week, the week before (for the 周例会).
    monday = day - dt.timedelta(days=day.weekday())
    if _first_workday_from(monday, overrides) == day:
        last = monday - dt.timedelta(days=7)
        year, week, _ = last.isocalendar()
        out.append((ReportKind.WEEKLY, f"{year}-W{week:02d}", monday - dt.timedelta(days=1)))
    return out


def report_schedule(*, day: dt.date | None = None) -> list[int]:
    """Build what the calendar asks for today, for each running campaign; a period already claimed (another
    beat, an earlier retry) is skipped. Returns the runs started."""
    day = day or timezone.localdate()
    overrides = overrides_map()
    started: list[int] = []
    for campaign in Campaign.objects.filter(status=CampaignStatus.ACTIVE).order_by("pk"):
        if campaign.start_date and campaign.start_date > day:
            continue
        for kind, label, until in due_builds(campaign, day, overrides):
            if campaign.start_date and until < campaign.start_date:
                continue
            key = f"{campaign.pk}:{kind}:{label}"
            if ReportRun.objects.filter(schedule_key=key).exists():
                continue
            try:
                with transaction.atomic():
                    run = report_build(campaign=campaign, kind=kind, period_label=label, by=None, as_of=until,
                                       schedule_key=key)
            except IntegrityError:
                continue  # another beat claimed it first
            started.append(run.pk)
    return started
