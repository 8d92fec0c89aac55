"""How every import command reports: one summary line on stdout, warnings and errors on stderr, status 1 on error."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser, OutputWrapper

from core.mappings import mapping_from_args
from core.xlsx import Column, XlsxError

MAX_ERRORS_SHOWN = 50


def write_import_report(
    report: Any, *, stdout: OutputWrapper, stderr: OutputWrapper, subject: str, dry_run: bool
) -> None:
    """`report` has summary_line(), errors and optionally warnings; `subject` names the file (名册, 台账)."""
    columns = getattr(report, "columns", None) or []
    if columns:
        shown = f"（已保存的映射“{report.mapping_name}”）" if getattr(report, "mapping_name", "") else ""
        stderr.write(f"列映射{shown}：")
        for c in columns:
            how = f"（{c['how_label']}）" if c.get("key") and c.get("how_label") else ""
            hidden = "（隐藏列）" if c.get("hidden") else ""
            stderr.write(f"  {c['letter']} {c['header']}{hidden} → {c['label']}{how}")
    stdout.write(report.summary_line())
    for warning in getattr(report, "warnings", None) or []:
        stderr.write(f"提示：{warning}")
    errors = report.errors
    for message in errors[:MAX_ERRORS_SHOWN]:
        stderr.write(message)
    if len(errors) > MAX_ERRORS_SHOWN:
        stderr.write(f"…共 {len(errors)} 条错误")
    if errors:
        raise CommandError(f"{subject}有错误，数据库未做任何修改。", returncode=1)
    if dry_run:
        stderr.write("试运行（--dry-run）：只做了检查，数据库未做任何修改。")


def add_mapping_arguments(parser: CommandParser) -> None:
    parser.add_argument(
        "--map", action="append", default=[], metavar="表头=字段",
        help="指定某列对应的字段，如 --map 上级机构代码=上级单位；字段写“不导入”则不导入该列；可重复",
    )
    parser.add_argument("--sheet", metavar="工作表", help="读取哪个工作表；默认取表头最完整的工作表")


def mapping_options(options: dict[str, Any], columns: tuple[Column, ...]) -> dict[str, Any]:
    """`mapping` and `sheet` keyword arguments for an import, from --map and --sheet."""
    sheet = options.get("sheet") or None
    try:
        mapping = mapping_from_args(options["file"], columns, options.get("map") or [], sheet=sheet)
    except (ValueError, XlsxError) as exc:
        raise CommandError(str(exc)) from exc
    return {"mapping": mapping, "sheet": sheet}
