"""The problem workflow: the only code that assigns `Problem.status` and `Measure.status`.

 draft ─assign─▶ in_progress ─apply─▶ pending_review ─approve─▶ closed
                     ▲                      │                      │
                     └──────return──────────┘                      │
                     └──────────────reopen (回头看 反弹)─────────────┘
 any open state ─void (office only)─▶ voided

`STEPS` is the one declaration of the rules: for every action, the states it starts from, the state it leads to,
who may take it (role and scope), what must hold first, and what it records. `allowed_actions`, the `can_*`
questions the pages ask, every transition below and the ledger import all read it; nothing else decides.

A refusal raises `WorkflowError` with a Chinese message and a `kind`: "role" (this user may never do it here),
"state" (not in the problem's present state), or "input" (something is missing). Pages answer "role" with 403 and
show the other two as they are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from campaigns.models import Campaign, DeadlineMode
from campaigns.workdays import add_days
from core.audit import Action, audit_record, audit_record_many
from core.text import check_text
from units.models import Role, Unit

from .history import record_facts
from .models import (
    OPEN_STATUSES,
    Evidence,
    Exemplar,
    Measure,
    MeasureStatus,
    Problem,
    ProblemStatus,
    ProgressEntry,
    RectificationType,
    ReviewDecision,
    ReviewRound,
    Transition,
    TransitionAction,
)
from .notify import transition_notify

S = ProblemStatus
A = TransitionAction
ROLE, STATE, INPUT = "role", "state", "input"


class WorkflowError(Exception):
    """A refused step; the message is shown to the user as it is."""

    def __init__(self, message: str, kind: str = INPUT) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


# ---- who --------------------------------------------------------------------------------------------------------

def _active(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def is_office(user: Any) -> bool:
    return _active(user) and bool(user.has_role(Role.OFFICE))


def liaison_covers(user: Any, unit: Unit | None) -> bool:
    """A liaison acts for their own unit and its descendants."""
    if unit is None or not _active(user) or not user.has_role(Role.LIAISON):
        return False
    return bool(user.unit_id and unit.path.startswith(user.unit.path))


def _office(user: Any, problem: Problem, measure: Measure | None) -> bool:
    return is_office(user)


def _lead_liaison(user: Any, problem: Problem, measure: Measure | None) -> bool:
    return liaison_covers(user, problem.lead_unit)


def _office_or_lead_liaison(user: Any, problem: Problem, measure: Measure | None) -> bool:
    return is_office(user) or liaison_covers(user, problem.lead_unit)


def _measure_people(user: Any, problem: Problem, measure: Measure | None) -> bool:
    """The office, the liaisons of the measure's unit (co-units included) and of the lead unit."""
    unit = measure.unit if measure is not None else None
    return is_office(user) or liaison_covers(user, unit) or liaison_covers(user, problem.lead_unit)


# ---- the table --------------------------------------------------------------------------------------------------

Who = Callable[[Any, Problem, "Measure | None"], bool]


@dataclass(frozen=True)
class Step:
    """One thing that can be done to a problem. `to` is None for steps that change no state (edits, measures,
    progress). `sources` for a liaison may be narrower than for the office (`liaison_sources`)."""

    action: str
    verb: str  # 分派, 申请销号 … as in "不能{verb}"
    sources: frozenset[str]
    to: str | None
    who: Who
    who_message: str  # the refusal when `who` says no
    records: str  # what the step leaves behind, for the reader of this table
    liaison_sources: frozenset[str] | None = None
    fits: Callable[[Problem], bool] | None = None  # what the problem itself must be for the step to exist
    misfit_message: str = ""


def _states(*states: str) -> frozenset[str]:
    return frozenset(states)


EDIT, MEASURES, PROGRESS, MEASURE_STATUS, LIST = "edit", "measures", "progress", "measure_status", "list"
EXEMPLAR = "exemplar"
OPEN = _states(*OPEN_STATUSES)

