"""Every write to campaigns, their phases, categories and sources, and the working-day overrides.

Validated (Chinese messages), atomic, audited. Views, the demo loader and management commands call these; `by=None`
means the system itself (the demo loader), which may do what the office may.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max

from core.audit import Action, audit_record, audit_record_many, diff_fields
from core.xlsx import CellError, XlsxError
from units.models import Role, Unit, minimal_paths

from . import workdays
from .models import (
    DEFAULT_SOURCES,
    CalendarOverride,
    Campaign,
    CampaignStatus,
    Category,
    DeadlineMode,
    Phase,
    PhaseKind,
    Source,
)
from .resources import CategoryImportReport, CategoryRow, PlannedRow, read_category_file, rows_from_campaign
from .selectors import category_descendant_ids

CAMPAIGN_FIELDS = ("name", "code", "description", "start_date", "end_date", "status")
POLICY_FIELDS = (
    "yellow_window_days", "urge_after_days", "supervise_after_days", "listed_after_days", "deadline_mode",
    "report_stale_days", "order_reply_days", "monthly_report_day", "reopen_days", "robot",
    "report_unit_depth", "honour_list_size", "black_list_size", "bulletin_agency", "bulletin_requirements",
)
CATEGORY_FIELDS = ("code", "name", "parent", "sort_order")
PHASE_FIELDS = ("kind", "name", "start_date", "deadline", "note")

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
YELLOW_WINDOW_MAX = 60
MONTHLY_REPORT_DAY_MAX = 28  # a day every month has
REPORT_DEPTH_MAX = 5

# The four phases of the seed documents, offered on creation.
DEFAULT_PHASES: tuple[tuple[str, str], ...] = tuple((k.value, k.label) for k in PhaseKind)


# ---- who may write ---------------------------------------------------------------------------------------------

def can_manage(user: Any) -> bool:
    """The office runs campaigns; admins keep their settings."""
    return bool(
        user is not None and user.is_authenticated and user.is_active and user.has_role(Role.OFFICE, Role.ADMIN)
    )


def _check_manager(by: Any) -> None:
    if by is None:
        return  # the system: demo loader, management commands
    if not can_manage(by):
        raise PermissionDenied("只有作风办或系统管理员可以修改专项行动的设置。")


def _actor(by: Any) -> Any:
    return by if by is not None and getattr(by, "pk", None) else None


# ---- working days ----------------------------------------------------------------------------------------------

def deadline_from(*, start: dt.date, n: int, working: bool) -> dt.date:
    """The deadline n days after `start`: calendar days, or working days (statutory holidays, 调休 and the
    overrides kept on the 节假日调整 page counted), e.g. 10 个工作日 from 2024-09-27 is 2024-10-16."""
    if n < 0:
        raise ValidationError("天数不能为负数。")
    return workdays.add_days(start, n, working=working)


# ---- campaigns -------------------------------------------------------------------------------------------------

def _clean_campaign(campaign: Campaign) -> None:
    """Check a campaign's fields; raise ValidationError {field: message} with every problem found."""
    errors: dict[str, str] = {}
    campaign.name = (campaign.name or "").strip()
    campaign.code = (campaign.code or "").strip()
    campaign.description = (campaign.description or "").strip()
    if not campaign.name:
        errors["name"] = "请填写专项行动名称。"
    if not campaign.code:
        errors["code"] = "请填写编号。"
    elif not CODE_RE.match(campaign.code):
        errors["code"] = "编号只能由字母、数字、“-”和“_”组成，如 ZF2026。"
    else:
        other = Campaign.objects.filter(code__iexact=campaign.code).exclude(pk=campaign.pk).first()
        if other is not None:
            errors["code"] = f"编号“{campaign.code}”已被专项行动“{other.name}”使用。"
    if campaign.start_date and campaign.end_date and campaign.end_date < campaign.start_date:
        errors["end_date"] = "结束日期不能早于开始日期。"
    if campaign.status not in CampaignStatus.values:
        errors["status"] = "未知的状态。"
    if campaign.deadline_mode not in DeadlineMode.values:
        errors["deadline_mode"] = "未知的期限计算方式。"
    if not 0 <= (campaign.yellow_window_days or 0) <= YELLOW_WINDOW_MAX:
        errors["yellow_window_days"] = f"临期提醒天数应在 0 到 {YELLOW_WINDOW_MAX} 天之间。"
    if (campaign.supervise_after_days or 0) < 1:
        errors["supervise_after_days"] = "逾期转督办天数至少为 1 天。"
    elif (campaign.listed_after_days or 0) <= campaign.supervise_after_days:
        errors["listed_after_days"] = "逾期转挂牌督办天数应大于逾期转督办天数。"
    if not 1 <= (campaign.monthly_report_day or 0) <= MONTHLY_REPORT_DAY_MAX:
        errors["monthly_report_day"] = f"月调度日应在每月 1 日到 {MONTHLY_REPORT_DAY_MAX} 日之间。"
    if not 1 <= (campaign.report_unit_depth or 0) <= REPORT_DEPTH_MAX:
        errors["report_unit_depth"] = f"报表统计层级应在 1 到 {REPORT_DEPTH_MAX} 之间。"
    if not (campaign.bulletin_agency or "").strip():
        errors["bulletin_agency"] = "请填写季通报发文机关代字，如“作风办”。"
    if errors:
        raise ValidationError(errors)
    campaign.full_clean(exclude=["created_by", "last_problem_seq", "jurisdiction", "report_units"],
                        validate_unique=False)


