"""Ledger import from .xlsx over the shared rosters: both layouts, aliases, dates, status words, upsert, all or
nothing, the command line."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.services import category_import
from core.models import AuditEntry
from ledger.excel.importer import apply_ledger, preview_ledger
from ledger.excel.reader import parse_deadline, split_numbered
from ledger.models import (
    Measure,
    MeasureStatus,
    Problem,
    ProblemStatus,
    ProgressEntry,
    RectificationType,
    Transition,
    TransitionAction,
)
from units.models import Role, User
from units.roster import apply_roster

SAMPLE = "problem_ledger.xlsx"
EXCEL_DATETIME = dt.datetime(2022, 5, 20)  # noqa: DTZ001  (a date cell as openpyxl gives it: no time zone)


# ---- shared setup (also used by the export and view tests) -----------------------------------------------------

@pytest.fixture
def rosters(db: None, shared_data: Path) -> None:
    """The county of the shared sample files: 84 units, 92 people."""
    assert apply_roster("units", shared_data / "units_roster.xlsx", by=None).ok
    assert apply_roster("users", shared_data / "users_roster.xlsx", by=None).ok


@pytest.fixture
def office(rosters: None) -> User:
    return User.objects.with_role(Role.OFFICE).order_by("id").first()


@pytest.fixture
def sample(shared_data: Path) -> Path:
    return shared_data / SAMPLE


def counts() -> dict[str, int]:
    return {
        "campaigns": Campaign.objects.count(), "problems": Problem.objects.count(),
        "measures": Measure.objects.count(), "progress": ProgressEntry.objects.count(),
        "transitions": Transition.objects.count(), "audit": AuditEntry.objects.count(),
    }


HEADER = ["序号", "问题来源", "问题类别", "问题描述（具体表现）", "整改类型", "责任领导", "牵头单位", "配合单位",
          "整改措施", "措施责任单位", "责任人", "整改时限", "整改进展", "整改状态", "销号情况"]


def write_xlsx(path: Path, rows: list[list[Any]], *, merges: tuple[str, ...] = ()) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    for rng in merges:
        ws.merge_cells(rng)
    wb.save(path)
    return path


def one_problem(path: Path, **cells: Any) -> Path:
    """A ledger in the sample's layout with one problem of one measure; `cells` override by header text."""
    values = {
        "序号": 1, "问题来源": "自查自纠", "问题类别": "", "问题描述（具体表现）": "会议多、文件多，基层负担重",
        "整改类型": "限期整改", "责任领导": "局长", "牵头单位": "县教育体育局", "配合单位": "",
        "整改措施": "精简会议文件", "措施责任单位": "县教育体育局", "责任人": "李佳", "整改时限": "2022-06-30",
        "整改进展": "", "整改状态": "正在推进", "销号情况": "未销号", **cells,
    }
    return write_xlsx(path, [["测试台账"], HEADER, [values[h] for h in HEADER]])


def problem(seq: int) -> Problem:
    return Problem.objects.select_related("lead_unit").get(campaign__code="ZF2022", seq=seq)


# ---- the shared sample ------------------------------------------------------------------------------------------

