"""The printable ledger export: layout, formula escaping, fixed queries, and an export that imports back unchanged."""

from __future__ import annotations

import datetime as dt
from io import BytesIO, StringIO

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl.utils import get_column_letter

from campaigns.models import Campaign, Source
from core.import_report import UNCHANGED
from core.text import CUT_MARKER, EXCEL_CELL_MAX, ILLEGAL_XML_CHARS
from ledger import services, workflow
from ledger.excel.exporter import export_ledger_xlsx
from ledger.excel.importer import apply_ledger, preview_ledger
from ledger.excel.reader import read_ledger
from ledger.models import Measure, Problem, ProblemStatus, ProgressEntry
from tests.factories import UnitFactory
from tests.ledger.factories import make_problem
from units.models import Unit, User

from .test_import_ledger import counts, office, rosters, sample  # noqa: F401  (fixtures)

HEADERS = ["序号", "编号", "原编号", "问题来源", "问题类别", "问题概述", "问题描述（具体表现）", "整改类型", "责任领导",
           "牵头单位", "配合单位", "整改措施", "措施责任单位", "责任人", "整改时限", "整改进展", "整改状态", "销号情况",
           "红黄绿灯"]


def col(header: str) -> int:
    """The export's column number of a header."""
    return HEADERS.index(header) + 1


@pytest.fixture
def imported(office, sample):  # noqa: F811
    assert apply_ledger(sample, campaign="ZF2022", by=office).ok
    return Campaign.objects.get(code="ZF2022")


def export(campaign: Campaign, tmp_path, name: str = "out.xlsx"):
    path = tmp_path / name
    path.write_bytes(export_ledger_xlsx(Problem.objects.filter(campaign=campaign), title="示范县问题整改台账"))
    return path


def test_export_has_the_printable_layout(imported, tmp_path):
    ws = openpyxl.load_workbook(export(imported, tmp_path)).active

    assert ws["A1"].value == "示范县问题整改台账" and "A1:S1" in {str(r) for r in ws.merged_cells.ranges}
    assert [c.value for c in ws[2]] == HEADERS
    assert ws.print_title_rows == "$2:$2"
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage and int(ws.page_setup.fitToWidth) == 1
    assert ws.print_area == "'问题台账'!$A$1:$S$23"
    merged = {str(r) for r in ws.merged_cells.ranges}
    # problems over their measures: 序号, 编号, 问题概述, 问题描述, 销号情况, 红黄绿灯; 牵头单位
    assert {"A3:A4", "B3:B4", "F3:F4", "G3:G4", "R3:R4", "S3:S4", "A5:A7", "J5:J7"} <= merged
    assert "L3:L4" not in merged  # measures keep a row each
    assert ws["B3"].value == "ZF2022-0001" and ws["L4"].value == "对一季度文件逐件清理，废止重复文件"
    assert ws["O3"].value == dt.datetime(2022, 4, 30) and ws["O3"].number_format == "yyyy-mm-dd"  # noqa: DTZ001
    assert ws["O7"].value == "长期坚持" and ws["Q7"].value == "长期坚持" and ws["R5"].value == "未销号"
    assert ws["K19"].value == "县住房和城乡建设局、县交通运输局"
    assert ws["G3"].alignment.wrap_text and ws["L4"].border.left.style == "thin"
    assert ws.max_row == 2 + 21


def test_the_columns_fit_an_a4_landscape_page(imported, tmp_path):
    """Fitted to the width of A4 landscape, about 230 characters still print legibly; no column is squeezed below
    what its header or its usual content needs."""
    ws = openpyxl.load_workbook(export(imported, tmp_path)).active
    widths = {h: ws.column_dimensions[get_column_letter(col(h))].width for h in HEADERS}

    assert sum(widths.values()) <= 235
    assert widths["序号"] >= 4 and widths["编号"] >= len("ZF2022-0001")
    assert min(widths[h] for h in ("问题描述（具体表现）", "整改措施", "整改进展")) >= 20
    assert widths["红黄绿灯"] >= 10  # "红灯（逾期12天）" on two lines
    assert ws.row_dimensions[2].height <= 14.5 * 2 + 6  # the header row: at most two lines


