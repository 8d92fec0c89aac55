"""督办单 by hand: the office issues one on a problem, the lead unit's liaison replies, the office may withdraw it.

Every write here locks what it decides on, checks who and what, records an audit entry and tells the people
concerned (`notifications.services.notify`, inside the same transaction, so a refused or rolled-back step tells
nobody). A refusal of the person or of the present state is a `ledger.workflow.WorkflowError` with its `kind`
("role" → 403, "state" → shown as it is); bad input is a `ValidationError` naming the field.

Numbers run per year (督办〔2026〕1号, 2号 …). Two issues at the same moment may read the same last number; the
unique (year, seq) constraint lets only one of them have it, and the other takes the next one (the insert waits
for the first transaction to end, so it sees its number once it is committed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, DeadlineMode
from campaigns.workdays import add_days
from core.audit import Action, audit_record
from core.text import check_text
from ledger import workflow
from ledger.models import Problem, ProblemStatus
from ledger.workflow import INPUT, ROLE, STATE, WorkflowError
from notifications import services as notify_services
from notifications.models import Level, Robot
from notifications.selectors import circles
from units.models import User

from .models import OrderLevel, OrderStatus, SupervisionOrder

ISSUE, REPLY, WITHDRAW = "issue", "reply", "withdraw"
VERBS = {ISSUE: "签发督办单", REPLY: "回复", WITHDRAW: "撤销"}
# A 督办单 asks the lead unit about work it has in hand: the problem is assigned and not yet signed off.
ISSUABLE = (ProblemStatus.IN_PROGRESS, ProblemStatus.PENDING_REVIEW)
NUMBER_ATTEMPTS = 20


# ---- who may do what -------------------------------------------------------------------------------------------

def issue_refusal(user: Any, problem: Problem) -> WorkflowError | None:
    """Why `user` may not issue a 督办单 on `problem` now (None when they may)."""
    if not workflow.is_office(user):
        return WorkflowError("只有作风办可以签发督办单。", ROLE)
    if problem.status not in ISSUABLE:
        return WorkflowError(
            f"问题 {problem.number} 当前状态为“{problem.get_status_display()}”，不能签发督办单"
            "（只能对整改中或待核查的问题签发）。", STATE)
    if problem.lead_unit_id is None:
        return WorkflowError(f"问题 {problem.number} 未指定牵头单位，不能签发督办单。", INPUT)
    return None


def order_refusal(action: str, user: Any, order: SupervisionOrder) -> WorkflowError | None:
    """Why `user` may not reply to (REPLY) or withdraw (WITHDRAW) `order` now (None when they may)."""
    if action == REPLY:
        if not workflow.liaison_covers(user, order.problem.lead_unit):
            return WorkflowError("只有牵头单位的联络员可以回复督办单。", ROLE)
    elif action == WITHDRAW:
        if not workflow.is_office(user):
            return WorkflowError("只有作风办可以撤销督办单。", ROLE)
    else:
        raise ValueError(f"unknown action {action!r}")
    if order.status != OrderStatus.OPEN:
        return WorkflowError(
            f"督办单 {order.number} 当前状态为“{order.get_status_display()}”，不能{VERBS[action]}。", STATE)
    return None


def can_issue(user: Any, problem: Problem) -> bool:
    return issue_refusal(user, problem) is None


def can_reply(user: Any, order: SupervisionOrder) -> bool:
    return order_refusal(REPLY, user, order) is None


def can_withdraw(user: Any, order: SupervisionOrder) -> bool:
    return order_refusal(WITHDRAW, user, order) is None


def _raise(error: WorkflowError | None) -> None:
    if error is not None:
        raise error


# ---- defaults and checks ---------------------------------------------------------------------------------------

def reply_deadline_default(campaign: Campaign, *, today: dt.date | None = None) -> dt.date:
    """The campaign's 督办单回复期限天数 from today, in working days when the campaign counts working days."""
    today = today or timezone.localdate()
    return add_days(today, campaign.order_reply_days, working=campaign.deadline_mode == DeadlineMode.WORKING)


