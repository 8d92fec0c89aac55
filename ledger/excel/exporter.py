"""The ledger as the Excel offices print: a title row, the columns of their template (and our 编号), each problem's
cells merged down across its measures, wrapped text, borders, A4 landscape fitted to the page width, the header
repeated on every printed page.

    data = export_ledger_xlsx(Problem.objects.visible_to(user).filter(...), title="…问题整改台账")

What an office reads off the printout: 序号 1, 2, 3 … in the printed order (the problem's own seq is not shown; with
编号 in the file the import matches rows by it, never by 序号), the office's 原编号, 问题概述 beside 问题描述, the
问题类别 as code and name ("1.01 学习贯彻不深不实", which the import reads back to the same category), and the
红黄绿灯 of the day of the export with its days ("红灯（逾期12天）", "黄灯（剩余3天）", "绿灯"; "—" once closed or
voided), worked out by `ledger.selectors.Lights` as on the ledger page. The import never reads that column.

The caller scopes and filters the queryset; this module only lays it out, with a fixed number of queries whatever
the number of problems. Every text goes through `core.text.excel_text`: control characters XML cannot hold are
dropped, text that begins with = + - @ is written with a leading apostrophe so that no spreadsheet takes it for a
formula (the import strips it again, so an export imports back unchanged), and text longer than an Excel cell holds
is cut with a visible marker (the import then leaves the stored text alone).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import unicodedata
from collections.abc import Iterable
from typing import Any

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.merge import MergedCellRange
from openpyxl.worksheet.worksheet import Worksheet

from core.sheets import BORDER, FONT_NAME, print_setup, style_header
from core.text import escape_formula, excel_text
from ledger.lights import LightInfo
from ledger.models import Light, Measure, Problem, ProgressEntry, RectificationType
from ledger.selectors import Lights
from units.models import Unit

from .columns import EXPORT_CLOSURE_WORD, EXPORT_COLUMNS, export_status_word
from .unitref import UnitLabels
from .versions import write_versions
from .vocab import category_label

TITLE_ROW, HEADER_ROW, FIRST_DATA_ROW = 1, 2, 3
LINE_HEIGHT = 14.5  # points per line of 10-point text
CENTERED = {"seq", "number", "source_number", "source", "rectification_type", "deadline", "status", "closure",
            "responsible_person", "light"}
PROBLEM_COLUMNS = ("seq", "number", "source_number", "source", "category", "summary", "description",
                   "rectification_type", "responsible_leader", "lead_unit", "co_units", "closure", "light")
DATE_FORMAT = "yyyy-mm-dd"
LIGHT_WORDS = {Light.RED: "红灯", Light.YELLOW: "黄灯", Light.GREEN: "绿灯"}
NO_LIGHT = Light.NONE.label  # "—": closed or voided


def _merge(ws: Worksheet, ref: str) -> None:
    """ws.merge_cells without its check against every earlier merge (quadratic: 34 s for 10,000 merges, and a
    problem merges ten columns); the merges written here never overlap."""
    merged = MergedCellRange(ws, ref)
    ws.merged_cells.ranges.add(merged)  # type: ignore[attr-defined]
    ws._clean_merge_range(merged)  # type: ignore[attr-defined]


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _lines(value: Any, width: float) -> int:
    """How many lines a wrapped cell needs, roughly (Excel does not size rows of merged cells by itself)."""
    if value is None or value == "":
        return 1
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    usable = max(width - 1.5, 2)
    return sum(max(1, math.ceil(_display_width(part) / usable)) for part in text.split("\n"))


def _prefetched(problems: QuerySet[Problem]) -> list[Problem]:
    latest = ProgressEntry.objects.filter(measure=OuterRef("pk")).order_by("-on", "-id").values("text")[:1]
    measures = Measure.objects.select_related("unit").annotate(latest_progress=Subquery(latest)).order_by("seq", "id")
    return list(
        problems.select_related("campaign", "source", "category", "lead_unit")
        .prefetch_related(Prefetch("co_units", queryset=Unit.objects.order_by("path")),
                          Prefetch("measures", queryset=measures))
    )


def _deadline_cell(deadline: Any, long_term: bool) -> Any:
    return "长期坚持" if long_term else deadline


def light_text(info: LightInfo) -> str:
    """The 红黄绿灯 cell: "红灯（逾期12天）", "黄灯（剩余3天）", "黄灯（今日到期）", "绿灯"; "—" when closed or
    voided. The light and its days are `LightInfo`'s, as the ledger page shows them."""
    if info.light == Light.NONE:
        return NO_LIGHT
    word = LIGHT_WORDS[Light(info.light)]
    return f"{word}（{info.label}）" if info.light in (Light.RED, Light.YELLOW) else word


def _problem_cells(p: Problem, printed_seq: int, label: UnitLabels, lights: Lights) -> dict[str, Any]:
    return {
        "seq": printed_seq,
        "number": p.number,
        "source_number": p.source_number,
        "source": p.source.name if p.source else "",
        "category": category_label(p.category) if p.category else "",
        "summary": p.summary,
        "description": p.description,
        "rectification_type": RectificationType(p.rectification_type).label,
        "responsible_leader": p.responsible_leader,
        "lead_unit": label(p.lead_unit),
        "co_units": "、".join(label(u) for u in p.co_units.all()),
        "closure": EXPORT_CLOSURE_WORD.get(p.status, ""),
        "light": light_text(lights.problem(p)),
    }


