"""The job engine's leases: a job whose worker died is started again once, then failed in Chinese; never left
running for ever, never run twice."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from core import jobs
from core.jobs import job_import_create, job_preview, job_reap
from core.models import Job
from tests.units.test_import_jobs import HEADER, TREE, upload
from units.models import Unit


def crashed_apply(people, *, attempts: int) -> Job:
    """A units import confirmed, whose worker died mid-way: still 导入中, its lease run out, nothing written."""
    job = job_preview(job=job_import_create(kind="units", upload=upload([HEADER, *TREE]), by=people.admin))
    assert job.status == Job.Status.PREVIEWED
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.APPLYING, attempts=attempts, lease_until=timezone.now() - dt.timedelta(seconds=1),
        step={"task": "apply", "args": [job.pk, people.admin.pk, None, {}]},
    )
    return job


def test_a_job_whose_worker_died_is_started_again_once(people, django_capture_on_commit_callbacks):
    job = crashed_apply(people, attempts=1)
    with django_capture_on_commit_callbacks(execute=True) as sent:
        assert job_reap() == {"requeued": 1, "failed": 0, "resent": 0}
    assert len(sent) == 1  # the apply task, queued again (run at once here: Celery is eager in tests)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.attempts == 2 and job.lease_until is None
    assert Unit.objects.filter(code=TREE[0][0]).count() == 1


def test_a_job_that_died_twice_fails_with_a_chinese_message(people, django_capture_on_commit_callbacks):
    job = crashed_apply(people, attempts=2)
    with django_capture_on_commit_callbacks(execute=True) as sent:
        assert job_reap() == {"requeued": 0, "failed": 1, "resent": 0}
    assert sent == []
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.error == jobs.CRASHED_APPLY
    assert "数据未做任何修改" in job.error and not Unit.objects.filter(code=TREE[0][0]).exists()


def test_a_live_lease_is_left_alone_and_a_second_reaper_finds_nothing(people, django_capture_on_commit_callbacks):
    job = crashed_apply(people, attempts=1)
    Job.objects.filter(pk=job.pk).update(lease_until=timezone.now() + dt.timedelta(minutes=1))
    assert job_reap() == {"requeued": 0, "failed": 0, "resent": 0}
    Job.objects.filter(pk=job.pk).update(lease_until=timezone.now() - dt.timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=False) as sent:
        first = job_reap()
        second = job_reap()  # a second beat at the same moment: the lease the first one renewed is not expired
    assert first == {"requeued": 1, "failed": 0, "resent": 0}
    assert second == {"requeued": 0, "failed": 0, "resent": 0} and len(sent) == 1


def test_a_redelivered_apply_after_completion_does_nothing(people):
    job = crashed_apply(people, attempts=1)
    jobs.job_run_apply(job_id=job.pk, by_id=people.admin.pk)
    assert Job.objects.get(pk=job.pk).status == Job.Status.DONE
    count = Unit.objects.count()
    jobs.job_run_apply(job_id=job.pk, by_id=people.admin.pk)  # the broker delivers the message again
    assert Unit.objects.count() == count


@pytest.mark.django_db(transaction=True)  # on PostgreSQL the lease is renewed through a second connection
def test_progress_renews_the_lease(people, settings):
    settings.JOB_LEASE_SECONDS = 30
    job = crashed_apply(people, attempts=1)
    saver = jobs.ProgressSaver(job.pk)
    saver.renewed = timezone.now() - dt.timedelta(seconds=20)  # more than a third of the lease ago
    saver(1, 100)
    job.refresh_from_db()
    assert job.lease_until is not None and job.lease_until > timezone.now() + dt.timedelta(seconds=25)


@pytest.mark.parametrize("status", [Job.Status.PREVIEWING, Job.Status.RUNNING])
def test_other_running_states_fail_after_their_second_attempt(people, status):
    job = crashed_apply(people, attempts=2)
    Job.objects.filter(pk=job.pk).update(status=status)
    job_reap()
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.error.startswith("后台任务中断")


def test_a_queued_job_whose_message_was_lost_is_sent_again_once(people, django_capture_on_commit_callbacks):
    """Its sender died between the commit and the publish: after a lease the reaper sends it again, once."""
    from core.jobs import job_start

    with django_capture_on_commit_callbacks(execute=False):
        job = job_start(kind="reminder_sweep", by=people.office, options={"day": "2026-03-10"})
    assert job.status == Job.Status.QUEUED
    assert job_reap() == {"requeued": 0, "failed": 0, "resent": 0}  # just queued: its message may be on its way
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True) as sent:
        assert job_reap() == {"requeued": 0, "failed": 0, "resent": 1}
        assert job_reap()["resent"] == 0  # a second beat: already sent again
    assert len(sent) == 1
    assert Job.objects.get(pk=job.pk).status in (Job.Status.DONE, Job.Status.FAILED)
