"""python manage.py import_units FILE [--dry-run] [--deactivate-missing] [--map 表头=字段 …] [--sheet 工作表]
[--flat]"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from units.roster import apply_roster

from ._roster_command import RosterCommand


class Command(RosterCommand):
    help = "从 Excel（.xlsx）导入单位名册：按单位编码新增或更新，全部成功才写入。"
    kind = "units"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--deactivate-missing", action="store_true",
            help="停用系统中在用、但名册中没有的单位（机构改革）；默认只列出，不停用",
        )
        parser.add_argument(
            "--flat", action="store_true",
            help="名册没有上级单位列时，确认把新增的单位都作为顶级单位导入",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        by = self.actor(options)
        dry_run = options["dry_run"]
        mapping = self.mapping(options)
        deactivate: list[int] = []
        if options["deactivate_missing"] and not dry_run:
            # The units to deactivate are those the roster leaves out; a preview names them.
            deactivate = [
                m["id"] for m in apply_roster("units", options["file"], by=by, dry_run=True, **mapping).missing
            ]
        confirmed = ["flat"] if options["flat"] else []
        report = apply_roster("units", options["file"], by=by, deactivate_unit_ids=deactivate, dry_run=dry_run,
                              confirmed=confirmed, **mapping)
        if dry_run and not options["flat"]:
            for c in report.confirmations:
                report.warnings.append(f"{c['message']}（正式导入时须加 --flat 确认）")
        missing = report.missing if not report.deactivated else []
        if report.deactivated:
            self.stderr.write(f"已停用名册中没有的单位 {len(report.deactivated)} 个：" + _names(report.deactivated))
        elif missing and report.ok:
            self.stderr.write(
                f"系统中在用、但名册中没有的单位 {len(missing)} 个（未停用，可加 --deactivate-missing 停用）："
                + _names(missing)
            )
        self.finish(report, dry_run=dry_run)


def _names(units: list[dict[str, Any]], limit: int = 20) -> str:
    shown = "、".join(f"{u['name']}（{u['code']}）" for u in units[:limit])
    return shown + (f" 等 {len(units)} 个" if len(units) > limit else "")
