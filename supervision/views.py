"""The 督办单 pages: issuing one on a problem, its page (reply, withdraw), its Word document, the office's register.

Access helpers come first. A problem is read through the ledger's scoped queryset and an order through its
problem (`selectors.order_detail_qs`), so anything out of scope is a 404, the same answer as for something that
does not exist. Only then is the step asked of `supervision.orders` (403 when the person may never take it here;
a step refused by the present state is explained on the page). Writes go through `supervision.orders`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.forms import Form
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import escape_uri_path
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.audit import Action, audit_record, change_lines, client_ip, history_for
from ledger import selectors as ledger_selectors
from ledger import workflow
from ledger.models import Problem

from . import documents, orders, selectors
from .forms import OrderFilterForm, OrderIssueForm, OrderReplyForm, OrderWithdrawForm
from .models import SupervisionOrder
from .resources import orders_xlsx

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE_SIZE = 20


# ---- access helpers --------------------------------------------------------------------------------------------

def _get_problem_for_user(request: HttpRequest, pk: int) -> Problem:
    """The problem if the user may see it; 404 otherwise (also for a problem that does not exist)."""
    return get_object_or_404(ledger_selectors.problem_detail_qs(request.user), pk=pk)


def _get_order_for_user(request: HttpRequest, pk: int) -> SupervisionOrder:
    """The order if the user may see its problem; 404 otherwise."""
    return get_object_or_404(selectors.order_detail_qs(request.user), pk=pk)


def _require_office(request: HttpRequest) -> None:
    if not workflow.is_office(request.user):
        raise PermissionDenied("只有作风办可以查看督办单台账。")


def _answer(request: HttpRequest, error: workflow.WorkflowError | None, back: str) -> HttpResponse | None:
    """403 for a person who may never take the step here; a refusal by the present state is explained on the page
    `back`. None when the step may go ahead."""
    if error is None:
        return None
    if error.kind == workflow.ROLE:
        raise PermissionDenied(error.message)
    messages.error(request, error.message)
    return HttpResponseRedirect(back)


def _attempt(request: HttpRequest, action: Callable[[], Any], form: Form) -> tuple[bool, Any]:
    """Run a write; a refusal is put on the form (by field where it names one) and reported as failure."""
    try:
        return True, action()
    except workflow.WorkflowError as exc:
        form.add_error(None, exc.message)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, exc.messages)
    return False, None


def _problem_url(problem: Problem) -> str:
    return reverse("ledger:problem_detail", args=[problem.pk]) + "#orders"


def _order_url(order: SupervisionOrder) -> str:
    return reverse("supervision:order_detail", args=[order.pk])


def _attachment(filename: str, fallback: str) -> str:
    """Content-Disposition with the Chinese name (RFC 5987) and a plain one for old clients."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{escape_uri_path(filename)}"


# ---- issuing ---------------------------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def order_issue(request: HttpRequest, pk: int) -> HttpResponse:
    """签发督办单 on a problem (office): level, requirements and reply deadline, with the campaign's default."""
    problem = _get_problem_for_user(request, pk)
    back = reverse("ledger:problem_detail", args=[problem.pk])
    if (refused := _answer(request, orders.issue_refusal(request.user, problem), back)) is not None:
        return refused
    form = OrderIssueForm(request.POST or None, problem=problem,
                          reply_deadline=orders.reply_deadline_default(problem.campaign))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ok, order = _attempt(request, lambda: orders.order_issue(
            problem=problem, by=request.user, level=data["level"], requirements=data["requirements"],
            reply_deadline=data["reply_deadline"], ip=client_ip(request),
        ), form)
        if ok:
            unit = problem.lead_unit.display_name if problem.lead_unit else "牵头单位"
            messages.success(request, f"已签发{order.title} {order.number}，已通知{unit}。")
            return HttpResponseRedirect(_problem_url(problem))
    return render(request, "supervision/order_issue.html", {"form": form, "problem": problem})


# ---- one order -------------------------------------------------------------------------------------------------

