"""Cell values as offices write them: text with stray spaces, full-width digits, dates in every form, lists."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from openpyxl.utils.datetime import from_excel

from .workbook import FormulaWithoutValue

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
