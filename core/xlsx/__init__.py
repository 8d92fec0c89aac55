"""Reading untidy Excel (.xlsx) files safely: the one toolkit behind every import (rosters, ledgers, catalogues).

`workbook` opens and streams, `cells` reads values, `headers` finds the header and maps the columns.

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

from .cells import PARTIAL_END, PARTIAL_START, cell_text, halfwidth, parse_date, split_multi
from .headers import (
    NOT_IMPORTED,
    Column,
    FileColumn,
    HeaderError,
    HeaderMatch,
    Record,
    SavedLookup,
    Table,
    describe_mapping,
    find_header,
    header_signature,
    headers_to_letters,
    locate_header,
    normalize_header,
    parse_mapping_args,
    read_table,
)
from .workbook import (
    CellError,
    FormulaWithoutValue,
    MergedRange,
    Sheet,
    Workbook,
    XlsxError,
    count_rows,
    open_workbook,
)

__all__ = [
    "NOT_IMPORTED",
    "PARTIAL_END",
    "PARTIAL_START",
    "CellError",
    "Column",
    "FileColumn",
    "FormulaWithoutValue",
    "HeaderError",
    "HeaderMatch",
    "MergedRange",
    "Record",
    "SavedLookup",
    "Sheet",
    "Table",
    "Workbook",
    "XlsxError",
    "cell_text",
    "count_rows",
    "describe_mapping",
    "find_header",
    "halfwidth",
    "header_signature",
    "headers_to_letters",
    "locate_header",
    "normalize_header",
    "open_workbook",
    "parse_date",
    "parse_mapping_args",
    "read_table",
    "split_multi",
]
