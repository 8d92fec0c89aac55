"""Report pages (报表: build, versions, downloads, the signed final) and the closure dashboard (统计分析)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.encoding import escape_uri_path
from django.views.decorators.http import require_GET, require_POST

from core.audit import Action, audit_record, client_ip
from ledger.workflow import WorkflowError

from . import selectors, services
from .dashboard import DIMENSIONS, build_dashboard, charts
from .forms import BuildForm, DashboardForm, FinalForm
from .models import ReportKind, ReportRun, ReportStatus
from .resources import TABLES, dashboard_table_xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE_SIZE = 20


def _require_reader(request: HttpRequest) -> None:
    if not selectors.may_see_reports(request.user):
        raise PermissionDenied("只有作风办、领导和管理员可以查看报表。")


# ---- runs -------------------------------------------------------------------------------------------------------

@login_required
@require_GET
def run_list(request: HttpRequest) -> HttpResponse:
    """报表: every built run the user may see, newest period first, with the build form for the office."""
    _require_reader(request)
    campaigns = selectors.campaigns_for(request.user)
    qs = selectors.runs_for(request.user).order_by("-period_start", "kind", "-version", "-pk")
    kind = request.GET.get("kind", "")
    if kind in ReportKind.values:
        qs = qs.filter(kind=kind)
    campaign_id = request.GET.get("campaign", "")
    if campaign_id.isdigit():
        qs = qs.filter(campaign_id=int(campaign_id))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    form = BuildForm(campaigns=campaigns) if selectors.sees_all(request.user) else None
    return render(request, "reports/run_list.html", {
        "page_obj": page, "form": form, "kinds": ReportKind.choices, "campaigns": campaigns,
        "kind": kind, "campaign_id": campaign_id,
    })


@login_required
@require_POST
def run_build(request: HttpRequest) -> HttpResponse:
    """生成: a new version of a period, built in the background; the page then shows its progress."""
    if not services.may_build(request.user):
        raise PermissionDenied("只有作风办人员可以生成报表。")
    form = BuildForm(request.POST, campaigns=selectors.campaigns_for(request.user))
    if form.is_valid():
        try:
            run = services.report_build(
                campaign=form.cleaned_data["campaign"], kind=form.cleaned_data["kind"],
                period_label=form.cleaned_data["period"], as_of=form.cleaned_data.get("as_of"), by=request.user,
            )
        except ValidationError as exc:
            form.add_error("period" if "期间" in exc.messages[0] else "as_of", exc.messages[0])
        except WorkflowError as exc:
            raise PermissionDenied(exc.message) from exc
        else:
            messages.success(request, f"已开始生成{run}，完成后将通知您。")
            return redirect("reports:run_detail", run.pk)
    qs = selectors.runs_for(request.user).order_by("-period_start", "kind", "-version", "-pk")
    return render(request, "reports/run_list.html", {
        "page_obj": Paginator(qs, PAGE_SIZE).get_page(1), "form": form, "kinds": ReportKind.choices,
        "campaigns": selectors.campaigns_for(request.user), "kind": "", "campaign_id": "",
    })


def _run(request: HttpRequest, pk: int) -> ReportRun:
    _require_reader(request)
    return get_object_or_404(selectors.runs_for(request.user), pk=pk)


@login_required
@require_GET
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    versions = selectors.runs_for(request.user).filter(
        campaign=run.campaign, kind=run.kind, period_label=run.period_label).order_by("-version")
    partial = bool(getattr(request, "htmx", False))
    template = "reports/_run_status.html" if partial else "reports/run_detail.html"
    summary = services.report_summary(run) if run.status == ReportStatus.READY and not partial else None
    return render(request, template, {
        "run": run, "versions": versions, "summary": summary, "period_text": services.period_text(run),
        "final_form": FinalForm() if services.may_build(request.user) and run.status == ReportStatus.READY else None,
        "job": run.job,
    })


WHICH = {"file": "file", "attachment": "attachment", "final": "final_file"}


@login_required
@require_GET
def run_download(request: HttpRequest, pk: int, which: str) -> FileResponse:
    """A run's file (the report, its 附表 or the signed final), only within the user's scope."""
    run = _run(request, pk)
    if which not in WHICH:
        raise Http404
    stored = getattr(run, WHICH[which])
    if not stored:
        raise Http404("文件不存在。")
    name = stored.name.rsplit("/", 1)[-1]
    audit_record(action=Action.EXPORT, actor=request.user, ip=client_ip(request), obj=run,
                 note=f"下载{run}（{name}）")
    response = FileResponse(stored.open("rb"), as_attachment=True, filename=name)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{escape_uri_path(name)}"
    return response


@login_required
@require_POST
def run_upload_final(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    if not services.may_build(request.user):
        raise PermissionDenied("只有作风办人员可以上传签发稿。")
    form = FinalForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.report_upload_final(run=run, by=request.user, upload=form.cleaned_data["file"],
                                         ip=client_ip(request))
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
        else:
            messages.success(request, "签发稿已上传。")
    else:
        messages.error(request, "；".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect("reports:run_detail", run.pk)


# ---- the dashboard ----------------------------------------------------------------------------------------------

def _board(request: HttpRequest) -> tuple[DashboardForm, Any]:
    _require_reader(request)
    campaigns = selectors.campaigns_for(request.user).order_by("-start_date", "-id")
    form = DashboardForm(request.GET or None, campaigns=campaigns, initial={"as_of": timezone.localdate()})
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    campaign = data.get("campaign") or selectors.default_campaign(request.user)
    if campaign is None:
        return form, None
    return form, build_dashboard(request.user, campaign, data.get("as_of") or timezone.localdate())


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """统计分析: the closure dashboard of a campaign as it stood at the end of a day, within the user's scope."""
    form, board = _board(request)
    return render(request, "reports/dashboard.html", {
        "form": form, "board": board, "charts": charts(board) if board else None,
        "dims": DIMENSIONS, "tables": TABLES,
    })


@login_required
@require_GET
def dashboard_export(request: HttpRequest, table: str) -> HttpResponse:
    """A dashboard table as .xlsx (导出)."""
    if table not in TABLES:
        raise Http404
    _form, board = _board(request)
    if board is None:
        raise Http404("没有可统计的专项行动。")
    data = dashboard_table_xlsx(board, table)
    title = f"{board.campaign.name}-{TABLES[table]}-截至{board.as_of:%Y%m%d}"
    audit_record(action=Action.EXPORT, actor=request.user, ip=client_ip(request), note=f"导出统计表：{title}")
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{escape_uri_path(title + '.xlsx')}"
    return response

