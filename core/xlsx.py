"""Reading untidy Excel (.xlsx) files safely: the one toolkit behind every import (rosters, ledgers, catalogues).

What real files bring and how it is handled here:
- not an .xlsx at all (an .xls, a renamed CSV, a Word file), oversized uploads and zip bombs are refused before
  openpyxl parses anything (openpyxl itself has no guard against decompression bombs);
- files that are small but would take gigabytes to read: every read streams (openpyxl's read-only mode), and the
  cells an import may read are bounded by `XLSX_MAX_CELLS`. Before parsing, each part of the archive is scanned for
  how many cells, rows, shared strings, merges … it holds; a sheet's declared `<dimension>` is checked as soon as
  the header says how many columns matter; and the rows are counted as they stream, so a file that lies about its
  size is refused when the bound is passed, not after everything was built;
- cells right of the last header column (a stray value in column XFD) are never read: the header is found in the
  first rows, then data rows are read only up to the last column the header names;
- a title row above the header, header wording that varies by office: `find_header` scans the first rows for the
  row that matches the most known aliases;
- formulas: values come from the cached results Excel/WPS store; a formula saved without one is reported as an
  error on its row and column instead of silently reading as blank;
- numbers stored as text, floats for whole numbers, stray full-width spaces: `cell_text`.

Typical use::

    table = read_table(upload, COLUMNS)
    for record in table.records:
        code = record.text("code")

or, sheet by sheet::

    with open_workbook(upload) as wb:
        sheet = wb.worksheets[0]
        header = find_header(sheet.head(), COLUMNS)
        rows = sheet.data_rows(header)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import zipfile
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, NamedTuple

import openpyxl
from django.conf import settings
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.datetime import from_excel
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

HEADER_SCAN_ROWS = 15
HEADER_SCAN_COLS = 200  # a header cell right of column GR is not one any office keeps
EXCEL_MAX_COLUMNS = 16_384  # XFD: no row that Excel or WPS writes has more cells
ProgressFn = Callable[[int, int], None]
NOT_XLSX = "文件不是有效的 Excel（.xlsx）文件，请在 Excel 或 WPS 中另存为 .xlsx 格式后重新上传。"
FORMULA_WITHOUT_VALUE = "公式没有计算结果，请在 Excel 或 WPS 中打开并保存后重新上传，或改为直接填写数值"
SPLIT_ADVICE = "请删除多余的行和列（包括看似空白、但设置过格式的行列）后重新上传，或拆分后分批导入。"


class XlsxError(Exception):
    """A problem with the file as a whole; the message is Chinese and shown to the user as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass
class CellError:
    row: int  # as Excel numbers it
    column: str  # the column's Chinese label
    message: str

    def __str__(self) -> str:
        return f"第{self.row}行「{self.column}」列：{self.message}"


class FormulaWithoutValue:
    """Stands in for a formula cell whose file carries no cached result (e.g. written by a script)."""

    __slots__ = ("formula",)

    def __init__(self, formula: str) -> None:
        self.formula = formula

    def __repr__(self) -> str:
        return f"FormulaWithoutValue({self.formula!r})"

    def __str__(self) -> str:
        return ""


