"""Opening an .xlsx safely and streaming its sheets: archive checks before openpyxl parses anything, bounded reads,
merged and hidden columns, formulas without a cached value."""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, NamedTuple

import openpyxl
from django.conf import settings
from openpyxl.utils import column_index_from_string
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

if TYPE_CHECKING:  # the header module builds on this one
    from .headers import HeaderMatch

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
