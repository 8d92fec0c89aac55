"""The office's pages of the daily sweep: the record, the preview (which writes nothing) and 立即巡查."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.urls import reverse
from django.utils import timezone

from core.models import Job
from ledger import workflow
from notifications.models import Effect
from supervision.models import Sweep, SweepStatus
from tests.ledger.factories import CampaignFactory, make_problem

FRIDAY = dt.date(2022, 6, 10)


def login(client, user) -> None:
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")


def _overdue(county, people, days: int, summary: str = "窗口服务态度差"):
    campaign = CampaignFactory()
    p = make_problem(campaign=campaign, by=people.office, lead_unit=county.education,
                     deadline=FRIDAY - dt.timedelta(days=days), summary=summary)
    return workflow.assign(problem=p, by=people.office)


def test_the_preview_lists_a_day_by_level_and_writes_nothing(client, county, people):
    _overdue(county, people, 8, "食堂账目不清")
    login(client, people.office)

    page = client.get(reverse("supervision:sweep_preview"), {"date": "2022-06-10"}).content.decode()

    assert "2022-06-10（星期五）" in page and "督办" in page and "食堂账目不清" in page
    assert not Effect.objects.filter(batch__startswith="sweep:").exists() and not Sweep.objects.exists()


def test_the_preview_of_a_holiday_says_nothing_goes_out(client, county, people):
    login(client, people.office)
    page = client.get(reverse("supervision:sweep_preview"), {"date": "2024-10-03"}).content.decode()
    assert 'data-testid="holiday"' in page


def test_a_malformed_date_is_explained_not_a_server_error(client, county, people):
    login(client, people.office)
    response = client.get(reverse("supervision:sweep_preview"), {"date": "2022-02-30"}, follow=True)
    assert response.status_code == 200
    assert "日期“2022-02-30”格式不正确" in response.content.decode()


def test_run_now_sweeps_today_once(client, county, people, django_capture_on_commit_callbacks):
    with time_machine.travel(dt.datetime(2022, 6, 10, 10, tzinfo=timezone.get_current_timezone()), tick=False):
        _overdue(county, people, 8)
        login(client, people.office)
        with django_capture_on_commit_callbacks(execute=True):
            first = client.post(reverse("supervision:sweep_run"), follow=True).content.decode()
        effects = Effect.objects.filter(batch__startswith="sweep:").count()
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("supervision:sweep_run"), follow=True)
        listing = client.get(reverse("supervision:sweep_list")).content.decode()

    assert "已开始巡查" in first and effects > 0
    assert Effect.objects.filter(batch__startswith="sweep:").count() == effects
    assert list(Job.objects.filter(kind="reminder_sweep").values_list("report__new_effects", flat=True)) in (
        [0, effects], [effects, 0])
    sweep = Sweep.objects.get(day=FRIDAY)
    assert (sweep.status, sweep.runs) == (SweepStatus.DONE, 2)
    assert "2022-06-10" in listing and "已完成" in listing


def test_liaisons_and_leaders_may_not_see_the_sweep(client, county, people):
    for user in (people.liaison, people.leader):
        login(client, user)
        assert client.get(reverse("supervision:sweep_list")).status_code == 403
        assert client.get(reverse("supervision:sweep_preview")).status_code == 403
        assert client.post(reverse("supervision:sweep_run")).status_code == 403
    assert not Sweep.objects.exists()
