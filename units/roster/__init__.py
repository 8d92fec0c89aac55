"""Roster import (单位名册, 人员名册) from .xlsx: a preview that writes nothing, then an all-or-nothing import.

    report = preview_roster("units", upload)          # row by row: new / changed / unchanged / error
    report = apply_roster("units", upload, by=admin)  # one transaction; nothing is written if any row is wrong

The header aliases, unit-kind words and role words are tables in `units.roster.columns`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from core.import_report import ProgressFn, RosterReport, RowOutcome

from .columns import ROLE_WORDS, UNIT_COLUMNS, UNIT_KIND_FRAGMENTS, UNIT_KIND_WORDS, USER_COLUMNS
from .unit_roster import apply_units, map_kind, preview_units
from .user_roster import apply_users, map_role, preview_users

_PREVIEW: dict[str, Callable[..., RosterReport]] = {"units": preview_units, "users": preview_users}
_APPLY: dict[str, Callable[..., RosterReport]] = {"units": apply_units, "users": apply_users}


def _check_kind(kind: str) -> None:
    if kind not in _PREVIEW:
        raise ValueError(f"unknown roster kind: {kind!r} (expected 'units' or 'users')")


def preview_roster(
    kind: str, file: Any, *, mapping: dict[str, str] | None = None, sheet: str | None = None,
    progress: ProgressFn | None = None,
) -> RosterReport:
    """Read and check a roster against the database. Never writes.

    `mapping` (column letter → field key, "" for 不导入) overrides the automatic matching of those columns; None
    applies a mapping saved for the file's headers, if any. `sheet` names the worksheet to read."""
    _check_kind(kind)
    return _PREVIEW[kind](file, mapping=mapping, sheet=sheet, progress=progress)


def apply_roster(
    kind: str, file: Any, *, by: Any, ip: str | None = None, deactivate_unit_ids: Collection[int] = (),
    progress: ProgressFn | None = None, dry_run: bool = False, mapping: dict[str, str] | None = None,
    sheet: str | None = None, confirmed: Collection[str] = (),
) -> RosterReport:
    """Import a roster in one transaction; if the report has any error, nothing is written.

    `deactivate_unit_ids`: units listed in the report's `missing` that the admin chose to deactivate.
    `progress(done, total)` is called as the work advances. `dry_run` checks and reports without writing.
    `mapping`, `sheet` as for the preview; `confirmed`: the ids of the preview's confirmations the admin gave
    (e.g. "flat": every new unit at the top level).
    """
    _check_kind(kind)
    return _APPLY[kind](
        file, by=by, ip=ip, deactivate_unit_ids=deactivate_unit_ids, progress=progress, dry_run=dry_run,
        mapping=mapping, sheet=sheet, confirmed=confirmed,
    )


__all__ = [
    "ROLE_WORDS",
    "UNIT_COLUMNS",
    "UNIT_KIND_FRAGMENTS",
    "UNIT_KIND_WORDS",
    "USER_COLUMNS",
    "RosterReport",
    "RowOutcome",
    "apply_roster",
    "apply_units",
    "apply_users",
    "map_kind",
    "map_role",
    "preview_roster",
    "preview_units",
    "preview_users",
]