def test_sample_ledger_creates_problems_measures_units_deadlines_and_states(office, sample):
    report = apply_ledger(sample, campaign="ZF2022", by=office)

    assert report.ok and report.applied, report.errors
    assert report.summary_line() == "新增 12，更新 0，未变 0，错误 0"
    campaign = Campaign.objects.get(code="ZF2022")
    assert campaign.name == "示范县2022年“改进作风、狠抓落实”年"
    assert Problem.objects.filter(campaign=campaign).count() == 12
    assert Measure.objects.filter(problem__campaign=campaign).count() == 21
    assert [p.number for p in Problem.objects.order_by("seq")][:2] == ["ZF2022-0001", "ZF2022-0002"]

    p1 = problem(1)
    assert p1.status == ProblemStatus.CLOSED and p1.lead_unit.name == "县人民政府办公室"
    assert p1.source.name == "自查自纠" and p1.responsible_leader == "县政府办公室主任"
    assert p1.deadline == dt.date(2022, 5, 31)  # the latest of its measures
    assert {m.status for m in p1.measures.all()} == {MeasureStatus.DONE}
    # the state the office's ledger records, as one 台账导入 step naming the file and the row; no sign-off invented
    [t] = p1.transitions.all()
    assert (t.action, t.from_status, t.to_status, t.by) == (TransitionAction.IMPORT, "", ProblemStatus.CLOSED, office)
    assert t.reason == "台账导入：「problem_ledger.xlsx」第3行"
    assert not p1.review_rounds.exists()
    assert problem(3).status == ProblemStatus.PENDING_REVIEW
    [rr] = problem(3).review_rounds.all()  # the recorded application, for the office to decide
    assert rr.decision == "pending" and rr.applied_by is None
    assert problem(3).rectification_type == RectificationType.IMMEDIATE

    p2 = problem(2)
    m21, m22, m23 = p2.measures.order_by("seq")
    assert m22.unit.name == "县政务服务和大数据管理局" and m22.responsible_person == "许宇宇"
    assert m22.deadline == dt.date(2022, 6, 30)
    assert m23.is_long_term and m23.deadline is None
    assert [u.name for u in p2.co_units.all()] == ["县政务服务和大数据管理局"]
    assert m21.progress_entries.get().text == "台账已建立，收录诉求37件"

    p6, p9 = problem(6), problem(9)
    assert p6.status == p9.status == ProblemStatus.IN_PROGRESS
    assert p9.rectification_type == RectificationType.LONG_TERM and p9.deadline is None
    assert p9.measures.get().is_long_term and p9.measures.get().status == MeasureStatus.IN_PROGRESS
    assert [m.is_long_term for m in p6.measures.order_by("seq")] == [False, True]

    assert problem(8).measures.get().status == MeasureStatus.NOT_STARTED
    assert problem(8).status == ProblemStatus.IN_PROGRESS
    assert sorted(u.name for u in problem(10).co_units.all()) == ["县交通运输局", "县住房和城乡建设局"]
    assert problem(4).lead_unit.name == "城关市场监管所"
    assert problem(11).deadline == dt.date(2022, 9, 30)
    assert problem(12).status == ProblemStatus.CLOSED
    # 18 measures carry a 整改进展, dated the import day
    assert ProgressEntry.objects.count() == 18
    assert set(ProgressEntry.objects.values_list("on", flat=True)) == {timezone.localdate()}


def test_reimporting_the_same_file_changes_nothing(office, sample):
    apply_ledger(sample, campaign="ZF2022", by=office)
    before = counts()

    report = apply_ledger(sample, campaign="ZF2022", by=office)

    assert report.summary_line() == "新增 0，更新 0，未变 12，错误 0"
    after = counts()
    assert after == {**before, "audit": before["audit"] + 1}  # only the entry saying the import ran


def test_categories_are_matched_by_code_when_the_campaign_has_a_catalogue(office, sample, shared_data):
    report = apply_ledger(sample, campaign="ZF2022", by=office)
    assert any("问题类别" in w for w in report.warnings)  # no catalogue yet: left empty, not an error
    assert problem(1).category is None

    campaign = Campaign.objects.get(code="ZF2022")
    assert category_import(campaign=campaign, file=shared_data / "categories.xlsx", by=office).ok
    report = apply_ledger(sample, campaign="ZF2022", by=office)

    # open problems get their category; signed-off ones may not be edited any more, which is said
    assert report.ok, report.errors
    assert report.summary_line() == "新增 0，更新 9，未变 3，错误 0"
    assert problem(2).category.code == "2.06" and problem(3).category.code == "3.08"
    assert problem(1).category is None and any("3 个已销号" in w for w in report.warnings)


def test_categories_with_catalogue_before_the_first_import(office, sample, shared_data):
    campaign = Campaign.objects.create(code="ZF2022", name="作风建设年")
    campaign.sources.create(name="自查自纠")
    for name in ("上级通报", "群众反映", "明察暗访", "督查反馈", "巡视巡察", "审计监督"):
        campaign.sources.create(name=name)
    assert category_import(campaign=campaign, file=shared_data / "categories.xlsx", by=office).ok

    report = apply_ledger(sample, campaign="ZF2022", by=office)

    assert report.ok, report.errors
    assert problem(1).category.code == "4.10" and problem(7).category.name == "违规吃喝、违规收送礼品礼金"


# ---- upsert ----------------------------------------------------------------------------------------------------

