"""单位名册: read, check and plan an upsert by unit code; write it in bulk, one tree level at a time.

The plan is made against the whole unit table in memory (tens of thousands of rows at most), which is what lets
parents come after their children, parents be named by code or full name, cycles be found across the file and
the database, and several units move in one roster (even under units the same roster creates).
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from core.audit import Action, audit_record, audit_record_many
from core.import_report import (
    CHANGED,
    ERROR,
    NEW,
    UNCHANGED,
    Progress,
    ProgressFn,
    RosterReport,
    RowOutcome,
    field_label,
    file_label,
)
from core.xlsx import Record, Table, XlsxError, normalize_header, read_table
from units.models import Unit, UnitKind
from units.services import depth_of, unit_child_path
from units.validators import USCC_ALPHABET, uscc_check_char

from .columns import UNIT_COLUMNS, UNIT_KIND_FRAGMENTS, UNIT_KIND_WORDS

_SPACES = re.compile(r"\s+")
BATCH = 1000
# Serialises roster imports on PostgreSQL: two admins confirming at once would otherwise plan against the same
# snapshot and compute conflicting paths.
_ADVISORY_LOCK_KEY = 0x5A47_0001


def normalize_code(text: str) -> str:
    """Unit codes arrive with stray spaces (also full-width, also inside); none belongs to the code."""
    return _SPACES.sub("", text)


@functools.cache
def _kind_words() -> dict[str, str]:
    words = {normalize_header(k): v.value for k, v in UNIT_KIND_WORDS.items()}
    for kind in UnitKind:
        words[kind.value] = words[normalize_header(kind.label)] = kind.value
    return words


@functools.lru_cache(maxsize=1024)
def map_kind(word: str) -> str:
    """A roster's wording of a unit kind → a UnitKind value; 其他 when nothing fits."""
    w = normalize_header(word)
    if not w:
        return UnitKind.OTHER.value
    if w in _kind_words():
        return _kind_words()[w]
    for fragment, kind in UNIT_KIND_FRAGMENTS:
        if fragment in w:
            return kind.value
    return UnitKind.OTHER.value


class DbUnit(NamedTuple):
    id: int
    code: str
    name: str
    short_name: str
    kind: str
    kind_label: str
    parent_id: int | None
    sort_order: int
    is_active: bool
    path: str


DB_FIELDS = DbUnit._fields


@dataclass
class UnitRow:
    row: int
    code: str
    name: str
    # None for an optional column the roster lacks or leaves blank: a new unit gets the default, an existing one
    # keeps what the system has (a blank cell is "not stated", not "erase").
    short_name: str | None
    kind: str | None
    kind_label: str | None
    parent_ref: str | None  # None: no parent column; "": a top-level unit
    sort_order: int | None
    position: int  # order among the data rows, the sort order of new units when the roster gives none
    record: Record
    errors: list[str] = field(default_factory=list)
    parent_code: str | None = None  # resolved; "" top level, None keep the system's

    def error(self, key: str, message: str) -> None:
        self.errors.append(str(self.record.error(key, message)))


def _check_code(code: str) -> str | None:
    if len(code) > 64:
        return "单位编码超过 64 个字符"
    if len(code) == 18:
        expected = uscc_check_char(code[:17].upper())
        if expected is None:
            bad = "、".join(sorted({c for c in code[:17].upper() if c not in USCC_ALPHABET}))
            return f"“{code}”不是有效的统一社会信用代码：含有不允许的字符“{bad}”"
        if code[17].upper() != expected:
            return f"统一社会信用代码“{code}”的校验位不正确（按前 17 位计算应为“{expected}”）"
    return None


def parse_rows(table: Table) -> list[UnitRow]:
    header = table.header
    rows: list[UnitRow] = []
    for position, rec in enumerate(table.records, start=1):
        r = UnitRow(
            row=rec.row,
            code=normalize_code(rec.text("code")),
            name=rec.text("name"),
            short_name=rec.text("short_name") or None,
            kind=None,
            kind_label=None,
            parent_ref=rec.text("parent") if header.has("parent") else None,
            sort_order=None,
            position=position,
            record=rec,
            errors=[str(e) for e in rec.errors],
        )
        if not r.code:
            r.error("code", "单位编码不能为空")
        elif message := _check_code(r.code):
            r.error("code", message)
        if not r.name:
            r.error("name", "单位名称不能为空")
        elif len(r.name) > 200:
            r.error("name", "单位名称超过 200 个字")
        if r.short_name is not None and len(r.short_name) > 100:
            r.error("short_name", "单位简称超过 100 个字")
        if word := rec.text("kind"):
            r.kind, r.kind_label = map_kind(word), word[:50]
        if header.has("sort_order") and rec.text("sort_order"):
            text = rec.text("sort_order")
            try:
                r.sort_order = int(float(text))
            except ValueError:
                r.error("sort_order", f"排序号“{text}”不是整数")
        rows.append(r)
    return rows


