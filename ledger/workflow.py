"""The problem workflow: the only code that assigns `Problem.status` and `Measure.status`.

 draft ─assign─▶ in_progress ─apply─▶ pending_review ─approve─▶ closed
                     ▲                      │                      │
                     └──────return──────────┘                      │
                     └──────────────reopen (回头看 反弹)─────────────┘
 any open state ─void (office only)─▶ voided

Every transition checks the state and the user's role and scope, raises WorkflowError with a Chinese message
when refused, and records who, when, from, to and why (a Transition row and an audit entry).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.audit import Action, audit_record
from units.models import Role, Unit

from .models import (
    OPEN_STATUSES,
    Evidence,
    Measure,
    MeasureStatus,
    Problem,
    ProblemStatus,
    RectificationType,
    ReviewDecision,
    ReviewRound,
    Transition,
    TransitionAction,
)

S = ProblemStatus


class WorkflowError(Exception):
    """A refused transition; the message is shown to the user as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# ---- who may do what -------------------------------------------------------------------------------------------

def is_office(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_role(Role.OFFICE))


def _liaison_covers(user: Any, unit: Unit | None) -> bool:
    """A liaison acts for their own unit and its descendants."""
    if unit is None or not (user and user.is_authenticated and user.is_active) or not user.has_role(Role.LIAISON):
        return False
    return bool(user.unit_id and unit.path.startswith(user.unit.path))


def can_edit_problem(user: Any, problem: Problem) -> bool:
    """Office staff edit any problem's facts while it is open."""
    return is_office(user) and problem.is_open


def can_manage_measures(user: Any, problem: Problem) -> bool:
    """The lead unit's liaison (or the office) adds and edits measures while the problem is being rectified."""
    if problem.status not in (S.DRAFT, S.IN_PROGRESS):
        return False
    return is_office(user) or (problem.status == S.IN_PROGRESS and _liaison_covers(user, problem.lead_unit))


def can_record_progress(user: Any, measure: Measure) -> bool:
    """Liaisons of the measure's unit (co-units included) or of the lead unit record progress."""
    if measure.problem.status != S.IN_PROGRESS:
        return False
    return _liaison_covers(user, measure.unit) or _liaison_covers(user, measure.problem.lead_unit)


def can_apply(user: Any, problem: Problem) -> bool:
    return problem.status == S.IN_PROGRESS and _liaison_covers(user, problem.lead_unit)


def can_review(user: Any, problem: Problem) -> bool:
    return problem.status == S.PENDING_REVIEW and is_office(user)


def allowed_actions(user: Any, problem: Problem) -> set[str]:
    """The transitions this user may start on this problem now (for showing buttons)."""
    actions: set[str] = set()
    office = is_office(user)
    if office and problem.status == S.DRAFT:
        actions.add(TransitionAction.ASSIGN)
    if can_apply(user, problem):
        actions.add(TransitionAction.APPLY)
    if can_review(user, problem):
        actions |= {TransitionAction.APPROVE, TransitionAction.RETURN}
    if office and problem.status == S.CLOSED:
        actions.add(TransitionAction.REOPEN)
    if office and problem.status in OPEN_STATUSES:
        actions.add(TransitionAction.VOID)
    return actions


# ---- recording -------------------------------------------------------------------------------------------------

def _lock(problem: Problem) -> Problem:
    """Re-read the problem under a row lock so two clicks cannot both move it."""
    return Problem.objects.select_for_update(of=("self",)).select_related("lead_unit", "campaign").get(pk=problem.pk)


def lock_problem_of(measure: Measure) -> None:
    """Take the row lock of a measure's problem: every change below a problem serialises with its transitions."""
    Problem.objects.select_for_update(of=("self",)).filter(measures=measure.pk).values_list("pk", flat=True).first()


def _move(
    problem: Problem, *, to: str, action: str, by: Any, reason: str = "", at: dt.datetime | None = None,
    ip: str | None = None,
) -> Transition:
    from_status = problem.status
    at = at or timezone.now()
    problem.status = to
    fields = ["status", "updated_at"]
    if to == S.CLOSED:
        problem.closed_at = at
        problem.stage_closed = action == TransitionAction.STAGE_APPROVE
        fields += ["closed_at", "stage_closed"]
    elif from_status == S.CLOSED:
        problem.closed_at = None
        problem.stage_closed = False
        fields += ["closed_at", "stage_closed"]
    problem.save(update_fields=fields)
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
        raise WorkflowError(message)


def _state_error(problem: Problem, what: str) -> str:
    return f"问题 {problem.number} 当前状态为“{problem.get_status_display()}”，不能{what}。"


# ---- transitions -----------------------------------------------------------------------------------------------

