"""问题整改台账 from other offices (tests/corpus/office_files.py): each previews with every column listed and
mapped and the source/category words it brings, imports whole (the office's own numbers, sources, categories,
measures, dates), imports again unchanged, and survives an export → import round trip; the shared sample ledger
and the command line."""

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

from campaigns.models import DEFAULT_SOURCES, Campaign, Category, Source
from campaigns.services import category_import
from ledger.excel.exporter import export_ledger_xlsx
from ledger.excel.importer import apply_ledger, preview_ledger
from ledger.models import Measure, Problem, ProgressEntry, Transition
from tests.conftest import SHARED_DATA
from tests.factories import UserFactory
from tests.ledger.factories import CampaignFactory
from units.models import Role, Unit, User
from units.roster import apply_roster

from .office_files import (
    CAMPAIGN,
    LEDGER_CASES,
    SOURCE_NUMBER_KEY,
    TODAY,
    ExpectedProblem,
    LedgerCase,
    assert_listed,
    column,
    ledger_case,
    units_case,
)

NOT_IMPORTED = "不导入"
UNDECIDED_CASES = [c for c in LEDGER_CASES if c.undecided_sources or c.undecided_categories]
WORD_CASES = [c for c in LEDGER_CASES if c.undecided_sources or c.undecided_categories or c.known_sources]
NEW_CATEGORY_CASES = [c for c in LEDGER_CASES if c.new_categories]


# ---- setting up the county and the campaign ------------------------------------------------------------------------

def set_up(case: LedgerCase, tmp_path: Path) -> User:
    """The unit tree the ledger names, an office user, and the campaign as the case wants it; returns the user."""
    if case.county == "shared":
        assert apply_roster("units", SHARED_DATA / "units_roster.xlsx", by=None).ok
        assert apply_roster("users", SHARED_DATA / "users_roster.xlsx", by=None).ok
        office = User.objects.with_role(Role.OFFICE).order_by("id").first()
    else:
        roster = units_case(case.county)
        extra = {"mapping": roster.mapping} if roster.mapping else {}
        report = apply_roster("units", roster.build(tmp_path / "county"), by=None, **extra)
        assert report.ok, report.errors
        office = UserFactory(username="county-office", full_name="作风办干部", unit=Unit.objects.get(parent=None),
                             roles=[Role.OFFICE])
    assert office is not None
    if case.campaign_exists:
        campaign = CampaignFactory(code=CAMPAIGN, name="2025年作风建设专项行动")
        if case.catalogue:
            assert category_import(campaign=campaign, file=SHARED_DATA / "categories.xlsx", by=office).ok
    return office


def run(case: LedgerCase, path: Path, office: User, *, preview: bool = False, confirm: bool = False,
        **override: Any) -> Any:
    """Preview or apply with the case's decisions (mapping, sources, categories), or with `override`. With
    `confirm`, the import is given every confirmation its preview asks for, as the office would click through."""
    kwargs = {**case.decisions(), **override}
    if preview:
        return preview_ledger(path, campaign=CAMPAIGN, by=office, **kwargs)
    if confirm:
        asked = preview_ledger(path, campaign=CAMPAIGN, by=office, **kwargs)
        kwargs["confirmed"] = [c["id"] for c in getattr(asked, "confirmations", [])]
    return apply_ledger(path, campaign=CAMPAIGN, by=office, **kwargs)


def undecided_words() -> dict[str, Any]:
    return {"mapping": None, "sources": None, "categories": None, "add_sources": False, "add_categories": False}


def counts() -> dict[str, int]:
    return {
        "problems": Problem.objects.count(), "measures": Measure.objects.count(),
        "progress": ProgressEntry.objects.count(), "transitions": Transition.objects.count(),
        "categories": Category.objects.count(), "sources": Source.objects.count(),
        "campaigns": Campaign.objects.count(),
    }


