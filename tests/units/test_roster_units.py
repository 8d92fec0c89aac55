from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core.models import AuditEntry
from units.models import Unit, UnitKind
from units.roster import RosterReport, apply_roster, map_kind, preview_roster
from units.services import unit_create
from units.validators import uscc_check_char

HEADER = ["序号", "单位编码", "单位名称", "单位简称", "单位类型", "上级单位编码", "排序号"]


def uscc(n: int, prefix: str = "11419901") -> str:
    """A valid 统一社会信用代码 for test unit number n."""
    first17 = f"{prefix}{n:09d}"
    return first17 + uscc_check_char(first17)


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    wb.save(path)
    return path


def roster(tmp_path: Path, rows: list[list[object]], *, header: list[str] = HEADER, name: str = "r.xlsx") -> Path:
    return write_xlsx(tmp_path / name, [header, *rows])


def snapshot() -> tuple[int, int, list[tuple]]:
    """Everything an import could change."""
    units = list(Unit.objects.order_by("code").values_list("code", "name", "parent_id", "path", "is_active", "kind"))
    return Unit.objects.count(), AuditEntry.objects.count(), units


def only_error(report: RosterReport) -> str:
    assert not report.ok
    assert len(report.errors) == 1, report.errors
    return report.errors[0]


ROOT, A, B, C, D = (uscc(i) for i in range(1, 6))
TREE = [
    [1, ROOT, "示范县", "示范县", "其他", None, 1],
    [2, A, "县委办公室", "县委办", "党委部门", ROOT, 2],
    [3, B, "县人民政府办公室", "政府办", "政府部门", ROOT, 3],
    [4, C, "县委督查室", "督查室", "党委部门", A, 4],
    [5, D, "督查一科", "一科", "其他", C, 5],
]


# the shared sample roster --------------------------------------------------------------------------------------


@pytest.mark.smoke
def test_shared_roster_creates_84_units_then_changes_nothing(db, shared_data):
    path = shared_data / "units_roster.xlsx"
    report = apply_roster("units", path, by=None)
    assert report.ok, report.errors
    assert report.counts == {"new": 84, "changed": 0, "unchanged": 0, "conflict": 0, "error": 0}
    assert Unit.objects.count() == 84
    for unit in Unit.objects.select_related("parent"):
        expected = f"{unit.parent.path if unit.parent else ''}{unit.pk}/"
        assert unit.path == expected
        assert unit.depth == unit.path.count("/") - 1
    office = Unit.objects.get(name="县作风建设工作领导小组办公室")
    assert office.parent.name == "县委办公室"
    assert office.kind == UnitKind.PARTY
    assert office.kind_label == "党委部门"
    assert office.sort_order == 3

    before = snapshot()
    again = apply_roster("units", path, by=None)
    assert again.summary_line() == "新增 0，更新 0，未变 84，错误 0"
    assert again.missing == []
    assert snapshot()[2] == before[2]
    assert snapshot()[0] == before[0]


def test_import_is_audited(db, people, tmp_path):
    report = apply_roster("units", roster(tmp_path, TREE), by=people.admin, ip="10.0.0.8")
    assert report.ok
    created = AuditEntry.objects.filter(action=AuditEntry.Action.CREATE, content_type__model="unit")
    assert created.count() == 5
    assert created.filter(actor=people.admin, ip="10.0.0.8", object_repr="督查一科").exists()
    summary = AuditEntry.objects.get(action=AuditEntry.Action.IMPORT)
    assert "新增 5" in summary.note and "r.xlsx" in summary.note


def test_units_created_by_import_do_not_collide_with_later_ones(db, tmp_path):
    apply_roster("units", roster(tmp_path, TREE), by=None)
    unit = unit_create(by=None, code="NEW1", name="新单位", parent=Unit.objects.get(code=ROOT))
    assert unit.pk not in set(Unit.objects.exclude(code="NEW1").values_list("pk", flat=True))
    assert unit.path == f"{Unit.objects.get(code=ROOT).path}{unit.pk}/"


