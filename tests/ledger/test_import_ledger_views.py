"""The ledger import pages: the office imports through the browser (upload → preview → confirm); others get 403."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns.models import Campaign
from core.jobs import job_import_create, job_preview
from core.models import Job
from ledger.models import Measure, Problem, ProblemStatus
from units.models import Role, User

from .test_import_ledger import office, rosters, sample  # noqa: F401  (fixtures)


def login(client, user: User) -> None:
    """Log in as someone who has changed the roster's one-time password already."""
    User.objects.filter(pk=user.pk).update(must_change_password=False)
    user = User.objects.get(pk=user.pk)  # as stored (the session remembers the stored password's hash)
    # The first backend (django-axes) only guards; the model backend is the one that loads users.
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")


def upload(path: Path) -> SimpleUploadedFile:
    return SimpleUploadedFile(path.name, path.read_bytes(), content_type="application/octet-stream")


def test_office_imports_the_ledger_through_the_browser(client, office, sample):  # noqa: F811
    login(client, office)
    page = client.get(reverse("ledger:import_start"))
    assert page.status_code == 200 and "上传并预检" in page.content.decode()

    response = client.post(reverse("ledger:import_start"), {"file": upload(sample), "campaign": "ZF2022"})

    job = Job.objects.get(kind="ledger")
    assert response.status_code == 302 and response.url == reverse("ledger:import_job", args=[job.pk])
    assert job.status == Job.Status.PREVIEWED and job.can_apply
    assert job.report["summary"] == "新增 12，更新 0，未变 0，错误 0"
    assert not Problem.objects.exists() and not Campaign.objects.exists()  # the preview writes nothing
    preview = client.get(response.url).content.decode()
    assert "确认导入" in preview and "将新建" in preview and "一季度发文数量同比不降反升" in preview

    response = client.post(reverse("ledger:import_apply", args=[job.pk]))

    job.refresh_from_db()
    assert response.status_code == 302 and job.status == Job.Status.DONE
    assert Problem.objects.filter(campaign__code="ZF2022").count() == 12 and Measure.objects.count() == 21
    assert Problem.objects.get(seq=1).status == ProblemStatus.CLOSED
    assert Problem.objects.get(seq=1).created_by == office
    done = client.get(reverse("ledger:import_job", args=[job.pk])).content.decode()
    assert "导入完成" in done and "新增 12" in done


def test_preview_with_errors_cannot_be_confirmed(client, office, tmp_path, sample):  # noqa: F811
    import openpyxl

    wb = openpyxl.load_workbook(sample)
    wb.active["G3"] = "县不存在局"
    bad = tmp_path / "bad.xlsx"
    wb.save(bad)
    login(client, office)
    client.post(reverse("ledger:import_start"), {"file": upload(bad), "campaign": "ZF2022"})
    job = Job.objects.get(kind="ledger")

    page = client.get(reverse("ledger:import_job", args=[job.pk]) + "?show=error").content.decode()
    assert "第3行「牵头单位」列" in page and "不能导入" in page

    client.post(reverse("ledger:import_apply", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == Job.Status.PREVIEWED and not Problem.objects.exists()


def test_upload_needs_a_valid_campaign_code(client, office, sample):  # noqa: F811
    login(client, office)
    response = client.post(reverse("ledger:import_start"), {"file": upload(sample), "campaign": "专项 行动"})
    assert response.status_code == 200 and "编号只能由字母" in response.content.decode()
    assert not Job.objects.exists()


def test_template_download(client, office):  # noqa: F811
    login(client, office)
    response = client.get(reverse("ledger:import_template"))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")


@pytest.mark.parametrize("role", [Role.LIAISON, Role.LEADER])
def test_liaison_and_leader_get_403(client, office, sample, role):  # noqa: F811
    other = User.objects.with_role(role).order_by("id").first()
    job = job_import_create(kind="ledger", upload=upload(sample), by=office,
                            options={"campaign": "ZF2022"})
    job_preview(job=job)
    login(client, other)
    for name, args in (("import_start", []), ("import_template", []), ("import_job", [job.pk]),
                       ("import_progress", [job.pk])):
        assert client.get(reverse(f"ledger:{name}", args=args)).status_code == 403, name
    assert client.post(reverse("ledger:import_start"), {"file": upload(sample), "campaign": "X1"}).status_code == 403
    assert client.post(reverse("ledger:import_apply", args=[job.pk])).status_code == 403
    job.refresh_from_db()
    assert job.status == Job.Status.PREVIEWED and not Problem.objects.exists()


def test_outsider_gets_403_and_anonymous_is_sent_to_login(client, people):
    login(client, people.outsider)
    assert client.get(reverse("ledger:import_start")).status_code == 403
    client.logout()
    response = client.get(reverse("ledger:import_start"))
    assert response.status_code == 302 and "login" in response.url


def test_only_the_office_imports_ledgers_and_roster_jobs_are_not_shown_here(client, people, tmp_path):
    login(client, people.admin)
    assert client.get(reverse("ledger:import_start")).status_code == 403  # the admin keeps rosters, not ledgers
    login(client, people.office)
    assert client.get(reverse("ledger:import_start")).status_code == 200
    path = tmp_path / "core.xlsx"
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["单位编码", "单位名称"])
    wb.active.append(["X1", "某单位"])
    wb.save(path)
    roster_job = job_import_create(kind="units", upload=upload(path), by=people.admin)
    assert client.get(reverse("ledger:import_job", args=[roster_job.pk])).status_code == 404