def test_changed_cells_update_through_the_services_and_states_never_come_from_the_file(office, sample, tmp_path):
    apply_ledger(sample, campaign="ZF2022", by=office)
    wb = openpyxl.load_workbook(sample)
    ws = wb.active
    ws["M5"] = "台账已建立，收录诉求52件"  # 整改进展 of problem 2, measure 1
    ws["L6"] = "2022年7月31日"  # deadline of problem 2, measure 2
    ws["O5"] = "申请销号"  # problem 2 applies for sign-off
    ws["N5"] = "已完成"
    ws["H11"] = "县财政局、县审计局"  # co-units of problem 5
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)

    report = apply_ledger(edited, campaign="ZF2022", by=office)

    assert report.ok, report.errors
    assert report.summary_line() == "新增 0，更新 2，未变 10，错误 0"
    p2 = problem(2)
    m1, m2, m3 = p2.measures.order_by("seq")
    # the file's 申请销号 is not an application: the problem stays 整改中 and the preview says why
    assert p2.status == ProblemStatus.IN_PROGRESS and not p2.review_rounds.exists()
    # measure states are data entry, through the workflow (the problem is being rectified)
    assert {m.status for m in (m1, m2, m3)} == {MeasureStatus.DONE}
    assert m1.progress_entries.first().text == "台账已建立，收录诉求52件" and m1.progress_entries.count() == 2
    assert m2.deadline == dt.date(2022, 7, 31) and p2.deadline == dt.date(2022, 7, 31)
    assert sorted(u.name for u in problem(5).co_units.all()) == ["县审计局", "县财政局"]
    row = next(r for r in report.rows if r.key == "ZF2022-0002")
    assert "状态" not in row.changes
    assert row.notices == ["第5行「销号情况」：系统：整改中；文件：待核查 — 状态不从文件导入，请在系统中办理。"]
    notes = AuditEntry.objects.filter(object_id=str(m1.pk), content_type__model="measure", action="update")
    assert notes.filter(note="台账导入：「edited.xlsx」第5行", changes__status=["推进中", "已完成"]).exists()


def test_a_closed_problem_is_not_reopened_by_a_file(office, sample, tmp_path):
    apply_ledger(sample, campaign="ZF2022", by=office)
    wb = openpyxl.load_workbook(sample)
    wb.active["O3"] = "未销号"  # problem 1 is closed
    wb.active["M5"] = "新的进展"  # a valid change elsewhere: all or nothing
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)
    before = counts()

    report = apply_ledger(edited, campaign="ZF2022", by=office)

    assert report.applied and problem(1).status == ProblemStatus.CLOSED
    row = next(r for r in report.rows if r.key == "ZF2022-0001")
    assert row.status == "unchanged" and "系统：已销号；文件：未销号 — 状态不从文件导入" in row.notices[0]
    assert counts()["transitions"] == before["transitions"]


def test_only_the_office_may_change_existing_problems(office, sample, tmp_path):
    admin = User.objects.with_role(Role.ADMIN).exclude(role_grants__role=Role.OFFICE).first()
    refused = apply_ledger(sample, campaign="ZF2022", by=admin)
    assert refused.file_errors == [f"只有作风办可以导入问题台账。（当前账号：{admin}）"]
    assert not Problem.objects.exists()
    assert apply_ledger(sample, campaign="ZF2022", by=office).ok
    wb = openpyxl.load_workbook(sample)
    wb.active["M5"] = "新的进展"
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)

    report = preview_ledger(edited, campaign="ZF2022", by=admin)

    assert report.errors == [f"只有作风办可以导入问题台账。（当前账号：{admin}）"]
    assert apply_ledger(edited, campaign="ZF2022", by=office).ok


def test_matching_by_description_when_seq_is_missing(office, tmp_path):
    path = one_problem(tmp_path / "a.xlsx", 序号="")
    apply_ledger(path, campaign="ZF2022", by=office)
    path = one_problem(tmp_path / "b.xlsx", 序号="", 整改进展="已精简会议3个")

    report = apply_ledger(path, campaign="ZF2022", by=office)

    assert report.summary_line() == "新增 0，更新 1，未变 0，错误 0"
    assert Problem.objects.count() == 1


# ---- the one-row-per-problem layout, title rows, aliases ---------------------------------------------------------