STEPS: dict[str, Step] = {s.action: s for s in (
    Step(A.ASSIGN, "分派", _states(S.DRAFT), S.IN_PROGRESS, _office, "只有作风办可以分派问题。",
         "lead unit, co-units and deadline; a Transition and an audit entry"),
    Step(A.APPLY, "申请销号", _states(S.IN_PROGRESS), S.PENDING_REVIEW, _lead_liaison,
         "只有牵头单位的联络员可以申请销号。", "a ReviewRound with the summary; a Transition and an audit entry"),
    Step(A.APPROVE, "核查销号", _states(S.PENDING_REVIEW), S.CLOSED, _office, "只有作风办可以核查销号。",
         "the round's decision and opinion; a Transition and an audit entry"),
    Step(A.STAGE_APPROVE, "阶段性销号", _states(S.PENDING_REVIEW), S.CLOSED, _office, "只有作风办可以核查销号。",
         "as approve, for 长期坚持 problems", fits=lambda p: p.rectification_type == RectificationType.LONG_TERM,
         misfit_message="只有长期坚持类问题可以阶段性销号。"),
    Step(A.RETURN, "退回", _states(S.PENDING_REVIEW), S.IN_PROGRESS, _office, "只有作风办可以退回销号申请。",
         "the round's decision and opinion; a Transition and an audit entry"),
    Step(A.REOPEN, "重新打开", _states(S.CLOSED), S.IN_PROGRESS, _office, "只有作风办可以重新打开问题。",
         "a new deadline, the measures back to 推进中; a Transition and audit entries"),
    Step(A.VOID, "作废", OPEN, S.VOIDED, _office, "只有作风办可以作废问题。",
         "an open round ends as 问题已作废; a Transition and an audit entry"),
    Step(A.IMPORT, "导入", _states(S.DRAFT), None, _office, "只有作风办可以导入问题台账。",
         "a new problem in the state its ledger row records: one Transition naming the file and the row"),
    Step(LIST, "挂牌督办", _states(S.IN_PROGRESS, S.PENDING_REVIEW), None, _office, "只有作风办可以挂牌督办。",
         "the 挂牌 mark with its reason (the daily sweep sets it past the campaign's threshold); an audit entry"),
    Step(EXEMPLAR, "设为典型案例", _states(S.IN_PROGRESS, S.PENDING_REVIEW, S.CLOSED), None, _office,
         "只有作风办可以设定典型案例。", "the 典型案例 mark (正面 / 反面) with its note; an audit entry"),
    Step(EDIT, "修改", OPEN, None, _office, "只有作风办可以修改问题。", "an audit entry of the changed fields"),
    Step(MEASURES, "修改整改措施", _states(S.DRAFT, S.IN_PROGRESS), None, _office_or_lead_liaison,
         "只有作风办或牵头单位的联络员可以填报整改措施。", "an audit entry",
         liaison_sources=_states(S.IN_PROGRESS)),
    Step(PROGRESS, "填报进展", _states(S.IN_PROGRESS), None, _measure_people,
         "只有作风办或责任单位、牵头单位的联络员可以填报该措施的进展。",
         "a ProgressEntry with evidence; an audit entry"),
    Step(MEASURE_STATUS, "修改措施状态", _states(S.IN_PROGRESS), None, _measure_people,
         "只有作风办或责任单位、牵头单位的联络员可以修改该措施的状态。", "an audit entry"),
)}
TRANSITIONS = tuple(a for a, s in STEPS.items() if s.to is not None)


def _state_message(problem: Problem, step: Step) -> str:
    return f"问题 {problem.number} 当前状态为“{problem.get_status_display()}”，不能{step.verb}。"