def _jurisdiction(units: Iterable[Unit], *, kept: Iterable[Unit] = ()) -> list[Unit]:
    """Root units only: a unit already covered by another chosen unit adds nothing.

    A unit deactivated in a reorganisation may stay in a jurisdiction it already belonged to (`kept`); it may not
    be newly added."""
    units = list(units)
    kept_ids = {u.pk for u in kept}
    inactive = [u.name for u in units if not u.is_active and u.pk not in kept_ids]
    if inactive:
        raise ValidationError({"jurisdiction": f"单位“{'、'.join(inactive)}”已停用，不能纳入覆盖范围。"})
    keep = set(minimal_paths(u.path for u in units))
    return sorted({u.pk: u for u in units if u.path in keep}.values(), key=lambda u: u.path)


def _report_units(units: Iterable[Unit], roots: Sequence[Unit]) -> list[Unit]:
    """The report's rows: within the jurisdiction, none inside another (a problem counts in one row only)."""
    units = list(units)
    outside = [u.name for u in units if not any(u.path.startswith(r.path) for r in roots)]
    if outside:
        raise ValidationError({"report_units": f"单位“{'、'.join(outside)}”不在覆盖范围内，不能作为报表统计单位。"})
    nested = [u.name for u in units if any(o.pk != u.pk and u.path.startswith(o.path) for o in units)]
    if nested:
        raise ValidationError({"report_units": f"单位“{'、'.join(nested)}”是其他所选单位的下级，已包含在上级单位中，"
                                               "请只选其一。"})
    return sorted(units, key=lambda u: u.path)


def _phase_summary(phases: Iterable[Phase]) -> list[str]:
    out = []
    for p in phases:
        dates = f"{p.start_date or ''}～{p.deadline or ''}" if (p.start_date or p.deadline) else ""
        out.append(f"{p}{' ' + dates if dates else ''}")
    return out


