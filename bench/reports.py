"""Bench figures: the reports at province scale, against the SQL floor, on a data set seeded once with
`reports.scale.seed` (20,000 units in five levels, 200,000 problems a year into a campaign in every state, 600,000
measures, with the transitions, facts and review rounds the reports read).

- `report_dashboard`: the office's dashboard over the whole jurisdiction, `reports.dashboard.build_dashboard(user,
  campaign, today)`, against the floor of its unit table: one GROUP BY query over the current rows giving each
  reporting unit's total, closed, in progress and overdue as of today (checked to give the dashboard's numbers).
  Both query counts are given, and the dashboard's is counted again on a second, smaller campaign (a tenth of the
  units): it must not grow with the number of units.
- `report_monthly`: the 月调度 of last month, `reports.monthly.build_monthly_xlsx(campaign, period)`, against the
  floor of any such workbook: one aggregate query per sheet over the current rows, then writing as many rows to each
  sheet as ours wrote with openpyxl's write-only mode. The note gives both peak memories (tracemalloc: Python's own
  allocations, in runs of their own).

Times are the best of `REPEAT` runs. The floor reads today's rows, where ours reads the history as it stood at the
period's end: that is the work the history adds.

The scale comes from the environment, for smaller runs: BENCH_REPORT_UNITS, BENCH_REPORT_PROBLEMS and
BENCH_REPORT_MEASURES (defaults 20,000, 200,000 and 600,000), e.g.
`BENCH_REPORT_UNITS=2000 BENCH_REPORT_PROBLEMS=20000 BENCH_REPORT_MEASURES=60000 .venv/bin/python bench/run.py
report_dashboard report_monthly`.

Registers itself in bench.figures.FIGURES when bench/run.py imports it (with DATABASE_URL for PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from bench.figures import FIGURES, Figure, fresh_database
from campaigns.models import Campaign, Category, Source
from ledger.models import Problem, ProblemStatus, RectificationType, Transition, TransitionAction
from reports import scale
from reports.dashboard import build_dashboard
from reports.figures import Period, reporting_units
from reports.monthly import build_monthly_xlsx
from units.models import Role, Unit, User, UserRole

T = TypeVar("T")
S = ProblemStatus
UNITS = int(os.environ.get("BENCH_REPORT_UNITS", scale.UNITS))
PROBLEMS = int(os.environ.get("BENCH_REPORT_PROBLEMS", scale.PROBLEMS))
MEASURES = int(os.environ.get("BENCH_REPORT_MEASURES", scale.MEASURES))
SMALL = 10  # the second campaign: a tenth of everything
REPEAT = 3
BUDGET = 120.0  # seconds: a side slower than this is timed once
CODE, SMALL_CODE = "BENCH", "BENCHS"


@dataclass
class NotedFigure(Figure):
    text: str = ""

    @property
    def note(self) -> str:
        return "；".join(x for x in (super().note, self.text) if x)


class _Indented:
    """Progress of the seeding, on stderr beside the bench's own lines."""

    def write(self, msg: str) -> None:
        print(f"  {msg.rstrip()}", file=sys.stderr, flush=True)


def _say(text: str) -> None:
    print(f"  {text}", file=sys.stderr, flush=True)


@dataclass
class Province:
    campaign: Campaign
    rows: list[int]  # its reporting units
    small: Campaign
    small_units: int
    office: User


_province: Province | None = None


