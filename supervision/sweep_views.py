"""The office's view of the daily sweep: what each day's run found and sent, a preview, and 立即巡查."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from core.jobs import job_start
from core.models import Job
from notifications.models import Level

from . import sweep
from .models import Sweep

PAGE_SIZE = 30


def _require_office(request: HttpRequest) -> None:
    user: Any = request.user
    if not user.sees_everything:
        raise PermissionDenied("只有作风办可以查看每日督办巡查。")


def _day(request: HttpRequest) -> tuple[dt.date, str]:
    text = (request.GET.get("date") or "").strip()
    if not text:
        return timezone.localdate(), ""
    try:
        return dt.date.fromisoformat(text), ""
    except ValueError:
        return timezone.localdate(), f"日期“{text[:20]}”格式不正确（应为 YYYY-MM-DD），已显示今天。"


@login_required
@require_GET
def sweep_list(request: HttpRequest) -> HttpResponse:
    _require_office(request)
    page = Paginator(Sweep.objects.all(), PAGE_SIZE).get_page(request.GET.get("page"))
    jobs = Job.objects.filter(kind="reminder_sweep").select_related("owner")[:5]
    return render(request, "supervision/sweep_list.html", {
        "page_obj": page, "sweep_time": settings.SWEEP_TIME, "jobs": jobs, "today": timezone.localdate(),
    })


@login_required
@require_GET
def sweep_preview(request: HttpRequest) -> HttpResponse:
    """What the sweep would send on a day, writing nothing."""
    _require_office(request)
    day, error = _day(request)
    if error:
        messages.warning(request, error)
    plan = sweep.sweep_plan(day=day).plan
    assert plan is not None
    by_level: dict[int, list[sweep.Item]] = defaultdict(list)
    for it in plan.items:
        by_level[it.level].append(it)
    levels = [(Level(lv).label, sorted(by_level[lv], key=lambda it: (-it.days, it.number)))
              for lv in (Level.LISTED, Level.SUPERVISE, Level.URGE, Level.REMIND, Level.REPORT) if by_level[lv]]
    recipients = len({s.recipient_id for s in plan.specs if s.recipient_id})
    robots = len({s.robot_id for s in plan.specs if s.robot_id})
    return render(request, "supervision/sweep_preview.html", {
        "day": day, "weekday": sweep.weekday_text(day), "plan": plan, "levels": levels, "recipients": recipients,
        "robots": robots, "units": plan.units,
    })


@login_required
@require_POST
def sweep_run(request: HttpRequest) -> HttpResponse:
    """立即巡查: today's sweep now, through the job engine; what was already sent today is not sent again."""
    _require_office(request)
    job = job_start(kind="reminder_sweep", by=request.user, options={"day": timezone.localdate().isoformat()})
    if job.status == Job.Status.DONE:
        report = job.report or {}
        if not report.get("working_day", True):
            messages.info(request, "今天不是工作日，巡查未发送任何提醒（顺延至下一个工作日）。")
        else:
            messages.success(request, f"巡查完成：新增通知事项 {report.get('new_effects', 0)} 条，"
                                      f"生成消息 {report.get('deliveries', 0)} 条；今日已发送过的不会重复发送。")
    elif job.status == Job.Status.FAILED:
        messages.error(request, job.error or "巡查失败。")
    else:
        messages.info(request, "已开始巡查，稍后刷新本页查看结果。")
    return redirect("supervision:sweep_list")
