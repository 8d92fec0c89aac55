"""Every transition of ledger.workflow, allowed and refused, by role and scope.

A refusal raises WorkflowError with a Chinese message and leaves the database as it was; an allowed transition
records who, when, from, to and why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from core.models import AuditEntry
from ledger import services, workflow
from ledger.models import (
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
from tests.ledger.factories import CampaignFactory, make_measure, make_problem

S = ProblemStatus
A = TransitionAction
TZ = ZoneInfo("Asia/Shanghai")
NOBODY_BUT_OFFICE = ["admin", "liaison", "sibling_liaison", "leader", "outsider"]


# ---- helpers -----------------------------------------------------------------------------------------------------

@pytest.fixture
def campaign(db):
    return CampaignFactory(code="ZF2026")


def snapshot(problem: Problem) -> dict[str, Any]:
    """Everything a transition may touch, read fresh from the database."""
    p = Problem.objects.get(pk=problem.pk)
    return {
        "status": p.status,
        "lead_unit": p.lead_unit_id,
        "deadline": p.deadline,
        "co_units": sorted(p.co_units.values_list("pk", flat=True)),
        "closed_at": p.closed_at,
        "stage_closed": p.stage_closed,
        "transitions": Transition.objects.filter(problem=p).count(),
        "rounds": list(ReviewRound.objects.filter(problem=p).values_list("round_no", "decision", "opinion")),
        "measures": list(Measure.objects.filter(problem=p).values_list("pk", "status", "completed_on")),
        "audit": AuditEntry.objects.count(),
    }


def assert_refused(problem: Problem, action: Callable[[], Any], match: str) -> None:
    before = snapshot(problem)
    with pytest.raises(workflow.WorkflowError, match=match) as exc:
        action()
    assert exc.value.message == str(exc.value)
    assert snapshot(problem) == before


def last(problem: Problem) -> Transition:
    return Transition.objects.filter(problem=problem).order_by("-id").first()


@pytest.fixture
def draft(people, county, campaign) -> Problem:
    return make_problem(campaign=campaign, by=people.office, lead_unit=county.education)


@pytest.fixture
def in_progress(people, draft) -> Problem:
    return workflow.assign(problem=draft, by=people.office)


@pytest.fixture
def ready(people, county, in_progress) -> Problem:
    """In progress with every measure done: ready to apply."""
    m = make_measure(problem=in_progress, unit=county.education)
    workflow.measure_set_status(measure=m, by=people.liaison, status=MeasureStatus.DONE)
    return in_progress


@pytest.fixture
def pending(people, ready) -> Problem:
    workflow.apply(problem=ready, by=people.liaison, summary="已建立首问负责制")
    return ready


@pytest.fixture
def closed(people, pending) -> Problem:
    return workflow.approve(problem=pending, by=people.office, opinion="同意销号")


# ---- the record each transition leaves --------------------------------------------------------------------------

def test_every_transition_records_who_when_from_to_and_why(people, county, campaign):
    with time_machine.travel(dt.datetime(2026, 3, 1, 8, 0, tzinfo=TZ), tick=False):
        p = make_problem(campaign=campaign, by=people.office, lead_unit=county.education)
        m = make_measure(problem=p, unit=county.education)
    steps = [
        (dt.datetime(2026, 3, 2, 9, 0, tzinfo=TZ), lambda: workflow.assign(problem=p, by=people.office,
                                                                          reason="请教体局牵头整改")),
        (dt.datetime(2026, 3, 20, 10, 0, tzinfo=TZ), lambda: workflow.measure_set_status(
            measure=m, by=people.liaison, status=MeasureStatus.DONE)),
        (dt.datetime(2026, 3, 21, 15, 30, tzinfo=TZ), lambda: workflow.apply(problem=p, by=people.liaison,
                                                                            summary="措施已全部完成")),
        (dt.datetime(2026, 3, 25, 11, 0, tzinfo=TZ), lambda: workflow.return_(problem=p, by=people.office,
                                                                             opinion="佐证材料不足")),
        (dt.datetime(2026, 3, 28, 16, 0, tzinfo=TZ), lambda: (
            services.progress_add(measure=m, by=people.liaison, text="补充会议记录"),
            workflow.apply(problem=p, by=people.liaison, summary="补充了会议记录"))),
        (dt.datetime(2026, 4, 1, 9, 0, tzinfo=TZ), lambda: workflow.approve(problem=p, by=people.office,
                                                                           opinion="同意销号")),
        (dt.datetime(2026, 9, 1, 9, 0, tzinfo=TZ), lambda: workflow.reopen(problem=p, by=people.office,
                                                                          reason="回头看发现反弹")),
        (dt.datetime(2026, 9, 2, 9, 0, tzinfo=TZ), lambda: workflow.void(problem=p, by=people.office,
                                                                        reason="与ZF2026-0002重复")),
    ]
    for when, step in steps:
        with time_machine.travel(when, tick=False):
            step()
    rows = [
        (t.action, t.from_status, t.to_status, t.by, t.at, t.reason)
        for t in Transition.objects.filter(problem=p).order_by("at", "id")
    ]
    at = [when for when, _ in steps]
    assert rows[1:] == [
        (A.ASSIGN, S.DRAFT, S.IN_PROGRESS, people.office, at[0], "请教体局牵头整改"),
        (A.APPLY, S.IN_PROGRESS, S.PENDING_REVIEW, people.liaison, at[2], "措施已全部完成"),
        (A.RETURN, S.PENDING_REVIEW, S.IN_PROGRESS, people.office, at[3], "佐证材料不足"),
        (A.APPLY, S.IN_PROGRESS, S.PENDING_REVIEW, people.liaison, at[4], "补充了会议记录"),
        (A.APPROVE, S.PENDING_REVIEW, S.CLOSED, people.office, at[5], "同意销号"),
        (A.REOPEN, S.CLOSED, S.IN_PROGRESS, people.office, at[6], "回头看发现反弹"),
        (A.VOID, S.IN_PROGRESS, S.VOIDED, people.office, at[7], "与ZF2026-0002重复"),
    ]
    assert rows[0] == (A.CREATE, "", S.DRAFT, people.office, dt.datetime(2026, 3, 1, 8, 0, tzinfo=TZ), "")
    # each move also leaves an audit entry naming the status change
    moves = AuditEntry.objects.filter(action=AuditEntry.Action.TRANSITION, object_id=str(p.pk)).order_by("at", "id")
    assert [e.changes["status"] for e in moves] == [
        ["待分派", "整改中"], ["整改中", "待核查"], ["待核查", "整改中"], ["整改中", "待核查"], ["待核查", "已销号"],
        ["已销号", "整改中"], ["整改中", "已作废"],
    ]
    assert [e.actor for e in moves][:2] == [people.office, people.liaison]


def test_review_rounds_are_numbered_and_keep_every_opinion(people, ready):
    p = ready
    workflow.apply(problem=p, by=people.liaison, summary="第一次申请")
    m = p.measures.first()
    workflow.return_(problem=p, by=people.office, opinion="佐证材料不足")
    services.progress_add(measure=m, by=people.liaison, text="补充佐证材料")
    workflow.apply(problem=p, by=people.liaison, summary="第二次申请")
    workflow.return_(problem=p, by=people.office, opinion="整改不到位")
    services.progress_add(measure=m, by=people.liaison, text="再次整改")
    workflow.apply(problem=p, by=people.liaison, summary="第三次申请")
    workflow.approve(problem=p, by=people.office, opinion="同意")
    rounds = list(ReviewRound.objects.filter(problem=p).order_by("round_no"))
    assert [(r.round_no, r.summary, r.decision, r.opinion) for r in rounds] == [
        (1, "第一次申请", ReviewDecision.RETURNED, "佐证材料不足"),
        (2, "第二次申请", ReviewDecision.RETURNED, "整改不到位"),
        (3, "第三次申请", ReviewDecision.APPROVED, "同意"),
    ]
    assert all(r.applied_by == people.liaison and r.reviewed_by == people.office for r in rounds)
    assert all(r.reviewed_at >= r.applied_at for r in rounds)


# ---- assign --------------------------------------------------------------------------------------------------------

def test_office_assigns_a_draft_with_lead_unit_co_units_and_deadline(people, county, campaign):
    p = make_problem(campaign=campaign, by=people.office, lead_unit=None, deadline=None)
    workflow.assign(problem=p, by=people.office, lead_unit=county.finance, co_units=[county.education],
                    deadline=dt.date(2026, 6, 30))
    p.refresh_from_db()
    assert p.status == S.IN_PROGRESS and p.lead_unit == county.finance and p.deadline == dt.date(2026, 6, 30)
    assert list(p.co_units.all()) == [county.education]


@pytest.mark.parametrize("who", NOBODY_BUT_OFFICE)
def test_only_the_office_assigns(people, county, draft, who):
    user = getattr(people, who)
    assert_refused(draft, lambda: workflow.assign(problem=draft, by=user, lead_unit=county.finance),
                   "只有作风办可以分派问题")


def test_assign_refuses_a_problem_that_is_not_a_draft(people, in_progress):
    assert_refused(in_progress, lambda: workflow.assign(problem=in_progress, by=people.office),
                   "当前状态为“整改中”，不能分派")


def test_assign_needs_an_active_lead_unit_and_a_deadline(people, county, campaign):
    no_lead = make_problem(campaign=campaign, by=people.office, lead_unit=None)
    assert_refused(no_lead, lambda: workflow.assign(problem=no_lead, by=people.office), "未指定牵头单位")
    no_deadline = make_problem(campaign=campaign, by=people.office, lead_unit=county.education, deadline=None)
    assert_refused(no_deadline, lambda: workflow.assign(problem=no_deadline, by=people.office), "未填写整改时限")
    county.finance.is_active = False
    county.finance.save()
    p = make_problem(campaign=campaign, by=people.office, lead_unit=county.education)
    assert_refused(p, lambda: workflow.assign(problem=p, by=people.office, lead_unit=county.finance), "已停用")


def test_a_long_term_problem_may_be_assigned_without_a_deadline(people, county, campaign):
    p = make_problem(campaign=campaign, by=people.office, lead_unit=county.education, deadline=None,
                     rectification_type=RectificationType.LONG_TERM)
    assert workflow.assign(problem=p, by=people.office).status == S.IN_PROGRESS


def test_assign_many_assigns_all(people, county, campaign):
    ps = [make_problem(campaign=campaign, by=people.office, lead_unit=None) for _ in range(3)]
    workflow.assign_many(problems=ps, by=people.office, lead_unit=county.town, deadline=dt.date(2026, 5, 31))
    assert set(Problem.objects.values_list("status", "lead_unit", "deadline")) == {
        (S.IN_PROGRESS, county.town.pk, dt.date(2026, 5, 31))
    }


def test_assign_many_is_all_or_nothing(people, county, campaign):
    first = make_problem(campaign=campaign, by=people.office, lead_unit=county.education)
    second = make_problem(campaign=campaign, by=people.office, lead_unit=county.education)
    third = make_problem(campaign=campaign, by=people.office, lead_unit=county.education)
    workflow.assign(problem=second, by=people.office)
    before = [snapshot(p) for p in (first, second, third)]
    with pytest.raises(workflow.WorkflowError, match=second.number):
        workflow.assign_many(problems=[first, second, third], by=people.office, lead_unit=county.finance)
    assert [snapshot(p) for p in (first, second, third)] == before
    assert Problem.objects.get(pk=first.pk).status == S.DRAFT


def test_assign_many_by_a_liaison_changes_nothing(people, county, campaign):
    ps = [make_problem(campaign=campaign, by=people.office, lead_unit=county.education) for _ in range(2)]
    with pytest.raises(workflow.WorkflowError):
        workflow.assign_many(problems=ps, by=people.liaison)
    assert set(Problem.objects.values_list("status", flat=True)) == {S.DRAFT}


# ---- apply ---------------------------------------------------------------------------------------------------------

def test_lead_units_liaison_applies(people, ready):
    with time_machine.travel(dt.datetime(2026, 4, 1, 10, 0, tzinfo=TZ), tick=False):
        rr = workflow.apply(problem=ready, by=people.liaison, summary="  已建立首问负责制  ")
    ready.refresh_from_db()
    assert ready.status == S.PENDING_REVIEW
    assert (rr.round_no, rr.summary, rr.applied_by, rr.decision) == (
        1, "已建立首问负责制", people.liaison, ReviewDecision.PENDING
    )
    assert rr.applied_at == dt.datetime(2026, 4, 1, 10, 0, tzinfo=TZ)
    assert rr.evidence_count == 0


def test_a_parent_units_liaison_applies_for_a_child_unit(people, county, campaign):
    p = make_problem(campaign=campaign, by=people.office, lead_unit=county.education_school)
    workflow.assign(problem=p, by=people.office)
    m = make_measure(problem=p, unit=county.education_school)
    workflow.measure_set_status(measure=m, by=people.liaison, status=MeasureStatus.DONE)
    workflow.apply(problem=p, by=people.liaison, summary="一中已整改")
    assert Problem.objects.get(pk=p.pk).status == S.PENDING_REVIEW


def test_apply_needs_measures(people, in_progress):
    assert_refused(in_progress, lambda: workflow.apply(problem=in_progress, by=people.liaison, summary="已整改"),
                   "尚未填报整改措施")


def test_apply_needs_every_measure_done(people, county, ready):
    m = make_measure(problem=ready, unit=county.education, content="组织全员培训")
    workflow.measure_set_status(measure=m, by=people.liaison, status=MeasureStatus.IN_PROGRESS)
    assert_refused(ready, lambda: workflow.apply(problem=ready, by=people.liaison, summary="已整改"),
                   "措施2“组织全员培训”状态为“推进中”")


def test_apply_needs_the_long_term_stage_goal(people, county, ready):
    make_measure(problem=ready, unit=county.education, content="常态化明察暗访", deadline=None, is_long_term=True)
    assert_refused(ready, lambda: workflow.apply(problem=ready, by=people.liaison, summary="已整改"),
                   "阶段目标未完成")


@pytest.mark.parametrize("summary", ["", "   "])
def test_apply_needs_a_summary(people, ready, summary):
    assert_refused(ready, lambda: workflow.apply(problem=ready, by=people.liaison, summary=summary),
                   "请填写整改情况说明")


@pytest.mark.parametrize("who", ["office", "admin", "sibling_liaison", "leader", "outsider"])
def test_apply_is_the_lead_units_liaisons_alone(people, ready, who):
    user = getattr(people, who)
    assert_refused(ready, lambda: workflow.apply(problem=ready, by=user, summary="已整改"),
                   "只有牵头单位的联络员可以申请销号")


def test_a_co_units_liaison_may_not_apply(people, county, campaign):
    p = make_problem(campaign=campaign, by=people.office, lead_unit=county.education)
    workflow.assign(problem=p, by=people.office, co_units=[county.finance])
    m = make_measure(problem=p, unit=county.finance)
    workflow.measure_set_status(measure=m, by=people.sibling_liaison, status=MeasureStatus.DONE)
    assert_refused(p, lambda: workflow.apply(problem=p, by=people.sibling_liaison, summary="配合单位已完成"),
                   "只有牵头单位的联络员")


@pytest.mark.parametrize("state", ["draft", "pending", "closed"])
def test_apply_only_from_in_progress(request, people, state):
    p = request.getfixturevalue(state)
    assert_refused(p, lambda: workflow.apply(problem=p, by=people.liaison, summary="已整改"), "不能申请销号")


# ---- approve ---------------------------------------------------------------------------------------------------

def test_office_approves(people, pending):
    with time_machine.travel(dt.datetime(2026, 4, 2, 9, 0, tzinfo=TZ), tick=False):
        workflow.approve(problem=pending, by=people.office, opinion="  同意销号 ")
    p = Problem.objects.get(pk=pending.pk)
    assert p.status == S.CLOSED and not p.stage_closed
    assert p.closed_at == dt.datetime(2026, 4, 2, 9, 0, tzinfo=TZ)
    rr = p.review_rounds.get()
    assert (rr.decision, rr.opinion, rr.reviewed_by) == (ReviewDecision.APPROVED, "同意销号", people.office)
    assert last(p).action == A.APPROVE


def test_stage_approval_of_a_long_term_problem(people, county, campaign):
    p = make_problem(campaign=campaign, by=people.office, lead_unit=county.education, deadline=None,
                     rectification_type=RectificationType.LONG_TERM)
    workflow.assign(problem=p, by=people.office)
    m = make_measure(problem=p, unit=county.education, deadline=None, is_long_term=True)
    workflow.measure_set_status(measure=m, by=people.liaison, status=MeasureStatus.DONE)
    workflow.apply(problem=p, by=people.liaison, summary="阶段目标已完成")
    workflow.approve(problem=p, by=people.office, opinion="同意阶段性销号", stage=True)
    p.refresh_from_db()
    assert p.status == S.CLOSED and p.stage_closed and p.rectification_type == RectificationType.LONG_TERM
    assert p.review_rounds.get().decision == ReviewDecision.STAGE_APPROVED
    assert last(p).action == A.STAGE_APPROVE
    # reopening clears the stage sign-off
    workflow.reopen(problem=p, by=people.office, reason="下一阶段继续整改")
    p.refresh_from_db()
    assert p.status == S.IN_PROGRESS and not p.stage_closed and p.closed_at is None


def test_stage_approval_only_for_long_term_problems(people, pending):
    assert_refused(pending, lambda: workflow.approve(problem=pending, by=people.office, stage=True),
                   "只有长期坚持类问题可以阶段性销号")


@pytest.mark.parametrize("who", NOBODY_BUT_OFFICE)
def test_only_the_office_approves(people, pending, who):
    user = getattr(people, who)
    assert_refused(pending, lambda: workflow.approve(problem=pending, by=user, opinion="同意"),
                   "只有作风办可以核查销号")


@pytest.mark.parametrize("state", ["draft", "in_progress", "closed"])
def test_approve_only_from_pending_review(request, people, state):
    p = request.getfixturevalue(state)
    assert_refused(p, lambda: workflow.approve(problem=p, by=people.office), "不能核查销号")


# ---- return ----------------------------------------------------------------------------------------------------

def test_office_returns_with_an_opinion(people, pending):
    workflow.return_(problem=pending, by=people.office, opinion="佐证材料不足")
    p = Problem.objects.get(pk=pending.pk)
    assert p.status == S.IN_PROGRESS and p.closed_at is None
    rr = p.review_rounds.get()
    assert (rr.decision, rr.opinion, rr.reviewed_by) == (ReviewDecision.RETURNED, "佐证材料不足", people.office)
    # the measures stay done, but applying again needs new progress after the return
    assert_refused(p, lambda: workflow.apply(problem=p, by=people.liaison, summary="原样再报"),
                   "此后尚未填报新的整改进展")
    services.progress_add(measure=p.measures.get(), by=people.liaison, text="补充会议记录和照片")
    assert workflow.apply(problem=p, by=people.liaison, summary="补充材料").round_no == 2


@pytest.mark.parametrize("opinion", ["", "  \n "])
def test_return_needs_an_opinion(people, pending, opinion):
    assert_refused(pending, lambda: workflow.return_(problem=pending, by=people.office, opinion=opinion),
                   "退回时请填写核查意见")


@pytest.mark.parametrize("who", NOBODY_BUT_OFFICE)
def test_only_the_office_returns(people, pending, who):
    user = getattr(people, who)
    assert_refused(pending, lambda: workflow.return_(problem=pending, by=user, opinion="不同意"),
                   "只有作风办可以退回")


@pytest.mark.parametrize("state", ["draft", "in_progress", "closed"])
def test_return_only_from_pending_review(request, people, state):
    p = request.getfixturevalue(state)
    assert_refused(p, lambda: workflow.return_(problem=p, by=people.office, opinion="不同意"), "不能退回")


# ---- reopen ----------------------------------------------------------------------------------------------------

def test_office_reopens_a_closed_problem(people, closed):
    t = workflow.reopen(problem=closed, by=people.office, reason="回头看发现反弹")
    p = Problem.objects.get(pk=closed.pk)
    assert p.status == S.IN_PROGRESS and p.closed_at is None
    assert (t.action, t.from_status, t.to_status, t.reason) == (A.REOPEN, S.CLOSED, S.IN_PROGRESS, "回头看发现反弹")


def test_reopen_needs_a_reason(people, closed):
    assert_refused(closed, lambda: workflow.reopen(problem=closed, by=people.office, reason=" "),
                   "重新打开时请说明原因")


@pytest.mark.parametrize("who", NOBODY_BUT_OFFICE)
def test_only_the_office_reopens(people, closed, who):
    user = getattr(people, who)
    assert_refused(closed, lambda: workflow.reopen(problem=closed, by=user, reason="反弹"),
                   "只有作风办可以重新打开")


@pytest.mark.parametrize("state", ["draft", "in_progress", "pending"])
def test_reopen_only_from_closed(request, people, state):
    p = request.getfixturevalue(state)
    assert_refused(p, lambda: workflow.reopen(problem=p, by=people.office, reason="反弹"), "不能重新打开")


# ---- void ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("state", ["draft", "in_progress", "pending"])
def test_office_voids_any_open_problem(request, people, state):
    p = request.getfixturevalue(state)
    from_status = Problem.objects.get(pk=p.pk).status
    workflow.void(problem=p, by=people.office, reason="重复登记")
    assert Problem.objects.get(pk=p.pk).status == S.VOIDED
    t = last(p)
    assert (t.action, t.from_status, t.to_status, t.by, t.reason) == (
        A.VOID, from_status, S.VOIDED, people.office, "重复登记"
    )
    assert Problem.objects.filter(pk=p.pk).exists()  # never deleted


def test_void_needs_a_reason(people, in_progress):
    assert_refused(in_progress, lambda: workflow.void(problem=in_progress, by=people.office, reason=""),
                   "作废时请说明原因")


@pytest.mark.parametrize("who", NOBODY_BUT_OFFICE)
def test_only_the_office_voids(people, in_progress, who):
    user = getattr(people, who)
    assert_refused(in_progress, lambda: workflow.void(problem=in_progress, by=user, reason="重复"),
                   "只有作风办可以作废问题")


def test_closed_and_voided_problems_cannot_be_voided(people, closed, county, campaign):
    assert_refused(closed, lambda: workflow.void(problem=closed, by=people.office, reason="重复"),
                   "当前状态为“已销号”，不能作废")
    p = make_problem(campaign=campaign, by=people.office, lead_unit=county.education)
    workflow.void(problem=p, by=people.office, reason="重复")
    assert_refused(p, lambda: workflow.void(problem=p, by=people.office, reason="再次作废"),
                   "当前状态为“已作废”，不能作废")
    for act in (
        lambda: workflow.assign(problem=p, by=people.office),
        lambda: workflow.reopen(problem=p, by=people.office, reason="恢复"),
    ):
        assert_refused(p, act, "已作废")


# ---- measures --------------------------------------------------------------------------------------------------

@pytest.fixture
def measures(people, county, campaign):
    """An in-progress problem led by 教体局 with co-unit 财政局; one measure for each."""
    p = make_problem(campaign=campaign, by=people.office, lead_unit=county.education)
    workflow.assign(problem=p, by=people.office, co_units=[county.finance])
    own = make_measure(problem=p, unit=county.education)
    co = make_measure(problem=p, unit=county.finance, content="配合落实经费")
    return p, own, co


def test_measure_status_by_those_who_carry_it(people, measures):
    p, own, co = measures
    with time_machine.travel(dt.datetime(2026, 4, 3, 10, 0, tzinfo=TZ), tick=False):
        workflow.measure_set_status(measure=own, by=people.liaison, status=MeasureStatus.DONE)
    own.refresh_from_db()
    assert own.status == MeasureStatus.DONE and own.completed_on == dt.date(2026, 4, 3)
    # the co-unit's liaison on the co-unit's measure; the lead unit's liaison on any measure of the problem
    workflow.measure_set_status(measure=co, by=people.sibling_liaison, status=MeasureStatus.IN_PROGRESS)
    workflow.measure_set_status(measure=co, by=people.liaison, status=MeasureStatus.DONE,
                                completed_on=dt.date(2026, 4, 1))
    co.refresh_from_db()
    assert co.status == MeasureStatus.DONE and co.completed_on == dt.date(2026, 4, 1)
    # the office may set it too; leaving 已完成 clears the completion date
    workflow.measure_set_status(measure=own, by=people.office, status=MeasureStatus.IN_PROGRESS)
    own.refresh_from_db()
    assert own.status == MeasureStatus.IN_PROGRESS and own.completed_on is None
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.UPDATE, object_id=str(own.pk)).first()
    assert entry.changes == {"status": ["已完成", "推进中"]} and entry.actor == people.office


@pytest.mark.parametrize("who", ["admin", "leader", "outsider"])
def test_measure_status_refused_to_others(people, measures, who):
    p, own, co = measures
    user = getattr(people, who)
    for m in (own, co):
        assert_refused(p, lambda m=m: workflow.measure_set_status(measure=m, by=user, status=MeasureStatus.DONE),
                       "可以修改该措施的状态")


def test_a_co_units_liaison_may_not_touch_the_lead_units_measure(people, measures):
    p, own, _ = measures
    assert_refused(p, lambda: workflow.measure_set_status(measure=own, by=people.sibling_liaison,
                                                          status=MeasureStatus.DONE), "责任单位、牵头单位的联络员")


def test_measure_status_only_while_in_progress(people, county, pending):
    m = Measure.objects.get(problem=pending)
    for user in (people.liaison, people.office):
        assert_refused(pending, lambda user=user: workflow.measure_set_status(
            measure=m, by=user, status=MeasureStatus.IN_PROGRESS), "当前状态为“待核查”，不能修改措施状态")
    draft = make_problem(campaign=pending.campaign, by=people.office, lead_unit=county.education)
    dm = make_measure(problem=draft, unit=county.education)
    assert_refused(draft, lambda: workflow.measure_set_status(measure=dm, by=people.office,
                                                              status=MeasureStatus.DONE), "当前状态为“待分派”")


def test_unknown_measure_status_is_refused(people, measures):
    p, own, _ = measures
    assert_refused(p, lambda: workflow.measure_set_status(measure=own, by=people.liaison, status="finished"),
                   "未知的措施状态")


def test_progress_with_mark_status_goes_through_the_workflow(people, measures):
    p, own, co = measures
    services.progress_add(measure=own, by=people.liaison, text="制度已印发", mark_status=MeasureStatus.DONE)
    assert Measure.objects.get(pk=own.pk).status == MeasureStatus.DONE
    with pytest.raises(workflow.WorkflowError):
        services.progress_add(measure=own, by=people.leader, text="领导批示", mark_status=MeasureStatus.DONE)


# ---- which buttons each user gets ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("draft", {"office": {A.ASSIGN, A.VOID}}),
        ("in_progress", {"office": {A.VOID}, "liaison": {A.APPLY}}),
        ("pending", {"office": {A.APPROVE, A.RETURN, A.VOID}}),
        ("closed", {"office": {A.REOPEN}}),
    ],
)
def test_allowed_actions_by_state_and_role(request, people, state, expected):
    p = Problem.objects.select_related("lead_unit").get(pk=request.getfixturevalue(state).pk)
    for who in ("office", "admin", "liaison", "sibling_liaison", "leader", "outsider"):
        assert workflow.allowed_actions(getattr(people, who), p) == expected.get(who, set()), who


# ---- text that could not be exported is refused at input --------------------------------------------------------

@pytest.mark.parametrize("bad", ["\x01", "\x08", "\x1b"])
def test_control_characters_are_refused_naming_the_field(people, county, campaign, ready, bad):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        make_problem(campaign=campaign, by=people.office, lead_unit=county.education, summary=f"窗口{bad}推诿")
    assert "「问题概述」含有不可见的控制字符" in str(exc.value.message_dict["summary"])
    m = ready.measures.get()
    with pytest.raises(ValidationError, match="「整改进展」含有不可见的控制字符"):
        services.progress_add(measure=m, by=people.liaison, text=f"已完成{bad}")
    with pytest.raises(ValidationError, match="「整改措施」含有不可见的控制字符"):
        services.measure_update(measure=m, by=people.liaison, content=f"措施{bad}")
    assert_refused(ready, lambda: workflow.apply(problem=ready, by=people.liaison, summary=f"已整改{bad}"),
                   "「整改情况说明」含有不可见的控制字符")
