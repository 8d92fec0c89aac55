"""The 月调度 of May 2022 from the scripted timeline, read back from the workbook."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from core.audit import Action
from core.models import AuditEntry, Job
from ledger import workflow
from ledger.workflow import WorkflowError
from reports.models import ReportKind, ReportRun, ReportStatus
from reports.services import report_build
from tests.reports.test_figures import on, timeline  # noqa: F401

TITLE = "{name}2022年5月作风问题整改月调度表（截至2022年5月31日）"
UNIT_HEADERS = ["单位", "问题总数", "本月新增", "已销号", "待核查", "整改中", "长期坚持", "逾期", "整改率",
                "按期整改率", "环比", "排名", "亮灯", "连续上黑榜"]


def build(campaign, by, period="2022-05"):
    return report_build(campaign=campaign, kind=ReportKind.MONTHLY, period_label=period, by=by, inline=True)


def workbook(run):
    with run.file.open("rb") as fh:
        return load_workbook(io.BytesIO(fh.read()))


def values(ws):
    return [list(row) for row in ws.iter_rows(values_only=True)]


def rows_by_first(ws):
    return {row[0]: row for row in values(ws)[2:]}


def test_may_workbook(timeline, people):  # noqa: F811
    campaign, county = timeline
    run = build(campaign, people.office)

    assert (run.status, run.version, run.period_label, str(run.period_start), str(run.period_end)) == (
        ReportStatus.READY, 1, "2022-05", "2022-05-01", "2022-05-31")
    assert run.job is not None and run.job.status == Job.Status.DONE and run.job.result_file
    wb = workbook(run)
    assert wb.sheetnames == ["汇总", "各单位", "逾期问题清单", "本月销号清单", "挂牌督办清单", "按类别", "按来源"]
    for ws in wb.worksheets:
        assert ws["A1"].value == TITLE.format(name=campaign.name)
        assert ws.page_setup.orientation == "landscape"
        assert str(ws.page_setup.paperSize) == str(ws.PAPERSIZE_A4)
        assert ws.print_title_rows == "$2:$2"
        assert ws.oddFooter.center.text == "第 &P 页 共 &N 页"

    summary = wb["汇总"]
    figures = {row[0]: row[1] for row in values(summary)[2:]}
    assert {k: figures[k] for k in ("问题总数", "本月新增", "已销号", "待核查", "整改中", "长期坚持", "逾期")} == {
        "问题总数": 5, "本月新增": 2, "已销号": 2, "待核查": 1, "整改中": 2, "长期坚持": 0, "逾期": 1}
    rate_cell = next(row[1] for row in summary.iter_rows(min_row=3) if row[0].value == "整改率")
    assert rate_cell.value == pytest.approx(0.4) and rate_cell.number_format == "0.0%"
    assert figures["按期整改率"] == pytest.approx(0.25) and figures["逾期率"] == pytest.approx(0.2)
    assert figures["环比"] == pytest.approx(40 - 200 / 3, abs=1e-4)  # April: 2 of 3 closed

    units = wb["各单位"]
    assert values(units)[1] == UNIT_HEADERS
    table = rows_by_first(units)
    edu, fin = table["县教育体育局"], table["县财政局"]
    assert list(edu[1:8]) == [3, 1, 2, 0, 1, 0, 1]
    assert edu[8] == pytest.approx(2 / 3) and edu[9] == pytest.approx(1 / 3)
    assert (edu[11], edu[12]) == (1, "红")
    assert list(fin[1:8]) == [2, 1, 0, 1, 1, 0, 0]
    assert fin[8] == 0 and fin[10] == 0 and (fin[11], fin[12]) == (2, "绿")
    assert table["城关街道"][8:13] == ["—", "—", "—", "—", "绿"]

    overdue = values(wb["逾期问题清单"])
    assert overdue[1] == ["编号", "问题概述", "牵头单位", "整改时限", "逾期天数", "督办级别", "督办单"]
    [row] = overdue[2:]
    assert (row[1], row[2], row[3].date().isoformat(), row[4]) == ("P2 五月逾期", "县教育体育局", "2022-05-20", 11)
    assert (row[5], row[6]) == (None, None)  # never escalated nor ordered by May 31
    assert values(wb["本月销号清单"])[2:] == []  # P1 and P8 were closed in April
    assert values(wb["挂牌督办清单"])[2:] == []
    # The timeline's problems have no category: one row, the campaign's figures.
    assert [r[:6] for r in values(wb["按类别"])[2:]] == [["未分类", 5, 2, 1, 2, 1]]
    by_source = values(wb["按来源"])
    assert by_source[1][:3] == ["问题来源", "问题总数", "已销号"] and sum(r[1] for r in by_source[2:]) == 5


def test_a_listed_problem_is_on_the_list(timeline, people):  # noqa: F811
    campaign, _ = timeline
    p2 = campaign.problems.get(summary="P2 五月逾期")
    with on(5, 25):
        workflow.set_listed(problem=p2, by=people.office, listed=True, reason="逾期未整改")
    wb = workbook(build(campaign, people.office))
    rows = values(wb["挂牌督办清单"])[2:]
    assert [(r[0], r[1], r[4], r[6]) for r in rows] == [(p2.number, "P2 五月逾期", "整改中", "逾期未整改")]
    [overdue] = values(wb["逾期问题清单"])[2:]
    assert overdue[5] == "挂牌督办"
    # Listed in May, it is not on April's list.
    assert values(workbook(build(campaign, people.office, "2022-04"))["挂牌督办清单"])[2:] == []


def test_closed_this_month(timeline, people):  # noqa: F811
    campaign, _ = timeline
    rows = values(workbook(build(campaign, people.office, "2022-04"))["本月销号清单"])[2:]
    assert sorted(r[1] for r in rows) == ["P1 按期销号", "P8 逾期后销号"]


def test_building_again_adds_a_version_with_the_same_cells(timeline, people):  # noqa: F811
    campaign, _ = timeline
    first, second = build(campaign, people.office), build(campaign, people.office)

    assert (first.version, second.version) == (1, 2) and first.file.name != second.file.name
    assert [values(ws) for ws in workbook(first).worksheets] == [values(ws) for ws in workbook(second).worksheets]
    assert AuditEntry.objects.filter(action=Action.CREATE, object_id=str(second.pk)).exists()


def test_the_command_prints_the_summary(timeline, capsys):  # noqa: F811
    campaign, _ = timeline
    call_command("build_report", "--campaign", campaign.code, "--kind", "monthly", "--period", "2022-05")
    out = capsys.readouterr().out.splitlines()
    run = ReportRun.objects.get()
    assert out[0] == run.file.path
    assert out[1].endswith("问题总数 5，已销号 2，整改率 40.0%")


@pytest.mark.parametrize("args, message", [
    (["--campaign", "NOPE", "--period", "2022-05"], "不存在"),
    (["--kind", "yearly", "--period", "2022-05"], "不支持的报表类型"),
    (["--period", "2022-13"], "格式不正确"),
])
def test_the_command_refuses_bad_input(timeline, args, message):  # noqa: F811
    campaign, _ = timeline
    full = args if "--campaign" in args else ["--campaign", campaign.code, *args]
    with pytest.raises(CommandError, match=message):
        call_command("build_report", *full)
    assert not ReportRun.objects.exists()


def nothing_written():
    return (ReportRun.objects.count(), Job.objects.count(), AuditEntry.objects.filter(action=Action.CREATE,
            content_type__model="reportrun").count())


@pytest.mark.parametrize("period", ["2022-00", "2022-13", "五月", "2022Q2", "2999-01"])
def test_a_bad_period_is_refused(timeline, people, period):  # noqa: F811
    campaign, _ = timeline
    with pytest.raises(ValidationError):
        build(campaign, people.office, period)
    assert nothing_written() == (0, 0, 0)


def test_a_liaison_may_not_build(timeline, people):  # noqa: F811
    campaign, _ = timeline
    with pytest.raises(WorkflowError) as exc:
        build(campaign, people.liaison)
    assert exc.value.kind == workflow.ROLE
    assert nothing_written() == (0, 0, 0)


@pytest.mark.parametrize("kind, label, message", [
    (ReportKind.QUARTERLY, "2022-06", "2026Q3"),
    (ReportKind.WEEKLY, "2022Q2", "2026-W48"),
    (ReportKind.WEEKLY, "2022-W54", "格式不正确"),
    ("yearly", "2022", "不支持的报表类型"),
])
def test_a_label_of_another_kind_is_refused_with_the_right_form(timeline, people, kind, label, message):  # noqa: F811
    campaign, _ = timeline
    with pytest.raises(ValidationError, match=message):
        report_build(campaign=campaign, kind=kind, period_label=label, by=people.office)
    assert nothing_written() == (0, 0, 0)


def test_a_short_month_is_read_as_the_month(timeline, people):  # noqa: F811
    campaign, _ = timeline
    assert build(campaign, people.office, "2022-5").period_label == "2022-05"


@pytest.mark.parametrize("window, light", [(30, "黄"), (29, "绿")])
def test_yellow_when_a_deadline_falls_within_the_window(timeline, people, window, light):  # noqa: F811
    campaign, _ = timeline  # 县财政局: P3 整改中, due 6月30日, nothing overdue
    campaign.yellow_window_days = window
    campaign.save(update_fields=["yellow_window_days"])
    assert rows_by_first(workbook(build(campaign, people.office))["各单位"])["县财政局"][12] == light