def problems_snapshot() -> list[tuple[Any, ...]]:
    return list(Problem.objects.order_by("pk").values_list(
        "pk", "number", "source_number", "description", "source_id", "category_id", "lead_unit_id", "deadline",
        "status", "version",
    ))


def column_at(report: Any, letter: str) -> dict[str, Any]:
    return next(c for c in report.columns if c["letter"] == letter)


def assert_columns(report: Any, case: LedgerCase) -> None:
    assert_listed(report, case)
    for letter, key in (case.mapping or {}).items():
        assert (column_at(report, letter)["key"], column_at(report, letter)["how"]) == (key, "mapped")


def day(value: Any) -> dt.date | None:
    return timezone.localdate() if value == TODAY else value


def find(expected: ExpectedProblem) -> Problem:
    problems = Problem.objects.filter(campaign__code=CAMPAIGN).select_related("source", "category__parent",
                                                                              "lead_unit")
    if expected.number:
        return problems.get(source_number=expected.number)
    return problems.get(description=expected.description)


def assert_imported(case: LedgerCase) -> None:
    problems = Problem.objects.filter(campaign__code=CAMPAIGN)
    assert problems.count() == len(case.problems)
    assert Measure.objects.filter(problem__campaign__code=CAMPAIGN).count() == case.measure_count
    numbers = list(problems.values_list("number", flat=True))
    assert len(set(numbers)) == len(numbers) and all(n.startswith(f"{CAMPAIGN}-") for n in numbers)
    for exp in case.problems:
        p = find(exp)
        where = exp.number or exp.description
        assert p.description == exp.description, where
        assert p.source_number == exp.number, where
        assert p.lead_unit is not None and p.lead_unit.name == exp.lead, where
        if exp.source is not None:
            assert p.source is not None and p.source.name == exp.source, where
        if isinstance(exp.category, str):
            assert p.category is not None and p.category.code == exp.category, where
        elif exp.category is not None:
            assert p.category is not None, where
            parent = p.category.parent.name if p.category.parent else None
            assert (p.category.name, parent) == exp.category, where
        if exp.co_units is not None:
            assert sorted(u.name for u in p.co_units.all()) == sorted(exp.co_units), where
        assert p.status == exp.status, where
        measures = list(p.measures.select_related("unit").order_by("seq"))
        assert [m.content for m in measures] == [m.content for m in exp.measures], where
        for m, e in zip(measures, exp.measures, strict=True):
            assert (m.deadline, m.is_long_term) == (day(e.deadline), e.long_term), (where, m.content)
            assert m.unit.name == (e.unit or exp.lead), (where, m.content)
            latest = m.progress_entries.order_by("-on", "-id").first()
            assert (latest.text if latest else "") == e.progress, (where, m.content)
            if e.status is not None:
                assert m.status == e.status, (where, m.content)
        dates = [day(e.deadline) for e in exp.measures if e.deadline is not None]
        assert p.deadline == (max(dates) if dates else None), where
    campaign = Campaign.objects.get(code=CAMPAIGN)
    names = set(campaign.sources.values_list("name", flat=True))
    assert case.added_sources <= names
    assert names - case.added_sources <= set(DEFAULT_SOURCES)  # nothing else was added
    if case.new_categories is not None:
        built = {(c.name, c.parent.name if c.parent else None)
                 for c in Category.objects.filter(campaign=campaign).select_related("parent")}
        assert built == case.new_categories


# ---- the corpus ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", LEDGER_CASES, ids=lambda c: c.id)
def test_ledger_preview_lists_every_column(db, tmp_path, case):
    office = set_up(case, tmp_path)
    before = counts()

    report = run(case, case.build(tmp_path), office, preview=True)

    assert not report.file_errors, report.file_errors
    assert_columns(report, case)
    assert report.ok, report.errors
    assert report.counts["new"] == len(case.problems)
    assert report.measures["new"] == case.measure_count
    assert all(isinstance(w, str) and w for w in report.warnings)
    assert counts() == before