@transaction.atomic
def campaign_create(
    *, by: Any, name: str, code: str, description: str = "", jurisdiction: Iterable[Unit] = (),
    start_date: dt.date | None = None, end_date: dt.date | None = None, status: str = CampaignStatus.PREPARING,
    phases: Sequence[Mapping[str, Any]] | None = None, sources: Sequence[str] = DEFAULT_SOURCES,
    report_units: Iterable[Unit] = (), ip: str | None = None, **policy: Any,
) -> Campaign:
    """A new campaign with its phases (the four of the seed documents unless given) and the default sources."""
    _check_manager(by)
    unknown = set(policy) - set(POLICY_FIELDS)
    if unknown:
        raise ValueError(f"unknown campaign fields: {sorted(unknown)}")
    campaign = Campaign(
        name=name, code=code, description=description, start_date=start_date, end_date=end_date, status=status,
        created_by=_actor(by), **policy,
    )
    _clean_campaign(campaign)
    roots = _jurisdiction(jurisdiction)
    rows = _report_units(report_units, roots)
    campaign.save()
    campaign.jurisdiction.set(roots)
    campaign.report_units.set(rows)
    if phases is None:
        phases = [{"kind": kind, "name": label} for kind, label in DEFAULT_PHASES]
    created_phases = _write_phases(campaign, phases)
    names = [n.strip() for n in sources if n.strip()]
    Source.objects.bulk_create(
        [Source(campaign=campaign, name=n, sort_order=(i + 1) * 10) for i, n in enumerate(dict.fromkeys(names))]
    )
    audit_record(
        action=Action.CREATE, actor=by, obj=campaign, ip=ip,
        changes={
            "code": campaign.code, "name": campaign.name, "jurisdiction": [str(u) for u in roots],
            "phases": _phase_summary(created_phases), "sources": names,
        },
    )
    return campaign


@transaction.atomic
def campaign_update(
    *, campaign: Campaign, by: Any, jurisdiction: Iterable[Unit] | None = None,
    phases: Sequence[Mapping[str, Any]] | None = None, report_units: Iterable[Unit] | None = None,
    ip: str | None = None, **values: Any,
) -> Campaign:
    """Edit the campaign's facts and policy; with `jurisdiction`, `phases` or `report_units`, replace those too."""
    _check_manager(by)
    unknown = set(values) - set(CAMPAIGN_FIELDS) - set(POLICY_FIELDS)
    if unknown:
        raise ValueError(f"unknown campaign fields: {sorted(unknown)}")
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if "code" in values and (values["code"] or "").strip() != campaign.code and campaign.problems.exists():
        raise ValidationError(
            {"code": f"已有问题按编号“{campaign.code}”编码（如 {campaign.code}-0001），不能再修改编号。"}
        )
    changes: dict[str, Any] = diff_fields(campaign, values)
    for k, v in values.items():
        setattr(campaign, k, v)
    _clean_campaign(campaign)
    campaign.save()
    if jurisdiction is not None:
        old = list(campaign.jurisdiction.order_by("path"))
        roots = _jurisdiction(jurisdiction, kept=old)
        if [u.pk for u in old] != [u.pk for u in roots]:
            changes["jurisdiction"] = [[str(u) for u in old], [str(u) for u in roots]]
            campaign.jurisdiction.set(roots)
    if report_units is not None:
        old_rows = list(campaign.report_units.order_by("path"))
        rows = _report_units(report_units, list(campaign.jurisdiction.all()))
        if [u.pk for u in old_rows] != [u.pk for u in rows]:
            changes["report_units"] = [[str(u) for u in old_rows], [str(u) for u in rows]]
            campaign.report_units.set(rows)
    if phases is not None:
        old_summary = _phase_summary(campaign.phases.all())
        new_summary = _phase_summary(_write_phases(campaign, phases))
        if old_summary != new_summary:
            changes["phases"] = [old_summary, new_summary]
    if changes:
        audit_record(action=Action.UPDATE, actor=by, obj=campaign, changes=changes, ip=ip)
    return campaign


