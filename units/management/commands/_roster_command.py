"""What import_units and import_users share: one summary line on stdout, errors on stderr, status 1 on error."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.import_output import add_mapping_arguments, mapping_options, write_import_report
from units.models import User
from units.roster import UNIT_COLUMNS, USER_COLUMNS, RosterReport


class RosterCommand(BaseCommand):
    kind = ""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="名册文件（.xlsx）")
        parser.add_argument("--dry-run", action="store_true", help="只检查并报告，不写入数据库")
        parser.add_argument("--by", metavar="USERNAME", help="记入操作日志的操作人（登录名），默认为“系统”")
        add_mapping_arguments(parser)

    def actor(self, options: dict[str, Any]) -> User | None:
        if not options.get("by"):
            return None
        try:
            return User.objects.get(username=options["by"])
        except User.DoesNotExist:
            raise CommandError(f"操作人“{options['by']}”不存在。") from None

    def mapping(self, options: dict[str, Any]) -> dict[str, Any]:
        """The mapping and sheet options for preview_roster / apply_roster."""
        columns = UNIT_COLUMNS if self.kind == "units" else USER_COLUMNS
        return mapping_options(options, columns)

    def finish(self, report: RosterReport, *, dry_run: bool) -> None:
        write_import_report(report, stdout=self.stdout, stderr=self.stderr, subject="名册", dry_run=dry_run)