def _measure_cells(m: Measure | None, p: Problem, label: UnitLabels) -> dict[str, Any]:
    if m is None:  # a problem with no measure yet: one row, its own deadline
        long_term = p.deadline is None and p.rectification_type == RectificationType.LONG_TERM
        return {"measures": "", "measure_unit": "", "responsible_person": "", "progress": "", "status": "",
                "deadline": _deadline_cell(p.deadline, long_term)}
    return {
        "measures": m.content,
        "measure_unit": label(m.unit),
        "responsible_person": m.responsible_person,
        "deadline": _deadline_cell(m.deadline, m.is_long_term),
        "progress": getattr(m, "latest_progress", None) or "",
        "status": export_status_word(m.status, is_long_term=m.is_long_term),
    }


def _setup_sheet(ws: Worksheet, title: str) -> None:
    ncols = len(EXPORT_COLUMNS)
    last = get_column_letter(ncols)
    ws.title = "问题台账"
    ws.cell(row=TITLE_ROW, column=1, value=excel_text(title))
    ws.merge_cells(f"A{TITLE_ROW}:{last}{TITLE_ROW}")
    ws.cell(row=TITLE_ROW, column=1).font = Font(name="黑体", size=16, bold=True)
    ws.cell(row=TITLE_ROW, column=1).alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.row_dimensions[TITLE_ROW].height = 36
    header_lines = 1
    for ci, (_, header, width) in enumerate(EXPORT_COLUMNS, start=1):
        cell = ws.cell(row=HEADER_ROW, column=ci, value=header)
        style_header(cell)
        ws.column_dimensions[get_column_letter(ci)].width = width
        header_lines = max(header_lines, _lines(header, width))
    ws.row_dimensions[HEADER_ROW].height = LINE_HEIGHT * header_lines + 6
    print_setup(ws, header_row=HEADER_ROW, footer="第 &P 页，共 &N 页")


def _write_problem(ws: Worksheet, row: int, p: Problem, printed_seq: int, label: UnitLabels, lights: Lights) -> int:
    """Write one problem from `row`; return the next free row."""
    measures: list[Measure | None] = list(p.measures.all()) or [None]
    n = len(measures)
    pcells = _problem_cells(p, printed_seq, label, lights)
    mrows = [_measure_cells(m, p, label) for m in measures]
    statuses = {r["status"] for r in mrows}
    merged_keys = set(PROBLEM_COLUMNS) | ({"status"} if len(statuses) == 1 else set())
    heights = [1] * n
    merged_need = 1
    for ci, (key, _, width) in enumerate(EXPORT_COLUMNS, start=1):
        align = Alignment(horizontal="center" if key in CENTERED else "left", vertical="center", wrap_text=True)
        for i in range(n):
            cell = ws.cell(row=row + i, column=ci)
            cell.border = BORDER
            cell.alignment = align
            cell.font = Font(name=FONT_NAME, size=10)
            if key in merged_keys and i > 0:
                continue
            value = excel_text(pcells[key] if key in pcells else mrows[i][key])
            cell.value = value
            if hasattr(value, "isoformat"):
                cell.number_format = DATE_FORMAT
            lines = _lines(value, width)
            if key in merged_keys:
                merged_need = max(merged_need, lines)
            else:
                heights[i] = max(heights[i], lines)
        if key in merged_keys and n > 1:
            letter = get_column_letter(ci)
            _merge(ws, f"{letter}{row}:{letter}{row + n - 1}")
    if sum(heights) < merged_need:  # spread what the merged cells need over the problem's rows
        extra = merged_need - sum(heights)
        for i in range(n):
            heights[i] += extra // n + (1 if i < extra % n else 0)
    for i, h in enumerate(heights):
        ws.row_dimensions[row + i].height = LINE_HEIGHT * h + 4
    return row + n


def export_ledger_xlsx(
    problems: QuerySet[Problem] | Iterable[Problem], *, title: str, today: dt.date | None = None,
) -> bytes:
    """The problems (already scoped and filtered by the caller, in the caller's order) as a printable .xlsx, their
    lights as of `today` (default: today)."""
    items = _prefetched(problems) if isinstance(problems, QuerySet) else list(problems)
    lights = Lights({p.campaign_id: p.campaign for p in items}.values(), today)
    units: list[Unit] = []
    for p in items:
        if p.lead_unit is not None:
            units.append(p.lead_unit)
        units.extend(p.co_units.all())
        units.extend(m.unit for m in p.measures.all())
    label = UnitLabels(units)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    _setup_sheet(ws, title)
    row = FIRST_DATA_ROW
    for printed_seq, p in enumerate(items, start=1):
        row = _write_problem(ws, row, p, printed_seq, label, lights)
    last = get_column_letter(len(EXPORT_COLUMNS))
    ws.print_area = f"A{TITLE_ROW}:{last}{max(row - 1, HEADER_ROW)}"
    write_versions(wb, items)  # hidden: what each row looked like, so a stale re-import is told apart
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


__all__ = ["escape_formula", "export_ledger_xlsx"]  # escape_formula: from core.text, kept here for older imports
