"""How every import command reports: one summary line on stdout, warnings and errors on stderr, status 1 on error."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, OutputWrapper

MAX_ERRORS_SHOWN = 50


def write_import_report(
    report: Any, *, stdout: OutputWrapper, stderr: OutputWrapper, subject: str, dry_run: bool
) -> None:
    """`report` has summary_line(), errors and optionally warnings; `subject` names the file (名册, 台账)."""
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