def test_one_row_per_problem_with_numbered_measures_title_rows_and_aliases(office, tmp_path):
    path = write_xlsx(tmp_path / "rows.xlsx", [
        ["城关镇2022年作风问题整改台账"],
        ["填报单位：县作风办", None, None, "填报日期：2022年4月1日"],
        ["序号", "问题内容", "责任单位", "配合单位", "责任领导（职务）", "整改措施", "完成时限", "进展情况", "整改状态",
         "销号情况"],
        [1, "窗口服务态度生硬，群众反映强烈", "县教育体育局", "县财政局，县民政局", "局长（张某）",
         "1.开展作风教育；2.建立窗口评议制度；3.每月通报评议结果", "1.2022年6月30日；2.2022.7.31；3.长期坚持",
         "已开展教育1次", "正在整改", "未销号"],
        [2, "项目审批慢", "县住房和城乡建设局、县交通运输局", "", "局长",
         "（1）压缩审批时限；（2）推行并联审批", EXCEL_DATETIME, "", "未启动", ""],
        [3, "接待超标准", "县交通运输局", "", "局长", "清退超标准费用", "立行立改", "已清退", "已完成", "已销号"],
    ])

    report = apply_ledger(path, campaign="ZF2022", by=office)

    assert report.ok, report.errors
    assert Campaign.objects.get(code="ZF2022").name == "城关镇2022年作风"
    p1, p2, p3 = (problem(i) for i in (1, 2, 3))
    m = list(p1.measures.order_by("seq"))
    assert [x.content for x in m] == ["开展作风教育", "建立窗口评议制度", "每月通报评议结果"]
    assert [(x.deadline, x.is_long_term) for x in m] == [
        (dt.date(2022, 6, 30), False), (dt.date(2022, 7, 31), False), (None, True)]
    assert {x.unit.name for x in m} == {"县教育体育局"}
    assert sorted(u.name for u in p1.co_units.all()) == ["县民政局", "县财政局"]
    assert p1.responsible_leader == "局长（张某）" and p1.deadline == dt.date(2022, 7, 31)
    assert m[0].progress_entries.get().text == "已开展教育1次" and not m[1].progress_entries.exists()
    assert {x.status for x in m} == {MeasureStatus.IN_PROGRESS}
    # several units in the lead cell: the first leads, the others assist
    assert p2.lead_unit.name == "县住房和城乡建设局" and [u.name for u in p2.co_units.all()] == ["县交通运输局"]
    assert [x.deadline for x in p2.measures.all()] == [dt.date(2022, 5, 20)] * 2
    assert p2.status == ProblemStatus.IN_PROGRESS
    assert p3.status == ProblemStatus.CLOSED and p3.rectification_type == RectificationType.IMMEDIATE
    assert p3.measures.get().deadline == timezone.localdate()

    again = apply_ledger(path, campaign="ZF2022", by=office)
    assert again.summary_line() == "新增 0，更新 0，未变 3，错误 0"


def test_measure_rows_without_merged_cells_also_group_by_problem(office, tmp_path):
    rows = [["测试台账"], HEADER,
            ["", "", "", "一、基层减负方面"],
            [1, "自查自纠", "", "问题甲", "限期整改", "局长", "县财政局", "", "措施一", "县财政局", "赵桐欣",
             "2022/06/30", "", "正在推进", "未销号"],
            ["", "", "", "", "", "", "", "", "措施二", "县财政局", "赵桐欣", 44742, "", "", ""],
            [2, "自查自纠", "", "问题乙", "限期整改", "局长", "县民政局", "", "措施三", "", "马涵",
             "2022-05-31", "", "已完成", "申请销号"],
            ["填表说明：本表由各单位填报"]]
    path = write_xlsx(tmp_path / "flat.xlsx", rows)

    report = apply_ledger(path, campaign="ZF2022", by=office)

    assert report.ok, report.errors
    assert any("第3行" in w for w in report.warnings)  # the heading and the footnote are skipped, said so
    assert any("第7行" in w for w in report.warnings) and Problem.objects.count() == 2
    assert [m.content for m in problem(1).measures.order_by("seq")] == ["措施一", "措施二"]
    assert {m.deadline for m in problem(1).measures.all()} == {dt.date(2022, 6, 30)}
    assert {m.status for m in problem(1).measures.all()} == {MeasureStatus.IN_PROGRESS}
    assert problem(2).measures.get().unit.name == "县民政局"  # blank measure unit: the lead unit
    assert problem(2).status == ProblemStatus.PENDING_REVIEW


# ---- cell values ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    "2022-06-30", "2022年6月30日", "2022.6.30", "2022/06/30", EXCEL_DATETIME.replace(day=30, month=6),
    dt.date(2022, 6, 30),
    44742, 44742.0, "2022年6月30日前",
])
def test_every_date_form_reads_as_the_same_day(value):
    assert parse_deadline(value).date == dt.date(2022, 6, 30)


def test_deadline_words_and_numbered_cells():
    assert parse_deadline("长期坚持").long_term and parse_deadline("立行立改").immediate
    assert parse_deadline("") is None
    with pytest.raises(ValueError, match="无法识别的日期"):
        parse_deadline("6月底前")
    assert split_numbered("1.甲；2.乙；3.丙") == ["甲", "乙", "丙"]
    assert split_numbered("1、甲\n2、乙") == ["甲", "乙"]
    assert split_numbered("①甲②乙") == ["甲", "乙"]
    assert split_numbered("压缩时限至1.5天；2.不是编号") is None
    assert split_numbered("1.只有一项") is None