def _write_phases(campaign: Campaign, phases: Sequence[Mapping[str, Any]]) -> list[Phase]:
    """Replace the campaign's phases with `phases`, in that order; an `id` keeps (and updates) that phase."""
    existing = {p.pk: p for p in campaign.phases.all()}
    errors: list[str] = []
    result: list[Phase] = []
    for i, data in enumerate(phases, start=1):
        unknown = set(data) - set(PHASE_FIELDS) - {"id"}
        if unknown:
            raise ValueError(f"unknown phase fields: {sorted(unknown)}")
        pk = data.get("id")
        phase = existing.pop(pk) if pk in existing else Phase(campaign=campaign)
        phase.kind = data.get("kind", phase.kind) or ""
        phase.name = (data.get("name", phase.name) or "").strip()
        phase.note = (data.get("note", phase.note) or "").strip()
        phase.start_date = data.get("start_date", phase.start_date)
        phase.deadline = data.get("deadline", phase.deadline)
        phase.sort_order = i * 10
        label = phase.name or (PhaseKind(phase.kind).label if phase.kind in PhaseKind.values else f"第{i}个阶段")
        if phase.kind not in PhaseKind.values:
            errors.append(f"第{i}个阶段：请选择阶段类型。")
        if phase.start_date and phase.deadline and phase.deadline < phase.start_date:
            errors.append(f"第{i}个阶段“{label}”：截止日期不能早于开始日期。")
        result.append(phase)
    if errors:
        raise ValidationError({"phases": errors})
    Phase.objects.filter(pk__in=list(existing)).delete()
    for phase in result:
        phase.full_clean(exclude=["campaign"])
        phase.save()
    return result


@transaction.atomic
def phases_set(
    *, campaign: Campaign, by: Any, phases: Sequence[Mapping[str, Any]], ip: str | None = None
) -> list[Phase]:
    """Replace the phases: each item has kind, name, start_date, deadline, note and, to keep a phase, its id."""
    _check_manager(by)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    old = _phase_summary(campaign.phases.all())
    result = _write_phases(campaign, phases)
    new = _phase_summary(result)
    if old != new:
        audit_record(action=Action.UPDATE, actor=by, obj=campaign, changes={"phases": [old, new]}, ip=ip)
    return result


# ---- categories ------------------------------------------------------------------------------------------------

def _lock_catalogue(campaign_id: int) -> None:
    """Serialise writes to one campaign's catalogue (codes are unique per campaign; checks then writes)."""
    list(Campaign.objects.select_for_update().filter(pk=campaign_id).values_list("pk", flat=True))


def _clean_code(code: str, field: str = "code") -> str:
    code = (code or "").strip()
    if not code:
        raise ValidationError({field: "请填写类别编码。"})
    if re.search(r"\s", code):
        raise ValidationError({field: f"类别编码“{code}”中含有空格。"})
    max_len = Category._meta.get_field("code").max_length or 32
    if len(code) > max_len:
        raise ValidationError({field: f"类别编码不能超过 {max_len} 个字符。"})
    return code


def _check_parent(campaign: Campaign, parent: Category | None, category: Category | None = None) -> None:
    if parent is None:
        return
    parent = Category.objects.get(pk=parent.pk)  # its current state, not the caller's copy
    if parent.campaign_id != campaign.pk:
        raise ValidationError({"parent": "上级类别不属于该专项行动。"})
    if category is not None and category.pk is not None:
        if parent.pk == category.pk or parent.pk in category_descendant_ids(category):
            raise ValidationError(
                {"parent": f"上级类别“{parent}”是“{category}”本身或其下级，会形成循环。"}
            )
    if not parent.is_active:
        raise ValidationError({"parent": f"上级类别“{parent}”已停用，请先启用它。"})


@transaction.atomic
def category_create(
    *, campaign: Campaign, by: Any, code: str, name: str, parent: Category | None = None,
    sort_order: int | None = None, ip: str | None = None,
) -> Category:
    _check_manager(by)
    _lock_catalogue(campaign.pk)
    code = _clean_code(code)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "请填写类别名称。"})
    if Category.objects.filter(campaign=campaign, code=code).exists():
        raise ValidationError({"code": f"类别编码“{code}”已存在。"})
    _check_parent(campaign, parent)
    if sort_order is None:
        top = Category.objects.filter(campaign=campaign, parent=parent).aggregate(m=Max("sort_order"))["m"]
        sort_order = (top or 0) + 10
    category = Category(campaign=campaign, code=code, name=name, parent=parent, sort_order=sort_order)
    category.full_clean()
    category.save()
    audit_record(
        action=Action.CREATE, actor=by, obj=category, ip=ip,
        changes={"campaign": campaign.code, "code": code, "name": name, "parent": str(parent or "")},
    )
    return category


