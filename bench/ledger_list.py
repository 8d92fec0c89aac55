"""Bench figure: the ledger list's first page at 200,000 problems against Django admin's changelist of Problem
with the same columns and filters, timed in the same run on the same data.

Registers itself in bench.figures.FIGURES when bench/run.py imports it. On its own:
`.venv/bin/python bench/run.py ledger_list` (with DATABASE_URL for PostgreSQL).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.db.models import Model
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
NULL = "\\N"  # COPY's marker for NULL, so that an empty string stays an empty string

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


def fast_insert(model: type[Model], rows: list[dict[str, Any]]) -> None:
    """Insert many rows of `model` at once.

    `bulk_create` prepares every field of every row through the ORM (about a millisecond a problem here: minutes
    for 200,000), so the values are prepared once per distinct value and handed to the driver in one go: COPY on
    PostgreSQL, sqlite3's executemany on SQLite."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    prepared: dict[tuple[str, object], object] = {}

    def prep(field: Any, value: object) -> object:
        if value is None:
            return value
        key = (field.attname, value)
        if key not in prepared:
            prepared[key] = field.get_db_prep_save(value, connection)
        return prepared[key]

    now = timezone.now()
    defaults = {f.attname: (now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
                            else f.get_default()) for f in fields}
    # Only dates and times need the database's form; everything else goes as it is.
    columns_in = [(f, f.attname, f.get_internal_type() in ("DateField", "DateTimeField")) for f in fields]
    values = [
        [prep(f, row.get(name, defaults[name])) if dated else row.get(name, defaults[name])
         for f, name, dated in columns_in]
        for row in rows
    ]
    quote = connection.ops.quote_name
    table, columns = quote(model._meta.db_table), ", ".join(quote(f.column) for f in fields)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            for row in values:
                writer.writerow([NULL if v is None else v for v in row])
            buffer.seek(0)
            cursor.cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv, NULL '{NULL}')", buffer)
        else:
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})", values)


def build_ledger(n: int = PROBLEMS) -> tuple[User, Campaign]:
    """n problems in one campaign, spread over the units, sources, categories, statuses and deadlines; a fifth of
    them with a co-unit. Seconds rather than minutes (see fast_insert)."""
    rng = random.Random(2026)
    units = _units()
    leads = [u.pk for u in units if u.depth >= 1]
    campaign = Campaign.objects.create(name="深化机关作风整顿专项行动", code="ZF2026", status=CampaignStatus.ACTIVE,
                                       start_date=dt.date(2026, 1, 1), last_problem_seq=n)
    sources = [s.pk for s in Source.objects.bulk_create(
        [Source(campaign=campaign, name=name, sort_order=i) for i, name in enumerate(DEFAULT_SOURCES)]
    )]
    categories = [c.pk for c in Category.objects.bulk_create(
        [Category(campaign=campaign, code=str(i), name=f"问题类别{i}", sort_order=i) for i in range(1, 21)]
    )]
    today, now = timezone.localdate(), timezone.now()
    deadlines = [today + dt.timedelta(days=d) for d in range(-200, 201)]
    rows = []
    for seq in range(1, n + 1):
        status = rng.choice(STATUSES)
        rows.append({
            "campaign_id": campaign.pk, "seq": seq, "number": f"ZF2026-{seq:06d}",
            "summary": f"作风问题第{seq}条：窗口办事效率低、推诿扯皮", "source_id": rng.choice(sources),
            "category_id": rng.choice(categories), "lead_unit_id": rng.choice(leads),
            "rectification_type": rng.choice(TYPES), "deadline": rng.choice(deadlines), "status": status,
            "closed_at": now if status == ProblemStatus.CLOSED else None,
        })
    fast_insert(Problem, rows)
    through = Problem.co_units.through
    ids = Problem.objects.filter(campaign=campaign).values_list("pk", "seq")
    fast_insert(through, [{"problem_id": pk, "unit_id": rng.choice(leads)} for pk, seq in ids if seq % 5 == 0])
    user = User.objects.create_user(username="bench-office", password="Bench-Passw0rd!", full_name="作风办",
                                    unit=units[0], is_staff=True, is_superuser=True)
    UserRole.objects.create(user=user, role=Role.OFFICE)
    with connection.cursor() as cursor:  # fresh statistics, as a live database would have
        cursor.execute("ANALYZE")
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
        "source__id__exact": str(source.pk), "o": "-0",  # list_display[0] (number), descending
    }, marker='class="field-number"')
    fresh_database()
    return Figure(f"问题台账列表首页（{PROBLEMS:,} 个问题，筛选+排序+分页）", ours, admin,
                  "Django admin 问题 changelist（同列同筛选）")


if ledger_list not in FIGURES:
    FIGURES.append(ledger_list)

