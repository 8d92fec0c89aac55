"""python manage.py prune_audit [--days N] [--dry-run]

Removes the audit entries older than settings.AUDIT_RETENTION_DAYS (or N days, never fewer) and records that it did.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.audit import audit_prune


class Command(BaseCommand):
    help = "清理超过保留期限的操作日志，并在操作日志中记录清理了多少条、清理到哪一天。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days", metavar="N",
            help=f"保留最近 N 天的日志（不能少于系统设置的 {settings.AUDIT_RETENTION_DAYS} 天，默认即为该值）",
        )
        parser.add_argument("--dry-run", action="store_true", help="只统计将清理的条数，不删除")

    def handle(self, *args: Any, **options: Any) -> None:
        raw = options.get("days")
        days: int | None = None
        if raw is not None:
            text = str(raw).strip()
            if not (text.isascii() and text.isdigit()):
                raise CommandError(f"--days 须为整数天数，现为“{raw}”。")
            days = int(text)
        try:
            result = audit_prune(days=days, dry_run=options["dry_run"])
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        start = f"{result.before:%Y-%m-%d}"
        if result.dry_run:
            self.stdout.write(f"试运行：{start} 之前（保留 {result.days} 天）的操作日志共 {result.count} 条，未删除。")
        else:
            self.stdout.write(f"已清理 {start} 之前（保留 {result.days} 天）的操作日志 {result.count} 条。")
