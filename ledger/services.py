"""Writes to the ledger other than status changes (those are `ledger.workflow`'s): validated, atomic, audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from campaigns.models import Campaign
from core import filetypes
from core.audit import Action, audit_record, diff_fields
from core.text import check_text
from units.models import Unit

from . import workflow
from .history import record_facts
from .models import (
    Accountability,
    AccountabilityForm,
    Evidence,
    Measure,
    Problem,
    ProblemStatus,
    ProgressEntry,
    RectificationType,
)

PROBLEM_FIELDS = (
    "source_number", "summary", "description", "source", "category", "discovered_on", "found_by", "lead_unit",
    "responsible_leader", "responsible_person", "rectification_type", "deadline",
)
MEASURE_FIELDS = ("content", "unit", "responsible_person", "deadline", "is_long_term")

EVIDENCE_EXTENSIONS = filetypes.ACCEPTED_EXTENSIONS
EVIDENCE_NAME_MAX = Evidence._meta.get_field("original_name").max_length or 255
EVIDENCE_REASON_MAX = Evidence._meta.get_field("removal_reason").max_length or 200
EVIDENCE_MAX_BYTES = getattr(settings, "EVIDENCE_MAX_BYTES", 20 * 1024 * 1024)


def next_problem_number(campaign: Campaign) -> tuple[int, str]:
    """Hand out the campaign's next number under a row lock: ZF2022-0001, ZF2022-0002, …"""
    c = Campaign.objects.select_for_update().get(pk=campaign.pk)
    c.last_problem_seq += 1
    c.save(update_fields=["last_problem_seq"])
    campaign.last_problem_seq = c.last_problem_seq
    return c.last_problem_seq, f"{c.code}-{c.last_problem_seq:04d}"


def check_texts(model: type[Any], values: dict[str, Any]) -> None:
    """Every text a service stores can be exported: no control character XML cannot hold, and no longer than a
    cell keeps. Whatever the caller (a form, a file, a command), the refusal names the field."""
    errors: dict[str, list[ValidationError]] = {}
    for name, value in values.items():
        if not isinstance(value, str):
            continue
        label = str(model._meta.get_field(name).verbose_name)
        try:
            check_text(value, label=label)
        except ValidationError as exc:
            errors[name] = exc.error_list
    if errors:
        raise ValidationError(errors)


def _check_campaign_refs(campaign: Campaign, values: dict[str, Any]) -> None:
    src, cat = values.get("source"), values.get("category")
    if src is not None and src.campaign_id != campaign.pk:
        raise ValidationError({"source": "问题来源不属于该专项行动。"})
    if cat is not None and cat.campaign_id != campaign.pk:
        raise ValidationError({"category": "问题类别不属于该专项行动。"})
    if values.get("rectification_type") not in (None, *RectificationType.values):
        raise ValidationError({"rectification_type": "未知的整改类型。"})


@transaction.atomic
def problem_create(
    *, campaign: Campaign, by: Any, summary: str, co_units: Iterable[Unit] = (), imported: bool = False,
    ip: str | None = None, note: str = "", at: dt.datetime | None = None, **values: Any,
) -> Problem:
    """录入 a draft; `imported` for a problem from a ledger file, whose state `workflow.import_new` sets next.
    `at` is the moment it was entered (now unless given)."""
    if not workflow.is_office(by):
        raise workflow.WorkflowError("只有作风办可以录入问题。", workflow.ROLE)
    unknown = set(values) - set(PROBLEM_FIELDS)
    if unknown:
        raise ValueError(f"unknown problem fields: {sorted(unknown)}")
    _check_campaign_refs(campaign, values)
    check_texts(Problem, {"summary": summary, **values})
    seq, number = next_problem_number(campaign)
    problem = Problem(campaign=campaign, seq=seq, number=number, summary=summary.strip(), created_by=by, **values)
    problem.full_clean(exclude=["created_by"])
    problem.save()
    if at is not None:
        Problem.objects.filter(pk=problem.pk).update(created_at=at)
        problem.created_at = at
    record_facts(problem, at=problem.created_at)
    problem.co_units.set(list(co_units))
    if imported:
        workflow.require(workflow.A.IMPORT, by, problem)  # its first transition is `workflow.import_new`'s
    else:
        workflow.record_creation(problem=problem, by=by, ip=ip, at=at)
    audit_record(action=Action.IMPORT if imported else Action.CREATE, actor=by, obj=problem, ip=ip, note=note,
                 changes={"number": number, "summary": problem.summary})
    return problem


