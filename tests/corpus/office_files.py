"""A corpus of office files: 单位名册, 人员名册 and 问题整改台账 as other counties keep them, each built with openpyxl
into a temporary folder, together with what importing it must produce.

Every builder takes the folder and returns the path of the .xlsx it wrote; the cells are the same on every run.
Each file is one office's layout: other header wordings, title and 填报单位/填报日期 rows above the header, group
headers merged across columns over a second header row, header cells merged down across both header rows, hidden
columns, numbers stored as text, full-width spaces and digits, the data on a second sheet, every way of writing a
date, one row per measure (problem cells merged down) and one row per problem (numbered measures "1.…；2.…").

The expectations (`UnitsCase`, `UsersCase`, `LedgerCase`) name units, people and problems as they must end up in
the system, not as the file writes them.

The unit trees of the units cases are each their own county. Users rosters and ledgers name the units of the shared
sample county (../shared/data/units_roster.xlsx), except `l09_resident_units`, which runs over `u09`'s county.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.worksheet.worksheet import Worksheet

from ledger.models import MeasureStatus, ProblemStatus
from units.models import Role, UnitKind
from units.validators import uscc_check_char

CAMPAIGN = "ZF2025"
TODAY = "today"  # an expected deadline: the import day (a measure written 立行立改)
# The key under which report.columns lists a column of the office's own problem numbers (Problem.source_number).
SOURCE_NUMBER_KEY = "source_number"
_CREATED = dt.datetime(2025, 3, 1, 9, 0)  # noqa: DTZ001  (document properties: the same on every run)
# Date cells written as a datetime at 00:00, as some offices' scripts and WPS write them (no time zone).
MIDNIGHT_MAR_1 = dt.datetime(2025, 3, 1, 0, 0)  # noqa: DTZ001
MIDNIGHT_DEC_31 = dt.datetime(2025, 12, 31, 0, 0)  # noqa: DTZ001

Builder = Callable[..., Path]


def uscc(n: int, prefix: str) -> str:
    """A valid 统一社会信用代码: `prefix` (8 characters) + a 9-digit number + the check character."""
    first17 = f"{prefix}{n:09d}"
    check = uscc_check_char(first17)
    assert check is not None, first17
    return first17 + check


# ---- writing helpers ------------------------------------------------------------------------------------------

def _workbook(title: str | None = None) -> tuple[openpyxl.Workbook, Worksheet]:
    wb = openpyxl.Workbook()
    wb.properties.creator = "作风办"
    wb.properties.created = _CREATED
    ws = wb.active
    assert ws is not None
    if title:
        ws.title = title
    return wb, ws


def _save(wb: openpyxl.Workbook, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _put(ws: Worksheet, row: int, values: Sequence[Any], *, col: int = 1) -> int:
    """Write one row of values from `col` (None leaves the cell empty); return the next row number."""
    for i, value in enumerate(values):
        if value is not None:
            ws.cell(row=row, column=col + i, value=value)
    return row + 1


def _rows(ws: Worksheet, row: int, rows: Iterable[Sequence[Any]]) -> int:
    for values in rows:
        row = _put(ws, row, values)
    return row


def _title(ws: Worksheet, row: int, text: str, width: int) -> int:
    ws.cell(row=row, column=1, value=text)
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
    return row + 1


def _measure_layout(
    ws: Worksheet, row: int, headers: Sequence[str],
    problems: Sequence[tuple[dict[str, Any], Sequence[dict[str, Any]]]], *, merge: bool = True,
) -> int:
    """One row per measure: the problem's cells on its first row, merged down across its measures (`merge`) or
    left blank below the first row. `headers` are the leaf headers, naming the columns of the dicts."""
    col = {h: i for i, h in enumerate(headers, start=1)}
    for problem, measures in problems:
        first = row
        for i, measure in enumerate(measures):
            values = {**problem, **measure} if i == 0 else dict(measure)
            for header, value in values.items():
                if value is not None:
                    ws.cell(row=row, column=col[header], value=value)
            row += 1
        if merge and row - first > 1:
            for header in problem:
                ws.merge_cells(start_row=first, start_column=col[header], end_row=row - 1, end_column=col[header])
    return row


def _instructions(wb: openpyxl.Workbook, title: str, lines: Sequence[str]) -> Worksheet:
    """A 填表说明 sheet, first in the workbook."""
    ws = wb.create_sheet(title, 0)
    ws.cell(row=1, column=1, value=title)
    for i, line in enumerate(lines, start=2):
        ws.cell(row=i, column=1, value=line)
    ws.merge_cells("A1:F1")
    return ws


# ---- expectations -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class UnitsCase:
    id: str
    build: Builder
    headers: tuple[str, ...]  # every header of the file, in column order ("group/sub" under a group header)
    columns: dict[str, str]  # header → the field key it must import as ("" not imported)
    count: int  # units in the file
    levels: int  # levels of the tree (the root is level 1)
    parents: dict[str, str | None]  # unit name → its parent's name (None: top level)
    codes: dict[str, str] = field(default_factory=dict)  # unit name → code ("": blank in the file, internal code)
    kinds: dict[str, str] = field(default_factory=dict)  # unit name → UnitKind value
    sort_orders: dict[str, int] = field(default_factory=dict)
    hidden: tuple[str, ...] = ()  # headers of hidden columns
    mapping: dict[str, str] | None = None  # column letter → field key, as the admin would choose
    note: str = ""


@dataclass(frozen=True)
class Person:
    full_name: str
    unit: str  # unit name
    phone: str = ""
    email: str = ""
    roles: frozenset[str] = frozenset()
    overseen: frozenset[str] = frozenset()  # unit names


@dataclass(frozen=True)
class UsersCase:
    id: str
    build: Builder
    headers: tuple[str, ...]
    columns: dict[str, str]
    people: dict[str, Person]  # login name → the account
    hidden: tuple[str, ...] = ()
    mapping: dict[str, str] | None = None
    note: str = ""


@dataclass(frozen=True)
class ExpectedMeasure:
    content: str
    deadline: dt.date | str | None  # TODAY for 立行立改; None with long_term
    long_term: bool = False
    unit: str | None = None  # None: the problem's lead unit
    progress: str = ""  # the measure's latest 整改进展 ("" none)
    status: str | None = None  # MeasureStatus value; None: not checked


@dataclass(frozen=True)
class ExpectedProblem:
    description: str
    lead: str
    measures: tuple[ExpectedMeasure, ...]
    number: str = ""  # the office's own number (原编号), kept as Problem.source_number
    source: str | None = None  # the campaign's source it must end up with
    # a catalogue category: its code (str); a category built from the file: (name, parent name or None)
    category: str | tuple[str, str | None] | None = None
    co_units: tuple[str, ...] | None = None
    status: str = ProblemStatus.IN_PROGRESS


@dataclass(frozen=True)
class LedgerCase:
    id: str
    build: Builder
    headers: tuple[str, ...]
    columns: dict[str, str]
    problems: tuple[ExpectedProblem, ...]
    hidden: tuple[str, ...] = ()
    county: str = "shared"  # the unit tree the ledger names: the shared sample county, or a units case id
    campaign_exists: bool = True  # False: the import creates the campaign
    catalogue: bool = False  # the campaign has the shared category catalogue (categories.xlsx) before the import
    sources: dict[str, str] = field(default_factory=dict)  # decisions: word → source name, "+" to add it
    categories: dict[str, str] = field(default_factory=dict)
    add_sources: bool = False
    add_categories: bool = False
    undecided_sources: frozenset[str] = frozenset()  # words left undecided when no decision is given
    known_sources: dict[str, str] = field(default_factory=dict)  # word → the source the synonym table gives
    undecided_categories: frozenset[str] = frozenset()
    new_categories: frozenset[tuple[str, str | None]] | None = None  # built from the file: (name, parent name)
    added_sources: frozenset[str] = frozenset()  # sources the import adds to the campaign
    mapping: dict[str, str] | None = None
    note: str = ""

    @property
    def measure_count(self) -> int:
        return sum(len(p.measures) for p in self.problems)

    def decisions(self) -> dict[str, Any]:
        return {
            "mapping": self.mapping, "sources": dict(self.sources) or None,
            "categories": dict(self.categories) or None, "add_sources": self.add_sources,
            "add_categories": self.add_categories,
        }


# =================================================================================================================
# 单位名册
# =================================================================================================================

# ---- u01: 青山县, parent by code under 「上级机构代码」 (the reported case) ---------------------------------------

_U01 = [
    ("青山县", "青山县", "其他", None),
    ("县委办公室", "县委办", "党委部门", "青山县"),
    ("县纪委监委机关", "纪委监委", "党委部门", "青山县"),
    ("县委组织部", "组织部", "党委部门", "青山县"),
    ("县委宣传部", "宣传部", "党委部门", "青山县"),
    ("县人民政府办公室", "政府办", "政府部门", "青山县"),
    ("县发展和改革局", "发改局", "政府部门", "青山县"),
    ("县教育局", "教育局", "政府部门", "青山县"),
    ("县财政局", "财政局", "政府部门", "青山县"),
    ("县自然资源和规划局", "自然资源局", "政府部门", "青山县"),
    ("县卫生健康局", "卫健局", "政府部门", "青山县"),
    ("城关镇", "城关镇", "乡镇", "青山县"),
    ("马湖乡", "马湖乡", "乡镇", "青山县"),
    ("县委督查室", "督查室", "党委部门", "县委办公室"),
    ("县委机要局", "机要局", "党委部门", "县委办公室"),
    ("县委保密办", "保密办", "党委部门", "县委办公室"),
    ("县第一中学", "一中", "事业单位", "县教育局"),
    ("县实验小学", "实验小学", "事业单位", "县教育局"),
    ("县教育局基础教育股", "基教股", "政府部门", "县教育局"),
    ("城关镇党政综合办公室", "党政办", "乡镇", "城关镇"),
    ("东街社区居委会", "东街社区", "乡镇", "城关镇"),
    ("西街社区居委会", "西街社区", "乡镇", "城关镇"),
    ("督查一科", "一科", "党委部门", "县委督查室"),
    ("督查二科", "二科", "党委部门", "县委督查室"),
]
_U01_CODES = {name: uscc(i, "11510801") for i, (name, *_rest) in enumerate(_U01, start=1)}


def u01_parent_org_code(tmp_path: Path) -> Path:
    wb, ws = _workbook("机构名册")
    row = _put(ws, 1, ["序号", "机构代码", "机构名称", "机构简称", "机构类型", "上级机构代码", "排序"])
    for i, (name, short, kind, parent) in enumerate(_U01, start=1):
        row = _put(ws, row, [i, _U01_CODES[name], name, short, kind, _U01_CODES[parent] if parent else None, i])
    return _save(wb, tmp_path / "u01_青山县机构名册.xlsx")


# ---- u02: 白水县, a title row and a 填报单位/填报日期 row above the header, parent by full name ----------------------

_U02 = [
    ("BS001", "白水县", None, "其他"),
    ("BS002", "县委办公室", "白水县", "党委部门"),
    ("BS003", "县人民政府办公室", "白水县", "政府部门"),
    ("BS004", "县公安局", "白水县", "政府部门"),
    ("BS005", "县民政局", "白水县", "政府部门"),
    ("BS006", "尧禾镇", "白水县", "乡镇"),
    ("BS007", "城关街道", "白水县", "街道"),
    ("BS008", "县公安局城关派出所", "县公安局", "政府部门"),
    ("BS009", "尧禾镇便民服务中心", "尧禾镇", "事业单位"),
    ("BS010", "城关街道和平社区", "城关街道", "街道"),
]


def u02_title_and_fill_rows(tmp_path: Path) -> Path:
    wb, ws = _workbook()
    row = _title(ws, 1, "白水县作风建设责任单位名册（2025年）", 5)
    row = _put(ws, row, ["填报单位：白水县作风办（盖章）", None, None, "填报日期：2025年3月1日"])
    row = _put(ws, row, ["单位代码", "单位名称", "上级单位", "单位类别", "排序号"])
    for i, (code, name, parent, kind) in enumerate(_U02, start=1):
        row = _put(ws, row, [code, name, parent, kind, i])
    return _save(wb, tmp_path / "u02_白水县单位名册.xlsx")


# ---- u03: 红岩县, two header rows: group headers merged across, 序号/主管单位 merged down -------------------------

_U03 = [
    ("红岩县", "其他", None, "", ""),
    ("县委办公室", "党委部门", "红岩县", "王芳", "13800000301"),
    ("县人民政府办公室", "政府部门", "红岩县", "李娜", "13800000302"),
    ("县交通运输局", "政府部门", "红岩县", "张伟", "13800000303"),
    ("县水利局", "政府部门", "红岩县", "刘洋", "13800000304"),
    ("红岩镇", "乡镇", "红岩县", "陈静", "13800000305"),
    ("县交通运输局公路管理所", "事业单位", "县交通运输局", "杨帆", "13800000306"),
    ("县水利局水政监察大队", "事业单位", "县水利局", "赵磊", "13800000307"),
    ("红岩镇综合文化站", "事业单位", "红岩镇", "周敏", "13800000308"),
]
_U03_CODES = {name: uscc(i, "11510802") for i, (name, *_rest) in enumerate(_U03, start=1)}


def u03_two_header_rows(tmp_path: Path) -> Path:
    wb, ws = _workbook()
    _title(ws, 1, "红岩县作风建设责任单位名册", 7)
    _put(ws, 2, ["序号", "单位基本情况", None, None, "主管单位", "联系人", None])
    _put(ws, 3, [None, "统一社会信用代码", "单位名称", "单位类别", None, "姓名", "联系电话"])
    for rng in ("A2:A3", "B2:D2", "E2:E3", "F2:G2"):
        ws.merge_cells(rng)
    row = 4
    for i, (name, kind, parent, contact, phone) in enumerate(_U03, start=1):
        row = _put(ws, row, [i, _U03_CODES[name], name, kind, parent, contact or None, phone or None])
    return _save(wb, tmp_path / "u03_红岩县单位名册.xlsx")


# ---- u04: 清河县, 组织机构代码 with leading zeros, a hidden helper column, parent code under 「隶属单位」 ------------

_U04 = [
    ("清河县", "其他", None),
    ("中共清河县委办公室", "县委工作机关", "清河县"),
    ("清河县人民政府办公室", "县政府工作部门", "清河县"),
    ("清河县农业农村局", "县政府工作部门", "清河县"),
    ("清河县林业局", "县政府工作部门", "清河县"),
    ("清河县农业技术推广中心", "事业单位", "清河县农业农村局"),
    ("清河县动物疫病预防控制中心", "事业单位", "清河县农业农村局"),
    ("清河县林业局国有林场", "事业单位", "清河县林业局"),
    ("清河县城关镇", "乡镇", "清河县"),
    ("清河县城关镇农业服务中心", "事业单位", "清河县城关镇"),
    ("清河县总工会", "群团组织", "清河县"),
]
_U04_CODES = {name: f"{412300 + i:08d}-{i % 10}" for i, (name, *_rest) in enumerate(_U04, start=1)}


def u04_hidden_column(tmp_path: Path) -> Path:
    wb, ws = _workbook("Sheet1")
    row = _put(ws, 1, ["序号", "组织机构代码", "单位全称", "辅助列", "隶属单位", "单位性质", "排序号"])
    for i, (name, kind, parent) in enumerate(_U04, start=1):
        row = _put(ws, row, [i, _U04_CODES[name], name, f"QH{i:03d}", _U04_CODES[parent] if parent else None,
                             kind, i])
    ws.column_dimensions["D"].hidden = True
    return _save(wb, tmp_path / "u04_清河县单位名册.xlsx")


# ---- u05: 石门县, codes with leading zeros stored as text, a code typed as a number, 序号/排序号 as text ---------

_U05: list[tuple[Any, str, Any, str]] = [
    ("0001", "石门县", None, "其他"),
    ("0101", "县委办公室", "0001", "党委部门"),
    ("0102", "县人民政府办公室", "0001", "政府部门"),
    ("0103", "县财政局", "0001", "政府部门"),
    ("0104", "县审计局", "0001", "政府部门"),
    (2001, "县国库集中支付中心", "0103", "事业单位"),  # typed as a number
    ("200101", "国库支付一科", 2001, "事业单位"),  # its parent typed as a number too
    ("010301", "县财政局预算股", "0103", "政府部门"),
    ("0105", "石门镇", "0001", "乡镇"),
    ("010501", "石门镇财政所", "0105", "乡镇"),
]


def u05_numbers_as_text(tmp_path: Path) -> Path:
    wb, ws = _workbook()
    row = _put(ws, 1, ["序号", "单位代码", "单位名称", "上级单位", "单位类型", "排序号"])
    for i, (code, name, parent, kind) in enumerate(_U05, start=1):
        row = _put(ws, row, [str(i), code, name, parent, kind, f"{i:02d}"])
    return _save(wb, tmp_path / "u05_石门县单位名册.xlsx")


# ---- u06: 龙溪县, full-width spaces around every value, full-width digits, three rows above the header ---------

_U06 = [
    ("LX01", "龙溪县", None, "其他"),
    ("LX02", "县委办公室", "龙溪县", "党委部门"),
    ("LX03", "县人民政府办公室", "龙溪县", "政府部门"),
    ("LX04", "县财政局", "龙溪县", "政府部门"),
    ("LX05", "县商务局", "龙溪县", "政府部门"),
    ("LX06", "龙溪镇", "龙溪县", "乡镇"),
    ("LX07", "县财政局国库股", "县财政局", "政府部门"),
    ("LX08", "龙溪镇党政办公室", "龙溪镇", "乡镇"),
]
_FULL_WIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")


def full_width(text: str) -> str:
    return text.translate(_FULL_WIDTH_DIGITS)


def u06_full_width(tmp_path: Path) -> Path:
    wb, ws = _workbook()
    row = _title(ws, 1, "龙溪县单位名册", 6)
    row = _put(ws, row, ["填报单位：龙溪县作风办"])
    row = _put(ws, row, [full_width("填报日期：2025年3月1日")])
    row = _put(ws, row, ["序号", "单位代码", "单位名称", "上级机构", "机构类型", "显示顺序"])
    for i, (code, name, parent, kind) in enumerate(_U06, start=1):
        row = _put(ws, row, [
            full_width(str(i)), f"\u3000{code}\u3000", f"\u3000{name}\u3000",
            f"{parent}\u3000" if parent else None, f"\u3000{kind}", full_width(str(i)),
        ])
    return _save(wb, tmp_path / "u06_龙溪县单位名册.xlsx")


# ---- u07: 松林县, a 填表说明 sheet first, the roster on the second sheet -----------------------------------------

_U07 = [
    ("松林县", None, "其他", None),
    ("县委办公室", "松林县", "党委部门", None),
    ("县人民政府办公室", "松林县", "政府部门", None),
    ("县住房和城乡建设局", "松林县", "政府部门", None),
    ("县城市管理局", "松林县", "政府部门", "2024年新组建"),
    ("县住房和城乡建设局建筑业管理站", "县住房和城乡建设局", "事业单位", None),
    ("县城市管理局综合执法大队", "县城市管理局", "事业单位", "参公管理"),
    ("松林镇", "松林县", "乡镇", None),
]
_U07_CODES = {name: uscc(i, "11510803") for i, (name, *_rest) in enumerate(_U07, start=1)}


def u07_second_sheet(tmp_path: Path) -> Path:
    wb, ws = _workbook("单位名册")
    row = _put(ws, 1, ["机构代码", "机构名称", "上级机构", "机构类型", "备注"])
    for name, parent, kind, note in _U07:
        row = _put(ws, row, [_U07_CODES[name], name, parent, kind, note])
    _instructions(wb, "填表说明", [
        "1.机构代码填写统一社会信用代码；",
        "2.上级机构填写上级单位全称，县本级留空；",
        "3.请勿修改表头，请勿合并单元格。",
    ])
    return _save(wb, tmp_path / "u07_松林县单位名册.xlsx")


# ---- u08: 桃江县, parent code under 「主管部门」, the kind words of a 编办 roster, four levels -----------------------

_U08 = [
    ("桃江县", "桃江县", "", None),
    ("县委组织部", "组织部", "县委工作机关", "桃江县"),
    ("县人民政府办公室", "政府办", "县政府工作部门", "桃江县"),
    ("县卫生健康局", "卫健局", "县政府工作部门", "桃江县"),
    ("县人民医院", "人民医院", "县属事业单位", "县卫生健康局"),
    ("县中医院", "中医院", "县属事业单位", "县卫生健康局"),
    ("县人民医院急诊科", "急诊科", "事业单位", "县人民医院"),
    ("县城市建设投资有限公司", "城投公司", "县属国有企业", "桃江县"),
    ("县妇女联合会", "妇联", "群团组织", "桃江县"),
    ("桃花江镇", "桃花江镇", "乡镇", "桃江县"),
    ("桃花江镇卫生院", "镇卫生院", "事业单位", "桃花江镇"),
    ("县委组织部干部监督科", "干部监督科", "县委工作机关", "县委组织部"),
]
_U08_CODES = {name: uscc(i, "11510804") for i, (name, *_rest) in enumerate(_U08, start=1)}


def u08_zhuguan_bumen(tmp_path: Path) -> Path:
    wb, ws = _workbook()
    row = _put(ws, 1, ["序号", "统一社会信用代码", "单位名称", "单位简称", "主管部门", "单位性质", "排序号"])
    for i, (name, short, kind, parent) in enumerate(_U08, start=1):
        row = _put(ws, row, [i, _U08_CODES[name], name, short, _U08_CODES[parent] if parent else None,
                             kind or None, i * 10])
    return _save(wb, tmp_path / "u08_桃江县单位名册.xlsx")


# ---- u09: 云山县, 垂直管理 / 驻县单位 listed with a blank code (the reported case) ---------------------------------

U09_REGULAR = [
    ("云山县", None, "其他"),
    ("县委办公室", "云山县", "党委部门"),
    ("县人民政府办公室", "云山县", "政府部门"),
    ("县财政局", "云山县", "政府部门"),
    ("县应急管理局", "云山县", "政府部门"),
    ("城关镇", "云山县", "乡镇"),
    ("城关镇党政综合办公室", "城关镇", "乡镇"),
]
# the code cell as the office leaves it: empty, a full-width space, an empty string
U09_BLANK = [
    ("县人武部", "云山县", "驻县单位", None),
    ("国家税务总局云山县税务局", "云山县", "垂直管理单位", None),
    ("云山县消防救援大队", "云山县", "垂直管理单位", "\u3000"),
    ("云山县消防救援大队城关消防救援站", "云山县消防救援大队", "垂直管理单位", ""),
    ("县气象局", "云山县", "垂直管理单位", None),
]
U09_CODES = {name: uscc(i, "11510805") for i, (name, *_rest) in enumerate(U09_REGULAR, start=1)}
U09_REAL_CODE = uscc(90, "11510805")  # the code 县人武部 is given in a later roster


def u09_resident_units(tmp_path: Path, *, real_codes: dict[str, str] | None = None, name: str = "") -> Path:
    """`real_codes`: unit name → the code a later roster gives a unit listed here with a blank code."""
    real_codes = real_codes or {}
    wb, ws = _workbook("单位名册")
    row = _title(ws, 1, "云山县作风建设责任单位名册", 5)
    row = _put(ws, row, ["序号", "统一社会信用代码", "单位名称", "隶属关系", "单位类别"])
    n = 0
    for unit, parent, kind in U09_REGULAR:
        n += 1
        row = _put(ws, row, [n, U09_CODES[unit], unit, parent, kind])
    for unit, parent, kind, blank in U09_BLANK:
        n += 1
        row = _put(ws, row, [n, real_codes.get(unit, blank), unit, parent, kind])
    return _save(wb, tmp_path / (name or "u09_云山县单位名册.xlsx"))


# ---- u10: 金川县, children before their parents, the parent column mixing codes and full names ---------------

_U10: list[tuple[str, str, str | None, str]] = [
    ("JC0301", "县教育局教研室", "县教育局", "事业单位"),
    ("JC030101", "县教育局教研室小学教研组", "JC0301", "事业单位"),
    ("JC03", "县教育局", "JC00", "政府部门"),
    ("JC00", "金川县", None, "其他"),
    ("JC01", "县委办公室", "金川县", "党委部门"),
    ("JC02", "县人民政府办公室", "JC00", "政府部门"),
    ("JC04", "县民政局", "金川县", "政府部门"),
    ("JC0401", "县社会福利院", "JC04", "事业单位"),
    ("JC05", "金川镇", "金川县", "乡镇"),
    ("JC0501", "金川镇中心村村委会", "金川镇", "乡镇"),
]


def u10_mixed_parent_refs(tmp_path: Path) -> Path:
    wb, ws = _workbook()
    row = _put(ws, 1, ["单位代码", "单位全称", "上级机构", "机构类型"])
    for code, name, parent, kind in _U10:
        row = _put(ws, row, [code, name, parent, kind])
    return _save(wb, tmp_path / "u10_金川县单位名册.xlsx")


# ---- u11: 平湖县, the parent column headed 「归口单位」, a word no table knows --------------------------------------

_U11 = [
    ("PH01", "平湖县", None, "其他"),
    ("PH02", "县委办公室", "平湖县", "党委部门"),
    ("PH03", "县人民政府办公室", "平湖县", "政府部门"),
    ("PH04", "县文化和旅游局", "平湖县", "政府部门"),
    ("PH05", "县文化馆", "县文化和旅游局", "事业单位"),
    ("PH06", "县图书馆", "县文化和旅游局", "事业单位"),
    ("PH07", "平湖镇", "平湖县", "乡镇"),
]


def u11_unknown_parent_header(tmp_path: Path) -> Path:
    wb, ws = _workbook()
    row = _put(ws, 1, ["序号", "单位代码", "单位名称", "归口单位", "单位类别"])
    for i, (code, name, parent, kind) in enumerate(_U11, start=1):
        row = _put(ws, row, [i, code, name, parent, kind])
    return _save(wb, tmp_path / "u11_平湖县单位名册.xlsx")


UNITS_CASES: tuple[UnitsCase, ...] = (
    UnitsCase(
        id="u01_parent_org_code", build=u01_parent_org_code,
        headers=("序号", "机构代码", "机构名称", "机构简称", "机构类型", "上级机构代码", "排序"),
        columns={"序号": "", "机构代码": "code", "机构名称": "name", "机构简称": "short_name", "机构类型": "kind",
                 "上级机构代码": "parent", "排序": "sort_order"},
        count=24, levels=4,
        parents={"青山县": None, "县委办公室": "青山县", "县委督查室": "县委办公室", "督查一科": "县委督查室",
                 "县第一中学": "县教育局", "西街社区居委会": "城关镇", "马湖乡": "青山县"},
        codes={"青山县": _U01_CODES["青山县"], "督查二科": _U01_CODES["督查二科"]},
        kinds={"县委办公室": UnitKind.PARTY, "县第一中学": UnitKind.INSTITUTION, "城关镇": UnitKind.TOWNSHIP},
        sort_orders={"县委督查室": 14},
        note="reported: the parent column is headed 上级机构代码",
    ),
    UnitsCase(
        id="u02_title_and_fill_rows", build=u02_title_and_fill_rows,
        headers=("单位代码", "单位名称", "上级单位", "单位类别", "排序号"),
        columns={"单位代码": "code", "单位名称": "name", "上级单位": "parent", "单位类别": "kind",
                 "排序号": "sort_order"},
        count=10, levels=3,
        parents={"白水县": None, "县公安局": "白水县", "县公安局城关派出所": "县公安局",
                 "城关街道和平社区": "城关街道", "尧禾镇便民服务中心": "尧禾镇"},
        codes={"县公安局城关派出所": "BS008", "白水县": "BS001"},
        kinds={"城关街道": UnitKind.TOWNSHIP, "县公安局": UnitKind.GOVERNMENT},
    ),
    UnitsCase(
        id="u03_two_header_rows", build=u03_two_header_rows,
        headers=("序号", "单位基本情况/统一社会信用代码", "单位基本情况/单位名称", "单位基本情况/单位类别", "主管单位",
                 "联系人/姓名", "联系人/联系电话"),
        columns={"单位基本情况/统一社会信用代码": "code", "单位基本情况/单位名称": "name",
                 "单位基本情况/单位类别": "kind", "主管单位": "parent", "联系人/姓名": "", "联系人/联系电话": ""},
        count=9, levels=3,
        parents={"红岩县": None, "县交通运输局": "红岩县", "县交通运输局公路管理所": "县交通运输局",
                 "县水利局水政监察大队": "县水利局", "红岩镇综合文化站": "红岩镇"},
        codes={"县水利局": _U03_CODES["县水利局"]},
        kinds={"县水利局水政监察大队": UnitKind.INSTITUTION, "红岩镇": UnitKind.TOWNSHIP},
    ),
    UnitsCase(
        id="u04_hidden_column", build=u04_hidden_column,
        headers=("序号", "组织机构代码", "单位全称", "辅助列", "隶属单位", "单位性质", "排序号"),
        columns={"序号": "", "组织机构代码": "code", "单位全称": "name", "辅助列": "", "隶属单位": "parent",
                 "单位性质": "kind", "排序号": "sort_order"},
        count=11, levels=3,
        parents={"清河县": None, "清河县农业技术推广中心": "清河县农业农村局", "清河县林业局国有林场": "清河县林业局",
                 "清河县城关镇农业服务中心": "清河县城关镇", "清河县总工会": "清河县"},
        codes={"清河县": "00412301-1", "清河县总工会": "00412311-1"},
        kinds={"中共清河县委办公室": UnitKind.PARTY, "清河县总工会": UnitKind.MASS_ORGANIZATION,
               "清河县动物疫病预防控制中心": UnitKind.INSTITUTION},
        hidden=("辅助列",),
    ),
    UnitsCase(
        id="u05_numbers_as_text", build=u05_numbers_as_text,
        headers=("序号", "单位代码", "单位名称", "上级单位", "单位类型", "排序号"),
        columns={"序号": "", "单位代码": "code", "单位名称": "name", "上级单位": "parent", "单位类型": "kind",
                 "排序号": "sort_order"},
        count=10, levels=4,
        parents={"石门县": None, "县国库集中支付中心": "县财政局", "国库支付一科": "县国库集中支付中心",
                 "县财政局预算股": "县财政局", "石门镇财政所": "石门镇"},
        codes={"石门县": "0001", "县委办公室": "0101", "县国库集中支付中心": "2001", "国库支付一科": "200101",
               "县财政局预算股": "010301"},
        sort_orders={"县委办公室": 2, "石门镇财政所": 10},
    ),
    UnitsCase(
        id="u06_full_width", build=u06_full_width,
        headers=("序号", "单位代码", "单位名称", "上级机构", "机构类型", "显示顺序"),
        columns={"单位代码": "code", "单位名称": "name", "上级机构": "parent", "机构类型": "kind",
                 "显示顺序": "sort_order"},
        count=8, levels=3,
        parents={"龙溪县": None, "县财政局": "龙溪县", "县财政局国库股": "县财政局", "龙溪镇党政办公室": "龙溪镇"},
        codes={"龙溪县": "LX01", "县财政局国库股": "LX07"},
        kinds={"县委办公室": UnitKind.PARTY, "龙溪镇": UnitKind.TOWNSHIP},
        sort_orders={"县财政局": 4, "龙溪镇党政办公室": 8},
    ),
    UnitsCase(
        id="u07_second_sheet", build=u07_second_sheet,
        headers=("机构代码", "机构名称", "上级机构", "机构类型", "备注"),
        columns={"机构代码": "code", "机构名称": "name", "上级机构": "parent", "机构类型": "kind", "备注": ""},
        count=8, levels=3,
        parents={"松林县": None, "县城市管理局综合执法大队": "县城市管理局",
                 "县住房和城乡建设局建筑业管理站": "县住房和城乡建设局", "松林镇": "松林县"},
        codes={"松林镇": _U07_CODES["松林镇"]},
    ),
    UnitsCase(
        id="u08_zhuguan_bumen", build=u08_zhuguan_bumen,
        headers=("序号", "统一社会信用代码", "单位名称", "单位简称", "主管部门", "单位性质", "排序号"),
        columns={"序号": "", "统一社会信用代码": "code", "单位名称": "name", "单位简称": "short_name",
                 "主管部门": "parent", "单位性质": "kind", "排序号": "sort_order"},
        count=12, levels=4,
        parents={"桃江县": None, "县人民医院急诊科": "县人民医院", "县人民医院": "县卫生健康局",
                 "县委组织部干部监督科": "县委组织部", "桃花江镇卫生院": "桃花江镇"},
        codes={"县人民医院急诊科": _U08_CODES["县人民医院急诊科"]},
        kinds={"桃江县": UnitKind.OTHER, "县委组织部": UnitKind.PARTY, "县人民政府办公室": UnitKind.GOVERNMENT,
               "县人民医院": UnitKind.INSTITUTION, "县城市建设投资有限公司": UnitKind.STATE_ENTERPRISE,
               "县妇女联合会": UnitKind.MASS_ORGANIZATION, "桃花江镇": UnitKind.TOWNSHIP},
        sort_orders={"县妇女联合会": 90},
    ),
    UnitsCase(
        id="u09_resident_units", build=u09_resident_units,
        headers=("序号", "统一社会信用代码", "单位名称", "隶属关系", "单位类别"),
        columns={"统一社会信用代码": "code", "单位名称": "name", "隶属关系": "parent", "单位类别": "kind"},
        count=12, levels=3,
        parents={"云山县": None, "县人武部": "云山县", "国家税务总局云山县税务局": "云山县",
                 "云山县消防救援大队": "云山县", "云山县消防救援大队城关消防救援站": "云山县消防救援大队",
                 "城关镇党政综合办公室": "城关镇"},
        codes={**{u: "" for u, *_rest in U09_BLANK}, "云山县": U09_CODES["云山县"], "县财政局": U09_CODES["县财政局"]},
        note="reported: 垂直管理/驻县单位 with a blank code",
    ),
    UnitsCase(
        id="u10_mixed_parent_refs", build=u10_mixed_parent_refs,
        headers=("单位代码", "单位全称", "上级机构", "机构类型"),
        columns={"单位代码": "code", "单位全称": "name", "上级机构": "parent", "机构类型": "kind"},
        count=10, levels=4,
        parents={"金川县": None, "县教育局教研室": "县教育局", "县教育局教研室小学教研组": "县教育局教研室",
                 "县教育局": "金川县", "县社会福利院": "县民政局", "金川镇中心村村委会": "金川镇"},
        codes={"县教育局教研室小学教研组": "JC030101"},
    ),
    UnitsCase(
        id="u11_unknown_parent_header", build=u11_unknown_parent_header,
        headers=("序号", "单位代码", "单位名称", "归口单位", "单位类别"),
        columns={"单位代码": "code", "单位名称": "name", "归口单位": "parent", "单位类别": "kind"},
        count=7, levels=3,
        parents={"平湖县": None, "县文化馆": "县文化和旅游局", "县图书馆": "县文化和旅游局", "平湖镇": "平湖县"},
        codes={"县图书馆": "PH06"},
        mapping={"D": "parent"},
        note="the parent column needs the admin's mapping; without it the roster is a flat list (see the tests)",
    ),
)


# =================================================================================================================
# 人员名册 (over the shared sample county)
# =================================================================================================================

SHARED_CODES = {
    "示范县": "114199010000000194",
    "县作风建设工作领导小组办公室": "11419901000000035R",
    "县教育体育局": "11419901000000166M",
    "县财政局": "11419901000000289N",
    "城关街道": "114199010000006688",
}
_L, _O, _D = Role.LIAISON, Role.OFFICE, Role.LEADER


def p01_unit_code_phone(tmp_path: Path) -> Path:
    wb, ws = _workbook()
    _rows(ws, 1, [
        ["序号", "姓名", "联系电话", "单位代码", "角色"],
        [1, "周晓明", 13800138001, SHARED_CODES["县教育体育局"], "联络员"],
        ["2", "吴丽", "13800138002", SHARED_CODES["县财政局"], "联络员"],
        [3, "郑强", "138-0013-8003", SHARED_CODES["县作风建设工作领导小组办公室"], "作风办"],
        [4, "王海燕", "13800138004", SHARED_CODES["示范县"], "领导"],
        [5, "陈志刚", " 13800138005 ", SHARED_CODES["城关街道"], "联络员"],
    ])
    return _save(wb, tmp_path / "p01_联络员名册.xlsx")


def p02_title_full_width(tmp_path: Path) -> Path:
    wb, ws = _workbook()
    row = _title(ws, 1, "示范县作风建设工作联络员名册", 5)
    row = _put(ws, row, ["填报单位：县作风办", None, None, full_width("填报日期：2025年3月1日")])
    _rows(ws, row, [
        ["姓名", "手机号码", "电子邮箱", "所在单位", "系统角色"],
        ["\u3000刘洋\u3000", full_width("13900139001"), "liuyang@sfx.gov.cn", "县交通运输局", "联络员"],
        ["孙静", full_width("139 0013 9002"), None, "\u3000县信访局\u3000", "\u3000联络员"],
        ["黄磊", "13900139003", "HUANGLEI@SFX.GOV.CN", "县作风建设工作领导小组办公室", "作风办"],
        ["赵敏", None, "zhaomin@sfx.gov.cn", "县农业农村局", "联络员"],
    ])
    return _save(wb, tmp_path / "p02_联络员名册.xlsx")


def p03_second_sheet_two_header_rows(tmp_path: Path) -> Path:
    wb, ws = _workbook("人员名册")
    _title(ws, 1, "示范县作风建设平台用户名册", 7)
    _put(ws, 2, ["序号", "人员信息", None, "联系方式", None, "角色", "身份证号"])
    _put(ws, 3, [None, "姓名", "工作单位", "移动电话", "E-mail", None, None])
    for rng in ("A2:A3", "B2:C2", "D2:E2", "F2:F3", "G2:G3"):
        ws.merge_cells(rng)
    _rows(ws, 4, [
        [1, "何勇", "县教育体育局", "13700137001", "heyong@sfx.gov.cn", "联络员", "51000019800101001X"],
        [2, "罗娟", "县住房和城乡建设局", "13700137002", None, "联络员", "510000198202020022"],
        [3, "高峰", "示范县", "13700137003", "gaofeng@sfx.gov.cn", "领导", "510000197503030033"],
    ])
    ws.column_dimensions["G"].hidden = True
    _instructions(wb, "填表说明", ["1.每个单位填报1名联络员；", "2.移动电话用作登录名，请填写本人常用手机号。"])
    return _save(wb, tmp_path / "p03_用户名册.xlsx")


def p04_overseen_units(tmp_path: Path) -> Path:
    wb, ws = _workbook()
    _rows(ws, 1, [
        ["序号", "姓名", "手机", "邮箱", "工作单位", "角色", "分管单位"],
        [1, "钱伟", "13600136001", None, "示范县", "领导", "城关街道、河口镇"],
        [2, "冯雪", "13600136002", "fengxue@sfx.gov.cn", "县交通运输局", "联络员", None],
        [3, "韩梅", None, "hanmei@sfx.gov.cn", "县作风建设工作领导小组办公室", "作风办、联络员", None],
    ])
    return _save(wb, tmp_path / "p04_人员名册.xlsx")


USERS_CASES: tuple[UsersCase, ...] = (
    UsersCase(
        id="p01_unit_code_phone", build=p01_unit_code_phone,
        headers=("序号", "姓名", "联系电话", "单位代码", "角色"),
        columns={"序号": "", "姓名": "full_name", "联系电话": "phone", "单位代码": "unit", "角色": "roles"},
        people={
            "13800138001": Person("周晓明", "县教育体育局", "13800138001", roles=frozenset({_L})),
            "13800138002": Person("吴丽", "县财政局", "13800138002", roles=frozenset({_L})),
            "13800138003": Person("郑强", "县作风建设工作领导小组办公室", "13800138003", roles=frozenset({_O})),
            "13800138004": Person("王海燕", "示范县", "13800138004", roles=frozenset({_D})),
            "13800138005": Person("陈志刚", "城关街道", "13800138005", roles=frozenset({_L})),
        },
        note="reported: unit column 单位代码, phone column 联系电话",
    ),
    UsersCase(
        id="p02_title_full_width", build=p02_title_full_width,
        headers=("姓名", "手机号码", "电子邮箱", "所在单位", "系统角色"),
        columns={"姓名": "full_name", "手机号码": "phone", "电子邮箱": "email", "所在单位": "unit",
                 "系统角色": "roles"},
        people={
            "13900139001": Person("刘洋", "县交通运输局", "13900139001", "liuyang@sfx.gov.cn", frozenset({_L})),
            "13900139002": Person("孙静", "县信访局", "13900139002", roles=frozenset({_L})),
            "13900139003": Person("黄磊", "县作风建设工作领导小组办公室", "13900139003", "huanglei@sfx.gov.cn",
                                  frozenset({_O})),
            "zhaomin@sfx.gov.cn": Person("赵敏", "县农业农村局", "", "zhaomin@sfx.gov.cn", frozenset({_L})),
        },
    ),
    UsersCase(
        id="p03_second_sheet_two_header_rows", build=p03_second_sheet_two_header_rows,
        headers=("序号", "人员信息/姓名", "人员信息/工作单位", "联系方式/移动电话", "联系方式/E-mail", "角色",
                 "身份证号"),
        columns={"人员信息/姓名": "full_name", "人员信息/工作单位": "unit", "联系方式/移动电话": "phone",
                 "联系方式/E-mail": "email", "角色": "roles", "身份证号": ""},
        people={
            "13700137001": Person("何勇", "县教育体育局", "13700137001", "heyong@sfx.gov.cn", frozenset({_L})),
            "13700137002": Person("罗娟", "县住房和城乡建设局", "13700137002", roles=frozenset({_L})),
            "13700137003": Person("高峰", "示范县", "13700137003", "gaofeng@sfx.gov.cn", frozenset({_D})),
        },
        hidden=("身份证号",),
    ),
    UsersCase(
        id="p04_overseen_units", build=p04_overseen_units,
        headers=("序号", "姓名", "手机", "邮箱", "工作单位", "角色", "分管单位"),
        columns={"序号": "", "姓名": "full_name", "手机": "phone", "邮箱": "email", "工作单位": "unit",
                 "角色": "roles", "分管单位": "overseen"},
        people={
            "13600136001": Person("钱伟", "示范县", "13600136001", roles=frozenset({_D}),
                                  overseen=frozenset({"城关街道", "河口镇"})),
            "13600136002": Person("冯雪", "县交通运输局", "13600136002", "fengxue@sfx.gov.cn", frozenset({_L})),
            "hanmei@sfx.gov.cn": Person("韩梅", "县作风建设工作领导小组办公室", "", "hanmei@sfx.gov.cn",
                                        frozenset({_O, _L})),
        },
    ),
)


# =================================================================================================================
# 问题整改台账 (over the shared sample county unless said otherwise)
# =================================================================================================================

M = ExpectedMeasure
P = ExpectedProblem
_IN, _DONE, _NOT = MeasureStatus.IN_PROGRESS, MeasureStatus.DONE, MeasureStatus.NOT_STARTED


# ---- l01: office numbers XC-2025-01-001…, sources as offices word them (the reported case) --------------------

_L01_HEADERS = ["序号", "问题编号", "问题来源", "问题描述", "责任单位", "整改措施", "整改时限", "整改进展", "销号情况"]
_L01 = [
    ({"序号": 1, "问题编号": "XC-2025-01-001", "问题来源": "县委巡察",
      "问题描述": "党组理论学习中心组学习流于形式，以读文件代替研讨",
      "责任单位": "县教育体育局", "销号情况": "未销号"},
     [{"整改措施": "制定年度学习计划，每月开展专题研讨", "整改时限": "2025-06-30", "整改进展": "已制定计划"},
      {"整改措施": "建立学习考勤和研讨记录制度", "整改时限": "2025-04-30"}]),
    ({"序号": 2, "问题编号": "XC-2025-01-002", "问题来源": "审计",
      "问题描述": "专项资金拨付滞后，部分项目资金闲置超过一年",
      "责任单位": "县财政局", "销号情况": "未销号"},
     [{"整改措施": "对闲置资金逐项清理，按规定收回统筹", "整改时限": "2025-05-31", "整改进展": "已清理12项"},
      {"整改措施": "建立专项资金拨付月调度制度", "整改时限": "长期坚持"}]),
    ({"序号": 3, "问题编号": "XC-2025-01-003", "问题来源": "作风整顿自查",
      "问题描述": "窗口工作人员服务态度生硬，一次性告知落实不到位",
      "责任单位": "县政务服务和大数据管理局", "销号情况": "未销号"},
     [{"整改措施": "开展窗口服务规范培训，推行一次性告知", "整改时限": "2025-04-15", "整改进展": "已培训2期"}]),
    ({"序号": 4, "问题编号": "XC-2025-01-004", "问题来源": "作风专项检查", "问题描述": "工作日午间饮酒问题时有发生",
      "责任单位": "县交通运输局", "销号情况": "未销号"},
     [{"整改措施": "对涉事人员进行诫勉谈话", "整改时限": "立行立改", "整改进展": "已谈话3人"},
      {"整改措施": "开展警示教育", "整改时限": "2025-05-31"}]),
    ({"序号": 5, "问题编号": "XC-2025-01-005", "问题来源": "督查督办", "问题描述": "老旧小区改造项目进度滞后",
      "责任单位": "县住房和城乡建设局", "销号情况": "未销号"},
     [{"整改措施": "倒排工期，每周调度", "整改时限": "2025-09-30"}]),
    ({"序号": 6, "问题编号": "XC-2025-01-006", "问题来源": "生态环境保护督察",
      "问题描述": "河道采砂监管不到位，非法采砂屡禁不止",
      "责任单位": "县水利局", "销号情况": "未销号"},
     [{"整改措施": "开展河道采砂专项整治", "整改时限": "2025-06-30"},
      {"整改措施": "建立联合巡查机制", "整改时限": "2025-07-31"},
      {"整改措施": "对违法采砂行为依法查处", "整改时限": "2025-08-31"}]),
]


def l01_xc_numbers_and_sources(tmp_path: Path) -> Path:
    wb, ws = _workbook("问题台账")
    row = _title(ws, 1, "示范县2025年作风建设问题整改台账", len(_L01_HEADERS))
    row = _put(ws, row, _L01_HEADERS)
    _measure_layout(ws, row, _L01_HEADERS, _L01)
    return _save(wb, tmp_path / "l01_巡察问题整改台账.xlsx")


# ---- l02: a campaign without a category catalogue, "A/B" category cells, one row per problem (the reported case)

_L02_HEADERS = ["序号", "问题来源", "问题类别", "问题描述", "牵头单位", "整改措施", "完成时限", "进展情况"]


def l02_no_catalogue(tmp_path: Path) -> Path:
    wb, ws = _workbook()
    row = _title(ws, 1, "示范县作风问题整改台账（第一批）", len(_L02_HEADERS))
    _rows(ws, row, [
        _L02_HEADERS,
        [1, "自查自纠", "政治建设/理论学习", "第一议题制度落实不到位，学习后未结合实际研究贯彻措施", "县农业农村局",
         "1.严格落实第一议题制度；2.每季度开展一次专题研讨", "1.2025-04-30；2.长期坚持", "1.已落实；2.已开展1次"],
        [2, "上级通报", "政治建设/民主集中制", "重大事项未经集体研究即作出决定", "县民政局",
         "1.修订议事规则；2.对违规决策事项进行复核", "2025年5月31日", None],
        [3, "群众反映", "作风建设/服务群众", "低保审核办理时限过长，群众多次跑腿", "县人力资源和社会保障局",
         "1.压缩审核时限至10个工作日；2.推行帮办代办；3.每月通报办理情况", "1.2025/4/30；2.2025/5/31；3.长期坚持",
         "已压缩至15个工作日"],
        [4, "明察暗访", "基层减负", "要求基层重复报送材料，报表多头填报", "城关街道", "清理合并各类报表", "2025.4.30",
         "已清理报表8张"],
    ])
    return _save(wb, tmp_path / "l02_作风问题整改台账.xlsx")


# ---- l03: two header rows (问题情况 / 整改情况 merged across, 序号 / 销号情况 merged down), "一、…/1.…" categories

_L03_LEAVES = ["序号", "原编号", "来源", "问题类型", "问题描述", "牵头单位", "整改措施", "落实单位", "完成时限",
               "进展情况",
               "销号情况"]
_L03_CAT_1 = "一、政治责任方面/1.深学细悟党的创新理论不够"
_L03_CAT_2 = "二、担当作为方面/2.推诿扯皮、敷衍塞责"
_L03 = [
    ({"序号": 1, "原编号": "ZG-001", "来源": "信访", "问题类型": _L03_CAT_1,
      "问题描述": "党员干部学习强国积分长期排名靠后，学习流于形式",
      "牵头单位": "县卫生健康委员会", "销号情况": "未销号"},
     [{"整改措施": "开展学习督促提醒", "落实单位": "县卫生健康委员会", "完成时限": dt.date(2025, 4, 30),
       "进展情况": "已提醒"},
      {"整改措施": "纳入年度考核", "落实单位": "县卫生健康委员会", "完成时限": MIDNIGHT_DEC_31}]),
    ({"序号": 2, "原编号": "ZG-002", "来源": "市长信箱", "问题类型": _L03_CAT_2,
      "问题描述": "企业反映办理施工许可多部门来回推诿",
      "牵头单位": "县住房和城乡建设局", "销号情况": "未销号"},
     [{"整改措施": "推行施工许可并联审批", "落实单位": "县住房和城乡建设局", "完成时限": "2025年6月底"},
      {"整改措施": "明确首问责任", "落实单位": "县政务服务和大数据管理局", "完成时限": "2025年6月30日前"}]),
    ({"序号": 3, "原编号": "ZG-003", "来源": 12345, "问题类型": _L03_CAT_2, "问题描述": "热线转办件超期未办结",
      "牵头单位": "县信访局", "销号情况": "未销号"},
     [{"整改措施": "逐件清理超期转办件", "落实单位": "县信访局", "完成时限": "2025年6月", "进展情况": "已办结20件"}]),
]


def l03_two_header_rows(tmp_path: Path) -> Path:
    wb, ws = _workbook("整改台账")
    _title(ws, 1, "示范县作风建设问题整改落实台账", len(_L03_LEAVES))
    _put(ws, 2, ["序号", "问题情况", None, None, None, None, "整改情况", None, None, None, "销号情况"])
    _put(ws, 3, [None, *_L03_LEAVES[1:10], None])
    for rng in ("A2:A3", "B2:F2", "G2:J2", "K2:K3"):
        ws.merge_cells(rng)
    _measure_layout(ws, 4, _L03_LEAVES, _L03)
    return _save(wb, tmp_path / "l03_整改落实台账.xlsx")


# ---- l04: a 汇总 sheet first, the ledger on the second sheet with a hidden column; problem cells only on the
# first row of each problem (no merges); dates as text, 8 digits, 立行立改

_L04_HEADERS = ["序号", "问题来源", "问题描述", "审核意见", "牵头单位", "整改措施", "整改期限", "整改落实情况"]
_L04 = [
    ({"序号": 1, "问题来源": "暗访", "问题描述": "城管执法人员执法过程中态度粗暴", "审核意见": "同意",
      "牵头单位": "县城市管理局"},
     [{"整改措施": "开展文明执法培训", "整改期限": "2025-05-31", "整改落实情况": "已培训1次"},
      {"整改措施": "建立执法全过程记录制度", "整改期限": "20250630"}]),
    ({"序号": 2, "问题来源": "自查自纠", "问题描述": "占道经营整治反弹", "审核意见": "同意",
      "牵头单位": "县城市管理局"},
     [{"整改措施": "开展占道经营集中整治", "整改期限": "20250731"}]),
    ({"序号": 3, "问题来源": "督查反馈", "问题描述": "食品安全抽检任务完成率低", "牵头单位": "县市场监督管理局"},
     [{"整改措施": "按月分解抽检任务", "整改期限": "2025年7月31日"},
      {"整改措施": "对未完成任务的所站通报", "整改期限": "立行立改", "整改落实情况": "已通报"}]),
]


def l04_summary_sheet_hidden_column(tmp_path: Path) -> Path:
    wb, ws = _workbook("汇总")
    _rows(ws, 1, [
        ["示范县作风问题整改汇总表"],
        ["责任单位", "问题数", "已整改", "整改率"],
        ["县城市管理局", 2, 0, "0%"],
        ["县市场监督管理局", 1, 0, "0%"],
        ["合计", 3, 0, "0%"],
    ])
    data = wb.create_sheet("问题清单")
    row = _put(data, 1, _L04_HEADERS)
    _measure_layout(data, row, _L04_HEADERS, _L04, merge=False)
    data.column_dimensions["D"].hidden = True
    return _save(wb, tmp_path / "l04_问题清单.xlsx")


# ---- l05: every way offices write a date; catalogue categories by code, code + name and bare name --------------

_L05_HEADERS = ["序号", "问题来源", "问题类别", "问题描述", "牵头单位", "整改措施", "措施责任单位", "整改时限",
                "整改进展",
                "整改状态", "销号情况"]
_L05 = [
    ({"序号": 1, "问题来源": "审计", "问题类别": "4.10", "问题描述": "会议多、文件多，基层负担重",
      "牵头单位": "县人民政府办公室", "销号情况": "未销号"},
     [{"整改措施": "精简会议，合并同类会议", "措施责任单位": "县人民政府办公室", "整改时限": "2025-03-01",
       "整改状态": "正在推进"},
      {"整改措施": "严控发文数量", "措施责任单位": "县人民政府办公室", "整改时限": "2025/3/1", "整改状态": "正在推进"},
      {"整改措施": "清理过期文件", "措施责任单位": "县人民政府办公室", "整改时限": "2025.3.1", "整改状态": "正在推进"},
      {"整改措施": "建立发文计划审核制度", "措施责任单位": "县人民政府办公室", "整改时限": "2025年3月1日",
       "整改进展": "已起草制度", "整改状态": "正在推进"}]),
    ({"序号": 2, "问题来源": "信访", "问题类别": "2.06 对企业诉求漠视，“走访”变“走秀”",
      "问题描述": "走访企业流于形式，企业诉求长期无回应",
      "牵头单位": "县发展和改革委员会", "销号情况": "未销号"},
     [{"整改措施": "建立企业诉求台账", "措施责任单位": "县发展和改革委员会", "整改时限": "20250301",
       "整改状态": "正在推进"},
      {"整改措施": "班子成员定期走访企业", "措施责任单位": "县发展和改革委员会", "整改时限": "2025-3-1",
       "整改状态": "正在推进"},
      {"整改措施": "限时办结企业诉求", "措施责任单位": "县投资促进局", "整改时限": dt.date(2025, 3, 1),
       "整改状态": "正在推进"},
      {"整改措施": "对办理情况进行回访", "措施责任单位": "县发展和改革委员会", "整改时限": MIDNIGHT_MAR_1,
       "整改状态": "正在推进"},
      {"整改措施": "诉求办理情况按月通报", "措施责任单位": "县发展和改革委员会", "整改时限": full_width("2025年3月1日"),
       "整改状态": "正在推进"}]),
    ({"序号": 3, "问题来源": 12345, "问题类别": "违规吃喝、违规收送礼品礼金", "问题描述": "公务接待超标准、无公函接待",
      "牵头单位": "县交通运输局", "销号情况": "未销号"},
     [{"整改措施": "清退超标准接待费用", "措施责任单位": "县交通运输局", "整改时限": "2025年6月30日前",
       "整改状态": "正在推进"},
      {"整改措施": "修订公务接待管理办法", "措施责任单位": "县交通运输局", "整改时限": "2025年6月底",
       "整改状态": "正在推进"},
      {"整改措施": "开展公务接待专项检查", "措施责任单位": "县交通运输局", "整改时限": "2025年6月",
       "整改状态": "正在推进"}]),
    ({"序号": 4, "问题来源": "暗访", "问题类别": "1.01", "问题描述": "理论学习中心组学习以会代学",
      "牵头单位": "县教育体育局", "销号情况": "未销号"},
     [{"整改措施": "建立学习考勤台账", "措施责任单位": "县教育体育局", "整改时限": "长期坚持", "整改状态": "长期坚持"},
      {"整改措施": "对以会代学问题立即纠正", "措施责任单位": "县教育体育局", "整改时限": "立行立改",
       "整改状态": "正在推进"}]),
]


def l05_every_date_form(tmp_path: Path) -> Path:
    wb, ws = _workbook("问题台账")
    row = _title(ws, 1, "示范县2025年作风问题整改台账", len(_L05_HEADERS))
    row = _put(ws, row, _L05_HEADERS)
    _measure_layout(ws, row, _L05_HEADERS, _L05)
    return _save(wb, tmp_path / "l05_问题整改台账.xlsx")


# ---- l06: one row per problem; 序号编号 / 发现渠道 / 类别 / 整改期限 / 整改落实情况; numbered and circled items ------

_L06_HEADERS = ["序号编号", "发现渠道", "类别", "问题表现", "牵头单位", "配合单位", "整改措施", "整改期限",
                "整改落实情况",
                "销号情况"]


def l06_numbered_measures(tmp_path: Path) -> Path:
    wb, ws = _workbook()
    _rows(ws, 1, [
        _L06_HEADERS,
        ["DC-2025-001", "督查督办", "思想保守僵化、本领恐慌、消极懈怠", "项目谋划储备不足，申报工作被动应付",
         "县发展和改革委员会",
         "县财政局", "1.建立项目储备库；2.每月召开项目调度会；3.对谋划不力的单位通报",
         "1.2025年4月30日；2.长期坚持；3.2025年6月30日", "1.已建立；2.已召开2次；3.暂未通报", "未销号"],
        ["DC-2025-002", "县委巡察", "对待群众官味十足、接访走过场", "接访干部对群众诉求敷衍应付", "县信访局", None,
         "（1）开展接访能力培训；（2）实行领导干部接访日制度", "2025-05-31", "已培训", "未销号"],
        ["DC-2025-003", "作风专项检查", "推诿扯皮、新官不理旧账", "历史遗留征地补偿问题多年未解决", "河口镇",
         "县自然资源局",
         "①成立工作专班；②逐户核实补偿标准；③分批兑付补偿款", "①2025-04-30；②2025-06-30；③2025-12-31", None, "未销号"],
    ])
    return _save(wb, tmp_path / "l06_督查问题台账.xlsx")


# ---- l07: full-width spaces and digits, 序号 and office numbers stored as text, "方面/表现" catalogue paths ------

_L07_HEADERS = ["序号", "原编号", "来源", "问题类别", "具体表现", "责任单位", "整改措施", "完成时限", "整改进展"]
_W = "\u3000"
_L07 = [
    ({"序号": "01", "原编号": f"{_W}YB-2025-001{_W}", "来源": f"{_W}自查自纠{_W}",
      "问题类别": "基层减负方面/文山会海、层层加码",
      "具体表现": f"定点医药机构检查频次过多，多头检查重复检查{_W}", "责任单位": f"{_W}县医疗保障局{_W}"},
     [{"整改措施": f"{_W}统筹制定年度检查计划", "完成时限": full_width("2025年4月30日"), "整改进展": f"已制定{_W}"},
      {"整改措施": "推行联合检查", "完成时限": full_width("2025年6月30日")}]),
    ({"序号": "02", "原编号": "YB-2025-002", "来源": "市长信箱", "问题类别": "4.11",
      "具体表现": "异地就医备案调研走过场，群众办理仍需多次跑腿", "责任单位": "县医疗保障局"},
     [{"整改措施": "推行异地就医备案网上办", "完成时限": "2025-05-31"}]),
    ({"序号": "03", "原编号": "YB-2025-003", "来源": "审计", "问题类别": "清正廉洁方面/违规吃喝、违规收送礼品礼金",
      "具体表现": "医保基金使用审计发现违规报销接待费", "责任单位": "县医疗保障局"},
     [{"整改措施": "追回违规报销资金", "完成时限": "立行立改", "整改进展": "已追回2.3万元"},
      {"整改措施": "开展廉政警示教育", "完成时限": full_width("2025年5月31日")}]),
]


def l07_full_width_and_text_numbers(tmp_path: Path) -> Path:
    wb, ws = _workbook()
    row = _title(ws, 1, "县医疗保障局作风问题整改台账", len(_L07_HEADERS))
    row = _put(ws, row, ["填报单位：县医疗保障局（盖章）"])
    row = _put(ws, row, [full_width("填报日期：2025年3月1日")])
    row = _put(ws, row, _L07_HEADERS)
    _measure_layout(ws, row, _L07_HEADERS, _L07)
    return _save(wb, tmp_path / "l07_医保局整改台账.xlsx")


# ---- l08: no 序号, office numbers only; 问题类型 as bare words and no catalogue; states as the office records them

_L08_HEADERS = ["问题编号", "问题来源", "问题类型", "问题描述", "牵头单位", "配合单位", "整改措施", "整改时限",
                "整改进展",
                "整改状态", "销号情况"]
_L08 = [
    ({"问题编号": "SFX-2025-Q1-01", "问题来源": "上级通报", "问题类型": "形式主义",
      "问题描述": "督查检查考核过多过频，基层迎检负担重",
      "牵头单位": "县委督查室", "配合单位": "县人民政府办公室", "销号情况": "已销号"},
     [{"整改措施": "统筹精简督查检查考核事项", "整改时限": "2025-03-31", "整改进展": "已精简12项",
       "整改状态": "已完成"},
      {"整改措施": "建立督查检查计划报批制度", "整改时限": "2025-03-31", "整改进展": "已建立", "整改状态": "已完成"}]),
    ({"问题编号": "SFX-2025-Q1-02", "问题来源": "群众反映", "问题类型": "官僚主义",
      "问题描述": "不动产登记窗口排队时间长",
      "牵头单位": "县自然资源局", "销号情况": "未销号"},
     [{"整改措施": "增设登记窗口", "整改时限": "2025-05-31", "整改状态": "正在推进"},
      {"整改措施": "推行预约办理", "整改时限": "2025-06-30", "整改状态": "未启动"}]),
    ({"问题编号": "SFX-2025-Q1-03", "问题来源": "明察暗访", "问题类型": "形式主义", "问题描述": "村级组织挂牌过多",
      "牵头单位": "城南镇", "销号情况": "申请销号"},
     [{"整改措施": "清理规范村级组织挂牌", "整改时限": "2025-03-15", "整改进展": "已清理", "整改状态": "已完成"}]),
]


def l08_office_numbers_only(tmp_path: Path) -> Path:
    wb, ws = _workbook("一季度")
    row = _title(ws, 1, "示范县2025年第一季度作风问题整改台账", len(_L08_HEADERS))
    row = _put(ws, row, ["填报单位：县作风办", None, None, None, None, None, None, None, "填报日期：2025年4月1日"])
    row = _put(ws, row, _L08_HEADERS)
    _measure_layout(ws, row, _L08_HEADERS, _L08)
    return _save(wb, tmp_path / "l08_一季度台账.xlsx")


# ---- l09: over u09's county: problems of the 驻县单位 imported with a blank code ------------------------------

_L09_HEADERS = ["序号", "问题来源", "问题描述", "牵头单位", "整改措施", "整改时限"]


def l09_resident_units(tmp_path: Path) -> Path:
    wb, ws = _workbook()
    row = _title(ws, 1, "云山县作风问题整改台账", len(_L09_HEADERS))
    _rows(ws, row, [
        _L09_HEADERS,
        [1, "信访", "民兵训练场地周边群众反映噪音扰民", "县人武部", "1.调整训练时段；2.设置隔音设施", "2025-06-30"],
        [2, "自查自纠", "办税服务厅高峰期排队时间长", "国家税务总局云山县税务局", "推行错峰预约办税", "2025-05-31"],
        [3, "暗访", "消防站值班人员脱岗", "云山县消防救援大队城关消防救援站", "严格落实值班制度", "立行立改"],
    ])
    return _save(wb, tmp_path / "l09_云山县整改台账.xlsx")


# ---- l10: a 填表说明 sheet first; a category word the catalogue lacks; measure states and people; date cells ----

_L10_HEADERS = ["序号", "问题来源", "问题类别", "问题描述", "责任单位", "整改措施", "责任人", "整改时限", "整改进展",
                "整改状态",
                "销号情况"]
_L10 = [
    ({"序号": 1, "问题来源": "巡视巡察", "问题类别": "文山会海", "问题描述": "会议套会议，以会议落实会议",
      "责任单位": "县水利局",
      "销号情况": "未销号"},
     [{"整改措施": "严控会议数量和规模", "责任人": "张明", "整改时限": dt.date(2025, 5, 31), "整改状态": "正在推进"},
      {"整改措施": "推行视频会议", "责任人": "张明", "整改时限": dt.date(2025, 6, 30), "整改状态": "未启动"},
      {"整改措施": "精简会议材料", "责任人": "李华", "整改时限": dt.date(2025, 4, 30), "整改进展": "已精简",
       "整改状态": "已完成"}]),
    ({"序号": 2, "问题来源": "上级通报", "问题类别": "亲而不清、政商交往失度", "问题描述": "干部违规参加企业宴请",
      "责任单位": "县商务局",
      "销号情况": "未销号"},
     [{"整改措施": "对涉事干部立案审查", "责任人": "王强", "整改时限": dt.date(2025, 4, 15), "整改进展": "已立案",
       "整改状态": "已完成"},
      {"整改措施": "开展政商交往专项教育", "责任人": "王强", "整改时限": dt.date(2025, 6, 30),
       "整改状态": "正在推进"}]),
    ({"序号": 3, "问题来源": "督查反馈", "问题类别": "5.13", "问题描述": "对企业合理诉求不敢担当、不作为",
      "责任单位": "县商务局",
      "销号情况": "未销号"},
     [{"整改措施": "建立服务企业联络员制度", "责任人": "赵丽", "整改时限": dt.date(2025, 5, 31),
       "整改状态": "正在推进"}]),
]


def l10_instructions_sheet_and_category_word(tmp_path: Path) -> Path:
    wb, ws = _workbook("问题台账")
    row = _put(ws, 1, _L10_HEADERS)
    _measure_layout(ws, row, _L10_HEADERS, _L10)
    for r in range(2, 2 + 6):
        ws.cell(row=r, column=8).number_format = "yyyy年m月d日"
    _instructions(wb, "填表说明", [
        "一、问题来源填写：巡视巡察、上级通报、督查反馈等；",
        "二、问题类别按问题表现清单填写；",
        "三、整改时限填写具体日期，长期坚持的填写“长期坚持”。",
    ])
    return _save(wb, tmp_path / "l10_问题台账.xlsx")


# ---- l11: source words no table knows, all added to the campaign (add_sources) ---------------------------------

_L11_HEADERS = ["序号", "问题来源", "问题描述", "牵头单位", "整改措施", "整改时限", "整改进展"]


def l11_new_source_words(tmp_path: Path) -> Path:
    wb, ws = _workbook()
    _rows(ws, 1, [
        _L11_HEADERS,
        [1, "人大代表建议", "执法检查随意性大", "县应急管理局", "制定年度执法检查计划", "2025-06-30", None],
        [2, "政协委员提案", "农村公路养护不到位", "县交通运输局", "1.开展农村公路病害排查；2.落实养护资金",
         "1.2025-05-31；2.2025-08-31", None],
        [3, "营商环境评议", "畜禽养殖污染整治不彻底", "县农业农村局", "开展畜禽养殖污染专项整治", "2025年9月30日",
         "已排查养殖场32家"],
        [4, "人大代表建议", "乡镇卫生院夜间值班医生不在岗", "县卫生健康委员会", "落实夜间值班制度", "2025-04-30", None],
    ])
    return _save(wb, tmp_path / "l11_问题台账.xlsx")


_ROW_PER_PROBLEM_KEYS = {"序号": "seq", "问题来源": "source", "问题描述": "description", "牵头单位": "lead_unit",
                         "整改措施": "measures", "整改时限": "deadline"}

LEDGER_CASES: tuple[LedgerCase, ...] = (
    LedgerCase(
        id="l01_xc_numbers_and_sources", build=l01_xc_numbers_and_sources,
        headers=tuple(_L01_HEADERS),
        columns={"序号": "seq", "问题编号": SOURCE_NUMBER_KEY, "问题来源": "source", "问题描述": "description",
                 "责任单位": "lead_unit", "整改措施": "measures", "整改时限": "deadline", "整改进展": "progress",
                 "销号情况": "closure"},
        problems=(
            P("党组理论学习中心组学习流于形式，以读文件代替研讨", "县教育体育局", number="XC-2025-01-001",
              source="巡视巡察",
              measures=(M("制定年度学习计划，每月开展专题研讨", dt.date(2025, 6, 30), progress="已制定计划"),
                        M("建立学习考勤和研讨记录制度", dt.date(2025, 4, 30)))),
            P("专项资金拨付滞后，部分项目资金闲置超过一年", "县财政局", number="XC-2025-01-002", source="审计监督",
              measures=(M("对闲置资金逐项清理，按规定收回统筹", dt.date(2025, 5, 31), progress="已清理12项"),
                        M("建立专项资金拨付月调度制度", None, long_term=True))),
            P("窗口工作人员服务态度生硬，一次性告知落实不到位", "县政务服务和大数据管理局", number="XC-2025-01-003",
              source="自查自纠",
              measures=(M("开展窗口服务规范培训，推行一次性告知", dt.date(2025, 4, 15), progress="已培训2期"),)),
            P("工作日午间饮酒问题时有发生", "县交通运输局", number="XC-2025-01-004", source="明察暗访",
              measures=(M("对涉事人员进行诫勉谈话", TODAY, progress="已谈话3人"), M("开展警示教育", dt.date(2025, 5,
                                                                                       31)))),
            P("老旧小区改造项目进度滞后", "县住房和城乡建设局", number="XC-2025-01-005", source="督查反馈",
              measures=(M("倒排工期，每周调度", dt.date(2025, 9, 30)),)),
            P("河道采砂监管不到位，非法采砂屡禁不止", "县水利局", number="XC-2025-01-006", source="督查反馈",
              measures=(M("开展河道采砂专项整治", dt.date(2025, 6, 30)), M("建立联合巡查机制", dt.date(2025, 7, 31)),
                        M("对违法采砂行为依法查处", dt.date(2025, 8, 31)))),
        ),
        # as the office decides them (whether or not the synonym table already knows these three)
        sources={"作风整顿自查": "自查自纠", "督查督办": "督查反馈", "生态环境保护督察": "督查反馈"},
        known_sources={"县委巡察": "巡视巡察", "审计": "审计监督", "作风专项检查": "明察暗访"},
        note="reported: office numbers XC-2025-01-001… and the sources as the office words them",
    ),
    LedgerCase(
        id="l02_no_catalogue", build=l02_no_catalogue,
        headers=tuple(_L02_HEADERS),
        columns={"序号": "seq", "问题来源": "source", "问题类别": "category", "问题描述": "description",
                 "牵头单位": "lead_unit", "整改措施": "measures", "完成时限": "deadline", "进展情况": "progress"},
        problems=(
            P("第一议题制度落实不到位，学习后未结合实际研究贯彻措施", "县农业农村局", source="自查自纠",
              category=("理论学习", "政治建设"),
              measures=(M("严格落实第一议题制度", dt.date(2025, 4, 30), progress="已落实"),
                        M("每季度开展一次专题研讨", None, long_term=True, progress="已开展1次"))),
            P("重大事项未经集体研究即作出决定", "县民政局", source="上级通报", category=("民主集中制", "政治建设"),
              measures=(M("修订议事规则", dt.date(2025, 5, 31)), M("对违规决策事项进行复核", dt.date(2025, 5, 31)))),
            P("低保审核办理时限过长，群众多次跑腿", "县人力资源和社会保障局", source="群众反映",
              category=("服务群众", "作风建设"),
              measures=(M("压缩审核时限至10个工作日", dt.date(2025, 4, 30), progress="已压缩至15个工作日"),
                        M("推行帮办代办", dt.date(2025, 5, 31)), M("每月通报办理情况", None, long_term=True))),
            P("要求基层重复报送材料，报表多头填报", "城关街道", source="明察暗访", category=("基层减负", None),
              measures=(M("清理合并各类报表", dt.date(2025, 4, 30), progress="已清理报表8张"),)),
        ),
        new_categories=frozenset({("政治建设", None), ("理论学习", "政治建设"), ("民主集中制", "政治建设"),
                                  ("作风建设", None), ("服务群众", "作风建设"), ("基层减负", None)}),
        note="reported: a campaign with no category catalogue",
    ),
    LedgerCase(
        id="l03_two_header_rows", build=l03_two_header_rows,
        headers=("序号", "问题情况/原编号", "问题情况/来源", "问题情况/问题类型", "问题情况/问题描述",
                 "问题情况/牵头单位",
                 "整改情况/整改措施", "整改情况/落实单位", "整改情况/完成时限", "整改情况/进展情况", "销号情况"),
        columns={"序号": "seq", "问题情况/原编号": SOURCE_NUMBER_KEY, "问题情况/来源": "source",
                 "问题情况/问题类型": "category", "问题情况/问题描述": "description", "问题情况/牵头单位": "lead_unit",
                 "整改情况/整改措施": "measures", "整改情况/落实单位": "measure_unit", "整改情况/完成时限": "deadline",
                 "整改情况/进展情况": "progress", "销号情况": "closure"},
        problems=(
            P("党员干部学习强国积分长期排名靠后，学习流于形式", "县卫生健康委员会", number="ZG-001", source="群众反映",
              category=("深学细悟党的创新理论不够", "政治责任方面"),
              measures=(M("开展学习督促提醒", dt.date(2025, 4, 30), progress="已提醒"),
                        M("纳入年度考核", dt.date(2025, 12, 31)))),
            P("企业反映办理施工许可多部门来回推诿", "县住房和城乡建设局", number="ZG-002", source="群众反映",
              category=("推诿扯皮、敷衍塞责", "担当作为方面"),
              measures=(M("推行施工许可并联审批", dt.date(2025, 6, 30)),
                        M("明确首问责任", dt.date(2025, 6, 30), unit="县政务服务和大数据管理局"))),
            P("热线转办件超期未办结", "县信访局", number="ZG-003", source="群众反映",
              category=("推诿扯皮、敷衍塞责", "担当作为方面"),
              measures=(M("逐件清理超期转办件", dt.date(2025, 6, 30), progress="已办结20件"),)),
        ),
        known_sources={"信访": "群众反映", "市长信箱": "群众反映", "12345": "群众反映"},
        new_categories=frozenset({("政治责任方面", None), ("深学细悟党的创新理论不够", "政治责任方面"),
                                  ("担当作为方面", None), ("推诿扯皮、敷衍塞责", "担当作为方面")}),
    ),
    LedgerCase(
        id="l04_summary_sheet_hidden_column", build=l04_summary_sheet_hidden_column,
        headers=tuple(_L04_HEADERS),
        columns={"序号": "seq", "问题来源": "source", "问题描述": "description", "审核意见": "",
                 "牵头单位": "lead_unit",
                 "整改措施": "measures", "整改期限": "deadline", "整改落实情况": "progress"},
        hidden=("审核意见",),
        campaign_exists=False,
        problems=(
            P("城管执法人员执法过程中态度粗暴", "县城市管理局", source="明察暗访",
              measures=(M("开展文明执法培训", dt.date(2025, 5, 31), progress="已培训1次"),
                        M("建立执法全过程记录制度", dt.date(2025, 6, 30)))),
            P("占道经营整治反弹", "县城市管理局", source="自查自纠",
              measures=(M("开展占道经营集中整治", dt.date(2025, 7, 31)),)),
            P("食品安全抽检任务完成率低", "县市场监督管理局", source="督查反馈",
              measures=(M("按月分解抽检任务", dt.date(2025, 7, 31)), M("对未完成任务的所站通报", TODAY,
                                                               progress="已通报"))),
        ),
        known_sources={"暗访": "明察暗访"},
    ),
    LedgerCase(
        id="l05_every_date_form", build=l05_every_date_form,
        headers=tuple(_L05_HEADERS),
        columns={"序号": "seq", "问题来源": "source", "问题类别": "category", "问题描述": "description",
                 "牵头单位": "lead_unit", "整改措施": "measures", "措施责任单位": "measure_unit",
                 "整改时限": "deadline",
                 "整改进展": "progress", "整改状态": "status", "销号情况": "closure"},
        catalogue=True,
        problems=(
            P("会议多、文件多，基层负担重", "县人民政府办公室", source="审计监督", category="4.10",
              measures=(M("精简会议，合并同类会议", dt.date(2025, 3, 1), status=_IN),
                        M("严控发文数量", dt.date(2025, 3, 1), status=_IN),
                        M("清理过期文件", dt.date(2025, 3, 1), status=_IN),
                        M("建立发文计划审核制度", dt.date(2025, 3, 1), progress="已起草制度", status=_IN))),
            P("走访企业流于形式，企业诉求长期无回应", "县发展和改革委员会", source="群众反映", category="2.06",
              measures=(M("建立企业诉求台账", dt.date(2025, 3, 1)), M("班子成员定期走访企业", dt.date(2025, 3, 1)),
                        M("限时办结企业诉求", dt.date(2025, 3, 1), unit="县投资促进局"),
                        M("对办理情况进行回访", dt.date(2025, 3, 1)), M("诉求办理情况按月通报", dt.date(2025, 3, 1)))),
            P("公务接待超标准、无公函接待", "县交通运输局", source="群众反映", category="5.15",
              measures=(M("清退超标准接待费用", dt.date(2025, 6, 30)), M("修订公务接待管理办法", dt.date(2025, 6, 30)),
                        M("开展公务接待专项检查", dt.date(2025, 6, 30)))),
            P("理论学习中心组学习以会代学", "县教育体育局", source="明察暗访", category="1.01",
              measures=(M("建立学习考勤台账", None, long_term=True, status=_IN),
                        M("对以会代学问题立即纠正", TODAY, status=_IN))),
        ),
        known_sources={"审计": "审计监督", "信访": "群众反映", "12345": "群众反映", "暗访": "明察暗访"},
    ),
    LedgerCase(
        id="l06_numbered_measures", build=l06_numbered_measures,
        headers=tuple(_L06_HEADERS),
        columns={"序号编号": SOURCE_NUMBER_KEY, "发现渠道": "source", "类别": "category", "问题表现": "description",
                 "牵头单位": "lead_unit", "配合单位": "co_units", "整改措施": "measures", "整改期限": "deadline",
                 "整改落实情况": "progress", "销号情况": "closure"},
        catalogue=True,
        problems=(
            P("项目谋划储备不足，申报工作被动应付", "县发展和改革委员会", number="DC-2025-001", source="督查反馈",
              category="2.04", co_units=("县财政局",),
              measures=(M("建立项目储备库", dt.date(2025, 4, 30), progress="已建立"),
                        M("每月召开项目调度会", None, long_term=True, progress="已召开2次"),
                        M("对谋划不力的单位通报", dt.date(2025, 6, 30), progress="暂未通报"))),
            P("接访干部对群众诉求敷衍应付", "县信访局", number="DC-2025-002", source="巡视巡察", category="3.08",
              measures=(M("开展接访能力培训", dt.date(2025, 5, 31), progress="已培训"),
                        M("实行领导干部接访日制度", dt.date(2025, 5, 31)))),
            P("历史遗留征地补偿问题多年未解决", "河口镇", number="DC-2025-003", source="明察暗访", category="3.09",
              co_units=("县自然资源局",),
              measures=(M("成立工作专班", dt.date(2025, 4, 30)), M("逐户核实补偿标准", dt.date(2025, 6, 30)),
                        M("分批兑付补偿款", dt.date(2025, 12, 31)))),
        ),
        sources={"督查督办": "督查反馈"},
        known_sources={"县委巡察": "巡视巡察", "作风专项检查": "明察暗访"},
    ),
    LedgerCase(
        id="l07_full_width_and_text_numbers", build=l07_full_width_and_text_numbers,
        headers=tuple(_L07_HEADERS),
        columns={"序号": "seq", "原编号": SOURCE_NUMBER_KEY, "来源": "source", "问题类别": "category",
                 "具体表现": "description", "责任单位": "lead_unit", "整改措施": "measures", "完成时限": "deadline",
                 "整改进展": "progress"},
        catalogue=True,
        problems=(
            P("定点医药机构检查频次过多，多头检查重复检查", "县医疗保障局", number="YB-2025-001", source="自查自纠",
              category="4.10",
              measures=(M("统筹制定年度检查计划", dt.date(2025, 4, 30), progress="已制定"),
                        M("推行联合检查", dt.date(2025, 6, 30)))),
            P("异地就医备案调研走过场，群众办理仍需多次跑腿", "县医疗保障局", number="YB-2025-002", source="群众反映",
              category="4.11", measures=(M("推行异地就医备案网上办", dt.date(2025, 5, 31)),)),
            P("医保基金使用审计发现违规报销接待费", "县医疗保障局", number="YB-2025-003", source="审计监督",
              category="5.15",
              measures=(M("追回违规报销资金", TODAY, progress="已追回2.3万元"),
                        M("开展廉政警示教育", dt.date(2025, 5, 31)))),
        ),
        known_sources={"市长信箱": "群众反映", "审计": "审计监督"},
    ),
    LedgerCase(
        id="l08_office_numbers_only", build=l08_office_numbers_only,
        headers=tuple(_L08_HEADERS),
        columns={"问题编号": SOURCE_NUMBER_KEY, "问题来源": "source", "问题类型": "category", "问题描述": "description",
                 "牵头单位": "lead_unit", "配合单位": "co_units", "整改措施": "measures", "整改时限": "deadline",
                 "整改进展": "progress", "整改状态": "status", "销号情况": "closure"},
        problems=(
            P("督查检查考核过多过频，基层迎检负担重", "县委督查室", number="SFX-2025-Q1-01", source="上级通报",
              category=("形式主义", None), co_units=("县人民政府办公室",), status=ProblemStatus.CLOSED,
              measures=(M("统筹精简督查检查考核事项", dt.date(2025, 3, 31), progress="已精简12项", status=_DONE),
                        M("建立督查检查计划报批制度", dt.date(2025, 3, 31), progress="已建立", status=_DONE))),
            P("不动产登记窗口排队时间长", "县自然资源局", number="SFX-2025-Q1-02", source="群众反映",
              category=("官僚主义", None),
              measures=(M("增设登记窗口", dt.date(2025, 5, 31), status=_IN),
                        M("推行预约办理", dt.date(2025, 6, 30), status=_NOT))),
            P("村级组织挂牌过多", "城南镇", number="SFX-2025-Q1-03", source="明察暗访", category=("形式主义", None),
              status=ProblemStatus.PENDING_REVIEW,
              measures=(M("清理规范村级组织挂牌", dt.date(2025, 3, 15), progress="已清理", status=_DONE),)),
        ),
        new_categories=frozenset({("形式主义", None), ("官僚主义", None)}),
    ),
    LedgerCase(
        id="l09_resident_units", build=l09_resident_units,
        headers=tuple(_L09_HEADERS),
        columns=dict(_ROW_PER_PROBLEM_KEYS),
        county="u09_resident_units", campaign_exists=False,
        problems=(
            P("民兵训练场地周边群众反映噪音扰民", "县人武部", source="群众反映",
              measures=(M("调整训练时段", dt.date(2025, 6, 30)), M("设置隔音设施", dt.date(2025, 6, 30)))),
            P("办税服务厅高峰期排队时间长", "国家税务总局云山县税务局", source="自查自纠",
              measures=(M("推行错峰预约办税", dt.date(2025, 5, 31)),)),
            P("消防站值班人员脱岗", "云山县消防救援大队城关消防救援站", source="明察暗访",
              measures=(M("严格落实值班制度", TODAY),)),
        ),
        known_sources={"信访": "群众反映", "暗访": "明察暗访"},
        note="the lead units are 驻县单位 that came in with a blank code",
    ),
    LedgerCase(
        id="l10_instructions_sheet_and_category_word", build=l10_instructions_sheet_and_category_word,
        headers=tuple(_L10_HEADERS),
        columns={"序号": "seq", "问题来源": "source", "问题类别": "category", "问题描述": "description",
                 "责任单位": "lead_unit", "整改措施": "measures", "责任人": "responsible_person",
                 "整改时限": "deadline",
                 "整改进展": "progress", "整改状态": "status", "销号情况": "closure"},
        catalogue=True,
        problems=(
            P("会议套会议，以会议落实会议", "县水利局", source="巡视巡察", category="4.10",
              measures=(M("严控会议数量和规模", dt.date(2025, 5, 31), status=_IN),
                        M("推行视频会议", dt.date(2025, 6, 30), status=_NOT),
                        M("精简会议材料", dt.date(2025, 4, 30), progress="已精简", status=_DONE))),
            P("干部违规参加企业宴请", "县商务局", source="上级通报", category="5.14",
              measures=(M("对涉事干部立案审查", dt.date(2025, 4, 15), progress="已立案", status=_DONE),
                        M("开展政商交往专项教育", dt.date(2025, 6, 30), status=_IN))),
            P("对企业合理诉求不敢担当、不作为", "县商务局", source="督查反馈", category="5.13",
              measures=(M("建立服务企业联络员制度", dt.date(2025, 5, 31), status=_IN),)),
        ),
        categories={"文山会海": "文山会海、层层加码"},
        undecided_categories=frozenset({"文山会海"}),
    ),
    LedgerCase(
        id="l11_new_source_words", build=l11_new_source_words,
        headers=tuple(_L11_HEADERS),
        columns={**_ROW_PER_PROBLEM_KEYS, "整改进展": "progress"},
        problems=(
            P("执法检查随意性大", "县应急管理局", source="人大代表建议",
              measures=(M("制定年度执法检查计划", dt.date(2025, 6, 30)),)),
            P("农村公路养护不到位", "县交通运输局", source="政协委员提案",
              measures=(M("开展农村公路病害排查", dt.date(2025, 5, 31)), M("落实养护资金", dt.date(2025, 8, 31)))),
            P("畜禽养殖污染整治不彻底", "县农业农村局", source="营商环境评议",
              measures=(M("开展畜禽养殖污染专项整治", dt.date(2025, 9, 30), progress="已排查养殖场32家"),)),
            P("乡镇卫生院夜间值班医生不在岗", "县卫生健康委员会", source="人大代表建议",
              measures=(M("落实夜间值班制度", dt.date(2025, 4, 30)),)),
        ),
        add_sources=True,
        undecided_sources=frozenset({"人大代表建议", "政协委员提案", "营商环境评议"}),
        added_sources=frozenset({"人大代表建议", "政协委员提案", "营商环境评议"}),
    ),
)


def units_case(case_id: str) -> UnitsCase:
    return next(c for c in UNITS_CASES if c.id == case_id)


def ledger_case(case_id: str) -> LedgerCase:
    return next(c for c in LEDGER_CASES if c.id == case_id)


__all__ = [
    "CAMPAIGN",
    "LEDGER_CASES",
    "SHARED_CODES",
    "SOURCE_NUMBER_KEY",
    "TODAY",
    "U09_BLANK",
    "U09_CODES",
    "U09_REAL_CODE",
    "UNITS_CASES",
    "USERS_CASES",
    "ExpectedMeasure",
    "ExpectedProblem",
    "LedgerCase",
    "Person",
    "UnitsCase",
    "UsersCase",
    "full_width",
    "ledger_case",
    "units_case",
    "uscc",
    "u09_resident_units",
    "u11_unknown_parent_header",
]


def column(report: Any, header: str) -> dict[str, Any]:
    """The preview's entry for the file's column headed `header` (exactly one)."""
    found = [c for c in report.columns if c["header"] == header]
    assert len(found) == 1, (header, report.columns)
    return found[0]


def assert_listed(report: Any, case: Any) -> None:
    """Every header of the file is listed, in file order, with the key it imports as ("" not imported), and the
    hidden columns marked."""
    from openpyxl.utils import get_column_letter

    from core.xlsx import NOT_IMPORTED

    assert [c["header"] for c in report.columns] == list(case.headers)
    assert [c["letter"] for c in report.columns] == [get_column_letter(i) for i in range(1, len(case.headers) + 1)]
    got = {h: column(report, h)["key"] for h in case.columns}
    assert got == case.columns
    for c in report.columns:
        assert c["hidden"] == (c["header"] in case.hidden), c
        if c["key"] == "":
            assert c["label"] == NOT_IMPORTED, c
        else:
            assert c["label"] and c["label"] != NOT_IMPORTED, c
