"""Load the demo county 示范县 and its accounts; safe to run on every start (does nothing the second time)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from units import demo


class Command(BaseCommand):
    help = "加载示范县（单位树、各角色示范账号及其他应用的示范数据）。已加载时不做改动；--reset 删除后重建。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reset", action="store_true", help="删除示范数据后重新加载（仅限 DEBUG，或加 --force）")
        parser.add_argument("--force", action="store_true", help="允许在非 DEBUG 环境下使用 --reset")

    def handle(self, *args: Any, reset: bool = False, force: bool = False, **options: Any) -> None:
        if force and not reset:
            raise CommandError("--force 只能与 --reset 一起使用。")
        try:
            if reset:
                if not (settings.DEBUG or force):
                    raise CommandError("--reset 会删除示范县的全部数据：仅在 DEBUG 模式下可用，否则请加 --force。")
                demo.reset_demo(self.stdout)
            demo.load_demo(self.stdout)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        self.stdout.write("")
        self.stdout.write("示范账号（密码均可在登录后修改）：")
        self.stdout.write(demo.accounts_table())
