"""月调度: the monthly Excel the office sends round, every figure taken from `reports.figures`.

    data = build_monthly_xlsx(campaign, Period.month(2022, 5))

Sheets: 汇总, 各单位, 逾期问题清单, 本月销号清单, 挂牌督办清单, 按类别, 按来源; each with the title row, A4
landscape, its header row repeated on every printed page and page numbers in the footer. Numbers are written as
numbers, rates as numbers with a percentage format ("—" for an empty population), and every text goes through
`core.text.excel_text`.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from campaigns.models import Campaign
from core.sheets import BORDER, FONT_NAME, print_setup, style_header
from core.text import excel_text
from ledger.models import Problem, ProblemStatus
from units.models import Unit

from .figures import (
    GREEN,
    RED,
    YELLOW,
    Figures,
    Group,
    Period,
    ProblemAtE,
    Snapshot,
    black_list_streaks,
    by_category,
    by_reporting_unit,
    by_source,
    closed_in_period,
    honour_and_black_lists,
    listed_at,
    rank_units,
    reporting_units,
    snapshot,
    supervision_at,
    unit_lights,
)

TITLE_ROW, HEADER_ROW, FIRST_DATA_ROW = 1, 2, 3
DASH = "—"
RATE_FORMAT = "0.0%"
POINTS_FORMAT = '+0.0"个百分点";-0.0"个百分点";0.0"个百分点"'
DATE_FORMAT = "yyyy-mm-dd"
SHEETS = ("汇总", "各单位", "逾期问题清单", "本月销号清单", "挂牌督办清单", "按类别", "按来源")

_LIGHT_FILLS = {RED: "FFC7CE", YELLOW: "FFEB9C", GREEN: "C6EFCE"}


class Rate(float):
    """A rate written with the percentage format."""


class Points(float):
    """A difference of two rates, in percentage points."""


def monthly_title(campaign: Campaign, period: Period) -> str:
    e = period.end
    return f"{campaign.name}{e.year}年{e.month}月作风问题整改月调度表（截至{e.year}年{e.month}月{e.day}日）"


def _rate(value: float | None) -> Any:
    return DASH if value is None else Rate(value)


def _change(now: float | None, before: float | None) -> Any:
    """环比: this month's 整改率 minus the previous month's, in percentage points."""
    return DASH if now is None or before is None else Points(round((now - before) * 100, 6))


def _sheet(wb: Workbook, name: str, title: str, headers: Sequence[tuple[str, float]], *, first: bool) -> Worksheet:
    ws = wb.active if first else wb.create_sheet()
    assert ws is not None
    ws.title = name
    last = get_column_letter(len(headers))
    cell = ws.cell(row=TITLE_ROW, column=1, value=excel_text(title))
    ws.merge_cells(f"A{TITLE_ROW}:{last}{TITLE_ROW}")
    cell.font = Font(name="黑体", size=16, bold=True)
    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.row_dimensions[TITLE_ROW].height = 40
    for ci, (header, width) in enumerate(headers, start=1):
        style_header(ws.cell(row=HEADER_ROW, column=ci, value=excel_text(header)))
        ws.column_dimensions[get_column_letter(ci)].width = width
    ws.row_dimensions[HEADER_ROW].height = 24
    print_setup(ws, header_row=HEADER_ROW)
    return ws


def _write_row(ws: Worksheet, row: int, values: Sequence[Any], *, left: Sequence[int] = ()) -> None:
    for ci, value in enumerate(values, start=1):
        cell = ws.cell(row=row, column=ci)
        cell.border = BORDER
        cell.font = Font(name=FONT_NAME, size=10)
        cell.alignment = Alignment(horizontal="left" if ci in left else "center", vertical="center", wrap_text=True)
        if isinstance(value, Rate):
            cell.value = float(value)
            cell.number_format = RATE_FORMAT
        elif isinstance(value, Points):
            cell.value = float(value)
            cell.number_format = POINTS_FORMAT
        else:
            cell.value = excel_text(value)
            if isinstance(value, dt.date):
                cell.number_format = DATE_FORMAT
        if value in _LIGHT_FILLS:
            cell.fill = PatternFill("solid", fgColor=_LIGHT_FILLS[value])


def _counts(f: Figures) -> list[Any]:
    return [f.total, f.new, f.closed, f.pending_review, f.in_progress, f.long_term, f.overdue]


def _summary(wb: Workbook, title: str, f: Figures, before: Figures, *, notes: str = "") -> None:
    ws = _sheet(wb, "汇总", title, [("指标", 24), ("数值", 24)], first=True)
    rows: list[tuple[str, Any]] = list(zip(
        ("问题总数", "本月新增", "已销号", "待核查", "整改中", "长期坚持", "逾期"), _counts(f), strict=True))
    rows += [
        ("整改率", _rate(f.closure_rate)),
        ("按期整改率", _rate(f.on_time_rate)),
        ("逾期率", _rate(f.overdue_rate)),
        ("环比", _change(f.closure_rate, before.closure_rate)),
    ]
    for i, (label, value) in enumerate(rows):
        _write_row(ws, FIRST_DATA_ROW + i, [label, value], left=(1,))
    if notes:
        row = FIRST_DATA_ROW + len(rows) + 1
        cell = ws.cell(row=row, column=1, value=excel_text(f"说明：{notes}"))
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=2)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[row].height = 48


def _units(wb: Workbook, title: str, campaign: Campaign, snap: Snapshot, before: Snapshot) -> None:
    headers = [("单位", 28), ("问题总数", 9), ("本月新增", 9), ("已销号", 9), ("待核查", 9), ("整改中", 9),
               ("长期坚持", 9), ("逾期", 8), ("整改率", 10), ("按期整改率", 11), ("环比", 14), ("排名", 7),
               ("亮灯", 7), ("连续上黑榜", 11)]
    ws = _sheet(wb, "各单位", title, headers, first=False)
    units = reporting_units(campaign)
    table = by_reporting_unit(snap, units)
    previous = by_reporting_unit(before, units)
    ranking = rank_units(table)
    ranks = {r.unit_id: r.rank for r in ranking}
    lights = unit_lights(snap, units, table)
    black = honour_and_black_lists(ranking, top=campaign.honour_list_size, bottom=campaign.black_list_size)[1]
    streaks = black_list_streaks(campaign, snap.period, "monthly", units, current=black)
    for i, u in enumerate(units):
        f = table[u.pk]
        _write_row(ws, FIRST_DATA_ROW + i, [
            u.name, *_counts(f), _rate(f.closure_rate), _rate(f.on_time_rate),
            _change(f.closure_rate, previous[u.pk].closure_rate), ranks.get(u.pk, DASH), lights[u.pk],
            f"{streaks[u.pk]}期" if streaks[u.pk] else "",
        ], left=(1,))


def _problems(ids: list[int]) -> dict[int, Problem]:
    return Problem.objects.only("pk", "number", "summary", "listed", "listed_at", "listed_reason").in_bulk(ids)


def _unit_names(items: list[ProblemAtE]) -> dict[int, str]:
    return dict(Unit.objects.filter(pk__in={p.lead_unit_id for p in items if p.lead_unit_id})
                .values_list("pk", "name"))


def _problem_list(wb: Workbook, name: str, title: str, items: list[ProblemAtE],
                  extra: Sequence[tuple[str, float]], cells: Any) -> None:
    """A list of problems as they stood at E: 编号 | 问题概述 | 牵头单位 | 整改时限, then the sheet's own columns."""
    headers = [("编号", 18), ("问题概述", 48), ("牵头单位", 24), ("整改时限", 12), *extra]
    ws = _sheet(wb, name, title, headers, first=False)
    problems = _problems([p.problem_id for p in items])
    names = _unit_names(items)
    rows = []
    for p in items:
        problem = problems[p.problem_id]
        deadline: Any = p.deadline if p.deadline is not None else ("长期坚持" if p.long_term else "")
        rows.append([problem.number, problem.summary, names.get(p.lead_unit_id or 0, ""), deadline,
                     *cells(p, problem)])
    for i, values in enumerate(rows):
        _write_row(ws, FIRST_DATA_ROW + i, values, left=(2, 3))