def _render_detail(request: HttpRequest, order: SupervisionOrder, *, reply_form: OrderReplyForm | None = None,
                   withdraw_form: OrderWithdrawForm | None = None) -> HttpResponse:
    user = request.user
    can_reply = orders.can_reply(user, order)
    can_withdraw = orders.can_withdraw(user, order)
    history = [(e, change_lines(e)) for e in history_for(order).order_by("-at", "-id")]
    return render(request, "supervision/order_detail.html", {
        "order": order,
        "problem": order.problem,
        "overdue": orders.is_overdue(order),
        "can_reply": can_reply,
        "can_withdraw": can_withdraw,
        "reply_form": reply_form or (OrderReplyForm() if can_reply else None),
        "withdraw_form": withdraw_form or (OrderWithdrawForm() if can_withdraw else None),
        "withdraw_open": withdraw_form is not None,
        "history": history,
    })


@login_required
@require_GET
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _get_order_for_user(request, pk))


@login_required
@require_POST
def order_reply(request: HttpRequest, pk: int) -> HttpResponse:
    """回复督办单 (a liaison of the lead unit); an incomplete reply shows the order's page again with its errors."""
    order = _get_order_for_user(request, pk)
    if (refused := _answer(request, orders.order_refusal(orders.REPLY, request.user, order),
                           _order_url(order))) is not None:
        return refused
    form = OrderReplyForm(request.POST)
    if form.is_valid():
        ok, _ = _attempt(request, lambda: orders.order_reply(
            order=order, by=request.user, reply=form.cleaned_data["reply"], ip=client_ip(request)), form)
        if ok:
            messages.success(request, f"已回复{order.number}，已告知作风办。")
            return HttpResponseRedirect(_order_url(order))
    return _render_detail(request, order, reply_form=form)


@login_required
@require_POST
def order_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """撤销督办单 (office) with a reason."""
    order = _get_order_for_user(request, pk)
    if (refused := _answer(request, orders.order_refusal(orders.WITHDRAW, request.user, order),
                           _order_url(order))) is not None:
        return refused
    form = OrderWithdrawForm(request.POST)
    if form.is_valid():
        ok, _ = _attempt(request, lambda: orders.order_withdraw(
            order=order, by=request.user, reason=form.cleaned_data["reason"], ip=client_ip(request)), form)
        if ok:
            messages.success(request, f"已撤销{order.number}，已告知牵头单位无需回复。")
            return HttpResponseRedirect(_order_url(order))
    return _render_detail(request, order, withdraw_form=form)


@login_required
@require_GET
def order_docx(request: HttpRequest, pk: int) -> HttpResponse:
    """The order as a Word document, named by its number: 督办〔2026〕3号.docx."""
    order = _get_order_for_user(request, pk)
    response = HttpResponse(documents.order_docx(order), content_type=DOCX)
    response["Content-Disposition"] = _attachment(documents.order_filename(order),
                                                  f"supervision-order-{order.year}-{order.seq}.docx")
    return response


# ---- the register ----------------------------------------------------------------------------------------------

def _register(request: HttpRequest) -> tuple[OrderFilterForm, Any]:
    form = OrderFilterForm(request.GET or None, user=request.user, years=selectors.order_years())
    return form, selectors.order_register(request.user, form.params())


@login_required
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    """督办单台账: every order, filtered by status (逾期未回复 too), level, lead unit and year."""
    _require_office(request)
    form, qs = _register(request)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    for o in page.object_list:
        o.overdue = orders.is_overdue(o, today)  # type: ignore[attr-defined]
    return render(request, "supervision/order_list.html", {"form": form, "page_obj": page})


@login_required
@require_GET
def order_export(request: HttpRequest) -> HttpResponse:
    """The filtered register as an Excel file."""
    _require_office(request)
    _form, qs = _register(request)
    data = orders_xlsx(qs)
    audit_record(action=Action.EXPORT, actor=request.user, ip=client_ip(request),
                 note=f"导出督办单台账（{qs.count()}份）")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = _attachment(f"督办单台账-{stamp}.xlsx", f"supervision-orders-{stamp}.xlsx")
    return response
