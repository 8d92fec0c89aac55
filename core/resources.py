"""The audit trail out to Excel: the entries the admin searched for on the audit page, with its columns in Chinese."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from import_export import fields

from .audit import change_lines
from .exporting import ExportModelResource, xlsx_bytes
from .models import AuditEntry


def actor_text(entry: AuditEntry) -> str:
    """The actor as recorded, with the login name when the account still exists and it differs: "张三（zhangsan）"."""
    actor: Any = entry.actor
    username = str(getattr(actor, "username", "") or "")
    if username and username != entry.actor_name:
        return f"{entry.actor_name}（{username}）"
    return entry.actor_name


def unit_text(entry: AuditEntry) -> str:
    unit = getattr(entry.actor, "unit", None) if entry.actor_id else None
    return str(unit) if unit is not None else ""


def object_text(entry: AuditEntry) -> str:
    if not entry.object_repr:
        return ""
    kind = str(entry.content_type.name) if entry.content_type_id and entry.content_type else ""
    return f"{kind} {entry.object_repr}".strip()


def detail_text(entry: AuditEntry) -> str:
    """What changed ("状态：整改中 → 待核查", whole values) and the note, one per line."""
    lines = [f"{line.label}：{line.full}" for line in change_lines(entry)]
    if entry.note:
        lines.append(entry.note)
    return "\n".join(lines)


class AuditEntryResource(ExportModelResource):
    """Export only."""

    at = fields.Field(column_name="时间")
    actor = fields.Field(column_name="操作人")
    unit = fields.Field(column_name="单位")
    action = fields.Field(column_name="操作")
    result = fields.Field(column_name="结果")
    obj = fields.Field(column_name="对象")
    note = fields.Field(column_name="说明")
    ip = fields.Field(column_name="来源地址")
    request_id = fields.Field(column_name="请求编号")

    class Meta:
        model = AuditEntry
        fields = ("at", "actor", "unit", "action", "result", "obj", "note", "ip", "request_id")

    @staticmethod
    def queryset_for(qs: QuerySet[AuditEntry]) -> QuerySet[AuditEntry]:
        return qs.select_related("actor", "actor__unit", "content_type")

    def dehydrate_at(self, entry: AuditEntry) -> str:
        return timezone.localtime(entry.at).strftime("%Y-%m-%d %H:%M:%S")

    def dehydrate_actor(self, entry: AuditEntry) -> str:
        return actor_text(entry)

    def dehydrate_unit(self, entry: AuditEntry) -> str:
        return unit_text(entry)

    def dehydrate_action(self, entry: AuditEntry) -> str:
        return entry.get_action_display()

    def dehydrate_result(self, entry: AuditEntry) -> str:
        return entry.get_result_display()

    def dehydrate_obj(self, entry: AuditEntry) -> str:
        return object_text(entry)

    def dehydrate_note(self, entry: AuditEntry) -> str:
        return detail_text(entry)

    def dehydrate_ip(self, entry: AuditEntry) -> str:
        return entry.ip or ""

    def dehydrate_request_id(self, entry: AuditEntry) -> str:
        return entry.request_id


def audit_xlsx(qs: QuerySet[AuditEntry]) -> bytes:
    return xlsx_bytes(AuditEntryResource().export(queryset=AuditEntryResource.queryset_for(qs)), title="操作日志")


__all__ = ["AuditEntryResource", "audit_xlsx"]
