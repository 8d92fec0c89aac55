"""A form is saved once however many times it is posted: the one-time token of core.submissions."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from core.submissions import DUPLICATE, FIELD
from ledger import workflow
from ledger.models import Accountability, Measure, Problem, ProgressEntry
from tests.ledger.factories import CampaignFactory, make_measure, make_problem

TODAY = timezone.localdate()
TOKEN = re.compile(rf'<input type="hidden" name="{FIELD}" value="([A-Za-z0-9_-]+)">')


def login(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def token_of(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    found = TOKEN.findall(response.content.decode())
    assert found, f"no one-time token in the form of {url}"
    return found[0]


def messages_of(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


@pytest.fixture
def problem(people, county):
    campaign = CampaignFactory(code="ZF2031")
    p = make_problem(campaign=campaign, by=people.office, lead_unit=county.education, summary="窗口推诿",
                     deadline=TODAY + dt.timedelta(days=30))
    workflow.assign(problem=p, by=people.office)
    return p


def test_the_same_measure_form_posted_twice_adds_one_measure(client, people, county, problem):
    login(client, people.liaison)
    url = reverse("ledger:measure_create", args=[problem.pk])
    data = {"content": "建立首问负责制", "unit": county.education.pk, "deadline": "2031-01-01",
            FIELD: token_of(client, url)}

    first = client.post(url, data)
    second = client.post(url, data, HTTP_REFERER=f"http://testserver{url}")

    assert first.status_code == 302
    assert Measure.objects.filter(problem=problem, content="建立首问负责制").count() == 1
    assert second.status_code == 303 and second["Location"] == f"http://testserver{url}"
    assert DUPLICATE in messages_of(second)


def test_a_second_tab_with_its_own_token_adds_its_own_measure(client, people, county, problem):
    """Two forms opened one after the other are two submissions, not one sent twice."""
    login(client, people.liaison)
    url = reverse("ledger:measure_create", args=[problem.pk])
    tokens = token_of(client, url), token_of(client, url)
    assert tokens[0] != tokens[1]
    for token in tokens:
        client.post(url, {"content": "整改措施", "unit": county.education.pk, "deadline": "2031-01-01", FIELD: token})
    assert Measure.objects.filter(problem=problem, content="整改措施").count() == 2


def test_a_form_shown_again_with_its_errors_carries_a_new_token_that_saves(client, people, county, problem):
    login(client, people.liaison)
    url = reverse("ledger:measure_create", args=[problem.pk])
    token = token_of(client, url)

    refused = client.post(url, {"content": "", "unit": county.education.pk, "deadline": "2031-01-01", FIELD: token})
    assert refused.status_code == 200 and "请填写整改措施内容" in refused.content.decode()
    fresh = TOKEN.findall(refused.content.decode())[0]
    assert fresh != token

    saved = client.post(url, {"content": "补上内容", "unit": county.education.pk, "deadline": "2031-01-01",
                              FIELD: fresh})
    assert saved.status_code == 302
    assert Measure.objects.filter(problem=problem, content="补上内容").count() == 1


def test_a_request_that_failed_gives_its_token_back(client, people, county, problem, monkeypatch):
    """A server error saved nothing: the same form may be sent again and then saves."""
    from ledger import services

    login(client, people.liaison)
    client.raise_request_exception = False
    url = reverse("ledger:measure_create", args=[problem.pk])
    data = {"content": "再试一次", "unit": county.education.pk, "deadline": "2031-01-01", FIELD: token_of(client, url)}
    real = services.measure_create

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "measure_create", broken)
    assert client.post(url, data).status_code == 500
    monkeypatch.setattr(services, "measure_create", real)

    assert client.post(url, data).status_code == 302
    assert Measure.objects.filter(problem=problem, content="再试一次").count() == 1


def test_progress_with_evidence_posted_twice_is_recorded_once(client, people, county, problem):
    measure = make_measure(problem=problem, unit=county.education, content="建立首问负责制")
    login(client, people.liaison)
    url = reverse("ledger:progress_add", args=[measure.pk])
    token = token_of(client, url)
    for _ in range(2):
        pdf = SimpleUploadedFile("台账.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n",
                                 content_type="application/pdf")
        client.post(url, {"text": "已建立制度", "on": TODAY.isoformat(), "files": pdf, FIELD: token})
    assert ProgressEntry.objects.filter(measure=measure, text="已建立制度").count() == 1


def test_a_problem_posted_twice_is_opened_once(client, people, county):
    campaign = CampaignFactory(code="ZF2032")
    login(client, people.office)
    url = f"{reverse('ledger:problem_create')}?campaign={campaign.pk}"
    data = {"campaign": campaign.pk, "summary": "一个问题", "rectification_type": "time_limited",
            "deadline_mode": "date", "deadline": "2031-01-01", FIELD: token_of(client, url)}
    client.post(url, data)
    client.post(url, data)
    assert Problem.objects.filter(campaign=campaign, summary="一个问题").count() == 1


def test_an_htmx_double_post_refreshes_the_page_instead_of_saving(client, people, county, problem):
    login(client, people.liaison)
    url = reverse("ledger:measure_create", args=[problem.pk])
    data = {"content": "htmx 提交", "unit": county.education.pk, "deadline": "2031-01-01", FIELD: token_of(client, url)}
    client.post(url, data)
    second = client.post(url, data, HTTP_HX_REQUEST="true")
    assert second.status_code == 200 and second["HX-Refresh"] == "true"
    assert Measure.objects.filter(problem=problem, content="htmx 提交").count() == 1


@pytest.mark.parametrize("forged", ["", "short", "a" * 200, "<script>", "x" * 21 + "!"])
def test_a_missing_or_malformed_token_is_left_to_the_view(client, people, county, problem, forged):
    login(client, people.liaison)
    url = reverse("ledger:measure_create", args=[problem.pk])
    response = client.post(url, {"content": f"措施{len(forged)}", "unit": county.education.pk,
                                 "deadline": "2031-01-01", FIELD: forged})
    assert response.status_code == 302
    assert not cache.get(f"submission:{forged}")


CREATE_PAGES = [
    ("campaigns:campaign_create", None),
    ("ledger:problem_create", "campaign"),
    ("ledger:measure_create", "problem"),
    ("ledger:accountability_add", "problem"),
    ("ledger:progress_add", "measure"),
    ("supervision:order_issue", "problem"),
    ("notifications:robot_create", None),
    ("units:import_start", None),
]


@pytest.mark.parametrize("name, arg", CREATE_PAGES)
def test_every_create_form_carries_a_one_time_token(client, people, county, problem, name, arg):
    measure = make_measure(problem=problem, unit=county.education)
    args = {"problem": [problem.pk], "measure": [measure.pk]}.get(arg or "", [])
    url = reverse(name, args=args)
    if arg == "campaign":
        url += f"?campaign={problem.campaign_id}"
    login(client, people.admin if name.startswith(("units:", "notifications:")) else people.office)
    assert token_of(client, url)
    assert Accountability.objects.count() == 0  # a GET writes nothing