@pytest.mark.parametrize("case", WORD_CASES, ids=lambda c: c.id)
def test_ledger_preview_lists_the_source_and_category_words(db, tmp_path, case):
    office = set_up(case, tmp_path)
    path = case.build(tmp_path)

    report = run(case, path, office, preview=True, **{**undecided_words(), "mapping": case.mapping})

    assert set(report.vocab) >= {"sources", "categories"}
    for kind in ("sources", "categories"):
        for item in report.vocab[kind]:
            assert item["count"] == len(item["rows"]) > 0, item
            assert all(isinstance(r, int) for r in item["rows"]), item
    sources = {item["word"]: item for item in report.vocab["sources"]}
    undecided = {w for w, item in sources.items() if not item["choice"]}
    assert case.undecided_sources <= undecided
    assert undecided.isdisjoint(case.known_sources)
    assert undecided.isdisjoint(DEFAULT_SOURCES)
    for word, source in case.known_sources.items():
        if word in sources:
            assert sources[word]["choice"] == source, sources[word]
    categories = {item["word"]: item for item in report.vocab["categories"]}
    assert case.undecided_categories <= {w for w, item in categories.items() if not item["choice"]}
    if case.undecided_sources or case.undecided_categories:
        assert not report.ok
        refused = run(case, path, office, **{**undecided_words(), "mapping": case.mapping})
        assert not refused.ok and not refused.applied
        assert not Problem.objects.exists()
    elif not case.sources and not case.categories:  # every word is one the synonym table knows
        assert report.ok, report.errors


@pytest.mark.parametrize("case", LEDGER_CASES, ids=lambda c: c.id)
def test_ledger_imports_whole(db, tmp_path, case):
    office = set_up(case, tmp_path)

    report = run(case, case.build(tmp_path), office)

    assert report.ok, report.errors
    assert report.applied
    assert report.counts["new"] == len(case.problems)
    assert_imported(case)


@pytest.mark.parametrize("case", LEDGER_CASES, ids=lambda c: c.id)
def test_ledger_imported_again_changes_nothing(db, tmp_path, case):
    office = set_up(case, tmp_path)
    path = case.build(tmp_path)
    first = run(case, path, office, confirm=True)
    assert first.ok, first.errors
    before, snapshot = counts(), problems_snapshot()

    again = run(case, path, office, confirm=True)

    assert again.ok, again.errors
    assert [r.status for r in again.rows] == ["unchanged"] * len(case.problems), [r.changes for r in again.rows]
    assert counts() == before
    assert problems_snapshot() == snapshot


@pytest.mark.parametrize("case", LEDGER_CASES, ids=lambda c: c.id)
def test_ledger_export_then_import_changes_nothing(db, tmp_path, case):
    office = set_up(case, tmp_path)
    first = run(case, case.build(tmp_path), office, confirm=True)
    assert first.ok, first.errors
    exported = tmp_path / "export.xlsx"
    exported.write_bytes(export_ledger_xlsx(Problem.objects.filter(campaign__code=CAMPAIGN),
                                            title="示范县问题整改台账"))
    before, snapshot = counts(), problems_snapshot()

    report = apply_ledger(exported, campaign=CAMPAIGN, by=office)

    assert report.ok, report.errors
    assert [r.status for r in report.rows] == ["unchanged"] * len(case.problems), [r.changes for r in report.rows]
    assert counts() == before
    assert problems_snapshot() == snapshot


@pytest.mark.parametrize("case", NEW_CATEGORY_CASES, ids=lambda c: c.id)
def test_a_campaign_without_a_catalogue_gets_one_from_the_file(db, tmp_path, case):
    office = set_up(case, tmp_path)

    report = run(case, case.build(tmp_path), office, preview=True)

    assert report.ok, report.errors
    listed = report.new_categories
    codes = [c["code"] for c in listed]
    assert all(codes) and len(set(codes)) == len(codes)
    by_code = {c["code"]: c for c in listed}
    assert all(c["parent_code"] in ("", *by_code) for c in listed)
    named = {(c["name"], by_code[c["parent_code"]]["name"] if c["parent_code"] else None) for c in listed}
    assert named == case.new_categories
    assert not Category.objects.exists()
    assert all(c["word"] for c in listed if not any(o["parent_code"] == c["code"] for o in listed))