@dataclass
class UnitPlan:
    report: RosterReport
    db: dict[str, DbUnit]
    parent_of: dict[str, str]  # every unit's final parent code, "" for top level
    new_rows: list[UnitRow]
    updates: dict[str, dict[str, Any]]  # code → {field: new value}
    audit_changes: dict[str, dict[str, list[Any]]]  # code → {field: [old, new]} for the audit trail


def _describe(code: str, rows: dict[str, UnitRow], db: dict[str, DbUnit]) -> str:
    if code in rows:
        return f"{rows[code].name or code}（第{rows[code].row}行）"
    return f"{db[code].name}（系统中已有）"


def plan_units(rows: list[UnitRow], *, progress: ProgressFn | None = None) -> UnitPlan:
    """Compare the roster with the unit table. Reads only."""
    report = RosterReport(kind="units")
    db_list = [DbUnit(*v) for v in Unit.objects.order_by("path").values_list(*DB_FIELDS)]
    db = {u.code: u for u in db_list}
    code_of_id = {u.id: u.code for u in db_list}

    # Duplicate codes: the first row wins, every later one is an error.
    first: dict[str, UnitRow] = {}
    for r in rows:
        if not r.code:
            continue
        if r.code in first:
            r.error("code", f"单位编码“{r.code}”与第{first[r.code].row}行重复")
        else:
            first[r.code] = r

    # A parent may be named by its full name; a name shared by several units must be given by code instead.
    roster_names: dict[str, list[str]] = defaultdict(list)
    for code, r in first.items():
        if r.name:
            roster_names[r.name].append(code)
    db_names: dict[str, list[str]] = defaultdict(list)
    for u in db_list:
        if u.code not in first:  # a unit in the roster goes by the roster's name
            db_names[u.name].append(u.code)
    for name, codes in db_names.items():  # an abolished unit does not make its successor's name ambiguous
        active = [c for c in codes if db[c].is_active]
        if active:
            db_names[name] = active

    for r in rows:
        if r.parent_ref is None:
            continue
        ref = r.parent_ref
        ref_code = normalize_code(ref)
        if not ref_code:
            r.parent_code = ""
        elif ref_code in first or ref_code in db:
            r.parent_code = ref_code
        else:
            candidates = roster_names.get(ref) or db_names.get(ref) or []
            if len(candidates) == 1:
                r.parent_code = candidates[0]
            elif candidates:
                r.error("parent", f"上级单位“{ref}”有 {len(candidates)} 个同名单位，请改填上级单位的编码")
            else:
                r.error("parent", f"上级单位“{ref}”不存在：既不是本表或系统中的单位编码，也不是单位全称")
        if r.parent_code and r.parent_code == r.code:
            r.error("parent", "上级单位不能是本单位")
            r.parent_code = None

    # Every unit's final parent: the system's, overridden by the roster.
    parent_of = {u.code: code_of_id.get(u.parent_id, "") if u.parent_id else "" for u in db_list}
    for code, r in first.items():
        if r.parent_code is not None:
            parent_of[code] = r.parent_code
        elif code not in parent_of:
            parent_of[code] = ""

    for cycle in _find_cycles(first, parent_of):
        chain = " → ".join(_describe(c, first, db) for c in [*cycle, cycle[0]])
        for c in cycle:
            if c in first:
                first[c].error("parent", f"上级单位形成循环（下级 → 上级）：{chain}")
        for c in cycle:  # break it so that the rest of the plan can go on
            if c in first:
                parent_of[c] = ""

    plan = UnitPlan(report=report, db=db, parent_of=parent_of, new_rows=[], updates={}, audit_changes={})
    total = len(rows)
    for i, r in enumerate(rows, start=1):
        report.rows.append(_outcome(r, plan, first, code_of_id))
        if progress and i % 500 == 0:
            progress(i, total)

    # Units in the system but not in this roster (机构改革): listed for the admin, never deleted.
    in_use: set[str] = set()
    for code in first:
        c = parent_of.get(code, "")
        while c and c not in first and c not in in_use:
            in_use.add(c)
            c = parent_of.get(c, "")
    report.missing = [
        {"id": u.id, "code": u.code, "name": u.name}
        for u in db_list
        if u.is_active and u.code not in first and u.code not in in_use
    ]
    if progress:
        progress(total, total)
    return plan


