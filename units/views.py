"""Pages for accounts, the unit tree, users, the audit log and roster import.

Access helpers come first: every page says which roles may open it (403 otherwise) and reads objects only
through `visible_to` (404 for anything out of scope, the same answer as for anything that does not exist).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from . import selectors
from .audit import client_ip
from .forms import AuditFilterForm, ChinesePasswordChangeForm, UnitSearchForm, UserFilterForm
from .models import Role, Unit, User
from .navigation import menu_for
from .services import unit_set_active, user_change_password, user_reset_password, user_set_active

PAGE_SIZE = 25


def _require_role(request: HttpRequest, *roles: str) -> None:
    """403 unless the user holds one of `roles`; with no roles given, any role will do."""
    user: Any = request.user
    if not user.has_role(*(roles or Role.values)):
        raise PermissionDenied("您没有访问此页面的权限。")


def _get_unit(request: HttpRequest, pk: int) -> Unit:
    return get_object_or_404(Unit.objects.visible_to(request.user).select_related("parent"), pk=pk)


def _get_user(request: HttpRequest, pk: int) -> User:
    return get_object_or_404(User.objects.visible_to(request.user).select_related("unit"), pk=pk)


def _paginate(request: HttpRequest, object_list: Any) -> Page:
    return Paginator(object_list, PAGE_SIZE).get_page(request.GET.get("page"))


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


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
    back = _safe_next(request, reverse("units:unit_detail", args=[unit.pk]))
    if request.method == "POST":
        active = request.POST.get("active") == "1"
        unit_set_active(unit=unit, active=active, by=request.user, ip=client_ip(request))
        messages.success(request, f"已{'启用' if active else '停用'}单位“{unit.name}”。")
        return redirect(back)
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
    return render(request, "units/user_list.html", {"form": form, "page_obj": page})


@login_required
@require_http_methods(["GET", "POST"])
def user_toggle_active(request: HttpRequest, pk: int) -> HttpResponse:
    _require_role(request, Role.ADMIN)
    target = _get_user(request, pk)
    back = _safe_next(request, reverse("units:user_list"))
    if request.method == "POST":
        active = request.POST.get("active") == "1"
        try:
            user_set_active(user=target, active=active, by=request.user, ip=client_ip(request))
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, f"已{'启用' if active else '停用'}账号“{target}”。")
        return redirect(back)
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
    back = _safe_next(request, reverse("units:user_list"))
    if request.method == "POST":
        password = user_reset_password(user=target, by=request.user, ip=client_ip(request))
        context = {"target": target, "password": password, "next": back}
        return render(request, "units/user_password_issued.html", context)
    return render(request, "units/user_confirm_reset.html", {"target": target, "next": back})


# ---------------------------------------------------------------- audit log


@login_required
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    _require_role(request, Role.ADMIN)
    form = AuditFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_valid():
        filters = {k: form.cleaned_data[k] for k in ("action", "actor", "date_from", "date_to")}
    page = _paginate(request, selectors.audit_list(**filters))
    rows = [(entry, selectors.audit_change_lines(entry)) for entry in page]
    return render(request, "units/audit_list.html", {"form": form, "page_obj": page, "rows": rows})
