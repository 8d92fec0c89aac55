"""The report figures as of a period's end, from a scripted timeline: hand-computed May and Q2 figures, which
later changes (re-dated, reassigned, returned, new problems) do not alter."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

import pytest
import time_machine
from django.utils import timezone

from ledger import services, workflow
from ledger.models import MeasureStatus
from reports.figures import (
    Figures,
    Period,
    by_reporting_unit,
    honour_and_black_lists,
    rank_units,
    rate_text,
    reporting_units,
    snapshot,
)
from tests.ledger.factories import CampaignFactory, make_measure, make_problem

TZ = timezone.get_current_timezone()


@contextmanager
def on(month: int, day: int):
    with time_machine.travel(dt.datetime(2022, month, day, 10, tzinfo=TZ), tick=False):
        yield


@pytest.fixture
def timeline(county, people):
    office, liaison = people.office, people.liaison
    campaign = CampaignFactory(start_date=dt.date(2022, 3, 1))
    campaign.jurisdiction.set([county.root])

    def new(month, day, unit, deadline, summary):
        with on(month, day):
            return make_problem(campaign=campaign, by=office, lead_unit=unit, deadline=deadline, summary=summary)

    def assign(p, month, day):
        with on(month, day):
            workflow.assign(problem=p, by=office)

    def finish(p, month, day, approve_on=None):
        with on(month, day):
            m = make_measure(problem=p, unit=p.lead_unit, deadline=p.deadline)
            workflow.measure_set_status(measure=m, by=office, status=MeasureStatus.DONE)
            services.progress_add(measure=m, by=office, text="已整改")
            applicant = liaison if p.lead_unit == county.education else people.sibling_liaison
            workflow.apply(problem=p, by=applicant, summary="完成")
        if approve_on:
            with on(*approve_on):
                workflow.approve(problem=p, by=office)

    p1 = new(3, 1, county.education, dt.date(2022, 4, 30), "P1 按期销号")
    assign(p1, 3, 2)
    p8 = new(3, 1, county.education, dt.date(2022, 3, 31), "P8 逾期后销号")
    assign(p8, 3, 2)
    p3 = new(4, 1, county.finance, dt.date(2022, 6, 30), "P3 六月改派改期")
    assign(p3, 4, 2)
    finish(p8, 4, 5, approve_on=(4, 6))
    finish(p1, 4, 25, approve_on=(4, 28))
    p5 = new(5, 1, county.town, dt.date(2022, 5, 31), "P5 作废")
    assign(p5, 5, 2)
    new(5, 2, county.town, dt.date(2022, 5, 31), "P6 草稿")
    p2 = new(5, 3, county.education, dt.date(2022, 5, 20), "P2 五月逾期")
    assign(p2, 5, 5)
    p4 = new(5, 10, county.finance, dt.date(2022, 5, 25), "P4 待核查后退回")
    assign(p4, 5, 11)
    finish(p4, 5, 24)
    with on(5, 30):
        workflow.void(problem=p5, by=office, reason="重复录入")
    # After May: what must not change May's figures.
    with on(6, 2):
        workflow.return_(problem=p4, by=office, opinion="佐证不足")
    p7 = new(6, 2, county.education, dt.date(2022, 7, 31), "P7 六月新增")
    assign(p7, 6, 3)
    with on(6, 5):
        services.problem_update(problem=p3, by=office, lead_unit=county.town)
    with on(6, 6):
        services.problem_update(problem=p3, by=office, deadline=dt.date(2022, 5, 15))
    return campaign, county


def counts(f: Figures) -> dict[str, int]:
    return {k: getattr(f, k) for k in ("total", "new", "closed", "pending_review", "in_progress", "long_term",
                                         "overdue", "on_time", "due")}


def test_may_as_it_stood_on_may_31(timeline):
    campaign, county = timeline
    snap = snapshot(campaign, Period.month(2022, 5))
    f = snap.figures()

    assert counts(f) == {"total": 5, "new": 2, "closed": 2, "pending_review": 1, "in_progress": 2, "long_term": 0,
                         "overdue": 1, "on_time": 1, "due": 4}
    assert (rate_text(f.closure_rate), rate_text(f.on_time_rate), rate_text(f.overdue_rate)) == (
        "40.0%", "25.0%", "20.0%")
    [overdue] = [p for p in snap.problems if p.overdue]
    assert overdue.overdue_days == 11  # 5月20日 → 5月31日

    units = reporting_units(campaign)
    table = by_reporting_unit(snap, units)
    assert counts(table[county.education.pk])["total"] == 3 and table[county.education.pk].closed == 2
    # P3 still stood with 县财政局 and its June deadline at the end of May.
    assert counts(table[county.finance.pk]) == {"total": 2, "new": 1, "closed": 0, "pending_review": 1,
                                                 "in_progress": 1, "long_term": 0, "overdue": 0, "on_time": 0,
                                                 "due": 1}
    assert table[county.town.pk].total == 0 and rate_text(table[county.town.pk].closure_rate) == "—"
    ranking = rank_units(table)
    assert [(r.unit_id, r.rank) for r in ranking] == [(county.education.pk, 1), (county.finance.pk, 2)]
    red, black = honour_and_black_lists(ranking, top=1, bottom=1)
    assert (red, black) == ([county.education.pk], [county.finance.pk])


def test_the_second_quarter_counts_what_happened_in_june(timeline):
    campaign, county = timeline
    f = snapshot(campaign, Period.quarter(2022, 2)).figures()

    assert counts(f) == {"total": 6, "new": 4, "closed": 2, "pending_review": 0, "in_progress": 4, "long_term": 0,
                         "overdue": 3, "on_time": 1, "due": 5}
    table = by_reporting_unit(snapshot(campaign, Period.quarter(2022, 2)), reporting_units(campaign))
    assert table[county.town.pk].overdue == 1  # P3, reassigned and re-dated in June


def test_building_may_again_later_gives_the_same_figures(timeline, people):
    campaign, county = timeline
    before = counts(snapshot(campaign, Period.month(2022, 5)).figures())
    p = campaign.problems.get(summary="P2 五月逾期")
    with on(7, 1):
        services.problem_update(problem=p, by=people.office, deadline=dt.date(2022, 9, 30), lead_unit=county.town)
        workflow.void(problem=campaign.problems.get(summary="P7 六月新增"), by=people.office, reason="并入其他问题")

    assert counts(snapshot(campaign, Period.month(2022, 5)).figures()) == before


def test_ties_share_a_rank_and_a_tie_at_the_cut_off_takes_every_tied_unit():
    def fig(total: int, closed: int) -> Figures:
        return Figures(total=total, closed=closed)

    ranking = rank_units({1: fig(4, 4), 2: fig(2, 2), 3: fig(4, 2), 4: fig(4, 1), 5: fig(0, 0)})
    assert [(r.unit_id, r.rank) for r in ranking] == [(1, 1), (2, 1), (3, 3), (4, 4)]
    assert honour_and_black_lists(ranking, top=1, bottom=1) == ([1, 2], [4])
