"""Malformed input on every page that reads ids, dates, `next` or free text from a request: each gets a Chinese
message, a 404 or is ignored, changes nothing, and never crashes into a 500 (the test client re-raises one)."""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from campaigns import services as campaign_services
from core.jobs import job_import_create, job_preview
from core.models import Job
from ledger import services, workflow
from ledger.models import LookbackCheck, Measure, MeasureStatus, Problem, ProgressEntry, Transition
from tests.ledger.factories import CampaignFactory, make_measure, make_problem
from units.http import parse_id, safe_next
from units.models import Unit

TODAY = timezone.localdate()
HUGE = str(2**64)  # beyond SQLite's INTEGER and PostgreSQL's bigint
UNICODE_DIGITS = ["²", "١", "１"]  # superscript two, Arabic-Indic one, fullwidth one: all pass str.isdigit()


def login(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@dataclass
class Data:
    campaign: object
    edu: Problem  # in progress, led by 县教育体育局
    draft: Problem
    measure: Measure


@pytest.fixture
def data(people, county) -> Data:
    campaign = CampaignFactory(code="ZF2030")
    edu = make_problem(campaign=campaign, by=people.office, lead_unit=county.education, summary="窗口推诿",
                       deadline=TODAY + dt.timedelta(days=30))
    draft = make_problem(campaign=campaign, by=people.office, lead_unit=county.education, summary="待分派")
    workflow.assign(problem=edu, by=people.office)
    measure = make_measure(problem=edu, unit=county.education, content="建立首问负责制")
    return Data(campaign, edu, draft, measure)


def snapshot() -> dict:
    return {
        "problems": sorted(Problem.objects.values_list("pk", "status", "summary", "lead_unit_id", "deadline")),
        "measures": sorted(Measure.objects.values_list("pk", "status", "content", "deadline")),
        "progress": ProgressEntry.objects.count(),
        "transitions": Transition.objects.count(),
        "lookbacks": LookbackCheck.objects.count(),
        "units": sorted(Unit.objects.values_list("pk", "is_active")),
    }


def messages_of(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


# ---- the helpers ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("1", 1), ("42", 42), (str(2**63 - 1), 2**63 - 1),
    (str(2**63), None), (HUGE, None), ("0", None), ("-1", None), ("+1", None), (" 1", None), ("1 ", None),
    ("1.0", None), ("", None), (None, None), ("abc", None), ("9" * 5000, None), *((d, None) for d in UNICODE_DIGITS),
])
def test_parse_id_accepts_only_ascii_digits_in_range(raw, expected):
    assert parse_id(raw) == expected


@pytest.mark.parametrize("target, ok", [
    ("/ledger/", True), ("/ledger/?a=1&b=2#x", True),
    ("abc", False), ("ledger:problem_list", False), ("//evil.example/", False), ("/\\evil.example/", False),
    ("https://evil.example/", False), ("http://testserver/ledger/", False), ("javascript:alert(1)", False),
    ("", False), (" /ledger/", False),
])
def test_safe_next_accepts_only_local_paths(rf, target, ok):
    request = rf.get("/", {"next": target})
    assert safe_next(request, "/default/") == (target if ok else "/default/")


# ---- 5: `next` that is not a path -------------------------------------------------------------------------------

def test_progress_with_a_bare_word_next_goes_back_to_the_measure(client, people, data):
    login(client, people.liaison)
    url = reverse("ledger:progress_add", args=[data.measure.pk])
    response = client.post(url, {"on": TODAY.isoformat(), "text": "已整改", "next": "abc"})
    assert response.status_code == 302
    assert response["Location"] == reverse("ledger:problem_detail", args=[data.edu.pk]) + f"#measure-{data.measure.pk}"
    # a local path is still honoured
    response = client.post(url, {"on": TODAY.isoformat(), "text": "再次整改", "next": "/ledger/tasks/"})
    assert response["Location"] == "/ledger/tasks/"


@pytest.mark.parametrize("target", ["abc", "ledger:problem_list", "//evil.example/x", "https://evil.example/"])
def test_assign_with_a_bad_next_redirects_to_the_list(client, people, data, target):
    login(client, people.office)
    response = client.get(reverse("ledger:problem_assign"), {"next": target})
    assert response.status_code == 302 and response["Location"] == reverse("ledger:problem_list")
    assert "请先勾选要分派的待分派问题。" in messages_of(response)


