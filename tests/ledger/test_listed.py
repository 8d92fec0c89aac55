"""挂牌督办 by hand in the ledger's pages: the office lists a problem (or takes the mark off) with a reason, through
the workflow; everyone else is refused and nothing changes; the 挂牌 badge on the list and the problem page; the
list's 挂牌督办 filter, its counts, its export and its number of queries."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.audit import history_for
from core.models import AuditEntry
from ledger import workflow
from ledger.models import Problem
from tests.ledger.factories import CampaignFactory, make_problem

TODAY = timezone.localdate()
BADGE = 'data-testid="listed-badge"'


@pytest.fixture
def campaign(db):
    return CampaignFactory(code="ZF2022")


def assigned(campaign, people, unit, summary: str, days: int = 30) -> Problem:
    p = make_problem(campaign=campaign, by=people.office, lead_unit=unit, summary=summary,
                     deadline=TODAY + dt.timedelta(days=days))
    return workflow.assign(problem=p, by=people.office)


@pytest.fixture
def problem(campaign, people, county) -> Problem:
    return assigned(campaign, people, county.education, "教体局窗口推诿扯皮")


def login(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def toggle(client, problem: Problem, listed: str, reason: str = "逾期未整改，群众反映强烈", **extra):
    return client.post(reverse("ledger:problem_listed", args=[problem.pk]),
                       {"listed": listed, "reason": reason, **extra}, follow=True)


def state(problem: Problem) -> tuple:
    p = Problem.objects.get(pk=problem.pk)
    return p.listed, p.listed_at, p.listed_reason, p.version, history_for(p).count()


def test_the_office_lists_and_unlists_a_problem(client, people, problem):
    login(client, people.office)

    response = toggle(client, problem, "1")

    problem.refresh_from_db()
    assert problem.listed and problem.listed_at and problem.listed_reason == "逾期未整改，群众反映强烈"
    assert response.redirect_chain[-1][0] == reverse("ledger:problem_detail", args=[problem.pk])
    html = response.content.decode()
    assert f"问题 {problem.number} 已挂牌督办。" in html and BADGE in html and "取消挂牌" in html
    assert AuditEntry.objects.filter(object_id=str(problem.pk), changes__listed=["否", "是"]).exists()

    toggle(client, problem, "0", reason="")
    problem.refresh_from_db()
    assert not problem.listed and problem.listed_at is None and problem.listed_reason == ""


def test_a_second_click_changes_nothing(client, people, problem):
    login(client, people.office)
    toggle(client, problem, "1")
    before = state(problem)
    html = toggle(client, problem, "1").content.decode()
    assert "该问题已挂牌督办。" in html
    assert state(problem) == before


@pytest.mark.parametrize(("data", "message"), [
    ({"listed": "1", "reason": " "}, "挂牌督办时请说明原因。"),
    ({"listed": "maybe"}, "请选择挂牌督办或取消挂牌。"),
    ({"listed": "1", "reason": "长" * 301}, "说明不能超过300个字。"),
])
def test_bad_input_is_explained_and_changes_nothing(client, people, problem, data, message):
    login(client, people.office)
    before = state(problem)
    response = client.post(reverse("ledger:problem_listed", args=[problem.pk]), data, follow=True)
    assert message in response.content.decode()
    assert state(problem) == before


def test_only_the_office_may_list(client, people, problem):
    url = reverse("ledger:problem_listed", args=[problem.pk])
    before = state(problem)
    for who, status in ((people.liaison, 403), (people.admin, 403), (people.sibling_liaison, 404),
                        (people.outsider, 404)):
        login(client, who)
        assert client.post(url, {"listed": "1", "reason": "挂牌"}).status_code == status, who
    assert state(problem) == before
    login(client, people.office)
    assert client.get(url).status_code == 405
    client.logout()
    assert client.post(url, {"listed": "1", "reason": "挂牌"}).status_code == 302  # to the login page
    assert state(problem) == before


def test_a_draft_cannot_be_listed(client, people, campaign, county):
    draft = make_problem(campaign=campaign, by=people.office, lead_unit=county.education)
    login(client, people.office)
    before = state(draft)
    html = toggle(client, draft, "1").content.decode()
    assert "不能挂牌督办" in html
    assert state(draft) == before


def test_the_action_is_shown_to_the_office_only(client, people, problem):
    url = reverse("ledger:problem_detail", args=[problem.pk])
    login(client, people.office)
    assert 'data-testid="listed-form"' in client.get(url).content.decode()
    login(client, people.liaison)
    assert 'data-testid="listed-form"' not in client.get(url).content.decode()


def test_the_badge_on_the_list_and_the_problem_page(client, people, campaign, county, problem):
    other = assigned(campaign, people, county.education, "未挂牌的问题")
    workflow.set_listed(problem=problem, by=people.office, listed=True, reason="逾期超过30天")
    login(client, people.liaison)
    html = client.get(reverse("ledger:problem_list")).content.decode()
    rows = {n: html[html.index(f'data-number="{n}"'):].split("</tr>", 1)[0] for n in (problem.number, other.number)}
    assert BADGE in rows[problem.number] and "挂牌" in rows[problem.number]
    assert BADGE not in rows[other.number]
    page = client.get(reverse("ledger:problem_detail", args=[problem.pk])).content.decode()
    assert BADGE in page and "逾期超过30天" in page
    assert BADGE not in client.get(reverse("ledger:problem_detail", args=[other.pk])).content.decode()


def listed_numbers(client, **params) -> tuple[list[str], dict]:
    response = client.get(reverse("ledger:problem_list"), params)
    assert response.status_code == 200
    return [p.number for p in response.context["page_obj"]], response.context["counts"]


def test_the_filter_and_its_counts(client, people, campaign, county, problem):
    late = assigned(campaign, people, county.finance, "逾期的问题", days=-3)
    plain = assigned(campaign, people, county.education, "未挂牌的问题")
    for p in (problem, late):
        workflow.set_listed(problem=p, by=people.office, listed=True, reason="挂牌")
    login(client, people.office)
    numbers, counts = listed_numbers(client, listed="yes")
    assert numbers == [late.number, problem.number]
    assert counts["total"] == 2 and counts["red"] == 1 and counts["green"] == 1
    assert listed_numbers(client, listed="yes", light="red")[0] == [late.number]
    assert listed_numbers(client, listed="yes", light="red")[1]["total"] == 2
    assert listed_numbers(client, listed="no")[0] == [plain.number]
    assert len(listed_numbers(client)[0]) == 3
    assert listed_numbers(client, listed="nonsense")[1]["total"] == 3  # an invalid value is ignored
    html = client.get(reverse("ledger:problem_list"), {"listed": "yes"}).content.decode()
    assert 'name="listed"' in html and "挂牌督办" in html


def test_the_export_follows_the_filter(client, people, campaign, county, problem):
    plain = assigned(campaign, people, county.education, "未挂牌的问题")
    workflow.set_listed(problem=problem, by=people.office, listed=True, reason="挂牌")
    login(client, people.office)
    response = client.get(reverse("ledger:problem_export"), {"listed": "yes"})
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    cells = {str(c) for row in sheet.iter_rows(values_only=True) for c in row if c}
    assert problem.number in cells and plain.number not in cells


def test_the_filtered_list_runs_the_same_queries_for_more_rows(client, people, campaign, county):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("ledger:problem_list"), {"listed": "yes", "per_page": 50}).status_code == 200
        return len(ctx.captured_queries)

    def add(n: int) -> None:
        for i in range(n):
            p = assigned(campaign, people, [county.education, county.finance][i % 2], f"问题{i}", days=i % 9 - 4)
            workflow.set_listed(problem=p, by=people.office, listed=True, reason="挂牌")

    login(client, people.office)
    add(3)
    client.get(reverse("ledger:problem_list"), {"listed": "yes"})
    small = count()
    add(12)
    assert count() == small
