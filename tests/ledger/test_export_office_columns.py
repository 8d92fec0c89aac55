"""The export an office expects: 问题概述 in its own column, the office's 原编号, the 红黄绿灯 with its days, 序号
in the printed order, and 问题类别 by code and name; and re-importing such an export still changes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
import time_machine

from campaigns.models import Campaign, DeadlineMode
from ledger import workflow
from ledger.excel.columns import LEDGER_COLUMNS
from ledger.excel.exporter import export_ledger_xlsx
from ledger.excel.importer import apply_ledger, preview_ledger
from ledger.models import Problem, RectificationType
from tests.ledger.factories import CampaignFactory, CategoryFactory, make_measure, make_problem

from .test_export_ledger import HEADERS, col, export, imported  # noqa: F401  (fixture)
from .test_import_ledger import counts, office, rosters, sample  # noqa: F401  (fixtures)

D = dt.date
TODAY = D(2024, 10, 8)


def sheet(path: Path):
    return openpyxl.load_workbook(path).active


def problem_rows(ws) -> list[dict[str, object]]:
    """Each problem's first row, as {header: value}."""
    headers = [c.value for c in ws[2]]
    rows = [dict(zip(headers, (c.value for c in row), strict=True)) for row in ws.iter_rows(min_row=3)]
    return [r for r in rows if r["编号"]]


@pytest.fixture
def ledger(people, county):
    """A campaign with a two-level catalogue (two 方面 both with an "其他"), and open problems on either side of
    TODAY's seven-day yellow window, one voided."""
    campaign = CampaignFactory(code="GY2024", yellow_window_days=7, deadline_mode=DeadlineMode.CALENDAR)
    politics = CategoryFactory(campaign=campaign, code="1", name="政治责任方面")
    study = CategoryFactory(campaign=campaign, code="1.01", name="学习贯彻不深不实", parent=politics)
    other_politics = CategoryFactory(campaign=campaign, code="1.05", name="其他", parent=politics)
    service = CategoryFactory(campaign=campaign, code="2", name="服务群众方面")
    CategoryFactory(campaign=campaign, code="2.05", name="其他", parent=service)

    def problem(summary: str, deadline: D | None, **values):
        p = make_problem(campaign=campaign, by=people.office, lead_unit=county.education, summary=summary,
                         deadline=deadline, **values)
        make_measure(problem=p, unit=county.education, deadline=deadline, is_long_term=deadline is None)
        workflow.assign(problem=p, by=people.office)
        return p

    red = problem("学习走过场", D(2024, 9, 26), category=study, source_number="XC-2024-07",
                  description="理论学习中心组学习照本宣科，研讨发言照搬材料")
    yellow = problem("窗口推诿", D(2024, 10, 11), category=other_politics, source_number="",
                     description="办事群众反映窗口人员推诿扯皮")
    due_today = problem("材料重复报送", TODAY)
    green = problem("会议过多", D(2024, 11, 30), category=study)
    long_term = problem("长效机制未建立", None, rectification_type=RectificationType.LONG_TERM)
    voided = problem("重复录入", D(2024, 9, 1))
    workflow.void(problem=voided, by=people.office, reason="重复")
    return {"campaign": campaign, "red": red, "yellow": yellow, "due_today": due_today, "green": green,
            "long_term": long_term, "voided": voided}


def export_of(ledger, tmp_path: Path, *, order: str = "seq", today: D | None = TODAY) -> Path:
    path = tmp_path / "台账.xlsx"
    problems = Problem.objects.filter(campaign=ledger["campaign"]).order_by(order)
    path.write_bytes(export_ledger_xlsx(problems, title="共青团问题整改台账", today=today))
    return path


def by_number(ws) -> dict[str, dict[str, object]]:
    return {str(r["编号"]): r for r in problem_rows(ws)}


# ---- the columns -------------------------------------------------------------------------------------------------

def test_the_new_columns_sit_where_an_office_looks_for_them():
    assert HEADERS.index("原编号") == HEADERS.index("编号") + 1
    assert HEADERS.index("问题概述") + 1 == HEADERS.index("问题描述（具体表现）")
    # the import knows 红黄绿灯 as the system's own column and never reads it
    [light] = [c for c in LEDGER_COLUMNS if c.key == "light"]
    assert light.label == "红黄绿灯" and "红黄绿灯" in HEADERS and not light.read


def test_summary_and_source_number_have_their_own_columns(ledger, tmp_path):
    rows = by_number(sheet(export_of(ledger, tmp_path)))

    red, yellow = rows[ledger["red"].number], rows[ledger["yellow"].number]
    assert (red["原编号"], red["问题概述"], red["问题描述（具体表现）"]) == (
        "XC-2024-07", "学习走过场", "理论学习中心组学习照本宣科，研讨发言照搬材料")
    assert yellow["原编号"] is None  # an office number may be blank
    # no description: the summary is printed once, and the description left blank
    assert (rows[ledger["green"].number]["问题概述"], rows[ledger["green"].number]["问题描述（具体表现）"]) == (
        "会议过多", None)


def test_the_light_column_shows_the_light_and_its_days(ledger, tmp_path):
    rows = by_number(sheet(export_of(ledger, tmp_path)))

    light = {name: rows[ledger[name].number]["红黄绿灯"] for name in
             ("red", "yellow", "due_today", "green", "long_term", "voided")}
    assert light == {
        "red": "红灯（逾期12天）", "yellow": "黄灯（剩余3天）", "due_today": "黄灯（今日到期）", "green": "绿灯",
        "long_term": "绿灯", "voided": "—",
    }