@transaction.atomic
def record_creation(*, problem: Problem, by: Any, imported: bool = False, ip: str | None = None) -> Transition:
    """The first line of every timeline: the problem was entered (or imported) as a draft."""
    return Transition.objects.create(
        problem=problem, action=TransitionAction.IMPORT if imported else TransitionAction.CREATE, from_status="",
        to_status=problem.status, by=by if by and by.pk else None, at=timezone.now(),
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
    deadline: dt.date | None = None, reason: str = "", ip: str | None = None,
) -> Problem:
    problem = _lock(problem)
    _require(is_office(by), "只有作风办可以分派问题。")
    _require(problem.status == S.DRAFT, _state_error(problem, "分派"))
    if lead_unit is not None:
        problem.lead_unit = lead_unit
    if deadline is not None:
        problem.deadline = deadline
    for message in assignment_gaps(problem, what="分派"):
        raise WorkflowError(message)
    problem.save(update_fields=["lead_unit", "deadline", "updated_at"])
    if co_units is not None:
        problem.co_units.set(list(co_units))
    _move(problem, to=S.IN_PROGRESS, action=TransitionAction.ASSIGN, by=by, reason=reason, ip=ip)
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
    return reasons


@transaction.atomic
def apply(*, problem: Problem, by: Any, summary: str, ip: str | None = None) -> ReviewRound:
    """申请销号: every measure done (for 长期坚持, its stage goal met), with a summary of what was done."""
    problem = _lock(problem)
    _require(problem.status == S.IN_PROGRESS, _state_error(problem, "申请销号"))
    _require(_liaison_covers(by, problem.lead_unit), "只有牵头单位的联络员可以申请销号。")
    summary = (summary or "").strip()
    _require(bool(summary), "请填写整改情况说明。")
    blockers = apply_blockers(problem)
    _require(not blockers, "还不能申请销号：" + "".join(blockers))
    now = timezone.now()
    round_no = problem.review_rounds.count() + 1
    rr = ReviewRound.objects.create(
        problem=problem, round_no=round_no, summary=summary, applied_by=by, applied_at=now,
        evidence_count=Evidence.objects.filter(problem=problem).count(),
    )
    _move(problem, to=S.PENDING_REVIEW, action=TransitionAction.APPLY, by=by, reason=summary, at=now, ip=ip)
    return rr


def _open_round(problem: Problem) -> ReviewRound:
    rr = problem.review_rounds.filter(decision=ReviewDecision.PENDING).order_by("-round_no").first()
    if rr is None:
        raise WorkflowError(f"问题 {problem.number} 没有待核查的销号申请。")
    return rr


@transaction.atomic
def approve(
    *, problem: Problem, by: Any, opinion: str = "", stage: bool = False, ip: str | None = None
) -> Problem:
    """核查通过 → 已销号. For a 长期坚持 problem, `stage=True` records 阶段性销号."""
    problem = _lock(problem)
    _require(is_office(by), "只有作风办可以核查销号。")
    _require(problem.status == S.PENDING_REVIEW, _state_error(problem, "核查销号"))
    _require(
        not stage or problem.rectification_type == RectificationType.LONG_TERM,
        "只有长期坚持类问题可以阶段性销号。",
    )
    rr = _open_round(problem)
    now = timezone.now()
    rr.decision = ReviewDecision.STAGE_APPROVED if stage else ReviewDecision.APPROVED
    rr.opinion, rr.reviewed_by, rr.reviewed_at = opinion.strip(), by, now
    rr.save(update_fields=["decision", "opinion", "reviewed_by", "reviewed_at"])
    action = TransitionAction.STAGE_APPROVE if stage else TransitionAction.APPROVE
    _move(problem, to=S.CLOSED, action=action, by=by, reason=opinion, at=now, ip=ip)
    return problem


@transaction.atomic
def return_(*, problem: Problem, by: Any, opinion: str, ip: str | None = None) -> Problem:
    """退回: the reviewer's opinion is required and kept with the round."""
    problem = _lock(problem)
    _require(is_office(by), "只有作风办可以退回销号申请。")
    _require(problem.status == S.PENDING_REVIEW, _state_error(problem, "退回"))
    opinion = (opinion or "").strip()
    _require(bool(opinion), "退回时请填写核查意见。")
    rr = _open_round(problem)
    now = timezone.now()
    rr.decision, rr.opinion, rr.reviewed_by, rr.reviewed_at = ReviewDecision.RETURNED, opinion, by, now
    rr.save(update_fields=["decision", "opinion", "reviewed_by", "reviewed_at"])
    _move(problem, to=S.IN_PROGRESS, action=TransitionAction.RETURN, by=by, reason=opinion, at=now, ip=ip)
    return problem


@transaction.atomic
def reopen(*, problem: Problem, by: Any, reason: str, ip: str | None = None) -> Transition:
    """重新打开 a closed problem (回头看 found a relapse, or the office found it so)."""
    problem = _lock(problem)
    _require(is_office(by), "只有作风办可以重新打开问题。")
    _require(problem.status == S.CLOSED, _state_error(problem, "重新打开"))
    reason = (reason or "").strip()
    _require(bool(reason), "重新打开时请说明原因。")
    return _move(problem, to=S.IN_PROGRESS, action=TransitionAction.REOPEN, by=by, reason=reason, ip=ip)


