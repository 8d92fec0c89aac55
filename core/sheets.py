"""The print layout of the Excel tables offices print (the ledger export, the 月调度): one style and one page setup.

A4 landscape, fitted to the page width, the header row repeated on every page, centred, narrow margins, and a
page footer "第 N 页 共 M 页"."""

from __future__ import annotations

from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.worksheet import Worksheet

FONT_NAME = "宋体"
THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="D9D9D9")


def style_header(cell: Cell) -> None:
    cell.font = Font(name=FONT_NAME, size=10, bold=True)
    cell.fill = HEADER_FILL
    cell.border = BORDER
    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def print_setup(ws: Worksheet, *, header_row: int, footer: str = "第 &P 页 共 &N 页") -> None:
    ws.freeze_panes = f"A{header_row + 1}"
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    page_setup_pr = ws.sheet_properties.pageSetUpPr
    assert page_setup_pr is not None  # openpyxl creates it with the sheet
    page_setup_pr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top, ws.page_margins.bottom = 0.6, 0.6
    footer_part = ws.oddFooter
    assert footer_part is not None  # openpyxl creates it with the sheet
    footer_part.center.text = footer
