"""Reading a 问题台账 .xlsx in either layout offices keep, into neutral records the importer plans from.

Layouts:
- one row per measure, the problem's cells merged down across its measures (or repeated on every row, or left
  blank below the first row);
- one row per problem, the measures numbered inside one cell (1.…；2.…；3.…), measure-level cells (时限, 进展,
  责任单位 …) either numbered the same way or meant for every measure.

Both can appear in one file; what decides is how many rows a problem spans. Title rows and 填报单位/填报日期
rows above the header are skipped; rows below the data without a problem or a measure (填表说明, 填报人 …) are
skipped with a warning. Nothing here touches the database: units, categories and sources are names as written.

A cell the export had to cut (longer than Excel allows; it ends with `core.text.CUT_MARKER`) is not carried: the
field reads as absent for that row, with a warning, so that re-importing an export never writes the cut text back.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from core.text import FORMULA_CHARS, is_cut
from core.xlsx import (
    PARTIAL_END,
    PARTIAL_START,
    CellError,
    FormulaWithoutValue,
    HeaderMatch,
    MergedRange,
    SavedLookup,
    cell_text,
    halfwidth,
    locate_header,
    open_workbook,
    parse_date,
    split_multi,
)

from .columns import (
    CLOSURE_WORDS,
    DEADLINE_IMMEDIATE,
    DEADLINE_LONG_TERM,
    LEDGER_COLUMNS,
    MEASURE_STATUS_WORDS,
    PROBLEM_KEYS,
    RECTIFICATION_TYPE_WORDS,
    closure_status_for,
    measure_status_for,
    rectification_type_for,
    words,
)

_FORMULA_WITHOUT_VALUE = "公式没有计算结果，请在 Excel 或 WPS 中打开并保存后重新上传，或改为直接填写内容"
_CUT = "内容在导出时超长被截断，未导入，保留系统中的全文。"
_CUT_WITHOUT_NUMBER = "内容在导出时超长被截断，且没有编号，无法确定对应的问题；请填写编号或完整的问题描述"


class _NotCarried:
    """Stands in for a cell whose text the export cut: the field reads as absent (blank text, None where optional)."""

    __slots__ = ()

    def __str__(self) -> str:
        return ""


NOT_CARRIED = _NotCarried()


def unescape(text: str) -> str:
    """Undo the export's formula escape: a leading apostrophe before = + - @ is not part of the text."""
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_CHARS:
        return text[1:]
    return text


def text_of(value: Any) -> str:
    """A cell as text, line breaks as \\n, the export's formula escape undone."""
    text = cell_text(value)
    if "\r" in text or "_x000D_" in text:
        text = text.replace("_x000D_", "").replace("\r\n", "\n").replace("\r", "\n")
    return unescape(text)


# ---- numbered items inside one cell ----------------------------------------------------------------------------

_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
_MARK = (
    r"(?:(?:^|(?<=[；;。\n\r]))[ \t\u3000]*(?:[（(][ \t]*(\d{1,2})[ \t]*[)）]|(\d{1,2})[ \t]*[.．、]<DIGIT>)"
    r"|[ \t\u3000]*([" + _CIRCLED + r"]))"
)
_ITEM_MARK = re.compile(_MARK.replace("<DIGIT>", r"(?!\d)"))  # "1.5万元" is not item 1
_ITEM_MARK_LOOSE = re.compile(_MARK.replace("<DIGIT>", ""))  # dates: "1.2022年6月30日；2.长期坚持"
_ITEM_TRIM = " \t\r\n\u3000；;，,"


def split_numbered(text: str, *, dates: bool = False) -> list[str] | None:
    """ "1.甲；2.乙；3.丙" → ["甲", "乙", "丙"]; None unless the cell starts at 1 and counts up to at least 2.
    With `dates`, an item may begin with a digit ("1.2022年6月30日")."""
    text = text.strip()
    marks = list((_ITEM_MARK_LOOSE if dates else _ITEM_MARK).finditer(text))
    if len(marks) < 2 or marks[0].start() != 0:
        return None
    numbers = [int(m.group(1) or m.group(2)) if not m.group(3) else _CIRCLED.index(m.group(3)) + 1 for m in marks]
    if numbers != list(range(1, len(marks) + 1)):
        return None
    items = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        items.append(text[m.end() : end].strip(_ITEM_TRIM))
    return items