def test_the_light_is_the_one_of_the_day_of_the_export(ledger, tmp_path):
    # 2024-10-08 00:30 in Shanghai (still 10/7 in UTC): the local date decides, as on the ledger page
    with time_machine.travel(dt.datetime(2024, 10, 7, 16, 30, tzinfo=dt.UTC), tick=False):
        rows = by_number(sheet(export_of(ledger, tmp_path, today=None)))
    assert rows[ledger["red"].number]["红黄绿灯"] == "红灯（逾期12天）"
    assert rows[ledger["yellow"].number]["红黄绿灯"] == "黄灯（剩余3天）"
    # a week later the yellow one is overdue and the green one still green
    rows = by_number(sheet(export_of(ledger, tmp_path, today=D(2024, 10, 15))))
    assert rows[ledger["yellow"].number]["红黄绿灯"] == "红灯（逾期4天）"
    assert rows[ledger["green"].number]["红黄绿灯"] == "绿灯"


def test_the_light_follows_the_campaigns_working_day_window(ledger, tmp_path):
    # 10/16 is seven working days from 10/8 across National Day, but eight calendar days
    Campaign.objects.filter(pk=ledger["campaign"].pk).update(deadline_mode=DeadlineMode.WORKING)
    Problem.objects.filter(pk=ledger["green"].pk).update(deadline=D(2024, 10, 16))
    rows = by_number(sheet(export_of(ledger, tmp_path)))
    assert rows[ledger["green"].number]["红黄绿灯"] == "黄灯（剩余8天）"


def test_categories_are_printed_by_code_and_name(ledger, tmp_path):
    rows = by_number(sheet(export_of(ledger, tmp_path)))

    assert rows[ledger["red"].number]["问题类别"] == "1.01 学习贯彻不深不实"
    assert rows[ledger["yellow"].number]["问题类别"] == "1.05 其他"  # not 2.05 其他: the code tells them apart
    assert rows[ledger["due_today"].number]["问题类别"] is None


def test_seq_counts_the_printed_rows(ledger, tmp_path):
    ws = sheet(export_of(ledger, tmp_path, order="-seq"))

    rows = problem_rows(ws)
    assert [r["序号"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert [r["编号"] for r in rows] == [p.number for p in
                                        Problem.objects.filter(campaign=ledger["campaign"]).order_by("-seq")]


def test_seq_counts_problems_not_rows_and_restarts_for_a_filtered_export(imported, tmp_path):  # noqa: F811
    ws = sheet(export(imported, tmp_path))
    seqs = [ws.cell(row=r, column=col("序号")).value for r in range(3, ws.max_row + 1)]
    assert [s for s in seqs if s is not None] == list(range(1, 13))  # 12 problems over 21 rows

    path = tmp_path / "部分.xlsx"
    path.write_bytes(export_ledger_xlsx(Problem.objects.filter(campaign=imported, seq__in=[5, 9, 11]).order_by("-seq"),
                                        title="t"))
    assert [(r["序号"], r["编号"]) for r in problem_rows(sheet(path))] == [
        (1, "ZF2022-0011"), (2, "ZF2022-0009"), (3, "ZF2022-0005")]


# ---- the round trip --------------------------------------------------------------------------------------------

def test_an_export_in_another_order_imports_back_unchanged(ledger, people, tmp_path):
    path = export_of(ledger, tmp_path, order="-seq")  # 序号 1 is the problem whose seq is 6
    before = counts()

    preview = preview_ledger(path, campaign="GY2024", by=people.office)
    light = next(c for c in preview.columns if c["header"] == "红黄绿灯")
    assert (light["key"], light["label"]) == ("", "红黄绿灯（系统生成，不导入）")
    report = apply_ledger(path, campaign="GY2024", by=people.office)

    assert report.summary_line() == "新增 0，更新 0，未变 6，错误 0", (report.errors, [r.changes for r in report.rows])
    assert counts() == {**before, "audit": before["audit"] + 1}
    red = Problem.objects.get(pk=ledger["red"].pk)
    assert (red.seq, red.source_number, red.summary, red.category.code) == (
        ledger["red"].seq, "XC-2024-07", "学习走过场", "1.01")
    assert Problem.objects.get(pk=ledger["yellow"].pk).category.code == "1.05"


def test_an_edited_light_or_seq_changes_nothing(ledger, people, tmp_path):
    path = export_of(ledger, tmp_path)
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    for r in range(3, ws.max_row + 1):
        if ws.cell(row=r, column=col("编号")).value:
            ws.cell(row=r, column=col("红黄绿灯"), value="绿灯")
            ws.cell(row=r, column=col("序号"), value=99 - r)
    wb.save(path)

    report = apply_ledger(path, campaign="GY2024", by=people.office)

    assert report.summary_line() == "新增 0，更新 0，未变 6，错误 0", (report.errors, [r.changes for r in report.rows])
    assert sorted(Problem.objects.filter(campaign=ledger["campaign"]).values_list("seq", flat=True)) == list(
        range(1, 7))


def test_a_changed_category_or_source_number_in_the_export_is_imported(ledger, people, tmp_path):
    path = export_of(ledger, tmp_path)
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    row = next(r for r in range(3, ws.max_row + 1) if ws.cell(row=r, column=col("编号")).value == ledger["red"].number)
    ws.cell(row=row, column=col("问题类别"), value="服务群众方面/2.05 其他")
    ws.cell(row=row, column=col("原编号"), value="XC-2024-08")
    ws.cell(row=row, column=col("问题概述"), value="学习流于形式")
    wb.save(path)

    report = apply_ledger(path, campaign="GY2024", by=people.office)

    assert report.summary_line() == "新增 0，更新 1，未变 5，错误 0", report.errors
    red = Problem.objects.get(pk=ledger["red"].pk)
    assert (red.category.code, red.source_number, red.summary) == ("2.05", "XC-2024-08", "学习流于形式")