@transaction.atomic
def category_update(*, category: Category, by: Any, ip: str | None = None, **values: Any) -> Category:
    """Rename, recode, reorder or move a category (with its subtree) under another parent."""
    _check_manager(by)
    unknown = set(values) - set(CATEGORY_FIELDS)
    if unknown:
        raise ValueError(f"unknown category fields: {sorted(unknown)}")
    _lock_catalogue(category.campaign_id)
    category = Category.objects.select_for_update(of=("self",)).select_related("campaign", "parent").get(
        pk=category.pk
    )
    if "code" in values:
        values["code"] = _clean_code(values["code"])
        if Category.objects.filter(campaign_id=category.campaign_id, code=values["code"]).exclude(
            pk=category.pk
        ).exists():
            raise ValidationError({"code": f"类别编码“{values['code']}”已存在。"})
    if "name" in values:
        values["name"] = (values["name"] or "").strip()
        if not values["name"]:
            raise ValidationError({"name": "请填写类别名称。"})
    if "parent" in values and (values["parent"].pk if values["parent"] else None) != category.parent_id:
        _check_parent(category.campaign, values["parent"], category)
    changes = diff_fields(category, values)
    for k, v in values.items():
        setattr(category, k, v)
    category.full_clean(validate_unique=False)
    category.save()
    if changes:
        audit_record(action=Action.UPDATE, actor=by, obj=category, changes=changes, ip=ip)
    return category


@transaction.atomic
def category_set_active(*, category: Category, by: Any, active: bool, ip: str | None = None) -> int:
    """Deactivating a category deactivates its subtree too (problems keep pointing at it); activating needs an
    active parent. Returns how many categories changed."""
    _check_manager(by)
    category = Category.objects.select_for_update(of=("self",)).select_related("parent").get(pk=category.pk)
    if active:
        if category.parent is not None and not category.parent.is_active:
            raise ValidationError(f"上级类别“{category.parent}”已停用，请先启用上级类别。")
        targets = [category] if not category.is_active else []
    else:
        ids = {category.pk, *category_descendant_ids(category)}
        targets = list(Category.objects.filter(pk__in=ids, is_active=True).order_by("sort_order", "code"))
    if not targets:
        return 0
    Category.objects.filter(pk__in=[c.pk for c in targets]).update(is_active=active)
    audit_record_many(
        action=Action.ACTIVATE if active else Action.DEACTIVATE, actor=by, ip=ip,
        items=[(c, {}) for c in targets],
    )
    category.is_active = active
    return len(targets)


