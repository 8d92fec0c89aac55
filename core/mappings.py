"""Saved column mappings: an admin names the mapping of one file, and a later file with the same headers gets it.

    lookup = saved_lookup("units")                 # for core.xlsx.read_table(saved=…)
    mapping_save(kind="units", name="县编办名册", report=report, mapping={"D": "parent"}, by=admin)
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from core.audit import Action, audit_record
from core.import_report import ProgressFn, RosterReport
from core.models import ImportMapping
from core.xlsx import (
    Column,
    HeaderError,
    SavedLookup,
    Table,
    XlsxError,
    headers_to_letters,
    locate_header,
    open_workbook,
    parse_mapping_args,
    read_table,
)


def saved_lookup(kind: str) -> SavedLookup:
    """A lookup for `core.xlsx.locate_header`: the most recently used mapping saved for these headers."""

    def lookup(signature: str) -> tuple[str, dict[str, str]] | None:
        found = ImportMapping.objects.filter(kind=kind, signature=signature).order_by("-used_at", "-id").first()
        return (found.name, dict(found.mapping)) if found is not None else None

    return lookup


def mappings_for(kind: str, signature: str) -> list[ImportMapping]:
    return list(ImportMapping.objects.filter(kind=kind, signature=signature).order_by("-used_at", "-id"))


def mapping_save(*, kind: str, name: str, report: dict[str, Any], by: Any, ip: str | None = None) -> ImportMapping:
    """Save the mapping a preview used (its columns) under `name`; a mapping of that name is replaced."""
    name = name.strip()
    if not name:
        raise ValidationError("请填写映射名称。")
    if len(name) > 100:
        raise ValidationError("映射名称不能超过 100 个字。")
    columns = report.get("columns") or []
    signature = report.get("signature") or ""
    if not columns or not signature:
        raise ValidationError("预检没有找到表头，无法保存列映射。")
    mapping = {c["letter"]: c.get("key") or "" for c in columns}
    obj, _ = ImportMapping.objects.update_or_create(
        kind=kind, name=name,
        defaults={"signature": signature, "headers": [c["header"] for c in columns], "mapping": mapping,
                  "created_by": by if getattr(by, "pk", None) else None},
    )
    audit_record(action=Action.CREATE, actor=by, obj=obj, ip=ip, note=f"保存列映射“{name}”",
                 changes={"mapping": mapping})
    return obj


def read_mapped(
    file: Any, columns: tuple[Column, ...], *, kind: str, report: RosterReport, mapping: dict[str, str] | None,
    sheet: str | None, progress: ProgressFn | None,
) -> Table | None:
    """Read a roster's table with the user's mapping (or one saved for its headers); the columns found and what to
    say of them go onto `report`, and so does a file error (then None)."""
    try:
        table = read_table(file, columns, sheet=sheet, mapping=mapping, saved=saved_lookup(kind), progress=progress)
    except HeaderError as exc:
        report.take_header(exc.header, exc.sheet)
        report.file_errors.append(exc.message)
        return None
    except XlsxError as exc:
        report.file_errors.append(exc.message)
        return None
    report.take_header(table.header, table.sheet)
    return table


def mapping_from_args(
    file: Any, columns: tuple[Column, ...], pairs: list[str], *, sheet: str | None = None,
) -> dict[str, str] | None:
    """A command line's `--map 表头=字段` pairs → the mapping by column letter for this file; None without pairs.
    Raises ValueError (Chinese) for a malformed pair, an unknown field or a header the file lacks."""
    if not pairs:
        return None
    by_header = parse_mapping_args(pairs, columns)
    with open_workbook(file) as wb:
        try:
            _, header = locate_header(wb, columns, sheet=sheet, mapping={})
        except HeaderError as exc:
            header = exc.header  # the mapping is what will supply the missing column
    return headers_to_letters(by_header, header)


def mapping_from_post(
    report: dict[str, Any], post: Any, columns: tuple[Column, ...], current: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The job options a mapping form asks for: {"mapping": {letter: key}, "sheet": …}, the columns the form
    changed added to the `current` mapping; "auto" clears the mapping (automatic matching, no saved mapping). Only
    the preview's columns and the kind's fields are accepted: a forged field is refused (ValidationError, Chinese)."""
    if post.get("auto"):
        return {"mapping": {}}
    allowed = {c.key: c.label for c in columns if c.read}
    mapping: dict[str, str] = dict(current or {})
    if report.get("mapping_name") and not current:
        mapping = {c["letter"]: c.get("key") or "" for c in report.get("columns") or []}  # the saved one, kept
    for c in report.get("columns") or []:
        name = f"map_{c['letter']}"
        if name not in post:
            continue
        value = post.get(name) or ""
        if value and value not in allowed:
            raise ValidationError(f"「{c['header']}」列（{c['letter']}列）选择的字段“{value}”不存在。")
        if value != (c.get("key") or "") or c["letter"] in mapping:
            mapping[c["letter"]] = value
    chosen = [post.get(f"map_{c['letter']}", c.get("key") or "") for c in report.get("columns") or []]
    chosen = [v for v in chosen if v]
    twice = sorted({allowed[v] for v in chosen if chosen.count(v) > 1})
    if twice:
        raise ValidationError(f"同一个字段只能对应一列：{'、'.join(twice)} 被选了多次。")
    return {"mapping": mapping, "sheet": report.get("sheet") or None}


def field_choices(columns: tuple[Column, ...]) -> list[tuple[str, str]]:
    """The fields a column can be mapped to, for the mapping form's selects ("" is 不导入)."""
    return [("", "不导入"), *((c.key, c.label) for c in columns if c.read)]
