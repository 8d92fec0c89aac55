"""Pages for accounts, the unit tree, users, the audit log and roster import.

Access helpers come first: every page says which roles may open it (403 otherwise) and reads objects only
through `visible_to` (404 for anything out of scope, the same answer as for anything that does not exist).
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from core.audit import client_ip
from core.jobs import job_apply, job_import_create, job_preview, job_repreview
from core.mappings import field_choices, mapping_from_post, mapping_save
from core.models import Job
from core.text import excel_text

from . import selectors
from .forms import ChinesePasswordChangeForm, RosterUploadForm, UnitSearchForm, UserFilterForm
from .http import parse_ids, safe_next
from .middleware import HtmxHttpRequest
from .models import Role, RosterKind, Unit, User
from .navigation import menu_for
from .roster import UNIT_COLUMNS, USER_COLUMNS
from .services import (
    initial_passwords_reissue,
    initial_passwords_take,
    unit_set_active,
    user_change_password,
    user_reset_password,
    user_set_active,
    user_unlock,
)

PAGE_SIZE = 25
ROSTER_KINDS = (RosterKind.UNITS, RosterKind.USERS)


def _require_role(request: HttpRequest, *roles: str) -> None:
    """403 unless the user holds one of `roles`; with no roles given, any role will do."""
    user: Any = request.user
    if not user.has_role(*(roles or Role.values)):
        raise PermissionDenied("您没有访问此页面的权限。")


def _get_unit(request: HttpRequest, pk: int) -> Unit:
    return get_object_or_404(Unit.objects.visible_to(request.user).select_related("parent"), pk=pk)


def _get_user(request: HttpRequest, pk: int) -> User:
    return get_object_or_404(User.objects.visible_to(request.user).select_related("unit"), pk=pk)


def _get_roster_job(request: HttpRequest, pk: int) -> Job:
    """Roster jobs only: the ledger's import jobs have their own pages and their own access rules."""
    _require_role(request, Role.ADMIN)
    return get_object_or_404(Job.objects.select_related("owner"), pk=pk, kind__in=ROSTER_KINDS)


def _paginate(request: HttpRequest, object_list: Any) -> Page:
    return Paginator(object_list, PAGE_SIZE).get_page(request.GET.get("page"))


def _greeting() -> str:
    hour = timezone.localtime().hour
    if hour < 6:
        return "夜深了"
    if hour < 12:
        return "上午好"
    if hour < 14:
        return "中午好"
    if hour < 19:
        return "下午好"
    return "晚上好"