def test_preview_writes_nothing(db, tmp_path):
    before = snapshot()
    report = preview_roster("units", roster(tmp_path, TREE))
    assert report.counts["new"] == 5
    assert [r.status for r in report.rows] == ["new"] * 5
    assert snapshot() == before


def test_dry_run_writes_nothing(db, tmp_path):
    report = apply_roster("units", roster(tmp_path, TREE), by=None, dry_run=True)
    assert report.counts["new"] == 5
    assert not report.applied
    assert Unit.objects.count() == 0


# untidy rosters ------------------------------------------------------------------------------------------------


def test_untidy_roster(db, tmp_path):
    """Title row, alias headers, notes column, children before parents, parent by full name, stray spaces,
    numbers stored as text, blank rows."""
    path = write_xlsx(
        tmp_path / "untidy.xlsx",
        [
            ["示范县机构名册（2022年12月）"],
            [],
            ["统一社会信用代码", "机构名称", "主管单位", "单位性质", "排序", "备注"],
            [f" {D[:6]} {D[6:]}\u3000", "督查一科", "县委督查室", "二级单位", "5", "撤并中"],
            [C, "县委督查室", f"{A} ", "县委工作机关", "4", None],
            [None, None, None, None, None, None],
            [],
            [A, " 县委办公室 ", "示范县", "县委工作机关", 2.0, "备注不导入"],
            [B, "县人民政府办公室", ROOT, "县政府工作部门", "3", None],
            [ROOT, "示范县", None, None, "1", None],
            [1001, "城关镇", "示范县", "乡镇", "06", None],
        ],
    )
    report = apply_roster("units", path, by=None)
    assert report.ok, report.errors
    assert report.counts["new"] == 6
    units = {u.code: u for u in Unit.objects.select_related("parent")}
    assert set(units) == {ROOT, A, B, C, D, "1001"}
    assert units[D].parent.code == C
    assert units[C].parent.code == A
    assert units[A].parent.code == ROOT and units[A].name == "县委办公室"
    assert units["1001"].parent.code == ROOT
    assert units[ROOT].parent is None
    assert units[D].path == f"{units[ROOT].pk}/{units[A].pk}/{units[C].pk}/{units[D].pk}/"
    assert units[D].depth == 3
    assert (units[A].kind, units[A].kind_label) == (UnitKind.PARTY, "县委工作机关")
    assert (units[B].kind, units[B].kind_label) == (UnitKind.GOVERNMENT, "县政府工作部门")
    assert (units[D].kind, units[D].kind_label) == (UnitKind.INSTITUTION, "二级单位")
    assert (units["1001"].kind, units["1001"].kind_label) == (UnitKind.TOWNSHIP, "乡镇")
    assert (units[ROOT].kind, units[ROOT].kind_label) == (UnitKind.OTHER, "")
    assert units["1001"].sort_order == 6 and units[A].sort_order == 2
    assert [r.row for r in report.rows] == [4, 5, 8, 9, 10, 11]  # Excel's numbering, blank rows skipped


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("党委部门", UnitKind.PARTY),
        ("县委工作机关", UnitKind.PARTY),
        ("县政府工作部门", UnitKind.GOVERNMENT),
        ("政府直属机构", UnitKind.GOVERNMENT),
        ("乡镇", UnitKind.TOWNSHIP),
        ("街道", UnitKind.TOWNSHIP),
        ("乡镇（街道）", UnitKind.TOWNSHIP),
        ("事业单位", UnitKind.INSTITUTION),
        ("二级单位", UnitKind.INSTITUTION),
        ("参公单位", UnitKind.INSTITUTION),
        ("县政府直属事业单位", UnitKind.INSTITUTION),
        ("国企", UnitKind.STATE_ENTERPRISE),
        ("县属国有企业", UnitKind.STATE_ENTERPRISE),
        ("群团", UnitKind.MASS_ORGANIZATION),
        ("群团组织", UnitKind.MASS_ORGANIZATION),
        ("government", UnitKind.GOVERNMENT),
        ("其他", UnitKind.OTHER),
        ("议事协调机构", UnitKind.OTHER),
        ("", UnitKind.OTHER),
    ],
)
def test_kind_words(word, kind):
    assert map_kind(word) == kind