@transaction.atomic
def problem_update(
    *, problem: Problem, by: Any, co_units: Iterable[Unit] | None = None, ip: str | None = None, note: str = "",
    **values: Any,
) -> Problem:
    problem = Problem.objects.select_for_update().get(pk=problem.pk)
    workflow.require(workflow.EDIT, by, problem)
    unknown = set(values) - set(PROBLEM_FIELDS)
    if unknown:
        raise ValueError(f"unknown problem fields: {sorted(unknown)}")
    _check_campaign_refs(problem.campaign, values)
    check_texts(Problem, values)
    changes = diff_fields(problem, values)
    gaps_before = set(workflow.assignment_gaps(problem, what="保存"))
    for k, v in values.items():
        setattr(problem, k, v)
    problem.full_clean(exclude=["created_by"])
    if problem.status != ProblemStatus.DRAFT:
        # An assigned problem keeps what assigning required (a lead unit that can apply, a deadline to chase); an
        # edit may not take them away, though a unit deactivated since does not block unrelated edits.
        new_gaps = [g for g in workflow.assignment_gaps(problem, what="保存") if g not in gaps_before]
        if new_gaps:
            raise ValidationError(new_gaps)
    problem.save()
    record_facts(problem)
    if co_units is not None:
        new = sorted(u.pk for u in co_units)
        old = list(problem.co_units.all())
        if new != sorted(u.pk for u in old):
            changes["co_units"] = [[str(u) for u in old], [str(u) for u in co_units]]
            problem.co_units.set(list(co_units))
    if changes:
        workflow.touch(problem.pk)
        audit_record(action=Action.UPDATE, actor=by, obj=problem, changes=changes, ip=ip, note=note)
    return problem


@transaction.atomic
def measure_create(
    *, problem: Problem, by: Any, content: str, unit: Unit, responsible_person: str = "",
    deadline: dt.date | None = None, is_long_term: bool = False, ip: str | None = None, note: str = "",
    at: dt.datetime | None = None,
) -> Measure:
    """A measure of a problem; `at` is the moment it was entered (now unless given)."""
    problem = Problem.objects.select_for_update(of=("self",)).select_related("lead_unit").get(pk=problem.pk)
    workflow.require(workflow.MEASURES, by, problem)
    content = (content or "").strip()
    if not content:
        raise ValidationError({"content": "请填写整改措施内容。"})
    check_texts(Measure, {"content": content, "responsible_person": responsible_person})
    if not is_long_term and deadline is None:
        raise ValidationError({"deadline": "请填写完成时限，或勾选“长期坚持”。"})
    seq = (problem.measures.order_by("-seq").values_list("seq", flat=True).first() or 0) + 1
    m = Measure.objects.create(
        problem=problem, seq=seq, content=content, unit=unit, responsible_person=responsible_person.strip(),
        deadline=deadline, is_long_term=is_long_term,
    )
    if at is not None:
        Measure.objects.filter(pk=m.pk).update(created_at=at)
        m.created_at = at
    workflow.touch(problem.pk)
    audit_record(action=Action.CREATE, actor=by, obj=m, ip=ip, note=note,
                 changes={"problem": problem.number, "content": content[:100], "unit": str(unit)})
    return m


@transaction.atomic
def measure_update(*, measure: Measure, by: Any, ip: str | None = None, note: str = "", **values: Any) -> Measure:
    workflow.lock_problem_of(measure)
    measure = Measure.objects.select_for_update(of=("self",)).select_related("problem__lead_unit").get(pk=measure.pk)
    workflow.require(workflow.MEASURES, by, measure.problem)
    unknown = set(values) - set(MEASURE_FIELDS)
    if unknown:
        raise ValueError(f"unknown measure fields: {sorted(unknown)}")
    check_texts(Measure, values)
    changes = diff_fields(measure, values)
    for k, v in values.items():
        setattr(measure, k, v)
    if not measure.is_long_term and measure.deadline is None:
        raise ValidationError({"deadline": "请填写完成时限，或勾选“长期坚持”。"})
    measure.save()
    if changes:
        workflow.touch(measure.problem_id)
        audit_record(action=Action.UPDATE, actor=by, obj=measure, changes=changes, ip=ip, note=note)
    return measure


def evidence_name(f: UploadedFile) -> str:
    """The name an upload is kept and shown under: no folders or control characters, the model's length at most,
    its extension kept."""
    return filetypes.safe_name(f.name or "", max_length=EVIDENCE_NAME_MAX)


