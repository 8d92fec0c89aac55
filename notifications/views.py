"""Pages of the notification centre: the user's messages (the bell's list), their channels, the office's channel
switches and the delivery log.

Access first: a notification is looked up among the user's own (404 for anyone else's, the same answer as for one
that does not exist); the switches and the delivery log are the office's and the admins' (403 for others), and the
log is read only through `selectors.deliveries_visible_to`. Writes go through `notifications.services`; a refusal
it raises is shown in Chinese and changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.encoding import escape_uri_path
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from core.audit import Action, audit_record, client_ip
from units.http import parse_id, safe_next
from units.models import Unit

from . import selectors, services
from .forms import (
    GROUP_CHOICES,
    GROUP_LABELS,
    ChannelSwitchForm,
    DeliveryFilterForm,
    MarkReadForm,
    NotificationFilterForm,
    PreferenceForm,
    offered_channels,
)
from .models import Channel, Delivery, DeliveryStatus, Level, Notification
from .resources import deliveries_xlsx

LIST_PAGE_SIZE = 20
LOG_PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RESENDABLE = (DeliveryStatus.FAILED, DeliveryStatus.UNKNOWN)


# ---- access helpers --------------------------------------------------------------------------------------------

def _require_office(request: HttpRequest) -> None:
    """The switches and the delivery log are the office's and the admins'."""
    user: Any = request.user
    if not user.sees_everything:
        raise PermissionDenied("只有作风办和系统管理员可以使用此页面。")


def _get_notification_for_user(request: HttpRequest, pk: int) -> Notification:
    return get_object_or_404(Notification.objects.all(), pk=pk, recipient=request.user)


def _local_url(request: HttpRequest, url: str) -> bool:
    """A link inside this site: a path ("/…", not "//…") or an address on this host."""
    return bool(url) and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ) and (url.startswith("/") or url.startswith(("http://", "https://")))


def _robot_list_url() -> str:
    try:
        return reverse("notifications:robot_list")
    except NoReverseMatch:  # the robots' pages are not installed in this build
        return ""


# ---- the notification centre -----------------------------------------------------------------------------------

def _list_url() -> str:
    return reverse("notifications:list")


def _line_tag(item: dict[str, Any]) -> str:
    """【催办】 and the like, for lines of 催报 and above (as the digest writes them)."""
    try:
        level = int(item.get("level") or 0)
        return str(Level(level).label) if level >= Level.REPORT else ""
    except (TypeError, ValueError):
        return ""


def _with_lines(notifications: Any) -> list[Notification]:
    """What an item shows: its group's name and its lines (an event's single line repeats its title: not shown)."""
    rows = list(notifications)
    for n in rows:
        items = [i for i in (n.items if isinstance(n.items, list) else []) if isinstance(i, dict)]
        lines = [{"index": i, "text": str(item.get("text") or ""), "has_url": bool(item.get("url")),
                  "level_label": _line_tag(item)} for i, item in enumerate(items, start=1)]
        if len(lines) == 1 and lines[0]["text"] == n.title:
            lines = []
        n.lines = lines  # type: ignore[attr-defined]
        n.group_label = GROUP_LABELS.get(n.group, "通知")  # type: ignore[attr-defined]
        n.has_link = bool(n.url or len(items) == 1 and items[0].get("url"))  # type: ignore[attr-defined]
    return rows


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    """站内消息: the user's own, newest first, all or unread, by group."""
    form = NotificationFilterForm(request.GET or None)
    params = form.params()
    qs = selectors.notifications_for(request.user, **params)
    page = Paginator(qs, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {
        "page_obj": page, "notifications": _with_lines(page.object_list), "params": params, "groups": GROUP_CHOICES,
        "next": request.get_full_path(), "is_office": getattr(request.user, "sees_everything", False),
    })


@login_required
@require_POST
def notification_mark_read(request: HttpRequest) -> HttpResponse:
    """标为已读: the given notifications of the user's own (an id of anyone else's is dropped). An htmx request gets
    the item back, read, with the bell's new count."""
    form = MarkReadForm(request.POST, user=request.user)
    back = safe_next(request, _list_url())
    if not form.is_valid():
        messages.error(request, "没有找到要标为已读的消息。")
        return HttpResponseClientRefresh() if getattr(request, "htmx", False) else HttpResponseRedirect(back)
    ids = form.cleaned_data["ids"]
    services.notification_mark_read(user=request.user, ids=ids)
    if getattr(request, "htmx", False) and len(ids) == 1:
        [n] = _with_lines([_get_notification_for_user(request, ids[0])])
        return render(request, "notifications/list.html#item", {"n": n, "bell_oob": True, "next": back})
    return HttpResponseRedirect(back)


@login_required
@require_POST
def notification_mark_all_read(request: HttpRequest) -> HttpResponse:
    done = services.notification_mark_read(user=request.user)
    messages.success(request, f"已将 {done} 条消息标为已读。" if done else "没有未读消息。")
    return HttpResponseRedirect(safe_next(request, _list_url()))