GROUP_HEADERS = [("问题总数", 9), ("已销号", 9), ("待核查", 9), ("整改中", 9), ("逾期", 8), ("整改率", 10),
                 ("按期整改率", 11)]


def _groups(wb: Workbook, name: str, label: str, title: str, rows: list[Group]) -> None:
    ws = _sheet(wb, name, title, [(label, 36), *GROUP_HEADERS], first=False)
    for i, g in enumerate(rows):
        f = g.figures
        _write_row(ws, FIRST_DATA_ROW + i, [g.label, f.total, f.closed, f.pending_review, f.in_progress, f.overdue,
                                            _rate(f.closure_rate), _rate(f.on_time_rate)], left=(1,))


def build_monthly_xlsx(campaign: Campaign, period: Period, *, notes: str = "") -> bytes:
    """The campaign's 月调度 for the month `period`, as it stood at the period's end (a period counted up to an
    as-of day ends there); `notes` is printed under the 汇总 (e.g. problems imported after the period)."""
    snap = snapshot(campaign, period)
    before = snapshot(campaign, period.previous_month())
    title = monthly_title(campaign, period)
    wb = Workbook()
    _summary(wb, title, snap.figures(), before.figures(), notes=notes)
    _units(wb, title, campaign, snap, before)

    def by_number(items: list[ProblemAtE]) -> list[ProblemAtE]:
        numbers = {pk: p.number for pk, p in _problems([p.problem_id for p in items]).items()}
        return sorted(items, key=lambda p: numbers[p.problem_id])

    overdue = sorted(by_number([p for p in snap.problems if p.overdue]), key=lambda p: -p.overdue_days)
    supervised = supervision_at(snap, [p.problem_id for p in overdue])

    def overdue_cells(p: ProblemAtE, _: Problem) -> list[Any]:
        s = supervised[p.problem_id]
        return [p.overdue_days, s.level, "、".join(s.orders)]

    _problem_list(wb, "逾期问题清单", title, overdue, [("逾期天数", 10), ("督办级别", 10), ("督办单", 22)],
                  overdue_cells)

    closed_at = closed_in_period(snap)
    closed = by_number([p for p in snap.problems if p.problem_id in closed_at])

    def closed_cells(p: ProblemAtE, _: Problem) -> list[Any]:
        return [closed_at[p.problem_id].astimezone(period.end_moment.tzinfo).date()]

    _problem_list(wb, "本月销号清单", title, closed, [("销号日期", 12)], closed_cells)

    # The 挂牌督办 mark is read as it is now, set on or before E (taking it off later drops it from rebuilds).
    listed_ids = listed_at(snap)
    listed = by_number([p for p in snap.problems if p.problem_id in listed_ids])

    def listed_cells(p: ProblemAtE, problem: Problem) -> list[Any]:
        at = problem.listed_at.astimezone(period.end_moment.tzinfo).date() if problem.listed_at else ""
        return [ProblemStatus(p.state).label, at, problem.listed_reason]

    _problem_list(wb, "挂牌督办清单", title, listed, [("状态", 9), ("挂牌日期", 12), ("挂牌说明", 30)], listed_cells)
    _groups(wb, "按类别", "问题类别", title, by_category(snap))
    _groups(wb, "按来源", "问题来源", title, by_source(snap))

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
