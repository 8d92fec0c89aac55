"""The problem-category catalogue (问题表现清单) in and out of Excel.

Layout (as in the offices' own files): 类别编码 / 类别名称 / 上级类别编码, one category a row, an optional title
row above the header, header wording that varies (编码, 代码, 名称, 问题表现, 上级编码 …). Reading here only checks
what a file can tell by itself (blank cells, duplicates, lengths); whether parents exist and the tree stays a
tree is decided against the campaign's catalogue in `campaigns.services`.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import openpyxl
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from core.exporting import write_text
from core.text import unescape_formula
from core.xlsx import CellError, Column, read_table

from .models import Campaign, Category

CODE_MAX = Category._meta.get_field("code").max_length or 32
NAME_MAX = Category._meta.get_field("name").max_length or 200

CATEGORY_COLUMNS = (
    Column("code", "类别编码", ("编码", "代码", "类别代码", "分类编码", "序号编码"), required=True),
    Column("name", "类别名称", ("名称", "类别", "问题表现", "问题类别", "类别名", "问题表现类别"), required=True),
    Column("parent", "上级类别编码", ("上级编码", "上级类别", "上级代码", "上级类别代码", "父级编码", "上级")),
)

_INNER_SPACE = re.compile(r"\s")


@dataclass
class CategoryRow:
    """One category as a file (or an earlier campaign) gives it."""

    row: int  # Excel row number; for a copy, the position in the source catalogue
    code: str
    name: str
    parent: str  # the parent's code (or, in a file, possibly its name); "" for a top-level category
    sort_order: int = 0
    is_active: bool | None = None  # None: leave as it is (imports); a copy carries the source's state
    valid: bool = True  # False: the row has an error of its own; its code still counts as present in the file


@dataclass
class PlannedRow:
    """What an import or a copy will do to one category."""

    row: int
    code: str
    name: str
    parent_code: str
    action: str  # "new" | "changed" | "unchanged"
    changes: dict[str, list[str]] = field(default_factory=dict)

    @property
    def action_label(self) -> str:
        return ACTION_LABELS[self.action]


ACTION_LABELS = {"new": "新增", "changed": "修改", "unchanged": "无变化"}


@dataclass
class CategoryImportReport:
    """The preview of an import (or the record of one applied): row by row, errors by row and column."""

    rows: list[PlannedRow] = field(default_factory=list)
    errors: list[CellError] = field(default_factory=list)
    file_error: str = ""
    sheet: str = ""
    applied: bool = False

    @property
    def ok(self) -> bool:
        return not self.file_error and not self.errors

    @property
    def counts(self) -> dict[str, int]:
        counts = {"new": 0, "changed": 0, "unchanged": 0}
        for r in self.rows:
            counts[r.action] += 1
        counts["error"] = len({e.row for e in self.errors})
        return counts

    def summary(self) -> str:
        c = self.counts
        return f"新增 {c['new']} 个，修改 {c['changed']} 个，无变化 {c['unchanged']} 个"


def read_category_file(file: Any) -> tuple[list[CategoryRow], list[CellError], str]:
    """The rows of a catalogue file and the errors a file shows by itself. Raises `XlsxError` for a file that
    cannot be read at all (not an .xlsx, no recognisable header, a required column missing)."""
    table = read_table(file, CATEGORY_COLUMNS)
    rows: list[CategoryRow] = []
    errors: list[CellError] = list(table.cell_errors)
    seen: dict[str, int] = {}
    for position, record in enumerate(table.records, start=1):
        bad = {e.column for e in record.errors}
        # The export's formula escape (a leading apostrophe before = + - @) is not part of the text.
        code, name, parent = (unescape_formula(record.text(key)) for key in ("code", "name", "parent"))
        row_errors: list[CellError] = []
        if not code:
            if "类别编码" not in bad:
                row_errors.append(record.error("code", "不能为空"))
        elif _INNER_SPACE.search(code):
            row_errors.append(record.error("code", f"“{code}”中含有空格"))
        elif len(code) > CODE_MAX:
            row_errors.append(record.error("code", f"“{code}”超过 {CODE_MAX} 个字符"))
        elif code in seen:
            row_errors.append(record.error("code", f"“{code}”与第{seen[code]}行重复"))
        else:
            seen[code] = record.row
        if not name:
            if "类别名称" not in bad:
                row_errors.append(record.error("name", "不能为空"))
        elif len(name) > NAME_MAX:
            row_errors.append(record.error("name", f"超过 {NAME_MAX} 个字符"))
        if parent and parent == code:
            row_errors.append(record.error("parent", "上级类别不能是它自己"))
        errors.extend(row_errors)
        rows.append(CategoryRow(
            row=record.row, code=code, name=name, parent=parent, sort_order=position * 10,
            valid=not row_errors and not record.errors,
        ))
    errors.sort(key=lambda e: e.row)
    return rows, errors, table.sheet


def rows_from_campaign(campaign: Campaign) -> list[CategoryRow]:
    """An earlier campaign's catalogue in the shape of imported rows, to be copied into another."""
    cats = list(Category.objects.filter(campaign=campaign).select_related("parent").order_by("sort_order", "code"))
    return [
        CategoryRow(
            row=i, code=c.code, name=c.name, parent=c.parent.code if c.parent else "", sort_order=c.sort_order,
            is_active=c.is_active,
        )
        for i, c in enumerate(cats, start=1)
    ]


def category_workbook(categories: Sequence[Category]) -> bytes:
    """The catalogue as an .xlsx in the import layout, so it can be edited and imported back; every cell through
    `excel_text` (a name such as "=…" or "@…" is written with a leading apostrophe, which the import removes)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "问题类别"
    headers = ("类别编码", "类别名称", "上级类别编码", "状态")
    for col, text in enumerate(headers, start=1):
        write_text(ws, row=1, column=col, value=text).font = Font(bold=True)
    for i, cat in enumerate(categories, start=2):
        values = (cat.code, cat.name, cat.parent.code if cat.parent else "", "启用" if cat.is_active else "停用")
        for col, value in enumerate(values, start=1):
            write_text(ws, row=i, column=col, value=value)
    for col, width in enumerate((14, 48, 14, 8), start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


__all__ = [
    "CATEGORY_COLUMNS",
    "CategoryImportReport",
    "CategoryRow",
    "PlannedRow",
    "category_workbook",
    "read_category_file",
    "rows_from_campaign",
]
