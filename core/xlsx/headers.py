"""Finding the header row and matching the file's columns to the fields of an import (aliases, similar wordings, an
admin's mapping), and reading the records under it."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl.utils import get_column_letter

from .cells import cell_text, halfwidth
from .workbook import (
    FORMULA_WITHOUT_VALUE,
    HEADER_SCAN_ROWS,
    CellError,
    FormulaWithoutValue,
    MergedRange,
    ProgressFn,
    Sheet,
    Workbook,
    XlsxError,
    open_workbook,
)


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
