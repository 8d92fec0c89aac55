"""Pages for campaigns: the list and overview (every role reads them), and the office's settings pages
(campaign facts and policy, phases, the category catalogue, the sources, the working-day overrides).

Access helpers come first: reading needs any role, writing needs the office or an admin (403 otherwise);
objects are read only through `visible_to` (404 for anything out of scope).
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.forms import BaseForm
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.audit import Action, audit_record, client_ip
from units.http import parse_id
from units.models import Role

from . import selectors, services
from .forms import (
    CalendarOverrideForm,
    CampaignForm,
    CategoryCopyForm,
    CategoryForm,
    CategoryImportForm,
    phase_formset,
    source_formset,
)
from .models import CalendarOverride, Campaign, Category
from .resources import category_workbook
from .workdays import last_covered_year

# A catalogue file waits in the session between its preview and the confirmation; catalogues are small.
IMPORT_SESSION_KEY = "campaigns.category_import"
IMPORT_SESSION_MAX_BYTES = 2 * 1024 * 1024


def _require_role(request: HttpRequest) -> None:
    user: Any = request.user
    if not user.has_role(*Role.values):
        raise PermissionDenied("您没有访问此页面的权限。")


def _require_manager(request: HttpRequest) -> None:
    if not services.can_manage(request.user):
        raise PermissionDenied("只有作风办或系统管理员可以修改专项行动的设置。")


def _get_campaign(request: HttpRequest, pk: int, *, for_update: bool = False) -> Campaign:
    if for_update:
        _require_manager(request)
    else:
        _require_role(request)
    return get_object_or_404(Campaign.objects.visible_to(request.user), pk=pk)


def _get_category(campaign: Campaign, pk: int) -> Category:
    return get_object_or_404(Category.objects.select_related("parent"), pk=pk, campaign=campaign)


def _add_errors(form: BaseForm, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: by field where the form has it, above the form otherwise."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _warn_about_phases(request: HttpRequest, campaign: Campaign) -> None:
    """Dates that are allowed but look mistaken are saved, and said out loud."""
    for warning in selectors.phase_warnings(campaign):
        messages.warning(request, warning)


# ---------------------------------------------------------------- campaigns


@login_required
@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    _require_role(request)
    today = timezone.localdate()
    rows = [(c, selectors.current_phase(c, today)) for c in selectors.campaign_list(request.user)]
    context = {"rows": rows, "can_manage": services.can_manage(request.user)}
    return render(request, "campaigns/campaign_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def campaign_create(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    data = request.POST if request.method == "POST" else None
    form = CampaignForm(data, units=selectors.jurisdiction_choices(request.user),
                        report_unit_choices=selectors.jurisdiction_choices(request.user))
    phases = phase_formset(data, initial=[{"kind": k, "name": label} for k, label in services.DEFAULT_PHASES])
    if data is not None and all([form.is_valid(), phases.is_valid()]):
        try:
            campaign = services.campaign_create(
                by=request.user, jurisdiction=form.cleaned_data["jurisdiction"], phases=phases.phases(),
                report_units=form.cleaned_data.get("report_units") or [], ip=client_ip(request),
                **form.service_values(),
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"已创建专项行动“{campaign.name}”，并设置了默认的问题来源。")
            _warn_about_phases(request, campaign)
            return redirect("campaigns:campaign_detail", campaign.pk)
    return render(request, "campaigns/campaign_form.html", {"form": form, "phases": phases, "campaign": None})


@login_required
@require_GET
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _get_campaign(request, pk)
    tree = selectors.category_tree(campaign)
    context = {
        "campaign": campaign,
        "phases": list(campaign.phases.all()),
        "current_phase": selectors.current_phase(campaign),
        "warnings": selectors.phase_warnings(campaign),
        "jurisdiction": list(campaign.jurisdiction.order_by("path")),
        "top_categories": [n for n in tree if n.depth == 0],
        "category_total": sum(1 for n in tree if n.category.is_active),
        "sources": list(selectors.source_list(campaign)),
        "can_manage": services.can_manage(request.user),
        "calendar_notice": selectors.calendar_notice(campaign.start_date, campaign.end_date),
        "sweep_time": settings.SWEEP_TIME,
    }
    return render(request, "campaigns/campaign_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _get_campaign(request, pk, for_update=True)
    data = request.POST if request.method == "POST" else None
    initial = {f: getattr(campaign, f) for f in (*services.CAMPAIGN_FIELDS, *services.POLICY_FIELDS)}
    initial["jurisdiction"] = list(campaign.jurisdiction.all())
    initial["report_units"] = list(campaign.report_units.all())
    units = selectors.jurisdiction_choices(request.user) | campaign.jurisdiction.all()
    rows = selectors.jurisdiction_choices(request.user) | campaign.report_units.all()
    form = CampaignForm(data, initial=initial, units=units.distinct(), report_unit_choices=rows.distinct())
    phase_initial = [
        {"id": p.pk, "kind": p.kind, "name": p.name, "start_date": p.start_date, "deadline": p.deadline,
         "note": p.note}
        for p in campaign.phases.all()
    ]
    phases = phase_formset(data, initial=phase_initial)
    if data is not None and all([form.is_valid(), phases.is_valid()]):
        try:
            services.campaign_update(
                campaign=campaign, by=request.user, jurisdiction=form.cleaned_data["jurisdiction"],
                report_units=form.cleaned_data.get("report_units") or [], phases=phases.phases(),
                ip=client_ip(request), **form.service_values(),
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "已保存。")
            _warn_about_phases(request, campaign)
            return redirect("campaigns:campaign_detail", campaign.pk)
    return render(request, "campaigns/campaign_form.html", {"form": form, "phases": phases, "campaign": campaign})


# ---------------------------------------------------------------- categories


@login_required
@require_GET
def category_list(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _get_campaign(request, pk)
    tree = selectors.category_tree(campaign)
    context = {
        "campaign": campaign,
        "tree": tree,
        "active_count": sum(1 for n in tree if n.category.is_active),
        "can_manage": services.can_manage(request.user),
    }
    return render(request, "campaigns/category_list.html", context)


def _parent_choices(campaign: Campaign, category: Category | None = None) -> Any:
    qs = Category.objects.filter(campaign=campaign)
    if category is None:
        return qs.filter(is_active=True).order_by("sort_order", "code")
    keep = Q(is_active=True) | Q(pk=category.parent_id)
    excluded = {category.pk, *selectors.category_descendant_ids(category)}
    return qs.filter(keep).exclude(pk__in=excluded).order_by("sort_order", "code")


@login_required
@require_http_methods(["GET", "POST"])
def category_create(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _get_campaign(request, pk, for_update=True)
    parents = _parent_choices(campaign)
    initial: dict[str, Any] = {}
    parent_id = parse_id(request.GET.get("parent"))
    if parent_id is not None:
        initial["parent"] = parents.filter(pk=parent_id).first()
    form = CategoryForm(request.POST or None, initial=initial, parents=parents)
    if request.method == "POST" and form.is_valid():
        try:
            category = services.category_create(campaign=campaign, by=request.user, ip=client_ip(request),
                                                 **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"已新增类别“{category}”。")
            return redirect("campaigns:category_list", campaign.pk)
    return render(request, "campaigns/category_form.html", {"campaign": campaign, "form": form, "category": None})


@login_required
@require_http_methods(["GET", "POST"])
def category_edit(request: HttpRequest, pk: int, category_pk: int) -> HttpResponse:
    campaign = _get_campaign(request, pk, for_update=True)
    category = _get_category(campaign, category_pk)
    initial = {"code": category.code, "name": category.name, "parent": category.parent,
               "sort_order": category.sort_order}
    form = CategoryForm(request.POST or None, initial=initial, parents=_parent_choices(campaign, category))
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        if values["sort_order"] is None:
            values["sort_order"] = category.sort_order
        try:
            services.category_update(category=category, by=request.user, ip=client_ip(request), **values)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"已保存类别“{values['code']} {values['name']}”。")
            return redirect("campaigns:category_list", campaign.pk)
    return render(
        request, "campaigns/category_form.html", {"campaign": campaign, "form": form, "category": category}
    )


@login_required
@require_http_methods(["GET", "POST"])
def category_toggle_active(request: HttpRequest, pk: int, category_pk: int) -> HttpResponse:
    """GET asks for confirmation; only a POST changes anything."""
    campaign = _get_campaign(request, pk, for_update=True)
    category = _get_category(campaign, category_pk)
    if request.method == "POST":
        active = request.POST.get("active") == "1"
        try:
            n = services.category_set_active(category=category, by=request.user, active=active,
                                             ip=client_ip(request))
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            if active:
                messages.success(request, f"已启用类别“{category}”。")
            else:
                messages.success(request, f"已停用类别“{category}”" + (f"及其 {n - 1} 个下级类别。" if n > 1 else "。"))
        return redirect("campaigns:category_list", campaign.pk)
    descendants = Category.objects.filter(pk__in=selectors.category_descendant_ids(category), is_active=True).count()
    return render(
        request, "campaigns/category_confirm_active.html",
        {"campaign": campaign, "category": category, "activate": not category.is_active, "descendants": descendants},
    )


@login_required
@require_http_methods(["GET", "POST"])
def category_import(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload → preview (nothing written); the file waits in the session for the confirmation."""
    campaign = _get_campaign(request, pk, for_update=True)
    form = CategoryImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        report = services.category_import(campaign=campaign, file=upload, by=request.user, dry_run=True)
        request.session.pop(IMPORT_SESSION_KEY, None)
        if report.ok:
            if (upload.size or 0) > IMPORT_SESSION_MAX_BYTES:
                report.file_error = "类别清单文件过大（超过 2 MB），请删去无关的工作表或内容后重新上传。"
            else:
                upload.seek(0)
                request.session[IMPORT_SESSION_KEY] = {
                    "campaign": campaign.pk,
                    "name": upload.name,
                    "data": base64.b64encode(upload.read()).decode("ascii"),
                }
    return render(request, "campaigns/category_import.html", {"campaign": campaign, "form": form, "report": report})