def _plan_categories(
    campaign: Campaign, rows: Sequence[CategoryRow], errors: list[CellError], *, parent_label: str = "上级类别编码"
) -> list[PlannedRow]:
    """Decide, against the campaign's catalogue, what each row does; add the errors only the catalogue shows:
    unknown parents and cycles. Parents may come after their children; a parent may be named by code or name."""
    existing = {c.code: c for c in Category.objects.filter(campaign=campaign).select_related("parent")}
    file_codes = {r.code for r in rows if r.code}
    valid = [r for r in rows if r.valid]
    names: dict[str, set[str]] = {}
    for c in existing.values():
        names.setdefault(c.name, set()).add(c.code)
    for r in valid:
        names.setdefault(r.name, set()).add(r.code)

    def resolve(text: str) -> str | None:
        if not text:
            return ""
        if text in file_codes or text in existing:
            return text
        by_name = names.get(text, set())
        return next(iter(by_name)) if len(by_name) == 1 else None

    parent_of: dict[str, str] = {code: (c.parent.code if c.parent else "") for code, c in existing.items()}
    resolved: dict[int, str] = {}
    for r in valid:
        p = resolve(r.parent)
        if p is None:
            errors.append(
                CellError(r.row, parent_label, f"上级类别“{r.parent}”不存在（本文件和本专项行动的类别中都没有）")
            )
            r.valid = False
            continue
        if p == r.code:
            errors.append(CellError(r.row, parent_label, "上级类别不能是它自己"))
            r.valid = False
            continue
        resolved[r.row] = p
        parent_of[r.code] = p
    for r in valid:
        if not r.valid:
            continue
        seen = {r.code}
        p = parent_of.get(r.code, "")
        while p:
            if p in seen:
                errors.append(CellError(r.row, parent_label, f"上级类别“{r.parent}”是本类别的下级，会形成循环"))
                r.valid = False
                break
            seen.add(p)
            p = parent_of.get(p, "")
    planned: list[PlannedRow] = []
    for r in rows:
        if not r.valid:
            continue
        parent_code = resolved[r.row]
        old = existing.get(r.code)
        if old is None:
            planned.append(PlannedRow(r.row, r.code, r.name, parent_code, "new"))
            continue
        changes: dict[str, list[str]] = {}
        if old.name != r.name:
            changes["类别名称"] = [old.name, r.name]
        old_parent = old.parent.code if old.parent else ""
        if old_parent != parent_code:
            changes["上级类别"] = [old_parent or "（无）", parent_code or "（无）"]
        if r.is_active is not None and r.is_active != old.is_active:
            changes["状态"] = ["启用" if old.is_active else "停用", "启用" if r.is_active else "停用"]
        planned.append(PlannedRow(r.row, r.code, r.name, parent_code, "changed" if changes else "unchanged", changes))
    errors.sort(key=lambda e: e.row)
    return planned


def _apply_plan(
    campaign: Campaign, rows: Sequence[CategoryRow], planned: Sequence[PlannedRow], *, by: Any, ip: str | None,
    action: str, note: str,
) -> None:
    by_row = {r.row: r for r in rows}
    existing = {c.code: c for c in Category.objects.select_for_update().filter(campaign=campaign)}
    new = [
        Category(campaign=campaign, code=p.code, name=p.name, sort_order=by_row[p.row].sort_order)
        for p in planned if p.action == "new"
    ]
    for c in new:
        c.full_clean(exclude=["parent"], validate_unique=False)
        c.save()
        existing[c.code] = c
    touched: list[tuple[Category, dict[str, Any]]] = []
    for p in planned:
        c = existing[p.code]
        src = by_row[p.row]
        c.name = p.name
        c.parent = existing[p.parent_code] if p.parent_code else None
        c.sort_order = src.sort_order
        if src.is_active is not None:
            c.is_active = src.is_active
        c.save()
        if p.action == "new":
            touched.append((c, {"code": c.code, "name": c.name, "parent": p.parent_code}))
        elif p.action == "changed":
            touched.append((c, p.changes))
    audit_record_many(action=action, actor=by, items=touched, ip=ip, note=note)


@transaction.atomic
def category_import(
    *, campaign: Campaign, file: Any, by: Any, dry_run: bool = False, ip: str | None = None
) -> CategoryImportReport:
    """Import the catalogue from an .xlsx: upsert by code, all or nothing. With dry_run, only the preview."""
    _check_manager(by)
    report = CategoryImportReport()
    try:
        rows, errors, report.sheet = read_category_file(file)
    except XlsxError as exc:
        report.file_error = exc.message
        return report
    if not dry_run:
        _lock_catalogue(campaign.pk)
    report.errors = errors
    report.rows = _plan_categories(campaign, rows, report.errors)
    if not report.rows and report.ok:
        report.file_error = "文件中没有类别数据：表头下方的行都是空的。"
    if dry_run or not report.ok:
        return report
    _apply_plan(campaign, rows, report.rows, by=by, ip=ip, action=Action.IMPORT, note="从 Excel 导入问题类别")
    audit_record(action=Action.IMPORT, actor=by, obj=campaign, ip=ip, note=f"导入问题类别：{report.summary()}")
    report.applied = True
    return report


