"""Generated rosters for the benchmarks: a county-shaped tree of valid 统一社会信用代码."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import openpyxl

from units.validators import uscc_check_char

KIND_WORDS = ("县委工作机关", "县政府工作部门", "乡镇", "事业单位", "二级单位", "国企", "群团", "其他")
HEADER = ["单位编码", "单位名称", "单位简称", "单位类型", "上级单位编码", "排序号"]


def uscc(n: int) -> str:
    first17 = f"12419901{n:09d}"
    return first17 + uscc_check_char(first17)


@dataclass
class UnitSpec:
    code: str
    name: str
    kind: str
    parent: str | None
    level: int
    n: int


def county_tree(total: int = 20_000, *, departments: int = 100, sections: int = 10) -> list[UnitSpec]:
    """1 root, `departments` under it, `sections` under each, and the rest spread as a fourth level."""
    units = [UnitSpec(uscc(0), "示范县", "其他", None, 0, 0)]
    level1 = [
        UnitSpec(uscc(i), f"县直部门{i}", KIND_WORDS[i % 3], units[0].code, 1, i) for i in range(1, departments + 1)
    ]
    units += level1
    n = len(units)
    level2: list[UnitSpec] = []
    for dept in level1:
        for _ in range(sections):
            level2.append(UnitSpec(uscc(n), f"{dept.name}科室{n}", KIND_WORDS[3 + n % 2], dept.code, 2, n))
            n += 1
    units += level2
    i = 0
    while n < total:
        parent = level2[i % len(level2)]
        units.append(UnitSpec(uscc(n), f"{parent.name}下属单位{n}", KIND_WORDS[n % len(KIND_WORDS)], parent.code, 3, n))
        n += 1
        i += 1
    return units[:total]


def write_roster(path: Path, units: list[UnitSpec], *, title: str | None = None) -> Path:
    """In openpyxl's normal mode: files from write-only mode lack <dimension>, which tablib cannot read."""
    wb = openpyxl.Workbook()
    ws = wb.active
    if title:
        ws.append([title])
    ws.append(HEADER)
    for u in units:
        ws.append([u.code, u.name, u.name[-8:], u.kind, u.parent, u.n])
    wb.save(path)
    return path


def parents_first(units: list[UnitSpec]) -> list[UnitSpec]:
    return sorted(units, key=lambda u: (u.level, u.n))


def some_parents_last(units: list[UnitSpec]) -> list[UnitSpec]:
    """Every tenth third-level parent (科室) listed at the very end, after its children: what stock tools reject."""
    ordered = parents_first(units)
    late = [u for u in ordered if u.level == 2 and u.n % 10 == 0]
    late_codes = {u.code for u in late}
    return [u for u in ordered if u.code not in late_codes] + late
