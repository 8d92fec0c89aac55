"""Bench figure: the daily sweep's reading (`supervision.sweep.collect`) over 600,000 measures (200,000 problems × 3,
across 100 units, in two campaigns: one counting calendar days, one working days), against the plain way of doing
it: a loop over every problem 整改中 that reads its campaign and its measures one object at a time and asks for each
due item's people with queries of its own. Timed in the same run on the same data, with the SQL floor beside them.

The data is a ledger a year into a campaign, seen on a fixed working day: most deadlines far off, some inside the
yellow window, some past at each level (催办, 督办, 挂牌督办), a few problems without a deadline (长期坚持); three
measures per problem (the first for the lead unit, two for other units), a third of them with a deadline of their
own, some done; most measures 推进中 report progress regularly, a tenth have gone quiet (催报). Around each unit a
liaison and a leader with an email address; ten 分管县领导 over ten units each; three office users.

- ours: `collect(day)`, the plan of every effect (who hears of what on which channel); the best of `REPEAT` runs.
  `sweep_record(day)` (recording the effects, escalations and 挂牌 marks, gathering digests) is timed once after,
  for the note.
- baseline: the per-object loop (`loop_collect` below), written plainly and without prefetching. It plans the same
  effects (checked on the problems it covers); robots and 督办单 are left out on both sides' data. When the whole
  loop would take longer than `LOOP_BUDGET`, it runs over the first `SAMPLE` problems 整改中 and its time is scaled
  to all of them (the data is spread evenly over the problems, so the time per problem is the same); the note says
  so.
- floor: one query reading the due deadlines (problems and open measures whose deadline is inside the widest yellow
  window or past) with the columns the sweep needs, fetched in full: what no implementation can skip.

Query counts come from `CaptureQueriesContext` in runs of their own (recording every query costs time): ours in
full, the loop over its first `COUNT_SAMPLE` problems, scaled.

Registers itself in bench.figures.FIGURES when bench/run.py imports it. On its own:
`.venv/bin/python bench/run.py sweep_collect` (with DATABASE_URL for PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from django.db import connection
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.figures import FIGURES, Figure, fresh_database
from bench.ledger_list import fast_insert
from campaigns.models import Campaign, CampaignStatus, DeadlineMode
from campaigns.workdays import overrides_map
from ledger.models import Measure, MeasureStatus, Problem, ProblemStatus, ProgressEntry
from notifications.models import Delivery, Effect, Level
from supervision.sweep import collect, policy_for, sweep_record
from units.models import Role, Unit, User, UserRole
from units.services import unit_child_path

T = TypeVar("T")
DAY = dt.date(2026, 3, 10)  # a Tuesday, a working day
PROBLEMS, MEASURES_PER_PROBLEM, UNITS = 200_000, 3, 100
OVERSEERS, OFFICE = 10, 3
REPEAT = 3
LOOP_BUDGET = 180.0  # seconds: beyond this the loop runs over a sample
SAMPLE, COUNT_SAMPLE = 10_000, 1_000
OPEN_MEASURE = (MeasureStatus.NOT_STARTED, MeasureStatus.IN_PROGRESS)
# Problem statuses a year in: most 整改中, some waiting for review, some closed.
STATUSES = [ProblemStatus.IN_PROGRESS] * 7 + [ProblemStatus.PENDING_REVIEW] + [ProblemStatus.CLOSED] * 2
MEASURE_STATUSES = [MeasureStatus.NOT_STARTED] * 3 + [MeasureStatus.IN_PROGRESS] * 4 + [MeasureStatus.DONE] * 3


def _deadline(rng: random.Random) -> dt.date | None:
    """Days from DAY: 80 % far off (3 % of all without a deadline), 8 % inside the yellow window, 4 % each past at
    催办, 督办 and 挂牌督办 depth."""
    r = rng.random()
    if r < 0.03:
        return None
    if r < 0.80:
        return DAY + dt.timedelta(days=rng.randint(15, 300))
    if r < 0.88:
        return DAY + dt.timedelta(days=rng.randint(0, 6))
    if r < 0.92:
        return DAY - dt.timedelta(days=rng.randint(1, 6))
    if r < 0.96:
        return DAY - dt.timedelta(days=rng.randint(9, 29))
    return DAY - dt.timedelta(days=rng.randint(45, 200))


def build_ledger(n: int = PROBLEMS) -> None:
    rng = random.Random(2026)
    root = Unit.objects.create(code="S0", name="示范县", short_name="示范县")
    root.path = unit_child_path("", root.pk)
    root.save(update_fields=["path"])
    children = Unit.objects.bulk_create(
        [Unit(code="S-ZFB", name="县作风建设工作领导小组办公室", short_name="作风办", parent=root, depth=1)]
        + [Unit(code=f"S-{i:03d}", name=f"县直部门{i:03d}", short_name=f"部门{i:03d}", parent=root, depth=1)
           for i in range(1, UNITS + 1)]
    )
    for unit in children:
        unit.path = unit_child_path(root.path, unit.pk)
    Unit.objects.bulk_update(children, ["path"])
    office_unit, units = children[0], children[1:]

    people: list[tuple[User, str]] = []
    for i, unit in enumerate(units, start=1):
        for word, role in (("liaison", Role.LIAISON), ("leader", Role.LEADER)):
            people.append((User(username=f"{word}{i:03d}", full_name=f"{word}{i:03d}", unit=unit, password="!",
                                email=f"{word}{i:03d}@county.example"), role))
    people += [(User(username=f"overseer{i}", full_name=f"分管县领导{i}", unit=root, password="!",
                     email=f"overseer{i}@county.example"), Role.LEADER) for i in range(1, OVERSEERS + 1)]
    people += [(User(username=f"office{i}", full_name=f"作风办{i}", unit=office_unit, password="!",
                     email=f"office{i}@county.example"), Role.OFFICE) for i in range(1, OFFICE + 1)]
    users = User.objects.bulk_create([u for u, _ in people])
    UserRole.objects.bulk_create([UserRole(user=u, role=r) for u, (_, r) in zip(users, people, strict=True)])
    per = UNITS // OVERSEERS
    User.overseen_units.through.objects.bulk_create([
        User.overseen_units.through(user_id=o.pk, unit_id=unit.pk)
        for k, o in enumerate(u for u in users if u.username.startswith("overseer"))
        for unit in units[k * per:(k + 1) * per]
    ])

    campaigns = [
        Campaign.objects.create(name="深化机关作风整顿专项行动", code="ZF2026", status=CampaignStatus.ACTIVE,
                                start_date=dt.date(2025, 3, 1)),
        Campaign.objects.create(name="优化营商环境专项整治", code="YS2026", status=CampaignStatus.ACTIVE,
                                start_date=dt.date(2025, 3, 1), deadline_mode=DeadlineMode.WORKING),
    ]
    unit_ids = [u.pk for u in units]
    now = timezone.now()
    rows = []
    for seq in range(1, n + 1):
        status = rng.choice(STATUSES)
        rows.append({
            "campaign_id": campaigns[seq % 2].pk, "seq": seq, "number": f"P{seq:06d}",
            "summary": f"作风问题第{seq}条：窗口办事推诿扯皮", "lead_unit_id": rng.choice(unit_ids),
            "deadline": _deadline(rng), "status": status,
            "closed_at": now if status == ProblemStatus.CLOSED else None,
        })
    fast_insert(Problem, rows)
    for c in campaigns:
        Campaign.objects.filter(pk=c.pk).update(last_problem_seq=n)

    created = timezone.make_aware(dt.datetime.combine(DAY - dt.timedelta(days=60), dt.time(9)))
    measures: list[dict[str, object]] = []
    for pk, lead, deadline in Problem.objects.values_list("pk", "lead_unit_id", "deadline").iterator(chunk_size=5000):
        if len(measures) >= 60_000:  # in slices: a list of 600,000 rows would hold a gigabyte
            fast_insert(Measure, measures)
            measures = []
        for seq in range(1, MEASURES_PER_PROBLEM + 1):
            own = _deadline(rng) if rng.random() < 1 / 3 else None
            if own and deadline and own > deadline:
                own = deadline  # a measure is due no later than its problem
            status = rng.choice(MEASURE_STATUSES)
            measures.append({
                "problem_id": pk, "seq": seq, "content": f"整改措施{seq}：建立台账、明确时限、逐项销号",
                "unit_id": lead if seq == 1 else rng.choice(unit_ids), "deadline": own, "status": status,
                "completed_on": DAY - dt.timedelta(days=5) if status == MeasureStatus.DONE else None,
                "created_at": created, "updated_at": created,
            })
    fast_insert(Measure, measures)
    # Progress: nine in ten measures 推进中 reported last week; the rest have been quiet since they were created.
    progress = [
        {"measure_id": mid, "problem_id": pid, "on": DAY - dt.timedelta(days=rng.randint(1, 7)),
         "text": "已召开专题会议，正在推进", "created_at": created}
        for mid, pid in Measure.objects.filter(status=MeasureStatus.IN_PROGRESS).values_list("pk", "problem_id")
        .iterator(chunk_size=5000) if rng.random() < 0.9
    ]
    fast_insert(ProgressEntry, progress)
    with connection.cursor() as cursor:  # fresh statistics, as a live database would have
        cursor.execute("ANALYZE")


# ---- the plain way -------------------------------------------------------------------------------------------------

Spec = tuple[str, int, int, str]  # (ref, level, recipient, channel)


@dataclass
class LoopResult:
    specs: set[Spec]
    problem_ids: set[int]


def loop_collect(day: dt.date, *, limit: int | None = None) -> LoopResult:
    """The sweep written the plain way: every problem 整改中, one at a time, its campaign and measures read from it,
    its level decided in Python, the people of each due item's unit asked for with queries of their own."""
    overrides = overrides_map()
    office = [(u.pk, u.email) for u in User.objects.filter(is_active=True, role_grants__role=Role.OFFICE).distinct()]
    out = LoopResult(set(), set())

    def tell(ref: str, unit_id: int, level: int) -> None:
        people: dict[int, str] = {}
        rows = User.objects.filter(unit_id=unit_id, is_active=True, role_grants__role__in=[Role.LIAISON, Role.LEADER]
                                   ).values_list("pk", "email", "role_grants__role")
        for pk, email, role in rows:
            if role == Role.LIAISON or level >= Level.URGE:
                people[pk] = email
        if level >= Level.URGE:
            path = Unit.objects.values_list("path", flat=True).get(pk=unit_id)
            prefixes = [path[:i + 1] for i, c in enumerate(path) if c == "/"]
            for pk, email in User.objects.filter(is_active=True, role_grants__role=Role.LEADER,
                                                 overseen_units__path__in=prefixes).values_list("pk", "email"):
                people[pk] = email
        if level >= Level.SUPERVISE:
            people.update(office)
        for pk, email in people.items():
            out.specs.add((ref, level, pk, "inapp"))
            if email:
                out.specs.add((ref, level, pk, "email"))

    problems = Problem.objects.filter(status=ProblemStatus.IN_PROGRESS).exclude(
        campaign__status=CampaignStatus.ENDED).order_by("pk")
    for problem in (problems[:limit] if limit else problems).iterator(chunk_size=2000):
        out.problem_ids.add(problem.pk)
        policy = policy_for(problem.campaign, day, overrides)
        deadlines = [(problem.lead_unit_id, problem.deadline)]
        stale = []
        for measure in problem.measures.all():
            if measure.status in OPEN_MEASURE:
                deadlines.append((measure.unit_id, measure.deadline or problem.deadline))
            if measure.status == MeasureStatus.IN_PROGRESS:
                last = measure.progress_entries.order_by("-on").first()
                since = last.on if last else timezone.localdate(measure.created_at)
                if (day - since).days >= policy.report_days:
                    stale.append(measure)
        worst: dict[int, tuple[int, int]] = {}  # unit → its worst (level, days) on this problem
        for unit_id, deadline in deadlines:
            level, days = policy.level(deadline)
            if unit_id is not None and level is not None and (level, days) > worst.get(unit_id, (-1, 0)):
                worst[unit_id] = (level, days)
        for unit_id, (level, _) in worst.items():
            tell(f"problem:{problem.pk}", unit_id, level)
        for measure in stale:
            tell(f"measure:{measure.pk}", measure.unit_id, Level.REPORT)
    return out


