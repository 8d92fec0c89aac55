"""Bench figure: the ledger list's first page at 200,000 problems against Django admin's changelist of Problem
with the same columns and filters, timed in the same run on the same data.

Registers itself in bench.figures.FIGURES when imported. On its own: `.venv/bin/python bench/ledger_list.py`.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path

if __name__ == "__main__":  # run alone: the same setup as bench/run.py, this figure only
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ["DJANGO_SETTINGS_MODULE"] = os.environ.get("BENCH_SETTINGS", "bench.settings")
    import django

    django.setup()

from django.test import Client
from django.utils import timezone

from bench.figures import FIGURES, Figure, fresh_database
from campaigns.models import DEFAULT_SOURCES, Campaign, CampaignStatus, Category, Source
from ledger.models import Problem, ProblemStatus, RectificationType
from units.models import Role, Unit, User, UserRole
from units.services import unit_child_path

PROBLEMS = 200_000
DEPARTMENTS, SECTIONS = 100, 10
REPEAT = 7
BATCH = 5_000

# Status and rectification type mixes of a ledger a year into a campaign.
STATUSES = [ProblemStatus.IN_PROGRESS] * 6 + [ProblemStatus.CLOSED] * 3 + [ProblemStatus.PENDING_REVIEW]
TYPES = [RectificationType.TIME_LIMITED] * 6 + [RectificationType.IMMEDIATE] * 3 + [RectificationType.LONG_TERM]


def _units() -> list[Unit]:
    """A county tree, one level at a time: 1 root, 100 departments, 10 sections each (1,101 units)."""
    root = Unit.objects.create(code="B0", name="示范县", short_name="示范县")
    root.path = unit_child_path("", root.pk)
    root.save(update_fields=["path"])
    made, parents = [root], [root]
    for depth, (width, word) in enumerate(((DEPARTMENTS, "县直部门"), (SECTIONS, "科室")), start=1):
        children = Unit.objects.bulk_create([
            Unit(code=f"B{depth}-{p.pk}-{i}", name=f"{p.name}{word}{i}", short_name=f"{word}{i}", parent=p,
                 depth=depth)
            for p in parents for i in range(width)
        ])
        by_id = {p.pk: p for p in parents}
        for c in children:
            c.path = unit_child_path(by_id[c.parent_id].path, c.pk)
        Unit.objects.bulk_update(children, ["path"], batch_size=BATCH)
        made += children
        parents = children
    return made


def build_ledger(n: int = PROBLEMS) -> tuple[User, Campaign]:
    """n problems in one campaign, spread over the units, sources, categories, statuses and deadlines; a fifth of
    them with a co-unit. Bulk inserts: a few seconds on PostgreSQL."""
    rng = random.Random(2026)
    units = _units()
    leads = [u for u in units if u.depth >= 1]
    campaign = Campaign.objects.create(name="深化机关作风整顿专项行动", code="ZF2026", status=CampaignStatus.ACTIVE,
                                       start_date=dt.date(2026, 1, 1), last_problem_seq=n)
    sources = Source.objects.bulk_create(
        [Source(campaign=campaign, name=name, sort_order=i) for i, name in enumerate(DEFAULT_SOURCES)]
    )
    categories = Category.objects.bulk_create(
        [Category(campaign=campaign, code=str(i), name=f"问题类别{i}", sort_order=i) for i in range(1, 21)]
    )
    today = timezone.localdate()
    seq = 0
    co_rows = []
    through = Problem.co_units.through
    while seq < n:
        batch = []
        for _ in range(min(BATCH, n - seq)):
            seq += 1
            status = rng.choice(STATUSES)
            batch.append(Problem(
                campaign=campaign, seq=seq, number=f"ZF2026-{seq:06d}", summary=f"作风问题概述第{seq}条：办事效率低、推诿扯皮",
                source=rng.choice(sources), category=rng.choice(categories), lead_unit=rng.choice(leads),
                rectification_type=rng.choice(TYPES), deadline=today + dt.timedelta(days=rng.randint(-200, 200)),
                status=status, closed_at=timezone.now() if status == ProblemStatus.CLOSED else None,
            ))
        made = Problem.objects.bulk_create(batch)
        for p in made:  # PostgreSQL and SQLite both hand back the new primary keys
            if p.seq % 5 == 0:
                co_rows.append(through(problem_id=p.pk, unit_id=rng.choice(leads).pk))
    through.objects.bulk_create(co_rows, batch_size=BATCH)
    user = User.objects.create_user(username="bench-office", password="Bench-Passw0rd!", full_name="作风办",
                                    unit=units[0], is_staff=True, is_superuser=True)
    UserRole.objects.create(user=user, role=Role.OFFICE)
    return user, campaign


def _median_seconds(client: Client, path: str, params: dict[str, str], marker: str) -> float:
    client.get(path, params)  # warm: templates compiled, caches filled
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        response = client.get(path, params)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, (path, response.status_code)
    html = response.content.decode()
    assert html.count(marker) >= 20, f"{path}: fewer than 20 rows on the first page"
    return statistics.median(times)


def ledger_list(workdir: Path) -> Figure:
    fresh_database()
    start = time.perf_counter()
    user, campaign = build_ledger()
    built = time.perf_counter() - start
    print(f"  生成 {PROBLEMS:,} 个问题用时 {built:.1f} 秒", file=sys.stderr)
    source = Source.objects.get(campaign=campaign, name="督查反馈")
    client = Client(SERVER_NAME="localhost")
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    # The first page, newest number first, of the in-progress 限期整改 problems from 督查反馈 — in both.
    ours = _median_seconds(client, "/ledger/", {
        "status": ProblemStatus.IN_PROGRESS, "rectification_type": RectificationType.TIME_LIMITED,
        "source": source.name, "sort": "-number",
    }, marker="data-number=")
    admin = _median_seconds(client, "/django-admin/ledger/problem/", {
        "status__exact": ProblemStatus.IN_PROGRESS, "rectification_type__exact": RectificationType.TIME_LIMITED,
        "source__id__exact": str(source.pk), "o": "-1",
    }, marker='class="field-number"')
    fresh_database()
    return Figure(f"问题台账列表首页（{PROBLEMS:,} 个问题，筛选+排序+分页）", ours, admin,
                  "Django admin 问题 changelist（同列同筛选）")


if ledger_list not in FIGURES:
    FIGURES.append(ledger_list)


if __name__ == "__main__":
    import shutil

    from django.db import connection

    from bench.run import print_table

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        figure = ledger_list(Path(os.environ["BENCH_TMPDIR"]))
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        shutil.rmtree(os.environ["BENCH_TMPDIR"], ignore_errors=True)
    print_table([figure])