def validate_evidence_file(f: UploadedFile) -> filetypes.Kind:
    """The one check of an evidence file, for the form and the service alike: an accepted extension, within the
    size limit, not empty, and content that is what the extension says. Returns the kind the content shows; the
    type the browser sent is never asked."""
    name = evidence_name(f)
    ext = filetypes.extension_of(name)
    if ext not in EVIDENCE_EXTENSIONS:
        raise ValidationError(f"文件“{name}”的类型不支持（扩展名为 {ext or '空'}）。{filetypes.ACCEPTED}")
    if f.size and f.size > EVIDENCE_MAX_BYTES:
        raise ValidationError(
            f"文件“{name}”大小为 {f.size / 1024 / 1024:.1f} MB，超过 {EVIDENCE_MAX_BYTES // 1024 // 1024} MB 的限制。"
        )
    if not f.size:
        raise ValidationError(f"文件“{name}”是空文件。")
    try:
        return filetypes.check(name, f)
    except filetypes.FileTypeError as exc:
        raise ValidationError(exc.message) from exc


@transaction.atomic
def progress_add(
    *, measure: Measure, by: Any, text: str, on: dt.date | None = None, files: Sequence[UploadedFile] = (),
    mark_status: str | None = None, ip: str | None = None, note: str = "", at: dt.datetime | None = None,
) -> ProgressEntry:
    """A dated progress entry on a measure, with evidence files; optionally moves the measure's status. `at` is
    the moment it was reported (now unless given): the entry is dated on or before that day. Each file is kept
    with the type its content shows."""
    workflow.lock_problem_of(measure)
    measure = Measure.objects.select_related("problem__lead_unit", "problem__campaign", "unit").get(pk=measure.pk)
    workflow.require(workflow.PROGRESS, by, measure.problem, measure=measure)
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "请填写整改进展。"})
    check_texts(ProgressEntry, {"text": text})
    reported_on = timezone.localdate(at)
    on = on or reported_on
    if on > reported_on:
        raise ValidationError({"on": "进展日期不能晚于今天。" if at is None else "进展日期不能晚于填报日期。"})
    kinds = [validate_evidence_file(f) for f in files]
    entry = ProgressEntry.objects.create(measure=measure, problem=measure.problem, on=on, text=text, created_by=by)
    names = []
    for f, kind in zip(files, kinds, strict=True):
        name = evidence_name(f)
        names.append(name)
        Evidence.objects.create(
            progress=entry, problem=measure.problem, file=f, original_name=name, size=f.size or 0,
            content_type=kind.mime, uploaded_by=by,
        )
    if at is not None:
        ProgressEntry.objects.filter(pk=entry.pk).update(created_at=at)
        Evidence.objects.filter(progress=entry).update(uploaded_at=at)
        entry.created_at = at
    workflow.touch(measure.problem_id)
    if mark_status and mark_status != measure.status:
        workflow.measure_set_status(measure=measure, by=by, status=mark_status, completed_on=on, ip=ip, note=note)
    audit_record(action=Action.CREATE, actor=by, obj=entry, ip=ip, note=note,
                 changes={"measure": str(measure), "text": text[:100], "files": names})
    return entry


# ---- removing a wrong evidence file ------------------------------------------------------------------------------

def evidence_removal_refusal(by: Any, evidence: Evidence) -> workflow.WorkflowError | None:
    """Why `by` may not remove this evidence file now (None when they may). The office, and the uploader while they
    still act for the measure, may; only while the problem is in the hands of the unit (the states in which
    progress is recorded): not once 申请销号 is made, while it waits for review, or after it is closed."""
    measure = evidence.progress.measure
    problem = measure.problem
    progress = workflow.STEPS[workflow.PROGRESS]
    uploader = bool(evidence.uploaded_by_id) and evidence.uploaded_by_id == getattr(by, "pk", None)
    if not (workflow.is_office(by) or (uploader and progress.who(by, problem, measure))):
        return workflow.WorkflowError("只有上传人或作风办可以删除该佐证材料。", workflow.ROLE)
    if problem.status not in progress.sources:
        return workflow.WorkflowError(
            f"问题 {problem.number} 当前状态为“{problem.get_status_display()}”，不能删除佐证材料："
            "只有整改中的问题可以删除，申请销号后不能删除。", workflow.STATE,
        )
    return None


