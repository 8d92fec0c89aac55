"""What a small .xlsx cannot make an import do: read the cells right of its header, read more cells than
XLSX_MAX_CELLS, or be believed about its size; and merges read without openpyxl's full (non-streaming) mode."""

from __future__ import annotations

import re
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

import core.xlsx
from core.xlsx import Column, MergedRange, XlsxError, count_rows, find_header, open_workbook, read_table
from ledger.excel.columns import EXPORT_COLUMNS
from ledger.excel.reader import read_ledger

LEDGER_HEADERS = [header for _, header, _ in EXPORT_COLUMNS]
COLUMNS = [Column("code", "单位编码", (), required=True), Column("name", "单位名称", (), required=True)]
MB = 1024 * 1024


def rewrite_sheet(path: Path, change: Callable[[bytes], bytes]) -> Path:
    """Rewrite the first sheet's XML, as a generator other than Excel might have written it."""
    with zipfile.ZipFile(path) as zf:
        items = {i.filename: zf.read(i) for i in zf.infolist()}
    items["xl/worksheets/sheet1.xml"] = change(items["xl/worksheets/sheet1.xml"])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in items.items():
            zf.writestr(name, data)
    return path


def set_dimension(ref: str) -> Callable[[bytes], bytes]:
    return lambda xml: re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="{ref}"'.encode(), xml)