# ---------------------------------------------------------------- home and accounts


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    quick_links = [item for item in menu_for(user, request.path) if item["url"] != reverse("home")]
    return render(
        request,
        "home.html",
        {"greeting": _greeting(), "quick_links": quick_links, "has_role": bool(user.role_codes) or user.is_admin},
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    """Django's form checks the old password and the new pair; the service sets it, clears the
    first-login flag and writes the audit entry."""
    user: Any = request.user
    forced = bool(user.must_change_password)
    form = ChinesePasswordChangeForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user_change_password(user=user, new_password=form.cleaned_data["new_password1"], ip=client_ip(request))
        except ValidationError as exc:
            form.add_error("new_password1", exc)
        else:
            update_session_auth_hash(request, user)
            messages.success(request, "密码已修改，下次登录请使用新密码。")
            return redirect("password_change_done")
    return render(request, "registration/password_change_form.html", {"form": form, "forced": forced})


@login_required
def password_change_done(request: HttpRequest) -> HttpResponse:
    return render(request, "registration/password_change_done.html")


# ---------------------------------------------------------------- units


@login_required
@require_GET
def unit_tree(request: HttpRequest) -> HttpResponse:
    _require_role(request)
    form = UnitSearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    tree = selectors.unit_tree_for(request.user, query)
    return render(request, "units/unit_tree.html", {"form": form, "tree": tree, "query": query})


@login_required
@require_GET
def unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_role(request)
    unit = _get_unit(request, pk)
    visible = Unit.objects.visible_to(request.user)
    ancestors = list(visible.filter(pk__in=unit.ancestor_ids()[:-1]).order_by("path"))
    children = list(visible.filter(parent=unit).order_by("sort_order", "code"))
    members = selectors.users_with_roles(User.objects.visible_to(request.user).filter(unit=unit)).order_by(
        "username"
    )
    return render(
        request,
        "units/unit_detail.html",
        {"unit": unit, "ancestors": ancestors, "children": children, "members": members},
    )


@login_required
@require_http_methods(["GET", "POST"])
def unit_toggle_active(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; only a POST changes anything."""
    _require_role(request, Role.ADMIN)
    unit = _get_unit(request, pk)
    back = safe_next(request, reverse("units:unit_detail", args=[unit.pk]))
    if request.method == "POST":
        active = request.POST.get("active") == "1"
        unit_set_active(unit=unit, active=active, by=request.user, ip=client_ip(request))
        messages.success(request, f"已{'启用' if active else '停用'}单位“{unit.name}”。")
        return HttpResponseRedirect(back)
    active_children = Unit.objects.subtree_of(unit).filter(is_active=True).exclude(pk=unit.pk).count()
    return render(
        request,
        "units/unit_confirm_active.html",
        {"unit": unit, "activate": not unit.is_active, "active_children": active_children, "next": back},
    )


# ---------------------------------------------------------------- users


@login_required
@require_GET
def user_list(request: HttpRequest) -> HttpResponse:
    _require_role(request, Role.ADMIN)
    units = Unit.objects.visible_to(request.user).order_by("path")
    form = UserFilterForm(request.GET or None, units=units)
    filters: dict[str, Any] = {}
    if form.is_valid():
        data = form.cleaned_data
        filters = {"q": data["q"], "unit": data["unit"], "role": data["role"], "status": data["status"]}
    page = _paginate(request, selectors.user_list(viewer=request.user, **filters))
    locked = selectors.locked_usernames(u.username for u in page)
    return render(request, "units/user_list.html", {"form": form, "page_obj": page, "locked": locked})


@login_required
@require_http_methods(["GET", "POST"])
def user_unlock_view(request: HttpRequest, pk: int) -> HttpResponse:
    """解锁: the lockout page sends users to an admin; this is where the admin ends it."""
    _require_role(request, Role.ADMIN)
    target = _get_user(request, pk)
    back = safe_next(request, reverse("units:user_list"))
    if request.method == "POST":
        user_unlock(user=target, by=request.user, ip=client_ip(request))
        messages.success(request, f"已解锁账号“{target}”，本人可以重新登录。")
        return HttpResponseRedirect(back)
    locked = target.username in selectors.locked_usernames([target.username])
    return render(request, "units/user_confirm_unlock.html", {"target": target, "next": back, "locked": locked})


@login_required
@require_http_methods(["GET", "POST"])
def user_toggle_active(request: HttpRequest, pk: int) -> HttpResponse:
    _require_role(request, Role.ADMIN)
    target = _get_user(request, pk)
    back = safe_next(request, reverse("units:user_list"))
    if request.method == "POST":
        active = request.POST.get("active") == "1"
        try:
            user_set_active(user=target, active=active, by=request.user, ip=client_ip(request))
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, f"已{'启用' if active else '停用'}账号“{target}”。")
        return HttpResponseRedirect(back)
    return render(
        request,
        "units/user_confirm_active.html",
        {"target": target, "activate": not target.is_active, "next": back, "is_self": target.pk == request.user.pk},
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def user_reset_password_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The new one-time password is in this one response and nowhere else; it is not stored in clear."""
    _require_role(request, Role.ADMIN)
    target = _get_user(request, pk)
    back = safe_next(request, reverse("units:user_list"))
    if request.method == "POST":
        password = user_reset_password(user=target, by=request.user, ip=client_ip(request))
        context = {"target": target, "password": password, "next": back}
        return render(request, "units/user_password_issued.html", context)
    return render(request, "units/user_confirm_reset.html", {"target": target, "next": back})


# ---------------------------------------------------------------- roster import

ROSTER_NOTES = {
    RosterKind.UNITS: [
        "每行一个单位，按单位编码（统一社会信用代码或自编代码）新增或更新。",
        "上级单位填上级的单位编码或全称，顶级单位留空；上级单位可以写在下级之后。",
        "单位类型可照名册原文填写（如“县委工作机关”“乡镇”“参公单位”），系统自动归类，无法识别的归为“其他”。",
        "系统中有而名册中没有的单位会单独列出，可在确认导入时勾选停用（机构改革）。",
    ],
    RosterKind.USERS: [
        "每行一个人，登录名为手机号（没有手机号时为邮箱）。",
        "所属单位、分管单位填单位编码或全称；分管单位只有领导需要填写，多个用顿号分隔。",
        "角色填系统管理员、作风办、联络员、领导之一或多个，多个用顿号分隔。",
        "新账号生成一次性初始密码，导入完成后可下载一次；本人首次登录须修改密码。",
    ],
}
ROSTER_EXAMPLES = {
    RosterKind.UNITS: {
        "code": "11xxxxxxxxxxxxxxxx", "name": "示范县教育体育局", "short_name": "教体局", "kind": "县政府工作部门",
        "parent": "示范县人民政府", "sort_order": "10",
    },
    RosterKind.USERS: {
        "full_name": "张三", "phone": "13800000000", "email": "zhangsan@example.com", "unit": "示范县教育体育局",
        "roles": "联络员", "overseen": "",
    },
}


def _roster_columns(kind: str) -> Any:
    return UNIT_COLUMNS if kind == RosterKind.UNITS else USER_COLUMNS


def _xlsx_response(wb: Workbook, filename: str) -> HttpResponse:
    buffer = io.BytesIO()
    wb.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    disposition = content_disposition_header(True, filename)
    assert disposition is not None  # always a header for an attachment
    response["Content-Disposition"] = disposition
    return response


_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="8B1A1A")


def _header_row(ws: Any, labels: list[str], widths: list[int]) -> None:
    ws.append([excel_text(label) for label in labels])
    for i, width in enumerate(widths, start=1):
        cell = ws.cell(row=1, column=i)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(horizontal="center")
        ws.column_dimensions[cell.column_letter].width = width
    ws.freeze_panes = "A2"


@login_required
@require_http_methods(["GET", "POST"])
def import_start(request: HttpRequest) -> HttpResponse:
    _require_role(request, Role.ADMIN)
    form = RosterUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = job_import_create(kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"], by=request.user)
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            job_preview(job=job)
            return redirect("units:import_job", pk=job.pk)
    specs = [
        {"kind": kind, "title": kind.label, "columns": _roster_columns(kind), "notes": ROSTER_NOTES[kind]}
        for kind in ROSTER_KINDS
    ]
    recent = Job.objects.filter(kind__in=ROSTER_KINDS).select_related("owner")[:10]
    return render(request, "units/import_start.html", {"form": form, "specs": specs, "recent_jobs": recent})


@login_required
@require_GET
def import_job(request: HttpRequest, pk: int) -> HttpResponse:
    job = _get_roster_job(request, pk)
    context = {
        "job": job, **selectors.import_preview_context(job.report or {}, request.GET, PAGE_SIZE),
        "field_choices": field_choices(_roster_columns(job.kind)),
        "remap_url": reverse("units:import_remap", args=[job.pk]),
        "save_url": reverse("units:import_mapping_save", args=[job.pk]),
        "password_ttl_hours": settings.INITIAL_PASSWORD_TTL_HOURS,
    }
    cleared = (job.report or {}).get("passwords_cleared") or {}
    if cleared.get("at"):
        context["passwords_cleared_at"] = dt.datetime.fromisoformat(cleared["at"])
    return render(request, "units/import_job.html", context)


@login_required
@require_POST
def import_remap(request: HttpRequest, pk: int) -> HttpResponse:
    """Preview the roster again with the column mapping of the form."""
    job = _get_roster_job(request, pk)
    try:
        job_repreview(job=job, options=mapping_from_post(job.report or {}, request.POST, _roster_columns(job.kind),
                                                              current=job.options.get("mapping")))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "已按所选列映射重新预检。")
    return redirect("units:import_job", pk=job.pk)


@login_required
@require_POST
def import_mapping_save(request: HttpRequest, pk: int) -> HttpResponse:
    job = _get_roster_job(request, pk)
    try:
        saved = mapping_save(kind=job.kind, name=request.POST.get("name", ""), report=job.report or {},
                             by=request.user, ip=client_ip(request))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"列映射“{saved.name}”已保存：以后上传表头相同的{job.kind_label}时自动套用。")
    return redirect("units:import_job", pk=job.pk)