@transaction.atomic
def evidence_remove(*, evidence: Evidence, by: Any, reason: str, ip: str | None = None) -> Evidence:
    """Take a wrong file out of the 佐证材料: it no longer counts or shows, and stays stored for the audit trail
    (the office can still download it)."""
    workflow.lock_problem_of(evidence.progress.measure)
    evidence = Evidence.all_objects.select_related(
        "progress__measure__problem__lead_unit", "progress__measure__unit",
    ).get(pk=evidence.pk)
    if evidence.removed_at is not None:
        raise workflow.WorkflowError(f"佐证材料“{evidence.original_name}”已删除。", workflow.STATE)
    if (error := evidence_removal_refusal(by, evidence)) is not None:
        raise error
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写删除原因。"})
    if len(reason) > EVIDENCE_REASON_MAX:
        raise ValidationError({"reason": f"删除原因不能超过{EVIDENCE_REASON_MAX}个字。"})
    check_texts(Evidence, {"removal_reason": reason})
    evidence.removed_at = timezone.now()
    evidence.removed_by = by
    evidence.removal_reason = reason
    evidence.save(update_fields=["removed_at", "removed_by", "removal_reason"])
    workflow.touch(evidence.problem_id)
    audit_record(
        action=Action.DELETE, actor=by, obj=evidence, ip=ip, note=f"删除佐证材料“{evidence.original_name}”：{reason}",
        changes={"original_name": evidence.original_name, "problem": evidence.progress.measure.problem.number,
                 "measure": str(evidence.progress.measure), "removal_reason": reason},
    )
    return evidence


# ---- 追责问责 ----------------------------------------------------------------------------------------------------

ACCOUNTABILITY_TEXTS = ("person", "post", "decided_by")


def _accountability_changes(record: Accountability) -> dict[str, Any]:
    return {
        "problem": record.problem.number, "unit": str(record.unit), "person": record.person, "post": record.post,
        "form": record.form, "decided_on": record.decided_on.isoformat(), "decided_by": record.decided_by,
        "note": record.note[:100],
    }


def _require_office(by: Any, what: str) -> None:
    if not workflow.is_office(by):
        raise workflow.WorkflowError(f"只有作风办可以{what}。", workflow.ROLE)


@transaction.atomic
def accountability_add(
    *, problem: Problem, by: Any, unit: Unit | None, person: str, post: str, form: str, decided_on: dt.date | None,
    decided_by: str, note: str = "", ip: str | None = None, at: dt.datetime | None = None,
) -> Accountability:
    """登记追责问责 on a problem (office only): every field but the note required, the unit in use, the decision
    not dated in the future. `at` is the moment it was entered (now unless given), on or after the decision."""
    _require_office(by, "登记追责问责")
    problem = Problem.objects.select_for_update(of=("self",)).get(pk=problem.pk)
    values = {"person": (person or "").strip(), "post": (post or "").strip(),
              "decided_by": (decided_by or "").strip(), "note": (note or "").strip()}
    errors: dict[str, list[str]] = {}
    for name in ACCOUNTABILITY_TEXTS:
        field: Any = Accountability._meta.get_field(name)
        if not values[name]:
            errors[name] = [f"请填写{field.verbose_name}。"]
        elif len(values[name]) > field.max_length:
            errors[name] = [f"{field.verbose_name}不能超过{field.max_length}个字。"]
    if unit is None:
        errors["unit"] = ["请选择所在单位。"]
    elif not Unit.objects.filter(pk=unit.pk, is_active=True).exists():
        errors["unit"] = [f"单位“{unit}”不存在或已停用。"]
    if form not in AccountabilityForm.values:
        errors["form"] = ["请选择问责方式。"]
    if decided_on is None:
        errors["decided_on"] = ["请填写决定日期。"]
    elif decided_on > timezone.localdate(at):
        errors["decided_on"] = ["决定日期不能晚于今天。" if at is None else "决定日期不能晚于登记日期。"]
    try:
        check_texts(Accountability, values)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    assert unit is not None and decided_on is not None
    record = Accountability.objects.create(problem=problem, unit=unit, form=form, decided_on=decided_on,
                                           created_by=by, **values)
    if at is not None:
        Accountability.objects.filter(pk=record.pk).update(created_at=at)
        record.created_at = at
    audit_record(action=Action.CREATE, actor=by, obj=record, ip=ip, changes=_accountability_changes(record))
    return record


@transaction.atomic
def accountability_delete(*, record: Accountability, by: Any, ip: str | None = None) -> None:
    """删除 a 追责问责 record entered by mistake (office only); the audit trail keeps what it said."""
    _require_office(by, "删除追责问责记录")
    found = Accountability.objects.select_for_update(of=("self",)).select_related("problem", "unit").filter(
        pk=record.pk).first()
    if found is None:
        raise workflow.WorkflowError("该追责问责记录已删除。", workflow.STATE)
    record = found
    audit_record(action=Action.DELETE, actor=by, obj=record, ip=ip, changes=_accountability_changes(record),
                 note=f"删除追责问责记录：{record}")
    record.delete()


__all__ = [
    "accountability_add",
    "accountability_delete",
    "evidence_remove",
    "evidence_removal_refusal",
    "measure_create",
    "measure_update",
    "next_problem_number",
    "problem_create",
    "problem_update",
    "progress_add",
    "validate_evidence_file",
]
