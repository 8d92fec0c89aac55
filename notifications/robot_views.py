"""The office's robot pages: the list, new, edit, enable, disable (after a confirmation page) and a test message.

Robots are county-wide settings of the office: the office and admins see and change all of them; every other role
gets 403. Writes go through `notifications.robots`; a refusal is shown in Chinese and changes nothing. No page
shows a webhook URL or a signing secret: only `webhook_hint`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.audit import client_ip
from units.models import Role

from . import robots
from .models import Robot
from .robot_forms import DisableForm, RobotForm

# ---- access helpers --------------------------------------------------------------------------------------------


def _require_office(request: HttpRequest) -> None:
    user: Any = request.user
    if not user.has_role(Role.OFFICE, Role.ADMIN):
        raise PermissionDenied("只有作风办或系统管理员可以管理群机器人。")


def _get_robot(request: HttpRequest, pk: int) -> Robot:
    _require_office(request)
    return get_object_or_404(Robot.objects.select_related("unit"), pk=pk)


def _add_errors(form: BaseForm, exc: ValidationError) -> None:
    """A service's refusal on the form: by field where the form has it, above the form otherwise."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


# ---- pages -----------------------------------------------------------------------------------------------------

@login_required
@require_GET
def robot_list(request: HttpRequest) -> HttpResponse:
    _require_office(request)
    now = timezone.now()
    rows = []
    for robot in Robot.objects.select_related("unit").prefetch_related("campaigns").order_by("unit__path", "id"):
        code, label = robots.status(robot, now=now)
        rows.append({"robot": robot, "status": code, "status_label": label,
                     "campaigns": [c.name for c in robot.campaigns.all()]})
    return render(request, "notifications/robot_list.html", {"rows": rows, "rate": settings.ROBOT_RATE_PER_MINUTE})


@login_required
@require_http_methods(["GET", "POST"])
def robot_create(request: HttpRequest) -> HttpResponse:
    _require_office(request)
    form = RobotForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            robot = robots.robot_create(by=request.user, ip=client_ip(request), **form.create_values())
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"已新增机器人“{robot}”。建议发送一条测试消息，确认设置无误。")
            return redirect("notifications:robot_list")
    return render(request, "notifications/robot_form.html", {"form": form, "robot": None})


@login_required
@require_http_methods(["GET", "POST"])
def robot_edit(request: HttpRequest, pk: int) -> HttpResponse:
    robot = _get_robot(request, pk)
    form = RobotForm(request.POST or None, robot=robot)
    if request.method == "POST" and form.is_valid():
        try:
            robot = robots.robot_update(robot=robot, by=request.user, ip=client_ip(request), **form.update_values())
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"已保存机器人“{robot}”。")
            return redirect("notifications:robot_list")
    return render(request, "notifications/robot_form.html", {"form": form, "robot": robot})


@login_required
@require_POST
def robot_enable(request: HttpRequest, pk: int) -> HttpResponse:
    robot = _get_robot(request, pk)
    was_disabled, was_suspended = robots.is_disabled(robot), robots.status(robot)[0] == "suspended"
    robot = robots.robot_enable(robot=robot, by=request.user, ip=client_ip(request))
    if was_disabled:
        messages.success(request, f"已启用机器人“{robot}”。建议发送一条测试消息，确认设置无误。")
    elif was_suspended:
        messages.success(request, f"机器人“{robot}”已恢复发送。")
    else:
        messages.info(request, f"机器人“{robot}”已在正常发送，无需启用。")
    return redirect("notifications:robot_list")


@login_required
@require_http_methods(["GET", "POST"])
def robot_disable(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for the reason and a confirmation; only a POST changes anything."""
    robot = _get_robot(request, pk)
    form = DisableForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            robots.robot_disable(robot=robot, by=request.user, reason=form.cleaned_data["reason"],
                                 ip=client_ip(request))
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"已停用机器人“{robot}”。")
            return redirect("notifications:robot_list")
    return render(request, "notifications/robot_disable.html", {"form": form, "robot": robot})


@login_required
@require_POST
def robot_test(request: HttpRequest, pk: int) -> HttpResponse:
    robot = _get_robot(request, pk)
    try:
        outcome = robots.robot_test(robot=robot, by=request.user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        if outcome.ok:
            messages.success(request, f"测试消息已发送到“{robot}”，请在群里查看。")
        else:
            messages.error(request, f"测试消息发送失败：{outcome.error}")
    return redirect("notifications:robot_list")
