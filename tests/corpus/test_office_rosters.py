"""单位名册 and 人员名册 from other offices (tests/corpus/office_files.py): each previews with every column of its
header listed and mapped, imports whole, and imports again unchanged; blank codes, an unknown parent header,
column mappings, the shared sample rosters and the commands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.conftest import SHARED_DATA
from units.models import Unit, User
from units.roster import apply_roster, preview_roster

from .office_files import (
    U09_BLANK,
    U09_CODES,
    U09_REAL_CODE,
    UNITS_CASES,
    USERS_CASES,
    UnitsCase,
    UsersCase,
    assert_listed,
    column,
    u09_resident_units,
    u11_unknown_parent_header,
    units_case,
)

NOT_IMPORTED = "不导入"


# ---- helpers ------------------------------------------------------------------------------------------------------

def column_at(report: Any, letter: str) -> dict[str, Any]:
    return next(c for c in report.columns if c["letter"] == letter)


def assert_columns(report: Any, case: UnitsCase | UsersCase) -> None:
    """Every header of the file is listed, in file order, with the key it imports as ("" not imported)."""
    assert_listed(report, case)
    assert all(c["how"] != "none" for c in report.columns if c["key"]), report.columns
    for letter, key in (case.mapping or {}).items():
        mapped = column_at(report, letter)
        assert (mapped["key"], mapped["how"]) == (key, "mapped"), mapped


def unit_snapshot() -> list[tuple[Any, ...]]:
    return list(
        Unit.objects.order_by("pk").values_list("pk", "code", "name", "short_name", "parent_id", "path", "kind",
                                                "sort_order", "is_active")
    )


def assert_tree(case: UnitsCase) -> None:
    units = {u.name: u for u in Unit.objects.select_related("parent")}
    assert len(units) == case.count
    for name, parent in case.parents.items():
        got = units[name].parent.name if units[name].parent else None
        assert got == parent, (name, got, parent)
    depths = [u.depth for u in units.values()]
    assert max(depths) - min(depths) + 1 == case.levels
    assert sum(1 for u in units.values() if u.parent is None) == 1
    for u in units.values():
        assert u.path == f"{u.parent.path if u.parent else ''}{u.pk}/"
        assert u.depth == u.path.count("/") - 1
    for name, code in case.codes.items():
        unit = units[name]
        if code:
            assert (unit.code, unit.code_is_internal) == (code, False), name
        else:
            assert unit.code and unit.code_is_internal, name
    for name, kind in case.kinds.items():
        assert units[name].kind == kind, name
    for name, order in case.sort_orders.items():
        assert units[name].sort_order == order, name
    assert len({u.code for u in units.values()}) == case.count


def given(mapping: dict[str, str] | None) -> dict[str, Any]:
    """The mapping argument, left out when there is none (the importer's default)."""
    return {"mapping": mapping} if mapping else {}


def write_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    wb.save(path)
    return path


@pytest.fixture
def shared_units(db: None) -> None:
    """The 84 units of the shared sample county, which the users rosters and ledgers name."""
    assert apply_roster("units", SHARED_DATA / "units_roster.xlsx", by=None).ok


# ---- 单位名册: the corpus --------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", UNITS_CASES, ids=lambda c: c.id)
def test_units_roster_preview_lists_every_column(db, tmp_path, case):
    report = preview_roster("units", case.build(tmp_path), **given(case.mapping))

    assert not report.file_errors, report.file_errors
    assert_columns(report, case)
    assert report.counts["new"] == case.count, report.errors
    assert "flat" not in [c["id"] for c in report.confirmations]
    assert all(isinstance(w, str) and w for w in report.warnings)
    assert Unit.objects.count() == 0


@pytest.mark.parametrize("case", UNITS_CASES, ids=lambda c: c.id)
def test_units_roster_imports_the_whole_tree(db, tmp_path, case):
    report = apply_roster("units", case.build(tmp_path), by=None, **given(case.mapping))

    assert report.ok, report.errors
    assert report.applied
    assert report.counts["new"] == case.count
    assert Unit.objects.count() == case.count
    assert_tree(case)


@pytest.mark.parametrize("case", UNITS_CASES, ids=lambda c: c.id)
def test_units_roster_imported_again_changes_nothing(db, tmp_path, case):
    path = case.build(tmp_path)
    assert apply_roster("units", path, by=None, **given(case.mapping)).ok
    before = unit_snapshot()

    again = apply_roster("units", path, by=None, **given(case.mapping))

    assert again.ok, again.errors
    assert {r.status for r in again.rows} == {"unchanged"}
    assert len(again.rows) == case.count
    assert unit_snapshot() == before


def test_the_parent_column_headed_shangji_jigou_daima_is_the_parent(db, tmp_path):
    """The reported case: 「上级机构代码」 holds the parent's code and is matched without a mapping."""
    case = units_case("u01_parent_org_code")
    report = preview_roster("units", case.build(tmp_path))
    parent = column(report, "上级机构代码")
    assert (parent["letter"], parent["key"]) == ("F", "parent")
    assert parent["how"] in ("alias", "similar")
    assert "flat" not in [c["id"] for c in report.confirmations]
    assert report.ok, report.errors


def test_a_mapping_can_leave_a_column_out(db, tmp_path):
    case = units_case("u01_parent_org_code")
    report = apply_roster("units", case.build(tmp_path), by=None, mapping={"D": ""})

    assert report.ok, report.errors
    short = column_at(report, "D")
    assert (short["header"], short["key"], short["label"], short["how"]) == ("机构简称", "", NOT_IMPORTED, "mapped")
    assert Unit.objects.get(name="县委督查室").short_name != "督查室"
    assert Unit.objects.get(name="督查一科").parent.name == "县委督查室"


# ---- an unknown parent header: a flat list only when confirmed ---------------------------------------------------

def test_an_unknown_parent_header_asks_before_importing_a_flat_list(db, tmp_path):
    path = u11_unknown_parent_header(tmp_path)

    preview = preview_roster("units", path)

    guikou = column(preview, "归口单位")
    assert (guikou["letter"], guikou["key"], guikou["label"]) == ("D", "", NOT_IMPORTED)
    flat = [c for c in preview.confirmations if c["id"] == "flat"]
    assert len(flat) == 1 and flat[0]["message"]

    refused = apply_roster("units", path, by=None)
    assert not refused.ok and not refused.applied
    assert refused.file_errors
    assert Unit.objects.count() == 0

    confirmed = apply_roster("units", path, by=None, confirmed=["flat"])
    assert confirmed.ok, confirmed.errors
    assert Unit.objects.count() == 7
    assert not Unit.objects.exclude(parent=None).exists()


def test_mapping_the_unknown_parent_header_imports_the_tree(db, tmp_path):
    case = units_case("u11_unknown_parent_header")

    report = apply_roster("units", case.build(tmp_path), by=None, mapping={"D": "parent"})

    assert report.ok, report.errors
    assert "flat" not in [c["id"] for c in report.confirmations]
    assert (column_at(report, "D")["key"], column_at(report, "D")["how"]) == ("parent", "mapped")
    assert_tree(case)


def test_a_roster_of_one_unit_needs_no_parent_column(db, tmp_path):
    path = write_xlsx(tmp_path / "one.xlsx", [["单位代码", "单位名称"], ["ONE1", "示范乡"]])
    report = apply_roster("units", path, by=None)
    assert report.ok, report.errors
    assert "flat" not in [c["id"] for c in report.confirmations]
    assert Unit.objects.get().name == "示范乡"


# ---- units with a blank code (垂直管理 / 驻县单位) ---------------------------------------------------------------

def test_blank_code_units_import_with_an_internal_code(db, tmp_path):
    report = apply_roster("units", u09_resident_units(tmp_path), by=None)

    assert report.ok, report.errors
    assert Unit.objects.count() == 12
    for name, *_rest in U09_BLANK:
        unit = Unit.objects.get(name=name)
        assert unit.code and unit.code_is_internal, name
    for name, code in U09_CODES.items():
        unit = Unit.objects.get(name=name)
        assert (unit.code, unit.code_is_internal) == (code, False)
    assert Unit.objects.values("code").distinct().count() == 12
    station = Unit.objects.get(name="云山县消防救援大队城关消防救援站")
    assert station.parent.name == "云山县消防救援大队" and station.parent.code_is_internal
    assert station.depth == 2


def test_a_later_roster_matches_blank_code_units_by_their_name(db, tmp_path):
    assert apply_roster("units", u09_resident_units(tmp_path), by=None).ok
    before = unit_snapshot()

    again = apply_roster("units", u09_resident_units(tmp_path, name="second.xlsx"), by=None)

    assert again.ok, again.errors
    assert again.counts["new"] == 0 and again.counts["unchanged"] == 12
    assert unit_snapshot() == before


def test_a_later_roster_giving_the_real_code_sets_it_on_the_same_unit(db, tmp_path):
    assert apply_roster("units", u09_resident_units(tmp_path), by=None).ok
    rwb = Unit.objects.get(name="县人武部")

    later = apply_roster(
        "units", u09_resident_units(tmp_path, real_codes={"县人武部": U09_REAL_CODE}, name="third.xlsx"), by=None
    )

    assert later.ok, later.errors
    assert (later.counts["new"], later.counts["changed"], later.counts["unchanged"]) == (0, 1, 11)
    [changed] = [r for r in later.rows if r.status == "changed"]
    assert changed.label == "县人武部"
    unit = Unit.objects.get(pk=rwb.pk)
    assert (unit.code, unit.code_is_internal) == (U09_REAL_CODE, False)
    assert unit.parent.name == "云山县"
    assert Unit.objects.filter(name="县人武部").count() == 1
    assert Unit.objects.count() == 12
    assert Unit.objects.get(name="县气象局").code_is_internal  # the others keep their internal codes


def test_blank_codes_need_a_full_name_unique_in_the_file(db, tmp_path):
    path = write_xlsx(tmp_path / "dup.xlsx", [
        ["单位代码", "单位名称", "上级单位"],
        ["A01", "示范镇", None],
        ["A02", "东风村", "示范镇"],
        ["A03", "西风村", "示范镇"],
        [None, "村务监督委员会", "东风村"],
        [None, "村务监督委员会", "西风村"],
    ])

    report = apply_roster("units", path, by=None)

    assert not report.ok and not report.applied
    assert {r.row for r in report.rows if r.status == "error"} == {5, 6}
    assert any("村务监督委员会" in e for e in report.errors)
    assert Unit.objects.count() == 0


# ---- 人员名册: the corpus (over the shared county) -------------------------------------------------------------

@pytest.mark.parametrize("case", USERS_CASES, ids=lambda c: c.id)
def test_users_roster_preview_lists_every_column(shared_units, tmp_path, case):
    report = preview_roster("users", case.build(tmp_path), **given(case.mapping))

    assert not report.file_errors, report.file_errors
    assert_columns(report, case)
    assert report.counts["new"] == len(case.people), report.errors
    assert User.objects.count() == 0


@pytest.mark.parametrize("case", USERS_CASES, ids=lambda c: c.id)
def test_users_roster_imports_people_with_units_phones_and_roles(shared_units, tmp_path, case):
    report = apply_roster("users", case.build(tmp_path), by=None, **given(case.mapping))

    assert report.ok, report.errors
    assert report.applied and report.counts["new"] == len(case.people)
    assert set(User.objects.values_list("username", flat=True)) == set(case.people)
    for username, person in case.people.items():
        user = User.objects.select_related("unit").get(username=username)
        assert user.full_name == person.full_name
        assert user.unit.name == person.unit
        assert user.phone == person.phone
        assert user.email == person.email
        assert user.role_codes == person.roles
        assert set(user.overseen_units.values_list("name", flat=True)) == set(person.overseen)


@pytest.mark.parametrize("case", USERS_CASES, ids=lambda c: c.id)
def test_users_roster_imported_again_changes_nothing(shared_units, tmp_path, case):
    path = case.build(tmp_path)
    assert apply_roster("users", path, by=None, **given(case.mapping)).ok
    before = list(User.objects.order_by("pk").values_list("pk", "username", "full_name", "phone", "email", "unit_id"))

    again = apply_roster("users", path, by=None, **given(case.mapping))

    assert again.ok, again.errors
    assert {r.status for r in again.rows} == {"unchanged"}
    assert again.initial_passwords == []
    assert list(User.objects.order_by("pk").values_list("pk", "username", "full_name", "phone", "email",
                                                        "unit_id")) == before


def test_the_reported_users_roster_reads_danwei_daima_and_lianxi_dianhua(shared_units, tmp_path):
    case = next(c for c in USERS_CASES if c.id == "p01_unit_code_phone")
    report = preview_roster("users", case.build(tmp_path))
    assert (column(report, "单位代码")["letter"], column(report, "单位代码")["key"]) == ("D", "unit")
    assert (column(report, "联系电话")["letter"], column(report, "联系电话")["key"]) == ("C", "phone")
    assert report.ok, report.errors


def test_a_users_mapping_names_the_phone_column(shared_units, tmp_path):
    path = write_xlsx(tmp_path / "accounts.xlsx", [
        ["姓名", "登录账号", "所属单位", "角色"],
        ["宋佳", "13500135001", "县财政局", "联络员"],
        ["唐亮", "13500135002", "县民政局", "联络员"],
    ])
    assert not preview_roster("users", path).ok  # neither a phone nor an e-mail column without the mapping

    report = apply_roster("users", path, by=None, mapping={"B": "phone"})

    assert report.ok, report.errors
    assert (column_at(report, "B")["key"], column_at(report, "B")["how"]) == ("phone", "mapped")
    assert User.objects.get(username="13500135001").unit.name == "县财政局"
    assert User.objects.get(username="13500135002").phone == "13500135002"


# ---- the shared sample rosters keep working ----------------------------------------------------------------------

def test_the_shared_units_roster_still_gives_84_units(db):
    report = apply_roster("units", SHARED_DATA / "units_roster.xlsx", by=None)

    assert report.ok, report.errors
    assert report.counts["new"] == 84 and Unit.objects.count() == 84
    assert [c["header"] for c in report.columns] == ["序号", "单位编码", "单位名称", "单位简称", "单位类型",
                                                     "上级单位编码", "排序号"]
    assert [c["key"] for c in report.columns] == ["", "code", "name", "short_name", "kind", "parent", "sort_order"]
    assert column(report, "单位编码")["how"] == "label"
    assert report.confirmations == []
    assert Unit.objects.get(name="县作风建设工作领导小组办公室").parent.name == "县委办公室"
    assert not Unit.objects.filter(code_is_internal=True).exists()


def test_the_shared_users_roster_still_gives_92_people(shared_units):
    report = apply_roster("users", SHARED_DATA / "users_roster.xlsx", by=None)

    assert report.ok, report.errors
    assert report.counts["new"] == 92 and User.objects.count() == 92
    assert [c["key"] for c in report.columns] == ["", "full_name", "phone", "email", "unit", "roles", "overseen"]


# ---- the commands --------------------------------------------------------------------------------------------

def test_import_units_maps_a_header_from_the_command_line(db, tmp_path, capsys):
    call_command("import_units", str(u11_unknown_parent_header(tmp_path)), "--map", "归口单位=parent")

    assert capsys.readouterr().out.startswith("新增 7，")
    assert Unit.objects.get(name="县图书馆").parent.name == "县文化和旅游局"
    assert Unit.objects.get(name="县文化和旅游局").parent.name == "平湖县"


def test_import_units_refuses_a_flat_list_unless_told_so(db, tmp_path, capsys):
    path = str(u11_unknown_parent_header(tmp_path))
    with pytest.raises(CommandError):
        call_command("import_units", path)
    assert capsys.readouterr().err.strip()
    assert Unit.objects.count() == 0

    call_command("import_units", path, "--flat")

    assert capsys.readouterr().out.startswith("新增 7，")
    assert Unit.objects.count() == 7 and not Unit.objects.exclude(parent=None).exists()


def test_import_users_maps_a_header_from_the_command_line(shared_units, tmp_path, capsys):
    path = str(write_xlsx(tmp_path / "accounts.xlsx", [
        ["姓名", "登录账号", "所属单位", "角色"],
        ["宋佳", "13500135001", "县财政局", "联络员"],
    ]))
    with pytest.raises(CommandError):
        call_command("import_users", path)
    assert not User.objects.exists()
    capsys.readouterr()

    call_command("import_users", path, "--map", "登录账号=phone")

    assert capsys.readouterr().out.startswith("新增 1，")
    assert User.objects.get(username="13500135001").full_name == "宋佳"