def _strip_single_mark(text: str) -> str:
    """ "1.建立台账" as the only item of a cell → "建立台账"."""
    m = _ITEM_MARK.match(text)
    if m and (m.group(1) or m.group(2) or m.group(3)) and int(m.group(1) or m.group(2) or 1) == 1:
        rest = text[m.end() :].strip(_ITEM_TRIM)
        if rest and not _ITEM_MARK.search(rest):
            return rest
    return text


# ---- cell values -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Deadline:
    date: dt.date | None = None
    long_term: bool = False
    immediate: bool = False  # 立行立改 written instead of a date
    invalid: bool = False  # unreadable; the error is on the record


_DEADLINE_TAIL = re.compile(r"(?:之前|以前|前|止)?(?:完成整改|整改到位|整改完毕|完成|办结)?$")


def _word_in(text: str, table: tuple[str, ...]) -> bool:
    plain = re.sub(r"[\s()（）]", "", text)
    return plain in table


def parse_deadline(value: Any) -> Deadline | None:
    """A 整改时限 cell: a date in any of the usual forms (or an Excel date), 长期坚持, or 立行立改.
    Blank gives None; anything else raises ValueError with a Chinese message."""
    if isinstance(value, dt.date | int | float) and not isinstance(value, bool):
        return Deadline(date=parse_date(value))
    text = halfwidth(text_of(value)).strip()
    if not text:
        return None
    if _word_in(text, DEADLINE_LONG_TERM):
        return Deadline(long_term=True)
    if _word_in(text, DEADLINE_IMMEDIATE):
        return Deadline(immediate=True)
    try:
        return Deadline(date=parse_date(_DEADLINE_TAIL.sub("", text).strip(), partial=PARTIAL_END))
    except ValueError as exc:
        raise ValueError(f"{exc}；也可填写“长期坚持”或“立行立改”") from exc


def parse_seq(value: Any) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer() and value > 0:
        return int(value)
    text = halfwidth(text_of(value)).strip()
    if re.fullmatch(r"\d{1,6}", text) and int(text) > 0:
        return int(text)
    raise ValueError(f"序号“{text}”不是正整数")


# ---- records ---------------------------------------------------------------------------------------------------

@dataclass
class MeasureRecord:
    row: int
    content: str
    units: list[str]  # as written; empty: the problem's lead unit
    person: str | None  # None: no such column
    deadline: Deadline | None  # None: blank or no such column
    progress: str | None
    status: str | None  # MeasureStatus value; None: blank or no such column


@dataclass
class ProblemRecord:
    row: int  # the problem's first Excel row
    last_row: int
    seq: int | None
    number: str
    source_number: str | None  # None: no 原编号 column
    description: str
    summary: str | None  # None wherever the file has no such column
    source: str | None
    category: str | None
    discovered_on: dt.date | None
    found_by: list[str] | None
    rectification_type: str | None  # RectificationType value; "" blank
    responsible_leader: str | None
    lead_units: list[str] | None
    co_units: list[str] | None
    closure_given: bool  # a 销号情况 word was written
    closure: str | None  # ProblemStatus value, or None for "open"
    status_word: str | None  # the problem row's 整改状态 as written (for messages)
    deadline: Deadline | None = None  # the row's 整改时限 when it lists no measure
    measures: list[MeasureRecord] = field(default_factory=list)
    measures_cell: str | None = None  # the unsplit cell when the measures came numbered in one cell
    errors: list[CellError] = field(default_factory=list)


@dataclass
class LedgerSheet:
    sheet: str
    header: HeaderMatch
    title: str
    problems: list[ProblemRecord]
    warnings: list[str]

    def has(self, key: str) -> bool:
        return self.header.has(key)

    def column(self, key: str) -> str:
        """The column's header as the file writes it (for messages)."""
        return self.header.headers.get(key) or self.header.label(key)


# ---- reading ---------------------------------------------------------------------------------------------------

