"""Reading untidy Excel (.xlsx) files safely: the one toolkit behind every import (rosters, ledgers, catalogues).

What real files bring and how it is handled here:
- not an .xlsx at all (an .xls, a renamed CSV, a Word file), oversized uploads and zip bombs are refused before
  openpyxl parses anything (openpyxl itself has no guard against decompression bombs);
- a title row above the header, header wording that varies by office: `find_header` scans the first rows for the
  row that matches the most known aliases;
- formulas: values come from the cached results Excel/WPS store; a formula saved without one is reported as an
  error on its row and column instead of silently reading as blank;
- numbers stored as text, floats for whole numbers, stray full-width spaces: `cell_text`.

Typical use::

    table = read_table(upload, COLUMNS)
    for record in table.records:
        code = record.text("code")
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import openpyxl
from django.conf import settings
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

HEADER_SCAN_ROWS = 15
ProgressFn = Callable[[int, int], None]
NOT_XLSX = "文件不是有效的 Excel（.xlsx）文件，请在 Excel 或 WPS 中另存为 .xlsx 格式后重新上传。"
FORMULA_WITHOUT_VALUE = "公式没有计算结果，请在 Excel 或 WPS 中打开并保存后重新上传，或改为直接填写数值"


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


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _check_archive(data: bytes) -> bool:
    """Refuse what is not an .xlsx or would expand too far; return whether any worksheet holds a formula."""
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
        has_formula = False
        for info in infos:
            if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                try:
                    if _FORMULA_TAG.search(zf.read(info)):
                        has_formula = True
                        break
                except (zipfile.BadZipFile, OSError, EOFError) as exc:
                    raise XlsxError(NOT_XLSX) from exc
    return has_formula


class Sheet:
    """One worksheet; rows come as tuples of values, formulas replaced by their cached results."""

    def __init__(self, values_ws: Any, formula_ws: Any | None) -> None:
        self._values = values_ws
        self._formulas = formula_ws

    @property
    def title(self) -> str:
        return str(self._values.title)

    @property
    def worksheet(self) -> Any:
        """The underlying openpyxl worksheet (cached values, not formulas)."""
        return self._values

    def iter_rows(self) -> Iterator[tuple[Any, ...]]:
        """Every row from row 1, blank rows included, so that position + 1 is the Excel row number.

        A formula cell without a cached result yields a `FormulaWithoutValue`.
        """
        # openpyxl yields a row for every row number from 1, gaps included, in both reading modes.
        values_rows = self._values.iter_rows(min_row=1, values_only=True)
        if self._formulas is None:
            yield from values_rows
            return
        formula_rows = self._formulas.iter_rows(min_row=1, values_only=True)
        for values, formulas in zip(values_rows, formula_rows, strict=False):
            if None not in values:
                yield values
                continue
            out = list(values)
            for i, value in enumerate(values):
                if value is None and i < len(formulas) and _is_formula(formulas[i]):
                    out[i] = FormulaWithoutValue(_formula_text(formulas[i]))
            yield tuple(out)

    def rows(self) -> list[tuple[Any, ...]]:
        return list(self.iter_rows())


def _is_formula(value: Any) -> bool:
    # A text cell reading "=…" has itself as its value, so only a blank value with a formula behind it counts.
    return isinstance(value, ArrayFormula | DataTableFormula) or (isinstance(value, str) and value.startswith("="))


def _formula_text(value: Any) -> str:
    return str(getattr(value, "text", None) or value)


class Workbook:
    """What `open_workbook` returns: the sheets of an .xlsx, read with formulas resolved."""

    def __init__(self, values_wb: Any, formula_wb: Any | None) -> None:
        self._values = values_wb
        self._formulas = formula_wb
        self.has_formulas = formula_wb is not None

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
        fws = self._formulas[name] if self._formulas is not None else None
        return Sheet(self._values[name], fws)

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

    Raises `XlsxError` (Chinese message) for a file that is not an .xlsx, too large, or a zip bomb.
    The workbook is loaded as written (formulas as formulas); only when formulas are present is a second,
    data_only copy loaded to read the values Excel cached for them.
    """
    data = _read_bytes(file)
    has_formula = _check_archive(data)
    try:
        formulas = openpyxl.load_workbook(io.BytesIO(data), read_only=read_only, data_only=False)
        values = openpyxl.load_workbook(io.BytesIO(data), read_only=read_only, data_only=True) if has_formula else None
    except XlsxError:
        raise
    except Exception as exc:  # openpyxl raises a zoo of exceptions on malformed files
        raise XlsxError(NOT_XLSX) from exc
    if values is None:
        return Workbook(formulas, None)
    return Workbook(values, formulas)


def count_rows(file: Any) -> int:
    """The number of rows in the first worksheet (from its dimension when the file declares one)."""
    with open_workbook(file) as wb:
        ws = wb.worksheets[0].worksheet
        max_row = getattr(ws, "max_row", None)
        if isinstance(max_row, int) and max_row > 0:
            return max_row
        return sum(1 for _ in ws.iter_rows())


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


_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")


