"""The dashboard's tables as Excel, through django-import-export like every plain table export."""

from __future__ import annotations

from typing import Any

from import_export import fields

from core.exporting import ExportResource, xlsx_bytes

from .dashboard import Dashboard, Group, Row
from .figures import rate_text


class UnitRowResource(ExportResource):
    rank = fields.Field(column_name="排名")
    unit = fields.Field(column_name="单位")
    total = fields.Field(column_name="问题总数")
    closed = fields.Field(column_name="已销号")
    pending = fields.Field(column_name="待核查")
    in_progress = fields.Field(column_name="整改中")
    overdue = fields.Field(column_name="逾期")
    closure_rate = fields.Field(column_name="整改率")
    on_time_rate = fields.Field(column_name="按期整改率")
    light = fields.Field(column_name="亮灯")

    def dehydrate_rank(self, r: Row) -> Any:
        return r.rank if r.rank is not None else "—"

    def dehydrate_unit(self, r: Row) -> str:
        return r.unit.name

    def dehydrate_total(self, r: Row) -> int:
        return r.figures.total

    def dehydrate_closed(self, r: Row) -> int:
        return r.figures.closed

    def dehydrate_pending(self, r: Row) -> int:
        return r.figures.pending_review

    def dehydrate_in_progress(self, r: Row) -> int:
        return r.figures.in_progress

    def dehydrate_overdue(self, r: Row) -> int:
        return r.figures.overdue

    def dehydrate_closure_rate(self, r: Row) -> str:
        return rate_text(r.figures.closure_rate)

    def dehydrate_on_time_rate(self, r: Row) -> str:
        return rate_text(r.figures.on_time_rate)

    def dehydrate_light(self, r: Row) -> str:
        return r.light


class GroupResource(ExportResource):
    label = fields.Field(column_name="分组")
    total = fields.Field(column_name="问题总数")
    closed = fields.Field(column_name="已销号")
    overdue = fields.Field(column_name="逾期")
    closure_rate = fields.Field(column_name="整改率")

    def __init__(self, heading: str) -> None:
        super().__init__()
        self.fields["label"].column_name = heading

    def dehydrate_label(self, g: Group) -> str:
        return g.label

    def dehydrate_total(self, g: Group) -> int:
        return g.figures.total

    def dehydrate_closed(self, g: Group) -> int:
        return g.figures.closed

    def dehydrate_overdue(self, g: Group) -> int:
        return g.figures.overdue

    def dehydrate_closure_rate(self, g: Group) -> str:
        return rate_text(g.figures.closure_rate)


class TrendResource(ExportResource):
    label = fields.Field(column_name="月份")
    new = fields.Field(column_name="新增")
    closed = fields.Field(column_name="销号")
    total = fields.Field(column_name="问题总数（月末）")
    closure_rate = fields.Field(column_name="累计整改率")

    def dehydrate_label(self, t: Any) -> str:
        return t.label

    def dehydrate_new(self, t: Any) -> int:
        return t.new

    def dehydrate_closed(self, t: Any) -> int:
        return t.closed

    def dehydrate_total(self, t: Any) -> int:
        return t.total

    def dehydrate_closure_rate(self, t: Any) -> str:
        return rate_text(t.closure_rate)


TABLES = {"units": "各单位", "slowest": "进度最慢单位", "trend": "月度趋势", "category": "按类别", "source": "按来源"}


def dashboard_table_xlsx(board: Dashboard, table: str) -> bytes:
    if table in ("units", "slowest"):
        dataset = UnitRowResource().export(queryset=board.rows if table == "units" else board.slowest)
    elif table == "trend":
        dataset = TrendResource().export(queryset=board.trend)
    elif table == "category":
        dataset = GroupResource("问题类别").export(queryset=board.categories)
    else:
        dataset = GroupResource("问题来源").export(queryset=board.sources)
    return xlsx_bytes(dataset, title=TABLES[table])
