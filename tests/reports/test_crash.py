"""The calendar's report builds with a real Celery worker on Redis: two beats firing `reports.scheduled_builds`
every second, the worker killed while it builds and started again — each scheduled period is built once, ready,
and the office and the leaders are told of it once.

Runs on PostgreSQL with REDIS_URL set and reachable (as in CI); skipped otherwise (the harness of
tests/supervision/test_crash.py).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter

import pytest
from django.utils import timezone

from campaigns.models import CampaignStatus
from campaigns.workdays import overrides_map
from core.jobs import job_reap
from core.models import Job
from notifications.models import Notification
from reports.models import ReportRun, ReportStatus
from reports.services import due_builds
from tests.factories import UnitFactory, UserFactory
from tests.ledger.factories import CampaignFactory, make_problem
from tests.supervision.test_crash import SKIP, Celeries, celeries, wait_for  # noqa: F401
from units.models import Role

pytestmark = [pytest.mark.skipif(bool(SKIP), reason=SKIP or "-"), pytest.mark.django_db(transaction=True)]

DAY = dt.date(2026, 9, 28)  # a Monday: the 月调度 (its day is the 28th) and the week's 周报
TASK = "reports.tasks.scheduled_builds"


def county():
    root = UnitFactory(code="R", name="示范县")
    units = [UnitFactory(code=f"U{i}", name=f"县第{i}局", parent=root) for i in range(20)]
    office = UserFactory(username="office", full_name="作风办", unit=root, roles=[Role.OFFICE])
    leader = UserFactory(username="leader", full_name="领导", unit=root, roles=[Role.LEADER])
    campaign = CampaignFactory(status=CampaignStatus.ACTIVE, start_date=dt.date(2026, 1, 1),
                               end_date=dt.date(2026, 12, 31), monthly_report_day=28)
    campaign.jurisdiction.set([root])
    for i in range(200):
        make_problem(campaign=campaign, by=office, lead_unit=units[i % 20], summary=f"问题{i}",
                     deadline=dt.date(2026, 9, 1) + dt.timedelta(days=i % 60))
    return campaign, office, leader


def test_two_beats_and_a_killed_worker_build_each_scheduled_period_once(celeries: Celeries) -> None:  # noqa: F811
    campaign, office, leader = county()
    expected = {(k, label) for k, label, _ in due_builds(campaign, DAY, overrides_map())}
    assert expected == {("monthly", "2026-09"), ("weekly", "2026-W39")}

    # A message the killed worker had taken comes back after the visibility timeout (10 s); a build running longer
    # is delivered again while it runs, and the job's claim turns the second delivery away.
    worker = celeries.start_worker("worker-1")
    beat_env = {"ZG_WORKER_BEAT_EVERY": "1", "ZG_WORKER_BEAT_DAY": DAY.isoformat(), "ZG_WORKER_BEAT_TASK": TASK}
    beats = [celeries.start(name, "beat", "--loglevel=INFO", "-S", "celery.beat:PersistentScheduler",
                            "-s", str(celeries.tmp / f"{name}-schedule"), env=beat_env)
             for name in ("beat-a", "beat-b")]

    def fired(beat) -> int:  # type: ignore[no-untyped-def]
        return celeries.log(beat).count(f"Sending due task reports.scheduled_builds ({TASK})")

    wait_for(lambda: ReportRun.objects.exists(), timeout=40, step=0.05, what="the first scheduled run")
    celeries.kill(worker)  # while it builds (or just after): whatever it had not finished is left as it was
    time.sleep(0.3)
    wait_for(lambda: all(fired(b) >= 3 for b in beats), timeout=40, step=0.2, what="each beat to fire three times")
    for beat in beats:
        celeries.stop(beat)
    second = celeries.start_worker("worker-2")

    def settled() -> bool:
        return not ReportRun.objects.filter(status=ReportStatus.BUILDING).exists()

    try:
        wait_for(settled, timeout=40, step=0.5, what="every run to be built")
    except AssertionError:
        # A job the killed worker held stays 运行中 until its lease runs out; then core.reap_jobs starts it once
        # more. Here its lease is taken as run out now.
        job_reap(now=timezone.now() + dt.timedelta(hours=1))
        wait_for(settled, timeout=30, step=0.5, what="the reaped runs to be built: " + str(list(
            Job.objects.filter(kind="report_build").values_list("pk", "status", "attempts", "lease_until"))))
    runs = list(ReportRun.objects.order_by("kind"))
    assert {(r.kind, r.period_label) for r in runs} == expected, [(r.kind, r.period_label, r.version) for r in runs]
    assert all(r.status == ReportStatus.READY and r.version == 1 and r.file for r in runs)
    told = Counter((n.recipient_id, item.get("url")) for n in Notification.objects.all() for item in n.items)
    for run in runs:
        for user in (office, leader):
            assert told[(user.pk, f"/reports/{run.pk}/")] == 1, (user, run, told)
    print(f"\nbeats fired {sum(fired(b) for b in beats)} times; {len(runs)} runs, each built once", flush=True)
    celeries.stop(second)