# --------------------------------------------------------------------------------------------------------------
# Opening the file


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB" if n >= 1024 * 1024 else f"{max(n // 1024, 1)} KB"


def _read_bytes(file: Any) -> bytes:
    """The whole upload as bytes, refusing anything larger than the upload limit before reading it all."""
    limit = settings.XLSX_MAX_UPLOAD_BYTES
    too_large = f"文件过大：超过 {_mb(limit)} 的上限，请拆分后分批导入。"
    if isinstance(file, str | os.PathLike):
        try:
            if os.path.getsize(file) > limit:
                raise XlsxError(too_large)
            with open(file, "rb") as fh:
                return fh.read()
        except OSError as exc:
            raise XlsxError(f"无法读取文件：{os.fspath(file)}") from exc
    size = getattr(file, "size", None)
    if isinstance(size, int) and size > limit:
        raise XlsxError(too_large)
    if hasattr(file, "seek"):
        file.seek(0)
    data = file.read(limit + 1)
    if isinstance(data, str):
        raise XlsxError(NOT_XLSX)
    if len(data) > limit:
        raise XlsxError(too_large)
    return bytes(data)


# The elements openpyxl builds an object for, one each, whatever the part they are in: cells and rows of a sheet,
# shared strings, cell formats, merges, links, validations and conditional formats. `f` marks a formula.
_COUNTED_TAG = re.compile(
    rb"<(?:[A-Za-z_][\w.-]{0,15}:)?(c|row|f|si|xf|mergeCell|hyperlink|dataValidation|cfRule)[\s/>]"
)
_TAG_MAX = 48  # longer than any match of _COUNTED_TAG
_CHUNK = 1 << 20
_ITEM_WORDS = {
    b"si": "文本", b"xf": "单元格格式", b"mergeCell": "合并单元格", b"hyperlink": "超链接",
    b"dataValidation": "数据验证规则", b"cfRule": "条件格式规则",
}


def _too_many(what: str, limit: int) -> XlsxError:
    return XlsxError(f"文件内容过多：{what}超过每次导入 {limit:,} 个的上限。{SPLIT_ADVICE}")


def _scan_part(stream: IO[bytes], *, cells_max: int, items_max: int) -> bool:
    """Count what one part of the archive holds, refusing it as soon as a bound is passed; return whether it
    holds a formula. Streams: the part is never in memory whole."""
    cells = in_row = 0
    items: dict[bytes, int] = {}
    has_formula = False
    carry = b""
    while True:
        chunk = stream.read(_CHUNK)
        buf = carry + chunk
        if chunk:
            # A tag cut by the chunk's end starts at its last "<": keep that for the next round.
            last = buf.rfind(b"<")
            cut = last if last != -1 and last >= len(buf) - _TAG_MAX else len(buf)
            buf, carry = buf[:cut], buf[cut:]
        for tag in _COUNTED_TAG.findall(buf):
            if tag == b"c":
                in_row += 1
                if in_row > EXCEL_MAX_COLUMNS:
                    raise XlsxError(
                        f"文件异常：有一行的单元格超过 Excel 允许的 {EXCEL_MAX_COLUMNS:,} 列，可能不是 Excel 或 WPS "
                        "保存的文件，已拒绝导入。"
                    )
                cells += 1
            elif tag == b"row":
                in_row = 0
            elif tag == b"f":
                has_formula = True
            else:
                items[tag] = items.get(tag, 0) + 1
        if cells > cells_max:
            raise _too_many("一个工作表中的单元格", cells_max)
        for tag, n in items.items():
            limit = cells_max if tag == b"si" else items_max
            if n > limit:
                raise _too_many(f"文件中的{_ITEM_WORDS[tag]}", limit)
        if not chunk:
            return has_formula


def _check_archive(data: bytes) -> bool:
    """Refuse what is not an .xlsx, would expand too far or hold too much; return whether any worksheet holds a
    formula."""
    if not data.startswith(b"PK"):
        raise XlsxError(NOT_XLSX)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise XlsxError(NOT_XLSX) from exc
    with zf:
        infos = zf.infolist()
        names = {i.filename for i in infos}
        if "xl/workbook.xml" not in names:  # a .docx or any other zip
            raise XlsxError(NOT_XLSX)
        # The declared sizes can lie only downwards if the archive is corrupt, and then zipfile stops at the
        # declared size while reading; checking the sum first keeps a 10 KB file from expanding to gigabytes.
        limit = settings.XLSX_MAX_UNZIPPED_BYTES
        if sum(i.file_size for i in infos) > limit:
            raise XlsxError(f"文件解压后超过 {_mb(limit)}，可能是异常文件（压缩炸弹），已拒绝导入。")
        # Every part is scanned, not only xl/worksheets/: a workbook may name any part as a sheet.
        cells_max = settings.XLSX_MAX_CELLS
        has_formula = False
        for info in infos:
            try:
                with zf.open(info) as stream:
                    found = _scan_part(stream, cells_max=cells_max, items_max=max(cells_max // 4, 1))
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
                raise XlsxError(NOT_XLSX) from exc
            if found and info.filename.startswith("xl/worksheets/"):
                has_formula = True
    return has_formula


class _CellBudget:
    """The cells one opened workbook may still hand out (`XLSX_MAX_CELLS`), spent row by row as they stream."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.spent = 0

    def spend(self, n: int, *, sheet: str, row: int) -> None:
        self.spent += n
        if self.spent > self.limit:
            raise _too_many(f"读到工作表「{sheet}」第 {row:,} 行时，读取的单元格", self.limit)


class MergedRange(NamedTuple):
    """A merged range of cells, 1-based and inclusive, as Excel numbers rows and columns."""

    min_col: int
    min_row: int
    max_col: int
    max_row: int


_SHEET_DATA_END = re.compile(rb"</(?:[A-Za-z_][\w.-]{0,15}:)?sheetData\s*>|<(?:[A-Za-z_][\w.-]{0,15}:)?sheetData\s*/>")
_MERGE_CELL = re.compile(
    rb"<(?:[A-Za-z_][\w.-]{0,15}:)?mergeCell\s[^<>]{0,200}?\bref\s*=\s*[\"']"
    rb"\$?([A-Za-z]{1,3})\$?(\d{1,7})(?::\$?([A-Za-z]{1,3})\$?(\d{1,7}))?[\"']"
)
_MERGE_MAX = 320  # longer than any match of _MERGE_CELL
_COL_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,15}:)?col\s([^<>]{0,400}?)/?>")
_HIDDEN_ATTR = re.compile(rb"\bhidden\s*=\s*[\"'](?:1|true)[\"']")
_COL_MIN = re.compile(rb"\bmin\s*=\s*[\"'](\d{1,5})[\"']")
_COL_MAX = re.compile(rb"\bmax\s*=\s*[\"'](\d{1,5})[\"']")


def _worksheet_source(ws: Any) -> IO[bytes] | None:
    # openpyxl's read-only worksheets open their part the same way (ReadOnlyWorksheet._get_source).
    path = getattr(ws, "_worksheet_path", None)
    archive = getattr(getattr(ws, "parent", None), "_archive", None)
    if path is None or archive is None:
        return None
    stream: IO[bytes] = archive.open(path)
    return stream


class Sheet:
    """One worksheet; rows come as tuples of values, formulas replaced by their cached results.

    Reading is streamed and every row read is counted against the workbook's `XLSX_MAX_CELLS`.
    """

    def __init__(self, values_ws: Any, formula_ws: Any | None, budget: _CellBudget) -> None:
        self._values = values_ws
        self._formulas = formula_ws
        self._budget = budget
        # What the sheet's <dimension> claims; rows are then read as they are in the file, whatever it claims
        # (openpyxl would otherwise stop at the declared last row, or pad every row to the declared last column).
        declared = getattr(values_ws, "max_row", None)
        self.declared_rows: int | None = declared if isinstance(declared, int) and declared > 0 else None
        for ws in (values_ws, formula_ws):
            if ws is not None and hasattr(ws, "reset_dimensions"):
                ws.reset_dimensions()

    @property
    def title(self) -> str:
        return str(self._values.title)

    @property
    def worksheet(self) -> Any:
        """The underlying openpyxl worksheet (cached values, not formulas)."""
        return self._values

    def iter_rows(self, *, max_row: int | None = None, max_col: int | None = None) -> Iterator[tuple[Any, ...]]:
        """Every row from row 1 (to `max_row`), blank rows included, so that position + 1 is the Excel row number;
        with `max_col`, each row is cut to (or padded to) that many columns and nothing right of it is read.

        A formula cell without a cached result yields a `FormulaWithoutValue`. Raises `XlsxError` as soon as the
        workbook's cells read pass `XLSX_MAX_CELLS`.
        """
        if not hasattr(self._values, "iter_rows"):  # a chart sheet
            return
        # openpyxl yields a row for every row number from 1, gaps included.
        values_rows = self._values.iter_rows(min_row=1, max_row=max_row, max_col=max_col, values_only=True)
        formula_rows = (
            self._formulas.iter_rows(min_row=1, max_row=max_row, max_col=max_col, values_only=True)
            if self._formulas is not None
            else None
        )
        spend, title = self._budget.spend, self.title
        for row_no, values in enumerate(values_rows, start=1):
            spend(max(len(values), 1), sheet=title, row=row_no)
            formulas = next(formula_rows, ()) if formula_rows is not None else ()
            if not isinstance(values, tuple):
                values = tuple(values)  # openpyxl gives a list for a missing row
            if not formulas or None not in values:
                yield values
                continue
            out = list(values)
            for i, value in enumerate(values):
                if value is None and i < len(formulas) and _is_formula(formulas[i]):
                    out[i] = FormulaWithoutValue(_formula_text(formulas[i]))
            yield tuple(out)

    def rows(self, *, max_col: int | None = None) -> list[tuple[Any, ...]]:
        return list(self.iter_rows(max_col=max_col))

    def head(self, rows: int = HEADER_SCAN_ROWS) -> list[tuple[Any, ...]]:
        """The first rows, where `find_header` looks (at most `HEADER_SCAN_COLS` columns of each)."""
        return list(self.iter_rows(max_row=rows, max_col=HEADER_SCAN_COLS))

    def iter_data(self, header: HeaderMatch, progress: ProgressFn | None = None) -> Iterator[tuple[Any, ...]]:
        """Every row from row 1 as `iter_rows`, cut after the last column `header` found.

        Refuses at once a sheet whose declared size alone passes `XLSX_MAX_CELLS`. `progress(done, total)` is
        called now and then (total from the sheet's dimension).
        """
        width = max(header.index.values(), default=0) + 1
        limit = self._budget.limit
        declared = self.declared_rows
        if declared is not None and declared * width > limit:
            raise _too_many(
                f"工作表「{self.title}」的数据范围到第 {declared:,} 行，按表头的 {width} 列计算，单元格", limit
            )
        total = declared or 0
        done = 0
        for row in self.iter_rows(max_col=width):
            yield row
            done += 1
            if progress is not None and done % 500 == 0:
                progress(done, max(total, done))
        if progress is not None:
            progress(done, done)

    def data_rows(self, header: HeaderMatch, progress: ProgressFn | None = None) -> list[tuple[Any, ...]]:
        return list(self.iter_data(header, progress))

    def hidden_columns(self) -> frozenset[int]:
        """The 0-based indexes of the sheet's hidden columns, from its <cols> (which comes before the cells)."""
        stream = _worksheet_source(self._values)
        if stream is None:
            dims = getattr(self._values, "column_dimensions", {}) or {}
            return frozenset(
                i - 1 for letter, d in dims.items() if getattr(d, "hidden", False)
                for i in range(column_index_from_string(letter), column_index_from_string(letter) + 1)
            )
        head = b""
        with stream:
            while len(head) < 4 * _CHUNK:
                chunk = stream.read(_CHUNK)
                head += chunk
                if not chunk or b"sheetData" in head:
                    break
        head = head.split(b"sheetData", 1)[0]
        hidden: set[int] = set()
        for attrs in _COL_TAG.findall(head):
            if not _HIDDEN_ATTR.search(attrs):
                continue
            lo, hi = _COL_MIN.search(attrs), _COL_MAX.search(attrs)
            if lo is None:
                continue
            first, last = int(lo.group(1)), int(hi.group(1)) if hi else int(lo.group(1))
            hidden.update(range(first - 1, min(last, HEADER_SCAN_COLS)))
        return frozenset(hidden)

    def merged_ranges(self) -> list[MergedRange]:
        """The sheet's merged ranges, read from its <mergeCells> (openpyxl's read-only sheets do not keep them).

        The part is streamed: merges come after the cells, and only what follows the cells is searched.
        """
        stream = _worksheet_source(self._values)
        if stream is None:
            ranges = getattr(getattr(self._values, "merged_cells", None), "ranges", None) or []
            return [MergedRange(r.min_col, r.min_row, r.max_col, r.max_row) for r in ranges]
        found: list[MergedRange] = []
        after_data = False
        carry = b""
        with stream:
            while True:
                chunk = stream.read(_CHUNK)
                buf = carry + chunk
                if not after_data:
                    at = buf.find(b"sheetData")  # a plain search first: the regular expression is slower
                    end = _SHEET_DATA_END.search(buf, max(at - 20, 0)) if at != -1 else None
                    if end is None:
                        carry = buf[-_MERGE_MAX:] if chunk else b""
                        if not chunk:
                            break
                        continue
                    after_data, buf = True, buf[end.end() :]
                carry = b""
                if chunk:
                    last = buf.rfind(b"<")
                    cut = last if last != -1 and last >= len(buf) - _MERGE_MAX else len(buf)
                    buf, carry = buf[:cut], buf[cut:]
                for col1, row1, col2, row2 in _MERGE_CELL.findall(buf):
                    try:
                        c1, r1 = column_index_from_string(col1.decode().upper()), int(row1)
                        c2, r2 = (column_index_from_string(col2.decode().upper()), int(row2)) if col2 else (c1, r1)
                    except ValueError:
                        continue
                    found.append(MergedRange(min(c1, c2), min(r1, r2), max(c1, c2), max(r1, r2)))
                if not chunk:
                    break
        return found


def _is_formula(value: Any) -> bool:
    # A text cell reading "=…" has itself as its value, so only a blank value with a formula behind it counts.
    return isinstance(value, ArrayFormula | DataTableFormula) or (isinstance(value, str) and value.startswith("="))


def _formula_text(value: Any) -> str:
    return str(getattr(value, "text", None) or value)


class Workbook:
    """What `open_workbook` returns: the sheets of an .xlsx, read with formulas resolved."""

    def __init__(self, values_wb: Any, formula_wb: Any | None, *, max_cells: int) -> None:
        self._values = values_wb
        self._formulas = formula_wb
        self.has_formulas = formula_wb is not None
        self._budget = _CellBudget(max_cells)
        self._sheets: dict[str, Sheet] = {}

    @property
    def sheetnames(self) -> list[str]:
        return list(self._values.sheetnames)

    @property
    def worksheets(self) -> list[Sheet]:
        return [self[name] for name in self.sheetnames]

    @property
    def active(self) -> Sheet:
        ws = self._values.active or self._values.worksheets[0]
        return self[ws.title]

    def __getitem__(self, name: str) -> Sheet:
        if name not in self._sheets:
            fws = self._formulas[name] if self._formulas is not None else None
            self._sheets[name] = Sheet(self._values[name], fws, self._budget)
        return self._sheets[name]

    def close(self) -> None:
        for wb in (self._values, self._formulas):
            if wb is not None and hasattr(wb, "close"):
                wb.close()

    def __enter__(self) -> Workbook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_workbook(file: str | os.PathLike[str] | IO[bytes] | Any, *, read_only: bool = True) -> Workbook:
    """Open an .xlsx given as a path or an uploaded file object, after the safety checks.

    Raises `XlsxError` (Chinese message) for a file that is not an .xlsx, too large, a zip bomb, or holding more
    than `XLSX_MAX_CELLS` cells in a sheet. The workbook is loaded as written (formulas as formulas); only when
    formulas are present is a second, data_only copy loaded to read the values Excel cached for them.

    Every read streams (openpyxl's read-only mode); `read_only` is accepted for older callers and has no effect.
    """
    del read_only
    data = _read_bytes(file)
    has_formula = _check_archive(data)
    try:
        formulas = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        values = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True) if has_formula else None
    except XlsxError:
        raise
    except Exception as exc:  # openpyxl raises a zoo of exceptions on malformed files
        raise XlsxError(NOT_XLSX) from exc
    max_cells = settings.XLSX_MAX_CELLS
    if values is None:
        return Workbook(formulas, None, max_cells=max_cells)
    return Workbook(values, formulas, max_cells=max_cells)


def count_rows(file: Any) -> int:
    """The number of rows in the first worksheet (from its dimension when the file declares one)."""
    with open_workbook(file) as wb:
        sheet = wb.worksheets[0]
        if sheet.declared_rows is not None:
            return sheet.declared_rows
        return sum(1 for _ in sheet.iter_rows(max_col=1))


# --------------------------------------------------------------------------------------------------------------
# Cell values


_EDGE_SPACE = " \t\r\n\u3000\xa0\u200b\ufeff\u2002\u2003\u2009"


def cell_text(value: Any) -> str:
    """A cell as text: None → "", 12.0 → "12", whitespace (including full-width) trimmed at both ends."""
    if value is None or isinstance(value, FormulaWithoutValue):
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip(_EDGE_SPACE)


# Full-width letters, digits and the punctuation dates and codes are written with → ASCII (not brackets: unit
# names keep theirs).
_HALFWIDTH = str.maketrans(
    {**{chr(0xFF10 + i): str(i) for i in range(10)},
     **{chr(0xFF21 + i): chr(0x41 + i) for i in range(26)},
     **{chr(0xFF41 + i): chr(0x61 + i) for i in range(26)},
     "\u3000": " ", "．": ".", "／": "/", "－": "-", "：": ":", "—": "-", "–": "-"}
)
_CN_DIGITS = {"〇": 0, "零": 0, "○": 0, "Ｏ": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9}


def halfwidth(text: str) -> str:
    """Full-width digits, letters, spaces and the separators of dates and codes as their ASCII forms."""
    return text.translate(_HALFWIDTH)


def _cn_number(text: str) -> str:
    """二〇二五 → 2025, 十二 → 12, 三十一 → 31 (the numerals a date is written in)."""
    if "十" not in text:
        return "".join(str(_CN_DIGITS[c]) for c in text)
    tens, _, units = text.partition("十")
    return str((_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[units] if units else 0))


_CN_DATE_PART = re.compile(r"[〇零○一二三四五六七八九十]+(?=[年月日号])")
_DATE_RE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?(?:[\sT]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_MONTH_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?\s*(底|末|中旬|下旬|上旬)?$")
_YEAR_PART_RE = re.compile(r"^(\d{4})\s*年?\s*(底|末|年底|年末|上半年|下半年|全年|第?[1-4一二三四]季度)$")
_QUARTER_WORDS = {"1": 1, "一": 1, "2": 2, "二": 2, "3": 3, "三": 3, "4": 4, "四": 4}
PARTIAL_END, PARTIAL_START = "end", "start"


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)


def _partial_date(text: str, partial: str | None) -> dt.date | None:
    """A month, a quarter, a half or the end of a year ("2025年6月", "2025年6月底", "2025年第二季度", "2025年底")."""
    m = _MONTH_RE.match(text)
    y_part = _YEAR_PART_RE.match(text) if m is None else None
    if m is None and y_part is None:
        return None
    if m is not None:
        year, month, word = int(m.group(1)), int(m.group(2)), m.group(3) or ""
        if not 1 <= month <= 12:
            raise ValueError(f"日期“{text}”不存在")
        if word in ("底", "末", "下旬") or (not word and partial == PARTIAL_END):
            return _month_end(year, month)
        if word == "中旬":
            return dt.date(year, month, 20) if partial != PARTIAL_START else dt.date(year, month, 11)
        if word == "上旬":
            return dt.date(year, month, 10) if partial != PARTIAL_START else dt.date(year, month, 1)
        if partial == PARTIAL_START:
            return dt.date(year, month, 1)
        return None
    assert y_part is not None
    year, word = int(y_part.group(1)), y_part.group(2)
    if word in ("底", "末", "年底", "年末", "下半年", "全年"):
        start_month, end_month = (7 if word == "下半年" else 1), 12
    elif word == "上半年":
        start_month, end_month = 1, 6
    else:
        q = _QUARTER_WORDS[word.lstrip("第")[0]]
        start_month, end_month = 3 * q - 2, 3 * q
    if partial == PARTIAL_START:
        return dt.date(year, start_month, 1)
    if partial == PARTIAL_END or word in ("底", "末", "年底", "年末"):
        return _month_end(year, end_month)
    return None


def parse_date(value: Any, *, partial: str | None = None) -> dt.date | None:
    """A date from a cell: date/datetime objects, Excel serial numbers, or text such as 2022-06-30, 2022年6月30日,
    2022.6.30, 2022/06/30, 20220630, 二〇二二年六月三十日, full-width digits. With `partial` ("end" for a deadline,
    "start" for a day something was found), a month, a quarter or a half year stands for its last or first day;
    "2022年6月底" and "2022年底" are always the last day. Blank gives None; anything else raises ValueError
    (Chinese)."""
    if value is None or isinstance(value, FormulaWithoutValue):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if float(value).is_integer() and 19000101 <= value <= 29991231:
            value = str(int(value))  # 20250301 typed as a number: a date, not day 20 million of Excel's calendar
        else:
            return _from_serial(value)
    shown = cell_text(value)
    text = halfwidth(shown).strip()
    if not text:
        return None
    text = _CN_DATE_PART.sub(lambda m: _cn_number(m.group(0)), text)
    m = _DATE_RE.match(text)
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError as exc:
            raise ValueError(f"日期“{shown}”不存在") from exc
    if re.fullmatch(r"\d{8}", text):
        try:
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError as exc:
            raise ValueError(f"日期“{shown}”不存在") from exc
    if re.fullmatch(r"\d{5}(?:\.0+)?", text):
        return _from_serial(float(text))
    found = _partial_date(text, partial)
    if found is not None:
        return found
    raise ValueError(f"无法识别的日期“{shown}”，请写成 2022-06-30 或 2022年6月30日")


def _from_serial(number: float) -> dt.date:
    # 1 = 1900-01-01, 2958465 = 9999-12-31 in Excel's 1900 date system.
    if not 1 <= number <= 2958465:
        raise ValueError(f"无法识别的日期“{cell_text(number)}”，请写成 2022-06-30")
    result = from_excel(number)
    return result.date() if isinstance(result, dt.datetime) else result


_MULTI_SEP = re.compile(r"[、，,；;\n\r]+")


def split_multi(text: Any) -> list[str]:
    """Split a cell listing several items (e.g. "作风办、联络员") on 、，,；; and line breaks."""
    return [part.strip(_EDGE_SPACE) for part in _MULTI_SEP.split(cell_text(text)) if part.strip(_EDGE_SPACE)]


# --------------------------------------------------------------------------------------------------------------
# Header detection and column mapping


@dataclass(frozen=True)
class Column:
    """One column an import understands: `key` in code, `label` shown in messages, `aliases` seen in real files.

    `read=False`: a column the system writes itself (e.g. the export's 红黄绿灯); recognised and shown in the
    mapping, never imported."""

    key: str
    label: str
    aliases: tuple[str, ...]
    required: bool = False
    read: bool = True

    def names(self) -> tuple[str, ...]:
        return (self.label, *self.aliases)


_HEADER_JUNK = re.compile(r"[\s\u3000\xa0*＊()（）【】\[\]]")
_BRACKETED = re.compile(r"[（(【\[][^）)】\]]*[）)】\]]")
# What a header adds to a field's name without changing the field: 上级机构代码 is 上级机构, and in a users roster
# 单位代码 is 单位. Longest first.
GENERIC_TAILS = ("统一社会信用代码", "社会信用代码", "代码", "编码", "名称", "全称", "号码", "编号", "信息")
# How a column got its field (FileColumn.how).
BY_LABEL, BY_ALIAS, BY_SIMILAR, BY_MAPPING, BY_SAVED, UNMAPPED = "label", "alias", "similar", "mapped", "saved", "none"
HOW_LABELS = {BY_LABEL: "列名", BY_ALIAS: "常见写法", BY_SIMILAR: "近似写法", BY_MAPPING: "手动指定",
              BY_SAVED: "已保存的映射", UNMAPPED: "未识别"}
NOT_IMPORTED = "不导入"


def normalize_header(text: Any) -> str:
    """Header text for comparison: no whitespace, asterisks, brackets or trailing colon; case-folded; full-width
    letters and digits as ASCII."""
    s = _HEADER_JUNK.sub("", halfwidth(cell_text(text)))
    return s.rstrip(":：").casefold()


def _header_forms(text: Any) -> set[str]:
    raw = cell_text(text)
    forms = {normalize_header(raw)}
    dropped = _BRACKETED.sub("", raw)
    if dropped != raw:
        forms.add(normalize_header(dropped))  # "单位名称（全称）" also matches "单位名称"
    forms.discard("")
    return forms


@dataclass
class FileColumn:
    """One column of a file's header and the field it was matched to ("" for 不导入)."""

    index: int  # 0-based
    letter: str
    header: str  # as written; "上层/下层" for a two-row header
    key: str = ""
    how: str = UNMAPPED
    hidden: bool = False
    similar_to: str = ""  # the label of a field an unmapped column resembles
    duplicate_of: str = ""  # the letter of the column that took this column's field

    def to_json(self, columns: dict[str, Column]) -> dict[str, Any]:
        col = columns.get(self.key)
        label = (col.label if col.read else f"{col.label}（系统生成，不导入）") if col else NOT_IMPORTED
        return {
            "letter": self.letter, "header": self.header, "key": self.key if col and col.read else "",
            "label": label, "how": self.how, "how_label": HOW_LABELS.get(self.how, ""), "hidden": self.hidden,
            "similar_to": self.similar_to, "duplicate_of": self.duplicate_of,
        }


@dataclass
class HeaderMatch:
    row: int  # Excel row number of the (last) header row; data rows follow it
    index: dict[str, int]  # key → 0-based column index
    letters: dict[str, str]  # key → column letter ("A", "B", …)
    headers: dict[str, str]  # key → the header text as written in the file
    columns: dict[str, Column] = field(default_factory=dict)
    first_row: int = 0  # the first header row (row - 1 for a two-row header)
    file_columns: list[FileColumn] = field(default_factory=list)
    missing: list[Column] = field(default_factory=list)  # required columns not found
    signature: str = ""  # the file's headers, for recognising the same layout again
    mapping_name: str = ""  # the saved mapping applied, if any

    def has(self, key: str) -> bool:
        return key in self.index

    def label(self, key: str) -> str:
        col = self.columns.get(key)
        return col.label if col else key

    def value(self, row: Sequence[Any], key: str) -> Any:
        i = self.index.get(key)
        if i is None or i >= len(row):
            return None
        return row[i]

    def error(self, row: int, key: str, message: str) -> CellError:
        return CellError(row=row, column=self.label(key), message=message)

    def records(self, rows: Sequence[Sequence[Any]]) -> Iterator[Record]:
        """The data rows below the header (rows[0] is Excel row 1), skipping rows blank in every known column."""
        for offset, row in enumerate(rows[self.row :], start=self.row + 1):
            values = {key: self.value(row, key) for key in self.index}
            if all(cell_text(v) == "" and not isinstance(v, FormulaWithoutValue) for v in values.values()):
                continue
            errors = [
                self.error(offset, key, FORMULA_WITHOUT_VALUE)
                for key, v in values.items()
                if isinstance(v, FormulaWithoutValue)
            ]
            yield Record(row=offset, values=values, errors=errors, header=self)

    def columns_json(self) -> list[dict[str, Any]]:
        return [fc.to_json(self.columns) for fc in self.file_columns]

    def missing_message(self) -> str:
        parts = [f"「{c.label}」（可用列名：{'、'.join(dict.fromkeys(c.names()))}）" for c in self.missing]
        return f"第{self.row}行表头缺少必需的列：{'；'.join(parts)}。可在列映射中为它指定文件中的列。"

    def warnings(self) -> list[str]:
        """What the preview says about columns: the resembling ones left out, the duplicates, the hidden ones taken,
        and every column not imported."""
        out: list[str] = []
        by_letter = {fc.letter: fc for fc in self.file_columns}
        for fc in self.file_columns:
            col = self.columns.get(fc.key)
            if fc.duplicate_of:
                used = by_letter[fc.duplicate_of]
                out.append(f"「{fc.header}」列（{fc.letter}列）也对应「{self.label(used.key)}」，已按「{used.header}」列"
                           f"（{used.letter}列）导入，此列未导入；如需改用此列，请在列映射中选择。")
            elif not fc.key and fc.similar_to:
                out.append(f"「{fc.header}」列（{fc.letter}列）与「{fc.similar_to}」相近，但未导入；如需导入，请在列映射中"
                           "选择对应的字段。")
            elif fc.hidden and col is not None and col.read:
                out.append(f"「{fc.header}」列（{fc.letter}列）是隐藏列，已按「{col.label}」导入。")
        left = [fc for fc in self.file_columns if not fc.key and not fc.similar_to and not fc.duplicate_of]
        if left:
            shown = "、".join(f"「{fc.header}」（{fc.letter}列）" for fc in left)
            out.append(f"以下列未导入：{shown}；如需导入，请在列映射中选择对应的字段。")
        return out


@dataclass
class Record:
    """One data row: raw values by column key, plus the cell errors found while reading it."""

    row: int
    values: dict[str, Any]
    errors: list[CellError]
    header: HeaderMatch

    def raw(self, key: str) -> Any:
        return self.values.get(key)

    def text(self, key: str) -> str:
        return cell_text(self.values.get(key))

    def error(self, key: str, message: str) -> CellError:
        return self.header.error(self.row, key, message)


class HeaderError(XlsxError):
    """The header lacks a required column; `header` holds what was found, for the preview's column mapping."""

    def __init__(self, message: str, header: HeaderMatch, sheet: str = "") -> None:
        super().__init__(message)
        self.header = header
        self.sheet = sheet


class _Names:
    """The names of a set of columns, normalized, for matching header cells."""

    def __init__(self, columns: Sequence[Column]) -> None:
        self.exact: dict[str, tuple[str, int]] = {}  # name → (key, position among the column's names)
        for col in columns:
            for pos, name in enumerate(col.names()):
                self.exact.setdefault(normalize_header(name), (col.key, pos))
        self.labels = {c.key: c.label for c in columns}

    def match(self, text: str) -> tuple[str, int, str] | None:
        """(key, rank, how) for a header cell; a lower rank wins when two columns match one key."""
        forms = _header_forms(text)
        found = [self.exact[f] for f in forms if f in self.exact]
        if found:
            key, pos = min(found, key=lambda kp: kp[1])
            return key, pos, BY_LABEL if pos == 0 else BY_ALIAS
        for form in forms:
            for tail in GENERIC_TAILS:
                if form.endswith(tail) and len(form) > len(tail) and form[: -len(tail)] in self.exact:
                    key, pos = self.exact[form[: -len(tail)]]
                    return key, 1000 + pos, BY_SIMILAR
        return None

    def resembles(self, text: str) -> str:
        """The label of the field whose longest name the header contains (or is contained in); "" if none."""
        best, best_len = "", 1
        for form in _header_forms(text):
            for name, (key, _) in self.exact.items():
                if len(name) > best_len and (name in form or (len(form) >= 3 and form in name)):
                    best, best_len = self.labels[key], len(name)
        return best


def _spread_merges(grid: list[list[Any]], merged: Sequence[MergedRange]) -> None:
    """Give every cell of a merged range (within the grid) the value of its top-left cell."""
    for rng in merged:
        if rng.min_row > len(grid):
            continue
        top = grid[rng.min_row - 1]
        value = top[rng.min_col - 1] if rng.min_col - 1 < len(top) else None
        for r in range(rng.min_row - 1, min(rng.max_row, len(grid))):
            row = grid[r]
            if len(row) < rng.max_col:
                row.extend([None] * (rng.max_col - len(row)))
            for c in range(rng.min_col - 1, rng.max_col):
                row[c] = value


def _groups(merged: Sequence[MergedRange], row: int, below: Sequence[str]) -> bool:
    """Whether Excel row `row` holds a group header: a cell merged across some, not all, of the columns below."""
    width = sum(1 for t in below if t)
    return any(m.min_row == row and m.max_row == row and 1 < m.max_col - m.min_col + 1 < width for m in merged)


def _texts(row: Sequence[Any]) -> list[str]:
    return ["" if isinstance(v, FormulaWithoutValue) else cell_text(v).replace("\n", "").replace("\r", "")
            for v in row]


def _assign(cells: list[list[str]], names: _Names, hidden: frozenset[int]) -> dict[str, tuple[int, int, str]]:
    """key → (column index, rank, how) for header rows `cells` (one or two rows, the lower one tried first)."""
    best: dict[str, tuple[int, int, str]] = {}
    width = max(len(r) for r in cells)
    for ci in range(width):
        for texts in reversed(cells):
            text = texts[ci] if ci < len(texts) else ""
            found = names.match(text) if text else None
            if found is None:
                continue
            key, rank, how = found
            rank += 10_000 if ci in hidden else 0  # a visible column wins over a hidden one
            if key not in best or rank < best[key][1]:
                best[key] = (ci, rank, how)
            break
    return best


def header_signature(headers: Sequence[str]) -> str:
    """The same for two files whose header rows read the same (after normalizing)."""
    joined = "\x1f".join(normalize_header(h) for h in headers)
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()


def find_header(
    rows: Sequence[Sequence[Any]], columns: Sequence[Column], *, mapping: dict[str, str] | None = None,
    merged: Sequence[MergedRange] = (), hidden: Collection[int] = (), how: str = BY_MAPPING, strict: bool = True,
) -> HeaderMatch:
    """Find the header among the first rows: the row (or pair of rows, for a group header above the real one)
    matching the most columns, by label, alias or a near wording (上级机构代码 for 上级机构).

    `mapping` (column letter → key, "" for 不导入) overrides the matching for the columns it names. `merged` are
    the sheet's merged ranges (a header cell merged across columns or rows counts for each), `hidden` the hidden
    columns (0-based; a visible column wins when two match one field). With `strict`, raises `HeaderError` naming
    every required column that is missing; otherwise the match lists them in `missing`. Raises `XlsxError` when no
    row looks like a header, or the mapping names a column or field that does not exist.
    """
    names = _Names(columns)
    hidden_set = frozenset(hidden)
    grid = [list(r) for r in rows[:HEADER_SCAN_ROWS]]
    _spread_merges(grid, merged)
    texts = [_texts(r) for r in grid]
    best: tuple[int, int, int, dict[str, tuple[int, int, str]]] | None = None  # score, first row, last row, found
    for r in range(len(texts)):
        single = _assign([texts[r]], names, hidden_set)
        if single and (best is None or len(single) > best[0]):
            best = (len(single), r, r, single)
        if r + 1 < len(texts):
            pair = _assign([texts[r], texts[r + 1]], names, hidden_set)
            below = _assign([texts[r + 1]], names, hidden_set)
            # A pair wins when it matches more, or as much as its lower row under a group header (整改情况 merged
            # across the columns it groups): then the header reads "整改情况/整改时限".
            gains = len(pair) > max(len(single), len(below)) or (
                len(pair) == len(below) > len(single) and _groups(merged, r + 1, texts[r + 1])
            )
            if gains and (best is None or len(pair) > best[0] or (len(pair) == best[0] and best[2] == r + 1)):
                best = (len(pair), r, r + 1, pair)
    if best is None:
        # Nothing known: the fullest of the first rows is taken as the header, for the user to map by hand.
        counts = [sum(1 for t in row if t) for row in texts]
        if not counts or max(counts) < 2 or not mapping:
            required = [c for c in columns if c.required]
            sample = "」「".join(c.label for c in (required or list(columns))[:3])
            raise XlsxError(
                f"未找到表头：前 {HEADER_SCAN_ROWS} 行中没有可识别的列名（如「{sample}」），"
                "请检查是否选错了文件或工作表。"
            )
        r = counts.index(max(counts))
        best = (0, r, r, {})
    _, first, last, found = best
    header_rows = texts[first : last + 1]
    width = max(len(row) for row in header_rows)
    file_columns: list[FileColumn] = []
    for ci in range(width):
        parts = [row[ci] if ci < len(row) else "" for row in header_rows]
        upper, lower = parts[0], parts[-1]
        shown = f"{upper}/{lower}" if upper and lower and upper != lower else (upper or lower)
        if shown:
            file_columns.append(FileColumn(index=ci, letter=get_column_letter(ci + 1), header=shown,
                                           hidden=ci in hidden_set))
    by_index = {fc.index: fc for fc in file_columns}
    for key, (ci, _, way) in found.items():
        by_index[ci].key, by_index[ci].how = key, way
    # Columns that matched a field another column took: named, for the preview to say so.
    for ci, fc in by_index.items():
        if fc.key:
            continue
        for texts_row in reversed(header_rows):
            m = names.match(texts_row[ci]) if ci < len(texts_row) and texts_row[ci] else None
            if m is not None:
                fc.duplicate_of = by_index[found[m[0]][0]].letter
                break
        else:
            fc.similar_to = names.resembles(fc.header)
    signature = header_signature([fc.header for fc in file_columns])
    if mapping:
        _apply_mapping(file_columns, mapping, columns, how)
    header = _header_match(last + 1, first + 1, file_columns, columns, signature)
    if header.missing and strict:
        raise HeaderError(header.missing_message(), header)
    return header


def _apply_mapping(file_columns: list[FileColumn], mapping: dict[str, str], columns: Sequence[Column],
                   how: str) -> None:
    known = {c.key: c for c in columns if c.read}
    by_letter = {fc.letter: fc for fc in file_columns}
    for letter, key in mapping.items():
        fc = by_letter.get(str(letter).upper())
        if fc is None:
            raise XlsxError(f"列映射中的“{letter}”列不在表头中（表头共有：{'、'.join(by_letter)}）。")
        if key and key not in known:
            raise XlsxError(f"列映射中的字段“{key}”不存在，可选：{'、'.join(c.label for c in known.values())}。")
    for letter, key in mapping.items():
        fc = by_letter[str(letter).upper()]
        if key:
            for other in file_columns:
                if other.key == key and other is not fc:
                    other.key, other.how, other.duplicate_of = "", UNMAPPED, ""
        fc.key, fc.how, fc.duplicate_of = key, how, ""
        if not key:
            fc.similar_to = ""  # left out on purpose: nothing to warn about


def _header_match(row: int, first_row: int, file_columns: list[FileColumn], columns: Sequence[Column],
                  signature: str) -> HeaderMatch:
    mapped = [fc for fc in file_columns if fc.key]
    return HeaderMatch(
        row=row, first_row=first_row,
        index={fc.key: fc.index for fc in mapped},
        letters={fc.key: fc.letter for fc in mapped},
        headers={fc.key: fc.header for fc in mapped},
        columns={c.key: c for c in columns},
        file_columns=file_columns,
        missing=[c for c in columns if c.required and c.key not in {fc.key for fc in mapped}],
        signature=signature,
    )


def parse_mapping_args(pairs: Sequence[str], columns: Sequence[Column]) -> dict[str, str]:
    """`表头=字段` pairs from a command line → {header as written: key}; the field by key or label, 不导入 for none.
    Raises ValueError (Chinese) for a malformed pair or an unknown field."""
    fields = {normalize_header(c.key): c.key for c in columns if c.read}
    fields.update({normalize_header(c.label): c.key for c in columns if c.read})
    out: dict[str, str] = {}
    for pair in pairs:
        head, sep, name = pair.partition("=")
        if not sep or not head.strip():
            raise ValueError(f"--map 的写法应为“表头=字段”，如“上级机构代码=上级单位”：{pair}")
        wanted = normalize_header(name)
        if wanted in ("", normalize_header(NOT_IMPORTED)):
            out[head.strip()] = ""
        elif wanted in fields:
            out[head.strip()] = fields[wanted]
        else:
            labels = "、".join(c.label for c in columns if c.read)
            raise ValueError(f"--map 中的字段“{name}”不存在，可选：{labels}、{NOT_IMPORTED}")
    return out


def headers_to_letters(by_header: dict[str, str], header: HeaderMatch) -> dict[str, str]:
    """{header text: key} (a command line's --map) → {letter: key} for this file; ValueError for a header not in it."""
    out: dict[str, str] = {}
    for text, key in by_header.items():
        wanted = normalize_header(text)
        hits = [fc for fc in header.file_columns
                if wanted in (normalize_header(fc.header), normalize_header(fc.header.rpartition("/")[2]))
                or wanted == normalize_header(fc.letter)]
        if not hits:
            shown = "、".join(f"{fc.header}" for fc in header.file_columns)
            raise ValueError(f"--map 中的表头“{text}”不在文件的表头中（{shown}）")
        out[hits[0].letter] = key
    return out


def describe_mapping(header: HeaderMatch) -> list[str]:
    """One line per column: "C 上级机构代码 → 上级单位（近似写法）", for a command line to print."""
    lines = []
    for fc in header.file_columns:
        d = fc.to_json(header.columns)
        how = f"（{d['how_label']}）" if fc.key else ""
        hidden = "（隐藏列）" if fc.hidden else ""
        lines.append(f"{fc.letter} {fc.header}{hidden} → {d['label']}{how}")
    return lines


@dataclass
class Table:
    """A sheet read against a set of columns: the header found and the non-blank data rows."""

    sheet: str
    header: HeaderMatch
    records: list[Record]

    @property
    def cell_errors(self) -> list[CellError]:
        return [e for r in self.records for e in r.errors]


SavedLookup = Callable[[str], "tuple[str, dict[str, str]] | None"]


def locate_header(
    wb: Workbook, columns: Sequence[Column], *, sheet: str | None = None, mapping: dict[str, str] | None = None,
    saved: SavedLookup | None = None,
) -> tuple[Sheet, HeaderMatch]:
    """The sheet holding the table and its header: `sheet` when given, else the sheet whose header has every
    required column and matches the most (the first on a tie). A mapping applies to that sheet; without one, a
    mapping saved for the same headers (`saved(signature) → (name, mapping)`) is applied.

    Raises `HeaderError` (with the best header found) when no sheet has every required column."""
    if sheet and sheet not in wb.sheetnames:
        raise XlsxError(f"文件中没有名为“{sheet}”的工作表。")
    names = [sheet] if sheet else wb.sheetnames
    best: tuple[int, Sheet, HeaderMatch] | None = None
    first_error: XlsxError | None = None
    incomplete: tuple[Sheet, HeaderMatch] | None = None
    for name in names:
        found = wb[name]
        head = found.head()
        kwargs: dict[str, Any] = {"merged": found.merged_ranges(), "hidden": found.hidden_columns()}
        try:
            header = find_header(head, columns, strict=False, **kwargs)
        except XlsxError as exc:
            first_error = first_error or exc
            continue
        if mapping is None and saved is not None and (hit := saved(header.signature)):
            header = find_header(head, columns, strict=False, mapping=hit[1], how=BY_SAVED, **kwargs)
            header.mapping_name = hit[0]
        elif mapping:
            header = find_header(head, columns, strict=False, mapping=mapping, **kwargs)
        if header.missing:
            incomplete = incomplete or (found, header)
            continue
        score = len(header.index)
        if best is None or score > best[0]:
            best = (score, found, header)
    if best is not None:
        return best[1], best[2]
    if incomplete is not None:
        found, header = incomplete
        raise HeaderError(header.missing_message(), header, found.title)
    assert first_error is not None
    raise first_error


def read_table(
    file: Any, columns: Sequence[Column], *, sheet: str | None = None, mapping: dict[str, str] | None = None,
    saved: SavedLookup | None = None, progress: ProgressFn | None = None,
) -> Table:
    """Open `file` and read the sheet `locate_header` finds (only the columns up to the last one the header names).

    `progress(done, total)` is called now and then while rows are read (total from the sheet's dimension)."""
    with open_workbook(file) as wb:
        found, header = locate_header(wb, columns, sheet=sheet, mapping=mapping, saved=saved)
        rows = found.data_rows(header, progress)
        return Table(sheet=found.title, header=header, records=list(header.records(rows)))


__all__ = [
    "CellError",
    "Column",
    "FileColumn",
    "HeaderError",
    "describe_mapping",
    "halfwidth",
    "header_signature",
    "headers_to_letters",
    "locate_header",
    "parse_mapping_args",
    "FormulaWithoutValue",
    "HeaderMatch",
    "MergedRange",
    "Record",
    "Sheet",
    "Table",
    "Workbook",
    "XlsxError",
    "cell_text",
    "count_rows",
    "find_header",
    "normalize_header",
    "open_workbook",
    "parse_date",
    "read_table",
    "split_multi",
]
