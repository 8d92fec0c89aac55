"""The whole happy path and a relapse, through the services the views call."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ledger import lookback, services, workflow
from ledger.models import MeasureStatus, ProblemStatus, ReviewDecision, TransitionAction
from tests.ledger.factories import CampaignFactory, evidence_bytes, evidence_upload, make_problem


@pytest.mark.smoke
def test_problem_goes_from_draft_to_closed_and_back_by_lookback(people, county):
    campaign = CampaignFactory(code="ZF2022")
    p = make_problem(campaign=campaign, by=people.office, lead_unit=county.education)
    assert p.number == "ZF2022-0001" and p.status == ProblemStatus.DRAFT

    workflow.assign(problem=p, by=people.office, co_units=[county.finance])
    m1 = services.measure_create(problem=p, by=people.liaison, content="建立首问负责制", unit=county.education,
                                 deadline=p.deadline)
    m2 = services.measure_create(problem=p, by=people.liaison, content="配合落实经费", unit=county.finance,
                                 is_long_term=True)
    services.progress_add(measure=m1, by=people.liaison, text="制度已印发", mark_status=MeasureStatus.DONE)
    with pytest.raises(workflow.WorkflowError, match="措施2"):
        workflow.apply(problem=p, by=people.liaison, summary="已整改")
    # the co-unit's liaison records progress on the measure given to their unit
    services.progress_add(measure=m2, by=people.sibling_liaison, text="阶段目标完成", mark_status=MeasureStatus.DONE)
    # but may not apply for the lead unit
    with pytest.raises(workflow.WorkflowError):
        workflow.apply(problem=p, by=people.sibling_liaison, summary="已整改")
    workflow.apply(problem=p, by=people.liaison, summary="两项措施均已完成")
    with pytest.raises(workflow.WorkflowError, match="核查意见"):
        workflow.return_(problem=p, by=people.office, opinion="  ")
    workflow.return_(problem=p, by=people.office, opinion="佐证材料不足")
    services.progress_add(measure=m1, by=people.liaison, text="补充了签到表和照片")
    workflow.apply(problem=p, by=people.liaison, summary="补充了佐证材料")
    with pytest.raises(workflow.WorkflowError, match="作风办"):
        workflow.approve(problem=p, by=people.liaison)
    workflow.approve(problem=p, by=people.office, opinion="同意销号")
    p.refresh_from_db()
    assert p.status == ProblemStatus.CLOSED and p.closed_at is not None
    assert [r.decision for r in p.review_rounds.all()] == [ReviewDecision.RETURNED, ReviewDecision.APPROVED]

    [check] = lookback.lookback_draw(campaign=campaign, by=people.office, batch="第一批", count=5, seed=1)
    lookback.lookback_record(check=check, by=people.office, result="relapsed", finding="窗口又出现脱岗")
    p.refresh_from_db()
    check.refresh_from_db()
    assert p.status == ProblemStatus.IN_PROGRESS and p.closed_at is None
    assert check.reopen_transition is not None and "脱岗" in check.reopen_transition.reason
    # reopening means work to do: a new deadline from the campaign's policy and the measures back to 推进中
    assert p.deadline == workflow.reopen_deadline_default(campaign) and p.deadline >= timezone.localdate()
    assert set(p.measures.values_list("status", flat=True)) == {MeasureStatus.IN_PROGRESS}
    with pytest.raises(workflow.WorkflowError, match="尚未填报新的整改进展|措施"):
        workflow.apply(problem=p, by=people.liaison, summary="已整改")
    assert [t.action for t in p.transitions.all()] == [
        TransitionAction.CREATE, TransitionAction.ASSIGN, TransitionAction.APPLY, TransitionAction.RETURN,
        TransitionAction.APPLY, TransitionAction.APPROVE, TransitionAction.REOPEN,
    ]


def test_voiding_a_problem_under_review_closes_its_open_round(people, county):
    campaign = CampaignFactory(code="ZF2023")
    p = make_problem(campaign=campaign, by=people.office, lead_unit=county.education)
    workflow.assign(problem=p, by=people.office)
    m = services.measure_create(problem=p, by=people.liaison, content="整改", unit=county.education,
                                deadline=p.deadline)
    services.progress_add(measure=m, by=people.liaison, text="完成", mark_status=MeasureStatus.DONE)
    workflow.apply(problem=p, by=people.liaison, summary="已完成")
    workflow.void(problem=p, by=people.office, reason="与ZF2023-0002重复")
    [rr] = p.review_rounds.all()
    assert rr.decision == ReviewDecision.VOIDED and rr.opinion == "与ZF2023-0002重复"
    assert rr.reviewed_by == people.office


def test_an_assigned_problem_cannot_lose_its_lead_unit_or_deadline(people, county):
    from django.core.exceptions import ValidationError

    campaign = CampaignFactory(code="ZF2024")
    p = make_problem(campaign=campaign, by=people.office, lead_unit=county.education)
    workflow.assign(problem=p, by=people.office)
    with pytest.raises(ValidationError, match="整改时限"):
        services.problem_update(problem=p, by=people.office, deadline=None)
    with pytest.raises(ValidationError, match="牵头单位"):
        services.problem_update(problem=p, by=people.office, lead_unit=None)
    p.refresh_from_db()
    assert p.lead_unit == county.education and p.deadline is not None
    # a unit deactivated in a reorganisation does not block unrelated edits
    county.education.is_active = False
    county.education.save()
    services.problem_update(problem=p, by=people.office, summary="改写后的概述")
    p.refresh_from_db()
    assert p.summary == "改写后的概述"


def test_evidence_with_a_very_long_name_is_stored_and_keeps_its_name(people, county):
    campaign = CampaignFactory(code="ZF2025")
    p = make_problem(campaign=campaign, by=people.office, lead_unit=county.education)
    workflow.assign(problem=p, by=people.office)
    m = services.measure_create(problem=p, by=people.liaison, content="整改", unit=county.education,
                                deadline=p.deadline)
    name = "关于" + "整改落实情况" * 20 + "的报告.docx"
    entry = services.progress_add(
        measure=m, by=people.liaison, text="完成", on=dt.date(2022, 5, 20), mark_status=MeasureStatus.DONE,
        files=[evidence_upload(name, content=(body := evidence_bytes(".docx")))],
    )
    [ev] = entry.evidence.all()
    assert ev.original_name == name and ev.file.name.endswith(".docx") and len(ev.file.name) < 100
    assert ev.file.read() == body
    m.refresh_from_db()
    assert m.completed_on == dt.date(2022, 5, 20)


def test_a_relapse_can_be_recorded_after_the_problem_was_reopened_by_hand(people, county):
    campaign = CampaignFactory(code="ZF2026")
    p = make_problem(campaign=campaign, by=people.office, lead_unit=county.education)
    workflow.assign(problem=p, by=people.office)
    m = services.measure_create(problem=p, by=people.liaison, content="整改", unit=county.education,
                                deadline=p.deadline)
    services.progress_add(measure=m, by=people.liaison, text="完成", mark_status=MeasureStatus.DONE)
    workflow.apply(problem=p, by=people.liaison, summary="已完成")
    workflow.approve(problem=p, by=people.office)
    [check] = lookback.lookback_draw(campaign=campaign, by=people.office, batch="第一批")
    workflow.reopen(problem=p, by=people.office, reason="群众再次反映")
    lookback.lookback_record(check=check, by=people.office, result="relapsed", finding="确有反弹")
    check.refresh_from_db()
    p.refresh_from_db()
    assert check.result == "relapsed" and check.reopen_transition is None
    assert p.status == ProblemStatus.IN_PROGRESS
    assert [t.action for t in p.transitions.all()].count(TransitionAction.REOPEN) == 1