def is_overdue(order: SupervisionOrder, today: dt.date | None = None) -> bool:
    """逾期未回复: still waiting for the reply after its deadline."""
    return order.status == OrderStatus.OPEN and order.reply_deadline < (today or timezone.localdate())


def _text(value: str | None, *, field: str, label: str, required: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: required})
    try:
        check_text(text, label=label)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc
    return text


# ---- locks and numbers -----------------------------------------------------------------------------------------

def _lock_problem(problem: Problem) -> Problem:
    """The problem under a row lock: an issue waits for a transition of the same problem, and the other way round."""
    return (Problem.objects.select_for_update(of=("self",)).select_related("lead_unit", "campaign")
            .get(pk=problem.pk))


def _lock_order(order: SupervisionOrder) -> SupervisionOrder:
    return (SupervisionOrder.objects.select_for_update(of=("self",))
            .select_related("problem__lead_unit", "problem__campaign", "issued_by").get(pk=order.pk))


def _create_numbered(*, year: int, **values: Any) -> SupervisionOrder:
    """Insert the order with the year's next number. A number taken meanwhile by another issue (the unique
    constraint refuses the insert once that issue has committed) is skipped: the next one is tried."""
    for _ in range(NUMBER_ATTEMPTS):
        last = SupervisionOrder.objects.filter(year=year).aggregate(last=Max("seq"))["last"] or 0
        try:
            with transaction.atomic():
                return SupervisionOrder.objects.create(year=year, seq=last + 1, **values)
        except IntegrityError:
            if not SupervisionOrder.objects.filter(year=year, seq=last + 1).exists():
                raise  # some other constraint: not a race for the number
    raise WorkflowError("督办单编号分配繁忙，请稍后重试。", INPUT)


# ---- telling people --------------------------------------------------------------------------------------------

def _people(*groups: Iterable[User | None]) -> list[User]:
    seen: dict[int, User] = {}
    for group in groups:
        for u in group:
            if u is not None:
                seen.setdefault(u.pk, u)
    return list(seen.values())


def _unit_robot(unit_id: int) -> Robot | None:
    """The lead unit's work-group robot: its first one that is enabled and not stopped."""
    return Robot.objects.filter(unit_id=unit_id, is_enabled=True, disabled_reason="").order_by("id").first()


def _head(problem: Problem) -> str:
    return f"{problem.number}「{problem.summary[:40]}」"


def _order_url(order: SupervisionOrder) -> str:
    return reverse("supervision:order_detail", args=[order.pk])


def _issue_notify(order: SupervisionOrder, problem: Problem) -> int:
    lead = problem.lead_unit_id
    assert lead is not None
    c = circles([lead])
    title = f"{order.number} {order.title}：{_head(problem)}，请于{order.reply_deadline:%Y-%m-%d}前回复"
    return notify_services.notify(
        ref=f"order:{order.pk}", title=title, url=_order_url(order),
        recipients=_people(c.liaisons[lead], c.leaders[lead], c.overseers[lead]), level=order.level,
        unit_id=lead, robot=_unit_robot(lead), at=order.issued_at,
    )


def _reply_notify(order: SupervisionOrder, problem: Problem) -> int:
    c = circles([problem.lead_unit_id] if problem.lead_unit_id else [])
    unit = problem.lead_unit.display_name if problem.lead_unit else ""
    title = f"{order.number} 已回复：{_head(problem)}（{unit}）"
    return notify_services.notify(
        ref=f"order_reply:{order.pk}", title=title, url=_order_url(order),
        recipients=_people([order.issued_by], c.office), level=Level.INFO, unit_id=problem.lead_unit_id,
        at=order.replied_at,
    )