def parse_date(value: Any) -> dt.date | None:
    """A date from a cell: date/datetime objects, Excel serial numbers, or text such as 2022-06-30,
    2022年6月30日, 2022.6.30, 2022/06/30. Blank gives None; anything else raises ValueError (Chinese message)."""
    if value is None or isinstance(value, FormulaWithoutValue):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_serial(value)
    text = cell_text(value)
    if not text:
        return None
    m = _DATE_RE.match(text)
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError as exc:
            raise ValueError(f"日期“{text}”不存在") from exc
    if re.fullmatch(r"\d{8}", text):
        try:
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError as exc:
            raise ValueError(f"日期“{text}”不存在") from exc
    if re.fullmatch(r"\d{5}(?:\.0+)?", text):
        return _from_serial(float(text))
    raise ValueError(f"无法识别的日期“{text}”，请写成 2022-06-30 或 2022年6月30日")


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
# Header detection


@dataclass(frozen=True)
class Column:
    """One column an import understands: `key` in code, `label` shown in messages, `aliases` seen in real files."""

    key: str
    label: str
    aliases: tuple[str, ...]
    required: bool = False

    def names(self) -> tuple[str, ...]:
        return (self.label, *self.aliases)


_HEADER_JUNK = re.compile(r"[\s\u3000\xa0*＊()（）【】\[\]]")
_BRACKETED = re.compile(r"[（(【\[][^）)】\]]*[）)】\]]")


def normalize_header(text: Any) -> str:
    """Header text for comparison: no whitespace, asterisks, brackets or trailing colon; case-folded."""
    s = _HEADER_JUNK.sub("", cell_text(text))
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
class HeaderMatch:
    row: int  # Excel row number of the header
    index: dict[str, int]  # key → 0-based column index
    letters: dict[str, str]  # key → column letter ("A", "B", …)
    headers: dict[str, str]  # key → the header text as written in the file
    columns: dict[str, Column] = field(default_factory=dict)

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


def find_header(rows: Sequence[Sequence[Any]], columns: Sequence[Column]) -> HeaderMatch:
    """Find the header among the first rows: the row matching the most column names.

    Raises `XlsxError` naming every required column that is missing, in Chinese.
    """
    wanted: list[tuple[Column, list[str]]] = [(c, [normalize_header(n) for n in c.names()]) for c in columns]
    best: tuple[int, int, dict[str, int], dict[str, str]] | None = None  # (score, row_no, index, headers)
    for row_no, row in enumerate(rows[:HEADER_SCAN_ROWS], start=1):
        index: dict[str, int] = {}
        rank: dict[str, int] = {}
        headers: dict[str, str] = {}
        for ci, value in enumerate(row):
            forms = _header_forms(value)
            if not forms:
                continue
            for col, names in wanted:
                for pos, name in enumerate(names):
                    # The label and earlier aliases win when a file has two columns for one key.
                    if name in forms and pos < rank.get(col.key, len(names) + 1):
                        index[col.key], rank[col.key], headers[col.key] = ci, pos, cell_text(value)
                        break
        score = len(index)
        if score and (best is None or score > best[0]):
            best = (score, row_no, index, headers)
    required = [c for c in columns if c.required]
    if best is None:
        sample = "」「".join(c.label for c in (required or list(columns))[:3])
        raise XlsxError(
            f"未找到表头：前 {HEADER_SCAN_ROWS} 行中没有可识别的列名（如「{sample}」），请检查是否选错了文件或工作表。"
        )
    _, row_no, index, headers = best
    missing = [c for c in required if c.key not in index]
    if missing:
        parts = [f"「{c.label}」（可用列名：{'、'.join(dict.fromkeys(c.names()))}）" for c in missing]
        raise XlsxError(f"第{row_no}行表头缺少必需的列：{'；'.join(parts)}")
    return HeaderMatch(
        row=row_no,
        index=index,
        letters={k: get_column_letter(i + 1) for k, i in index.items()},
        headers=headers,
        columns={c.key: c for c in columns},
    )


@dataclass
class Table:
    """A sheet read against a set of columns: the header found and the non-blank data rows."""

    sheet: str
    header: HeaderMatch
    records: list[Record]

    @property
    def cell_errors(self) -> list[CellError]:
        return [e for r in self.records for e in r.errors]


def read_table(
    file: Any, columns: Sequence[Column], *, sheet: str | None = None, progress: ProgressFn | None = None
) -> Table:
    """Open `file` and read the first worksheet (or `sheet`) whose header has every required column.

    `progress(done, total)` is called now and then while rows are read (total from the sheet's dimension).
    """
    with open_workbook(file) as wb:
        names = [sheet] if sheet else wb.sheetnames
        first_error: XlsxError | None = None
        for name in names:
            if name not in wb.sheetnames:
                raise XlsxError(f"文件中没有名为“{name}”的工作表。")
            rows = _read_rows(wb[name], progress)
            try:
                header = find_header(rows, columns)
            except XlsxError as exc:
                first_error = first_error or exc
                continue
            return Table(sheet=name, header=header, records=list(header.records(rows)))
    assert first_error is not None
    raise first_error


def _read_rows(sheet: Sheet, progress: ProgressFn | None) -> list[tuple[Any, ...]]:
    if progress is None:
        return sheet.rows()
    declared = getattr(sheet.worksheet, "max_row", None)
    total = declared if isinstance(declared, int) and declared > 0 else 0
    rows: list[tuple[Any, ...]] = []
    for row in sheet.iter_rows():
        rows.append(row)
        if len(rows) % 500 == 0:
            progress(len(rows), max(total, len(rows)))
    progress(len(rows), len(rows))
    return rows


__all__ = [
    "CellError",
    "Column",
    "FormulaWithoutValue",
    "HeaderMatch",
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
