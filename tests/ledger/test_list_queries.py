"""Every list page runs a fixed number of queries, whatever the number of rows: the same count at 5 and at 40."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from ledger import services, workflow
from ledger.lookback import lookback_draw, lookback_record
from ledger.models import MeasureStatus
from tests.ledger.factories import CampaignFactory, CategoryFactory, make_measure, make_problem

TODAY = timezone.localdate()


@pytest.fixture
def campaigns():
    """Two campaigns, one counting working days for its yellow window."""
    return [CampaignFactory(), CampaignFactory(deadline_mode="working", yellow_window_days=5)]


def build(n: int, people, county, campaigns, *, pending: bool = False, lookback: bool = False) -> None:
    """n problems spread over the campaigns, units, sources, categories and lights, each with co-units and
    measures; with `pending`, every one applied for sign-off; with `lookback`, closed and drawn for 回头看 (a
    third of them already checked)."""
    pending = pending or lookback
    cats = {c.pk: CategoryFactory(campaign=c) for c in campaigns}
    units = [county.education, county.education_school]
    for i in range(n):
        campaign = campaigns[i % 2]
        p = make_problem(
            campaign=campaign, by=people.office, lead_unit=units[i % 2], summary=f"问题{i}",
            deadline=TODAY + dt.timedelta(days=(i * 7) % 20 - 5), source=campaign.sources.all()[i % 3],
            category=cats[campaign.pk], co_units=[county.finance, county.town][: 1 + i % 2],
        )
        workflow.assign(problem=p, by=people.office)
        m = make_measure(problem=p, unit=units[i % 2])
        make_measure(problem=p, unit=county.finance, content="配合")
        if pending:
            for measure in p.measures.all():
                services.progress_add(measure=measure, by=people.office, text="完成")
                workflow.measure_set_status(measure=measure, by=people.office, status=MeasureStatus.DONE)
            workflow.apply(problem=p, by=people.liaison, summary=f"第{i}个已整改")
            if lookback:
                workflow.approve(problem=p, by=people.office)
                [check] = lookback_draw(campaign=campaign, by=people.office, batch=f"第{i % 2 + 1}批",
                                        unit=p.lead_unit, count=1)
                if i % 3 == 0:
                    lookback_record(check=check, by=people.office, result="consolidated")
        elif i % 3 == 0:
            services.progress_add(measure=m, by=people.liaison, text="推进中")


def count_queries(client, user, path: str, params: dict | None = None, expect_rows: int = 0) -> int:
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    client.get(path, params)  # warm per-process caches (content types and the like)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def rows(response_context_key: str, response) -> int:
    return len(list(response.context[response_context_key]))


PAGES = {
    # name: (user attribute, path, params, pending review? / "lookback")
    "ledger list": ("office", "ledger:problem_list", {"per_page": 50}, False),
    "ledger list filtered": ("office", "ledger:problem_list",
                             {"per_page": 50, "light": "yellow", "q": "问题", "status": "open", "sort": "deadline"},
                             False),
    "ledger list (leader)": ("leader", "ledger:problem_list", {"per_page": 50}, False),
    "review queue": ("office", "ledger:review_queue", {}, True),
    "liaison tasks": ("liaison", "ledger:my_tasks", {}, False),
    "回头看 list": ("office", "ledger:lookback_list", {}, "lookback"),
}


@pytest.mark.parametrize("page_name", list(PAGES))
def test_list_pages_run_the_same_number_of_queries_at_5_and_40_rows(client, people, county, campaigns, page_name):
    who, name, params, pending = PAGES[page_name]
    user = getattr(people, who)
    if who == "leader":
        user.overseen_units.add(county.education)
    build(5, people, county, campaigns, pending=bool(pending), lookback=pending == "lookback")
    small = count_queries(client, user, reverse(name), params)
    build(35, people, county, campaigns, pending=bool(pending), lookback=pending == "lookback")
    response = client.get(reverse(name), params)
    shown = {
        "ledger:problem_list": lambda r: len(r.context["page_obj"]),
        "ledger:review_queue": lambda r: len(r.context["page_obj"]),
        "ledger:lookback_list": lambda r: len(r.context["page_obj"]),
        "ledger:my_tasks": lambda r: len(r.context["tasks"].problems) + len(r.context["tasks"].measures),
    }[name](response)
    assert shown >= 10, shown  # the bigger run really renders many more rows than the first
    large = count_queries(client, user, reverse(name), params)
    assert large == small, f"{page_name}: {small} queries at 5 problems, {large} at 40"


def test_ledger_list_query_count_is_small(client, people, county, campaigns, django_assert_max_num_queries):
    """The figure itself, so a regression is seen. 17 today: session, user, roles, the user's unit (navbar);
    campaigns, the working-day calendar for the yellow limits and for the yellow and green filters; source,
    unit and category choices; counts per light (which also serve as the paginator's count), the page and its
    co-units; and the idle timeout's session save (three statements)."""
    build(10, people, county, campaigns)
    client.force_login(people.office, backend="django.contrib.auth.backends.ModelBackend")
    client.get(reverse("ledger:problem_list"))
    with django_assert_max_num_queries(17):
        client.get(reverse("ledger:problem_list"), {"per_page": 50})