def _fill_merged(ranges: list[MergedRange], rows: list[list[Any]]) -> None:
    """Give every cell of a vertical merge the merge's value, so a problem's cells read the same on each row."""
    for rng in ranges:
        if rng.max_row <= rng.min_row:
            continue
        col = rng.min_col - 1
        top = rows[rng.min_row - 1] if rng.min_row - 1 < len(rows) else None
        value = top[col] if top is not None and col < len(top) else None
        for r in range(rng.min_row, min(rng.max_row, len(rows))):
            row = rows[r]
            if col < len(row):
                row[col] = value


_NOT_TITLE = re.compile(r"^(填报|报送|制表|填表|单位|日期|时间|联系人|附件|附表)")


def _title(rows: list[list[Any]], header_row: int) -> str:
    for row in rows[: header_row - 1]:
        texts = [cell_text(v) for v in row if cell_text(v)]
        if texts and not _NOT_TITLE.match(texts[0]):
            return texts[0]
    return ""


def read_ledger(
    file: Any, *, mapping: dict[str, str] | None = None, sheet: str | None = None, saved: SavedLookup | None = None,
) -> LedgerSheet:
    """Open an .xlsx and read the sheet holding the ledger (`core.xlsx.locate_header`: the best header among the
    sheets, or `sheet`), with the user's column `mapping` or one `saved` for its headers.

    Raises XlsxError (Chinese); a `HeaderError` carries the header found, for the preview's column mapping."""
    with open_workbook(file) as wb:
        found, header = locate_header(wb, LEDGER_COLUMNS, sheet=sheet, mapping=mapping, saved=saved)
        if header.has("measure_unit") and header.index["measure_unit"] == header.index.get("lead_unit"):
            # One 责任单位 column serves as the lead unit; the measures take the lead unit too.
            for d in (header.index, header.letters, header.headers):
                d.pop("measure_unit", None)
        for key in [k for k, c in header.columns.items() if not c.read and k in header.index]:
            for d in (header.index, header.letters, header.headers):
                d.pop(key, None)  # shown in the mapping, never read
        rows = [list(r) for r in found.iter_data(header)]
        _fill_merged(found.merged_ranges(), rows)
        return _Reader(found.title, header, rows).read()


_HEADING = re.compile(r"^[一二三四五六七八九十]+[、.．]")  # 一、政治责任方面: a heading between problems
_CONTENT_KEYS = (
    "description", "summary", "number", "source_number", "measures", "lead_unit", "measure_unit", "deadline",
    "progress",
)
_IDENTITY_KEYS = ("seq", "number", "source_number", "description")


