from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core.models import AuditEntry
from units.models import Role, Unit, User, UserRole
from units.roster import apply_roster, map_role, preview_roster

HEADER = ["序号", "姓名", "手机号", "邮箱", "所属单位编码", "角色", "分管单位编码"]


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    wb.save(path)
    return path


def roster(tmp_path: Path, rows: list[list[object]], *, header: list[str] = HEADER, name: str = "u.xlsx") -> Path:
    return write_xlsx(tmp_path / name, [header, *rows])


def snapshot() -> tuple:
    users = list(
        User.objects.order_by("username").values_list("username", "full_name", "phone", "email", "unit_id", "password")
    )
    roles = sorted(UserRole.objects.values_list("user__username", "role"))
    overseen = sorted(User.overseen_units.through.objects.values_list("user__username", "unit__code"))
    return users, roles, overseen, AuditEntry.objects.count()


def roles_of(username: str) -> set[str]:
    return set(UserRole.objects.filter(user__username=username).values_list("role", flat=True))


def overseen_of(username: str) -> set[str]:
    return set(User.objects.get(username=username).overseen_units.values_list("code", flat=True))


ROWS = [
    [1, "张三", "13800000001", "zhangsan@sfx.gov.cn", "JTJ", "联络员", None],
    [2, "李四", "13800000002", None, "CZJ", "领导、联络员", "城关街道、YZ"],
    [3, "王五", None, "WANGWU@sfx.gov.cn", "县作风建设工作领导小组办公室", "作风办", None],
]


# the shared sample rosters -------------------------------------------------------------------------------------


@pytest.mark.smoke
def test_shared_rosters_create_92_users_with_roles_and_overseen_units(db, shared_data):
    assert apply_roster("units", shared_data / "units_roster.xlsx", by=None).ok
    report = apply_roster("users", shared_data / "users_roster.xlsx", by=None)
    assert report.ok, report.errors
    assert report.counts == {"new": 92, "changed": 0, "unchanged": 0, "conflict": 0, "error": 0}
    assert User.objects.count() == 92
    assert UserRole.objects.filter(role=Role.LIAISON).count() == 83
    assert UserRole.objects.filter(role=Role.LEADER).count() == 5
    assert UserRole.objects.filter(role=Role.OFFICE).count() == 3
    assert UserRole.objects.filter(role=Role.ADMIN).count() == 1

    leader = User.objects.get(username="19792496213")
    assert leader.full_name == "莫华" and leader.email == "leader1@sfx.gov.cn"
    assert leader.unit.code == "114199010000000194"
    assert leader.role_codes == {Role.LEADER}
    assert overseen_of("19792496213") == {
        "11419901000000297H", "11419901000000094W", "114199010000007139", "11419901000000107J",
        "114199010000005457", "11419901000000158T",
    }
    assert leader.must_change_password
    passwords = {p["username"]: p["password"] for p in report.initial_passwords}
    assert len(passwords) == 92
    assert leader.check_password(passwords["19792496213"])

    before = snapshot()
    again = apply_roster("users", shared_data / "users_roster.xlsx", by=None)
    assert again.summary_line() == "新增 0，更新 0，未变 92，错误 0"
    assert again.initial_passwords == []
    assert snapshot()[:3] == before[:3]


# rows as offices write them ------------------------------------------------------------------------------------


def test_roles_units_and_overseen_units_by_code_or_name(county, tmp_path):
    report = apply_roster("users", roster(tmp_path, ROWS), by=None)
    assert report.ok, report.errors
    assert [(r.key, r.status) for r in report.rows] == [
        ("13800000001", "new"), ("13800000002", "new"), ("wangwu@sfx.gov.cn", "new"),
    ]
    li = User.objects.get(username="13800000002")
    assert li.unit == county.finance
    assert roles_of("13800000002") == {Role.LEADER, Role.LIAISON}
    assert overseen_of("13800000002") == {"CGJD", "YZ"}
    wang = User.objects.get(username="wangwu@sfx.gov.cn")  # no phone: the e-mail is the login name
    assert wang.unit == county.office_unit and wang.email == "wangwu@sfx.gov.cn"
    assert roles_of("wangwu@sfx.gov.cn") == {Role.OFFICE}
    assert all(u.must_change_password for u in User.objects.all())


