"""python manage.py import_users FILE [--dry-run] [--passwords-out FILE.xlsx] [--map 表头=字段 …] [--sheet 工作表]"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
from django.core.management.base import CommandError, CommandParser
from openpyxl.styles import Font

from core.text import excel_text
from units.roster import apply_roster

from ._roster_command import RosterCommand


class Command(RosterCommand):
    help = "从 Excel（.xlsx）导入人员名册：按登录名（手机号）新增或更新账号，全部成功才写入。"
    kind = "users"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--passwords-out", metavar="FILE.xlsx",
            help="把新账号的初始密码写入这个 Excel 文件（请妥善保管，发放后删除）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        out = options.get("passwords_out")
        if out and not out.lower().endswith(".xlsx"):
            raise CommandError("--passwords-out 须是 .xlsx 文件。")
        if out and not Path(out).parent.is_dir():
            raise CommandError(f"目录不存在：{Path(out).parent}")
        report = apply_roster("users", options["file"], by=self.actor(options), dry_run=options["dry_run"],
                              **self.mapping(options))
        if report.initial_passwords:
            if out:
                write_passwords(out, report.initial_passwords)
                self.stderr.write(f"新账号 {len(report.initial_passwords)} 个的初始密码已写入 {out}，首次登录须修改。")
            else:
                self.stderr.write(
                    f"新账号 {len(report.initial_passwords)} 个，初始密码未输出：可由管理员在系统中重置，"
                    "或下次用 --passwords-out FILE.xlsx 导出。"
                )
        self.finish(report, dry_run=options["dry_run"])


def write_passwords(path: str, rows: list[dict[str, str]]) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "初始密码"
    ws.append(["登录名", "姓名", "初始密码"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in rows:
        ws.append([excel_text(r[k]) for k in ("username", "full_name", "password")])
    for col, width in zip("ABC", (18, 12, 18), strict=True):
        ws.column_dimensions[col].width = width
    wb.save(path)
