"""python manage.py export_ledger --campaign CODE OUT.xlsx [--title TITLE]

Writes the campaign's whole ledger in the printable layout of the ledger page's 导出 button.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from campaigns.models import Campaign
from core.audit import Action, audit_record
from ledger.excel.exporter import export_ledger_xlsx
from ledger.models import Measure, Problem

from .import_ledger import acting_user


class Command(BaseCommand):
    help = "把专项行动的问题台账导出为可打印的 Excel（.xlsx），格式与台账页面的“导出”相同。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", metavar="OUT.xlsx", help="输出文件")
        parser.add_argument("--campaign", required=True, metavar="CODE", help="专项行动编号，如 ZF2022")
        parser.add_argument("--title", default="", help="标题行；默认为“专项行动名称 + 问题整改台账”")
        parser.add_argument("--user", "--by", dest="user", metavar="USERNAME", help="记入操作日志的操作人")

    def handle(self, *args: Any, **options: Any) -> None:
        campaign = Campaign.objects.filter(code__iexact=options["campaign"].strip()).first()
        if campaign is None:
            raise CommandError(f"专项行动“{options['campaign']}”不存在。")
        out = options["out"]
        if not out.lower().endswith(".xlsx"):
            raise CommandError("输出文件名须以 .xlsx 结尾。")
        by = acting_user(options.get("user")) if options.get("user") else None
        problems = Problem.objects.filter(campaign=campaign).order_by("seq")
        title = options["title"] or f"{campaign.name}问题整改台账"
        data = export_ledger_xlsx(problems, title=title)
        try:
            with open(out, "wb") as fh:
                fh.write(data)
        except OSError as exc:
            raise CommandError(f"无法写入“{out}”：{exc.strerror}") from exc
        n_problems = problems.count()
        n_measures = Measure.objects.filter(problem__campaign=campaign).count()
        audit_record(action=Action.EXPORT, actor=by, obj=campaign,
                     note=f"导出问题台账 {os.path.basename(out)}（{n_problems} 个问题）")
        self.stdout.write(f"已导出 {n_problems} 个问题、{n_measures} 项措施：{out}")
