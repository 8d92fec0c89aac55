"""单位名册: read, check and plan an upsert by unit code; write it in bulk, one tree level at a time.

The plan is made against the whole unit table in memory (tens of thousands of rows at most), which is what lets
parents come after their children, parents be named by code or full name, cycles be found across the file and
the database, and several units move in one roster (even under units the same roster creates).
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections import Counter, defaultdict
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
from core.mappings import read_mapped
from core.xlsx import Record, Table, halfwidth, normalize_header
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
    return _SPACES.sub("", halfwidth(text))


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
    code_is_internal: bool
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
    internal: bool = False  # no code in the roster: `code` is the system's own (new) or the unit's found by name
    recoded_from: str = ""  # the internal code of the unit this row gives a real code to

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
        if r.code and (message := _check_code(r.code)):
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
    db_list = _codes_by_name(rows, db_list)
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


def internal_code(name: str, taken: Collection[str]) -> str:
    """The system's own code for a unit listed without one: stable for a name, never a real code's shape."""
    base = "NC-" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:10].upper()
    code, n = base, 1
    while code in taken:
        n += 1
        code = f"{base}-{n}"
    return code


def _codes_by_name(rows: list[UnitRow], db_list: list[DbUnit]) -> list[DbUnit]:
    """Rows without a code are found by their full name: an existing unit of that name (its code), else a new unit
    with an internal code. A row with a real code that the system lacks, naming a unit that has only an internal
    code, gives that unit its code: the snapshot then holds the unit under the new code (`recoded_from` says so).

    Returns the snapshot to plan against."""
    names = Counter(r.name for r in rows if r.name)
    by_name: dict[str, list[DbUnit]] = defaultdict(list)
    for u in db_list:
        by_name[u.name].append(u)
    codes = {u.code for u in db_list}
    file_codes = {r.code for r in rows if r.code}
    taken = codes | file_codes
    recoded: dict[str, str] = {}  # internal code → the real code the roster gives
    for r in rows:
        if r.code or not r.name:
            if r.code and r.code not in codes and names[r.name] == 1:
                internal = [u for u in by_name.get(r.name, []) if u.code_is_internal]
                if len(internal) == 1 and internal[0].code not in file_codes and internal[0].code not in recoded:
                    r.recoded_from = internal[0].code
                    recoded[internal[0].code] = r.code
            continue
        if not r.name:
            continue
        if names[r.name] > 1:
            r.error("code", f"单位编码为空，且单位名称“{r.name}”在本表中出现 {names[r.name]} 次："
                            "没有编码的单位须有唯一的全称，请填写单位编码")
            continue
        found = by_name.get(r.name, [])
        if len(found) > 1:
            found = [u for u in found if u.is_active] or found
        if len(found) > 1:
            r.error("code", f"单位编码为空，且系统中有 {len(found)} 个名为“{r.name}”的单位，请填写单位编码")
            continue
        r.internal = True
        if found:
            r.code = found[0].code
        else:
            r.code = internal_code(r.name, taken)
            taken.add(r.code)
    if not recoded:
        return db_list
    return [u._replace(code=recoded[u.code]) if u.code in recoded else u for u in db_list]


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
        notices = [f"第{r.row}行没有单位编码，已生成系统编码 {r.code}；以后的名册按单位全称对应，填上编码后即更新"]
        if not r.internal:
            notices = []
        return RowOutcome(row=r.row, status=NEW, key=r.code, label=r.name, notices=notices)
    values: dict[str, Any] = {"name": r.name}
    if r.recoded_from:
        values["code_is_internal"] = False
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
    if r.recoded_from:
        audit["code"] = [r.recoded_from, r.code]
        shown["单位编码"] = [f"{r.recoded_from}（系统生成）", r.code]
    for f, (before, after) in audit.items():
        if f in ("code", "code_is_internal"):
            continue
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
    notices = [f"第{r.row}行没有单位编码，按单位全称对应系统中的“{r.name}”（{r.code}）"] if r.internal else []
    if not updates:
        return RowOutcome(row=r.row, status=UNCHANGED, key=r.code, label=r.name, notices=notices)
    plan.updates[r.code] = updates
    plan.audit_changes[r.code] = audit
    return RowOutcome(row=r.row, status=CHANGED, key=r.code, label=r.name, changes=shown, notices=notices)


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
                id=id_of[r.code], code=r.code, code_is_internal=r.internal, name=r.name,
                short_name=r.short_name or "",
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
            id=old.id, code=code, code_is_internal=values["code_is_internal"], name=values["name"],
            short_name=values["short_name"], kind=values["kind"],
            kind_label=values["kind_label"], parent_id=id_of[parent_code] if parent_code else None,
            sort_order=values["sort_order"], is_active=values["is_active"], path=new_path,
            depth=depth_of(new_path), updated_at=now,
        )
        (changed if updates is not None else moved_only).append(obj)
    fields = ["code", "code_is_internal", "name", "short_name", "kind", "kind_label", "parent", "sort_order",
              "is_active", "path", "depth",
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
        merged[u.code] = DbUnit(
            u.id, u.code, u.code_is_internal, u.name, u.short_name, u.kind, u.kind_label, u.parent_id, 0, True, ""
        )
    return merged


# --------------------------------------------------------------------------------------------------------------
# Entry points


def _ask_flat(report: RosterReport, table: Table) -> None:
    """Without a parent column, every new unit of a roster of several lands at the top: said, and to be confirmed."""
    new = report.counts[NEW]
    if table.header.has("parent") or len(table.records) < 2 or not new:
        return
    report.confirmations.append({
        "id": "flat",
        "message": f"没有识别到「上级单位」列：新增的 {new} 个单位都将作为顶级单位导入（已有单位保持原来的上级）。"
                   "如文件中有上级单位列，请在列映射中为它选择「上级单位」。",
    })


def preview_units(
    file: Any, *, mapping: dict[str, str] | None = None, sheet: str | None = None,
    progress: ProgressFn | None = None, **_: Any,
) -> RosterReport:
    steps = Progress(progress)
    report = RosterReport(kind="units")
    table = read_mapped(file, UNIT_COLUMNS, kind="units", report=report, mapping=mapping, sheet=sheet,
                        progress=steps.phase(0.0, 0.8))
    if table is None:
        return report
    plan = plan_units(parse_rows(table), progress=steps.phase(0.8, 1.0))
    plan.report.take_reading(report)
    _ask_flat(plan.report, table)
    steps.finish()
    return plan.report


def apply_units(
    file: Any, *, by: Any, ip: str | None = None, deactivate_unit_ids: Collection[int] = (),
    progress: ProgressFn | None = None, dry_run: bool = False, mapping: dict[str, str] | None = None,
    sheet: str | None = None, confirmed: Collection[str] = (), **_: Any,
) -> RosterReport:
    if dry_run:
        return preview_units(file, mapping=mapping, sheet=sheet, progress=progress)
    steps = Progress(progress)
    report = RosterReport(kind="units")
    table = read_mapped(file, UNIT_COLUMNS, kind="units", report=report, mapping=mapping, sheet=sheet,
                        progress=steps.phase(0.0, 0.5))
    if table is None:
        return report
    rows = parse_rows(table)
    with transaction.atomic():
        _lock()
        plan = plan_units(rows, progress=steps.phase(0.5, 0.6))
        plan.report.take_reading(report)
        _ask_flat(plan.report, table)
        plan.report.unconfirmed(confirmed)
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