def test_untidy_users_roster(county, tmp_path):
    path = write_xlsx(
        tmp_path / "untidy.xlsx",
        [
            ["示范县作风建设联络员名册"],
            ["姓名", "手机号码", "电子邮箱", "工作单位", "用户角色", "分管单位名称", "备注"],
            [" 张三 ", 13800000001, None, " JTJ ", " 联络员 ", None, "新任"],
            [],
            ["李四", "138 0000 0002", None, "县财政局", "领导，liaison", "城关街道；和平社区居委会", None],
        ],
    )
    report = apply_roster("users", path, by=None)
    assert report.ok, report.errors
    assert [r.row for r in report.rows] == [3, 5]
    assert User.objects.get(username="13800000001").full_name == "张三"
    assert User.objects.get(username="13800000002").unit == county.finance
    assert roles_of("13800000002") == {Role.LEADER, Role.LIAISON}
    assert overseen_of("13800000002") == {"CGJD", "HPSQ"}


@pytest.mark.parametrize(
    ("word", "role"),
    [("系统管理员", Role.ADMIN), ("作风办", Role.OFFICE), ("联络员", Role.LIAISON), ("领导", Role.LEADER),
     ("分管领导", Role.LEADER), ("admin", Role.ADMIN), ("Leader", Role.LEADER), ("秘书", None)],
)
def test_role_words(word, role):
    assert map_role(word) == role


def test_a_later_roster_replaces_roles_overseen_units_and_unit(people, county, tmp_path):
    apply_roster("users", roster(tmp_path, ROWS), by=None)
    rows = [list(r) for r in ROWS]
    rows[1][4] = "JTJ"
    rows[1][5] = "领导"
    rows[1][6] = "城关街道"
    report = apply_roster("users", roster(tmp_path, rows, name="later.xlsx"), by=people.admin)
    assert report.summary_line() == "新增 0，更新 1，未变 2，错误 0"
    changed = report.rows[1]
    assert changed.changes == {
        "所属单位": ["县财政局", "县教育体育局"],
        "角色": ["联络员、领导", "领导"],
        "分管单位": ["县第一高级中学、城关街道", "城关街道"],
    }
    assert roles_of("13800000002") == {Role.LEADER}
    assert overseen_of("13800000002") == {"CGJD"}
    assert User.objects.get(username="13800000002").unit == county.education
    entry = AuditEntry.objects.get(action=AuditEntry.Action.UPDATE, actor=people.admin)
    assert entry.changes["roles"] == [["leader", "liaison"], ["leader"]]
    assert report.initial_passwords == []


def test_an_existing_account_is_found_by_its_phone(people, county, tmp_path):
    people.liaison.phone = "13800000001"
    people.liaison.save()
    old_password = people.liaison.password
    report = apply_roster("users", roster(tmp_path, ROWS[:1]), by=None)
    assert report.rows[0].status == "changed"
    assert report.rows[0].key == "liaison1"
    people.liaison.refresh_from_db()
    assert people.liaison.full_name == "张三"
    assert people.liaison.password == old_password  # an existing account keeps its password
    assert not User.objects.filter(username="13800000001").exists()


# errors name row and column, and nothing is written ----------------------------------------------------------


def assert_refused(path: Path, expected: str) -> str:
    before = snapshot()
    report = apply_roster("users", path, by=None)
    assert not report.ok
    assert report.initial_passwords == []
    matches = [e for e in report.errors if expected in e]
    assert matches, report.errors
    assert snapshot() == before
    return matches[0]


@pytest.mark.parametrize(
    ("bad_row", "expected"),
    [
        ([4, "赵六", "13800000004", None, "NOPE", "联络员", None], "第5行「所属单位」列：单位“NOPE”不存在"),
        ([4, "赵六", "13800000004", None, None, "联络员", None], "第5行「所属单位」列：所属单位不能为空"),
        ([4, "赵六", "13800000004", None, "JTJ", "秘书", None], "第5行「角色」列：未知角色“秘书”"),
        ([4, "赵六", "13800000004", None, "JTJ", None, None], "第5行「角色」列：角色不能为空"),
        ([4, None, "13800000004", None, "JTJ", "联络员", None], "第5行「姓名」列：姓名不能为空"),
        ([4, "赵六", "1380000", None, "JTJ", "联络员", None], "第5行「手机号」列：手机号“1380000”格式不正确"),
        ([4, "赵六", None, "not-an-email", "JTJ", "联络员", None], "第5行「邮箱」列：邮箱“not-an-email”格式不正确"),
        ([4, "赵六", None, None, "JTJ", "联络员", None], "第5行「手机号」列：手机号和邮箱至少填写一项"),
        ([4, "赵六", "13800000001", None, "JTJ", "联络员", None], "第5行「手机号」列：手机号“13800000001”与第2行重复"),
        ([4, "赵六", "13800000004", None, "JTJ", "领导", "城关街道、火星"], "第5行「分管单位」列：单位“火星”不存在"),
        (
            [4, "赵六", "13800000004", None, "JTJ", "联络员", '=CONCAT("Y","Z")'],
            "第5行「分管单位」列：公式没有计算结果",
        ),
    ],
    ids=["unknown-unit", "blank-unit", "unknown-role", "blank-role", "blank-name", "bad-phone", "bad-email",
         "no-login", "duplicate-phone", "unknown-overseen", "formula"],
)
def test_row_errors(people, tmp_path, bad_row, expected):
    assert_refused(roster(tmp_path, [*ROWS, bad_row]), expected)


