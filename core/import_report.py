"""What a roster preview or import found, row by row; stored as JSON on the Job and shown to the admin."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import models

ProgressFn = Callable[[int, int], None]

NEW, CHANGED, UNCHANGED, CONFLICT, ERROR = "new", "changed", "unchanged", "conflict", "error"
STATUSES = (NEW, CHANGED, UNCHANGED, CONFLICT, ERROR)
# 冲突: a stale row (exported before the system changed it) that differs from the system; the system's value stays
# unless the user picks the file's.
STATUS_LABELS = {NEW: "新增", CHANGED: "更新", UNCHANGED: "未变", CONFLICT: "冲突", ERROR: "错误"}


def field_label(model: type[models.Model], name: str) -> str:
    """The verbose name of one of the model's own fields, as a change is labelled."""
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field), f"{model.__name__}.{name} is not a concrete field"
    return str(field.verbose_name)


@dataclass
class RowOutcome:
    row: int  # as Excel numbers it
    status: str  # one of STATUSES
    key: str  # unit code or username
    label: str  # unit name or person's name
    changes: dict[str, list[Any]] = field(default_factory=dict)  # Chinese field label → [old, new]
    errors: list[str] = field(default_factory=list)
    # What the file says that is not imported, and why (e.g. a state that only the workflow may change).
    notices: list[str] = field(default_factory=list)
    # {"id", "label", "system", "file", "taken"}: fields of a stale row that the system changed since.
    conflicts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass
class RosterReport:
    kind: str  # "units" | "users"
    rows: list[RowOutcome] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    # Units active in the system but absent from the roster (机构改革): {"id", "code", "name"}.
    missing: list[dict[str, Any]] = field(default_factory=list)
    # New accounts' one-time passwords, only after an import: {"username", "full_name", "password"}.
    initial_passwords: list[dict[str, str]] = field(default_factory=list)
    # Units deactivated by the import (chosen from `missing`): {"id", "code", "name"}.
    deactivated: list[dict[str, Any]] = field(default_factory=list)
    applied: bool = False  # True once the rows were written
    # The file's columns and the field each was matched to (`core.xlsx.FileColumn.to_json`), in file order.
    columns: list[dict[str, Any]] = field(default_factory=list)
    sheet: str = ""
    header_row: int = 0
    signature: str = ""  # the header's (`core.xlsx.header_signature`), to save and offer the mapping
    mapping_name: str = ""  # the saved mapping applied
    warnings: list[str] = field(default_factory=list)
    # What the user must confirm before the import: {"id", "message"}; `confirmed` lists the ids they confirmed.
    confirmations: list[dict[str, str]] = field(default_factory=list)
    # Words of the file that need a decision before anything is written (e.g. an unknown 问题来源).
    pending: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for r in self.rows:
            counts[r.status] += 1
        return counts

    @property
    def ok(self) -> bool:
        return not self.file_errors and not self.pending and not any(r.status == ERROR for r in self.rows)

    @property
    def errors(self) -> list[str]:
        return [*self.file_errors, *self.pending, *(e for r in self.rows for e in r.errors)]

    def summary_line(self) -> str:
        c = self.counts
        conflicts = f"，冲突 {c[CONFLICT]}" if c[CONFLICT] else ""
        return (f"新增 {c[NEW]}，更新 {c[CHANGED]}，未变 {c[UNCHANGED]}{conflicts}，"
                f"错误 {c[ERROR] + len(self.file_errors)}")

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rows": [asdict(r) for r in self.rows],
            "file_errors": list(self.file_errors),
            "missing": list(self.missing),
            "counts": self.counts,
            "initial_passwords": list(self.initial_passwords),
            "deactivated": list(self.deactivated),
            "applied": self.applied,
            "summary": self.summary_line(),
            "columns": list(self.columns),
            "sheet": self.sheet,
            "header_row": self.header_row,
            "signature": self.signature,
            "mapping_name": self.mapping_name,
            "warnings": list(self.warnings),
            "confirmations": list(self.confirmations),
            "pending": list(self.pending),
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> RosterReport:
        return cls(
            kind=d.get("kind", ""),
            rows=[RowOutcome(**r) for r in d.get("rows", [])],
            file_errors=list(d.get("file_errors", [])),
            missing=list(d.get("missing", [])),
            initial_passwords=list(d.get("initial_passwords", [])),
            deactivated=list(d.get("deactivated", [])),
            applied=bool(d.get("applied", False)),
            **cls._mapping_json(d),
        )

    @staticmethod
    def _mapping_json(d: dict[str, Any]) -> dict[str, Any]:
        return {
            "columns": list(d.get("columns", [])), "sheet": d.get("sheet", ""), "header_row": d.get("header_row", 0),
            "signature": d.get("signature", ""), "mapping_name": d.get("mapping_name", ""),
            "warnings": list(d.get("warnings", [])), "confirmations": list(d.get("confirmations", [])),
            "pending": list(d.get("pending", [])),
        }

    def take_header(self, header: Any, sheet: str) -> None:
        """Record the header found (a `core.xlsx.HeaderMatch`): the columns, their mapping and what to say of it."""
        self.columns = header.columns_json()
        self.sheet, self.header_row, self.signature = sheet, header.row, header.signature
        self.mapping_name = header.mapping_name
        self.warnings.extend(header.warnings())

    def take_reading(self, other: RosterReport) -> None:
        """What reading the file found (columns, mapping, warnings) onto this report, made by the planning."""
        for name in ("columns", "sheet", "header_row", "signature", "mapping_name"):
            setattr(self, name, getattr(other, name))
        self.warnings[:0] = other.warnings

    def unconfirmed(self, confirmed: Any) -> list[dict[str, str]]:
        """The confirmations asked for and not given; each also becomes a file error, so nothing is written."""
        left = [c for c in self.confirmations if c["id"] not in set(confirmed or ())]
        for c in left:
            self.file_errors.append(f"需要确认后才能导入：{c['message']}")
        return left


class Progress:
    """Maps the phases of an import (reading, checking, writing) onto one 0‥1000 scale for `progress(done, total)`."""

    SCALE = 1000

    def __init__(self, callback: ProgressFn | None) -> None:
        self._callback = callback
        self._start = 0.0
        self._span = 0.0

    def phase(self, start: float, end: float) -> ProgressFn | None:
        """A callback for one phase, covering [start, end] of the whole (fractions of 1)."""
        if self._callback is None:
            return None
        self._start, self._span = start, end - start
        self.report(0, 1)
        return self.report

    def report(self, done: int, total: int) -> None:
        if self._callback is None:
            return
        fraction = min(max(done / total, 0.0), 1.0) if total > 0 else 1.0
        self._callback(round((self._start + self._span * fraction) * self.SCALE), self.SCALE)

    def finish(self) -> None:
        if self._callback is not None:
            self._callback(self.SCALE, self.SCALE)


def file_label(file: Any) -> str:
    """「name.xlsx」 for audit notes, from a path or an uploaded file; "" when the file has no name."""
    name = os.path.basename(os.fspath(file)) if isinstance(file, str | os.PathLike) else getattr(file, "name", "")
    return f"「{os.path.basename(str(name))}」" if name else ""