@login_required
@require_GET
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Open a notification (or its line N, ?line=N counting from 1): it is marked read and the user goes to its
    link, if the link is a page of this site."""
    n = _get_notification_for_user(request, pk)
    services.notification_mark_read(user=request.user, ids=[n.pk])
    target = n.url
    line = request.GET.get("line")
    if line is not None:
        index = parse_id(line)  # 1 for the first line
        items = n.items if isinstance(n.items, list) else []
        if index is None or index > len(items) or not isinstance(items[index - 1], dict):
            messages.error(request, "该消息没有这一项。")
            return redirect("notifications:list")
        target = str(items[index - 1].get("url") or "")
    elif not target and isinstance(n.items, list) and len(n.items) == 1 and isinstance(n.items[0], dict):
        target = str(n.items[0].get("url") or "")
    if not target:
        return redirect("notifications:list")
    if not _local_url(request, target):
        messages.error(request, "该链接不是本系统的页面，已阻止跳转。")
        return redirect("notifications:list")
    return HttpResponseRedirect(target)


# ---- a user's channels -----------------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    """通知设置: email and SMS on or off, among the channels the office allows; in-app is always on."""
    allowed = services.enabled_channels()
    form = PreferenceForm(request.POST or None, user=request.user, allowed=allowed)
    if request.method == "POST" and form.is_valid():
        try:
            for channel, enabled in form.changes().items():
                services.preference_set(user=request.user, channel=channel, enabled=enabled)
        except ValueError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "通知设置已保存。")
            return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {
        "form": form, "rows": form.rows(), "inapp_label": Channel.INAPP.label,
        "closed": [Channel(c).label for c in (Channel.EMAIL, Channel.SMS) if c not in allowed],
    })


# ---- the office's switches -------------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def channel_switches(request: HttpRequest) -> HttpResponse:
    """渠道开关: which of the deployment's channels users may use. In-app cannot be switched off."""
    _require_office(request)
    form = ChannelSwitchForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        changes = form.changes()
        try:
            for channel, allowed in changes.items():
                services.channel_switch_set(channel=channel, allowed=allowed, by=request.user, ip=client_ip(request))
        except ValueError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "渠道开关已保存。" if changes else "渠道开关没有变化。")
            return redirect("notifications:channels")
    offered = offered_channels()
    return render(request, "notifications/channels.html", {
        "form": form, "inapp_label": Channel.INAPP.label, "robot_list_url": _robot_list_url(),
        "not_offered": [c.label for c in Channel if c not in offered],
    })


# ---- the delivery log ------------------------------------------------------------------------------------------

def _log_units(request: HttpRequest) -> QuerySet[Unit]:
    """The units the log's messages concern, for the filter (one query, however long the log)."""
    ids = selectors.deliveries_visible_to(request.user).exclude(unit=None).values("unit_id")
    return Unit.objects.filter(pk__in=ids).order_by("path")


def _filtered_log(request: HttpRequest) -> tuple[DeliveryFilterForm, QuerySet[Delivery]]:
    form = DeliveryFilterForm(request.GET or None, units=_log_units(request))
    params = form.params()
    qs = selectors.deliveries_visible_to(request.user)
    if params.get("status"):
        qs = qs.filter(status=params["status"])
    if params.get("channel"):
        qs = qs.filter(channel=params["channel"])
    if params.get("unit"):
        qs = qs.filter(unit__path__startswith=params["unit"].path)
    if params.get("date_from"):
        qs = qs.filter(created_at__date__gte=params["date_from"])
    if params.get("date_to"):
        qs = qs.filter(created_at__date__lte=params["date_to"])
    q = (params.get("q") or "").strip()
    if q:
        qs = qs.filter(Q(recipient__full_name__icontains=q) | Q(recipient__username__icontains=q)
                       | Q(robot__name__icontains=q) | Q(subject__icontains=q))
    return form, qs


@login_required
@require_GET
def delivery_list(request: HttpRequest) -> HttpResponse:
    """发送记录: every message sent, failed or waiting, on every channel, filtered; 重发 for the failed."""
    _require_office(request)
    form, qs = _filtered_log(request)
    page = Paginator(qs.select_related("recipient", "robot", "unit"), LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    for d in page.object_list:
        d.can_resend = d.status in RESENDABLE  # type: ignore[attr-defined]
    return render(request, "notifications/deliveries.html", {"form": form, "page_obj": page})


@login_required
@require_GET
def delivery_export(request: HttpRequest) -> HttpResponse:
    """导出: the filtered log as .xlsx."""
    _require_office(request)
    _form, qs = _filtered_log(request)
    count = qs.count()
    data = deliveries_xlsx(qs)
    audit_record(action=Action.EXPORT, actor=request.user, ip=client_ip(request), note=f"导出发送记录（{count}条）")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{escape_uri_path(f'发送记录-{stamp}.xlsx')}"
    return response


@login_required
@require_POST
def delivery_resend(request: HttpRequest, pk: int) -> HttpResponse:
    """重发: a failed (or 结果未知) message again, as a new delivery; any other row is refused in Chinese."""
    _require_office(request)
    delivery = get_object_or_404(selectors.deliveries_visible_to(request.user), pk=pk)
    back = safe_next(request, reverse("notifications:deliveries"))
    try:
        copy = services.delivery_resend(delivery=delivery, by=request.user, ip=client_ip(request))
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"已重新发送“{copy.subject}”（新记录 {copy.pk}），结果见发送记录。")
    return HttpResponseRedirect(back)