def test_review_with_a_bad_next_redirects_to_the_problem(client, people, data):
    login(client, people.office)
    before = snapshot()
    response = client.post(reverse("ledger:problem_review", args=[data.edu.pk]), {"next": "abc"})
    assert response.status_code == 302
    assert response["Location"] == reverse("ledger:problem_detail", args=[data.edu.pk])
    assert snapshot() == before


def test_unit_toggle_with_a_bare_word_next_redirects_to_the_unit(client, people, county):
    login(client, people.admin)
    url = reverse("units:unit_toggle_active", args=[county.finance.pk])
    response = client.post(url, {"active": "1", "next": "abc"})
    assert response.status_code == 302
    assert response["Location"] == reverse("units:unit_detail", args=[county.finance.pk])
    assert client.get(url, {"next": "abc"}).context["next"] == reverse("units:unit_detail", args=[county.finance.pk])


@pytest.mark.parametrize("name", ["units:user_toggle_active", "units:user_reset_password"])
def test_user_pages_ignore_a_bare_word_next(client, people, name):
    login(client, people.admin)
    url = reverse(name, args=[people.liaison.pk])
    assert client.get(url, {"next": "abc"}).context["next"] == reverse("units:user_list")
    if name == "units:user_toggle_active":
        response = client.post(url, {"active": "1", "next": "abc"})
        assert response.status_code == 302 and response["Location"] == reverse("units:user_list")


# ---- 6: Unicode digits ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [*UNICODE_DIGITS, HUGE, "0", "-3"])
def test_assign_ignores_ids_that_are_not_ascii_ids(client, people, data, raw):
    login(client, people.office)
    before = snapshot()
    response = client.get(reverse("ledger:problem_assign"), {"ids": raw})
    assert response.status_code == 302 and "请先勾选要分派的待分派问题。" in messages_of(response)
    response = client.post(reverse("ledger:problem_assign"), {"ids": [raw], "deadline": "2031-01-01"})
    assert response.status_code == 302 and "请先勾选要分派的待分派问题。" in messages_of(response)
    assert snapshot() == before


def test_assign_with_a_good_and_a_bad_id_offers_the_good_one(client, people, data):
    login(client, people.office)
    response = client.get(reverse("ledger:problem_assign"), {"ids": [str(data.draft.pk), "²"]})
    assert response.status_code == 200 and [p.pk for p in response.context["problems"]] == [data.draft.pk]


@pytest.fixture
def campaign(people, county):
    return campaign_services.campaign_create(
        by=people.office, name="深化机关作风整顿", code="ZF2031", jurisdiction=[county.root],
        start_date=dt.date(2031, 3, 1), end_date=dt.date(2031, 12, 31),
    )


@pytest.mark.parametrize("raw", [*UNICODE_DIGITS, HUGE, "0"])
def test_category_create_ignores_a_parent_that_is_not_an_id(client, people, campaign, raw):
    login(client, people.office)
    response = client.get(reverse("campaigns:category_create", args=[campaign.pk]), {"parent": raw})
    assert response.status_code == 200 and response.context["form"].initial.get("parent") is None


def roster(rows):
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return SimpleUploadedFile("名册.xlsx", buffer.getvalue())


@pytest.mark.parametrize("raw", [*UNICODE_DIGITS, HUGE])
def test_roster_apply_ignores_deactivate_values_that_are_not_ids(client, people, county, raw):
    job = job_import_create(kind="units", by=people.admin, upload=roster([
        ["单位编码", "单位名称", "单位简称", "单位类型", "上级单位", "排序号"], ["NEW1", "新单位"],
    ]))
    job_preview(job=job)
    login(client, people.admin)
    response = client.post(reverse("units:import_apply", args=[job.pk]), {"deactivate": [raw]})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == Job.Status.DONE
    assert Unit.objects.filter(is_active=False).count() == 0  # nothing deactivated


# ---- 7: dates near 9999-12-31 -----------------------------------------------------------------------------------

