"""Text that has to survive Excel and XML: the one place for control characters, formula escaping and Excel's cell
limit.

- XML 1.0 has no way to write most control characters (\\x00-\\x08, \\x0b, \\x0c, \\x0e-\\x1f): openpyxl refuses a cell
  holding one, so a single pasted \\x1b would make every export that includes it fail. Forms refuse them
  (`check_text`, `core.forms.CleanTextFormMixin`); whatever is already stored is stripped on the way out
  (`excel_text`).
- Text that starts with = + - @ is written with a leading apostrophe so that no spreadsheet takes it for a formula
  (`escape_formula`); the imports strip it again (`unescape_formula`). Every Excel the site writes goes through
  `excel_text` (`core.exporting` does it for every django-import-export resource and every tablib xlsx).
- An Excel cell holds at most 32,767 characters. Longer text is cut and ends with `CUT_MARKER`, so that a reader can
  tell the cell is not the whole text and an import leaves the stored text alone (`is_cut`).
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError

# The same set as openpyxl's ILLEGAL_CHARACTERS_RE: tab, line feed and carriage return are allowed.
ILLEGAL_XML_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
FORMULA_CHARS = "=+-@"
EXCEL_CELL_MAX = 32_767  # characters (UTF-16 code units) Excel keeps in one cell
CUT_MARKER = "…（超长已截断，全文见系统）"
# Longest text a form accepts: below EXCEL_CELL_MAX with room for the formula escape and CUT_MARKER, so that what
# is entered through the site always exports whole.
TEXT_MAX = 30_000


def illegal_chars(text: str) -> list[str]:
    """The control characters in `text` that XML cannot hold, once each, as they are written in code ("\\x01")."""
    seen = dict.fromkeys(ILLEGAL_XML_CHARS.findall(text))
    return [f"\\x{ord(ch):02x}" for ch in seen]


def check_text(value: Any, *, label: str, max_length: int | None = TEXT_MAX) -> None:
    """Refuse text holding a control character, or longer than `max_length`; other values pass.

    Raises `ValidationError` with Chinese messages naming the field by `label`.
    """
    if not isinstance(value, str):
        return
    errors = []
    bad = illegal_chars(value)
    if bad:
        errors.append(ValidationError(
            "「%(label)s」含有不可见的控制字符（%(chars)s），请删除后重新提交。",
            code="illegal_chars", params={"label": label, "chars": "、".join(bad)},
        ))
    if max_length is not None and len(value) > max_length:
        errors.append(ValidationError(
            "「%(label)s」不能超过 %(max)s 个字（现为 %(length)s 个字），请精简后重新提交。",
            code="too_long", params={"label": label, "max": max_length, "length": len(value)},
        ))
    if errors:
        raise ValidationError(errors)


def strip_illegal(text: str) -> str:
    """`text` without the control characters XML cannot hold."""
    return ILLEGAL_XML_CHARS.sub("", text)


def escape_formula(value: Any) -> Any:
    """Text that a spreadsheet would read as a formula gets a leading apostrophe; other values pass unchanged."""
    if isinstance(value, str) and value and value[0] in FORMULA_CHARS:
        return "'" + value
    return value


def unescape_formula(text: str) -> str:
    """Undo `escape_formula` on text read back from an export: a leading apostrophe before = + - @ goes."""
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_CHARS:
        return text[1:]
    return text


def _utf16_len(text: str) -> int:
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def excel_text(value: Any, *, limit: int = EXCEL_CELL_MAX) -> Any:
    """A value as it may be written to an Excel cell.

    Text loses the characters XML cannot hold, gets the formula escape, and, when longer than `limit` (counted as
    Excel counts, in UTF-16 code units), is cut and ends with `CUT_MARKER`. Numbers, dates and None pass unchanged.
    """
    if not isinstance(value, str):
        return value
    text = escape_formula(strip_illegal(value))
    if len(text) <= limit // 2 or _utf16_len(text) <= limit:
        return text
    room = limit - len(CUT_MARKER)
    kept: list[str] = []
    used = 0
    for ch in text:
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > room:
            break
        kept.append(ch)
    return "".join(kept) + CUT_MARKER


def is_cut(value: Any) -> bool:
    """Whether a cell read back from an export holds text that `excel_text` cut."""
    return isinstance(value, str) and value.rstrip().endswith(CUT_MARKER)


__all__ = [
    "CUT_MARKER",
    "EXCEL_CELL_MAX",
    "FORMULA_CHARS",
    "ILLEGAL_XML_CHARS",
    "TEXT_MAX",
    "check_text",
    "escape_formula",
    "excel_text",
    "illegal_chars",
    "is_cut",
    "strip_illegal",
    "unescape_formula",
]
