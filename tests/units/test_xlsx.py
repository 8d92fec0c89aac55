from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from core.xlsx import (
    CellError,
    Column,
    FormulaWithoutValue,
    XlsxError,
    cell_text,
    count_rows,
    find_header,
    open_workbook,
    parse_date,
    read_table,
    split_multi,
)

COLUMNS = [
    Column("code", "单位编码", ("统一社会信用代码", "机构代码"), required=True),
    Column("name", "单位名称", ("机构名称", "单位全称"), required=True),
    Column("parent", "上级单位", ("上级单位编码", "主管单位")),
]


def write_xlsx(path: Path, rows: list[list[object]], *, sheet: str = "Sheet1") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def add_cached_value(path: Path, value: str) -> None:
    """Give every formula in the first sheet a cached result, as Excel or WPS would when saving."""
    with zipfile.ZipFile(path) as zf:
        items = {i.filename: zf.read(i) for i in zf.infolist()}
    sheet = "xl/worksheets/sheet1.xml"
    items[sheet] = re.sub(rb"(<f>[^<]*</f>)(<v\s*/>|<v></v>)?", rb"\1<v>" + value.encode() + b"</v>", items[sheet])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in items.items():
            zf.writestr(name, data)


# cell values ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        (12.0, "12"),
        (12, "12"),
        (12.5, "12.5"),
        ("  0012 ", "0012"),  # a number stored as text keeps its leading zeros
        ("\u3000县委办公室\u3000\n", "县委办公室"),
        ("\xa0A\xa0", "A"),
        (dt.datetime(2022, 6, 30), "2022-06-30"),  # noqa: DTZ001 (openpyxl reads Excel dates as naive)
        (dt.date(2022, 6, 30), "2022-06-30"),
        (FormulaWithoutValue("=A1"), ""),
    ],
)
def test_cell_text(value, expected):
    assert cell_text(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "2022-06-30", "2022年6月30日", "2022.6.30", "2022/06/30", " 2022 年 06 月 30 日 ", "20220630",
        dt.date(2022, 6, 30), dt.datetime(2022, 6, 30, 15, 0), 44742, 44742.0,  # noqa: DTZ001 (as openpyxl reads)
        "2022-06-30 00:00:00",
    ],
)
def test_parse_date_accepts_the_usual_spellings(value):
    assert parse_date(value) == dt.date(2022, 6, 30)


@pytest.mark.parametrize("value", [None, "", "  "])
def test_parse_date_blank_is_none(value):
    assert parse_date(value) is None


@pytest.mark.parametrize("value", ["长期坚持", "2022-02-30", "30/06/2022", "6月底", -5])
def test_parse_date_rejects_the_rest_in_chinese(value):
    with pytest.raises(ValueError, match="日期"):
        parse_date(value)


def test_split_multi():
    assert split_multi(" 作风办、联络员；领导, 其他 ，\n末项;") == ["作风办", "联络员", "领导", "其他", "末项"]
    assert split_multi(None) == []
    assert split_multi("单个") == ["单个"]


def test_cell_error_names_row_and_column():
    assert str(CellError(row=7, column="单位编码", message="不能为空")) == "第7行「单位编码」列：不能为空"


# header detection ----------------------------------------------------------------------------------------------


def test_find_header_below_a_title_row_with_aliases_and_untidy_text():
    rows = [
        ("示范县单位名册（2022年）", None, None, None),
        (None, None, None, None),
        ("序号", " 统一社会\n信用代码 ", "*机构名称：", "主管单位（编码）"),
        (1, "X", "Y", None),
    ]
    match = find_header(rows, COLUMNS)
    assert match.row == 3
    assert match.index == {"code": 1, "name": 2, "parent": 3}
    assert match.letters == {"code": "B", "name": "C", "parent": "D"}
    assert match.label("code") == "单位编码"


def test_find_header_prefers_the_label_when_two_columns_match_one_key():
    rows = [("单位全称", "单位名称", "单位编码")]
    assert find_header(rows, COLUMNS).index["name"] == 1


def test_find_header_names_the_missing_required_column():
    rows = [("单位名称", "上级单位"), ("县委", None)]
    with pytest.raises(XlsxError) as exc:
        find_header(rows, COLUMNS)
    assert "第1行" in str(exc.value)
    assert "「单位编码」" in str(exc.value)
    assert "统一社会信用代码" in str(exc.value)  # tells the admin which wordings would do


def test_find_header_without_any_known_column():
    with pytest.raises(XlsxError, match="未找到表头"):
        find_header([("a", "b"), ("c", "d")], COLUMNS)