def test_parent_by_full_name_must_be_unambiguous(db, tmp_path):
    rows = [
        [1, ROOT, "示范县", "", "", None, 1],
        [2, A, "城关镇", "", "", ROOT, 2],
        [3, B, "城关镇", "", "", ROOT, 3],  # two units named 城关镇 (e.g. before a merger)
        [4, C, "城关镇党政办", "", "", "城关镇", 4],
    ]
    message = only_error(preview_roster("units", roster(tmp_path, rows)))
    assert message.startswith("第5行「上级单位」列：")
    assert "同名" in message and "编码" in message


def test_parent_by_the_name_an_abolished_unit_shares(existing, tmp_path):
    Unit.objects.filter(code=B).update(name="县委办公室", is_active=False)  # merged into 县委办公室
    report = apply_roster("units", roster(tmp_path, [[1, uscc(60), "县委办一科", "", "", "县委办公室", 1]]), by=None)
    assert report.ok, report.errors
    assert Unit.objects.get(code=uscc(60)).parent.code == A


# errors: each names row and column in Chinese, and nothing is written --------------------------------------------


def assert_refused(path: Path, expected: str) -> str:
    before = snapshot()
    report = apply_roster("units", path, by=None)
    assert not report.ok
    assert not report.applied
    assert any(expected in e for e in report.errors), report.errors
    assert snapshot() == before
    return next(e for e in report.errors if expected in e)


@pytest.fixture
def existing(db, tmp_path):
    """The TREE already imported, so that refusals are seen to leave existing data alone too."""
    assert apply_roster("units", roster(tmp_path, TREE, name="first.xlsx"), by=None).ok


def test_duplicate_code(existing, tmp_path):
    rows = [*TREE, [6, f" {C}", "重复的督查室", "", "", A, 6]]
    message = assert_refused(roster(tmp_path, rows), "重复")
    assert message == f"第7行「单位编码」列：单位编码“{C}”与第5行重复"


def test_unknown_parent(existing, tmp_path):
    rows = [*TREE[:4], [5, D, "督查一科", "一科", "其他", "不存在的单位", 5]]
    message = assert_refused(roster(tmp_path, rows), "不存在")
    assert message.startswith("第6行「上级单位」列：上级单位“不存在的单位”不存在")


def test_cycle_within_the_file(existing, tmp_path):
    rows = [
        [1, ROOT, "示范县", "", "其他", None, 1],
        [2, A, "县委办公室", "", "", D, 2],  # A under D, while D is under C and C under A
        [3, B, "县人民政府办公室", "", "", ROOT, 3],
        [4, C, "县委督查室", "", "", A, 4],
        [5, D, "督查一科", "", "", C, 5],
    ]
    before = snapshot()
    report = apply_roster("units", roster(tmp_path, rows), by=None)
    cycle_errors = [e for e in report.errors if "循环" in e]
    assert {e.split("「")[0] for e in cycle_errors} == {"第3行", "第5行", "第6行"}
    assert all("「上级单位」列" in e for e in cycle_errors)
    assert snapshot() == before


def test_cycle_through_a_unit_already_in_the_system(existing, tmp_path):
    # C is under A in the system; a roster naming only A, placed under C, closes a loop.
    rows = [[1, A, "县委办公室", "", "", C, 2]]
    message = assert_refused(roster(tmp_path, rows), "循环")
    assert message.startswith("第2行「上级单位」列：")
    assert "县委督查室（系统中已有）" in message


