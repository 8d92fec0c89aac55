"""A problem's deadline, lead unit and category as they stood at any moment (what reports read at a period's end)."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.utils import timezone

from ledger import services, workflow
from ledger.history import Facts, facts_at
from ledger.models import ProblemFacts
from tests.ledger.factories import CampaignFactory, CategoryFactory, make_measure, make_problem

TZ = timezone.get_current_timezone()


def at(y: int, m: int, d: int, h: int = 10) -> dt.datetime:
    return dt.datetime(y, m, d, h, tzinfo=TZ)


def test_the_facts_follow_every_change_and_answer_for_any_moment(county, people):
    campaign = CampaignFactory()
    cat_a = CategoryFactory(campaign=campaign, code="1")
    cat_b = CategoryFactory(campaign=campaign, code="2")
    with time_machine.travel(at(2022, 3, 1), tick=False):
        p = make_problem(campaign=campaign, by=people.office, lead_unit=county.education,
                         deadline=dt.date(2022, 5, 31), category=cat_a)
    workflow.assign(problem=p, by=people.office, at=at(2022, 3, 2))
    with time_machine.travel(at(2022, 5, 20), tick=False):
        services.problem_update(problem=p, by=people.office, deadline=dt.date(2022, 6, 30))
    with time_machine.travel(at(2022, 6, 5), tick=False):
        services.problem_update(problem=p, by=people.office, lead_unit=county.finance, category=cat_b)
    with time_machine.travel(at(2022, 6, 6), tick=False):
        services.problem_update(problem=p, by=people.office, summary="只改了概述")

    assert ProblemFacts.objects.filter(problem=p).count() == 3  # the summary is not a fact reports read
    assert facts_at(at(2022, 2, 28)) == {}  # not yet entered
    assert facts_at(at(2022, 5, 31, 23))[p.pk] == Facts(dt.date(2022, 6, 30), county.education.pk, cat_a.pk)
    assert facts_at(at(2022, 4, 30, 23))[p.pk] == Facts(dt.date(2022, 5, 31), county.education.pk, cat_a.pk)
    assert facts_at(at(2022, 6, 30, 23))[p.pk] == Facts(dt.date(2022, 6, 30), county.finance.pk, cat_b.pk)


def test_assigning_and_reopening_record_their_moment(county, people):
    campaign = CampaignFactory()
    p = make_problem(campaign=campaign, by=people.office, lead_unit=None, deadline=None)
    workflow.assign(problem=p, by=people.office, lead_unit=county.education, deadline=dt.date(2031, 5, 31),
                    at=timezone.now() + dt.timedelta(minutes=5))
    m = make_measure(problem=p, unit=county.education, deadline=dt.date(2031, 5, 31))
    workflow.measure_set_status(measure=m, by=people.office, status="done")
    services.progress_add(measure=m, by=people.liaison, text="已整改")
    workflow.apply(problem=p, by=people.liaison, summary="整改完毕")
    workflow.approve(problem=p, by=people.office)

    workflow.reopen(problem=p, by=people.office, reason="回头看发现反弹", deadline=dt.date(2031, 9, 30))

    rows = list(ProblemFacts.objects.filter(problem=p).values_list("deadline", "lead_unit_id"))
    assert rows == [(None, None), (dt.date(2031, 5, 31), county.education.pk), (dt.date(2031, 9, 30),
                                                                                county.education.pk)]
    assert facts_at(timezone.now() + dt.timedelta(minutes=10))[p.pk].deadline == dt.date(2031, 9, 30)
