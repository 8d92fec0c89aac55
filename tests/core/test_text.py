"""Text that has to survive Excel and XML: control characters, the formula escape, Excel's cell limit, and the form
mixin that refuses what could not be exported."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django import forms
from django.core.exceptions import ValidationError
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from core.forms import CleanTextFormMixin
from core.text import (
    CUT_MARKER,
    EXCEL_CELL_MAX,
    ILLEGAL_XML_CHARS,
    TEXT_MAX,
    check_text,
    escape_formula,
    excel_text,
    illegal_chars,
    is_cut,
    strip_illegal,
)

CONTROL = "".join(chr(c) for c in range(32) if c not in (9, 10, 13))


def test_the_illegal_set_is_openpyxls():
    for code in range(0x3000):
        ch = chr(code)
        assert bool(ILLEGAL_XML_CHARS.match(ch)) == bool(ILLEGAL_CHARACTERS_RE.match(ch)), hex(code)


def test_illegal_chars_are_named_once_each_in_order():
    assert illegal_chars("整改\x1b措施\x01完成\x1b") == ["\\x1b", "\\x01"]
    assert illegal_chars("第一行\n第二行\t\r") == []


def test_check_text_names_the_field_and_the_characters():
    with pytest.raises(ValidationError) as exc:
        check_text("已完成\x01\x08", label="整改措施")
    assert exc.value.messages == ["「整改措施」含有不可见的控制字符（\\x01、\\x08），请删除后重新提交。"]
    with pytest.raises(ValidationError) as exc:
        check_text("字" * (TEXT_MAX + 1), label="问题描述")
    assert exc.value.messages == [
        f"「问题描述」不能超过 {TEXT_MAX} 个字（现为 {TEXT_MAX + 1} 个字），请精简后重新提交。"
    ]
    check_text("字" * TEXT_MAX + "\n\t", label="问题描述", max_length=None)
    check_text(None, label="x")
    check_text(42, label="x")


def test_strip_illegal_keeps_tabs_and_line_breaks():
    assert strip_illegal(f"甲{CONTROL}乙\t丙\r\n丁") == "甲乙\t丙\r\n丁"


def test_escape_formula():
    assert [escape_formula(v) for v in ("=SUM(A1)", "+1", "-1", "@x", "a=b", "", None, 5)] == [
        "'=SUM(A1)", "'+1", "'-1", "'@x", "a=b", "", None, 5
    ]


def test_excel_text_strips_then_escapes():
    assert excel_text("\x01=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert excel_text("整改\x1b完成") == "整改完成"
    assert excel_text(None) is None and excel_text(3) == 3


def test_excel_text_cuts_visibly_what_a_cell_cannot_hold():
    exact = "字" * EXCEL_CELL_MAX
    assert excel_text(exact) == exact and not is_cut(exact)

    cut = excel_text("字" * 40_000)
    assert len(cut) == EXCEL_CELL_MAX and cut.endswith(CUT_MARKER) and is_cut(cut)
    assert cut.startswith("字" * 1000)

    # Excel counts characters outside the BMP (rare CJK, emoji) twice
    astral = "𠀀" * 20_000
    cut = excel_text(astral)
    assert is_cut(cut) and len(cut.encode("utf-16-le")) // 2 <= EXCEL_CELL_MAX

    # an escaped formula still fits
    assert len(excel_text("=" + "1" * EXCEL_CELL_MAX)) == EXCEL_CELL_MAX


def test_whatever_excel_text_gives_openpyxl_writes_and_reads_back():
    wb = openpyxl.Workbook()
    texts = [f"甲{CONTROL}乙", "=1+1", "长" * 50_000]
    for i, text in enumerate(texts, start=1):
        wb.active.cell(row=i, column=1, value=excel_text(text))
    buffer = io.BytesIO()
    wb.save(buffer)
    ws = openpyxl.load_workbook(io.BytesIO(buffer.getvalue())).active
    assert [ws.cell(row=i, column=1).value for i in (1, 2)] == ["甲乙", "'=1+1"]
    assert is_cut(ws.cell(row=3, column=1).value)


# ---- the form mixin -------------------------------------------------------------------------------------------

class MeasureForm(CleanTextFormMixin, forms.Form):
    content = forms.CharField(label="整改措施", widget=forms.Textarea)
    person = forms.CharField(label="责任人", required=False)
    note_text = forms.CharField(required=False)  # no label
    tags = forms.MultipleChoiceField(label="标签", required=False, choices=[("a", "甲"), ("b", "乙")])
    count = forms.IntegerField(label="数量", required=False)


def test_the_mixin_leaves_clean_text_alone():
    form = MeasureForm({"content": "建立首问负责制\n第二行\t缩进", "person": "李佳", "tags": ["a"], "count": "3"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["content"] == "建立首问负责制\n第二行\t缩进"


def test_the_mixin_puts_each_refusal_on_its_field():
    form = MeasureForm({"content": "建立\x1b制度", "person": "李\x01佳", "note_text": "x\x08", "count": "3"})
    assert not form.is_valid()
    assert form.errors["content"] == ["「整改措施」含有不可见的控制字符（\\x1b），请删除后重新提交。"]
    assert form.errors["person"] == ["「责任人」含有不可见的控制字符（\\x01），请删除后重新提交。"]
    assert form.errors["note_text"] == ["「此项」含有不可见的控制字符（\\x08），请删除后重新提交。"]
    assert "count" not in form.errors and form.cleaned_data["count"] == 3


def test_the_mixin_refuses_text_longer_than_an_export_keeps():
    form = MeasureForm({"content": "字" * (TEXT_MAX + 1)})
    assert not form.is_valid()
    assert form.errors["content"] == [
        f"「整改措施」不能超过 {TEXT_MAX} 个字（现为 {TEXT_MAX + 1} 个字），请精简后重新提交。"
    ]
    assert MeasureForm({"content": "字" * TEXT_MAX}).is_valid()
