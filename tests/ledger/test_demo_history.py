"""The demo ledger has a history worth reporting: problems entered, assigned and signed off over the campaign's
months, so last month's 月调度 and last quarter's 季通报 count something, whatever the day it is loaded."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from campaigns.models import Campaign
from ledger import services, workflow
from ledger.lights import problem_light
from ledger.models import (
    Accountability,
    Exemplar,
    Light,
    Measure,
    Problem,
    ProblemFacts,
    ProblemStatus,
    ProgressEntry,
    ReviewDecision,
    ReviewRound,
    Transition,
    TransitionAction,
)
from reports.figures import Period, monthly_trend, snapshot
from tests.ledger.factories import CampaignFactory, make_measure, make_problem

S = ProblemStatus
TZ = timezone.get_current_timezone()
# An ordinary working day, the first of a year (a holiday, the first of a month, last quarter a whole quarter
# back) and the last day of a month after a short February.
DAYS = [dt.datetime(2026, 12, 2, 11, 40, tzinfo=TZ), dt.datetime(2027, 1, 1, 0, 30, tzinfo=TZ),
        dt.datetime(2026, 3, 31, 22, 0, tzinfo=TZ)]


def load() -> str:
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def last_month(today: dt.date) -> Period:
    return Period.month(today.year, today.month).previous_month()


def last_quarter(today: dt.date) -> Period:
    return Period.quarter(today.year, (today.month - 1) // 3 + 1).previous("quarterly")


def late(snap) -> int:
    return sum(p.state == S.CLOSED and p.deadline is not None and not p.on_time for p in snap.problems)


@pytest.fixture(params=DAYS, ids=lambda d: f"{d:%Y-%m-%d}")
def loaded(request, db):
    with time_machine.travel(request.param, tick=False):
        out = load()
        yield out, Campaign.objects.get(code="ZF2026"), timezone.localdate()


def test_last_month_and_last_quarter_have_a_real_spread(loaded):
    out, campaign, today = loaded
    assert "各月分派与销号" in out
    assert campaign.start_date is not None
    assert 7 <= (today - campaign.start_date).days // 30 <= 9  # began about eight months ago
    for period in (last_month(today), last_quarter(today)):
        snap = snapshot(campaign, period)
        f = snap.figures()
        assert f.total > 0 and f.new > 0, period
        assert f.closed > 0 and f.in_progress > 0 and f.long_term > 0, period
        assert f.pending_review > 0 or period == last_quarter(today), period
        assert f.overdue > 0, period
        assert f.on_time > 0 and late(snap) > 0, period
        assert 0 < f.closure_rate < 1 and 0 < f.on_time_rate < 1, period
    # new problems and sign-offs in every month since the campaign began, not all on the day of loading
    trend = monthly_trend(campaign, last_month(today).end)
    assert [p.period.start for p in trend][0] == campaign.start_date and len(trend) == 8
    assert all(p.new > 0 and p.closed > 0 for p in trend), [(p.label, p.new, p.closed) for p in trend]
    # what the 季通报 names: 挂牌督办, 典型案例 both ways, 追责问责, 整改成效
    quarter = last_quarter(today)
    problems = Problem.objects.filter(campaign=campaign)
    assert problems.filter(listed=True, listed_at__lte=quarter.end_moment).exists()
    assert {Exemplar.POSITIVE, Exemplar.NEGATIVE} <= set(problems.values_list("exemplar", flat=True))
    assert Accountability.objects.filter(problem__campaign=campaign, decided_on__lte=quarter.end).count() >= 2
    signed = ReviewRound.objects.filter(problem__campaign=campaign, decision=ReviewDecision.APPROVED)
    assert signed.exclude(rules_made="").exists() and signed.filter(funds_recovered__gt=0).exists()
    # one returned and applied again, one reopened by the office in the past, one relapse found today
    assert ReviewRound.objects.filter(problem__campaign=campaign, decision=ReviewDecision.RETURNED).count() >= 2
    reopened = Transition.objects.filter(problem__campaign=campaign, action=TransitionAction.REOPEN)
    assert reopened.filter(at__lt=last_month(today).end_moment).exists() and reopened.count() == 2
    assert problems.filter(stage_closed=True).exists()
    assert Transition.objects.filter(problem__campaign=campaign, action=TransitionAction.VOID).count() == 1
    # today's lights stay mixed
    lights = {problem_light(p).light for p in problems.select_related("campaign").filter(status=S.IN_PROGRESS)}
    assert {Light.RED, Light.YELLOW, Light.GREEN} <= lights


def test_every_step_is_dated_in_order_and_ends_in_the_problem_state(loaded):
    _, campaign, _ = loaded
    now = timezone.now()
    start = timezone.make_aware(dt.datetime.combine(campaign.start_date, dt.time.min))
    for p in Problem.objects.filter(campaign=campaign):
        steps = list(Transition.objects.filter(problem=p).order_by("id").values_list("at", "action", "to_status"))
        moments = [at for at, _, _ in steps]
        assert moments == sorted(moments), p.number
        assert start <= moments[0] <= moments[-1] <= now, p.number
        assert steps[0][1] == TransitionAction.CREATE and p.created_at == moments[0], p.number
        assert steps[-1][2] == p.status, p.number
        assert ProblemFacts.objects.filter(problem=p).order_by("since").first().since == moments[0], p.number
        assigned = next((at for at, action, _ in steps if action == TransitionAction.ASSIGN), None)
        for created in [*Measure.objects.filter(problem=p).values_list("created_at", flat=True),
                        *ProgressEntry.objects.filter(problem=p).values_list("created_at", flat=True)]:
            assert assigned is not None and assigned < created <= now, p.number
        for entry in ProgressEntry.objects.filter(problem=p):
            assert entry.on == timezone.localdate(entry.created_at), p.number
        for rr in ReviewRound.objects.filter(problem=p).exclude(reviewed_at=None):
            assert rr.applied_at < rr.reviewed_at, p.number


def test_the_demo_loads_twice_without_duplicating(loaded):
    _, campaign, _ = loaded

    def counts() -> tuple[int, ...]:
        return (Problem.objects.count(), Transition.objects.count(), ProgressEntry.objects.count(),
                ReviewRound.objects.count(), Accountability.objects.count(), Campaign.objects.count())

    before = counts()
    assert "已存在" in load()
    assert counts() == before


def test_a_step_dated_before_the_last_one_is_refused(county, people):
    campaign = CampaignFactory()
    entered = dt.datetime(2022, 3, 1, 9, tzinfo=TZ)
    p = make_problem(campaign=campaign, by=people.office, lead_unit=county.education, at=entered)
    assert p.created_at == entered and p.transitions.get().at == entered
    with pytest.raises(workflow.WorkflowError, match="不能早于"):
        workflow.assign(problem=p, by=people.office, at=entered - dt.timedelta(days=1))
    assert Problem.objects.get(pk=p.pk).status == S.DRAFT
    workflow.assign(problem=p, by=people.office, at=entered + dt.timedelta(days=1))
    m = make_measure(problem=p, unit=county.education, at=entered + dt.timedelta(days=2))
    reported = entered + dt.timedelta(days=20)
    with pytest.raises(Exception, match="不能晚于填报日期"):
        services.progress_add(measure=m, by=people.liaison, text="已整改", on=reported.date() + dt.timedelta(days=1),
                              at=reported)
    entry = services.progress_add(measure=m, by=people.liaison, text="已整改", at=reported)
    assert (entry.on, entry.created_at, Measure.objects.get(pk=m.pk).created_at) == (
        reported.date(), reported, entered + dt.timedelta(days=2))