@login_required
@require_GET
def import_progress(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return import_progress_response(request, _get_roster_job(request, pk), namespace="units")


def import_progress_response(request: HtmxHttpRequest, job: Job, *, namespace: str) -> HttpResponse:
    """The progress bar of any import job, polled by htmx; once the job has stopped the whole page reloads.
    `namespace` names the app whose import_progress / import_job views show the job."""
    if job.is_running:
        context = {"job": job, "progress_url": f"{namespace}:import_progress"}
        return render(request, "includes/_import_progress.html", context)
    if request.htmx:
        return HttpResponseClientRefresh()
    return redirect(f"{namespace}:import_job", pk=job.pk)


@login_required
@require_POST
def import_apply(request: HttpRequest, pk: int) -> HttpResponse:
    job = _get_roster_job(request, pk)
    missing_ids = {int(u["id"]) for u in (job.report or {}).get("missing") or [] if "id" in u}
    chosen = set(parse_ids(request.POST.getlist("deactivate")))
    asked = {c["id"] for c in (job.report or {}).get("confirmations") or []}
    confirmed = sorted(set(request.POST.getlist("confirm")) & asked)
    try:
        job = job_apply(
            job=job, by=request.user, ip=client_ip(request),
            params={"deactivate_unit_ids": sorted(chosen & missing_ids), "confirmed": confirmed},
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        if job.status == Job.Status.DONE:
            messages.success(request, "导入完成。")
        elif job.status == Job.Status.APPLYING:
            messages.info(request, "正在后台导入，请稍候；完成后本页会自动刷新。")
        elif job.status == Job.Status.PREVIEWED:
            messages.error(request, "导入时发现数据已变化并产生错误，未写入任何数据，请查看下表。")
    return redirect("units:import_job", pk=job.pk)


@login_required
@never_cache
@require_POST
def import_passwords(request: HttpRequest, pk: int) -> HttpResponse:
    """The new accounts' initial passwords, as .xlsx, once: taking them removes them from the job."""
    job = _get_roster_job(request, pk)
    if job.kind != RosterKind.USERS:
        raise Http404
    passwords = initial_passwords_take(job=job, by=request.user, ip=client_ip(request))
    if not passwords:
        messages.warning(request, "初始密码表已经下载过或已超过有效期，系统不再保存。"
                                  "如有遗失，可在本页重新生成初始密码。")
        return redirect("units:import_job", pk=job.pk)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "初始密码"
    _header_row(ws, ["登录名", "姓名", "初始密码"], [20, 14, 18])
    for item in passwords:
        ws.append([excel_text(item.get(k, "")) for k in ("username", "full_name", "password")])
    stamp = timezone.localtime().strftime("%Y%m%d%H%M")
    return _xlsx_response(wb, f"初始密码_{stamp}.xlsx")


@login_required
@require_http_methods(["GET", "POST"])
def import_passwords_reissue(request: HttpRequest, pk: int) -> HttpResponse:
    """重新生成初始密码 for the accounts of this import that have not changed theirs yet; downloaded once, as before."""
    job = _get_roster_job(request, pk)
    if job.kind != RosterKind.USERS:
        raise Http404
    if request.method == "POST":
        try:
            n = initial_passwords_reissue(job=job, by=request.user, ip=client_ip(request))
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, f"已为 {n} 个账号重新生成初始密码，原初始密码作废；"
                                      "请下载初始密码表并逐一告知本人。")
        return redirect("units:import_job", pk=job.pk)
    return render(request, "units/import_passwords_reissue.html",
                  {"job": job, "password_ttl_hours": settings.INITIAL_PASSWORD_TTL_HOURS})


@login_required
@require_GET
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    """An empty roster with the headers the importer reads, and a sheet explaining each column."""
    _require_role(request, Role.ADMIN)
    if kind not in ROSTER_KINDS:
        raise Http404
    kind = RosterKind(kind)
    columns = _roster_columns(kind)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = kind.label
    _header_row(ws, [c.label for c in columns], [max(12, len(c.label) * 3 + 4) for c in columns])
    for i in range(1, len(columns) + 1):
        ws.cell(row=2, column=i).number_format = "@"  # codes and phone numbers stay text
    notes = wb.create_sheet("填写说明")
    _header_row(notes, ["列名", "是否必填", "也可写作", "示例"], [14, 10, 48, 24])
    example = ROSTER_EXAMPLES[kind]
    for c in columns:
        notes.append([c.label, "必填" if c.required else "选填", "、".join(c.aliases), example.get(c.key, "")])
    notes.append([])
    for note in ROSTER_NOTES[kind]:
        notes.append([note])
    return _xlsx_response(wb, f"{kind.label}模板.xlsx")
