"""The deadline light (红黄绿灯): closed and voided have none, overdue is red with its days, the yellow window in
calendar or working days (国庆 2024 worked out by hand), overrides, and the query filter agreeing with the function.

The 2024 National Day schedule: 10/1–10/7 off; Sunday 9/29 and Saturday 10/12 were make-up working days.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from campaigns import services as campaign_services
from campaigns.models import DeadlineMode
from campaigns.workdays import add_working_days
from ledger import workflow
from ledger.lights import light_for, light_q, problem_light, yellow_limit
from ledger.models import Light, Measure, MeasureStatus, Problem, RectificationType
from tests.ledger.factories import CampaignFactory, make_measure, make_problem

D = dt.date


@pytest.fixture
def calendar_campaign(db):
    return CampaignFactory(code="CAL", yellow_window_days=7, deadline_mode=DeadlineMode.CALENDAR)


@pytest.fixture
def working_campaign(db):
    return CampaignFactory(code="WRK", yellow_window_days=7, deadline_mode=DeadlineMode.WORKING)


def light(campaign, deadline, today, is_open=True):
    return light_for(deadline=deadline, is_open=is_open, campaign=campaign, today=today)


def test_closed_and_voided_problems_have_no_light(calendar_campaign):
    info = light(calendar_campaign, D(2024, 1, 1), D(2024, 10, 8), is_open=False)
    assert info.light == Light.NONE and info.label == "" and info.css == "secondary"


def test_overdue_is_red_with_the_days_overdue(calendar_campaign):
    info = light(calendar_campaign, D(2024, 9, 30), D(2024, 10, 8))
    assert (info.light, info.days_left, info.label, info.css) == (Light.RED, -8, "逾期8天", "danger")
    assert light(calendar_campaign, D(2024, 10, 7), D(2024, 10, 8)).label == "逾期1天"


def test_due_today_is_yellow(calendar_campaign, working_campaign):
    for c in (calendar_campaign, working_campaign):
        info = light(c, D(2024, 10, 8), D(2024, 10, 8))
        assert (info.light, info.days_left, info.label) == (Light.YELLOW, 0, "今日到期")


def test_yellow_window_in_calendar_days(calendar_campaign):
    today = D(2026, 5, 11)
    assert light(calendar_campaign, D(2026, 5, 18), today).light == Light.YELLOW  # 7 days ahead
    assert light(calendar_campaign, D(2026, 5, 19), today).light == Light.GREEN  # 8 days ahead
    info = light(calendar_campaign, D(2026, 5, 19), today)
    assert (info.days_left, info.label, info.css) == (8, "剩余8天", "success")


def test_a_long_term_problem_without_deadline_is_green(calendar_campaign):
    info = light(calendar_campaign, None, D(2026, 5, 11))
    assert (info.light, info.label) == (Light.GREEN, "长期坚持")


def test_ten_working_days_across_national_day(db):
    # 9/29 (Sun, make-up) 1, 9/30 2, [10/1–10/7 off], 10/8 3, 10/9 4, 10/10 5, 10/11 6, 10/12 (Sat, make-up) 7,
    # 10/14 8, 10/15 9, 10/16 10
    assert add_working_days(D(2024, 9, 27), 10) == D(2024, 10, 16)
    assert campaign_services.deadline_from(start=D(2024, 9, 27), n=10, working=True) == D(2024, 10, 16)
    assert campaign_services.deadline_from(start=D(2024, 9, 27), n=10, working=False) == D(2024, 10, 7)


def test_light_on_october_8th_for_a_deadline_of_october_16th(calendar_campaign, working_campaign):
    deadline, today = D(2024, 10, 16), D(2024, 10, 8)
    # working: 10/9 1, 10/10 2, 10/11 3, 10/12 (make-up) 4, 10/14 5, 10/15 6, 10/16 7 → inside a 7-day window
    assert yellow_limit(working_campaign, today) == D(2024, 10, 16)
    assert light(working_campaign, deadline, today).light == Light.YELLOW
    # calendar: 10/8 + 7 = 10/15 → the deadline is outside the window
    assert yellow_limit(calendar_campaign, today) == D(2024, 10, 15)
    assert light(calendar_campaign, deadline, today).light == Light.GREEN
    # the day before, during the holiday, seven working days reach only 10/15
    assert light(working_campaign, deadline, D(2024, 10, 7)).light == Light.GREEN
    # the days shown are calendar days either way
    assert light(working_campaign, deadline, today).days_left == 8


def test_working_window_spans_the_whole_holiday(db):
    c = CampaignFactory(code="ONE", yellow_window_days=1, deadline_mode=DeadlineMode.WORKING)
    # from 9/30 the next working day is 10/8: eight calendar days away, one working day
    assert light(c, D(2024, 10, 8), D(2024, 9, 30)).light == Light.YELLOW
    assert light(c, D(2024, 10, 9), D(2024, 9, 30)).light == Light.GREEN


def test_calendar_override_changes_the_light(people, working_campaign):
    deadline = D(2024, 10, 16)
    # Sunday 10/13 made a working day: seven working days from 10/8 now end on 10/15 → green
    o = campaign_services.calendar_override_set(by=people.office, date=D(2024, 10, 13), is_workday=True)
    assert light(working_campaign, deadline, D(2024, 10, 8)).light == Light.GREEN
    campaign_services.calendar_override_delete(override=o, by=people.office)
    assert light(working_campaign, deadline, D(2024, 10, 8)).light == Light.YELLOW
    # Thursday 10/10 made a rest day: from 10/7 the window now reaches 10/16 → yellow
    assert light(working_campaign, deadline, D(2024, 10, 7)).light == Light.GREEN
    campaign_services.calendar_override_set(by=people.office, date=D(2024, 10, 10), is_workday=False)
    assert light(working_campaign, deadline, D(2024, 10, 7)).light == Light.YELLOW


def test_problem_light_reads_the_problem(people, county, calendar_campaign):
    p = make_problem(campaign=calendar_campaign, by=people.office, lead_unit=county.education,
                     deadline=D(2024, 10, 1))
    assert problem_light(p, today=D(2024, 10, 8)).light == Light.RED
    workflow.void(problem=p, by=people.office, reason="重复")
    p.refresh_from_db()
    assert problem_light(p, today=D(2024, 10, 8)).light == Light.NONE


def test_today_defaults_to_the_local_date(calendar_campaign):
    # 2024-10-08 00:30 in Shanghai is still 10/7 in UTC
    with time_machine.travel(dt.datetime(2024, 10, 7, 16, 30, tzinfo=dt.UTC), tick=False):
        assert light(calendar_campaign, D(2024, 10, 7), None).light == Light.RED


# ---- the filter agrees with the function -----------------------------------------------------------------------

@pytest.fixture
def mixed(people, county, calendar_campaign, working_campaign):
    """Problems in both campaigns, in every state, with deadlines around the 2024 National Day."""
    deadlines = [
        None, D(2024, 9, 30), D(2024, 10, 7), D(2024, 10, 8), D(2024, 10, 12), D(2024, 10, 15), D(2024, 10, 16),
        D(2024, 10, 17), D(2024, 11, 30),
    ]
    problems = []
    for c in (calendar_campaign, working_campaign):
        for i, deadline in enumerate(deadlines):
            long_term = deadline is None
            p = make_problem(
                campaign=c, by=people.office, lead_unit=county.education, deadline=deadline,
                rectification_type=RectificationType.LONG_TERM if long_term else RectificationType.TIME_LIMITED,
            )
            state = i % 5  # 0 draft, 1 in progress, 2 pending review, 3 closed, 4 voided
            if state >= 1:
                workflow.assign(problem=p, by=people.office)
            if state in (2, 3):
                m = make_measure(problem=p, unit=county.education)
                workflow.measure_set_status(measure=m, by=people.liaison, status=MeasureStatus.DONE)
                workflow.apply(problem=p, by=people.liaison, summary="已整改")
            if state == 3:
                workflow.approve(problem=p, by=people.office)
            if state == 4:
                make_measure(problem=p, unit=county.education)
                workflow.void(problem=p, by=people.office, reason="重复")
            if state in (0, 1):
                make_measure(problem=p, unit=county.education)
            problems.append(p)
    return problems


@pytest.mark.parametrize("today", [D(2024, 9, 30), D(2024, 10, 7), D(2024, 10, 8), D(2024, 10, 16)])
def test_light_q_agrees_with_light_for(mixed, calendar_campaign, working_campaign, today):
    campaigns = [calendar_campaign, working_campaign]
    problems = list(Problem.objects.select_related("campaign"))
    assert len(problems) == 18
    expected = {lt: set() for lt in Light.values}
    for p in problems:
        expected[problem_light(p, today=today).light].add(p.pk)
    assert sum(len(v) for v in expected.values()) == 18
    for lt in Light.values:
        got = set(Problem.objects.filter(light_q(lt, campaigns, today)).values_list("pk", flat=True))
        assert got == expected[lt], (lt, today)
        measures = set(
            Measure.objects.filter(light_q(lt, campaigns, today, prefix="problem__")).values_list("problem", flat=True)
        )
        assert measures == expected[lt], (lt, today)


def test_the_mixed_set_really_mixes(mixed, calendar_campaign, working_campaign):
    today = D(2024, 10, 8)
    lights = {(p.campaign.code, p.deadline): problem_light(p, today=today).light
              for p in Problem.objects.select_related("campaign").filter(status__in=["draft", "in_progress"])}
    assert set(lights.values()) == {Light.RED, Light.YELLOW, Light.GREEN}
    # the same deadline, two lights: 10/16 is inside seven working days of 10/8 but not seven calendar days
    assert lights[("WRK", D(2024, 10, 16))] == Light.YELLOW and lights[("CAL", D(2024, 10, 16))] == Light.GREEN