@transaction.atomic
def void(*, problem: Problem, by: Any, reason: str, ip: str | None = None) -> Problem:
    problem = _lock(problem)
    _require(is_office(by), "只有作风办可以作废问题。")
    _require(problem.status in OPEN_STATUSES, _state_error(problem, "作废"))
    reason = (reason or "").strip()
    _require(bool(reason), "作废时请说明原因。")
    if problem.status == S.PENDING_REVIEW:
        # The application under review ends with the problem; it must not stay 待核查 forever.
        _open_round(problem)
        problem.review_rounds.filter(decision=ReviewDecision.PENDING).update(
            decision=ReviewDecision.VOIDED, opinion=reason, reviewed_by=by, reviewed_at=timezone.now()
        )
    _move(problem, to=S.VOIDED, action=TransitionAction.VOID, by=by, reason=reason, ip=ip)
    return problem


# ---- measures --------------------------------------------------------------------------------------------------

@transaction.atomic
def measure_set_status(
    *, measure: Measure, by: Any, status: str, completed_on: dt.date | None = None, ip: str | None = None
) -> Measure:
    # Lock the problem first (as apply does), so a measure cannot be reopened while its problem is being applied.
    lock_problem_of(measure)
    measure = (
        Measure.objects.select_for_update(of=("self",)).select_related("problem__lead_unit", "unit").get(pk=measure.pk)
    )
    _require(status in MeasureStatus.values, "未知的措施状态。")
    _require(
        can_record_progress(by, measure) or (is_office(by) and measure.problem.status == S.IN_PROGRESS),
        "当前不能修改该措施的状态（问题不在整改中，或不是本单位的措施）。",
    )
    old = measure.status
    measure.status = status
    measure.completed_on = (completed_on or timezone.localdate()) if status == MeasureStatus.DONE else None
    measure.save(update_fields=["status", "completed_on", "updated_at"])
    if old != status:
        audit_record(
            action=Action.UPDATE, actor=by, obj=measure, ip=ip,
            changes={"status": [MeasureStatus(old).label, MeasureStatus(status).label]},
        )
    return measure


# ---- import ----------------------------------------------------------------------------------------------------

IMPORTED_MEASURE_STATES = set(MeasureStatus.values)


@transaction.atomic
def import_state(
    *, problem: Problem, by: Any, status: str, measure_states: dict[int, str] | None = None,
    note: str = "台账导入",
) -> Problem:
    """Bring an imported problem to the state its ledger row records, as transitions from 待分派 so the timeline
    shows how it got there. Only for the ledger import; other code uses the transitions above."""
    problem = _lock(problem)
    for measure_id, m_status in (measure_states or {}).items():
        if m_status not in IMPORTED_MEASURE_STATES:
            raise WorkflowError(f"未知的措施状态：{m_status}")
        Measure.objects.filter(pk=measure_id, problem=problem).update(
            status=m_status,
            completed_on=timezone.localdate() if m_status == MeasureStatus.DONE else None,
        )
    if status == problem.status:
        return problem
    if status == S.DRAFT:
        return problem
    if problem.status == S.DRAFT:
        _require(problem.lead_unit is not None, f"问题 {problem.number} 没有牵头单位。")
        _move(problem, to=S.IN_PROGRESS, action=TransitionAction.ASSIGN, by=by, reason=note)
    if status == S.IN_PROGRESS and problem.status != S.IN_PROGRESS:
        if problem.status == S.PENDING_REVIEW:
            _open_round(problem).delete()
        _move(problem, to=S.IN_PROGRESS, action=TransitionAction.REOPEN, by=by, reason=note)
    if status in (S.PENDING_REVIEW, S.CLOSED) and problem.status == S.IN_PROGRESS:
        now = timezone.now()
        ReviewRound.objects.create(
            problem=problem, round_no=problem.review_rounds.count() + 1, summary=note, applied_by=by,
            applied_at=now, evidence_count=0,
        )
        _move(problem, to=S.PENDING_REVIEW, action=TransitionAction.APPLY, by=by, reason=note, at=now)
    if status == S.CLOSED and problem.status == S.PENDING_REVIEW:
        rr = _open_round(problem)
        now = timezone.now()
        rr.decision, rr.opinion, rr.reviewed_by, rr.reviewed_at = ReviewDecision.APPROVED, note, by, now
        rr.save(update_fields=["decision", "opinion", "reviewed_by", "reviewed_at"])
        _move(problem, to=S.CLOSED, action=TransitionAction.APPROVE, by=by, reason=note, at=now)
    if status == S.VOIDED and problem.status != S.VOIDED:
        _move(problem, to=S.VOIDED, action=TransitionAction.VOID, by=by, reason=note)
    _require(problem.status == status, f"问题 {problem.number} 无法由导入设置为“{S(status).label}”。")
    return problem
