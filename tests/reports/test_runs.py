"""Report runs: the calendar's builds (once per period, however many beats), the pages, the signed final, the
notice when a run is ready."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from campaigns.workdays import overrides_map
from notifications.models import Notification
from reports.models import ReportKind, ReportRun, ReportStatus
from reports.services import due_builds, report_build, report_schedule
from tests.reports.test_figures import timeline  # noqa: F401

TZ = timezone.get_current_timezone()


def at(day: dt.date):
    return time_machine.travel(dt.datetime.combine(day, dt.time(7, 30), tzinfo=TZ), tick=False)


@pytest.mark.parametrize("day, expected", [
    (dt.date(2022, 5, 25), [("monthly", "2022-05", dt.date(2022, 5, 24))]),
    (dt.date(2022, 5, 26), []),
    (dt.date(2022, 7, 1), [("quarterly", "2022Q2", dt.date(2022, 6, 30))]),
    (dt.date(2022, 5, 30), [("weekly", "2022-W21", dt.date(2022, 5, 29))]),
    # 国庆: October 1–7 are holidays and Saturday the 8th is worked; the 季通报 and the week's 周报 wait for it.
    (dt.date(2022, 10, 3), []),
    (dt.date(2022, 10, 8), [("quarterly", "2022Q3", dt.date(2022, 9, 30)), ("weekly", "2022-W39",
                                                                           dt.date(2022, 10, 2))]),
    # 月调度 day on a Sunday (2022-09-25): built on Monday the 26th (which also opens the week).
    (dt.date(2022, 9, 25), []),
    (dt.date(2022, 9, 26), [("monthly", "2022-09", dt.date(2022, 9, 25)), ("weekly", "2022-W38",
                                                                          dt.date(2022, 9, 25))]),
])
def test_the_calendar(timeline, day, expected):  # noqa: F811
    campaign, _ = timeline
    assert [(k, label, until) for k, label, until in due_builds(campaign, day, overrides_map())] == expected


def test_a_scheduled_build_happens_once_however_often_the_beat_fires(timeline, people,  # noqa: F811
                                                                     django_capture_on_commit_callbacks):
    campaign, _ = timeline
    day = dt.date(2022, 7, 1)
    with at(day), django_capture_on_commit_callbacks(execute=True):
        first = report_schedule(day=day)
    with at(day), django_capture_on_commit_callbacks(execute=True):
        again = report_schedule(day=day)
    assert len(first) == 1 and again == []
    run = ReportRun.objects.get()
    assert (run.kind, run.period_label, run.as_of, run.built_by, run.status) == (
        ReportKind.QUARTERLY, "2022Q2", dt.date(2022, 6, 30), None, ReportStatus.READY)
    assert run.doc_number == f"{campaign.bulletin_agency}〔2022〕1号"
    assert run.file.name.endswith(".docx") and run.attachment.name.endswith(".xlsx")
    # The office is told at once; a leader's notice waits for the digest on other channels but is in the centre.
    def told(user):
        return [item["text"] for n in Notification.objects.filter(recipient=user) for item in n.items
                if item.get("url") == reverse("reports:run_detail", args=[run.pk])]

    assert told(people.office) == told(people.leader) == [f"{campaign.name}2022年第二季度季通报已生成（第1版）"]
    assert told(people.liaison) == []


def test_building_a_period_again_keeps_the_first_and_its_number(timeline, people):  # noqa: F811
    campaign, _ = timeline
    with at(dt.date(2022, 7, 5)):
        one = report_build(campaign=campaign, kind=ReportKind.QUARTERLY, period_label="2022Q2", by=people.office,
                           inline=True)
        two = report_build(campaign=campaign, kind=ReportKind.QUARTERLY, period_label="2022 q2", by=people.office,
                           inline=True)
        other = report_build(campaign=campaign, kind=ReportKind.QUARTERLY, period_label="2022Q1", by=people.office,
                             inline=True)
    one.refresh_from_db()
    assert (one.version, two.version) == (1, 2) and one.file.name != two.file.name
    assert one.doc_number == two.doc_number and other.doc_number.endswith("〔2022〕2号")
    assert one.status == two.status == ReportStatus.READY


def test_a_run_counted_up_to_a_day_says_so(timeline, people, client):  # noqa: F811
    campaign, _ = timeline
    run = report_build(campaign=campaign, kind=ReportKind.MONTHLY, period_label="2022-05",
                       as_of=dt.date(2022, 5, 10), by=people.office, inline=True)
    assert run.counted_until == dt.date(2022, 5, 10)
    client.force_login(people.office)
    html = client.get(reverse("reports:run_detail", args=[run.pk])).content.decode()
    assert "统计截至 2022年5月10日" in html


@pytest.mark.parametrize("as_of, message", [(dt.date(2022, 6, 1), "之间"), (dt.date(2022, 4, 30), "之间")])
def test_an_as_of_day_outside_the_period_is_refused(timeline, people, client, as_of, message):  # noqa: F811
    campaign, _ = timeline
    client.force_login(people.office)
    response = client.post(reverse("reports:run_build"), {"campaign": campaign.pk, "kind": "monthly",
                                                          "period": "2022-05", "as_of": as_of.isoformat()})
    assert response.status_code == 200 and message in response.content.decode()
    assert not ReportRun.objects.exists()


def test_the_office_builds_from_the_browser_and_downloads(timeline, people, client,  # noqa: F811
                                                          django_capture_on_commit_callbacks):
    campaign, _ = timeline
    client.force_login(people.office)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:run_build"), {"campaign": campaign.pk, "kind": "monthly",
                                                              "period": "2022-05"})
    run = ReportRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("reports:run_detail", args=[run.pk])
    assert run.status == ReportStatus.READY  # eager Celery in tests
    page = client.get(reverse("reports:run_detail", args=[run.pk])).content.decode()
    assert "问题总数" in page and "40.0%" in page
    download = client.get(reverse("reports:run_download", args=[run.pk, "file"]))
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content)[:2] == b"PK"


def test_the_signed_final_goes_back_onto_the_run(timeline, people, client):  # noqa: F811
    campaign, _ = timeline
    run = report_build(campaign=campaign, kind=ReportKind.MONTHLY, period_label="2022-05", by=people.office,
                       inline=True)
    client.force_login(people.office)
    url = reverse("reports:run_upload_final", args=[run.pk])
    bad = client.post(url, {"file": SimpleUploadedFile("定稿.exe", b"MZ...")}, follow=True)
    assert "格式不受支持" in bad.content.decode()
    fake = client.post(url, {"file": SimpleUploadedFile("定稿.docx", b"not a zip")}, follow=True)
    assert "不是有效的 Word 文件" in fake.content.decode()
    run.refresh_from_db()
    assert not run.final_file
    good = client.post(url, {"file": SimpleUploadedFile("定稿.pdf", b"%PDF-1.7 signed")}, follow=True)
    assert "签发稿已上传" in good.content.decode()
    run.refresh_from_db()
    assert run.final_file and run.final_uploaded_by == people.office
    got = client.get(reverse("reports:run_download", args=[run.pk, "final"]))
    assert b"".join(got.streaming_content) == b"%PDF-1.7 signed"
    # The built file is untouched.
    assert run.file and run.status == ReportStatus.READY


def test_a_leader_sees_built_runs_only(timeline, people, client):  # noqa: F811
    campaign, _ = timeline
    ready = report_build(campaign=campaign, kind=ReportKind.MONTHLY, period_label="2022-05", by=people.office,
                         inline=True)
    failed = ReportRun.objects.create(campaign=campaign, kind=ReportKind.MONTHLY, period_label="2022-04",
                                      period_start=dt.date(2022, 4, 1), period_end=dt.date(2022, 4, 30),
                                      status=ReportStatus.FAILED, error="失败")
    client.force_login(people.leader)
    page = client.get(reverse("reports:run_list")).content.decode()
    assert f'data-run="{ready.pk}"' in page and f'data-run="{failed.pk}"' not in page
    assert client.get(reverse("reports:run_detail", args=[failed.pk])).status_code == 404
    assert 'data-testid="build-form"' not in page


def test_the_command_builds_each_kind(timeline, capsys):  # noqa: F811
    from django.core.management import call_command

    campaign, _ = timeline
    call_command("build_report", "--campaign", campaign.code, "--kind", "quarterly", "--period", "2022Q2")
    call_command("build_report", "--campaign", campaign.code, "--kind", "weekly", "--period", "2022-W21")
    call_command("build_report", "--campaign", campaign.code, "--period", "2022-05", "--as-of", "2022-05-10")
    out = capsys.readouterr().out.splitlines()
    quarterly, weekly, monthly = ReportRun.objects.order_by("pk")
    assert out[0] == quarterly.file.path and out[0].endswith(".docx") and out[1] == quarterly.attachment.path
    assert out[2].endswith("问题总数 6，已销号 2，整改率 33.3%")
    assert weekly.file.path.endswith(".xlsx") and weekly.status == ReportStatus.READY
    assert (weekly.period_start, weekly.period_end) == (dt.date(2022, 5, 23), dt.date(2022, 5, 29))
    assert monthly.counted_until == dt.date(2022, 5, 10)


def test_the_weekly_workbook(timeline, people):  # noqa: F811
    import io

    from openpyxl import load_workbook

    campaign, _ = timeline
    run = report_build(campaign=campaign, kind=ReportKind.WEEKLY, period_label="2022-W21", by=people.office,
                       inline=True)
    with run.file.open("rb") as fh:
        wb = load_workbook(io.BytesIO(fh.read()))
    assert wb.sheetnames == ["本周概况", "各单位", "逾期问题", "下周到期"]
    summary = {row[0]: row[1:] for row in wb["本周概况"].iter_rows(min_row=3, values_only=True)}
    # Week 21 (May 23–29): P4 applied on the 24th; P2 overdue since the 20th; nothing assigned or closed in
    # either week (P5, P2 and P4 were assigned on 5/2, 5/5 and 5/11).
    assert summary["问题总数"] == (6, 6) and summary["本周新增"] == (0, 0) and summary["本周销号"] == (0, 0)
    assert summary["待核查"] == (1, 0) and summary["逾期"] == (1, 1)
    # Due in the seven days after the 29th: P5 (5/31), still 整改中 then (voided on the 30th); P3 is due 6/30.
    coming = list(wb["下周到期"].iter_rows(min_row=3, values_only=True))
    assert [(r[1], r[4]) for r in coming] == [("P5 作废", 2)]


def test_a_report_before_an_import_says_so(db, shared_data):
    """Problems moved in from an office's spreadsheet exist from their import: a period ending before it counts none
    of them, and its run says why."""
    from ledger.excel.importer import apply_ledger
    from tests.ledger.test_import_ledger import SAMPLE
    from units.models import Role, User
    from units.roster import apply_roster

    assert apply_roster("units", shared_data / "units_roster.xlsx", by=None).ok
    assert apply_roster("users", shared_data / "users_roster.xlsx", by=None).ok
    office = User.objects.with_role(Role.OFFICE).order_by("pk").first()
    with at(dt.date(2022, 7, 12)):
        report = apply_ledger(shared_data / SAMPLE, campaign="ZF2022", by=office)
        assert report.ok, report.errors
        from campaigns.models import Campaign

        campaign = Campaign.objects.get(code="ZF2022")
        june = report_build(campaign=campaign, kind=ReportKind.MONTHLY, period_label="2022-06", by=office,
                            inline=True)
        july = report_build(campaign=campaign, kind=ReportKind.MONTHLY, period_label="2022-07", by=office,
                            inline=True)
    assert "2022年7月12日起另有12个问题由台账导入系统" in june.notes
    assert july.notes == ""
    from reports.services import report_summary

    assert report_summary(june)["问题总数"] == 0 and report_summary(july)["问题总数"] > 0
    import io

    from openpyxl import load_workbook

    with june.file.open("rb") as fh:
        summary = load_workbook(io.BytesIO(fh.read()))["汇总"]
    assert any(str(c.value or "").startswith("说明：本期截止后") for row in summary.iter_rows() for c in row)