def province() -> Province:
    """The data set, seeded on the first figure that asks (and again if another figure flushed it since)."""
    global _province
    if _province is not None and Campaign.objects.filter(pk=_province.campaign.pk).exists():
        return _province
    fresh_database()
    start = time.perf_counter()
    campaign = scale.seed(units=UNITS, problems=PROBLEMS, measures=MEASURES, seed=2026, code=CODE, stdout=_Indented())
    _say(f"生成省级数据用时 {time.perf_counter() - start:.1f} 秒")
    small_units = max(UNITS // SMALL, scale.MIN_UNITS)
    small = scale.seed(units=small_units, problems=PROBLEMS // SMALL, measures=MEASURES // SMALL, seed=2027,
                       code=SMALL_CODE)
    root = campaign.jurisdiction.get()
    office = User.objects.create_user(username="bench-report-office", full_name="作风办", unit=root)
    UserRole.objects.create(user=office, role=Role.OFFICE)
    rows = [u.pk for u in reporting_units(campaign)]
    _province = Province(campaign, rows, small, small_units, office)
    return _province


def _best(fn: Callable[[], T], repeat: int = REPEAT) -> tuple[float, T]:
    """The best of `repeat` runs; runs after the first only while the runs so far took under BUDGET together."""
    times: list[float] = []
    while len(times) < repeat and (not times or sum(times) < BUDGET):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def _queries(fn: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as q:
        fn()
    return len(q.captured_queries)


def _peak(fn: Callable[[], object]) -> int:
    """Peak of Python's allocations while `fn` ran, above what was held before."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        fn()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def _times(ours: float, floor: float) -> str:
    return f"{ours / floor:,.0f} 倍" if floor else "—"


def _office(p: Province) -> User:
    return User.objects.get(pk=p.office.pk)  # its roles read afresh


# ---- the floors: SQL over the current rows --------------------------------------------------------------------

def _tables() -> dict[str, str]:
    q = connection.ops.quote_name
    return {"problem": q(Problem._meta.db_table), "unit": q(Unit._meta.db_table),
            "transition": q(Transition._meta.db_table), "category": q(Category._meta.db_table),
            "source": q(Source._meta.db_table)}


def _reporting_join(rows: list[int]) -> tuple[str, list[Any]]:
    """The join from a lead unit `u` to its reporting unit `r`: the one of the rows (`reports.figures.
    reporting_units`, read beforehand) whose path starts the lead unit's, with its parameters."""
    sql = (f"JOIN {_tables()['unit']} r ON r.id IN ({', '.join(['%s'] * len(rows))})"
           " AND substr(u.path, 1, length(r.path)) = r.path")
    return sql, list(rows)


def floor_dashboard(campaign: Campaign, rows: list[int], today: dt.date) -> dict[int, tuple[int, int, int, int]]:
    """{reporting unit: (total, closed, in progress, overdue)} as of today: one query."""
    t = _tables()
    join, join_params = _reporting_join(rows)
    sql = f"""
        SELECT r.id, SUM(g.total), SUM(g.closed), SUM(g.in_progress), SUM(g.overdue)
        FROM (SELECT p.lead_unit_id AS unit_id, COUNT(*) AS total,
                     SUM(CASE WHEN p.status = %s THEN 1 ELSE 0 END) AS closed,
                     SUM(CASE WHEN p.status = %s THEN 1 ELSE 0 END) AS in_progress,
                     SUM(CASE WHEN p.status = %s AND p.deadline < %s THEN 1 ELSE 0 END) AS overdue
              FROM {t['problem']} p
              WHERE p.campaign_id = %s AND p.status NOT IN (%s, %s)
              GROUP BY p.lead_unit_id) g
        JOIN {t['unit']} u ON u.id = g.unit_id
        {join}
        GROUP BY r.id"""
    params = [S.CLOSED, S.IN_PROGRESS, S.IN_PROGRESS, connection.ops.adapt_datefield_value(today), campaign.pk,
              S.DRAFT, S.VOIDED, *join_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0]: (int(row[1]), int(row[2]), int(row[3]), int(row[4])) for row in cursor.fetchall()}


def _monthly_queries(campaign: Campaign, rows: list[int], period: Period) -> dict[str, tuple[str, list[Any]]]:
    """One query per sheet of the 月调度, by sheet name, over the current rows."""
    t = _tables()
    ops = connection.ops
    end = ops.adapt_datefield_value(period.end)
    start_at = ops.adapt_datetimefield_value(period.start_moment)
    end_at = ops.adapt_datetimefield_value(period.end_moment)
    counted = "p.campaign_id = %s AND p.status NOT IN (%s, %s)"
    counted_params: list[Any] = [campaign.pk, S.DRAFT, S.VOIDED]
    # 本月新增: first assigned within the month.
    new = (f"(SELECT MIN(x.at) FROM {t['transition']} x WHERE x.problem_id = p.id AND x.action IN (%s, %s))"
           " BETWEEN %s AND %s")
    new_params = [TransitionAction.ASSIGN, TransitionAction.IMPORT, start_at, end_at]
    columns = ["COUNT(*)", f"SUM(CASE WHEN {new} THEN 1 ELSE 0 END)", "SUM(CASE WHEN p.status = %s THEN 1 ELSE 0 END)",
               "SUM(CASE WHEN p.status = %s THEN 1 ELSE 0 END)", "SUM(CASE WHEN p.status = %s THEN 1 ELSE 0 END)",
               "SUM(CASE WHEN p.rectification_type = %s THEN 1 ELSE 0 END)",
               "SUM(CASE WHEN p.status = %s AND p.deadline < %s THEN 1 ELSE 0 END)"]
    figures = ", ".join(columns)
    # By lead unit first, then summed by reporting unit: the prefix join runs once per lead unit, not per problem.
    by_unit = ", ".join(f"{c} AS f{i}" for i, c in enumerate(columns))
    summed = ", ".join(f"SUM(g.f{i})" for i in range(len(columns)))
    figure_params = [*new_params, S.CLOSED, S.PENDING_REVIEW, S.IN_PROGRESS, RectificationType.LONG_TERM,
                     S.IN_PROGRESS, end]
    join, join_params = _reporting_join(rows)
    listing = (f"SELECT p.number, p.summary, u.name, p.deadline{{extra}} FROM {t['problem']} p"
               f" JOIN {t['unit']} u ON u.id = p.lead_unit_id WHERE {counted} AND {{where}} ORDER BY p.number")
    return {
        "汇总": (f"SELECT {figures} FROM {t['problem']} p WHERE {counted}", [*figure_params, *counted_params]),
        "各单位": (f"SELECT r.id, r.name, {summed} FROM (SELECT p.lead_unit_id AS unit_id, {by_unit}"
                 f" FROM {t['problem']} p WHERE {counted} GROUP BY p.lead_unit_id) g"
                 f" JOIN {t['unit']} u ON u.id = g.unit_id {join} GROUP BY r.id, r.name ORDER BY r.id",
                 [*figure_params, *counted_params, *join_params]),
        "逾期问题清单": (listing.format(extra=", p.deadline", where="p.status = %s AND p.deadline < %s"),
                   [*counted_params, S.IN_PROGRESS, end]),
        "本月销号清单": (listing.format(extra=", p.closed_at", where="p.status = %s AND p.closed_at BETWEEN %s AND %s"),
                   [*counted_params, S.CLOSED, start_at, end_at]),
        "挂牌督办清单": (listing.format(extra=", p.status, p.listed_at, p.listed_reason",
                                  where="p.listed AND p.status <> %s"), [*counted_params, S.CLOSED]),
        "按类别": (f"SELECT COALESCE(c.parent_id, c.id), {figures} FROM {t['problem']} p"
                f" JOIN {t['category']} c ON c.id = p.category_id WHERE {counted}"
                " GROUP BY COALESCE(c.parent_id, c.id)", [*figure_params, *counted_params]),
        "按来源": (f"SELECT s.name, {figures} FROM {t['problem']} p JOIN {t['source']} s ON s.id = p.source_id"
                f" WHERE {counted} GROUP BY s.name", [*figure_params, *counted_params]),
    }


def floor_monthly(campaign: Campaign, rows: list[int], period: Period, rows_per_sheet: dict[str, int]) -> bytes:
    """The floor of the 月调度: each sheet's query, then as many rows as ours wrote on it (the query's rows, taken
    again from the top when it gave fewer), written by openpyxl in write-only mode."""
    queries = _monthly_queries(campaign, rows, period)
    missing = set(rows_per_sheet) - set(queries)
    assert not missing, f"no floor for the sheets {sorted(missing)}"
    wb = Workbook(write_only=True)
    with connection.cursor() as cursor:
        for name, n in rows_per_sheet.items():
            sql, params = queries[name]
            cursor.execute(sql, params)
            got = [list(r) for r in cursor.fetchall()] or [[]]
            ws = wb.create_sheet(name)
            for i in range(n):
                ws.append(got[i % len(got)])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _sheet_rows(data: bytes) -> dict[str, int]:
    wb = load_workbook(io.BytesIO(data), read_only=True)
    return {ws.title: sum(1 for _ in ws.iter_rows()) for ws in wb.worksheets}


# ---- the figures -----------------------------------------------------------------------------------------------

def report_dashboard(workdir: Path) -> Figure:
    p = province()
    today = timezone.localdate()
    office = _office(p)
    ours_s, board = _best(lambda: build_dashboard(office, p.campaign, today))
    floor_s, floor = _best(lambda: floor_dashboard(p.campaign, p.rows, today))
    got = {r.unit.pk: (r.figures.total, r.figures.closed, r.figures.in_progress, r.figures.overdue)
           for r in board.rows if r.figures.total}
    assert got == floor, "the floor counts otherwise"
    ours_q = _queries(lambda: build_dashboard(_office(p), p.campaign, today))
    small_q = _queries(lambda: build_dashboard(_office(p), p.small, today))
    floor_q = _queries(lambda: floor_dashboard(p.campaign, p.rows, today))
    _say(f"工作台 build_dashboard：{ours_s:.2f} 秒，{ours_q} 次查询（{len(board.rows)} 个统计单位，"
         f"问题总数 {board.figures.total:,}）；SQL 下限：{floor_s:.3f} 秒，{floor_q} 次查询")
    _say(f"查询次数：{UNITS:,} 个单位时 {ours_q} 次，{p.small_units:,} 个单位时 {small_q} 次")
    assert ours_q == small_q, f"the dashboard's queries grow with the units: {small_q} → {ours_q}"
    return NotedFigure(
        f"作风办工作台（{UNITS:,} 个单位、{PROBLEMS:,} 个问题）", ours_s, floor_s, "一条 SQL GROUP BY（当前行）",
        text=(f"用时为下限的 {_times(ours_s, floor_s)}；查询次数 {ours_q} vs {floor_q}；"
              f"{p.small_units:,} 个单位时 {small_q} 次"),
    )


def report_monthly(workdir: Path) -> Figure:
    p = province()
    today = timezone.localdate()
    period = Period.month(today.year, today.month).previous_month()
    ours_s, data = _best(lambda: build_monthly_xlsx(p.campaign, period))
    rows = _sheet_rows(data)
    floor_s, _ = _best(lambda: floor_monthly(p.campaign, p.rows, period, rows))
    ours_peak = _peak(lambda: build_monthly_xlsx(p.campaign, period))
    floor_peak = _peak(lambda: floor_monthly(p.campaign, p.rows, period, rows))
    _say(f"月调度 build_monthly_xlsx（{period.start:%Y-%m}）：{ours_s:.2f} 秒，各表行数 {list(rows.values())}，"
         f"{len(data) / 1024:.0f} KB；SQL + 只写模式下限：{floor_s:.2f} 秒")
    fresh_database()
    return NotedFigure(
        f"月调度 Excel（{period.start:%Y-%m}，{PROBLEMS:,} 个问题，共 {sum(rows.values()):,} 行）", ours_s, floor_s,
        "每表一条聚合 SQL + openpyxl 只写模式", ours_peak_bytes=ours_peak, baseline_peak_bytes=floor_peak,
        text=f"用时为下限的 {_times(ours_s, floor_s)}；峰值内存为 tracemalloc",
    )


for _figure in (report_dashboard, report_monthly):
    if _figure not in FIGURES:
        FIGURES.append(_figure)
