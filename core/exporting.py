"""Every Excel file the site writes passes its cells through one function, `core.text.excel_text`: text that starts
with = + - @ gets a leading apostrophe (no spreadsheet takes it for a formula), characters XML cannot hold are
dropped, overlong text is cut with a marker.

Two layers, so that no export can forget it:

- `ExportResource` / `ExportModelResource`: the django-import-export resources of the site derive from these; every
  cell and header of their Dataset is escaped, whatever format it is written in (Excel, CSV …).
- `SafeXLSXFormat`: tablib's "xlsx" format with the same escape on every cell, registered in place of tablib's own
  (`register_xlsx`, done when this module is imported), so that `dataset.export("xlsx")` escapes even a Dataset that
  no resource of ours built; `XLSX` is django-import-export's format on top of it for `EXPORT_FORMATS`.

Workbooks written cell by cell with openpyxl (the ledger export, the reports) call `excel_text` themselves, or
`write_text` below.
"""

from __future__ import annotations

from typing import Any

import tablib
from import_export import resources
from import_export.formats import base_formats
from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet
from tablib.formats import registry
from tablib.formats._xlsx import XLSXFormat

from core.text import excel_text


def escaped_dataset(dataset: tablib.Dataset) -> tablib.Dataset:
    """A copy of `dataset` with every header, cell and separator through `excel_text`; the original is unchanged."""
    headers = [excel_text(h) for h in dataset.headers] if dataset.headers else None
    out = tablib.Dataset(*[[excel_text(v) for v in row] for row in dataset], headers=headers, title=dataset.title)
    out._separators = [(index, excel_text(text)) for index, text in dataset._separators]
    return out


class SafeXLSXFormat(XLSXFormat):
    """tablib's xlsx writer, every cell escaped first. Reading is tablib's own."""

    @classmethod
    def export_set(cls, dataset: tablib.Dataset, *args: Any, **kwargs: Any) -> bytes:
        data: bytes = super().export_set(escaped_dataset(dataset), *args, **kwargs)
        return data

    @classmethod
    def export_book(cls, databook: tablib.Databook, *args: Any, **kwargs: Any) -> bytes:
        book = tablib.Databook([escaped_dataset(d) for d in databook.sheets()])
        data: bytes = super().export_book(book, *args, **kwargs)
        return data


def register_xlsx() -> None:
    """Make `Dataset.export("xlsx")` (and django-import-export's XLSX format, which calls it) escape every cell."""
    if not isinstance(registry.get_format("xlsx"), SafeXLSXFormat):
        registry.register("xlsx", SafeXLSXFormat())


class XLSX(base_formats.XLSX):
    """django-import-export's Excel format for `EXPORT_FORMATS`: the dataset is escaped before it is written."""

    def export_data(self, dataset: tablib.Dataset, **kwargs: Any) -> Any:
        return super().export_data(escaped_dataset(dataset), **kwargs)


class _Escaped:
    """Every exported cell and header through `excel_text`, whatever the field or its dehydrate method returns."""

    def export_field(self, field: Any, instance: Any, **kwargs: Any) -> Any:
        return excel_text(super().export_field(field, instance, **kwargs))  # type: ignore[misc]

    def get_export_headers(self, selected_fields: Any = None) -> list[Any]:
        headers = super().get_export_headers(selected_fields=selected_fields)  # type: ignore[misc]
        return [excel_text(h) for h in headers]


class ExportResource(_Escaped, resources.Resource):
    """The base of every plain (not model) resource the site exports."""


class ExportModelResource(_Escaped, resources.ModelResource):
    """The base of every model resource the site exports."""


def xlsx_bytes(dataset: tablib.Dataset, *, title: str | None = None) -> bytes:
    """A Dataset as an .xlsx file, every cell escaped."""
    if title is not None:
        dataset.title = title
    data: bytes = SafeXLSXFormat.export_set(dataset)
    return data


def write_text(ws: Worksheet, *, row: int, column: int, value: Any) -> Cell:
    """Write one cell of an openpyxl sheet through `excel_text`; text stays text (never a formula)."""
    cell = ws.cell(row=row, column=column, value=excel_text(value))
    if isinstance(cell.value, str):
        cell.data_type = "s"
    return cell


register_xlsx()

__all__ = [
    "XLSX",
    "ExportModelResource",
    "ExportResource",
    "SafeXLSXFormat",
    "escaped_dataset",
    "register_xlsx",
    "write_text",
    "xlsx_bytes",
]