def test_export_then_import_changes_nothing(imported, office, tmp_path):  # noqa: F811
    path = export(imported, tmp_path)
    before = counts()

    report = apply_ledger(path, campaign="ZF2022", by=office)

    assert report.summary_line() == "新增 0，更新 0，未变 12，错误 0", report.errors
    assert not [w for w in report.warnings if "问题类别" in w]  # no category either side: nothing to say
    assert counts() == {**before, "audit": before["audit"] + 1}


def test_an_export_does_not_import_into_another_campaign(imported, office, tmp_path):  # noqa: F811
    before = counts()
    report = apply_ledger(export(imported, tmp_path), campaign="ZF2023", by=office)

    assert report.summary_line() == "新增 0，更新 0，未变 0，错误 12"
    assert report.errors[0] == (
        "第3行「编号」列：编号“ZF2022-0001”属于专项行动 ZF2022，不属于 ZF2023；新增问题请将编号留空"
    )
    assert counts() == before


def test_cells_that_look_like_formulas_are_escaped_and_import_back_as_text(imported, office, tmp_path):  # noqa: F811
    unit = Unit.objects.get(name="县财政局")
    p = make_problem(campaign=imported, by=office, lead_unit=unit, summary="=SUM(A1:A3)",
                     description="=HYPERLINK(\"http://example.com\",\"点击\")", responsible_leader="@局长")
    services.measure_create(problem=p, by=office, content="+加强监督", unit=unit, deadline=dt.date(2022, 6, 30))
    workflow.assign(problem=p, by=office)
    services.progress_add(measure=p.measures.get(), by=office, text="-已完成一半")
    path = export(imported, tmp_path)

    ws = openpyxl.load_workbook(path).active
    row = ws.max_row
    cells = {ws.cell(row=2, column=c).value: ws.cell(row=row, column=c) for c in range(1, len(HEADERS) + 1)}
    assert cells["问题描述（具体表现）"].value == "'=HYPERLINK(\"http://example.com\",\"点击\")"
    assert cells["问题描述（具体表现）"].data_type == "s"
    assert cells["责任领导"].value == "'@局长" and cells["整改措施"].value == "'+加强监督"
    assert cells["整改进展"].value == "'-已完成一半"

    [read] = [r for r in read_ledger(path).problems if r.number == p.number]
    assert read.description == p.description and read.responsible_leader == "@局长"
    assert (read.measures[0].content, read.measures[0].progress) == ("+加强监督", "-已完成一半")
    assert apply_ledger(path, campaign="ZF2022", by=office).summary_line() == "新增 0，更新 0，未变 13，错误 0"


def test_shared_unit_names_and_app_made_drafts_round_trip(imported, office, tmp_path):  # noqa: F811
    bureau = Unit.objects.get(name="县教育体育局")
    office_of_bureau = Unit.objects.get(name="办公室", parent=bureau)
    draft = make_problem(campaign=imported, by=office, lead_unit=None, summary="食堂超标准采购")
    p = make_problem(campaign=imported, by=office, lead_unit=bureau, summary="材料报送重复")
    services.measure_create(problem=p, by=office, content="合并报表", unit=office_of_bureau, is_long_term=True,
                            deadline=dt.date(2022, 12, 31))  # long-term, with a stage date
    path = export(imported, tmp_path)

    ws = openpyxl.load_workbook(path).active
    assert ws.cell(row=ws.max_row, column=col("措施责任单位")).value == "县教育体育局/办公室"
    assert ws.cell(row=ws.max_row - 1, column=col("销号情况")).value == "待分派"
    # a problem entered in the app with no description: its 问题概述 is printed once, in its own column
    assert ws.cell(row=ws.max_row - 1, column=col("问题概述")).value == "食堂超标准采购"
    assert ws.cell(row=ws.max_row - 1, column=col("问题描述（具体表现）")).value is None

    report = apply_ledger(path, campaign="ZF2022", by=office)
    assert report.summary_line() == "新增 0，更新 0，未变 14，错误 0", report.errors
    draft.refresh_from_db()
    assert draft.status == ProblemStatus.DRAFT and draft.description == ""