def test_unit_as_its_own_parent(db, tmp_path):
    rows = [[1, ROOT, "示范县", "", "", ROOT, 1]]
    assert_refused(roster(tmp_path, rows), "第2行「上级单位」列：上级单位不能是本单位")


def test_missing_required_column(existing, tmp_path):
    header = ["序号", "单位编码", "单位简称", "上级单位编码"]
    message = assert_refused(roster(tmp_path, [[1, "X", "x", None]], header=header), "缺少")
    assert "第1行" in message and "「单位名称」" in message


def test_blank_required_cell(existing, tmp_path):
    # A blank code alone is not an error (the unit gets a system code, see test_units_without_code); a blank code
    # with a blank name is: nothing identifies the unit.
    rows = [*TREE[:4], [5, D, "  ", "一科", "其他", C, 5], [6, None, "无编码单位", "", "", ROOT, 6],
            [7, None, "", "", "", ROOT, 7]]
    before = snapshot()
    report = apply_roster("units", roster(tmp_path, rows), by=None)
    assert report.errors == ["第6行「单位名称」列：单位名称不能为空", "第8行「单位名称」列：单位名称不能为空"]
    assert report.counts["error"] == 2
    assert snapshot() == before


def test_formula_without_a_value(existing, tmp_path):
    rows = [*TREE[:4], [5, D, '=CONCAT("督查","一科")', "一科", "其他", C, 5]]
    assert_refused(roster(tmp_path, rows), "第6行「单位名称」列：公式没有计算结果")


def test_wrong_uscc_check_digit(existing, tmp_path):
    good = uscc(77)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    rows = [*TREE, [6, bad, "某单位", "", "", ROOT, 6]]
    message = assert_refused(roster(tmp_path, rows), "校验位")
    assert message == f"第7行「单位编码」列：统一社会信用代码“{bad}”的校验位不正确（按前 17 位计算应为“{good[17]}”）"


def test_not_an_xlsx(existing, tmp_path):
    path = tmp_path / "r.xlsx"
    path.write_text("单位编码,单位名称\nA,甲\n", encoding="gbk")
    assert_refused(path, "不是有效的 Excel（.xlsx）文件")


def test_too_large(existing, tmp_path, settings):
    path = roster(tmp_path, TREE)
    settings.XLSX_MAX_UPLOAD_BYTES = 1024
    assert_refused(path, "文件过大")


def test_zip_bomb(existing, tmp_path, settings):
    path = roster(tmp_path, TREE)
    settings.XLSX_MAX_UNZIPPED_BYTES = 2048
    assert_refused(path, "解压后超过")


def test_every_row_error_is_reported_not_just_the_first(db, tmp_path):
    rows = [[i, f"U{i}", "", "", "", "nowhere", i] for i in range(1, 61)]
    report = preview_roster("units", roster(tmp_path, rows))
    assert report.counts["error"] == 60
    assert len(report.errors) == 120
    assert report.summary_line() == "新增 0，更新 0，未变 0，错误 60"


# later rosters: changes, moves, reorganisations ----------------------------------------------------------------


def test_changes_are_listed_and_applied(existing, tmp_path):
    rows = [list(r) for r in TREE]
    rows[1][2] = "中共示范县委员会办公室"
    rows[1][4] = "县委工作机关"
    report = apply_roster("units", roster(tmp_path, rows), by=None)
    assert report.summary_line() == "新增 0，更新 1，未变 4，错误 0"
    changed = next(r for r in report.rows if r.status == "changed")
    assert changed.row == 3 and changed.key == A
    assert changed.changes == {
        "单位名称": ["县委办公室", "中共示范县委员会办公室"],
        "名册中的类型": ["党委部门", "县委工作机关"],
    }
    unit = Unit.objects.get(code=A)
    assert unit.name == "中共示范县委员会办公室" and unit.kind_label == "县委工作机关"
    entry = AuditEntry.objects.get(action=AuditEntry.Action.UPDATE, object_id=str(unit.pk))
    assert entry.changes["name"] == ["县委办公室", "中共示范县委员会办公室"]