def refusal(action: str, user: Any, problem: Problem, *, measure: Measure | None = None) -> WorkflowError | None:
    """Why `user` may not take `action` on `problem` now (None when they may). Preconditions on input are the
    step's own (see the transitions)."""
    step = STEPS[action]
    if not step.who(user, problem, measure):
        return WorkflowError(step.who_message, ROLE)
    sources = step.sources
    if step.liaison_sources is not None and not is_office(user):
        sources = step.liaison_sources
    if problem.status not in sources:
        return WorkflowError(_state_message(problem, step), STATE)
    if step.fits is not None and not step.fits(problem):
        return WorkflowError(step.misfit_message, INPUT)
    return None


def can(action: str, user: Any, problem: Problem, *, measure: Measure | None = None) -> bool:
    return refusal(action, user, problem, measure=measure) is None


def require(action: str, user: Any, problem: Problem, *, measure: Measure | None = None) -> Step:
    error = refusal(action, user, problem, measure=measure)
    if error is not None:
        raise error
    return STEPS[action]


def allowed_actions(user: Any, problem: Problem) -> set[str]:
    """The transitions this user may start on this problem now (for showing buttons)."""
    return {a for a in TRANSITIONS if can(a, user, problem)}


# The questions the pages ask, answered by the table.
def can_edit_problem(user: Any, problem: Problem) -> bool:
    return can(EDIT, user, problem)


def can_manage_measures(user: Any, problem: Problem) -> bool:
    return can(MEASURES, user, problem)


def can_record_progress(user: Any, measure: Measure) -> bool:
    return can(PROGRESS, user, measure.problem, measure=measure)


def can_apply(user: Any, problem: Problem) -> bool:
    return can(A.APPLY, user, problem)


def can_review(user: Any, problem: Problem) -> bool:
    return can(A.APPROVE, user, problem)


# ---- recording -------------------------------------------------------------------------------------------------

def _lock(problem: Problem) -> Problem:
    """Re-read the problem under a row lock so two clicks cannot both move it."""
    return Problem.objects.select_for_update(of=("self",)).select_related("lead_unit", "campaign").get(pk=problem.pk)


def lock_problem_of(measure: Measure) -> None:
    """Take the row lock of a measure's problem: every change below a problem serialises with its transitions."""
    Problem.objects.select_for_update(of=("self",)).filter(measures=measure.pk).values_list("pk", flat=True).first()


def touch(problem_id: int) -> None:
    """A problem, its measures or its progress changed: its version moves on (stale ledger rows are told by it)."""
    Problem.objects.filter(pk=problem_id).update(version=F("version") + 1)


def _now(at: dt.datetime | None) -> dt.datetime:
    return at or timezone.now()


def _after_last_step(problem: Problem, at: dt.datetime | None) -> None:
    """A step dated in the past (`at`) still comes after the problem's last recorded step."""
    if at is None:
        return
    last = problem.transitions.order_by("-at", "-id").values_list("at", flat=True).first()
    if last is not None and at < last:
        raise WorkflowError(
            f"问题 {problem.number} 的上一步记录于 {timezone.localtime(last):%Y-%m-%d %H:%M}，本步骤不能早于该时间。",
            INPUT,
        )


def _move(
    problem: Problem, *, to: str, action: str, by: Any, reason: str = "", at: dt.datetime | None = None,
    ip: str | None = None, from_status: str | None = None,
) -> Transition:
    from_status = problem.status if from_status is None else from_status
    at = _now(at)
    problem.status = to
    fields = ["status", "updated_at"]
    if to == S.CLOSED:
        problem.closed_at = at
        problem.stage_closed = action == A.STAGE_APPROVE
        fields += ["closed_at", "stage_closed"]
    elif from_status == S.CLOSED:
        problem.closed_at = None
        problem.stage_closed = False
        fields += ["closed_at", "stage_closed"]
    problem.save(update_fields=fields)
    touch(problem.pk)
    t = Transition.objects.create(
        problem=problem, action=action, from_status=from_status, to_status=to, by=by if by and by.pk else None,
        at=at, reason=reason,
    )
    audit_record(
        action=Action.TRANSITION, actor=by, obj=problem, ip=ip, note=reason,
        changes={
            "status": [S(from_status).label if from_status else "", S(to).label],
            "action": t.get_action_display(),
        },
    )
    return t


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise WorkflowError(message, INPUT)


