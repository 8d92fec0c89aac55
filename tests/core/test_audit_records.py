"""What the audit trail records on its own: logins and their failures (a lockout too), logouts, every refusal
(a view's PermissionDenied and any other 403), and every file sent to a signed-in user, once per request."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEntry
from ledger import services, workflow
from tests.conftest import PASSWORD
from tests.ledger.factories import CampaignFactory, make_measure, make_problem

A = AuditEntry.Action
R = AuditEntry.Result


def login(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def post_login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def entries(*actions):
    return list(AuditEntry.objects.filter(action__in=actions).order_by("id"))


# ---- logins and logouts ----------------------------------------------------------------------------------------

def test_a_login_and_a_logout_are_recorded_as_successes(client, people):
    response = post_login(client, "liaison1", PASSWORD)
    client.post(reverse("logout"))
    login_entry, logout_entry = entries(A.LOGIN, A.LOGOUT)
    assert (login_entry.action, login_entry.result, login_entry.actor) == (A.LOGIN, R.SUCCESS, people.liaison)
    assert login_entry.request_id == response["X-Request-ID"] and login_entry.ip == "127.0.0.1"
    assert (logout_entry.action, logout_entry.result, logout_entry.actor) == (A.LOGOUT, R.SUCCESS, people.liaison)


def test_a_failed_login_is_a_failure_naming_the_login_typed(client, people):
    post_login(client, "liaison1", "wrong")
    [entry] = entries(A.LOGIN_FAILED)
    assert entry.result == R.FAILURE and entry.actor is None and entry.actor_name == "未登录用户"
    assert entry.note == "用户名：liaison1" and entry.ip == "127.0.0.1" and entry.request_id


def test_a_lockout_and_the_attempts_while_locked_are_failures_one_entry_each(client, people):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit):
        post_login(client, "liaison1", "wrong")
    post_login(client, "liaison1", PASSWORD)  # refused while locked
    failed = entries(A.LOGIN_FAILED)
    assert len(failed) == limit + 1
    assert {e.result for e in failed} == {R.FAILURE}
    assert [("账号已锁定" in e.note) for e in failed] == [False] * (limit - 1) + [True, True]
    assert all("用户名：liaison1" in e.note for e in failed)
    assert len({e.request_id for e in failed}) == limit + 1
    assert not entries(A.LOGIN)


# ---- refusals --------------------------------------------------------------------------------------------------

def test_a_view_s_permission_denied_is_recorded_once_with_path_and_method(client, people):
    response = login(client, people.liaison).get(reverse("core:audit_list"), {"action": "login"})
    assert response.status_code == 403
    [entry] = entries(A.DENIED)
    assert entry.result == R.DENIED and entry.actor == people.liaison
    assert entry.note.startswith(f"拒绝访问：GET {reverse('core:audit_list')}")
    assert "您没有访问此页面的权限" in entry.note
    assert entry.request_id == response["X-Request-ID"]


def test_a_403_that_is_no_exception_is_recorded_too(client, people):
    # The CSRF check answers 403 itself, before any view.
    client = login(client.__class__(enforce_csrf_checks=True), people.office)
    response = client.post(reverse("logout"))
    assert response.status_code == 403
    [entry] = entries(A.DENIED)
    assert entry.result == R.DENIED and entry.actor == people.office
    assert entry.note == f"拒绝访问：POST {reverse('logout')}"
    assert not entries(A.LOGOUT)


@pytest.mark.parametrize("who", ["outsider", "office", "liaison", "leader"])
def test_every_refused_role_is_recorded(client, people, who):
    user = getattr(people, who)
    assert login(client, user).get(reverse("core:audit_export")).status_code == 403
    assert [(e.actor, e.result) for e in entries(A.DENIED)] == [(user, R.DENIED)]
    assert not entries(A.EXPORT, A.DOWNLOAD)


def test_a_nul_in_a_refused_path_is_still_recorded(client, people):
    response = login(client, people.liaison).get(reverse("core:audit_list") + "%00")
    assert response.status_code == 404  # no such page: not a refusal
    response = login(client, people.liaison).get(reverse("core:audit_list"), {"q": "\x00"})
    assert response.status_code == 403
    assert len(entries(A.DENIED)) == 1


def test_pages_that_are_allowed_record_nothing(client, people):
    login(client, people.admin).get(reverse("core:audit_list"))
    assert not entries(A.DENIED, A.DOWNLOAD, A.EXPORT)


# ---- files -----------------------------------------------------------------------------------------------------

@pytest.fixture
def evidence(people, county):
    campaign = CampaignFactory(code="ZF2040")
    problem = make_problem(campaign=campaign, by=people.office, lead_unit=county.education, summary="窗口推诿",
                           deadline=timezone.localdate() + dt.timedelta(days=30))
    workflow.assign(problem=problem, by=people.office)
    measure = make_measure(problem=problem, unit=county.education, content="建立首问负责制")
    pdf = SimpleUploadedFile("整改报告.pdf", b"%PDF-1.4 evidence", content_type="application/pdf")
    return services.progress_add(measure=measure, by=people.liaison, text="已整改", files=[pdf]).evidence.get()


def test_a_file_sent_by_a_view_that_records_nothing_is_a_download(client, people, evidence):
    url = reverse("ledger:evidence_download", args=[evidence.pk])
    response = login(client, people.liaison).get(url)
    assert response.status_code == 200
    b"".join(response.streaming_content)
    [entry] = entries(A.DOWNLOAD, A.EXPORT)
    assert (entry.action, entry.result, entry.actor) == (A.DOWNLOAD, R.SUCCESS, people.liaison)
    assert entry.note == f"下载文件「整改报告.pdf」：GET {url}"
    assert entry.request_id == response["X-Request-ID"]


def test_a_file_out_of_scope_is_no_download(client, people, evidence):
    response = login(client, people.sibling_liaison).get(reverse("ledger:evidence_download", args=[evidence.pk]))
    assert response.status_code == 404
    assert not entries(A.DOWNLOAD, A.EXPORT)


def test_an_export_the_view_records_is_not_recorded_twice(client, people):
    response = login(client, people.office).get(reverse("notifications:deliveries_export"))
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    [entry] = entries(A.DOWNLOAD, A.EXPORT)
    assert entry.action == A.EXPORT and entry.request_id == response["X-Request-ID"]


def test_an_ascii_attachment_name_is_read_too(client, people):
    response = login(client, people.admin).get(reverse("units:import_template", args=["units"]))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    [entry] = entries(A.DOWNLOAD, A.EXPORT)
    assert entry.action == A.DOWNLOAD and entry.note.startswith("下载文件「") and ".xlsx」：GET /units/" in entry.note