@login_required
@require_POST
def category_import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _get_campaign(request, pk, for_update=True)
    pending = request.session.get(IMPORT_SESSION_KEY)
    if not pending or pending.get("campaign") != campaign.pk:
        messages.error(request, "没有待确认的导入，请重新上传文件。")
        return redirect("campaigns:category_import", campaign.pk)
    data = base64.b64decode(pending["data"])
    report = services.category_import(
        campaign=campaign, file=io.BytesIO(data), by=request.user, ip=client_ip(request)
    )
    request.session.pop(IMPORT_SESSION_KEY, None)
    if report.applied:
        messages.success(request, f"已导入问题类别：{report.summary()}。")
        return redirect("campaigns:category_list", campaign.pk)
    # The catalogue changed since the preview in a way that now makes the file fail.
    return render(
        request, "campaigns/category_import.html",
        {"campaign": campaign, "form": CategoryImportForm(), "report": report},
    )


@login_required
@require_http_methods(["GET", "POST"])
def category_copy(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _get_campaign(request, pk, for_update=True)
    form = CategoryCopyForm(
        request.POST or None, campaigns=selectors.other_campaigns_with_categories(campaign, request.user)
    )
    if request.method == "POST" and form.is_valid():
        try:
            report = services.categories_copy(
                source_campaign=form.cleaned_data["source"], target_campaign=campaign, by=request.user,
                ip=client_ip(request),
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"已从“{form.cleaned_data['source']}”复制问题类别：{report.summary()}。")
            return redirect("campaigns:category_list", campaign.pk)
    return render(request, "campaigns/category_copy.html", {"campaign": campaign, "form": form})


@login_required
@require_GET
def category_export(request: HttpRequest, pk: int) -> FileResponse:
    campaign = _get_campaign(request, pk)
    categories = [n.category for n in selectors.category_tree(campaign)]
    data = category_workbook(categories)
    audit_record(action=Action.EXPORT, actor=request.user, obj=campaign, ip=client_ip(request),
                 note=f"导出问题类别 {len(categories)} 个")
    return FileResponse(
        io.BytesIO(data), as_attachment=True, filename=f"{campaign.code}_问题类别.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


# ---------------------------------------------------------------- sources


@login_required
@require_http_methods(["GET", "POST"])
def sources(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _get_campaign(request, pk, for_update=request.method == "POST")
    can_manage = services.can_manage(request.user)
    items = list(selectors.source_list(campaign))
    formset = None
    error = ""
    if can_manage:
        initial = [{"id": s.pk, "name": s.name, "is_active": s.is_active} for s in items]
        formset = source_formset(request.POST if request.method == "POST" else None, initial=initial)
        if request.method == "POST" and formset.is_valid():
            try:
                services.sources_set(campaign=campaign, by=request.user, rows=formset.rows(), ip=client_ip(request))
            except ValidationError as exc:
                error = "；".join(exc.messages)
            else:
                messages.success(request, "已保存问题来源。")
                return redirect("campaigns:sources", campaign.pk)
    counts = {s.pk: s.problem_count for s in items}  # type: ignore[attr-defined]
    rows = [(form, counts.get(form.initial.get("id"), 0)) for form in formset.forms] if formset else []
    return render(
        request, "campaigns/sources.html",
        {"campaign": campaign, "items": items, "formset": formset, "rows": rows, "error": error,
         "can_manage": can_manage},
    )


# ---------------------------------------------------------------- working days


def _calc(request: HttpRequest) -> dict[str, Any] | None:
    """The little deadline calculator on the calendar page: start + n days, both ways."""
    start_text, n_text = request.GET.get("start", ""), request.GET.get("n", "")
    if not start_text or not n_text:
        return None
    try:
        start = dt.date.fromisoformat(start_text)
    except ValueError:
        start = None
    n = 0 if n_text == "0" else parse_id(n_text)
    if start is None or n is None or n > 366:
        return {"error": "请输入有效的起始日期和 0～366 之间的天数。"}
    try:
        return {
            "start": start, "n": n,
            "calendar": services.deadline_from(start=start, n=n, working=False),
            "working": services.deadline_from(start=start, n=n, working=True),
        }
    except (OverflowError, ValueError):  # past 9999-12-31
        return {"error": "日期超出范围，请输入更早的起始日期或更少的天数。"}


@login_required
@require_http_methods(["GET", "POST"])
def calendar(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        _require_manager(request)
    else:
        _require_role(request)
    can_manage = services.can_manage(request.user)
    form = CalendarOverrideForm(request.POST or None) if can_manage else None
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            o = services.calendar_override_set(by=request.user, ip=client_ip(request), **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"已将 {o.date:%Y-%m-%d} 设为{'上班' if o.is_workday else '休息'}。")
            return redirect("campaigns:calendar")
    today = timezone.localdate()
    context = {
        "rows": selectors.calendar_overrides(),
        "form": form,
        "can_manage": can_manage,
        "calc": _calc(request),
        "today": today,
        "covered_until": last_covered_year(),
        "calendar_notice": selectors.calendar_notice(),
    }
    return render(request, "campaigns/calendar.html", context)


@login_required
@require_POST
def calendar_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    override = get_object_or_404(CalendarOverride, pk=pk)
    day = override.date
    services.calendar_override_delete(override=override, by=request.user, ip=client_ip(request))
    messages.success(request, f"已删除 {day:%Y-%m-%d} 的调整，该日按国家法定安排计算。")
    return redirect("campaigns:calendar")