# ---- the reported cases, in detail -----------------------------------------------------------------------------

def test_office_numbers_are_kept_and_the_system_numbers_them_too(db, tmp_path):
    case = ledger_case("l01_xc_numbers_and_sources")
    office = set_up(case, tmp_path)

    report = run(case, case.build(tmp_path), office)

    assert report.ok, report.errors
    kept = list(Problem.objects.order_by("seq").values_list("source_number", "number"))
    assert [k for k, _ in kept] == [f"XC-2025-01-{i:03d}" for i in range(1, 7)]
    assert [n for _, n in kept] == [f"{CAMPAIGN}-{i:04d}" for i in range(1, 7)]
    assert column(report, "问题编号")["key"] == SOURCE_NUMBER_KEY
    assert column(report, "问题编号")["label"] == "原编号"


def test_the_words_to_decide_name_their_rows(db, tmp_path):
    case = ledger_case("l11_new_source_words")
    office = set_up(case, tmp_path)

    report = run(case, case.build(tmp_path), office, preview=True, **undecided_words())

    sources = {item["word"]: item for item in report.vocab["sources"]}
    assert {w: (item["count"], item["rows"]) for w, item in sources.items()} == {
        "人大代表建议": (2, [2, 5]), "政协委员提案": (1, [3]), "营商环境评议": (1, [4])}
    for item in sources.values():
        assert item["choice"] == ""
        assert item["suggest"] in ("", *DEFAULT_SOURCES)
    assert not report.ok and not report.applied


def test_words_the_synonym_table_knows_need_no_decision(db, tmp_path):
    """The reported ledger: 县委巡察, 审计, 作风专项检查 come in without a decision, as 巡视巡察, 审计监督, 明察暗访."""
    case = ledger_case("l01_xc_numbers_and_sources")
    office = set_up(case, tmp_path)

    report = run(case, case.build(tmp_path), office, sources={"作风整顿自查": "自查自纠", "督查督办": "督查反馈",
                                                                "生态环境保护督察": "督查反馈"})

    assert report.ok, report.errors
    got = {p.source_number: p.source.name for p in Problem.objects.select_related("source")}
    assert got["XC-2025-01-001"] == "巡视巡察"
    assert got["XC-2025-01-002"] == "审计监督"
    assert got["XC-2025-01-004"] == "明察暗访"


def test_a_source_word_can_be_added_to_the_campaign_or_mapped(db, tmp_path):
    case = ledger_case("l01_xc_numbers_and_sources")
    office = set_up(case, tmp_path)

    report = run(case, case.build(tmp_path), office, sources={"作风整顿自查": "+", "督查督办": "督查反馈",
                                                                "生态环境保护督察": "其他"})

    assert report.ok, report.errors
    campaign = Campaign.objects.get(code=CAMPAIGN)
    assert campaign.sources.filter(name="作风整顿自查").exists()
    assert not campaign.sources.filter(name="生态环境保护督察").exists()
    assert Problem.objects.get(source_number="XC-2025-01-003").source.name == "作风整顿自查"
    assert Problem.objects.get(source_number="XC-2025-01-006").source.name == "其他"