def _check_text(text: str, label: str) -> None:
    """What a step records must export whole (no control character, within a cell's length)."""
    try:
        check_text(text, label=label)
    except ValidationError as exc:
        raise WorkflowError("".join(exc.messages), INPUT) from exc


# ---- transitions -----------------------------------------------------------------------------------------------

@transaction.atomic
def record_creation(*, problem: Problem, by: Any, ip: str | None = None, at: dt.datetime | None = None) -> Transition:
    """The first line of every timeline: the problem was entered as a draft."""
    return Transition.objects.create(
        problem=problem, action=A.CREATE, from_status="", to_status=problem.status, by=by if by and by.pk else None,
        at=_now(at),
    )


def assignment_gaps(problem: Problem, *, what: str) -> list[str]:
    """What an assigned problem must have (a lead unit in use, a deadline unless 长期坚持), as refusals of `what`.
    Checked when assigning, and by every later edit of an assigned problem."""
    gaps = []
    if problem.lead_unit is None:
        gaps.append(f"问题 {problem.number} 未指定牵头单位，不能{what}。")
    elif not problem.lead_unit.is_active:
        gaps.append(f"牵头单位“{problem.lead_unit}”已停用，不能{what}。")
    if problem.deadline is None and problem.rectification_type != RectificationType.LONG_TERM:
        gaps.append(f"问题 {problem.number} 未填写整改时限，不能{what}。")
    return gaps


@transaction.atomic
def assign(
    *, problem: Problem, by: Any, lead_unit: Unit | None = None, co_units: Iterable[Unit] | None = None,
    deadline: dt.date | None = None, reason: str = "", ip: str | None = None, at: dt.datetime | None = None,
) -> Problem:
    problem = _lock(problem)
    require(A.ASSIGN, by, problem)
    _after_last_step(problem, at)
    if lead_unit is not None:
        problem.lead_unit = lead_unit
    if deadline is not None:
        problem.deadline = deadline
    for message in assignment_gaps(problem, what="分派"):
        raise WorkflowError(message)
    problem.save(update_fields=["lead_unit", "deadline", "updated_at"])
    record_facts(problem, at=at)
    if co_units is not None:
        problem.co_units.set(list(co_units))
    t = _move(problem, to=S.IN_PROGRESS, action=A.ASSIGN, by=by, reason=reason, ip=ip, at=at)
    transition_notify(problem, t)
    return problem


@transaction.atomic
def assign_many(
    *, problems: Iterable[Problem], by: Any, lead_unit: Unit | None = None, deadline: dt.date | None = None,
    reason: str = "", ip: str | None = None,
) -> list[Problem]:
    """Assign several drafts at once; all or none (the first refusal rolls back the rest)."""
    return [
        assign(problem=p, by=by, lead_unit=lead_unit, deadline=deadline, reason=reason, ip=ip) for p in problems
    ]


def _last_rework(problem: Problem) -> Transition | None:
    """The latest 退回 or 重新打开, after which the problem needs new work before it is applied again."""
    return (
        problem.transitions.filter(action__in=[A.RETURN, A.REOPEN]).order_by("-at", "-id").first()
    )


def apply_blockers(problem: Problem) -> list[str]:
    """Why the problem cannot be applied for sign-off yet (empty when it can)."""
    measures = list(problem.measures.all())
    if not measures:
        return ["尚未填报整改措施。"]
    reasons = []
    for m in measures:
        if m.status != MeasureStatus.DONE:
            goal = "阶段目标未完成" if m.is_long_term else f"状态为“{m.get_status_display()}”"
            reasons.append(f"措施{m.seq}“{m.content[:20]}”{goal}。")
    last = _last_rework(problem)
    if last is not None and not ProgressEntry.objects.filter(problem=problem, created_at__gte=last.at).exists():
        what = "退回" if last.action == A.RETURN else "重新打开"
        reasons.append(f"问题于 {timezone.localtime(last.at):%Y-%m-%d} 被{what}，此后尚未填报新的整改进展。")
    return reasons