# ---- the floor -----------------------------------------------------------------------------------------------------

def floor_read(day: dt.date) -> int:
    """One query: the due deadlines of problems and open measures, with the columns the sweep reads."""
    overrides = overrides_map()
    campaigns = list(Campaign.objects.exclude(status=CampaignStatus.ENDED))
    latest = max(policy_for(c, day, overrides).yellow_limit for c in campaigns)
    ids = [c.pk for c in campaigns]
    problems = Problem.objects.filter(
        status=ProblemStatus.IN_PROGRESS, campaign_id__in=ids, deadline__lte=latest, lead_unit__isnull=False
    ).order_by().values_list("pk", "lead_unit_id", "deadline", "number", "summary", "campaign_id")
    measures = Measure.objects.filter(
        Q(deadline__lte=latest) | Q(deadline__isnull=True, problem__deadline__lte=latest),
        problem__status=ProblemStatus.IN_PROGRESS, problem__campaign_id__in=ids, status__in=OPEN_MEASURE,
    ).order_by().values_list("problem_id", "unit_id", Coalesce("deadline", "problem__deadline"), "problem__number",
                  "problem__summary", "problem__campaign_id")
    return len(list(problems.union(measures, all=True)))


# ---- the figure ----------------------------------------------------------------------------------------------------

