"""The ledger's pages: the list, the problem page and its actions, the review queue, the liaison's 待办, 回头看.

Access helpers come first. Every object is read through `Problem.objects.visible_to(user)` — a measure, progress
entry, evidence file or 回头看 check only through a visible problem — so anything out of scope is a 404, the same
answer as for something that does not exist. Only then is the write permission asked of `ledger.workflow`
(403 when refused). Writes go through `ledger.services`, `ledger.workflow` and `ledger.lookback`; a refusal they
raise is shown in Chinese and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.forms import Form
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import escape_uri_path
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from campaigns.models import Campaign, CampaignStatus
from campaigns.workdays import add_working_days
from core import filetypes
from core.audit import Action, audit_record, client_ip
from units.http import parse_id, parse_ids, query_text, safe_next
from units.models import Role

from . import drill, lookback, panels, selectors, services, workflow
from .excel.exporter import export_ledger_xlsx
from .filters import ProblemFilterForm
from .forms import (
    AccountabilityRecordForm,
    ApplyForm,
    AssignForm,
    CampaignPickForm,
    EvidenceRemoveForm,
    LookbackDrawForm,
    LookbackRecordForm,
    MeasureForm,
    ProblemForm,
    ProgressForm,
    ReasonForm,
    ReviewForm,
)
from .models import (
    Accountability,
    Evidence,
    Exemplar,
    LookbackCheck,
    LookbackResult,
    Measure,
    Problem,
    RectificationType,
    TransitionAction,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LOOKBACK_PAGE_SIZE = 50
LISTED_REASON_MAX = Problem._meta.get_field("listed_reason").max_length or 300
QUEUE_PAGE_SIZE = 20


# ---- access helpers --------------------------------------------------------------------------------------------

def _require_role(request: HttpRequest, *roles: str) -> None:
    """403 unless the user holds one of `roles`; with none given, any role will do."""
    user: Any = request.user
    if not user.has_role(*(roles or Role.values)):
        raise PermissionDenied("您没有访问此页面的权限。")


def _require(allowed: bool, message: str = "您没有执行此操作的权限。") -> None:
    if not allowed:
        raise PermissionDenied(message)


def _refused(request: HttpRequest, action: str, problem: Problem, *, measure: Measure | None = None,
             back: str | None = None) -> HttpResponse | None:
    """Ask the workflow's table. A user who may never take this step here gets 403; a step refused by the problem's
    present state (or what it lacks) is explained on the problem page. None when the step may go ahead."""
    error = workflow.refusal(action, request.user, problem, measure=measure)
    if error is None:
        return None
    if error.kind == workflow.ROLE:
        raise PermissionDenied(error.message)
    messages.error(request, error.message)
    return HttpResponseRedirect(back or _problem_url(problem))


def _get_problem_for_user(request: HttpRequest, pk: int) -> Problem:
    """The problem if the user may see it; 404 otherwise (also for a problem that does not exist)."""
    return get_object_or_404(selectors.problem_detail_qs(request.user), pk=pk)


def _visible_problems(request: HttpRequest) -> Any:
    return Problem.objects.visible_to(request.user)


def _get_measure_for_user(request: HttpRequest, pk: int) -> Measure:
    return get_object_or_404(
        Measure.objects.select_related("unit", "problem__campaign", "problem__lead_unit"),
        pk=pk, problem__in=_visible_problems(request),
    )


def _get_evidence_for_user(request: HttpRequest, pk: int, *, with_removed: bool = False) -> Evidence:
    """An evidence file of a visible problem; a removed one only when asked (the office's copy for the record)."""
    files = Evidence.all_objects if with_removed else Evidence.objects
    return get_object_or_404(files.select_related("progress__measure__problem__lead_unit", "progress__measure__unit"),
                             pk=pk, problem__in=_visible_problems(request))


def _get_check_for_user(request: HttpRequest, pk: int) -> LookbackCheck:
    return get_object_or_404(
        LookbackCheck.objects.select_related("problem__campaign", "problem__lead_unit", "problem__category"),
        pk=pk, problem__in=_visible_problems(request),
    )


def _show_errors(request: HttpRequest, exc: Exception, form: Form | None = None) -> None:
    """Put a refusal from a service on the form (by field where it names one) or in a message."""
    if isinstance(exc, workflow.WorkflowError):
        if form is not None:
            form.add_error(None, exc.message)
        else:
            messages.error(request, exc.message)
        return
    assert isinstance(exc, ValidationError)
    if form is not None and hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    elif form is not None:
        form.add_error(None, exc.messages)
    else:
        messages.error(request, "；".join(exc.messages))


def _attempt(request: HttpRequest, action: Callable[[], Any], form: Form | None = None) -> tuple[bool, Any]:
    """Run a write; on a refusal, show it and report failure (the service's transaction has rolled back)."""
    try:
        return True, action()
    except (workflow.WorkflowError, ValidationError) as exc:
        _show_errors(request, exc, form)
        return False, None


def _problem_url(problem: Problem, anchor: str = "") -> str:
    return reverse("ledger:problem_detail", args=[problem.pk]) + (f"#{anchor}" if anchor else "")


def _lookback_list_url(batch: str) -> str:
    return f"{reverse('ledger:lookback_list')}?{urlencode({'batch': batch})}"


def _add_another(request: HttpRequest) -> bool:
    """“保存并继续”: the button's name, or its form action's query when the double-submit guard has disabled the
    button (a disabled button's name is not sent)."""
    return "add_another" in request.POST or "add_another" in request.GET


# ---- the ledger list -------------------------------------------------------------------------------------------

def _filter_form(request: HttpRequest) -> tuple[ProblemFilterForm, selectors.Lights, dict[str, Any]]:
    lights = selectors.Lights.for_all_campaigns()
    form = ProblemFilterForm(request.GET or None, user=request.user, campaigns=lights.campaigns)
    params = form.params()
    if request.GET.get("drill"):
        # A number clicked on a dashboard: the list narrows to exactly the problems it counts.
        try:
            params["drill_label"], params["drill_ids"] = drill.resolve(request.user, request.GET["drill"])
        except ValidationError as exc:
            params["drill_error"] = exc.messages[0]
            params["drill_ids"] = []
    return form, lights, params


@login_required
@require_GET
def problem_list(request: HttpRequest) -> HttpResponse:
    """问题台账: every problem the user may see, filtered, sorted, paginated, with counts per light."""
    _require_role(request)
    form, lights, params = _filter_form(request)
    qs, counts = selectors.problem_list(request.user, params, lights=lights)
    # The counts per light already hold the number of rows: no second COUNT for the paginator.
    paginator = Paginator(qs, params["per_page"])
    paginator.count = counts[params["light"]] if params.get("light") else counts["total"]
    page = paginator.get_page(request.GET.get("page"))
    lights.attach(page.object_list)
    return render(request, "ledger/problem_list.html", {
        "form": form, "page_obj": page, "counts": counts, "params": params,
        "is_office": workflow.is_office(request.user),
    })


@login_required
@require_GET
def problem_export(request: HttpRequest) -> HttpResponse:
    """导出: the filtered, scoped ledger in the .xlsx layout offices print."""
    _require_role(request)
    _form, lights, params = _filter_form(request)
    qs = selectors.problems_for_export(request.user, params, lights=lights)
    campaign = params.get("campaign")
    title = f"{campaign.name}问题整改台账" if campaign else "问题整改台账"
    data = export_ledger_xlsx(qs, title=title)
    audit_record(action=Action.EXPORT, actor=request.user, ip=client_ip(request),
                 note=f"导出{title}（{qs.count()}个问题）")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{escape_uri_path(f'{title}-{stamp}.xlsx')}"
    return response


# ---- create and edit -------------------------------------------------------------------------------------------

def _pick_campaign(request: HttpRequest) -> Campaign | None:
    if request.GET.get("pick"):
        return None
    raw = request.POST.get("campaign") or request.GET.get("campaign")
    visible = Campaign.objects.visible_to(request.user)
    if raw:
        pk = parse_id(raw)
        return visible.filter(pk=pk).first() if pk is not None else None
    running = list(visible.exclude(status=CampaignStatus.ENDED)[:2])
    return running[0] if len(running) == 1 else None


@login_required
@require_http_methods(["GET", "POST"])
def problem_create(request: HttpRequest) -> HttpResponse:
    """录入问题 (office). The campaign comes first: its sources and categories are the form's choices."""
    _require(workflow.is_office(request.user), "只有作风办可以录入问题。")
    campaign = _pick_campaign(request)
    if campaign is None:
        pick = CampaignPickForm(request.GET if "campaign" in request.GET else None, user=request.user)
        return render(request, "ledger/campaign_pick.html", {"form": pick})
    form = ProblemForm(request.POST or None, user=request.user, campaign=campaign)
    if request.method == "POST" and form.is_valid():
        ok, problem = _attempt(request, lambda: services.problem_create(
            campaign=campaign, by=request.user, ip=client_ip(request), **form.values()
        ), form)
        if ok:
            messages.success(request, f"已录入问题 {problem.number}（待分派）。")
            if _add_another(request):
                return redirect(f"{reverse('ledger:problem_create')}?campaign={campaign.pk}")
            return redirect(_problem_url(problem))
    return render(request, "ledger/problem_form.html", {"form": form, "campaign": campaign, "problem": None})


@login_required
@require_http_methods(["GET", "POST"])
def problem_edit(request: HttpRequest, pk: int) -> HttpResponse:
    problem = _get_problem_for_user(request, pk)
    if (refused := _refused(request, workflow.EDIT, problem)) is not None:
        return refused
    form = ProblemForm(request.POST or None, user=request.user, campaign=problem.campaign, instance=problem)
    if request.method == "POST" and form.is_valid():
        ok, _ = _attempt(request, lambda: services.problem_update(
            problem=problem, by=request.user, ip=client_ip(request), **form.values()
        ), form)
        if ok:
            messages.success(request, f"已保存问题 {problem.number}。")
            return redirect(_problem_url(problem))
    return render(request, "ledger/problem_form.html", {"form": form, "campaign": problem.campaign, "problem": problem})


@login_required
@require_GET
def deadline_preview(request: HttpRequest) -> HttpResponse:
    """The date N working days after a start date, for the two-mode deadline input (an htmx fragment)."""
    _require_role(request)
    days = parse_id(request.GET.get("deadline_days"))
    try:
        start_raw = request.GET.get("deadline_start") or ""
        start = dt.date.fromisoformat(start_raw) if start_raw else timezone.localdate()
    except ValueError:
        return HttpResponse("")
    if days is None or days > 730:
        return HttpResponse("")
    try:
        due = add_working_days(start, days)
    except (OverflowError, ValueError):
        return render(request, "ledger/_deadline_preview.html", {"error": "日期超出范围"})
    return render(request, "ledger/_deadline_preview.html", {"due": due, "days": days, "start": start})


# ---- assigning -------------------------------------------------------------------------------------------------

def _ids(request: HttpRequest) -> list[int]:
    raw = request.POST.getlist("ids") if request.method == "POST" else request.GET.getlist("ids")
    return parse_ids(raw)


@login_required
@require_http_methods(["GET", "POST"])
def problem_assign(request: HttpRequest) -> HttpResponse:
    """分派 one or several drafts at once; all or nothing."""
    _require(workflow.is_office(request.user), "只有作风办可以分派问题。")
    ids = _ids(request)
    problems = list(
        _visible_problems(request).filter(pk__in=ids).select_related("lead_unit", "campaign")
        .order_by("campaign_id", "seq")
    )
    back = safe_next(request, reverse("ledger:problem_list"))
    if not problems:
        messages.warning(request, "请先勾选要分派的待分派问题。")
        return HttpResponseRedirect(back)
    if len(problems) != len(ids):
        raise Http404("部分问题不存在。")
    # A link of a list that a colleague has acted on since: say which problems moved on, offer nothing to submit.
    refusals = [e.message for p in problems if (e := workflow.refusal(TransitionAction.ASSIGN, request.user, p))]
    form = AssignForm(request.POST or None, user=request.user)
    if not refusals and request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ok, done = _attempt(request, lambda: workflow.assign_many(
            problems=problems, by=request.user, lead_unit=data.get("lead_unit"), deadline=data.get("deadline"),
            reason=(data.get("reason") or "").strip(), ip=client_ip(request),
        ), form)
        if ok:
            messages.success(request, f"已分派 {len(done)} 个问题：{'、'.join(p.number for p in done)}。")
            return HttpResponseRedirect(_problem_url(done[0]) if len(done) == 1 else back)
    return render(request, "ledger/assign.html", {"form": form, "problems": problems, "next": back,
                                                  "refusals": refusals})


# ---- the problem page ------------------------------------------------------------------------------------------

@login_required
@require_GET
def problem_detail(request: HttpRequest, pk: int) -> HttpResponse:
    problem = _get_problem_for_user(request, pk)
    user: Any = request.user
    lights = selectors.Lights([problem.campaign])
    measures = selectors.problem_measures(problem, with_removed=workflow.is_office(user))
    for m in measures:
        m.problem = problem  # the measure's light and permissions read the problem already in hand
        m.light_info = lights.measure(m)  # type: ignore[attr-defined]
        m.can_progress = workflow.can_record_progress(user, m)  # type: ignore[attr-defined]
    _mark_removable_evidence(user, measures)
    actions = workflow.allowed_actions(user, problem)
    rounds = selectors.problem_rounds(problem)
    return render(request, "ledger/problem_detail.html", {
        "problem": problem,
        "light": lights.problem(problem),
        "co_units": list(problem.co_units.order_by("path")),
        "measures": measures,
        "timeline": selectors.problem_timeline(problem, measures),
        "rounds": rounds,
        "history": selectors.problem_history(problem),
        "lookbacks": list(problem.lookbacks.select_related("checked_by").order_by("-drawn_at")),
        "actions": actions,
        "can_edit": workflow.can_edit_problem(user, problem),
        "can_manage_measures": workflow.can_manage_measures(user, problem),
        "can_apply": TransitionAction.APPLY in actions,
        "can_review": TransitionAction.APPROVE in actions,
        "blockers": workflow.apply_blockers(problem) if TransitionAction.APPLY in actions else [],
        "review_form": ReviewForm(),
        "is_long_term": problem.rectification_type == RectificationType.LONG_TERM,
        "evidence_count": sum(len(e.evidence.all()) for m in measures for e in m.progress_entries.all()),
        "can_list": workflow.can(workflow.LIST, user, problem),
        "can_exemplar": workflow.can(workflow.EXEMPLAR, user, problem),
        "exemplar_kinds": [(k, label) for k, label in Exemplar.choices if k],
        "accountabilities": list(problem.accountabilities.select_related("unit").order_by("decided_on", "id")),
        "can_account": workflow.is_office(user),
        "panels": panels.panels_for(request, problem),
    })


@login_required
@require_POST
def problem_list_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    """挂牌督办 by hand, or 取消挂牌 (office), with a reason; `listed` says which, so a second click changes nothing."""
    problem = _get_problem_for_user(request, pk)
    if (refused := _refused(request, workflow.LIST, problem)) is not None:
        return refused
    listed = {"1": True, "0": False}.get(request.POST.get("listed", ""))
    reason = request.POST.get("reason", "").strip()
    if listed is None:
        messages.error(request, "请选择挂牌督办或取消挂牌。")
    elif len(reason) > LISTED_REASON_MAX:
        messages.error(request, f"说明不能超过{LISTED_REASON_MAX}个字。")
    else:
        ok, _ = _attempt(request, lambda: workflow.set_listed(
            problem=problem, by=request.user, listed=listed, reason=reason, ip=client_ip(request)))
        if ok:
            messages.success(request, f"问题 {problem.number} 已{'挂牌督办' if listed else '取消挂牌'}。")
    return redirect(_problem_url(problem))


@login_required
@require_POST
def problem_exemplar(request: HttpRequest, pk: int) -> HttpResponse:
    """典型案例 (office): 正面 or 反面 with a note, or 取消; `kind` says which, so a second click changes nothing."""
    problem = _get_problem_for_user(request, pk)
    if (refused := _refused(request, workflow.EXEMPLAR, problem)) is not None:
        return refused
    kind = request.POST.get("kind")
    if kind not in Exemplar.values:
        messages.error(request, "请选择正面典型、反面典型或取消典型案例。")
    else:
        ok, _ = _attempt(request, lambda: workflow.set_exemplar(
            problem=problem, by=request.user, kind=kind, note=request.POST.get("note", ""), ip=client_ip(request)))
        if ok:
            done = f"列为{Exemplar(kind).label}典型案例" if kind else "取消典型案例"
            messages.success(request, f"问题 {problem.number} 已{done}。")
    return redirect(_problem_url(problem))


@login_required
@require_http_methods(["GET", "POST"])
def accountability_add(request: HttpRequest, pk: int) -> HttpResponse:
    """登记追责问责 on a problem (office)."""
    problem = _get_problem_for_user(request, pk)
    _require(workflow.is_office(request.user), "只有作风办可以登记追责问责。")
    form = AccountabilityRecordForm(request.POST or None, problem=problem)
    if request.method == "POST" and form.is_valid():
        ok, record = _attempt(request, lambda: services.accountability_add(
            problem=problem, by=request.user, ip=client_ip(request), **form.cleaned_data), form)
        if ok:
            messages.success(request, f"已登记追责问责：{record}。")
            return redirect(_problem_url(problem, "accountability"))
    return render(request, "ledger/accountability_form.html", {"form": form, "problem": problem})


@login_required
@require_POST
def accountability_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """删除 a 追责问责 record (office); out of scope is a 404 like the problem."""
    record = get_object_or_404(Accountability.objects.select_related("problem", "unit"), pk=pk,
                               problem__in=_visible_problems(request))
    _require(workflow.is_office(request.user), "只有作风办可以删除追责问责记录。")
    ok, _ = _attempt(request, lambda: services.accountability_delete(record=record, by=request.user,
                                                                      ip=client_ip(request)))
    if ok:
        messages.success(request, f"已删除追责问责记录：{record}。")
    return redirect(_problem_url(record.problem, "accountability"))


# What an evidence file may do once opened: nothing. `sandbox` gives it a unique origin with no scripts, forms,
# popups or plugins; the rest lets an image show (the browser's own image page uses inline styles). PDFs are
# downloaded only: Chromium's PDF viewer does not run in a document under a sandbox CSP (it shows a blocked page),
# and a PDF is not shown without one.
EVIDENCE_CSP = ("sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; base-uri 'none'; "
                "form-action 'none'")


def _serve_evidence(evidence: Evidence, *, inline: bool) -> FileResponse:
    """The stored file with the type found on upload (types not among the accepted kinds, as an older version
    kept them from the browser, go out as octet-stream). Shown in the browser only for an image whose first bytes
    say so again, otherwise as an attachment."""
    kind = filetypes.kind_for_mime(evidence.content_type)
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("文件不存在或已被移除。") from exc
    if inline:
        inline = kind is not None and kind.inline and filetypes.sniff(handle.read(filetypes.HEAD_BYTES)) is kind
        handle.seek(0)
    response = FileResponse(handle, as_attachment=not inline, filename=evidence.original_name,
                            content_type=kind.mime if kind is not None else "application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = EVIDENCE_CSP
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response  # Cache-Control: no-store comes with every response (core.headers)


@login_required
@require_GET
def evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    """佐证材料 are served only here, after the scope check; there is no public media URL. The office can still
    download a removed file, for the record."""
    evidence = _get_evidence_for_user(request, pk, with_removed=workflow.is_office(request.user))
    return _serve_evidence(evidence, inline=False)


@login_required
@require_GET
def evidence_view(request: HttpRequest, pk: int) -> FileResponse:
    """查看: an image opened in the browser; any other file is downloaded as by 下载."""
    evidence = _get_evidence_for_user(request, pk, with_removed=workflow.is_office(request.user))
    return _serve_evidence(evidence, inline=True)


def _mark_removable_evidence(user: Any, measures: list[Measure]) -> None:
    """Set `can_remove` on each evidence file of the problem page (the measures' problem is already attached)."""
    for m in measures:
        for entry in m.progress_entries.all():
            for f in entry.evidence.all():
                f.can_remove = services.evidence_removal_refusal(user, f) is None  # type: ignore[attr-defined]


@login_required
@require_http_methods(["GET", "POST"])
def evidence_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """删除佐证材料 (the uploader or the office, while the unit still works on the problem), after confirming."""
    evidence = _get_evidence_for_user(request, pk, with_removed=True)
    problem = evidence.progress.measure.problem
    back = _problem_url(problem, f"measure-{evidence.progress.measure_id}")
    if evidence.removed_at is not None:
        messages.info(request, f"佐证材料“{evidence.original_name}”已删除。")
        return HttpResponseRedirect(back)
    if (error := services.evidence_removal_refusal(request.user, evidence)) is not None:
        if error.kind == workflow.ROLE:
            raise PermissionDenied(error.message)
        messages.error(request, error.message)
        return HttpResponseRedirect(back)
    form = EvidenceRemoveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ok, _ = _attempt(request, lambda: services.evidence_remove(
            evidence=evidence, by=request.user, reason=form.cleaned_data["reason"], ip=client_ip(request)), form)
        if ok:
            messages.success(request, f"已删除佐证材料“{evidence.original_name}”，记录保留备查。")
            return HttpResponseRedirect(back)
    return render(request, "ledger/evidence_confirm_remove.html", {
        "form": form, "evidence": evidence, "problem": problem, "back": back,
    })


# ---- measures, progress, applying ------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def measure_create(request: HttpRequest, pk: int) -> HttpResponse:
    problem = _get_problem_for_user(request, pk)
    if (refused := _refused(request, workflow.MEASURES, problem)) is not None:
        return refused
    form = MeasureForm(request.POST or None, problem=problem)
    if request.method == "POST" and form.is_valid():
        ok, measure = _attempt(request, lambda: services.measure_create(
            problem=problem, by=request.user, ip=client_ip(request), **form.values()
        ), form)
        if ok:
            messages.success(request, f"已添加整改措施{measure.seq}。")
            if _add_another(request):
                return redirect("ledger:measure_create", pk=problem.pk)
            return redirect(_problem_url(problem, "measures"))
    return render(request, "ledger/measure_form.html", {"form": form, "problem": problem, "measure": None})


@login_required
@require_http_methods(["GET", "POST"])
def measure_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """修改整改措施: the same people and the same time as adding one (the lead unit's liaison, or the office)."""
    measure = _get_measure_for_user(request, pk)
    problem = measure.problem
    if (refused := _refused(request, workflow.MEASURES, problem)) is not None:
        return refused
    form = MeasureForm(request.POST or None, problem=problem, instance=measure)
    if request.method == "POST" and form.is_valid():
        ok, _ = _attempt(request, lambda: services.measure_update(
            measure=measure, by=request.user, ip=client_ip(request), **form.values()
        ), form)
        if ok:
            messages.success(request, f"已保存整改措施{measure.seq}。")
            return redirect(_problem_url(problem, f"measure-{measure.pk}"))
    return render(request, "ledger/measure_form.html", {"form": form, "problem": problem, "measure": measure})


@login_required
@require_http_methods(["GET", "POST"])
def progress_add(request: HttpRequest, pk: int) -> HttpResponse:
    """填报进展 on a measure, with evidence files; an htmx GET gets the bare form to show inline."""
    measure = _get_measure_for_user(request, pk)
    problem = measure.problem
    if (refused := _refused(request, workflow.PROGRESS, problem, measure=measure)) is not None:
        return refused
    form = ProgressForm(request.POST or None, request.FILES or None)
    back = safe_next(request, _problem_url(problem, f"measure-{measure.pk}"))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ok, _ = _attempt(request, lambda: services.progress_add(
            measure=measure, by=request.user, text=data["text"], on=data["on"], files=data["files"],
            mark_status=data.get("mark_status") or None, ip=client_ip(request),
        ), form)
        if ok:
            n = len(data["files"])
            messages.success(request, f"已填报措施{measure.seq}的进展" + (f"，上传佐证材料 {n} 份。" if n else "。"))
            return HttpResponseRedirect(back)
    context = {"form": form, "measure": measure, "problem": problem, "next": back}
    if getattr(request, "htmx", False) and request.method == "GET":
        return render(request, "ledger/_progress_form.html", context)
    return render(request, "ledger/progress_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def problem_apply(request: HttpRequest, pk: int) -> HttpResponse:
    """申请销号 with a summary; the page lists what still stands in the way."""
    problem = _get_problem_for_user(request, pk)
    if (refused := _refused(request, TransitionAction.APPLY, problem)) is not None:
        return refused
    form = ApplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ok, rr = _attempt(request, lambda: workflow.apply(
            problem=problem, by=request.user, summary=form.cleaned_data["summary"],
            rules_made=form.cleaned_data["rules_made"], funds_recovered=form.cleaned_data["funds_recovered"],
            ip=client_ip(request),
        ), form)
        if ok:
            messages.success(request, f"问题 {problem.number} 已提交销号申请（第{rr.round_no}轮），等待作风办核查。")
            return redirect(_problem_url(problem))
    evidence_count = Evidence.objects.filter(problem=problem).count()
    return render(request, "ledger/apply_form.html", {
        "form": form, "problem": problem, "blockers": workflow.apply_blockers(problem),
        "evidence_count": evidence_count,
        "measures": list(problem.measures.select_related("unit").annotate(n_progress=Count("progress_entries"))),
    })


# ---- review ----------------------------------------------------------------------------------------------------

@login_required
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    """待核查: applications for sign-off, the oldest first, with their summary and evidence count."""
    _require(workflow.is_office(request.user), "只有作风办可以核查销号。")
    page = Paginator(selectors.review_queue(request.user), QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    lights = selectors.Lights.for_all_campaigns()
    lights.attach(page.object_list)
    return render(request, "ledger/review_queue.html", {"page_obj": page})


@login_required
@require_http_methods(["GET", "POST"])
def problem_review(request: HttpRequest, pk: int) -> HttpResponse:
    """核查: approve (opinion optional; 阶段性销号 for 长期坚持) or return (opinion required)."""
    problem = _get_problem_for_user(request, pk)
    _require(workflow.is_office(request.user), "只有作风办可以核查销号。")
    back = safe_next(request, _problem_url(problem))
    form = ReviewForm(request.POST or None)
    if request.method == "POST":
        if not form.is_valid():
            for errors in form.errors.values():
                for e in errors:  # an ErrorList yields its messages as str
                    messages.error(request, str(e))
            return HttpResponseRedirect(back)
        decision, opinion = form.cleaned_data["decision"], (form.cleaned_data.get("opinion") or "").strip()
        by, ip = request.user, client_ip(request)
        if decision == ReviewForm.RETURN:
            ok, _ = _attempt(request, lambda: workflow.return_(problem=problem, by=by, opinion=opinion, ip=ip))
            done = f"已退回问题 {problem.number}，核查意见已通知牵头单位。"
        else:
            stage = decision == ReviewForm.STAGE
            ok, _ = _attempt(request, lambda: workflow.approve(
                problem=problem, by=by, opinion=opinion, stage=stage, ip=ip))
            done = f"问题 {problem.number} 已{'阶段性销号' if stage else '核查通过，已销号'}。"
        if ok:
            messages.success(request, done)
        return HttpResponseRedirect(back)
    if (refused := _refused(request, TransitionAction.APPROVE, problem, back=back)) is not None:
        return refused
    rr = problem.review_rounds.order_by("-round_no").first()
    return render(request, "ledger/review_form.html", {
        "form": form, "problem": problem, "round": rr, "next": back,
        "is_long_term": problem.rectification_type == RectificationType.LONG_TERM,
    })


# ---- void and reopen -------------------------------------------------------------------------------------------

def _reason_action(request: HttpRequest, pk: int, *, action: str) -> HttpResponse:
    problem = _get_problem_for_user(request, pk)
    if (refused := _refused(request, action, problem)) is not None:
        return refused
    reopening = action == TransitionAction.REOPEN
    form = ReasonForm(request.POST or None, reopen_deadline=(
        workflow.reopen_deadline_default(problem.campaign) if reopening else None))
    verb = workflow.STEPS[action].verb
    if request.method == "POST" and form.is_valid():
        reason, by, ip = form.cleaned_data["reason"], request.user, client_ip(request)
        if reopening:
            deadline = form.cleaned_data.get("deadline")
            ok, _ = _attempt(request, lambda: workflow.reopen(problem=problem, by=by, reason=reason,
                                                              deadline=deadline, ip=ip), form)
        else:
            ok, _ = _attempt(request, lambda: workflow.void(problem=problem, by=by, reason=reason, ip=ip), form)
        if ok:
            messages.success(request, f"已{verb}问题 {problem.number}。")
            return redirect(_problem_url(problem))
    return render(request, "ledger/reason_form.html", {"form": form, "problem": problem, "verb": verb,
                                                        "action": action})


@login_required
@require_http_methods(["GET", "POST"])
def problem_void(request: HttpRequest, pk: int) -> HttpResponse:
    return _reason_action(request, pk, action=TransitionAction.VOID)


@login_required
@require_http_methods(["GET", "POST"])
def problem_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    return _reason_action(request, pk, action=TransitionAction.REOPEN)


# ---- the liaison's 待办 -----------------------------------------------------------------------------------------

@login_required
@require_GET
def my_tasks(request: HttpRequest) -> HttpResponse:
    """本单位待办: the unit's open problems and measures, most urgent first, with what the liaison can do."""
    _require_role(request, Role.LIAISON)
    user: Any = request.user
    # The home page's cards link here with ?light=red|yellow or ?status=pending_review: the very problems they count.
    light = request.GET.get("light", "")
    light = light if light in ("red", "yellow", "green") else ""
    status = request.GET.get("status", "")
    status = status if status in selectors.TASK_STATUSES else ""
    tasks = selectors.my_tasks(user, light=light, status=status)
    for p in tasks.problems:
        p.can_manage_measures = workflow.can_manage_measures(user, p)  # type: ignore[attr-defined]
        p.can_apply = workflow.can_apply(user, p)  # type: ignore[attr-defined]
    for m in tasks.measures:
        m.can_progress = workflow.can_record_progress(user, m)  # type: ignore[attr-defined]
    return render(request, "ledger/my_tasks.html", {"tasks": tasks, "light": light, "status": status})


# ---- 回头看 ------------------------------------------------------------------------------------------------------

@login_required
@require_GET
def lookback_list(request: HttpRequest) -> HttpResponse:
    _require(workflow.is_office(request.user), "只有作风办可以组织回头看。")
    batch = query_text(request.GET, "batch", 100)
    result = request.GET.get("result", "")
    if result not in LookbackResult.values:
        result = ""
    checks = selectors.lookback_checks(request.user, batch=batch, result=result)
    page = Paginator(checks, LOOKBACK_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "ledger/lookback_list.html", {
        "page_obj": page, "batches": selectors.lookback_batches(request.user), "batch": batch, "result": result,
        "results": LookbackResult.choices,
    })


@login_required
@require_http_methods(["GET", "POST"])
def lookback_draw(request: HttpRequest) -> HttpResponse:
    _require(workflow.is_office(request.user), "只有作风办可以组织回头看。")
    form = LookbackDrawForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        ok, checks = _attempt(request, lambda: lookback.lookback_draw(
            by=request.user, ip=client_ip(request), **form.draw_kwargs()
        ), form)
        if ok:
            batch = form.cleaned_data["batch"].strip()
            messages.success(request, f"已抽取 {len(checks)} 个已销号问题，列入“{batch}”。")
            return HttpResponseRedirect(_lookback_list_url(batch))
    return render(request, "ledger/lookback_draw.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def lookback_record(request: HttpRequest, pk: int) -> HttpResponse:
    check = _get_check_for_user(request, pk)
    _require(workflow.is_office(request.user), "只有作风办可以记录回头看结果。")
    form = LookbackRecordForm(request.POST or None,
                              reopen_deadline=workflow.reopen_deadline_default(check.problem.campaign))
    back = safe_next(request, _lookback_list_url(check.batch))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ok, check = _attempt(request, lambda: lookback.lookback_record(
            check=check, by=request.user, result=data["result"], finding=data.get("finding") or "",
            deadline=data.get("deadline"), ip=client_ip(request),
        ), form)
        if ok:
            if check.result == LookbackResult.RELAPSED:
                messages.warning(request, f"已认定问题 {check.problem.number} 反弹，问题已重新打开，退回整改中。")
                return redirect(_problem_url(check.problem))
            messages.success(request, f"已记录问题 {check.problem.number} 回头看结果：巩固。")
            return HttpResponseRedirect(back)
        check = _get_check_for_user(request, pk)
    return render(request, "ledger/lookback_record.html", {"form": form, "check": check, "next": back})