# What ReviewRound.funds_recovered holds (14 digits, 2 after the point).
FUNDS_MAX = Decimal(10) ** 12


@transaction.atomic
def apply(
    *, problem: Problem, by: Any, summary: str, rules_made: str = "", funds_recovered: Decimal | None = None,
    ip: str | None = None, at: dt.datetime | None = None,
) -> ReviewRound:
    """申请销号: every measure done (for 长期坚持, its stage goal met), new progress after a return, a summary. The
    unit may report its 整改成效 with it: the 制度 made (one name a line) and the funds recovered (元)."""
    problem = _lock(problem)
    require(A.APPLY, by, problem)
    _after_last_step(problem, at)
    summary = (summary or "").strip()
    _require(bool(summary), "请填写整改情况说明。")
    _check_text(summary, "整改情况说明")
    rules_made = "\n".join(line.strip() for line in (rules_made or "").splitlines() if line.strip())
    _check_text(rules_made, "建章立制")
    if funds_recovered is not None:
        _require(funds_recovered.is_finite(), "挽回经济损失须为数字。")
        _require(funds_recovered >= 0, "挽回经济损失不能为负数。")
        _require(funds_recovered < FUNDS_MAX, "挽回经济损失金额过大，请核对。")
        funds_recovered = funds_recovered.quantize(Decimal("0.01"))
    blockers = apply_blockers(problem)
    _require(not blockers, "还不能申请销号：" + "".join(blockers))
    now = _now(at)
    round_no = problem.review_rounds.count() + 1
    rr = ReviewRound.objects.create(
        problem=problem, round_no=round_no, summary=summary, applied_by=by, applied_at=now,
        evidence_count=Evidence.objects.filter(problem=problem).count(), rules_made=rules_made,
        funds_recovered=funds_recovered,
    )
    _move(problem, to=S.PENDING_REVIEW, action=A.APPLY, by=by, reason=summary, at=now, ip=ip)
    return rr


def _open_round(problem: Problem) -> ReviewRound:
    rr = problem.review_rounds.filter(decision=ReviewDecision.PENDING).order_by("-round_no").first()
    if rr is None:
        raise WorkflowError(f"问题 {problem.number} 没有待核查的销号申请。", STATE)
    return rr


@transaction.atomic
def approve(
    *, problem: Problem, by: Any, opinion: str = "", stage: bool = False, ip: str | None = None,
    at: dt.datetime | None = None,
) -> Problem:
    """核查通过 → 已销号. For a 长期坚持 problem, `stage=True` records 阶段性销号."""
    problem = _lock(problem)
    action = A.STAGE_APPROVE if stage else A.APPROVE
    require(action, by, problem)
    _after_last_step(problem, at)
    _check_text(opinion, "核查意见")
    rr = _open_round(problem)
    now = _now(at)
    rr.decision = ReviewDecision.STAGE_APPROVED if stage else ReviewDecision.APPROVED
    rr.opinion, rr.reviewed_by, rr.reviewed_at = opinion.strip(), by, now
    rr.save(update_fields=["decision", "opinion", "reviewed_by", "reviewed_at"])
    t = _move(problem, to=S.CLOSED, action=action, by=by, reason=opinion, at=now, ip=ip)
    transition_notify(problem, t)
    return problem


