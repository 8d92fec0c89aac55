"""The benchmark figures. Each is a function returning a Figure; add new ones to FIGURES."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import tablib
from django.core.management import call_command
from import_export import fields, resources, widgets

from units.models import Unit
from units.roster import apply_roster, preview_roster

from .rosters import county_tree, parents_first, some_parents_last, write_roster

UNITS = 20_000


@dataclass
class Figure:
    name: str
    ours: float  # seconds
    baseline: float  # seconds
    baseline_name: str
    # Peak memory of each side while it ran, when the figure measures it (bytes above what the process held before).
    ours_peak_bytes: int | None = None
    baseline_peak_bytes: int | None = None

    @property
    def ratio(self) -> float:
        """How many times faster ours is than the baseline (higher is better)."""
        return self.baseline / self.ours if self.ours else float("inf")

    @property
    def note(self) -> str:
        if self.ours_peak_bytes is None or self.baseline_peak_bytes is None:
            return ""
        return f"峰值内存 本系统 {_mb(self.ours_peak_bytes)} / 基线 {_mb(self.baseline_peak_bytes)}"


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB"


class StockUnitResource(resources.ModelResource):
    """What django-import-export gives out of the box: one row at a time, parents must already exist."""

    code = fields.Field(attribute="code", column_name="单位编码")
    name = fields.Field(attribute="name", column_name="单位名称")
    short_name = fields.Field(attribute="short_name", column_name="单位简称")
    kind_label = fields.Field(attribute="kind_label", column_name="单位类型")
    parent = fields.Field(
        attribute="parent", column_name="上级单位编码", widget=widgets.ForeignKeyWidget(Unit, field="code")
    )
    sort_order = fields.Field(attribute="sort_order", column_name="排序号", widget=widgets.IntegerWidget())

    class Meta:
        model = Unit
        import_id_fields = ["code"]
        fields = ("code", "name", "short_name", "kind_label", "parent", "sort_order")


def fresh_database() -> None:
    call_command("flush", interactive=False, verbosity=0)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def import_units_roster(workdir: Path) -> Figure:
    tree = county_tree(UNITS)
    ours_file = write_roster(workdir / "ours.xlsx", some_parents_last(tree), title="示范县单位名册（基准测试）")
    stock_file = write_roster(workdir / "stock.xlsx", parents_first(tree))  # stock cannot resolve forward refs

    def ours() -> None:
        report = apply_roster("units", ours_file, by=None)
        assert report.ok and report.counts["new"] == UNITS, report.errors[:5]

    def stock() -> None:
        dataset = tablib.Dataset().load(stock_file.read_bytes(), format="xlsx")
        result = StockUnitResource().import_data(dataset, dry_run=False, raise_errors=True)
        assert not result.has_errors() and result.totals["new"] == UNITS

    fresh_database()
    ours_s = timed(ours)
    assert Unit.objects.count() == UNITS and not Unit.objects.filter(path="").exists()
    fresh_database()
    stock_s = timed(stock)
    assert Unit.objects.count() == UNITS
    fresh_database()
    return Figure(
        f"导入 {UNITS:,} 个单位的名册（新建）", ours_s, stock_s, "django-import-export ModelResource.import_data"
    )


def preview_units_roster(workdir: Path) -> Figure:
    """The check before anything is written: our preview against stock's dry run (what its admin runs first)."""
    size = 2_000
    tree = county_tree(size)
    ours_file = write_roster(workdir / "preview-ours.xlsx", some_parents_last(tree))
    stock_file = write_roster(workdir / "preview-stock.xlsx", parents_first(tree))

    def ours() -> None:
        report = preview_roster("units", ours_file)
        assert report.ok and report.counts["new"] == size

    def stock() -> None:
        dataset = tablib.Dataset().load(stock_file.read_bytes(), format="xlsx")
        result = StockUnitResource().import_data(dataset, dry_run=True, raise_errors=True)
        assert not result.has_errors()

    fresh_database()
    ours_s = timed(ours)
    stock_s = timed(stock)
    assert Unit.objects.count() == 0
    return Figure(
        f"预检 {size:,} 个单位的名册（不写入）", ours_s, stock_s, "django-import-export import_data(dry_run=True)"
    )


FIGURES: list[Callable[[Path], Figure]] = [
    import_units_roster,
    preview_units_roster,
]
