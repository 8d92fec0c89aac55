"""Units as ledgers name them, both ways: a name in a cell → the unit, and a unit → the name the export writes.

Offices write a unit's full name (县教育体育局) or its short name (教育体育局). Full names win over short names;
among several units of one name the active one wins. A name shared by several units (办公室 under many bureaus)
is written by the export as 「上级单位/单位」, which the import reads back; failing that, as the unit code.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from units.models import Unit

_SPACE = re.compile(r"[\s\u3000\xa0]+")
_BRACKETS = str.maketrans({"(": "（", ")": "）"})


def norm(name: str) -> str:
    return _SPACE.sub("", name or "").translate(_BRACKETS)


class UnitResolver:
    """Every unit loaded once (a county has hundreds, a city a few thousand) and indexed by code and names."""

    def __init__(self, units: Iterable[Unit] | None = None) -> None:
        units = list(Unit.objects.all() if units is None else units)
        self.by_id = {u.pk: u for u in units}
        self.by_code: dict[str, Unit] = {norm(u.code): u for u in units}
        self.by_name: dict[str, list[Unit]] = defaultdict(list)
        self.by_short: dict[str, list[Unit]] = defaultdict(list)
        for u in units:
            self.by_name[norm(u.name)].append(u)
            if u.short_name:
                self.by_short[norm(u.short_name)].append(u)

    @staticmethod
    def _pick(candidates: list[Unit]) -> list[Unit]:
        """Of several units with one name, the active ones (if any is)."""
        active = [u for u in candidates if u.is_active]
        return active or candidates

    def _named(self, name: str) -> list[Unit]:
        if self.by_name.get(name):
            return self._pick(self.by_name[name])
        return self._pick(self.by_short.get(name, []))

    def resolve(self, ref: str) -> Unit:
        """The unit a cell names; ValueError with a Chinese message when none or several fit."""
        key = norm(ref)
        if not key:
            raise ValueError("单位名称为空")
        if "/" in key:
            parent_ref, _, child = key.rpartition("/")
            try:
                parent = self.resolve(parent_ref)
            except ValueError:
                parent = None
            if parent is not None:
                found = [u for u in self.by_name.get(child, []) + self.by_short.get(child, [])
                         if u.parent_id == parent.pk]
                found = list({u.pk: u for u in found}.values())
                if len(found) == 1:
                    return found[0]
        found = self._named(key)
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            shown = "、".join(self.label(u) for u in found[:4])
            raise ValueError(f"单位“{ref}”对应多个单位（{shown}），请写全称或“上级单位/单位”")
        if key in self.by_code:
            return self.by_code[key]
        raise ValueError(f"系统中没有单位“{ref}”（按单位全称或简称匹配，请先导入单位名册或改正名称）")

    def label(self, unit: Unit) -> str:
        """What the export writes for a unit, such that `resolve` finds exactly this unit again."""
        name = norm(unit.name)
        if [u.pk for u in self.by_name.get(name, [])] == [unit.pk]:
            return unit.name
        parent = self.by_id.get(unit.parent_id) if unit.parent_id else None
        if parent is not None:
            text = f"{self.label(parent)}/{unit.name}"
            try:
                if self.resolve(text).pk == unit.pk:
                    return text
            except ValueError:
                pass
        return unit.code


class UnitLabels:
    """The export's unit names for a fixed set of units, with one query for the names that need a parent."""

    def __init__(self, units: Iterable[Unit]) -> None:
        names = {u.name for u in units}
        shared = Unit.objects.filter(name__in=names).values_list("name", flat=True)
        counts: dict[str, int] = defaultdict(int)
        for n in shared:
            counts[n] += 1
        self._ambiguous = {n for n, c in counts.items() if c > 1}
        self._resolver: UnitResolver | None = None

    def __call__(self, unit: Unit | None) -> str:
        if unit is None:
            return ""
        if unit.name not in self._ambiguous:
            return unit.name
        if self._resolver is None:  # rare: load the tree once, only when some name is shared
            self._resolver = UnitResolver()
        return self._resolver.label(self._resolver.by_id.get(unit.pk, unit))
