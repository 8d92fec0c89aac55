"""A stale Excel file cannot rewrite history: the ledger is exported, the system moves on (a 回头看 reopens one
problem, the office returns another), and the clerk re-imports the old file."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger import lookback, services, workflow
from ledger.excel.exporter import export_ledger_xlsx
from ledger.excel.importer import apply_ledger, preview_ledger
from ledger.models import MeasureStatus, Problem, ProblemStatus, ReviewRound, Transition, TransitionAction
from tests.ledger.test_import_ledger import office, problem, rosters, sample  # noqa: F401  (fixtures)


def export(path: Path, problems) -> Path:
    path.write_bytes(export_ledger_xlsx(problems, title="示范县问题整改台账"))
    return path


@pytest.fixture
def moved_on(office, sample, tmp_path):  # noqa: F811
    """The sample ledger in the system, exported, then the system moves on."""
    assert apply_ledger(sample, campaign="ZF2022", by=office).ok
    closed, pending = problem(1), problem(3)
    assert (closed.status, pending.status) == (ProblemStatus.CLOSED, ProblemStatus.PENDING_REVIEW)
    campaign_problems = Problem.objects.filter(campaign__code="ZF2022").order_by("seq")
    one_row = export(tmp_path / "一行.xlsx", campaign_problems.filter(pk=closed.pk))
    whole = export(tmp_path / "全部.xlsx", campaign_problems)
    [check] = lookback.lookback_draw(campaign=closed.campaign, by=office, batch="第一批", unit=closed.lead_unit)
    lookback.lookback_record(check=check, by=office, result="relapsed", finding="窗口又出现推诿")
    workflow.return_(problem=pending, by=office, opinion="佐证材料不足")
    return {"one_row": one_row, "whole": whole, "closed": closed.pk, "pending": pending.pk}


def history(pk: int) -> tuple[list[str], int]:
    return (list(Transition.objects.filter(problem_id=pk).order_by("at", "id").values_list("action", flat=True)),
            ReviewRound.objects.filter(problem_id=pk).count())


def test_the_old_row_of_a_reopened_problem_signs_nothing_off(office, moved_on):  # noqa: F811
    p = Problem.objects.get(pk=moved_on["closed"])
    before = history(p.pk)
    assert p.status == ProblemStatus.IN_PROGRESS and before[0][-1] == TransitionAction.REOPEN

    preview = preview_ledger(moved_on["one_row"], campaign="ZF2022", by=office)
    [row] = [r for r in preview.rows if r.key == p.number]
    # the state difference is shown, not applied
    assert any("系统：整改中；文件：已销号 — 状态不从文件导入，请在系统中办理" in n for n in row.notices)
    # the measures the reopening put back to 推进中 are a conflict: both values shown
    assert row.status == "conflict"
    status_conflicts = [c for c in row.conflicts if c["label"].endswith("状态")]
    assert status_conflicts and all(c["system"] == "推进中" and c["file"] == "已完成" for c in status_conflicts)
    assert "状态" not in row.changes

    report = apply_ledger(moved_on["one_row"], campaign="ZF2022", by=office)
    assert report.ok and report.applied
    p.refresh_from_db()
    assert p.status == ProblemStatus.IN_PROGRESS
    assert set(p.measures.values_list("status", flat=True)) == {MeasureStatus.IN_PROGRESS}
    assert history(p.pk) == before  # no application, no sign-off, no review round invented


def test_the_whole_old_file_moves_no_problem_back_or_forward(office, moved_on):  # noqa: F811
    returned = Problem.objects.get(pk=moved_on["pending"])
    before = {pk: history(pk) for pk in Problem.objects.values_list("pk", flat=True)}
    states = dict(Problem.objects.values_list("pk", "status"))

    report = apply_ledger(moved_on["whole"], campaign="ZF2022", by=office)

    assert report.ok, report.errors
    assert dict(Problem.objects.values_list("pk", "status")) == states
    assert Problem.objects.get(pk=returned.pk).status == ProblemStatus.IN_PROGRESS  # not back to 待核查
    assert {pk: history(pk) for pk in before} == before
    [row] = [r for r in report.rows if r.key == returned.number]
    assert any("系统：整改中；文件：待核查" in n for n in row.notices)


def test_the_clerk_may_pick_the_files_value_for_one_conflict(office, moved_on):  # noqa: F811
    p = Problem.objects.get(pk=moved_on["closed"])
    m = p.measures.order_by("seq").first()
    picked = f"{p.number}|措施{m.seq} 状态"
    report = apply_ledger(moved_on["one_row"], campaign="ZF2022", by=office, take_file=[picked])
    assert report.ok
    [row] = [r for r in report.rows if r.key == p.number]
    assert [c["taken"] for c in row.conflicts if c["id"] == picked] == [True]
    m.refresh_from_db()
    assert m.status == MeasureStatus.DONE  # through the workflow, audited, as data entry
    p.refresh_from_db()
    assert p.status == ProblemStatus.IN_PROGRESS  # still only the unit may apply, and the office sign off
    assert {x.status for x in p.measures.exclude(pk=m.pk)} <= {MeasureStatus.IN_PROGRESS}


def test_an_unchanged_export_re_imports_as_unchanged(office, sample, tmp_path):  # noqa: F811
    assert apply_ledger(sample, campaign="ZF2022", by=office).ok
    path = export(tmp_path / "台账.xlsx", Problem.objects.filter(campaign__code="ZF2022").order_by("seq"))
    assert preview_ledger(path, campaign="ZF2022", by=office).summary_line() == "新增 0，更新 0，未变 12，错误 0"


def test_a_clerks_edit_of_a_field_the_system_left_alone_is_an_ordinary_change(office, moved_on, tmp_path):  # noqa: F811
    import openpyxl

    p = Problem.objects.get(pk=moved_on["closed"])
    wb = openpyxl.load_workbook(moved_on["one_row"])
    ws = wb.worksheets[0]
    header = {ws.cell(row=2, column=c).value: c for c in range(1, ws.max_column + 1)}
    ws.cell(row=3, column=header["责任领导"]).value = "县政府办公室副主任"
    edited = tmp_path / "改了责任领导.xlsx"
    wb.save(edited)
    report = apply_ledger(edited, campaign="ZF2022", by=office)
    [row] = [r for r in report.rows if r.key == p.number]
    assert row.changes.get("责任领导") == ["县政府办公室主任", "县政府办公室副主任"]
    assert all(c["label"] != "责任领导" for c in row.conflicts)
    p.refresh_from_db()
    assert p.responsible_leader == "县政府办公室副主任" and p.status == ProblemStatus.IN_PROGRESS


def test_services_move_the_version_on(office, moved_on):  # noqa: F811
    p = Problem.objects.get(pk=moved_on["closed"])
    v = p.version
    services.progress_add(measure=p.measures.first(), by=office, text="再次整改")
    p.refresh_from_db()
    assert p.version > v