def _find_cycles(first: dict[str, UnitRow], parent_of: dict[str, str]) -> list[list[str]]:
    done: set[str] = set()
    cycles: list[list[str]] = []
    for start in first:
        walk: list[str] = []
        on_walk: set[str] = set()
        node = start
        while node and node not in done and node not in on_walk:
            walk.append(node)
            on_walk.add(node)
            node = parent_of.get(node, "")
        if node and node in on_walk:
            cycles.append(walk[walk.index(node) :])
        done.update(walk)
    return cycles


def _parent_display(code: str, first: dict[str, UnitRow], db: dict[str, DbUnit]) -> str:
    if not code:
        return "（无，顶级单位）"
    if code in first:
        return first[code].name
    return db[code].name


def _outcome(r: UnitRow, plan: UnitPlan, first: dict[str, UnitRow], code_of_id: dict[int, str]) -> RowOutcome:
    if r.errors:
        return RowOutcome(row=r.row, status=ERROR, key=r.code, label=r.name, errors=list(r.errors))
    old = plan.db.get(r.code)
    if old is None:
        plan.new_rows.append(r)
        return RowOutcome(row=r.row, status=NEW, key=r.code, label=r.name)
    values: dict[str, Any] = {"name": r.name}
    if r.short_name is not None:
        values["short_name"] = r.short_name
    if r.kind is not None:
        values["kind"] = r.kind
        values["kind_label"] = r.kind_label
    if r.sort_order is not None:
        values["sort_order"] = r.sort_order
    if not old.is_active:
        values["is_active"] = True
    updates = {f: v for f, v in values.items() if getattr(old, f) != v}
    audit = {f: [getattr(old, f), v] for f, v in updates.items()}
    shown: dict[str, list[Any]] = {}
    for f, (before, after) in audit.items():
        if f == "kind":
            shown["单位类型"] = [UnitKind(before).label if before in UnitKind.values else before, UnitKind(after).label]
        elif f == "is_active":
            shown["状态"] = ["停用", "启用"]
        else:
            shown[field_label(Unit, f)] = [before, after]
    old_parent = code_of_id.get(old.parent_id, "") if old.parent_id else ""
    new_parent = plan.parent_of[r.code]
    if new_parent != old_parent:
        updates["parent"] = new_parent
        before = _parent_display(old_parent, {}, plan.db)
        after = _parent_display(new_parent, first, plan.db)
        audit["parent"] = [before, after]
        shown["上级单位"] = [before, after]
    if not updates:
        return RowOutcome(row=r.row, status=UNCHANGED, key=r.code, label=r.name)
    plan.updates[r.code] = updates
    plan.audit_changes[r.code] = audit
    return RowOutcome(row=r.row, status=CHANGED, key=r.code, label=r.name, changes=shown)


# --------------------------------------------------------------------------------------------------------------
# Writing


def _allocate_ids(n: int) -> list[int]:
    """Primary keys for n new units, known before the insert so that each path is written once."""
    if n == 0:
        return []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [Unit._meta.db_table, n],
            )
            return [row[0] for row in cursor.fetchall()]
    # SQLite (development and tests): one writer at a time, and the table's AUTOINCREMENT follows explicit ids.
    start = (Unit.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    return list(range(start, start + n))


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])


