"""人员名册: accounts upserted by login name (the phone number, or the e-mail when there is none).

New accounts get a one-time initial password that must be changed at first login. Roles and 分管单位 in the roster
replace what the account had: the roster is the record of who does what.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

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
from core.xlsx import Record, Table, XlsxError, halfwidth, split_multi
from units.models import Role, Unit, User, UserRole
from units.services import generate_initial_password

from .columns import ROLE_WORDS, USER_COLUMNS
from .unit_roster import normalize_code

_PHONE = re.compile(r"^1\d{10}$")
_PHONE_JUNK = re.compile(r"[\s\-－—()（）]")
BATCH = 1000


def map_role(word: str) -> str | None:
    w = re.sub(r"\s", "", word)
    for role in Role:
        if w.casefold() == role.value or w == role.label:
            return role.value
    known = ROLE_WORDS.get(w)
    return known.value if known else None


@dataclass
class UserRow:
    row: int
    full_name: str
    phone: str
    email: str
    record: Record
    unit: Unit | None = None
    roles: list[str] = field(default_factory=list)
    overseen: list[Unit] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def username(self) -> str:
        return self.phone or self.email

    @property
    def username_key(self) -> str:
        return "phone" if self.phone else "email"

    def error(self, key: str, message: str) -> None:
        self.errors.append(str(self.record.error(key, message)))


class _UnitLookup:
    """Units by code, or by exact full name when that name is unique."""

    def __init__(self) -> None:
        self.by_code: dict[str, Unit] = {}
        self.by_name: dict[str, list[Unit]] = defaultdict(list)
        for u in Unit.objects.only("id", "code", "name", "is_active", "path"):
            self.by_code[u.code] = u
            self.by_name[u.name].append(u)

    def find(self, ref: str) -> tuple[Unit | None, str | None]:
        unit = self.by_code.get(normalize_code(ref))
        if unit is None:
            named = self.by_name.get(ref, [])
            named = [u for u in named if u.is_active] or named  # an abolished unit may share its successor's name
            if len(named) > 1:
                return None, f"单位“{ref}”有 {len(named)} 个同名单位，请改填单位编码"
            unit = named[0] if named else None
        if unit is None:
            return None, f"单位“{ref}”不存在：既不是系统中的单位编码，也不是单位全称（请先导入单位名册）"
        if not unit.is_active:
            return None, f"单位“{unit.name}”已停用"
        return unit, None


def parse_rows(table: Table) -> list[UserRow]:
    header = table.header
    if not header.has("phone") and not header.has("email"):
        raise XlsxError(f"第{header.row}行表头缺少必需的列：「手机号」或「邮箱」至少要有一列（手机号用作登录名）")
    units = _UnitLookup()
    rows: list[UserRow] = []
    for rec in table.records:
        r = UserRow(
            row=rec.row, full_name=rec.text("full_name"), phone=_PHONE_JUNK.sub("", halfwidth(rec.text("phone"))),
            email=halfwidth(rec.text("email")).strip().lower(), record=rec, errors=[str(e) for e in rec.errors],
        )
        if r.phone.startswith("+86"):
            r.phone = r.phone[3:]
        if not r.full_name:
            r.error("full_name", "姓名不能为空")
        elif len(r.full_name) > 50:
            r.error("full_name", "姓名超过 50 个字")
        if r.phone and not _PHONE.match(r.phone):
            r.error("phone", f"手机号“{rec.text('phone')}”格式不正确（应为 11 位数字）")
        if r.email:
            try:
                validate_email(r.email)
            except ValidationError:
                r.error("email", f"邮箱“{rec.text('email')}”格式不正确")
        if not r.phone and not r.email:
            r.error("phone" if header.has("phone") else "email", "手机号和邮箱至少填写一项（手机号用作登录名）")

        unit_ref = rec.text("unit")
        if not unit_ref:
            r.error("unit", "所属单位不能为空")
        else:
            r.unit, message = units.find(unit_ref)
            if message:
                r.error("unit", message)

        words = split_multi(rec.raw("roles"))
        if not words:
            r.error("roles", "角色不能为空（系统管理员、作风办、联络员、领导，多个用“、”分隔）")
        for word in words:
            role = map_role(word)
            if role is None:
                r.error("roles", f"未知角色“{word}”，可填：{'、'.join(Role.labels)}")
            elif role not in r.roles:
                r.roles.append(role)

        for ref in split_multi(rec.raw("overseen")):
            unit, message = units.find(ref)
            if message:
                r.error("overseen", message)
            elif unit is not None and unit not in r.overseen:
                r.overseen.append(unit)
        rows.append(r)
    return rows


@dataclass
class UserPlan:
    report: RosterReport
    new_rows: list[UserRow]
    updates: dict[int, tuple[UserRow, dict[str, Any]]]  # user id → (row, {field: new value})
    audit_changes: dict[int, dict[str, list[Any]]]
    role_changes: dict[int, list[str]]  # user id → wanted roles
    overseen_changes: dict[int, list[int]]  # user id → wanted unit ids
    users: dict[int, User]


def plan_users(rows: list[UserRow], *, progress: ProgressFn | None = None) -> UserPlan:
    report = RosterReport(kind="users")
    users = {u.pk: u for u in User.objects.select_related("unit")}
    by_username = {u.username: u for u in users.values()}
    by_phone: dict[str, list[User]] = defaultdict(list)
    by_email: dict[str, list[User]] = defaultdict(list)
    for u in users.values():
        if u.phone:
            by_phone[u.phone].append(u)
        if u.email:
            by_email[u.email.lower()].append(u)
    roles_of: dict[int, set[str]] = defaultdict(set)
    for uid, role in UserRole.objects.values_list("user_id", "role"):
        roles_of[uid].add(role)
    overseen_of: dict[int, set[int]] = defaultdict(set)
    for uid, unit_id in User.overseen_units.through.objects.values_list("user_id", "unit_id"):
        overseen_of[uid].add(unit_id)
    unit_names = dict(Unit.objects.values_list("id", "name"))

    plan = UserPlan(report, [], {}, {}, {}, {}, users)
    seen_name: dict[str, int] = {}
    seen_user: dict[int, int] = {}
    total = len(rows)
    for i, r in enumerate(rows, start=1):
        if r.username:
            if r.username in seen_name:
                label = "手机号" if r.phone else "邮箱"
                r.error(r.username_key, f"{label}“{r.username}”与第{seen_name[r.username]}行重复")
            else:
                seen_name[r.username] = r.row
        existing = _match(r, by_username, by_phone, by_email) if not r.errors else None
        if existing is not None and existing.pk in seen_user:
            r.error(r.username_key, f"与第{seen_user[existing.pk]}行是同一个账号（{existing.username}）")
            existing = None
        elif existing is not None:
            seen_user[existing.pk] = r.row
        if r.errors:
            report.rows.append(RowOutcome(r.row, ERROR, r.username, r.full_name, errors=list(r.errors)))
        elif existing is None:
            plan.new_rows.append(r)
            report.rows.append(RowOutcome(r.row, NEW, r.username, r.full_name))
        else:
            report.rows.append(_compare(r, existing, plan, roles_of, overseen_of, unit_names))
        if progress and i % 200 == 0:
            progress(i, total)
    if progress:
        progress(total, total)
    return plan


def _match(
    r: UserRow, by_username: dict[str, User], by_phone: dict[str, list[User]], by_email: dict[str, list[User]]
) -> User | None:
    """The account a row stands for: same login name, else the only account with that phone, else that e-mail."""
    if r.username in by_username:
        return by_username[r.username]
    for found in (by_phone.get(r.phone, []) if r.phone else [], by_email.get(r.email, []) if r.email else []):
        if len(found) == 1:
            return found[0]
    return None


def _role_text(roles: Collection[str]) -> str:
    return "、".join(Role(r).label for r in Role.values if r in roles)


def _compare(
    r: UserRow, user: User, plan: UserPlan, roles_of: dict[int, set[str]], overseen_of: dict[int, set[int]],
    unit_names: dict[int, str],
) -> RowOutcome:
    assert r.unit is not None
    values = {"full_name": r.full_name, "phone": r.phone, "email": r.email}
    updates: dict[str, Any] = {f: v for f, v in values.items() if getattr(user, f) != v}
    audit: dict[str, list[Any]] = {f: [getattr(user, f), v] for f, v in updates.items()}
    shown = {field_label(User, f): pair for f, pair in audit.items()}
    if user.unit_id != r.unit.pk:
        updates["unit_id"] = r.unit.pk
        pair = [unit_names.get(user.unit_id, "") if user.unit_id else "", r.unit.name]
        audit["unit"] = shown["所属单位"] = pair
    if set(r.roles) != roles_of[user.pk]:
        plan.role_changes[user.pk] = r.roles
        audit["roles"] = [sorted(roles_of[user.pk]), sorted(r.roles)]
        shown["角色"] = [_role_text(roles_of[user.pk]), _role_text(r.roles)]
    wanted = {u.pk for u in r.overseen}
    if wanted != overseen_of[user.pk]:
        plan.overseen_changes[user.pk] = sorted(wanted)
        old = [unit_names[i] for i in sorted(overseen_of[user.pk])]
        new = [u.name for u in r.overseen]
        audit["overseen_units"] = [old, new]
        shown["分管单位"] = ["、".join(old), "、".join(new)]
    if not audit:
        return RowOutcome(r.row, UNCHANGED, user.username, r.full_name)
    plan.updates[user.pk] = (r, updates)
    plan.audit_changes[user.pk] = audit
    return RowOutcome(r.row, CHANGED, user.username, r.full_name, changes=shown)


def _hash_all(passwords: list[str]) -> list[str]:
    """PBKDF2 takes a good fraction of a second per password; hashlib releases the GIL, so use every core."""
    if len(passwords) < 4:
        return [make_password(p) for p in passwords]
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        return list(pool.map(make_password, passwords))


def write_users(plan: UserPlan, *, by: Any, ip: str | None, note: str, progress: ProgressFn | None = None) -> None:
    report = plan.report
    passwords = [generate_initial_password() for _ in plan.new_rows]
    steps = len(plan.new_rows) * 2 + len(plan.updates) + 1
    hashed = _hash_all(passwords)
    if progress:
        progress(len(plan.new_rows), steps)
    new_users = [
        User(
            username=r.username, full_name=r.full_name, phone=r.phone, email=r.email, unit=r.unit, password=h,
            must_change_password=True,
        )
        for r, h in zip(plan.new_rows, hashed, strict=True)
    ]
    User.objects.bulk_create(new_users, batch_size=BATCH)
    ids = dict(User.objects.filter(username__in=[u.username for u in new_users]).values_list("username", "id"))
    for u in new_users:
        u.pk = ids[u.username]
    for r, u in zip(plan.new_rows, new_users, strict=True):
        plan.role_changes[u.pk] = r.roles
        plan.overseen_changes[u.pk] = [x.pk for x in r.overseen]
    if progress:
        progress(len(plan.new_rows) * 2, steps)

    changed: list[User] = []
    for uid, (_, updates) in plan.updates.items():
        if not updates:  # only roles or 分管单位 changed
            continue
        user = plan.users[uid]
        for f, v in updates.items():
            setattr(user, f, v)
        changed.append(user)
    fields = ["full_name", "phone", "email", "unit"]
    User.objects.bulk_update(changed, fields, batch_size=BATCH)

    # Roles and 分管单位: drop what the roster no longer lists, add what it newly lists.
    if plan.role_changes:
        have: dict[int, set[tuple[int, str]]] = defaultdict(set)
        grants = UserRole.objects.filter(user_id__in=plan.role_changes).values_list("id", "user_id", "role")
        for rid, uid, role in grants:
            have[uid].add((rid, role))
        drop = [rid for uid, pairs in have.items() for rid, role in pairs if role not in plan.role_changes[uid]]
        UserRole.objects.filter(pk__in=drop).delete()
        add = [
            UserRole(user_id=uid, role=role)
            for uid, roles in plan.role_changes.items()
            for role in roles
            if role not in {r for _, r in have[uid]}
        ]
        UserRole.objects.bulk_create(add, batch_size=BATCH)
    if plan.overseen_changes:
        through = User.overseen_units.through
        current: dict[int, set[tuple[int, int]]] = defaultdict(set)
        for tid, uid, unit_id in through.objects.filter(user_id__in=plan.overseen_changes).values_list(
            "id", "user_id", "unit_id"
        ):
            current[uid].add((tid, unit_id))
        drop = [
            tid for uid, pairs in current.items() for tid, unit_id in pairs
            if unit_id not in plan.overseen_changes[uid]
        ]
        through.objects.filter(pk__in=drop).delete()
        add_links = [
            through(user_id=uid, unit_id=unit_id)
            for uid, unit_ids in plan.overseen_changes.items()
            for unit_id in unit_ids
            if unit_id not in {x for _, x in current[uid]}
        ]
        through.objects.bulk_create(add_links, batch_size=BATCH)

    audit_record_many(
        action=Action.CREATE, actor=by, ip=ip, note=note,
        items=[
            (u, {"unit": r.unit.name if r.unit else "", "roles": sorted(r.roles),
                 "overseen_units": [x.name for x in r.overseen]})
            for r, u in zip(plan.new_rows, new_users, strict=True)
        ],
    )
    audit_record_many(
        action=Action.UPDATE, actor=by, ip=ip, note=note,
        items=[(plan.users[uid], plan.audit_changes[uid]) for uid in plan.updates],
    )
    report.initial_passwords = [
        {"username": u.username, "full_name": u.full_name, "password": p}
        for u, p in zip(new_users, passwords, strict=True)
    ]
    if progress:
        progress(steps, steps)


def _read(file: Any, report: RosterReport, *, mapping: dict[str, str] | None, sheet: str | None,
          progress: ProgressFn | None) -> list[UserRow] | None:
    table = read_mapped(file, USER_COLUMNS, kind="users", report=report, mapping=mapping, sheet=sheet,
                        progress=progress)
    if table is None:
        return None
    try:
        return parse_rows(table)
    except XlsxError as exc:
        report.file_errors.append(exc.message)
        return None


def preview_users(
    file: Any, *, mapping: dict[str, str] | None = None, sheet: str | None = None,
    progress: ProgressFn | None = None, **_: Any,
) -> RosterReport:
    steps = Progress(progress)
    report = RosterReport(kind="users")
    rows = _read(file, report, mapping=mapping, sheet=sheet, progress=steps.phase(0.0, 0.8))
    if rows is None:
        return report
    plan = plan_users(rows, progress=steps.phase(0.8, 1.0))
    plan.report.take_reading(report)
    steps.finish()
    return plan.report


def apply_users(
    file: Any, *, by: Any, ip: str | None = None, deactivate_unit_ids: Collection[int] = (),
    progress: ProgressFn | None = None, dry_run: bool = False, mapping: dict[str, str] | None = None,
    sheet: str | None = None, confirmed: Collection[str] = (), **_: Any,
) -> RosterReport:
    """`deactivate_unit_ids` is accepted for a uniform signature; a users roster deactivates nothing."""
    if dry_run:
        return preview_users(file, mapping=mapping, sheet=sheet, progress=progress)
    steps = Progress(progress)
    report = RosterReport(kind="users")
    with transaction.atomic():
        rows = _read(file, report, mapping=mapping, sheet=sheet, progress=steps.phase(0.0, 0.3))
        if rows is None:
            return report
        plan = plan_users(rows, progress=steps.phase(0.3, 0.4))
        plan.report.take_reading(report)
        plan.report.unconfirmed(confirmed)
        if not plan.report.ok:
            return plan.report
        note = f"导入人员名册{file_label(file)}"
        write_users(plan, by=by, ip=ip, note=note, progress=steps.phase(0.4, 1.0))
        plan.report.applied = True
        audit_record(action=Action.IMPORT, actor=by, ip=ip, note=f"{note}：{plan.report.summary_line()}")
    steps.finish()
    return plan.report