def peak_bytes(fn: Callable[[], object]) -> tuple[object, int]:
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def xfd_ledger(path: Path, rows: int = 2000) -> Path:
    """The testers' file: a normal ledger header, and one cell in the last column (XFD) on every row."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(LEDGER_HEADERS)
    for r in range(1, rows + 1):
        ws.cell(row=r, column=16_384, value="x")
    wb.save(path)
    return path


# ---- cells right of the header --------------------------------------------------------------------------------

def test_a_ledger_with_a_cell_in_column_xfd_on_every_row_reads_in_little_memory(tmp_path):
    path = xfd_ledger(tmp_path / "xfd.xlsx")
    assert path.stat().st_size < 40_000
    with zipfile.ZipFile(path) as zf:
        assert b'<dimension ref="A1:XFD2000"' in zf.read("xl/worksheets/sheet1.xml")

    sheet, peak = peak_bytes(lambda: read_ledger(path))

    assert sheet.problems == [] and sheet.header.row == 1  # type: ignore[attr-defined]
    # Reading every cell up to XFD, as the full (non-streaming) mode did, took gigabytes.
    assert peak < 8 * MB, f"{peak / MB:.1f} MB"


def test_a_roster_keeps_its_rows_and_drops_what_lies_right_of_the_header(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["单位编码", "单位名称"])
    for r in range(2, 2002):
        ws.append([f"A{r}", f"单位{r}"])
        ws.cell(row=r, column=16_384, value="多余")
    wb.save(tmp_path / "wide.xlsx")

    table, peak = peak_bytes(lambda: read_table(tmp_path / "wide.xlsx", COLUMNS))

    assert len(table.records) == 2000  # type: ignore[attr-defined]
    assert table.records[-1].values == {"code": "A2001", "name": "单位2001"}  # type: ignore[attr-defined]
    assert peak < 8 * MB, f"{peak / MB:.1f} MB"


# ---- sizes the file declares, and sizes it hides -----------------------------------------------------------

def test_a_sheet_declaring_more_rows_than_the_bound_is_refused_before_its_rows_are_read(tmp_path, monkeypatch):
    path = rewrite_sheet(xfd_ledger(tmp_path / "big.xlsx", rows=3), set_dimension("A1:XFD1048576"))
    with open_workbook(path) as wb:
        sheet = wb.worksheets[0]
        header = find_header(sheet.head(), [Column("description", "问题描述（具体表现）", ())])
        monkeypatch.setattr(sheet, "iter_rows", lambda **kw: pytest.fail("rows read"))
        columns = LEDGER_HEADERS.index("问题描述（具体表现）") + 1  # the header ends at the one column looked for
        expected = rf"数据范围到第 1,048,576 行，按表头的 {columns} 列计算，单元格超过每次导入"
        with pytest.raises(XlsxError, match=expected):
            sheet.data_rows(header)
    with pytest.raises(XlsxError, match="超过每次导入 1,000,000 个的上限"):
        read_ledger(path)


def test_a_sheet_that_understates_its_size_is_read_whole(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["单位编码", "单位名称"])
    for r in range(50):
        wb.active.append([f"C{r}", f"单位{r}"])
    wb.save(tmp_path / "short.xlsx")
    path = rewrite_sheet(tmp_path / "short.xlsx", set_dimension("A1:B2"))

    assert [r.text("code") for r in read_table(path, COLUMNS).records] == [f"C{r}" for r in range(50)]


def test_blank_rows_count_and_the_read_stops_when_the_bound_is_passed(tmp_path, settings):
    """A header, then one cell a million rows down, with a dimension claiming two rows: nothing declared is
    too large and the archive holds three cells, but streaming the blank rows between would pass the bound."""
    wb = openpyxl.Workbook()
    wb.active.append(["单位编码", "单位名称"])
    wb.active.append(["A", "甲"])
    wb.active.cell(row=1_000_000, column=1, value="B")
    wb.save(tmp_path / "gap.xlsx")
    path = rewrite_sheet(tmp_path / "gap.xlsx", set_dimension("A1:B2"))
    settings.XLSX_MAX_CELLS = 10_000

    tracemalloc.start()
    try:
        with pytest.raises(XlsxError, match=r"读到工作表「Sheet」第 [\d,]+ 行时，读取的单元格超过每次导入 10,000 个"):
            read_table(path, COLUMNS)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * MB, f"{peak / MB:.1f} MB"


def test_count_rows_uses_the_dimension_or_counts_within_the_bound(tmp_path, settings):
    path = xfd_ledger(tmp_path / "x.xlsx", rows=30)
    assert count_rows(path) == 30
    rewrite_sheet(path, lambda xml: re.sub(rb"<dimension [^>]*/>", b"", xml))
    assert count_rows(path) == 30
    settings.XLSX_MAX_CELLS = 100
    wb = openpyxl.Workbook()
    wb.active.cell(row=500, column=1, value="x")
    wb.save(tmp_path / "far.xlsx")
    rewrite_sheet(tmp_path / "far.xlsx", lambda xml: re.sub(rb"<dimension [^>]*/>", b"", xml))
    with pytest.raises(XlsxError, match="第 101 行时"):
        count_rows(tmp_path / "far.xlsx")


# ---- what the archive holds, counted before openpyxl parses anything ------------------------------------------

def refuse_parsing(monkeypatch):
    monkeypatch.setattr(core.xlsx.workbook.openpyxl, "load_workbook", lambda *a, **kw: pytest.fail("parsed"))


def test_a_sheet_holding_more_cells_than_the_bound_is_refused_before_parsing(tmp_path, settings, monkeypatch):
    wb = openpyxl.Workbook()
    for r in range(60):
        wb.active.append([f"C{r}", f"单位{r}"])
    wb.save(tmp_path / "many.xlsx")
    settings.XLSX_MAX_CELLS = 100
    refuse_parsing(monkeypatch)
    with pytest.raises(XlsxError, match="一个工作表中的单元格超过每次导入 100 个的上限"):
        open_workbook(tmp_path / "many.xlsx")


def test_a_row_wider_than_excel_allows_is_refused_before_parsing(tmp_path, monkeypatch):
    wb = openpyxl.Workbook()
    wb.active.append(["单位编码", "单位名称"])
    wb.save(tmp_path / "wide.xlsx")
    cells = b"<c><v>1</v></c>" * 16_385  # no r="…": each cell is the next column
    path = rewrite_sheet(tmp_path / "wide.xlsx", lambda xml: xml.replace(b"</sheetData>", b"<row>" + cells
                                                                          + b"</row></sheetData>"))
    refuse_parsing(monkeypatch)
    with pytest.raises(XlsxError, match="超过 Excel 允许的 16,384 列"):
        open_workbook(path)


def test_merges_count_against_the_bound(tmp_path, settings, monkeypatch):
    wb = openpyxl.Workbook()
    for r in range(1, 80, 2):
        wb.active.cell(row=r, column=1, value=r)
        wb.active.merge_cells(f"A{r}:A{r + 1}")
    wb.save(tmp_path / "merges.xlsx")
    settings.XLSX_MAX_CELLS = 120
    refuse_parsing(monkeypatch)
    with pytest.raises(XlsxError, match="合并单元格超过每次导入 30 个的上限"):
        open_workbook(tmp_path / "merges.xlsx")


def test_tags_cut_by_the_read_buffer_are_counted_once(tmp_path, settings, monkeypatch):
    wb = openpyxl.Workbook()
    for r in range(50):
        wb.active.append([f"C{r}", f"单位{r}"])
    wb.save(tmp_path / "cells.xlsx")
    monkeypatch.setattr(core.xlsx.workbook, "_CHUNK", 7)  # every tag falls across a boundary somewhere
    settings.XLSX_MAX_CELLS = 100
    with open_workbook(tmp_path / "cells.xlsx") as wb_:
        assert len(wb_.active.rows()) == 50
    settings.XLSX_MAX_CELLS = 99
    with pytest.raises(XlsxError, match="单元格超过"):
        open_workbook(tmp_path / "cells.xlsx")


# ---- merged cells, read from the archive ----------------------------------------------------------------------

def merged_file(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["标题"])
    for r in range(2, 40):
        ws.append([r, "x", "y"])
    for rng in ("A1:C1", "A2:A5", "B7:B9", "C30:C39"):
        ws.merge_cells(rng)
    wb.save(path)
    return path


EXPECTED_MERGES = {MergedRange(1, 1, 3, 1), MergedRange(1, 2, 1, 5), MergedRange(2, 7, 2, 9), MergedRange(3, 30, 3, 39)}


@pytest.mark.parametrize("chunk", [1 << 20, 5], ids=["one-read", "tags-across-reads"])
def test_merged_ranges_come_from_the_sheet_xml(tmp_path, monkeypatch, chunk):
    path = merged_file(tmp_path / "m.xlsx")
    monkeypatch.setattr(core.xlsx.workbook, "_CHUNK", chunk)
    with open_workbook(path) as wb:
        assert set(wb.active.merged_ranges()) == EXPECTED_MERGES


def test_merged_ranges_of_a_sheet_written_with_a_namespace_prefix(tmp_path):
    """Some generators write <x:row>, <x:c>, <x:mergeCell>: the same sheet, another spelling."""
    def prefixed(xml: bytes) -> bytes:
        xml = re.sub(rb"<(/?)(?!\?)([A-Za-z]+)([\s/>])", rb"<\1x:\2\3", xml)
        return xml.replace(b'xmlns="http', b'xmlns:x="http', 1)

    path = rewrite_sheet(merged_file(tmp_path / "m.xlsx"), prefixed)
    with zipfile.ZipFile(path) as zf:
        assert b"<x:mergeCell " in zf.read("xl/worksheets/sheet1.xml")
    with open_workbook(path) as wb:
        assert set(wb.active.merged_ranges()) == EXPECTED_MERGES
        assert wb.active.rows()[5][:3] == (6, "x", "y")


def test_a_merge_tag_inside_the_cells_is_not_a_merge(tmp_path):
    path = merged_file(tmp_path / "m.xlsx")
    fake = b'<row r="100"><c r="A100" t="inlineStr"><is><t><![CDATA[<mergeCell ref="A1:A99"/>]]></t></is></c></row>'
    rewrite_sheet(path, lambda xml: xml.replace(b"</sheetData>", fake + b"</sheetData>"))
    with open_workbook(path) as wb:
        assert set(wb.active.merged_ranges()) == EXPECTED_MERGES