def _withdraw_notify(order: SupervisionOrder, problem: Problem, reason: str) -> int:
    lead = problem.lead_unit_id
    if lead is None:
        return 0
    c = circles([lead])
    title = f"{order.number} 已撤销：{_head(problem)}，无需回复。原因：{reason[:80]}"
    return notify_services.notify(
        ref=f"order_withdraw:{order.pk}", title=title, url=_order_url(order), recipients=c.liaisons[lead],
        level=Level.INFO, unit_id=lead,
    )


# ---- the services ----------------------------------------------------------------------------------------------

@transaction.atomic
def order_issue(
    *, problem: Problem, by: Any, level: int, requirements: str, reply_deadline: dt.date | None = None,
    ip: str | None = None,
) -> SupervisionOrder:
    """签发督办单 on an assigned problem (整改中 or 待核查): numbered for the year, told to the lead unit's liaisons,
    its leaders and its 分管领导 (and its work-group robot) at the order's level."""
    problem = _lock_problem(problem)
    _raise(issue_refusal(by, problem))
    try:
        level = OrderLevel(int(level))
    except (TypeError, ValueError):
        raise ValidationError({"level": "请选择督办级别。"}) from None
    requirements = _text(requirements, field="requirements", label="督办要求", required="请填写督办要求。")
    today = timezone.localdate()
    reply_deadline = reply_deadline or reply_deadline_default(problem.campaign, today=today)
    if reply_deadline < today:
        raise ValidationError({"reply_deadline": "回复期限不能早于今天。"})
    now = timezone.now()
    order = _create_numbered(
        year=timezone.localdate(now).year, problem=problem, level=level, requirements=requirements,
        reply_deadline=reply_deadline, issued_by=by, issued_at=now,
    )
    audit_record(
        action=Action.CREATE, actor=by, obj=order, ip=ip, note=f"签发{order.title}",
        changes={"problem": problem.number, "level": int(level), "reply_deadline": reply_deadline,
                 "requirements": requirements[:500]},
    )
    _issue_notify(order, problem)
    return order


@transaction.atomic
def order_reply(*, order: SupervisionOrder, by: Any, reply: str, ip: str | None = None) -> SupervisionOrder:
    """回复督办单: a liaison of the lead unit (or of a unit above it) answers; the issuer and the office are told."""
    order = _lock_order(order)
    _raise(order_refusal(REPLY, by, order))
    reply = _text(reply, field="reply", label="回复内容", required="请填写回复内容。")
    order.reply, order.replied_by, order.replied_at = reply, by, timezone.now()
    order.status = OrderStatus.REPLIED
    order.save(update_fields=["reply", "replied_by", "replied_at", "status"])
    audit_record(
        action=Action.UPDATE, actor=by, obj=order, ip=ip, note="回复督办单",
        changes={"status": [OrderStatus.OPEN.value, OrderStatus.REPLIED.value], "reply": reply[:500]},
    )
    _reply_notify(order, order.problem)
    return order


@transaction.atomic
def order_withdraw(*, order: SupervisionOrder, by: Any, reason: str, ip: str | None = None) -> SupervisionOrder:
    """撤销督办单 (office only, while it waits for the reply): the reason is kept in the audit trail, and the lead
    unit's liaisons are told they need not reply."""
    order = _lock_order(order)
    _raise(order_refusal(WITHDRAW, by, order))
    reason = _text(reason, field="reason", label="撤销原因", required="撤销时请说明原因。")
    order.status = OrderStatus.WITHDRAWN
    order.save(update_fields=["status"])
    audit_record(
        action=Action.UPDATE, actor=by, obj=order, ip=ip, note=reason,
        changes={"status": [OrderStatus.OPEN.value, OrderStatus.WITHDRAWN.value]},
    )
    _withdraw_notify(order, order.problem, reason)
    return order


__all__ = [
    "ISSUE",
    "REPLY",
    "WITHDRAW",
    "can_issue",
    "can_reply",
    "can_withdraw",
    "is_overdue",
    "issue_refusal",
    "order_issue",
    "order_refusal",
    "order_reply",
    "order_withdraw",
    "reply_deadline_default",
]