def test_deadline_preview_beyond_the_calendar_says_so(client, people):
    login(client, people.office)
    response = client.get(reverse("ledger:deadline_preview"),
                          {"deadline_start": "9999-12-31", "deadline_days": "730"})
    assert response.status_code == 200 and "日期超出范围" in response.content.decode()


def test_calendar_calculator_beyond_the_calendar_says_so(client, people):
    login(client, people.office)
    response = client.get(reverse("campaigns:calendar"), {"start": "9999-12-31", "n": "366"})
    assert response.status_code == 200
    assert response.context["calc"]["error"] and "日期超出范围" in response.content.decode()


OVERFLOWING_DEADLINE = {"deadline_mode": "workdays", "deadline_days": "730", "deadline_start": "9999-12-01"}


def test_problem_create_with_a_deadline_beyond_the_calendar(client, people, county, data):
    login(client, people.office)
    before = snapshot()
    response = client.post(reverse("ledger:problem_create"), {
        "campaign": data.campaign.pk, "summary": "新问题", "rectification_type": "time_limited",
        "lead_unit": county.education.pk, **OVERFLOWING_DEADLINE,
    })
    assert response.status_code == 200
    assert response.context["form"].errors["deadline_start"] == ["日期超出范围"]
    assert snapshot() == before


def test_assign_with_a_deadline_beyond_the_calendar(client, people, data):
    login(client, people.office)
    before = snapshot()
    response = client.post(reverse("ledger:problem_assign"), {"ids": [data.draft.pk], **OVERFLOWING_DEADLINE})
    assert response.status_code == 200
    assert response.context["form"].errors["deadline_start"] == ["日期超出范围"]
    assert snapshot() == before


# ---- 8: 回头看 batch names in URLs -------------------------------------------------------------------------------

BATCH = "A&B 第1批 #2?x=1"


@pytest.fixture
def closed(people, data):
    services.progress_add(measure=data.measure, by=people.liaison, text="完成", mark_status=MeasureStatus.DONE)
    workflow.apply(problem=data.edu, by=people.liaison, summary="措施已全部完成")
    workflow.approve(problem=data.edu, by=people.office, opinion="同意")
    return data.edu


def test_lookback_draw_encodes_the_batch_in_the_redirect(client, people, data, closed):
    login(client, people.office)
    response = client.post(reverse("ledger:lookback_draw"), {
        "campaign": data.campaign.pk, "batch": BATCH, "method": "all",
    })
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == reverse("ledger:lookback_list") and not location.fragment
    assert parse_qs(location.query) == {"batch": [BATCH]}
    listing = client.get(response["Location"])
    assert listing.context["batch"] == BATCH and len(listing.context["page_obj"]) == 1


def test_lookback_record_goes_back_to_the_encoded_batch(client, people, closed):
    check = LookbackCheck.objects.create(problem=closed, batch=BATCH)
    login(client, people.office)
    url = reverse("ledger:lookback_record", args=[check.pk])
    assert parse_qs(urlsplit(client.get(url).context["next"]).query) == {"batch": [BATCH]}
    response = client.post(url, {"result": "consolidated"})
    assert response.status_code == 302
    assert parse_qs(urlsplit(response["Location"]).query) == {"batch": [BATCH]}


# ---- 9: huge integers -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("param", ["campaign", "unit", "category"])
def test_ledger_list_with_a_huge_id_shows_everything(client, people, data, param):
    login(client, people.office)
    response = client.get(reverse("ledger:problem_list"), {param: HUGE})
    assert response.status_code == 200 and response.context["form"].errors[param]
    assert response.context["page_obj"].paginator.count == 2
    response = client.get(reverse("ledger:problem_export"), {param: HUGE})
    assert response.status_code == 200


@pytest.mark.parametrize("raw", [HUGE, *UNICODE_DIGITS])
def test_problem_create_with_a_bad_campaign_asks_for_one(client, people, data, raw):
    login(client, people.office)
    response = client.get(reverse("ledger:problem_create"), {"campaign": raw})
    assert response.status_code == 200 and [t.name for t in response.templates][0] == "ledger/campaign_pick.html"
    if raw in (HUGE, "²"):
        assert response.context["form"].errors["campaign"] == ["请选择有效的专项行动。"]
    before = snapshot()
    response = client.post(reverse("ledger:problem_create"), {"campaign": raw, "summary": "x"})
    assert response.status_code == 200 and "campaign" in response.context["form"].fields
    assert snapshot() == before