def test_excel_serial_dates_in_the_deadline_column(office, tmp_path):
    path = one_problem(tmp_path / "serial.xlsx", 整改时限=44742)
    assert apply_ledger(path, campaign="ZF2022", by=office).ok
    assert problem(1).measures.get().deadline == dt.date(2022, 6, 30)


# ---- errors: row and column named, nothing written ---------------------------------------------------------------

def test_unknown_unit_is_an_error_naming_row_and_column_and_nothing_is_written(office, sample, tmp_path):
    wb = openpyxl.load_workbook(sample)
    wb.active["J6"] = "县不存在局"  # measure unit of problem 2's second measure
    path = tmp_path / "bad.xlsx"
    wb.save(path)
    before = counts()

    report = apply_ledger(path, campaign="ZF2022", by=office)

    assert not report.applied and report.summary_line() == "新增 11，更新 0，未变 0，错误 1"
    [message] = report.errors
    assert message.startswith("第6行「措施责任单位」列") and "县不存在局" in message
    assert counts() == before  # not even the campaign


def test_bad_date_and_unknown_status_words_are_errors(office, tmp_path):
    path = one_problem(tmp_path / "bad.xlsx", 整改时限="六月底", 整改状态="差不多了", 销号情况="快了")

    report = preview_ledger(path, campaign="ZF2022")

    errors = report.errors
    assert any(e.startswith("第3行「整改时限」列") and "六月底" in e for e in errors)
    assert any(e.startswith("第3行「整改状态」列") and "差不多了" in e for e in errors)
    assert any(e.startswith("第3行「销号情况」列") and "快了" in e for e in errors)


def test_ambiguous_short_name_is_an_error(office, tmp_path):
    path = one_problem(tmp_path / "amb.xlsx", 牵头单位="办公室", 措施责任单位="")
    report = preview_ledger(path, campaign="ZF2022")
    assert any("对应多个单位" in e for e in report.errors)


def test_missing_header_and_not_an_xlsx_are_file_errors(office, tmp_path):
    no_header = write_xlsx(tmp_path / "x.xlsx", [["姓名", "电话"], ["张三", "1"]])
    assert "问题描述" in apply_ledger(no_header, campaign="ZF2022", by=office).file_errors[0]
    bogus = tmp_path / "bogus.xlsx"
    bogus.write_text("not a spreadsheet", encoding="utf-8")
    assert "不是有效的 Excel" in preview_ledger(bogus, campaign="ZF2022").file_errors[0]


# ---- the command line ------------------------------------------------------------------------------------------

def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_ledger", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_command_prints_the_summary_line_and_creates_the_campaign(office, sample):
    out, err = run(str(sample), "--campaign", "ZF2022", "--campaign-name", "改进作风、狠抓落实年")
    assert out.strip() == "新增 12，更新 0，未变 0，错误 0"
    assert Campaign.objects.get(code="ZF2022").name == "改进作风、狠抓落实年"
    assert Problem.objects.first().created_by == office
    out, _ = run(str(sample), "--campaign", "ZF2022")
    assert out.strip() == "新增 0，更新 0，未变 12，错误 0"


def test_command_dry_run_writes_nothing(office, sample):
    before = counts()
    out, err = run(str(sample), "--campaign", "ZF2022", "--dry-run")
    assert out.strip() == "新增 12，更新 0，未变 0，错误 0" and "--dry-run" in err
    assert counts() == before


def test_command_exits_non_zero_with_errors_on_stderr(office, tmp_path):
    path = one_problem(tmp_path / "bad.xlsx", 牵头单位="县不存在局")
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("import_ledger", str(path), "--campaign", "ZF2022", stdout=out, stderr=err)
    assert exc.value.returncode == 1
    assert out.getvalue().strip() == "新增 0，更新 0，未变 0，错误 1"
    assert "第3行「牵头单位」列" in err.getvalue()
    assert not Campaign.objects.exists()


def test_command_needs_an_office_user(db, sample):
    with pytest.raises(CommandError, match="作风办"):
        run(str(sample), "--campaign", "ZF2022")


def test_command_refuses_a_liaison_as_the_acting_user(office, sample):
    liaison = User.objects.with_role(Role.LIAISON).order_by("id").first()
    with pytest.raises(CommandError, match="不是作风办"):
        run(str(sample), "--campaign", "ZF2022", "--user", liaison.username)
