"""The delivery log out to Excel: the rows the office filtered on the page, with the page's columns in Chinese."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone
from import_export import fields

from core.exporting import ExportModelResource, xlsx_bytes

from .models import Delivery


def _local(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


class DeliveryResource(ExportModelResource):
    """Export only; every cell is made safe for a spreadsheet by `ExportModelResource`."""

    created_at = fields.Field(attribute="created_at", column_name="时间")
    channel = fields.Field(attribute="channel", column_name="渠道")
    recipient = fields.Field(column_name="接收人（或机器人）")
    address = fields.Field(attribute="address", column_name="地址")
    unit = fields.Field(column_name="单位")
    level = fields.Field(attribute="level", column_name="级别")
    subject = fields.Field(attribute="subject", column_name="标题")
    body = fields.Field(attribute="body", column_name="内容")
    status = fields.Field(attribute="status", column_name="状态")
    attempts = fields.Field(attribute="attempts", column_name="尝试次数")
    sent_at = fields.Field(attribute="sent_at", column_name="发送时间")
    error = fields.Field(attribute="error", column_name="错误信息")
    resent_from = fields.Field(column_name="重发自（记录号）")
    id = fields.Field(attribute="id", column_name="记录号")

    class Meta:
        model = Delivery
        fields = ("id", "created_at", "channel", "recipient", "address", "unit", "level", "subject", "body", "status",
                  "attempts", "sent_at", "error", "resent_from")

    @staticmethod
    def queryset_for(qs: QuerySet[Delivery]) -> QuerySet[Delivery]:
        return qs.select_related("recipient", "robot", "unit")

    def dehydrate_id(self, d: Delivery) -> int:
        return d.pk

    def dehydrate_created_at(self, d: Delivery) -> str:
        return _local(d.created_at)

    def dehydrate_sent_at(self, d: Delivery) -> str:
        return _local(d.sent_at)

    def dehydrate_channel(self, d: Delivery) -> str:
        return d.get_channel_display()

    def dehydrate_recipient(self, d: Delivery) -> str:
        if d.recipient is not None:
            return d.recipient.full_name or d.recipient.username
        if d.robot is not None:
            return f"{d.robot.get_kind_display()}机器人·{d.robot.name}"
        return ""

    def dehydrate_unit(self, d: Delivery) -> str:
        return d.unit.name if d.unit is not None else ""

    def dehydrate_level(self, d: Delivery) -> str:
        return d.get_level_display()

    def dehydrate_status(self, d: Delivery) -> str:
        return d.get_status_display()

    def dehydrate_attempts(self, d: Delivery) -> int:
        return d.attempts

    def dehydrate_resent_from(self, d: Delivery) -> int | str:
        return d.resent_from_id or ""


def deliveries_xlsx(qs: QuerySet[Delivery]) -> bytes:
    return xlsx_bytes(DeliveryResource().export(queryset=DeliveryResource.queryset_for(qs)), title="发送记录")


__all__ = ["DeliveryResource", "deliveries_xlsx"]