@transaction.atomic
def return_(
    *, problem: Problem, by: Any, opinion: str, ip: str | None = None, at: dt.datetime | None = None
) -> Problem:
    """退回: the reviewer's opinion is required and kept with the round; the unit must report new progress."""
    problem = _lock(problem)
    require(A.RETURN, by, problem)
    _after_last_step(problem, at)
    opinion = (opinion or "").strip()
    _require(bool(opinion), "退回时请填写核查意见。")
    _check_text(opinion, "核查意见")
    rr = _open_round(problem)
    now = _now(at)
    rr.decision, rr.opinion, rr.reviewed_by, rr.reviewed_at = ReviewDecision.RETURNED, opinion, by, now
    rr.save(update_fields=["decision", "opinion", "reviewed_by", "reviewed_at"])
    t = _move(problem, to=S.IN_PROGRESS, action=A.RETURN, by=by, reason=opinion, at=now, ip=ip)
    transition_notify(problem, t)
    return problem


def reopen_deadline_default(campaign: Campaign, *, today: dt.date | None = None) -> dt.date:
    """A reopened problem's new deadline unless the office picks one: the campaign's 重新整改期限 from today."""
    today = today or timezone.localdate()
    return add_days(today, campaign.reopen_days, working=campaign.deadline_mode == DeadlineMode.WORKING)


@transaction.atomic
def reopen(
    *, problem: Problem, by: Any, reason: str, deadline: dt.date | None = None, ip: str | None = None,
    at: dt.datetime | None = None,
) -> Transition:
    """重新打开 a closed problem (回头看 found a relapse, or the office found it so): a new deadline (the campaign's
    default when none is given, counted from the day of the step) and every measure back to 推进中, so the unit
    has work to do and to report."""
    problem = _lock(problem)
    require(A.REOPEN, by, problem)
    _after_last_step(problem, at)
    reason = (reason or "").strip()
    _require(bool(reason), "重新打开时请说明原因。")
    _check_text(reason, "原因")
    today = timezone.localdate(at)
    deadline = deadline or reopen_deadline_default(problem.campaign, today=today)
    _require(deadline >= today,
             "重新打开后的整改时限不能早于今天。" if at is None else "重新打开后的整改时限不能早于重新打开之日。")
    if problem.rectification_type != RectificationType.LONG_TERM or problem.deadline is not None:
        old = problem.deadline
        problem.deadline = deadline
        problem.save(update_fields=["deadline", "updated_at"])
        record_facts(problem, at=at)
        audit_record(action=Action.UPDATE, actor=by, obj=problem, ip=ip, note="重新打开，重新确定整改时限",
                     changes={"deadline": [old.isoformat() if old else "", deadline.isoformat()]})
    t = _move(problem, to=S.IN_PROGRESS, action=A.REOPEN, by=by, reason=reason, ip=ip, at=at)
    for m in problem.measures.all():
        if m.status == MeasureStatus.DONE:
            _set_measure_status(m, by=by, status=MeasureStatus.IN_PROGRESS, ip=ip, note="问题重新打开")
        if not m.is_long_term and (m.deadline is None or m.deadline < deadline):
            old_deadline = m.deadline
            Measure.objects.filter(pk=m.pk).update(deadline=deadline)
            audit_record(action=Action.UPDATE, actor=by, obj=m, ip=ip, note="问题重新打开",
                         changes={"deadline": [old_deadline.isoformat() if old_deadline else "",
                                               deadline.isoformat()]})
    transition_notify(problem, t)
    return t


@transaction.atomic
def void(*, problem: Problem, by: Any, reason: str, ip: str | None = None, at: dt.datetime | None = None) -> Problem:
    problem = _lock(problem)
    require(A.VOID, by, problem)
    _after_last_step(problem, at)
    reason = (reason or "").strip()
    _require(bool(reason), "作废时请说明原因。")
    _check_text(reason, "原因")
    now = _now(at)
    if problem.status == S.PENDING_REVIEW:
        # The application under review ends with the problem; it must not stay 待核查 forever.
        _open_round(problem)
        problem.review_rounds.filter(decision=ReviewDecision.PENDING).update(
            decision=ReviewDecision.VOIDED, opinion=reason, reviewed_by=by, reviewed_at=now
        )
    _move(problem, to=S.VOIDED, action=A.VOID, by=by, reason=reason, ip=ip, at=now)
    return problem


