"""python manage.py seed_scale [--units 20000] [--problems 200000] [--measures 600000] [--campaign CODE] [--seed N]

Generates a province-scale data set for the reports (see `reports.scale`): a unit tree, one campaign covering it,
its problems over the last twelve months with their measures, transitions, facts and review rounds. Refuses a
campaign code already in use.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from reports import scale


class Command(BaseCommand):
    help = "生成省级规模的报表数据：单位树、一个专项行动及其一年来的问题、整改措施、流转记录、要素记录和核查轮次。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--units", type=int, default=scale.UNITS, help=f"单位数（默认 {scale.UNITS:,}）")
        parser.add_argument("--problems", type=int, default=scale.PROBLEMS,
                            help=f"问题数（默认 {scale.PROBLEMS:,}）")
        parser.add_argument("--measures", type=int, default=scale.MEASURES,
                            help=f"整改措施总数（默认 {scale.MEASURES:,}，约每个问题 3 项）")
        parser.add_argument("--campaign", default=scale.DEFAULT_CODE, metavar="CODE",
                            help=f"专项行动编号，须未被使用（默认 {scale.DEFAULT_CODE}）")
        parser.add_argument("--seed", type=int, default=1, metavar="N", help="随机种子：同一种子、同一天生成相同的数据")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            campaign = scale.seed(units=options["units"], problems=options["problems"],
                                  measures=options["measures"], seed=options["seed"], code=options["campaign"],
                                  stdout=self.stdout)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        self.stdout.write(self.style.SUCCESS(f"已生成专项行动“{campaign.name}”（{campaign.code}）。"))
