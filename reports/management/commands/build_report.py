"""python manage.py build_report --campaign CODE --kind monthly|quarterly|weekly --period 2026-11|2026Q3|2026-W48
[--as-of YYYY-MM-DD] [--user USERNAME]

Builds the report in this process (a new version beside any earlier build of the period) and prints the files'
paths and one line: 问题总数 N，已销号 N，整改率 x%.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from campaigns.models import Campaign
from ledger.management.commands.import_ledger import acting_user
from ledger.workflow import WorkflowError
from reports.models import ReportKind, ReportStatus
from reports.services import report_build, report_summary
from units.models import User


class Command(BaseCommand):
    help = "生成报表：月调度（Excel）、季通报（Word 与附表）或周报（Excel），按专项行动和期间生成一个新版本。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--campaign", required=True, metavar="CODE", help="专项行动编号，如 ZF2022")
        parser.add_argument("--kind", default=ReportKind.MONTHLY,
                            help="报表类型：monthly（月调度，默认）、quarterly（季通报）、weekly（周报）")
        parser.add_argument("--period", required=True, metavar="PERIOD",
                            help="期间：月调度如 2026-11，季通报如 2026Q3，周报如 2026-W48")
        parser.add_argument("--as-of", dest="as_of", metavar="YYYY-MM-DD",
                            help="统计截至日期（期间之内）；默认为期间最后一天，期间未结束时为今天")
        parser.add_argument("--user", "--by", dest="user", metavar="USERNAME",
                            help="以哪个账号生成（须为作风办人员）；默认为第一个作风办账号")

    def handle(self, *args: Any, **options: Any) -> None:
        campaign = Campaign.objects.filter(code=options["campaign"]).first()
        if campaign is None:
            raise CommandError(f"专项行动“{options['campaign']}”不存在。")
        kind = options["kind"]
        if kind not in ReportKind.values:
            raise CommandError(
                f"不支持的报表类型“{kind}”，可选：monthly（月调度）、quarterly（季通报）、weekly（周报）。")
        as_of = None
        if options.get("as_of"):
            try:
                as_of = dt.date.fromisoformat(options["as_of"])
            except ValueError:
                raise CommandError(f"统计截至日期“{options['as_of']}”格式不正确，应为 YYYY-MM-DD。") from None
        username = options.get("user")
        by = User.objects.filter(username=username).first() if username else acting_user(None)
        if by is None:
            raise CommandError(f"用户“{username}”不存在。")
        try:
            run = report_build(campaign=campaign, kind=kind, period_label=options["period"], by=by, as_of=as_of,
                               inline=True)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        except WorkflowError as exc:
            raise CommandError(exc.message) from exc
        if run.status != ReportStatus.READY:
            raise CommandError(run.error or "报表生成失败。")
        s = report_summary(run)
        self.stdout.write(run.file.path)
        if run.attachment:
            self.stdout.write(run.attachment.path)
        self.stdout.write(f"{run}：问题总数 {s['问题总数']}，已销号 {s['已销号']}，整改率 {s['整改率']}")
