"""What import_units and import_users share: one summary line on stdout, errors on stderr, status 1 on error."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from units.models import User
from units.roster import RosterReport

MAX_ERRORS_SHOWN = 50


class RosterCommand(BaseCommand):
    kind = ""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="名册文件（.xlsx）")
        parser.add_argument("--dry-run", action="store_true", help="只检查并报告，不写入数据库")
        parser.add_argument("--by", metavar="USERNAME", help="记入操作日志的操作人（登录名），默认为“系统”")

    def actor(self, options: dict[str, Any]) -> User | None:
        if not options.get("by"):
            return None
        try:
            return User.objects.get(username=options["by"])
        except User.DoesNotExist:
            raise CommandError(f"操作人“{options['by']}”不存在。") from None

    def finish(self, report: RosterReport, *, dry_run: bool) -> None:
        self.stdout.write(report.summary_line())
        errors = report.errors
        for message in errors[:MAX_ERRORS_SHOWN]:
            self.stderr.write(message)
        if len(errors) > MAX_ERRORS_SHOWN:
            self.stderr.write(f"…共 {len(errors)} 条错误")
        if errors:
            raise CommandError("名册有错误，数据库未做任何修改。", returncode=1)
        if dry_run:
            self.stderr.write("试运行（--dry-run）：只做了检查，数据库未做任何修改。")