def test_find_header_looks_only_at_the_first_rows():
    rows = [("说明",)] * 15 + [("单位编码", "单位名称")]
    with pytest.raises(XlsxError):
        find_header(rows, COLUMNS)


# opening files -------------------------------------------------------------------------------------------------


def test_read_table_numbers_rows_as_excel_does_and_skips_blank_rows(tmp_path):
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [["单位名册"], ["单位编码", "单位名称", "备注"], ["A1", "甲", "x"], [None, None, None], [],
         [None, None, "只有备注"], [1001, "乙", None]],
    )
    table = read_table(path, COLUMNS)
    assert table.header.row == 2
    assert [(r.row, r.text("code"), r.text("name")) for r in table.records] == [(3, "A1", "甲"), (7, "1001", "乙")]
    assert "备注" not in table.records[0].values


def test_read_table_uses_the_first_sheet_that_has_the_columns(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "填表说明"
    wb.active.append(["请按模板填写"])
    ws = wb.create_sheet("名册")
    ws.append(["单位编码", "单位名称"])
    ws.append(["A", "甲"])
    wb.save(tmp_path / "two.xlsx")
    table = read_table(tmp_path / "two.xlsx", COLUMNS)
    assert table.sheet == "名册"
    assert [r.text("code") for r in table.records] == ["A"]


def test_open_workbook_accepts_a_path_or_a_file_object(tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", [["单位编码", "单位名称"], ["A", "甲"]])
    with open_workbook(path) as wb:
        assert wb.active.rows()[1] == ("A", "甲")
    with open(path, "rb") as fh, open_workbook(fh) as wb:
        assert wb.active.rows()[1] == ("A", "甲")
    with open_workbook(io.BytesIO(path.read_bytes()), read_only=False) as wb:
        assert wb.sheetnames == ["Sheet1"]
    assert count_rows(path) == 2


def test_formula_without_cached_value_is_an_error_naming_row_and_column(tmp_path):
    path = write_xlsx(tmp_path / "f.xlsx", [["标题"], ["单位编码", "单位名称"], ["A", '=CONCAT("县","委")']])
    with open_workbook(path) as wb:
        assert wb.has_formulas
        assert isinstance(wb.active.rows()[2][1], FormulaWithoutValue)
    table = read_table(path, COLUMNS)
    assert [str(e) for e in table.cell_errors] == [
        "第3行「单位名称」列：公式没有计算结果，请在 Excel 或 WPS 中打开并保存后重新上传，或改为直接填写数值"
    ]


def test_formula_with_cached_value_reads_the_value(tmp_path):
    path = write_xlsx(tmp_path / "f.xlsx", [["单位编码", "单位名称"], ["A", '="县委"']])
    add_cached_value(path, "42")
    table = read_table(path, COLUMNS)
    assert table.cell_errors == []
    assert table.records[0].text("name") == "42"


@pytest.mark.parametrize(
    "content",
    [b"a,b\n1,2\n", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, b"PK\x03\x04 broken", b""],
    ids=["csv", "xls", "broken-zip", "empty"],
)
def test_not_an_xlsx(tmp_path, content):
    path = tmp_path / "x.xlsx"
    path.write_bytes(content)
    with pytest.raises(XlsxError, match=r"不是有效的 Excel（\.xlsx）文件"):
        open_workbook(path)


def test_a_zip_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "doc.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(XlsxError, match="不是有效的 Excel"):
        open_workbook(path)


def test_too_large(tmp_path, settings):
    path = write_xlsx(tmp_path / "a.xlsx", [["单位编码", "单位名称"], ["A", "甲"]])
    settings.XLSX_MAX_UPLOAD_BYTES = path.stat().st_size - 1
    with pytest.raises(XlsxError, match="文件过大"):
        open_workbook(path)
    with open(path, "rb") as fh, pytest.raises(XlsxError, match="文件过大"):
        open_workbook(fh)


def test_zip_bomb_is_refused_before_parsing(tmp_path, settings):
    path = write_xlsx(tmp_path / "a.xlsx", [["单位编码", "单位名称"]])
    # a highly compressible member: small on disk, large once expanded
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/media/padding.bin", b"\0" * 5_000_000)
    assert path.stat().st_size < 100_000
    settings.XLSX_MAX_UNZIPPED_BYTES = 1_000_000
    with pytest.raises(XlsxError, match="解压后超过"):
        open_workbook(path)
    settings.XLSX_MAX_UNZIPPED_BYTES = 10_000_000
    with open_workbook(path) as wb:
        assert wb.sheetnames == ["Sheet1"]