# ---- 挂牌督办 ----------------------------------------------------------------------------------------------------

@transaction.atomic
def set_listed(
    *, problem: Problem, by: Any, listed: bool, reason: str, ip: str | None = None, at: dt.datetime | None = None
) -> Problem:
    """The office lists a problem for 挂牌督办 by hand (or takes the mark off): named in the next 季通报."""
    problem = _lock(problem)
    require(LIST, by, problem)
    _after_last_step(problem, at)
    reason = (reason or "").strip()
    _require(bool(reason) or not listed, "挂牌督办时请说明原因。")
    _check_text(reason, "说明")
    _require(problem.listed != listed, "该问题已挂牌督办。" if listed else "该问题未挂牌督办。")
    _mark_listed([problem.pk], listed=listed, by=by, reason=reason, ip=ip, at=at)
    problem.refresh_from_db()
    return problem


def list_overdue(*, problem_ids: Iterable[int], reason: str, at: dt.datetime | None = None) -> int:
    """The daily sweep lists the problems overdue past the campaign's 挂牌督办 threshold (the system acts; each
    entry in the audit trail says so). Problems already listed, or no longer open, are left as they are."""
    ids = list(Problem.objects.filter(pk__in=list(problem_ids), listed=False,
                                      status__in=[S.IN_PROGRESS, S.PENDING_REVIEW]).values_list("pk", flat=True))
    return _mark_listed(ids, listed=True, by=None, reason=reason, at=at) if ids else 0


def _mark_listed(ids: list[int], *, listed: bool, by: Any, reason: str, ip: str | None = None,
                 at: dt.datetime | None = None) -> int:
    now = _now(at)
    count = Problem.objects.filter(pk__in=ids).update(
        listed=listed, listed_at=now if listed else None, listed_reason=reason[:300] if listed else "",
        version=F("version") + 1, updated_at=now,
    )
    audit_record_many(
        action=Action.UPDATE, actor=by, ip=ip, note=reason,
        items=[(p, {"listed": ["否", "是"] if listed else ["是", "否"]}) for p in Problem.objects.filter(pk__in=ids)],
    )
    return count


# ---- 典型案例 ----------------------------------------------------------------------------------------------------

EXEMPLAR_NOTE_MAX = Problem._meta.get_field("exemplar_note").max_length or 300


@transaction.atomic
def set_exemplar(*, problem: Problem, by: Any, kind: str, note: str, ip: str | None = None) -> Problem:
    """The office names a problem as a 正面 or 反面 典型案例 for the 通报, with a note; an empty `kind` takes the
    mark off."""
    problem = _lock(problem)
    require(EXEMPLAR, by, problem)
    _require(kind in Exemplar.values, "请选择正面典型、反面典型或取消典型案例。")
    note = (note or "").strip() if kind else ""
    _require(bool(note) or not kind, "设为典型案例时请填写说明。")
    _check_text(note, "典型案例说明")
    _require(len(note) <= EXEMPLAR_NOTE_MAX, f"典型案例说明不能超过{EXEMPLAR_NOTE_MAX}个字。")
    _require(bool(kind) or bool(problem.exemplar), "该问题未列为典型案例。")
    _require((kind, note) != (problem.exemplar, problem.exemplar_note),
             f"该问题已列为{Exemplar(kind).label}典型案例。")
    old_kind, old_note = problem.exemplar, problem.exemplar_note
    problem.exemplar, problem.exemplar_note = kind, note
    problem.save(update_fields=["exemplar", "exemplar_note", "updated_at"])
    touch(problem.pk)
    changes: dict[str, Any] = {"exemplar": [old_kind, kind]}
    if old_note != note:
        changes["exemplar_note"] = [old_note, note]
    audit_record(action=Action.UPDATE, actor=by, obj=problem, ip=ip, changes=changes,
                 note="设为典型案例" if kind else "取消典型案例")
    return problem


