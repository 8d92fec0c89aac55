"""周报: the one-page summary for the 领导小组办公室's 周例会 on Monday, every figure from `reports.figures`.

    data = build_weekly_xlsx(campaign, Period.week(2026, 48))

Sheets: 本周概况 (the figures at the week's end, with last week's beside them), 各单位 (本周新增, 本周销号, 逾期,
整改率, 亮灯 per reporting unit), 逾期问题 and 下周到期 (整改中 problems due in the seven days after the week).
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from openpyxl import Workbook

from campaigns.models import Campaign
from ledger.models import ProblemStatus

from .figures import (
    Figures,
    Period,
    ProblemAtE,
    by_reporting_unit,
    closed_in_period,
    reporting_units,
    snapshot,
    unit_lights,
)
from .monthly import FIRST_DATA_ROW, _change, _problem_list, _rate, _sheet, _write_row


def weekly_title(campaign: Campaign, period: Period) -> str:
    s, e = period.start, period.end
    year, week, _ = s.isocalendar()
    return (f"{campaign.name}作风问题整改周报（{year}年第{week}周，{s.month}月{s.day}日—{e.month}月{e.day}日）")


def build_weekly_xlsx(campaign: Campaign, period: Period) -> bytes:
    snap = snapshot(campaign, period)
    before = snapshot(campaign, period.previous("weekly"))
    title = weekly_title(campaign, period)
    wb = Workbook()
    now, then = snap.figures(), before.figures()
    closed_now, closed_then = len(closed_in_period(snap)), len(closed_in_period(before))
    ws = _sheet(wb, "本周概况", title, [("指标", 24), ("本周", 16), ("上周", 16)], first=True)
    rows: list[list[Any]] = [
        ["问题总数", now.total, then.total], ["本周新增", now.new, then.new], ["本周销号", closed_now, closed_then],
        ["已销号（累计）", now.closed, then.closed], ["待核查", now.pending_review, then.pending_review],
        ["整改中", now.in_progress, then.in_progress], ["逾期", now.overdue, then.overdue],
        ["整改率", _rate(now.closure_rate), _rate(then.closure_rate)],
        ["按期整改率", _rate(now.on_time_rate), _rate(then.on_time_rate)],
        ["整改率较上周", _change(now.closure_rate, then.closure_rate), ""],
    ]
    for i, values in enumerate(rows):
        _write_row(ws, FIRST_DATA_ROW + i, values, left=(1,))

    units = reporting_units(campaign)
    table: dict[int, Figures] = by_reporting_unit(snap, units)
    closed = by_reporting_unit(snap.only(closed_in_period(snap)), units)
    lights = unit_lights(snap, units, table)
    ws = _sheet(wb, "各单位", title, [("单位", 28), ("问题总数", 9), ("本周新增", 9), ("本周销号", 9), ("逾期", 8),
                                      ("整改率", 10), ("亮灯", 7)], first=False)
    for i, u in enumerate(units):
        f = table[u.pk]
        _write_row(ws, FIRST_DATA_ROW + i, [u.name, f.total, f.new, closed[u.pk].total, f.overdue,
                                            _rate(f.closure_rate),
                                            lights[u.pk]], left=(1,))

    overdue = sorted((p for p in snap.problems if p.overdue), key=lambda p: -p.overdue_days)
    _problem_list(wb, "逾期问题", title, overdue, [("逾期天数", 10)], lambda p, _: [p.overdue_days])
    horizon = period.end + dt.timedelta(days=7)

    def due_next_week(p: ProblemAtE) -> bool:
        return p.state == ProblemStatus.IN_PROGRESS and p.deadline is not None and period.end < p.deadline <= horizon

    coming = sorted((p for p in snap.problems if due_next_week(p)), key=lambda p: (p.deadline, p.problem_id))
    _problem_list(wb, "下周到期", title, coming, [("剩余天数", 10)],
                  lambda p, _: [(p.deadline - period.end).days if p.deadline else ""])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