def test_export_runs_a_fixed_number_of_queries(imported, office):  # noqa: F811
    UnitFactory(name="县财政局")  # a second unit of a shared name: one more lookup, whatever the size
    some = Problem.objects.filter(campaign=imported, seq__in=[5, 6])  # 县财政局 is in problem 5
    every = Problem.objects.filter(campaign=imported)
    with CaptureQueriesContext(connection) as few:
        export_ledger_xlsx(some, title="t")
    with CaptureQueriesContext(connection) as many:
        export_ledger_xlsx(every, title="t")
    assert len(few) == len(many) <= 8


def test_export_command_writes_the_file(imported, tmp_path):
    out = tmp_path / "台账.xlsx"
    stdout = StringIO()
    call_command("export_ledger", "--campaign", "ZF2022", str(out), stdout=stdout)
    assert stdout.getvalue().strip() == f"已导出 12 个问题、21 项措施：{out}"
    ws = openpyxl.load_workbook(BytesIO(out.read_bytes())).active
    assert ws["A1"].value == "示范县2022年“改进作风、狠抓落实”年问题整改台账"
    with pytest.raises(CommandError, match="不存在"):
        call_command("export_ledger", "--campaign", "NOPE", str(out), stdout=StringIO())


# ---- text that XML or Excel cannot hold -----------------------------------------------------------------------

DIRTY = "\x01\x08\x1b"
CUT = "列：内容在导出时超长被截断，未导入，保留系统中的全文。"


def row_cells(ws, number: str) -> list[dict[str, object]]:
    """The rows of one problem, each as {header: value} (merged cells read on the problem's first row)."""
    headers = [c.value for c in ws[2]]
    rows = [dict(zip(headers, (c.value for c in row), strict=True)) for row in ws.iter_rows(min_row=3)]
    first = next(i for i, r in enumerate(rows) if r["编号"] == number)
    end = next((i for i in range(first + 1, len(rows)) if rows[i]["编号"]), len(rows))
    return rows[first:end]


def test_the_export_succeeds_with_control_characters_in_every_text(imported, office, client):  # noqa: F811
    p = Problem.objects.filter(campaign=imported).order_by("seq").first()
    measures = list(p.measures.order_by("seq"))
    units = {p.lead_unit_id, *(m.unit_id for m in measures), *p.co_units.values_list("pk", flat=True)}
    names = dict(Unit.objects.filter(pk__in=units).values_list("pk", "name"))
    # Written past the services (which refuse them), as data from before they did, or from elsewhere.
    Problem.objects.filter(pk=p.pk).update(
        summary=f"概述{DIRTY}", description=f"描{DIRTY}述", responsible_leader=f"{DIRTY}局长"
    )
    for m in measures:
        Measure.objects.filter(pk=m.pk).update(content=f"措施{m.seq}{DIRTY}", responsible_person=f"李{DIRTY}佳")
        ProgressEntry.objects.create(measure=m, problem=p, on=timezone.localdate(), text=f"进展{DIRTY}{m.seq}")
    Unit.objects.filter(pk__in=units).update(name=Concat(F("name"), Value(DIRTY)),
                                             short_name=Concat(F("short_name"), Value(DIRTY)))
    Source.objects.filter(pk=p.source_id).update(name=Concat(F("name"), Value(DIRTY)))
    Campaign.objects.filter(pk=imported.pk).update(name=f"示范县{DIRTY}专项")
    User.objects.filter(pk=office.pk).update(must_change_password=False)  # past the roster's one-time password
    client.force_login(User.objects.get(pk=office.pk), backend="django.contrib.auth.backends.ModelBackend")

    response = client.get(reverse("ledger:problem_export"), {"campaign": imported.pk})

    assert response.status_code == 200
    ws = openpyxl.load_workbook(BytesIO(response.content)).active
    texts = [v for row in ws.iter_rows(values_only=True) for v in row if isinstance(v, str)]
    assert not [t for t in texts if ILLEGAL_XML_CHARS.search(t)]
    assert ws["A1"].value == "示范县专项问题整改台账"
    rows = row_cells(ws, p.number)
    first = rows[0]
    assert (first["问题描述（具体表现）"], first["责任领导"]) == ("描述", "局长")
    assert first["问题来源"] == p.source.name.replace(DIRTY, "")
    assert names[p.lead_unit_id] in str(first["牵头单位"])
    assert [(r["整改措施"], r["责任人"], r["整改进展"]) for r in rows] == [
        (f"措施{m.seq}", "李佳", f"进展{m.seq}") for m in measures
    ]
    assert all(names[m.unit_id] in str(r["措施责任单位"]) for m, r in zip(measures, rows, strict=True))