def test_blank_optional_cells_keep_what_the_system_has(existing, tmp_path):
    rows = [[n, code, name, None, "  ", parent, None] for n, code, name, _, _, parent, _ in TREE]
    report = apply_roster("units", roster(tmp_path, rows), by=None)
    assert report.summary_line() == "新增 0，更新 0，未变 5，错误 0"
    a = Unit.objects.get(code=A)
    assert (a.short_name, a.kind, a.kind_label, a.sort_order) == ("县委办", UnitKind.PARTY, "党委部门", 2)


def test_changed_parent_repaths_the_subtree(existing, tmp_path):
    rows = [list(r) for r in TREE]
    rows[3][5] = B  # 县委督查室 (with 督查一科 below it) moves from 县委办公室 to 政府办
    report = apply_roster("units", roster(tmp_path, rows), by=None)
    assert report.summary_line() == "新增 0，更新 1，未变 4，错误 0"
    assert report.rows[3].changes == {"上级单位": ["县委办公室", "县人民政府办公室"]}
    root, b, c, d = (Unit.objects.get(code=x) for x in (ROOT, B, C, D))
    assert c.parent_id == b.pk
    assert c.path == f"{root.pk}/{b.pk}/{c.pk}/"
    assert d.path == f"{root.pk}/{b.pk}/{c.pk}/{d.pk}/"  # the child moved along without being in the change list
    assert d.parent_id == c.pk and d.depth == 3
    assert set(Unit.objects.subtree_of(b).values_list("code", flat=True)) == {B, C, D}


def test_moves_under_a_unit_created_by_the_same_roster(existing, tmp_path):
    e = uscc(50)
    rows = [list(r) for r in TREE]
    rows[3][5] = e  # 县委督查室 moves under a new unit listed after it
    rows.append([6, e, "县委督查局", "", "", ROOT, 6])
    report = apply_roster("units", roster(tmp_path, rows), by=None)
    assert report.ok, report.errors
    root, new, c, d = (Unit.objects.get(code=x) for x in (ROOT, e, C, D))
    assert new.path == f"{root.pk}/{new.pk}/"
    assert d.path == f"{root.pk}/{new.pk}/{c.pk}/{d.pk}/"


def test_units_missing_from_a_later_roster_are_listed_and_can_be_deactivated(existing, tmp_path):
    rows = [r for r in TREE if r[1] not in (C, D)]  # 督查室 and its 一科 abolished in a reorganisation
    later = roster(tmp_path, rows)
    report = preview_roster("units", later)
    assert report.ok
    assert [(m["code"], m["name"]) for m in report.missing] == [(C, "县委督查室"), (D, "督查一科")]
    assert report.counts["unchanged"] == 3

    c, root = Unit.objects.get(code=C), Unit.objects.get(code=ROOT)
    result = apply_roster("units", later, by=None, deactivate_unit_ids=[c.pk, root.pk])  # root is not missing
    assert result.ok
    assert [m["code"] for m in result.deactivated] == [C]
    assert Unit.objects.filter(is_active=False).count() == 1
    assert not Unit.objects.get(code=C).is_active
    assert Unit.objects.get(code=D).is_active
    assert Unit.objects.get(code=ROOT).is_active
    assert Unit.objects.count() == 5  # nothing deleted
    assert AuditEntry.objects.filter(action=AuditEntry.Action.DEACTIVATE, object_id=str(c.pk)).exists()

    # once deactivated, a unit is no longer listed as missing; listed again, it comes back
    assert [m["code"] for m in preview_roster("units", later).missing] == [D]
    back = apply_roster("units", roster(tmp_path, TREE, name="again.xlsx"), by=None)
    assert back.rows[3].changes == {"状态": ["停用", "启用"]}
    assert Unit.objects.get(code=C).is_active