@transaction.atomic
def categories_copy(
    *, source_campaign: Campaign, target_campaign: Campaign, by: Any, ip: str | None = None
) -> CategoryImportReport:
    """Reuse an earlier campaign's catalogue: the same tree, upserted by code into the target (its own extra
    categories stay). All or nothing."""
    _check_manager(by)
    if source_campaign.pk == target_campaign.pk:
        raise ValidationError("不能从同一个专项行动复制问题类别。")
    rows = rows_from_campaign(source_campaign)
    if not rows:
        raise ValidationError(f"专项行动“{source_campaign}”还没有问题类别，无法复制。")
    _lock_catalogue(target_campaign.pk)
    report = CategoryImportReport(sheet=str(source_campaign))
    report.rows = _plan_categories(target_campaign, rows, report.errors, parent_label="上级类别")
    if not report.ok:
        raise ValidationError(["无法复制："] + [str(e) for e in report.errors])
    _apply_plan(
        target_campaign, rows, report.rows, by=by, ip=ip, action=Action.CREATE,
        note=f"从专项行动“{source_campaign}”复制问题类别",
    )
    audit_record(
        action=Action.UPDATE, actor=by, obj=target_campaign, ip=ip,
        note=f"从专项行动“{source_campaign}”复制问题类别：{report.summary()}",
    )
    report.applied = True
    return report


# ---- sources ---------------------------------------------------------------------------------------------------

@transaction.atomic
def sources_set(
    *, campaign: Campaign, by: Any, rows: Sequence[Mapping[str, Any]], ip: str | None = None
) -> list[Source]:
    """Set the list of problem sources, in this order. Each row: name, is_active (default True) and, for an
    existing source, its id (a changed name renames it). Sources left out are deactivated, never deleted:
    problems refer to them."""
    _check_manager(by)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    existing = {s.pk: s for s in Source.objects.filter(campaign=campaign)}
    max_len = Source._meta.get_field("name").max_length or 50
    errors: list[str] = []
    seen: dict[str, int] = {}
    wanted: list[tuple[Source, str, bool]] = []
    for i, row in enumerate(rows, start=1):
        name = (row.get("name") or "").strip()
        active = bool(row.get("is_active", True))
        pk = row.get("id")
        if pk is not None and pk not in existing:
            raise ValidationError(f"第{i}行：问题来源不属于该专项行动。")
        if not name:
            errors.append(f"第{i}行：请填写问题来源名称。")
            continue
        if len(name) > max_len:
            errors.append(f"第{i}行：名称不能超过 {max_len} 个字符。")
            continue
        if name in seen:
            errors.append(f"第{i}行：“{name}”与第{seen[name]}行重复。")
            continue
        seen[name] = i
        wanted.append((existing.pop(pk) if pk is not None else Source(campaign=campaign), name, active))
    if errors:
        raise ValidationError(errors)
    # A new row whose name matches a left-out source brings that source back instead of duplicating it.
    by_name = {s.name: s for s in existing.values()}
    for i, (src, name, active) in enumerate(wanted):
        if src.pk is None and name in by_name:
            wanted[i] = (existing.pop(by_name.pop(name).pk), name, active)
    if not any(active for _, _, active in wanted):
        raise ValidationError("至少保留一个启用的问题来源。")
    before = [(s.name, s.is_active) for s in Source.objects.filter(campaign=campaign).order_by("sort_order", "id")]
    # Left-out sources are deactivated; renamed ones go through a temporary name so that swapping two names
    # does not trip the unique constraint halfway.
    Source.objects.filter(pk__in=list(existing)).update(is_active=False)
    for src, name, _ in wanted:
        if src.pk is not None and src.name != name:
            src.name = f"__renaming_{src.pk}"
            src.save(update_fields=["name"])
    result = []
    for i, (src, name, active) in enumerate(wanted, start=1):
        src.name, src.is_active, src.sort_order = name, active, i * 10
        src.save()
        result.append(src)
    after = [(s.name, s.is_active) for s in Source.objects.filter(campaign=campaign).order_by("sort_order", "id")]
    if before != after:
        def show(items: list[tuple[str, bool]]) -> list[str]:
            return [n if a else f"{n}（停用）" for n, a in items]

        audit_record(action=Action.UPDATE, actor=by, obj=campaign, ip=ip,
                     changes={"sources": [show(before), show(after)]})
    return result


