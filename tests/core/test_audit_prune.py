"""`prune_audit`: entries older than the retention period go (never fewer days than AUDIT_RETENTION_DAYS), the
count is printed in Chinese and recorded as a PRUNE entry; `--dry-run` only counts."""

from __future__ import annotations

import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from core.audit import Action, audit_prune, audit_record
from core.models import AuditEntry

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 10, 14, 0, tzinfo=SHANGHAI)


def record_at(when: dt.datetime, note: str) -> AuditEntry:
    with time_machine.travel(when, tick=False):
        return audit_record(action=Action.UPDATE, note=note)


@pytest.fixture
def trail(db, settings):
    settings.AUDIT_RETENTION_DAYS = 180
    # 180 days before 2026-12-10 is 2026-06-13: everything from that local midnight on is kept.
    record_at(dt.datetime(2025, 1, 1, 9, 0, tzinfo=SHANGHAI), "很旧")
    record_at(dt.datetime(2026, 6, 12, 23, 59, tzinfo=SHANGHAI), "刚过期")
    record_at(dt.datetime(2026, 6, 13, 0, 0, tzinfo=SHANGHAI), "保留期第一天")
    record_at(dt.datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI), "新")


def notes() -> list[str]:
    return list(AuditEntry.objects.exclude(action=Action.PRUNE).order_by("at").values_list("note", flat=True))


def run(*args: str) -> str:
    out = io.StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("prune_audit", *args, stdout=out)
    return out.getvalue()


def test_prune_removes_what_is_past_the_retention_and_records_it(trail):
    output = run()
    assert output.strip() == "已清理 2026-06-13 之前（保留 180 天）的操作日志 2 条。"
    assert notes() == ["保留期第一天", "新"]
    prune = AuditEntry.objects.get(action=Action.PRUNE)
    assert prune.note == "清理 2026-06-13 之前（保留 180 天）的操作日志 2 条"
    assert prune.changes == {"保留天数": 180, "清理截止": "2026-06-13", "清理条数": 2}
    assert prune.actor_name == "系统" and prune.result == "success"


def test_a_second_run_finds_nothing_and_says_so(trail):
    run()
    assert "操作日志 0 条" in run()
    assert AuditEntry.objects.filter(action=Action.PRUNE).count() == 2


def test_a_dry_run_only_counts(trail):
    output = run("--dry-run")
    assert output.strip() == "试运行：2026-06-13 之前（保留 180 天）的操作日志共 2 条，未删除。"
    assert len(notes()) == 4 and not AuditEntry.objects.filter(action=Action.PRUNE).exists()


def test_more_days_may_be_kept(trail):
    assert "2025-12-10 之前（保留 365 天）的操作日志 1 条" in run("--days", "365")
    assert notes() == ["刚过期", "保留期第一天", "新"]


@pytest.mark.parametrize("days, message", [
    ("30", "保留天数不能少于 180 天（系统设置 AUDIT_RETENTION_DAYS），现为 30 天。"),
    ("179", "保留天数不能少于 180 天"),
    ("0", "保留天数不能少于 180 天"),
    ("-5", "--days 须为整数天数，现为“-5”。"),
    ("abc", "--days 须为整数天数，现为“abc”。"),
    ("１８０", "--days 须为整数天数"),
])
def test_fewer_days_than_the_setting_are_refused_in_chinese(trail, days, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        run("--days", days)
    assert len(notes()) == 4 and not AuditEntry.objects.filter(action=Action.PRUNE).exists()


def test_the_setting_is_the_default_and_the_floor(trail, settings):
    settings.AUDIT_RETENTION_DAYS = 400
    with pytest.raises(CommandError, match="不能少于 400 天"):
        run("--days", "365")
    assert "2025-11-05 之前（保留 400 天）的操作日志 1 条" in run()


def test_the_service_refuses_as_the_command_does(trail):
    with pytest.raises(ValidationError):
        audit_prune(days=10)
    assert len(notes()) == 4