@pytest.mark.parametrize("page", ["²", "١", HUGE, "9" * 5000, "-1", "\x00"])
@pytest.mark.parametrize("url_name", ["ledger:problem_list", "ledger:review_queue", "ledger:lookback_list",
                                      "units:user_list", "core:audit_list"])
def test_a_malformed_page_number_shows_a_page(client, people, data, url_name, page):
    login(client, people.admin if url_name.startswith(("units:", "core:")) else people.office)
    assert client.get(reverse(url_name), {"page": page}).status_code == 200


# ---- 10: NUL bytes in free text ---------------------------------------------------------------------------------

def no_nul_sent(queries) -> bool:
    return not any("\x00" in q["sql"] for q in queries.captured_queries)


def test_lookback_list_drops_a_nul_in_the_batch(client, people, data):
    login(client, people.office)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("ledger:lookback_list"), {"batch": "a\x00b", "result": "\x00"})
    assert response.status_code == 200 and "\x00" not in response.context["batch"]
    assert no_nul_sent(queries)


@pytest.mark.parametrize("url_name, params", [
    ("ledger:problem_list", {"q": "窗口\x00", "source": "\x00"}),
    ("ledger:problem_export", {"q": "窗口\x00"}),
    ("units:unit_tree", {"q": "\x00"}),
    ("units:user_list", {"q": "\x00"}),
    ("core:audit_list", {"user": "\x00"}),
    ("campaigns:calendar", {"start": "\x00", "n": "\x00"}),
])
def test_free_text_filters_never_send_a_nul_to_the_database(client, people, data, url_name, params):
    login(client, people.admin if url_name.startswith(("units:", "core:")) else people.office)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(url_name), params)
    assert response.status_code == 200
    assert no_nul_sent(queries)


# ---- 12: double submission --------------------------------------------------------------------------------------

def test_problem_and_measure_forms_submit_once(client, people, data):
    login(client, people.office)
    for url in (f"{reverse('ledger:problem_create')}?campaign={data.campaign.pk}",
                reverse("ledger:problem_edit", args=[data.edu.pk]),
                reverse("ledger:measure_create", args=[data.edu.pk]),
                reverse("ledger:measure_edit", args=[data.measure.pk])):
        html = client.get(url).content.decode()
        assert "data-once" in html, url


def test_save_and_add_another_survives_the_disabled_buttons(client, people, county, data):
    """The double-submit guard disables the buttons, so the browser no longer sends the button's own name:
    “保存并继续” is carried in the button's form action instead."""
    login(client, people.office)
    create = reverse("ledger:problem_create")
    html = client.get(create, {"campaign": data.campaign.pk}).content.decode()
    assert 'formaction="?add_another=1"' in html
    response = client.post(f"{create}?add_another=1", {
        "campaign": data.campaign.pk, "summary": "又一个问题", "rectification_type": "time_limited",
        "deadline_mode": "date", "deadline": "2031-01-01",
    })
    assert response.status_code == 302 and response["Location"] == f"{create}?campaign={data.campaign.pk}"

    login(client, people.liaison)
    add = reverse("ledger:measure_create", args=[data.edu.pk])
    assert 'formaction="?add_another=1"' in client.get(add).content.decode()
    response = client.post(f"{add}?add_another=1", {"content": "再来一条", "unit": county.education.pk,
                                                     "deadline": "2031-01-01"})
    assert response.status_code == 302 and response["Location"] == add


def test_every_post_form_guards_against_double_submission():
    """Every POST form carries data-once except the navbar's 退出 (app.js carries the clicked button's name=value
    into a hidden field before disabling the buttons, so forms like the review's decision=… keep working)."""
    root = Path(settings.BASE_DIR) / "templates"
    missing = []
    for path in sorted(root.rglob("*.html")):
        for tag in re.findall(r"<form\b[^>]*>", path.read_text(encoding="utf-8")):
            if 'method="post"' in tag and "data-once" not in tag:
                missing.append(f"{path.relative_to(root)}: {tag}")
    assert missing == [
        "base.html: <form method=\"post\" action=\"{% url 'logout' %}\" class=\"d-inline\">",
    ]
