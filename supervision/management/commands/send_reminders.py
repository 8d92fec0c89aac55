"""python manage.py send_reminders [--date YYYY-MM-DD] [--dry-run]: the daily sweep, by hand.

The same service as the beat entry: run twice for one date, the second run sends nothing."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from notifications.models import Channel, Level
from supervision import sweep


class Command(BaseCommand):
    help = "每日督办巡查：提醒、催办、督办、挂牌督办、催报，按接收人汇总发送（--dry-run 只列出不发送）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="巡查日期 YYYY-MM-DD（默认今天）")
        parser.add_argument("--dry-run", action="store_true", help="只列出将要发送的提醒，不写入、不发送")

    def handle(self, *args: Any, **options: Any) -> None:
        day = timezone.localdate()
        if options["date"]:
            try:
                day = dt.date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError(f"日期格式不正确：{options['date']}（应为 YYYY-MM-DD）") from exc
        title = f"{day:%Y-%m-%d}（{sweep.weekday_text(day)}）每日督办巡查"
        if options["dry_run"]:
            self._dry_run(day, title)
            return
        result = sweep.sweep_and_send(day=day)
        if not result["working_day"]:
            self.stdout.write(f"{title}：非工作日，不发送（顺延至下一个工作日）。")
            return
        levels = "，".join(f"{k} {v} 项" for k, v in result["levels"].items()) or "无到期事项"
        self.stdout.write(f"{title}：{levels}")
        self.stdout.write(
            f"通知事项 {result['effects']} 条，其中新增 {result['new_effects']} 条；"
            f"本次生成消息 {result['deliveries']} 条，发送成功 {result['sent']} 条，失败 {result['failed']} 条，"
            f"待重试 {result['deferred']} 条；新挂牌督办 {result['listed']} 个。"
        )
        if result["new_effects"] == 0:
            self.stdout.write("今日提醒均已记录过，本次未重复发送。")

    def _dry_run(self, day: dt.date, title: str) -> None:
        result = sweep.sweep_plan(day=day)
        plan = result.plan
        assert plan is not None
        if not plan.working_day:
            self.stdout.write(f"{title}（试运行）：非工作日，不发送（顺延至下一个工作日）。")
            return
        self.stdout.write(f"{title}（试运行，不写入、不发送）")
        order = [Level.LISTED, Level.SUPERVISE, Level.URGE, Level.REMIND, Level.REPORT]
        self.stdout.write("按级别：")
        for level in order:
            items = [it for it in plan.items if it.level == level]
            if items:
                self.stdout.write(f"  {Level(level).label}：{len(items)} 项")
        if not plan.items:
            self.stdout.write("  无到期事项。")
            return
        by_person: dict[tuple[str, int], dict[str, Any]] = defaultdict(lambda: {"channels": set(), "lines": {}})
        for spec in plan.specs:
            key = ("u", spec.recipient_id) if spec.recipient_id else ("r", spec.robot_id or 0)
            entry = by_person[key]
            entry["channels"].add(Channel(spec.channel).label)
            entry["lines"][spec.ref] = (spec.level, spec.title)
        self.stdout.write("按接收人：")
        for (kind, pk), entry in sorted(by_person.items(), key=lambda kv: (kv[0][0], kv[0][1])):
            if kind == "u":
                user = plan.people[pk]
                who = f"{user.full_name or user.username}（{user.unit.display_name if user.unit else '无单位'}）"
            else:
                robot = plan.robots[pk]
                who = f"群机器人 {robot}"
            lines = sorted(entry["lines"].values(), key=lambda x: (-x[0], x[1]))
            self.stdout.write(f"  {who} — {'、'.join(sorted(entry['channels']))}，{len(lines)} 项")
            for level, text in lines:
                self.stdout.write(f"      [{Level(level).label}] {text}")