def test_ambiguous_unit_name(people, county, tmp_path):
    Unit.objects.filter(code="HPSQ").update(name="县财政局")
    message = assert_refused(roster(tmp_path, [[1, "张三", "13800000001", None, "县财政局", "联络员", None]]), "同名")
    assert message.startswith("第2行「所属单位」列：")


def test_a_name_shared_with_an_abolished_unit_means_the_active_one(people, county, tmp_path):
    Unit.objects.filter(code="HPSQ").update(name="县财政局", is_active=False)
    rows = [[1, "张三", "13800000001", None, "县财政局", "联络员", None]]
    report = apply_roster("users", roster(tmp_path, rows), by=None)
    assert report.ok, report.errors
    assert User.objects.get(username="13800000001").unit == county.finance


def test_inactive_unit(people, county, tmp_path):
    Unit.objects.filter(code="JTJ").update(is_active=False)
    assert_refused(roster(tmp_path, ROWS[:1]), "第2行「所属单位」列：单位“县教育体育局”已停用")


def test_missing_required_column(people, tmp_path):
    header = ["姓名", "手机号", "所属单位"]
    message = assert_refused(roster(tmp_path, [["张三", "13800000001", "JTJ"]], header=header), "缺少")
    assert "「角色」" in message and "第1行" in message


def test_neither_phone_nor_email_column(people, tmp_path):
    header = ["姓名", "所属单位", "角色"]
    assert_refused(roster(tmp_path, [["张三", "JTJ", "联络员"]], header=header), "「手机号」或「邮箱」")


def test_not_an_xlsx(people, tmp_path):
    path = tmp_path / "u.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0 an old .xls")
    assert_refused(path, "不是有效的 Excel（.xlsx）文件")


def test_preview_lists_but_writes_nothing(people, tmp_path):
    before = snapshot()
    report = preview_roster("users", roster(tmp_path, ROWS))
    assert report.counts["new"] == 3
    assert report.initial_passwords == []
    assert snapshot() == before


# the command ---------------------------------------------------------------------------------------------------


def test_command_prints_one_line_and_no_passwords(county, tmp_path, capsys):
    call_command("import_users", str(roster(tmp_path, ROWS)))
    out, err = capsys.readouterr()
    assert out == "新增 3，更新 0，未变 0，错误 0\n"
    assert "重置" in err
    for user in User.objects.filter(username__startswith="138"):
        assert user.must_change_password


def test_command_writes_initial_passwords_to_a_file(county, tmp_path, capsys):
    out_file = tmp_path / "passwords.xlsx"
    call_command("import_users", str(roster(tmp_path, ROWS)), "--passwords-out", str(out_file))
    out, _ = capsys.readouterr()
    assert out == "新增 3，更新 0，未变 0，错误 0\n"
    rows = list(openpyxl.load_workbook(out_file).active.iter_rows(values_only=True))
    assert rows[0] == ("登录名", "姓名", "初始密码")
    assert {r[0] for r in rows[1:]} == {"13800000001", "13800000002", "wangwu@sfx.gov.cn"}
    for username, _, password in rows[1:]:
        assert password not in out
        assert User.objects.get(username=username).check_password(password)


def test_command_fails_on_errors(people, tmp_path, capsys):
    before = snapshot()
    with pytest.raises(CommandError):
        call_command("import_users", str(roster(tmp_path, [*ROWS, [4, "赵六", "1", None, "JTJ", "联络员", None]])))
    out, err = capsys.readouterr()
    assert re.fullmatch(r"新增 3，更新 0，未变 0，错误 1\n", out)
    assert "第5行「手机号」列" in err
    assert snapshot() == before


def test_command_dry_run(county, tmp_path, capsys):
    call_command("import_users", str(roster(tmp_path, ROWS)), "--dry-run")
    assert capsys.readouterr().out == "新增 3，更新 0，未变 0，错误 0\n"
    assert User.objects.count() == 0