class _Reader:
    def __init__(self, sheet: str, header: HeaderMatch, rows: list[list[Any]]) -> None:
        self.sheet, self.header, self.rows = sheet, header, rows
        self.warnings: list[str] = []

    def column(self, key: str) -> str:
        return self.header.headers.get(key) or self.header.label(key)

    def err(self, row: int, key: str, message: str) -> CellError:
        return CellError(row=row, column=self.column(key), message=message)

    def read(self) -> LedgerSheet:
        groups: list[list[tuple[int, dict[str, Any]]]] = []
        for row_no, row in enumerate(self.rows[self.header.row :], start=self.header.row + 1):
            values = {key: self.header.value(row, key) for key in self.header.index}
            for key, v in values.items():
                if is_cut(v):
                    values[key] = NOT_CARRIED
            texts = {k: ("" if isinstance(v, FormulaWithoutValue) else text_of(v)) for k, v in values.items()}
            given = {k: bool(t) or isinstance(values[k], FormulaWithoutValue | _NotCarried) for k, t in texts.items()}
            if not any(given.values()):
                continue
            filled = [t for t in texts.values() if t]
            if not any(given.get(k) for k in _CONTENT_KEYS) or (
                len(filled) == 1 and not any(isinstance(v, _NotCarried) for v in values.values())
                and _HEADING.match(filled[0])
            ):
                shown = next((t for t in texts.values() if t), "")
                self.warnings.append(f"第{row_no}行没有问题描述和整改措施，已跳过（“{shown[:30]}”）。")
                continue
            ident = {k: texts.get(k, "") for k in _IDENTITY_KEYS}
            if groups:
                first = groups[-1][0][1]
                first_ident = {k: text_of(first.get(k)) for k in _IDENTITY_KEYS}
                if all(not ident[k] or ident[k] == first_ident[k] for k in _IDENTITY_KEYS):
                    groups[-1].append((row_no, values))
                    continue
            groups.append([(row_no, values)])
        problems = [self._problem(g) for g in groups]
        return LedgerSheet(
            sheet=self.sheet, header=self.header, title=_title(self.rows, self.header.first_row or self.header.row),
            problems=problems,
            warnings=self.warnings,
        )

    # ---- one problem -------------------------------------------------------------------------------------------

    def _opt_text(self, values: dict[str, Any], key: str) -> str | None:
        if not self.header.has(key) or isinstance(values.get(key), _NotCarried):
            return None
        return text_of(values.get(key))

    def _opt_units(self, values: dict[str, Any], key: str) -> list[str] | None:
        if not self.header.has(key) or isinstance(values.get(key), _NotCarried):
            return None
        return [unescape(u) for u in split_multi(values.get(key))]

    def _problem(self, group: list[tuple[int, dict[str, Any]]]) -> ProblemRecord:
        row, values = group[0]
        errors: list[CellError] = []
        measures_cut = False
        for i, (r, vals) in enumerate(group):
            for key, v in vals.items():
                if isinstance(v, FormulaWithoutValue):
                    errors.append(self.err(r, key, _FORMULA_WITHOUT_VALUE))
                elif isinstance(v, _NotCarried) and (i == 0 or key not in PROBLEM_KEYS):  # problem cells: row 1's
                    self.warnings.append(str(self.err(r, key, _CUT)))
                    measures_cut = measures_cut or key == "measures"
        seq = None
        if text_of(values.get("seq")):
            try:
                seq = parse_seq(values.get("seq"))
            except ValueError as exc:
                errors.append(self.err(row, "seq", str(exc)))
        discovered_on = None
        if self.header.has("discovered_on"):
            try:
                discovered_on = parse_date(values.get("discovered_on"), partial=PARTIAL_START)
            except ValueError as exc:
                errors.append(self.err(row, "discovered_on", str(exc)))
        rtype: str | None = None
        if self.header.has("rectification_type"):
            word = text_of(values.get("rectification_type"))
            rtype = ""
            if word:
                try:
                    rtype = rectification_type_for(word)
                except KeyError:
                    errors.append(self.err(
                        row, "rectification_type",
                        f"无法识别的整改类型“{word}”，可填：{words(RECTIFICATION_TYPE_WORDS)}",  # type: ignore[arg-type]
                    ))
        closure_word = text_of(values.get("closure"))
        closure = None
        if closure_word:
            try:
                closure = closure_status_for(closure_word)
            except KeyError:
                errors.append(self.err(
                    row, "closure", f"无法识别的销号情况“{closure_word}”，可填：{words(CLOSURE_WORDS)}"  # type: ignore[arg-type]
                ))
        description = text_of(values.get("description"))
        summary = self._opt_text(values, "summary")
        if isinstance(values.get("description"), _NotCarried):
            if not text_of(values.get("number")):
                errors.append(self.err(row, "description", _CUT_WITHOUT_NUMBER))
        elif not description and not summary:
            errors.append(self.err(row, "description", "问题描述为空"))
        record = ProblemRecord(
            row=row, last_row=group[-1][0], seq=seq, number=text_of(values.get("number")),
            source_number=self._opt_text(values, "source_number"),
            description=description, summary=summary,
            source=self._opt_text(values, "source"), category=self._opt_text(values, "category"),
            discovered_on=discovered_on, found_by=self._opt_units(values, "found_by"),
            rectification_type=rtype, responsible_leader=self._opt_text(values, "responsible_leader"),
            lead_units=self._opt_units(values, "lead_unit"), co_units=self._opt_units(values, "co_units"),
            closure_given=bool(closure_word), closure=closure,
            status_word=self._opt_text(values, "status"), errors=errors,
        )
        if measures_cut:
            # Measures are told apart by their content: with one of them unknown, none can be matched safely.
            self.warnings.append(f"第{row}行：有整改措施在导出时超长被截断，本问题的整改措施均未导入，保留系统中的内容。")
        elif len(group) == 1:
            self._measures_in_one_row(record, values)
        else:
            for r, vals in group:
                self._measure_row(record, r, vals)
        if not record.measures and not measures_cut and self.header.has("deadline"):
            record.deadline = self._deadline(record, row, values.get("deadline"))
        unique = {str(e): e for e in record.errors}  # a bad cell meant for every measure is reported once
        record.errors = list(unique.values())
        return record

    def _status(self, record: ProblemRecord, row: int, value: Any) -> str | None:
        word = text_of(value)
        if not word:
            return None
        try:
            return measure_status_for(word)
        except KeyError:
            record.errors.append(self.err(
                row, "status", f"无法识别的整改状态“{word}”，可填：{words(MEASURE_STATUS_WORDS)}"  # type: ignore[arg-type]
            ))
            return None

    def _deadline(self, record: ProblemRecord, row: int, value: Any) -> Deadline | None:
        try:
            return parse_deadline(value)
        except ValueError as exc:
            record.errors.append(self.err(row, "deadline", str(exc)))
            return Deadline(invalid=True)

    def _measure_row(self, record: ProblemRecord, row: int, values: dict[str, Any]) -> None:
        content = text_of(values.get("measures"))
        if not content:
            if any(text_of(values.get(k)) for k in ("measure_unit", "deadline", "progress")):
                record.errors.append(self.err(row, "measures", "整改措施为空"))
            return
        record.measures.append(MeasureRecord(
            row=row, content=content,
            units=[unescape(u) for u in split_multi(values.get("measure_unit"))],
            person=self._opt_text(values, "responsible_person"),
            deadline=self._deadline(record, row, values.get("deadline")),
            progress=self._opt_text(values, "progress"),
            status=self._status(record, row, values.get("status")),
        ))

    def _measures_in_one_row(self, record: ProblemRecord, values: dict[str, Any]) -> None:
        row = record.row
        cell = text_of(values.get("measures"))
        items = split_numbered(cell) if cell else None
        if items is None:
            if cell:  # a problem row without measures keeps its 整改时限 for the problem itself
                self._measure_row(record, row, {**values, "measures": _strip_single_mark(cell)})
            return
        record.measures_cell = cell
        n = len(items)

        def per_item(key: str, *, plain_split: bool = False) -> list[Any]:
            """The cell's own numbered items when it has exactly n of them; otherwise the whole cell for each."""
            value = values.get(key)
            if isinstance(value, dt.date | int | float):
                return [value] * n
            text = text_of(value)
            parts: list[Any] | None = split_numbered(text, dates=plain_split) if text else None
            if parts is None and plain_split and text:
                plain = [p for p in re.split(r"[；;\n\r]+", text) if p.strip()]
                parts = plain if len(plain) == n else None
            return parts if parts is not None and len(parts) == n else [value] * n

        unit_cells = per_item("measure_unit")
        unit_lists = [split_multi(u) for u in unit_cells]
        whole = split_multi(values.get("measure_unit"))
        if unit_cells and all(c is values.get("measure_unit") for c in unit_cells) and len(whole) == n > 1:
            unit_lists = [[u] for u in whole]  # "甲局、乙局" for two measures: one each
        persons = per_item("responsible_person")
        person_given = self.header.has("responsible_person") and not isinstance(
            values.get("responsible_person"), _NotCarried
        )
        deadlines = per_item("deadline", plain_split=True)
        statuses = per_item("status")
        progress_items = split_numbered(text_of(values.get("progress")) or "")
        if progress_items is None or len(progress_items) != n:
            whole_progress = text_of(values.get("progress"))
            progress_items = [whole_progress] + [""] * (n - 1)  # one 进展 for the problem: on its first measure
        for i, content in enumerate(items):
            if not content:
                record.errors.append(self.err(row, "measures", f"第{i + 1}项整改措施为空"))
                continue
            record.measures.append(MeasureRecord(
                row=row, content=content, units=[unescape(u) for u in unit_lists[i]],
                person=text_of(persons[i]) if person_given else None,
                deadline=self._deadline(record, row, deadlines[i]),
                progress=progress_items[i] if self.header.has("progress") else None,
                status=self._status(record, row, statuses[i]),
            ))


__all__ = [
    "FORMULA_CHARS",
    "NOT_CARRIED",
    "Deadline",
    "LedgerSheet",
    "MeasureRecord",
    "ProblemRecord",
    "parse_deadline",
    "read_ledger",
    "split_numbered",
    "text_of",
    "unescape",
]