def test_text_the_export_had_to_cut_is_not_imported_back(imported, office, tmp_path):  # noqa: F811
    p = Problem.objects.get(campaign=imported, seq=2)
    description = "问题描述超长，" * 5_000 + "完"  # 35,001 characters: more than a cell holds
    Problem.objects.filter(pk=p.pk).update(description=description)
    path = export(imported, tmp_path)
    [cell] = [r["问题描述（具体表现）"] for r in row_cells(openpyxl.load_workbook(path).active, p.number)[:1]]
    assert len(cell) == EXCEL_CELL_MAX and cell.endswith(CUT_MARKER)

    report = preview_ledger(path, campaign="ZF2022", by=office)

    [row] = [r for r in report.rows if r.key == p.number]
    assert row.status == UNCHANGED, (row.changes, row.errors)
    assert f"第{row.row}行「问题描述（具体表现）」{CUT}" in report.warnings
    assert apply_ledger(path, campaign="ZF2022", by=office).summary_line() == "新增 0，更新 0，未变 12，错误 0"
    p.refresh_from_db()
    assert p.description == description


def test_cut_measures_and_progress_are_not_imported_back(imported, office, tmp_path):  # noqa: F811
    p = Problem.objects.get(campaign=imported, seq=1)
    first, second = p.measures.order_by("seq")
    content = "措施内容超长" * 6_000
    Measure.objects.filter(pk=first.pk).update(content=content)
    progress = ProgressEntry.objects.create(measure=second, problem=p, on=timezone.localdate(), text="进展" * 20_000)
    q = Problem.objects.get(campaign=imported, seq=5)
    q_measure = q.measures.order_by("seq").first()
    q_progress = ProgressEntry.objects.create(measure=q_measure, problem=q, on=timezone.localdate(), text="进" * 40_000)
    before = counts()
    path = export(imported, tmp_path)

    report = preview_ledger(path, campaign="ZF2022", by=office)

    rows = {r.key: r for r in report.rows}
    assert rows[p.number].status == UNCHANGED and rows[q.number].status == UNCHANGED, report.warnings
    row = rows[p.number].row
    assert f"第{row}行「整改措施」{CUT}" in report.warnings
    assert f"第{row}行：有整改措施在导出时超长被截断，本问题的整改措施均未导入，保留系统中的内容。" in report.warnings
    assert f"第{rows[q.number].row}行「整改进展」{CUT}" in report.warnings
    assert apply_ledger(path, campaign="ZF2022", by=office).summary_line() == "新增 0，更新 0，未变 12，错误 0"
    first.refresh_from_db()
    assert first.content == content
    assert counts() == {**before, "audit": before["audit"] + 1}
    assert ProgressEntry.objects.filter(pk__in=[progress.pk, q_progress.pk]).count() == 2