def source_add(*, campaign: Campaign, by: Any, name: str, ip: str | None = None) -> Source:
    """Add one problem source at the end of the campaign's list (a word an imported ledger brought)."""
    _check_manager(by)
    name = (name or "").strip()
    max_len = Source._meta.get_field("name").max_length or 50
    if not name:
        raise ValidationError("请填写问题来源名称。")
    if len(name) > max_len:
        raise ValidationError(f"问题来源“{name[:20]}…”超过 {max_len} 个字符。")
    found = Source.objects.filter(campaign=campaign, name=name).first()
    if found is not None:
        if not found.is_active:
            found.is_active = True
            found.save(update_fields=["is_active"])
        return found
    top = Source.objects.filter(campaign=campaign).aggregate(m=Max("sort_order"))["m"] or 0
    source = Source.objects.create(campaign=campaign, name=name, sort_order=top + 10)
    audit_record(action=Action.CREATE, actor=by, obj=source, ip=ip, changes={"campaign": campaign.code, "name": name})
    return source


def source_learn(*, source: Source, by: Any, word: str, ip: str | None = None) -> Source:
    """Remember `word` as another way of writing `source`, so that the next ledger using it needs no decision."""
    _check_manager(by)
    word = (word or "").strip()
    if not word or word == source.name or word in source.aliases:
        return source
    source.aliases = [*source.aliases, word]
    source.save(update_fields=["aliases"])
    audit_record(action=Action.UPDATE, actor=by, obj=source, ip=ip, changes={"aliases": [word]},
                 note=f"问题来源“{source.name}”增加写法“{word}”")
    return source


# ---- working-day overrides -------------------------------------------------------------------------------------

@transaction.atomic
def calendar_override_set(
    *, by: Any, date: dt.date, is_workday: bool, note: str = "", ip: str | None = None
) -> CalendarOverride:
    """Mark a day as 上班 or 休息 whatever the holiday package says (a new year's schedule, a local 调休)."""
    _check_manager(by)
    if date is None:
        raise ValidationError({"date": "请填写日期。"})
    note = (note or "").strip()
    override = CalendarOverride.objects.select_for_update().filter(date=date).first()
    if override is None:
        override = CalendarOverride(date=date, is_workday=is_workday, note=note)
        override.full_clean()
        override.save()
        audit_record(action=Action.CREATE, actor=by, obj=override, ip=ip,
                     changes={"date": date, "is_workday": "上班" if is_workday else "休息", "note": note})
        return override
    changes = diff_fields(override, {"is_workday": is_workday, "note": note})
    override.is_workday, override.note = is_workday, note
    override.full_clean(validate_unique=False)
    override.save()
    if changes:
        audit_record(action=Action.UPDATE, actor=by, obj=override, ip=ip, changes=changes)
    return override


@transaction.atomic
def calendar_override_delete(*, override: CalendarOverride, by: Any, ip: str | None = None) -> None:
    _check_manager(by)
    audit_record(action=Action.DELETE, actor=by, obj=override, ip=ip)
    override.delete()


__all__ = [
    "DEFAULT_PHASES",
    "calendar_override_delete",
    "calendar_override_set",
    "campaign_create",
    "campaign_update",
    "can_manage",
    "categories_copy",
    "category_create",
    "category_import",
    "category_set_active",
    "category_update",
    "deadline_from",
    "phases_set",
    "sources_set",
]
