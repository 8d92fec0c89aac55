"""督办单台账 out to Excel: one order a row, in Chinese, every cell made safe for a spreadsheet (`core.exporting`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from import_export import fields

from core.exporting import ExportModelResource, xlsx_bytes

from .models import SupervisionOrder
from .orders import is_overdue


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def _moment(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _person(user: Any) -> str:
    return (user.full_name or user.username) if user is not None else ""


class OrderResource(ExportModelResource):
    number = fields.Field(column_name="督办单号", dehydrate_method="dehydrate_number")
    title = fields.Field(column_name="文书名称", dehydrate_method="dehydrate_title")
    level = fields.Field(column_name="督办级别", dehydrate_method="dehydrate_level")
    problem_number = fields.Field(column_name="问题编号", dehydrate_method="dehydrate_problem_number")
    summary = fields.Field(column_name="问题概述", dehydrate_method="dehydrate_summary")
    lead_unit = fields.Field(column_name="牵头单位", dehydrate_method="dehydrate_lead_unit")
    deadline = fields.Field(column_name="整改时限", dehydrate_method="dehydrate_deadline")
    requirements = fields.Field(column_name="督办要求", dehydrate_method="dehydrate_requirements")
    reply_deadline = fields.Field(column_name="回复期限", dehydrate_method="dehydrate_reply_deadline")
    status = fields.Field(column_name="状态", dehydrate_method="dehydrate_status")
    issued_by = fields.Field(column_name="签发人", dehydrate_method="dehydrate_issued_by")
    issued_at = fields.Field(column_name="签发时间", dehydrate_method="dehydrate_issued_at")
    reply = fields.Field(column_name="回复内容", dehydrate_method="dehydrate_reply")
    replied_by = fields.Field(column_name="回复人", dehydrate_method="dehydrate_replied_by")
    replied_at = fields.Field(column_name="回复时间", dehydrate_method="dehydrate_replied_at")

    class Meta:
        model = SupervisionOrder
        fields = ("number", "title", "level", "problem_number", "summary", "lead_unit", "deadline", "requirements",
                  "reply_deadline", "status", "issued_by", "issued_at", "reply", "replied_by", "replied_at")
        export_order = fields

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.today = timezone.localdate()

    def dehydrate_number(self, o: SupervisionOrder) -> str:
        return o.number

    def dehydrate_title(self, o: SupervisionOrder) -> str:
        return o.title

    def dehydrate_level(self, o: SupervisionOrder) -> str:
        return o.get_level_display()

    def dehydrate_problem_number(self, o: SupervisionOrder) -> str:
        return o.problem.number

    def dehydrate_summary(self, o: SupervisionOrder) -> str:
        return o.problem.summary

    def dehydrate_lead_unit(self, o: SupervisionOrder) -> str:
        return o.problem.lead_unit.name if o.problem.lead_unit else ""

    def dehydrate_deadline(self, o: SupervisionOrder) -> str:
        return _date(o.problem.deadline) or "长期坚持"

    def dehydrate_requirements(self, o: SupervisionOrder) -> str:
        return o.requirements

    def dehydrate_reply_deadline(self, o: SupervisionOrder) -> str:
        return _date(o.reply_deadline)

    def dehydrate_status(self, o: SupervisionOrder) -> str:
        return "逾期未回复" if is_overdue(o, self.today) else o.get_status_display()

    def dehydrate_issued_by(self, o: SupervisionOrder) -> str:
        return _person(o.issued_by)

    def dehydrate_issued_at(self, o: SupervisionOrder) -> str:
        return _moment(o.issued_at)

    def dehydrate_reply(self, o: SupervisionOrder) -> str:
        return o.reply

    def dehydrate_replied_by(self, o: SupervisionOrder) -> str:
        return _person(o.replied_by)

    def dehydrate_replied_at(self, o: SupervisionOrder) -> str:
        return _moment(o.replied_at)


def orders_xlsx(qs: QuerySet[SupervisionOrder]) -> bytes:
    return xlsx_bytes(OrderResource().export(queryset=qs))


__all__ = ["OrderResource", "orders_xlsx"]