def write_units(
    plan: UnitPlan, *, by: Any, ip: str | None, deactivate_unit_ids: Collection[int], note: str,
    progress: ProgressFn | None = None,
) -> None:
    """Write a plan without errors. Runs inside the caller's transaction."""
    report, db, parent_of = plan.report, plan.db, plan.parent_of
    now = timezone.now()
    new_ids = _allocate_ids(len(plan.new_rows))
    id_of = {code: u.id for code, u in db.items()}
    id_of.update({r.code: pk for r, pk in zip(plan.new_rows, new_ids, strict=True)})

    # Final paths for every unit; only those that differ get written.
    path_of: dict[str, str] = {}
    for code in parent_of:
        chain: list[str] = []
        c = code
        while c and c not in path_of:
            chain.append(c)
            c = parent_of[c]
        base = path_of[c] if c else ""
        for x in reversed(chain):
            base = unit_child_path(base, id_of[x])
            path_of[x] = base

    steps = max(len(plan.new_rows) + len(plan.updates), 1)
    done = 0

    created_by_level: dict[int, list[Unit]] = defaultdict(list)
    for r in plan.new_rows:
        path = path_of[r.code]
        parent_code = parent_of[r.code]
        created_by_level[depth_of(path)].append(
            Unit(
                id=id_of[r.code], code=r.code, name=r.name, short_name=r.short_name or "",
                kind=r.kind or UnitKind.OTHER, kind_label=r.kind_label or "",
                parent_id=id_of[parent_code] if parent_code else None, path=path, depth=depth_of(path),
                sort_order=r.sort_order if r.sort_order is not None else r.position, is_active=True,
            )
        )
    created: list[Unit] = []
    for level in sorted(created_by_level):
        objs = created_by_level[level]
        for i in range(0, len(objs), BATCH):
            Unit.objects.bulk_create(objs[i : i + BATCH])
            done += len(objs[i : i + BATCH])
            if progress:
                progress(done, steps)
        created.extend(objs)

    changed: list[Unit] = []
    moved_only: list[Unit] = []
    for code, old in db.items():
        updates = plan.updates.get(code)
        new_path = path_of[code]
        if updates is None and new_path == old.path:
            continue
        values = old._asdict()
        values.update({k: v for k, v in (updates or {}).items() if k != "parent"})
        parent_code = parent_of[code]
        obj = Unit(
            id=old.id, code=code, name=values["name"], short_name=values["short_name"], kind=values["kind"],
            kind_label=values["kind_label"], parent_id=id_of[parent_code] if parent_code else None,
            sort_order=values["sort_order"], is_active=values["is_active"], path=new_path,
            depth=depth_of(new_path), updated_at=now,
        )
        (changed if updates is not None else moved_only).append(obj)
    fields = ["name", "short_name", "kind", "kind_label", "parent", "sort_order", "is_active", "path", "depth",
              "updated_at"]
    for i in range(0, len(changed), BATCH):
        Unit.objects.bulk_update(changed[i : i + BATCH], fields)
        done += len(changed[i : i + BATCH])
        if progress:
            progress(done, steps)
    # Descendants of a moved unit keep their parent; only their paths change.
    for i in range(0, len(moved_only), BATCH):
        Unit.objects.bulk_update(moved_only[i : i + BATCH], ["path", "depth"])

    missing_ids = {m["id"] for m in report.missing}
    to_deactivate = [m for m in report.missing if m["id"] in set(deactivate_unit_ids) & missing_ids]
    if to_deactivate:
        Unit.objects.filter(pk__in=[m["id"] for m in to_deactivate]).update(is_active=False, updated_at=now)
        report.deactivated = to_deactivate

    names = _names(created, db)
    audit_record_many(
        action=Action.CREATE, actor=by, ip=ip, note=note,
        items=[(u, {"code": u.code, "name": u.name, "parent": _parent_display(parent_of[u.code], {}, names)})
               for u in created],
    )
    audit_record_many(
        action=Action.UPDATE, actor=by, ip=ip, note=note,
        items=[(u, plan.audit_changes[u.code]) for u in changed],
    )
    audit_record_many(
        action=Action.DEACTIVATE, actor=by, ip=ip, note=f"{note}（名册中未出现）",
        items=[(Unit(id=m["id"], code=m["code"], name=m["name"]), {}) for m in to_deactivate],
    )
    if progress:
        progress(steps, steps)


def _names(created: list[Unit], db: dict[str, DbUnit]) -> dict[str, DbUnit]:
    """The DbUnit lookup extended with the units just created (only their names are read)."""
    merged = dict(db)
    for u in created:
        merged[u.code] = DbUnit(u.id, u.code, u.name, u.short_name, u.kind, u.kind_label, u.parent_id, 0, True, "")
    return merged


# --------------------------------------------------------------------------------------------------------------
# Entry points


def preview_units(file: Any, *, progress: ProgressFn | None = None) -> RosterReport:
    steps = Progress(progress)
    try:
        table = read_table(file, UNIT_COLUMNS, progress=steps.phase(0.0, 0.8))
    except XlsxError as exc:
        return RosterReport(kind="units", file_errors=[exc.message])
    plan = plan_units(parse_rows(table), progress=steps.phase(0.8, 1.0))
    steps.finish()
    return plan.report


def apply_units(
    file: Any, *, by: Any, ip: str | None = None, deactivate_unit_ids: Collection[int] = (),
    progress: ProgressFn | None = None, dry_run: bool = False,
) -> RosterReport:
    if dry_run:
        return preview_units(file, progress=progress)
    steps = Progress(progress)
    try:
        table = read_table(file, UNIT_COLUMNS, progress=steps.phase(0.0, 0.5))
    except XlsxError as exc:
        return RosterReport(kind="units", file_errors=[exc.message])
    rows = parse_rows(table)
    with transaction.atomic():
        _lock()
        plan = plan_units(rows, progress=steps.phase(0.5, 0.6))
        if not plan.report.ok:
            return plan.report
        note = f"导入单位名册{file_label(file)}"
        write_units(
            plan, by=by, ip=ip, deactivate_unit_ids=deactivate_unit_ids, note=note, progress=steps.phase(0.6, 1.0)
        )
        plan.report.applied = True
        summary = plan.report.summary_line()
        if plan.report.deactivated:
            summary += f"，停用 {len(plan.report.deactivated)}"
        audit_record(action=Action.IMPORT, actor=by, ip=ip, note=f"{note}：{summary}")
    steps.finish()
    return plan.report