def test_a_partial_roster_does_not_list_the_ancestors_it_hangs_from(existing, tmp_path):
    rows = [[1, D, "督查一科", "一科", "其他", C, 5]]  # a roster of one office's sections only
    report = preview_roster("units", roster(tmp_path, rows))
    assert report.ok
    assert {m["code"] for m in report.missing} == {B}  # ROOT, A and C are its ancestors, still in use


def test_report_round_trips_through_json(existing, tmp_path):
    rows = [list(r) for r in TREE]
    rows[1][2] = "改名"
    rows.append([6, "BAD", "", "", "", ROOT, 6])
    report = preview_roster("units", roster(tmp_path, rows))
    data = report.to_json()
    assert set(data) >= {"rows", "file_errors", "missing", "counts", "initial_passwords"}
    assert data["rows"][1] == {
        "row": 3, "status": "changed", "key": A, "label": "改名",
        "changes": {"单位名称": ["县委办公室", "改名"]}, "errors": [], "notices": [], "conflicts": [],
    }
    assert data["counts"] == {"new": 0, "changed": 1, "unchanged": 4, "conflict": 0, "error": 1}
    again = RosterReport.from_json(data)
    assert again.to_json() == data
    assert again.errors == report.errors == ["第7行「单位名称」列：单位名称不能为空"]


# the command ---------------------------------------------------------------------------------------------------


def test_command_imports_the_shared_roster_twice(db, shared_data, capsys):
    path = str(shared_data / "units_roster.xlsx")
    call_command("import_units", path)
    assert capsys.readouterr().out == "新增 84，更新 0，未变 0，错误 0\n"
    call_command("import_units", path)
    assert capsys.readouterr().out == "新增 0，更新 0，未变 84，错误 0\n"
    assert Unit.objects.count() == 84


def test_command_dry_run(db, shared_data, capsys):
    call_command("import_units", str(shared_data / "units_roster.xlsx"), "--dry-run")
    assert capsys.readouterr().out == "新增 84，更新 0，未变 0，错误 0\n"
    assert Unit.objects.count() == 0


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([*TREE, [6, C, "重复", "", "", ROOT, 6]], f"第7行「单位编码」列：单位编码“{C}”与第5行重复"),
        ([*TREE, [6, "X1", "某单位", "", "", "Y9", 6]], "第7行「上级单位」列：上级单位“Y9”不存在"),
        ([[1, "X1", "甲", "", "", "X2", 1], [2, "X2", "乙", "", "", "X1", 2]], "第2行「上级单位」列：上级单位形成循环"),
    ],
    ids=["duplicate", "unknown-parent", "cycle"],
)
def test_command_fails_on_errors_and_changes_nothing(db, tmp_path, capsys, rows, expected):
    before = snapshot()
    with pytest.raises(CommandError) as exc:
        call_command("import_units", str(roster(tmp_path, rows)))
    assert exc.value.returncode == 1
    out, err = capsys.readouterr()
    assert re.fullmatch(r"新增 \d+，更新 \d+，未变 \d+，错误 [1-9]\d*\n", out)
    assert expected in err
    assert snapshot() == before


def test_command_caps_the_error_list(db, tmp_path, capsys):
    rows = [[i, f"U{i}", "", "", "", None, i] for i in range(1, 61)]
    with pytest.raises(CommandError):
        call_command("import_units", str(roster(tmp_path, rows)))
    err_lines = capsys.readouterr().err.splitlines()
    assert sum(1 for line in err_lines if line.startswith("第")) == 50
    assert "…共 60 条错误" in err_lines


def test_command_deactivates_missing_units_only_when_asked(existing, tmp_path, capsys):
    path = str(roster(tmp_path, TREE[:4]))
    call_command("import_units", path)
    assert "督查一科" in capsys.readouterr().err
    assert Unit.objects.get(code=D).is_active
    call_command("import_units", path, "--deactivate-missing")
    assert capsys.readouterr().out == "新增 0，更新 0，未变 4，错误 0\n"
    assert not Unit.objects.get(code=D).is_active