# ---- measures --------------------------------------------------------------------------------------------------

def _set_measure_status(
    measure: Measure, *, by: Any, status: str, completed_on: dt.date | None = None, ip: str | None = None,
    note: str = "",
) -> None:
    """The one assignment of `Measure.status` (callers hold the problem's lock and have asked the table)."""
    old = measure.status
    measure.status = status
    measure.completed_on = (completed_on or timezone.localdate()) if status == MeasureStatus.DONE else None
    measure.save(update_fields=["status", "completed_on", "updated_at"])
    if old != status:
        touch(measure.problem_id)
        audit_record(
            action=Action.UPDATE, actor=by, obj=measure, ip=ip, note=note,
            changes={"status": [MeasureStatus(old).label, MeasureStatus(status).label]},
        )


@transaction.atomic
def measure_set_status(
    *, measure: Measure, by: Any, status: str, completed_on: dt.date | None = None, ip: str | None = None,
    note: str = "",
) -> Measure:
    # Lock the problem first (as apply does), so a measure cannot be reopened while its problem is being applied.
    lock_problem_of(measure)
    measure = (
        Measure.objects.select_for_update(of=("self",)).select_related("problem__lead_unit", "unit").get(pk=measure.pk)
    )
    _require(status in MeasureStatus.values, "未知的措施状态。")
    require(MEASURE_STATUS, by, measure.problem, measure=measure)
    _set_measure_status(measure, by=by, status=status, completed_on=completed_on, ip=ip, note=note)
    return measure


# ---- a problem entered from a ledger file ----------------------------------------------------------------------

IMPORTABLE_STATES = (S.DRAFT, S.IN_PROGRESS, S.PENDING_REVIEW, S.CLOSED, S.VOIDED)


@transaction.atomic
def import_new(
    *, problem: Problem, by: Any, status: str, note: str, measure_states: Mapping[int, str] | None = None,
    progress: Mapping[int, str] | None = None, on: dt.date | None = None, ip: str | None = None,
) -> Transition:
    """A problem just created from a ledger row (an office moving its spreadsheet ledger in) starts in the state the
    row records: one 台账导入 transition, by the importer, naming the file and the row. Its measures start in their
    recorded states and its recorded progress is entered as of `on`. Only for a problem created in the same import:
    an existing problem's state never comes from a file."""
    problem = _lock(problem)
    require(A.IMPORT, by, problem)
    _require(status in IMPORTABLE_STATES, f"无法由导入设置为“{status}”。")
    _require(not problem.transitions.exists() and problem.status == S.DRAFT,
             f"问题 {problem.number} 已在系统中，状态不从文件导入。")
    if status not in (S.DRAFT, S.VOIDED):
        gaps = assignment_gaps(problem, what=f"导入为“{S(status).label}”")
        _require(not gaps, "".join(gaps))
    on = on or timezone.localdate()
    measures = {m.pk: m for m in problem.measures.all()}
    for measure_id, text in (progress or {}).items():
        entry = ProgressEntry.objects.create(measure=measures[measure_id], problem=problem, on=on, text=text,
                                             created_by=by)
        audit_record(action=Action.IMPORT, actor=by, obj=entry, ip=ip, note=note,
                     changes={"measure": str(measures[measure_id]), "text": text[:100]})
    for measure_id, m_status in (measure_states or {}).items():
        _require(m_status in MeasureStatus.values, f"未知的措施状态：{m_status}")
        if m_status != measures[measure_id].status:
            _set_measure_status(measures[measure_id], by=by, status=m_status, completed_on=on, ip=ip, note=note)
    now = timezone.now()
    if status == S.PENDING_REVIEW:
        # The unit's application that the file records, for the office to decide in the system.
        ReviewRound.objects.create(problem=problem, round_no=1, summary=note, applied_by=None, applied_at=now,
                                   evidence_count=0)
    return _move(problem, to=status, action=A.IMPORT, by=by, reason=note, ip=ip, at=now, from_status="")