@dataclass
class NotedFigure(Figure):
    text: str = ""

    @property
    def note(self) -> str:
        return self.text


def _best(fn: Callable[[], T], repeat: int = REPEAT) -> tuple[float, T]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def _say(text: str) -> None:
    print(f"  {text}", file=sys.stderr, flush=True)


def sweep_collect(workdir: Path) -> Figure:
    fresh_database()
    start = time.perf_counter()
    build_ledger(PROBLEMS)
    measures = Measure.objects.count()
    _say(f"生成 {PROBLEMS:,} 个问题、{measures:,} 项措施用时 {time.perf_counter() - start:.1f} 秒")

    ours_s, plan = _best(lambda: collect(DAY))
    with CaptureQueriesContext(connection) as q:
        collect(DAY)
    ours_queries = len(q.captured_queries)
    specs = {(s.ref, s.level, s.recipient_id, s.channel) for s in plan.specs}
    _say(f"本系统 collect：{ours_s:.2f} 秒，{ours_queries} 次查询，{len(plan.items):,} 个事项，"
         f"{len(specs):,} 条通知事项")

    floor_s, floor_rows = _best(lambda: floor_read(DAY))
    _say(f"SQL 下限：{floor_s:.2f} 秒（{floor_rows:,} 行）")

    open_problems = Problem.objects.filter(status=ProblemStatus.IN_PROGRESS).count()
    with CaptureQueriesContext(connection) as q:
        loop_collect(DAY, limit=COUNT_SAMPLE)
    loop_queries = round(len(q.captured_queries) * open_problems / COUNT_SAMPLE)
    start = time.perf_counter()
    sample = loop_collect(DAY, limit=SAMPLE)
    sample_s = time.perf_counter() - start
    estimate = sample_s * open_problems / len(sample.problem_ids)
    # The same effects as ours, on the problems the loop went through.
    ref_problem = {it.ref: it.problem_id for it in plan.items}
    assert sample.specs == {s for s in specs if ref_problem[s[0]] in sample.problem_ids}, "the loop plans otherwise"
    if estimate <= LOOP_BUDGET:
        start = time.perf_counter()
        full = loop_collect(DAY)
        loop_s, how = time.perf_counter() - start, f"逐个对象循环跑完全部 {open_problems:,} 个整改中问题"
        assert full.specs == specs, "the loop plans otherwise"
    else:
        loop_s, how = estimate, (f"逐个对象循环按前 {len(sample.problem_ids):,} 个整改中问题（{sample_s:.1f} 秒）"
                                 f"线性外推到 {open_problems:,} 个")
    _say(f"逐个对象循环：{loop_s:.1f} 秒（{how}），约 {loop_queries:,} 次查询")

    start = time.perf_counter()
    result = sweep_record(day=DAY)
    record_s = time.perf_counter() - start
    effects, deliveries = Effect.objects.count(), Delivery.objects.count()
    assert result.effects == len(plan.specs) and effects == len(specs), (result.effects, effects)
    _say(f"sweep_record：{record_s:.1f} 秒（{effects:,} 条通知事项，{deliveries:,} 条发送记录，"
         f"挂牌 {result.listed:,} 个）")
    fresh_database()
    return NotedFigure(
        f"每日巡查 collect（{PROBLEMS:,} 个问题、{measures:,} 项措施）", ours_s, loop_s, "逐个对象循环（无预取）",
        text=(f"SQL 下限 {floor_s:.2f} s；查询次数 {ours_queries} vs {loop_queries:,}；{how}；"
              f"sweep_record 记录 {record_s:.1f} s（{effects:,} 条通知事项、{deliveries:,} 条发送记录）"),
    )


if sweep_collect not in FIGURES:
    FIGURES.append(sweep_collect)