def test_a_category_word_the_catalogue_lacks_is_decided_by_the_office(db, tmp_path):
    case = ledger_case("l10_instructions_sheet_and_category_word")
    office = set_up(case, tmp_path)
    path = case.build(tmp_path)

    preview = run(case, path, office, preview=True, categories=None)
    words = {item["word"]: item for item in preview.vocab["categories"]}
    assert words["文山会海"]["choice"] == "" and words["文山会海"]["rows"] == [2]
    assert "文山会海、层层加码" in words["文山会海"]["suggest"]
    assert not preview.ok

    added = run(case, path, office, categories={"文山会海": "+"})

    assert added.ok, added.errors
    made = Category.objects.get(campaign__code=CAMPAIGN, name="文山会海")
    assert Problem.objects.get(description="会议套会议，以会议落实会议").category == made
    assert Category.objects.filter(campaign__code=CAMPAIGN).count() == 21


def test_add_categories_adds_every_unknown_category_word(db, tmp_path):
    case = ledger_case("l10_instructions_sheet_and_category_word")
    office = set_up(case, tmp_path)

    report = run(case, case.build(tmp_path), office, categories=None, add_categories=True)

    assert report.ok, report.errors
    assert Category.objects.filter(campaign__code=CAMPAIGN, name="文山会海").count() == 1
    assert Problem.objects.get(description="干部违规参加企业宴请").category.code == "5.14"


def test_a_mapping_leaves_a_column_out(db, tmp_path):
    case = ledger_case("l02_no_catalogue")
    office = set_up(case, tmp_path)

    report = run(case, case.build(tmp_path), office, confirm=True, mapping={"H": ""})

    assert report.ok, report.errors
    progress = column_at(report, "H")
    assert (progress["header"], progress["key"], progress["label"], progress["how"]) == (
        "进展情况", "", NOT_IMPORTED, "mapped")
    assert Problem.objects.count() == 4
    assert not ProgressEntry.objects.exists()


def description_under_another_word(tmp_path: Path) -> Path:
    wb = openpyxl.Workbook()
    for row in [
        ["序号", "问题来源", "情况说明", "牵头单位", "整改措施", "整改时限"],
        [1, "自查自纠", "政策解读会流于形式，解读材料照搬文件", "县财政局", "改进政策解读方式", "2025-06-30"],
        [2, "群众反映", "惠民资金发放信息公开不及时", "县民政局", "按月公开发放信息", "2025-05-31"],
    ]:
        wb.active.append(row)
    path = tmp_path / "情况说明.xlsx"
    wb.save(path)
    return path


def test_a_mapping_names_the_description_column(db, tmp_path):
    case = ledger_case("l11_new_source_words")
    office = set_up(case, tmp_path)
    path = description_under_another_word(tmp_path)
    assert not preview_ledger(path, campaign=CAMPAIGN, by=office).ok  # no 问题描述 column without the mapping

    report = apply_ledger(path, campaign=CAMPAIGN, by=office, mapping={"C": "description"})

    assert report.ok, report.errors
    assert (column_at(report, "C")["key"], column_at(report, "C")["how"]) == ("description", "mapped")
    assert Problem.objects.get(description="惠民资金发放信息公开不及时").lead_unit.name == "县民政局"


def test_an_eight_digit_date_typed_as_a_number(db, tmp_path):
    """20250301 typed into a cell Excel formats as a number: the date, not the Excel serial 20,250,301."""
    case = ledger_case("l11_new_source_words")
    office = set_up(case, tmp_path)
    wb = openpyxl.Workbook()
    for row in [["序号", "问题来源", "问题描述", "牵头单位", "整改措施", "整改时限"],
                [1, "自查自纠", "公文审核把关不严", "县财政局", "建立公文三级审核制度", 20250301]]:
        wb.active.append(row)
    path = tmp_path / "number_date.xlsx"
    wb.save(path)

    report = apply_ledger(path, campaign=CAMPAIGN, by=office)

    assert report.ok, report.errors
    assert Measure.objects.get().deadline == dt.date(2025, 3, 1)


# ---- the shared sample ledger keeps working ----------------------------------------------------------------------

