"""The audit trail's page for admins: search it, read it, export what was found.

This page reads units and roles (the actor's unit, the admin role), so it names the units app; nothing else in
core does.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from units.models import Role, Unit

from . import selectors
from .audit import Action, audit_record, change_lines
from .forms import AuditFilterForm
from .models import AuditEntry
from .resources import audit_xlsx

PAGE_SIZE = 25
# An export is built while the admin waits (about 0.7 ms an entry, so some 15 s at the limit): beyond this many
# entries the admin is asked to narrow the search.
EXPORT_MAX_ROWS = 20_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _require_admin(request: HttpRequest) -> None:
    user: Any = request.user
    if not user.has_role(Role.ADMIN):
        raise PermissionDenied("您没有访问此页面的权限。")


def _search(request: HttpRequest) -> tuple[AuditFilterForm, QuerySet[AuditEntry]]:
    """The form of the page's query and the entries it finds; nothing for a search that is not valid."""
    units = Unit.objects.visible_to(request.user).order_by("path")
    form = AuditFilterForm(request.GET or None, units=units)
    if not form.is_bound:
        return form, selectors.audit_list()
    if not form.is_valid():
        return form, AuditEntry.objects.none()
    return form, selectors.audit_list(**form.filters())


@login_required
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    form, entries = _search(request)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(entry, change_lines(entry)) for entry in page]
    return render(request, "core/audit_list.html", {"form": form, "page_obj": page, "rows": rows})


@login_required
@require_GET
def audit_export(request: HttpRequest) -> HttpResponse:
    """导出 Excel: the entries of the page's search, all pages; the export is itself an entry of the trail."""
    _require_admin(request)
    form, entries = _search(request)
    back = reverse("core:audit_list") + (f"?{request.GET.urlencode()}" if request.GET else "")
    if form.is_bound and not form.is_valid():
        messages.error(request, "筛选条件有误，未导出。请按提示修改后再导出。")
        return redirect(back)
    count = entries.count()
    if count > EXPORT_MAX_ROWS:
        messages.error(
            request, f"符合条件的记录有 {count} 条，超过单次导出上限 {EXPORT_MAX_ROWS} 条，请缩小日期范围后分次导出。"
        )
        return redirect(back)
    data = audit_xlsx(entries)
    summary = form.summary() if form.is_bound else "全部"
    audit_record(action=Action.EXPORT, actor=request.user, note=f"导出操作日志 {count} 条（筛选条件：{summary}）")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    disposition = content_disposition_header(True, f"操作日志-{stamp}.xlsx")
    assert disposition is not None  # always a header for an attachment
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = disposition
    return response
