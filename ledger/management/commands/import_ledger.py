"""python manage.py import_ledger FILE --campaign CODE [--campaign-name NAME] [--user USERNAME] [--dry-run]
    [--map 表头=字段 …] [--sheet 工作表] [--add-sources] [--add-categories] [--source 词=来源 …] [--category 词=类别 …]

Words the campaign does not know (问题来源, 问题类别) stop the import with their list, unless decided with
--source / --category or added with --add-sources / --add-categories; a campaign without a catalogue gets one
built from the file only with --add-categories.

Prints one line (新增 N，更新 N，未变 N，错误 N) on stdout; warnings and errors go to stderr; exits with status 1
when the file has any error, in which case nothing was written.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.import_output import add_mapping_arguments, mapping_options, write_import_report
from ledger.excel.columns import LEDGER_COLUMNS
from ledger.excel.importer import apply_ledger
from units.models import Role, User


def acting_user(username: str | None) -> User:
    """The account the import acts as: the one named, else the first active office user, else a superuser."""
    if username:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"用户“{username}”不存在。")
        if not user.is_active:
            raise CommandError(f"用户“{username}”已停用。")
        if not user.has_role(Role.OFFICE, Role.ADMIN):
            raise CommandError(f"用户“{username}”不是作风办人员或系统管理员，不能导入或导出问题台账。")
        return user
    user = (
        User.objects.filter(is_active=True, role_grants__role=Role.OFFICE).order_by("id").first()
        or User.objects.filter(is_active=True, is_superuser=True).order_by("id").first()
    )
    if user is None:
        raise CommandError("系统中没有可用的作风办账号或超级管理员：请先导入人员名册，或用 --user 指定操作人。")
    return user


def _pairs(values: list[str], flag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        word, sep, target = value.partition("=")
        if not sep or not word.strip() or not target.strip():
            raise CommandError(f"{flag} 的写法应为“词=对应项”（对应项写“+”表示加入）：{value}")
        out[word.strip()] = target.strip()
    return out


class Command(BaseCommand):
    help = "从 Excel（.xlsx）导入问题台账：按编号、序号或问题描述新增或更新问题，全部成功才写入。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="问题台账文件（.xlsx）")
        parser.add_argument("--campaign", required=True, metavar="CODE", help="专项行动编号，如 ZF2022；不存在时新建")
        parser.add_argument("--campaign-name", default="", metavar="NAME",
                            help="新建专项行动时的名称；默认取台账标题")
        parser.add_argument("--user", "--by", dest="user", metavar="USERNAME",
                            help="以哪个账号导入（须为作风办人员）；默认为第一个作风办账号")
        parser.add_argument("--dry-run", action="store_true", help="只检查并报告，不写入数据库")
        add_mapping_arguments(parser)
        parser.add_argument("--add-sources", action="store_true",
                            help="把文件中本专项行动没有的问题来源都加入本专项行动")
        parser.add_argument("--add-categories", action="store_true",
                            help="把文件中问题表现清单没有的问题类别都加入清单（专项行动还没有清单时，按文件新建）")
        parser.add_argument("--source", action="append", default=[], metavar="词=来源",
                            help="文件中的某个来源写法对应本专项行动的哪个来源，如 --source 县委巡察=巡视巡察；"
                                 "来源写“+”则加入；可重复")
        parser.add_argument("--category", action="append", default=[], metavar="词=类别",
                            help="文件中的某个类别写法对应清单中的哪个类别（编码或名称），类别写“+”则加入清单；可重复")

    def handle(self, *args: Any, **options: Any) -> None:
        by = acting_user(options.get("user"))
        dry_run = options["dry_run"]
        report = apply_ledger(
            options["file"], campaign=options["campaign"], campaign_name=options["campaign_name"], by=by,
            dry_run=dry_run, sources=_pairs(options["source"], "--source"),
            categories=_pairs(options["category"], "--category"), add_sources=options["add_sources"],
            add_categories=options["add_categories"], build_catalogue=options["add_categories"],
            **mapping_options(options, LEDGER_COLUMNS),
        )
        for kind, label in (("sources", "问题来源"), ("categories", "问题类别")):
            for w in report.vocab.get(kind) or []:
                if not w["choice"]:
                    hint = f"，可用 {'--source' if kind == 'sources' else '--category'} {w['word']}={w['suggest']}" \
                        if w["suggest"] else ""
                    self.stderr.write(f"未识别的{label}“{w['word']}”（{w['count']} 处{hint}）")
        write_import_report(report, stdout=self.stdout, stderr=self.stderr, subject="台账", dry_run=dry_run)