def test_the_shared_problem_ledger_still_gives_12_problems_and_21_measures(db, tmp_path):
    office = set_up(ledger_case("l04_summary_sheet_hidden_column"), tmp_path)  # the shared county, no campaign

    report = apply_ledger(SHARED_DATA / "problem_ledger.xlsx", campaign="ZF2022", by=office)

    assert report.ok and report.applied, report.errors
    assert Problem.objects.filter(campaign__code="ZF2022").count() == 12
    assert Measure.objects.filter(problem__campaign__code="ZF2022").count() == 21
    assert [c["key"] for c in report.columns] == [
        "seq", "source", "category", "description", "rectification_type", "responsible_leader", "lead_unit",
        "co_units", "measures", "measure_unit", "responsible_person", "deadline", "progress", "status", "closure",
    ]
    assert not [item for item in report.vocab["sources"] if not item["choice"]]
    again = apply_ledger(SHARED_DATA / "problem_ledger.xlsx", campaign="ZF2022", by=office)
    assert again.summary_line() == "新增 0，更新 0，未变 12，错误 0"


# ---- the command line --------------------------------------------------------------------------------------------

def command(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_ledger", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_ledger_stops_on_undecided_source_words_and_lists_them(db, tmp_path):
    case = ledger_case("l11_new_source_words")
    set_up(case, tmp_path)
    err = StringIO()

    with pytest.raises(CommandError) as exc:
        call_command("import_ledger", str(case.build(tmp_path)), "--campaign", CAMPAIGN, stdout=StringIO(),
                     stderr=err)

    said = err.getvalue() + str(exc.value)
    assert all(word in said for word in ("人大代表建议", "政协委员提案", "营商环境评议"))
    assert not Problem.objects.exists()


def test_import_ledger_takes_source_decisions(db, tmp_path):
    case = ledger_case("l11_new_source_words")
    set_up(case, tmp_path)

    out, _ = command(str(case.build(tmp_path)), "--campaign", CAMPAIGN, "--source", "人大代表建议=+",
                     "--source", "政协委员提案=上级通报", "--source", "营商环境评议=群众反映")

    assert out.startswith("新增 4，")
    got = {p.description: p.source.name for p in Problem.objects.select_related("source")}
    assert got == {"执法检查随意性大": "人大代表建议", "农村公路养护不到位": "上级通报",
                   "畜禽养殖污染整治不彻底": "群众反映",
                   "乡镇卫生院夜间值班医生不在岗": "人大代表建议"}
    assert Campaign.objects.get(code=CAMPAIGN).sources.filter(name="人大代表建议").exists()


def test_import_ledger_adds_sources_when_told(db, tmp_path):
    case = ledger_case("l11_new_source_words")
    set_up(case, tmp_path)
    path = str(case.build(tmp_path))
    with pytest.raises(CommandError):
        command(path, "--campaign", CAMPAIGN)
    assert not Problem.objects.exists()

    out, _ = command(path, "--campaign", CAMPAIGN, "--add-sources")

    assert out.startswith("新增 4，")
    assert_imported(case)


def test_import_ledger_adds_categories_when_told(db, tmp_path):
    case = ledger_case("l10_instructions_sheet_and_category_word")
    set_up(case, tmp_path)
    path = str(case.build(tmp_path))
    with pytest.raises(CommandError):
        command(path, "--campaign", CAMPAIGN)
    assert not Problem.objects.exists()

    out, _ = command(path, "--campaign", CAMPAIGN, "--add-categories")

    assert out.startswith("新增 3，")
    assert Category.objects.filter(campaign__code=CAMPAIGN, name="文山会海").exists()


def test_import_ledger_maps_a_header(db, tmp_path):
    set_up(ledger_case("l11_new_source_words"), tmp_path)
    path = str(description_under_another_word(tmp_path))

    out, _ = command(path, "--campaign", CAMPAIGN, "--map", "情况说明=description")

    assert out.startswith("新增 2，")
    assert Problem.objects.filter(description="政策解读会流于形式，解读材料照搬文件").exists()
