"""Planning a ledger import against the database: which problem each record is, what would change, and what the
workflow would refuse. Reads only; `ledger.excel.importer` writes what the plans say.

Identity, comparison and state rules are described in `ledger.excel.importer` and docs/ledger-import.md.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from django.db.models import OuterRef, Prefetch, Subquery

from campaigns.models import Campaign
from core.import_report import CHANGED, CONFLICT, ERROR, NEW, UNCHANGED, RowOutcome
from core.xlsx import CellError, halfwidth
from ledger import workflow
from ledger.models import (
    OPEN_STATUSES,
    Measure,
    MeasureStatus,
    Problem,
    ProblemStatus,
    ProgressEntry,
    RectificationType,
)

from .reader import LedgerSheet, MeasureRecord, ProblemRecord
from .unitref import UnitResolver, norm
from .versions import PROBLEM_LABELS, RowVersion, date_text, digests, measure_label
from .vocab import Vocabulary

S = ProblemStatus
SUMMARY_MAX = 60
_FIRST_SENTENCE = re.compile(r"[。；;\n]")


def derive_summary(description: str) -> str:
    """问题概述 for a ledger without one: the description's first sentence, at most 60 characters."""
    first = _FIRST_SENTENCE.split(description.strip(), maxsplit=1)[0].strip() or description.strip()
    return first if len(first) <= SUMMARY_MAX else first[: SUMMARY_MAX - 1] + "…"


def _number_key(number: str) -> str:
    """An office number as compared: full-width forms and case do not make another number."""
    return re.sub(r"\s", "", halfwidth(number)).casefold()


def status_label(status: str | None) -> str:
    return S(status).label if status else ""


# ---- plans -----------------------------------------------------------------------------------------------------

@dataclass
class MeasurePlan:
    record: MeasureRecord
    existing: Measure | None
    values: dict[str, Any]  # new: measure_create's arguments; existing: the changed fields only
    wanted_state: str | None  # the measure state to ask the workflow for; None: leave it
    progress: str  # a progress entry to add; "" none


@dataclass
class Change:
    """One difference between the file and the system, and where the plan holds it (to withdraw it)."""

    label: str  # as the preview shows it: 问题描述, 措施2 状态 …
    old: str
    new: str
    key: str  # the column's key
    row: int
    field: str | None = None  # a problem field of ProblemPlan.values ("co_units" for ProblemPlan.co_units)
    measure: MeasurePlan | None = None
    part: str = ""  # of the measure: a MeasurePlan.values key, "deadline" (with is_long_term), "status", "progress"


@dataclass
class ProblemPlan:
    record: ProblemRecord
    outcome: RowOutcome
    existing: Problem | None = None
    summary: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    co_units: list[Any] | None = None  # None: leave them
    measures: list[MeasurePlan] = field(default_factory=list)
    # A new problem's state as its row records it (for `workflow.import_new`); an existing problem's never comes
    # from the file.
    recorded_state: str | None = None
    changes: list[Change] = field(default_factory=list)

    def change(self, label: str, old: Any, new: Any, key: str, row: int | None = None, **where: Any) -> None:
        self.changes.append(Change(label, str(old or ""), str(new or ""), key, row or self.record.row, **where))

    def withdraw(self, c: Change) -> None:
        """Leave the system's value for this change."""
        self.changes.remove(c)
        if c.field == "co_units":
            self.co_units = None
        elif c.field is not None:
            self.values.pop(c.field, None)
        elif c.measure is not None:
            if c.part == "status":
                c.measure.wanted_state = None
            elif c.part == "progress":
                c.measure.progress = ""
            elif c.part == "deadline":
                c.measure.values.pop("deadline", None)
                c.measure.values.pop("is_long_term", None)
            else:
                c.measure.values.pop(c.part, None)


def problems_of(campaign: Campaign) -> list[Problem]:
    latest = ProgressEntry.objects.filter(measure=OuterRef("pk")).order_by("-on", "-id").values("text")[:1]
    measures = Measure.objects.select_related("unit").annotate(latest_progress=Subquery(latest)).order_by("seq", "id")
    return list(
        Problem.objects.filter(campaign=campaign)
        .select_related("source", "category", "lead_unit", "found_by")
        .prefetch_related("co_units", Prefetch("measures", queryset=measures))
    )


class Planner:
    def __init__(
        self, sheet: LedgerSheet, campaign: Campaign, vocab: Vocabulary, *, by: Any, today: dt.date,
        versions: dict[str, RowVersion] | None = None, take_file: Collection[str] = (),
    ) -> None:
        self.sheet, self.campaign, self.vocab, self.by, self.today = sheet, campaign, vocab, by, today
        self.versions = versions or {}
        self.take_file = set(take_file)  # conflict ids ("编号|字段") where the user picked the file's value
        self.units = UnitResolver()
        self.problems = problems_of(campaign) if campaign.pk else []
        self.by_number = {p.number: p for p in self.problems}
        self.by_source_number = {_number_key(p.source_number): p for p in self.problems if p.source_number}
        self.by_seq = {p.seq: p for p in self.problems}
        # Numbers the file gives that are another campaign's (an export imported into the wrong campaign).
        numbers = {r.number for r in sheet.problems if r.number} - set(self.by_number)
        others = Problem.objects.filter(number__in=numbers)
        if campaign.pk:
            others = others.exclude(campaign=campaign)
        self.foreign = dict(others.values_list("number", "campaign__code")) if numbers else {}
        self.by_text: dict[str, list[Problem]] = {}
        for p in self.problems:
            self.by_text.setdefault(norm(p.description or p.summary), []).append(p)
        seqs = Counter(r.seq for r in sheet.problems if r.seq is not None)
        # Offices that number problems afresh under each heading repeat 序号: then it identifies nothing. An office
        # number (原编号) identifies the row instead of 序号.
        self.seq_is_identity = (not sheet.has("number") and not sheet.has("source_number")
                                and all(n == 1 for n in seqs.values()))
        self.claimed: dict[int, int] = {}  # problem id → the row that took it
        self.closed_categories = 0
        self.source_numbers = 0  # rows whose 编号 was not one of ours, kept as 原编号

    # ---- helpers -------------------------------------------------------------------------------------------------

    def cell_error(self, plan: ProblemPlan, row: int, key: str, message: str) -> None:
        plan.outcome.errors.append(str(CellError(row=row, column=self.sheet.column(key), message=message)))

    def unit(self, plan: ProblemPlan, row: int, key: str, ref: str) -> Any:
        try:
            return self.units.resolve(ref)
        except ValueError as exc:
            self.cell_error(plan, row, key, str(exc))
            return None

    # ---- which problem ------------------------------------------------------------------------------------------

    def match(self, plan: ProblemPlan) -> Problem | None:
        rec = plan.record
        text = norm(rec.description or rec.summary or "")
        by_text = self.by_text.get(text, []) if text else []
        found: Problem | None = None
        if self.sheet.has("number") and rec.number:
            found = self.by_number.get(rec.number)
            if found is None:
                ours = rec.number.upper().startswith(f"{self.campaign.code.upper()}-")
                other = self.foreign.get(rec.number)
                if ours or other or rec.source_number:
                    why = ("在系统中不存在" if ours else
                           f"属于专项行动 {other}，不属于 {self.campaign.code}" if other else
                           f"不属于专项行动 {self.campaign.code}")
                    self.cell_error(plan, rec.row, "number", f"编号“{rec.number}”{why}；新增问题请将编号留空")
                    return None
                # Not one of ours: the office's own number.
                rec.source_number, rec.number = rec.number, ""
                self.source_numbers += 1
        if rec.source_number and len(rec.source_number) > 64:
            self.cell_error(plan, rec.row, self._source_number_key(), "原编号超过 64 个字符")
            return None
        if found is None and rec.source_number:
            found = self.by_source_number.get(_number_key(rec.source_number))
        elif found is None and self.seq_is_identity and rec.seq is not None and rec.seq in self.by_seq:
            found = self.by_seq[rec.seq]
            if norm(found.description or found.summary) != text and len(by_text) == 1:
                found = by_text[0]
        if found is None and not rec.number and len(by_text) == 1 and not (
            rec.source_number and by_text[0].source_number
        ):
            found = by_text[0]
        if found is not None:
            if found.pk in self.claimed:
                self.cell_error(plan, rec.row, self._identity_key(),
                                f"与第{self.claimed[found.pk]}行对应同一个问题（{found.number}）")
                return None
            self.claimed[found.pk] = rec.row
        return found

    def _source_number_key(self) -> str:
        return "source_number" if self.sheet.has("source_number") else "number"

    def _identity_key(self) -> str:
        for key in ("number", "source_number"):
            if self.sheet.has(key):
                return key
        return "seq"

    # ---- one problem --------------------------------------------------------------------------------------------

    def plan(self, rec: ProblemRecord) -> ProblemPlan:
        plan = ProblemPlan(record=rec, outcome=RowOutcome(row=rec.row, status=NEW, key="", label=""))
        plan.outcome.errors.extend(str(e) for e in rec.errors)
        p = plan.existing = self.match(plan)
        has = self.sheet.has
        plan.summary = (rec.summary or "") or derive_summary(rec.description)
        plan.outcome.key = p.number if p else (f"序号 {rec.seq}" if rec.seq else "")
        plan.outcome.label = plan.summary if p is None or rec.summary else p.summary
        if rec.summary and len(rec.summary) > 300:
            self.cell_error(plan, rec.row, "summary", "问题概述超过 300 个字")
        if rec.responsible_leader and len(rec.responsible_leader) > 100:
            self.cell_error(plan, rec.row, "responsible_leader", "责任领导超过 100 个字")

        # problem-level facts
        values: dict[str, Any] = {}
        if rec.description or p is None:
            values["description"] = rec.description
        if has("summary") and rec.summary:
            values["summary"] = rec.summary
        if rec.source_number:
            values["source_number"] = rec.source_number
        if has("source"):
            values["source"] = self.vocab.source(rec.source or "")
        if has("category") and rec.category is not None:
            values["category"] = self.vocab.category(rec.category)
        if has("responsible_leader"):
            values["responsible_leader"] = rec.responsible_leader or ""
        if has("discovered_on"):
            values["discovered_on"] = rec.discovered_on
        if rec.found_by is not None:
            values["found_by"] = self.unit(plan, rec.row, "found_by", rec.found_by[0]) if rec.found_by else None
        extra_co: list[Any] = []
        lead = p.lead_unit if p else None
        if rec.lead_units is not None:
            if rec.lead_units:
                lead = self.unit(plan, rec.row, "lead_unit", rec.lead_units[0])
                extra_co += [self.unit(plan, rec.row, "lead_unit", u) for u in rec.lead_units[1:]]
                values["lead_unit"] = lead
            elif p is not None and p.lead_unit is not None:
                self.cell_error(plan, rec.row, "lead_unit", f"牵头单位为空（系统中为“{p.lead_unit}”）")
            else:
                values["lead_unit"] = lead = None

        self.plan_measures(plan, lead, extra_co)
        co: list[Any] | None = None
        if rec.co_units is not None:
            co = [self.unit(plan, rec.row, "co_units", u) for u in rec.co_units]
        if co is not None or extra_co:
            base = co if co is not None else (list(p.co_units.all()) if p else [])
            co = list({u.pk: u for u in [*base, *extra_co] if u is not None and u != lead}.values())
        self.plan_deadline(plan, values)
        rtype = rec.rectification_type or ""
        if not rtype and p is None and "rectification_type" not in values:
            ms = plan.measures
            if ms and all(m.values.get("is_long_term") for m in ms):
                rtype = RectificationType.LONG_TERM
            elif any(m.record.deadline and m.record.deadline.immediate for m in ms):
                rtype = RectificationType.IMMEDIATE
            else:
                rtype = RectificationType.TIME_LIMITED
        if rtype:
            values["rectification_type"] = rtype

        if p is None:
            plan.values, plan.co_units = values, co or []
        else:
            self.diff_problem(plan, values, co)
        self.plan_status(plan, lead)
        if p is not None:
            self.resolve_stale(plan)
            self.leave_states_to_workflow(plan)
        self.check_inactive(plan, values, co)
        if p is not None and not plan.outcome.errors:  # a cell that failed to read would only echo here
            self.check_editable(plan)
        return self.finish(plan)

    def plan_measures(self, plan: ProblemPlan, lead: Any, extra_co: list[Any]) -> None:
        rec, p, has = plan.record, plan.existing, self.sheet.has
        records = list(rec.measures)
        existing = list(p.measures.all()) if p else []
        if rec.measures_cell and len(existing) == 1 and existing[0].content == rec.measures_cell:
            # one measure that merely reads like a numbered list: keep it whole
            first = records[0]
            records = [MeasureRecord(row=first.row, content=rec.measures_cell, units=first.units, person=first.person,
                                     deadline=first.deadline, progress=first.progress, status=first.status)]
        pairs: list[Measure | None] = [None] * len(records)
        used: set[int] = set()
        m: Measure | None  # an existing measure here, and below the one paired with a record (or None)
        for i, mr in enumerate(records):
            for m in existing:
                if m.pk not in used and m.content == mr.content:
                    pairs[i] = m
                    used.add(m.pk)
                    break
        rest = iter([m for m in existing if m.pk not in used])
        for i in range(len(records)):
            if pairs[i] is None:
                pairs[i] = next(rest, None)
                if pairs[i] is not None:
                    used.add(pairs[i].pk)  # type: ignore[union-attr]
        left = [m for m in existing if m.pk not in used]
        if left:
            self.sheet.warnings.append(
                f"第{rec.row}行：问题 {p.number} 在系统中还有 {len(left)} 项措施未出现在文件中，已保留不变。"  # type: ignore[union-attr]
            )
        first_status = next((m.status for m in records if m.status), None)
        values: dict[str, Any]  # as MeasurePlan.values
        for i, (mr, m) in enumerate(zip(records, pairs, strict=True), start=1):
            unit = lead
            if mr.units:
                unit = self.unit(plan, mr.row, "measure_unit", mr.units[0])
                extra_co += [self.unit(plan, mr.row, "measure_unit", u) for u in mr.units[1:]]
            elif lead is None and (m is None or has("measure_unit")):
                key = "measure_unit" if has("measure_unit") else "lead_unit"
                self.cell_error(plan, mr.row, key, f"第{i}项措施没有责任单位，问题也没有牵头单位")
            if mr.person and len(mr.person) > 100:
                self.cell_error(plan, mr.row, "responsible_person", "责任人超过 100 个字")
            deadline, long_term, keep_deadline = None, False, False
            if not has("deadline"):
                keep_deadline = m is not None
                if m is None:
                    self.cell_error(plan, mr.row, "measures", "文件没有「整改时限」列，无法新增整改措施")
            elif mr.deadline is None:
                self.cell_error(plan, mr.row, "deadline", "整改时限为空（可填日期、“长期坚持”或“立行立改”）")
            elif mr.deadline.invalid:
                pass  # the reader has said why
            elif mr.deadline.immediate:
                keep_deadline = m is not None
                deadline = rec.discovered_on or self.today
            else:
                deadline, long_term = mr.deadline.date, mr.deadline.long_term
            status = mr.status or first_status
            if status is None and m is None:
                status = MeasureStatus.NOT_STARTED
            progress = (mr.progress or "") if has("progress") else ""
            if m is None:
                values = {"content": mr.content, "unit": unit, "responsible_person": mr.person or "",
                          "deadline": deadline, "is_long_term": long_term}
                plan.measures.append(MeasurePlan(mr, None, values, status, progress))
                continue
            mp = MeasurePlan(mr, m, {}, None, "")
            values, seq = mp.values, m.seq
            if mr.content != m.content:
                values["content"] = mr.content
                plan.change(measure_label(seq, "content"), m.content, mr.content, "measures", mr.row, measure=mp,
                            part="content")
            if unit is not None and unit.pk != m.unit_id:
                values["unit"] = unit
                plan.change(measure_label(seq, "unit"), m.unit, unit, "measure_unit", mr.row, measure=mp, part="unit")
            if mr.person is not None and mr.person != m.responsible_person:
                values["responsible_person"] = mr.person
                plan.change(measure_label(seq, "responsible_person"), m.responsible_person, mr.person,
                            "responsible_person", mr.row, measure=mp, part="responsible_person")
            if long_term and m.is_long_term:
                keep_deadline = True  # 长期坚持 either way (a long-term measure may also carry a stage date)
            if not keep_deadline and mr.deadline is not None and (deadline, long_term) != (m.deadline, m.is_long_term):
                values["deadline"], values["is_long_term"] = deadline, long_term
                plan.change(measure_label(seq, "deadline"), date_text(m.deadline, m.is_long_term),
                            date_text(deadline, long_term), "deadline", mr.row, measure=mp, part="deadline")
            if status is not None and status != m.status:
                mp.wanted_state = status
                plan.change(measure_label(seq, "status"), m.get_status_display(), MeasureStatus(status).label, "status",
                            mr.row, measure=mp, part="status")
            latest = getattr(m, "latest_progress", None) or ""
            if progress and progress != latest:
                mp.progress = progress
                plan.change(measure_label(seq, "progress"), latest, progress, "progress", mr.row, measure=mp,
                            part="progress")
            plan.measures.append(mp)

    def plan_deadline(self, plan: ProblemPlan, values: dict[str, Any]) -> None:
        """The problem's deadline: the latest of its measures' (a row without measures gives its own).
        An existing problem's deadline is only ever moved later, never earlier, by an import."""
        dates = [m.values["deadline"] for m in plan.measures if m.existing is None and m.values.get("deadline")]
        for m in plan.measures:
            if m.existing is not None:
                d = m.values.get("deadline", m.existing.deadline) if "is_long_term" in m.values else m.existing.deadline
                long_term = m.values.get("is_long_term", m.existing.is_long_term)
                if d and not long_term:
                    dates.append(d)
        rec = plan.record
        if not plan.measures and rec.deadline is not None:
            if rec.deadline.long_term and plan.existing is None:
                values["rectification_type"] = RectificationType.LONG_TERM
            elif rec.deadline.immediate and plan.existing is None:
                values["rectification_type"] = RectificationType.IMMEDIATE
                dates.append(rec.discovered_on or self.today)
            elif rec.deadline.date:
                dates.append(rec.deadline.date)
        latest = max(dates) if dates else None
        p = plan.existing
        if p is None:
            values["deadline"] = latest
        elif latest is not None and (p.deadline is None or p.deadline < latest):
            values["deadline"] = latest

    def diff_problem(self, plan: ProblemPlan, values: dict[str, Any], co: list[Any] | None) -> None:
        p = plan.existing
        assert p is not None
        changed: dict[str, Any] = {}
        for name, new in values.items():
            old = getattr(p, name)
            if name == "description" and not p.description and new == p.summary:
                continue  # the export writes the summary where a problem has no description
            if name == "category" and old is None and new is not None and p.status not in OPEN_STATUSES:
                self.closed_categories += 1  # a catalogue imported after the problem was signed off
                continue
            if getattr(new, "pk", 0) is None:  # a source or category the import will add: new to this problem
                same = False
            else:
                same = (old.pk if hasattr(old, "pk") else old) == (new.pk if hasattr(new, "pk") else new)
            if not same:
                changed[name] = new
                label, key = PROBLEM_LABELS[name], name
                if name == "rectification_type":
                    old, new = RectificationType(old).label, RectificationType(new).label
                plan.change(label, old, new, key, field=name)
        plan.values = changed
        if co is not None:
            old_co = list(p.co_units.all())
            if sorted(u.pk for u in co) != sorted(u.pk for u in old_co):
                plan.co_units = co
                plan.change(PROBLEM_LABELS["co_units"], "、".join(u.name for u in old_co),
                            "、".join(u.name for u in co), "co_units", field="co_units")

    def plan_status(self, plan: ProblemPlan, lead: Any) -> None:
        """A new problem starts in the state its row records. An existing problem's state is the workflow's: a
        different 销号情况 in the file is shown, never applied."""
        rec, p = plan.record, plan.existing
        if p is not None:
            target = rec.closure
            # "未销号" and the like (no state of its own) differ only from a problem no longer open
            differs = target != p.status if target is not None else p.status not in OPEN_STATUSES
            if rec.closure_given and differs:
                said = status_label(target) if target is not None else "未销号"
                plan.outcome.notices.append(
                    f"第{rec.row}行「{self.sheet.column('closure')}」：系统：{p.get_status_display()}；"
                    f"文件：{said} — 状态不从文件导入，请在系统中办理。"
                )
            return
        target = rec.closure or (S.IN_PROGRESS if lead is not None else S.DRAFT)
        if target not in (S.DRAFT, S.VOIDED) and lead is None:
            if plan.outcome.errors:
                return  # e.g. the lead unit's name was not found: said already
            self.cell_error(plan, rec.row, "closure" if rec.closure_given else "lead_unit",
                            f"没有牵头单位，不能设为“{status_label(target)}”")
            return
        if target in (S.PENDING_REVIEW, S.CLOSED) and not any(m.record.status for m in plan.measures):
            for m in plan.measures:  # signing off presumes every measure done
                m.wanted_state = MeasureStatus.DONE
        plan.recorded_state = target

    def resolve_stale(self, plan: ProblemPlan) -> None:
        """A row exported before the system changed the problem: each field the system changed since and the file
        gives otherwise is a conflict, left as the system has it unless the user picked the file's value."""
        p = plan.existing
        assert p is not None
        version = self.versions.get(p.number) if self.sheet.has("number") else None
        if version is None or version.version >= p.version:
            return
        now = digests(p)
        for c in list(plan.changes):
            if not version.system_changed(c.label, now):
                continue  # the system left it as exported: the file's value is an edit
            cid = f"{p.number}|{c.label}"
            taken = cid in self.take_file
            plan.outcome.conflicts.append(
                {"id": cid, "label": c.label, "system": c.old, "file": c.new, "taken": taken}
            )
            if not taken:
                plan.withdraw(c)

    def leave_states_to_workflow(self, plan: ProblemPlan) -> None:
        """Measure states and progress come in only while the problem is being rectified (as the workflow allows
        anyone); otherwise the difference is shown and the system's stays."""
        p = plan.existing
        assert p is not None
        open_to = {"status": workflow.STEPS[workflow.MEASURE_STATUS].sources,
                   "progress": workflow.STEPS[workflow.PROGRESS].sources}
        for c in [c for c in plan.changes if c.part in open_to and p.status not in open_to[c.part]]:
            plan.outcome.notices.append(
                f"第{c.row}行{c.label}：系统：{c.old or '（空）'}；文件：{c.new or '（空）'} — "
                f"问题当前为“{p.get_status_display()}”，未导入。"
            )
            plan.withdraw(c)

    def check_inactive(self, plan: ProblemPlan, values: dict[str, Any], co: list[Any] | None) -> None:
        """A newly named unit must be active (an old reference to a since-abolished unit may stay)."""
        p = plan.existing
        named: list[tuple[str, Any]] = []
        if "lead_unit" in plan.values and values.get("lead_unit") is not None:
            named.append(("lead_unit", values["lead_unit"]))
        old_co = {u.pk for u in p.co_units.all()} if p is not None else set()
        named += [("co_units", u) for u in (plan.co_units or []) if u.pk not in old_co]
        for m in plan.measures:
            u = m.values.get("unit")
            if u is not None and (m.existing is None or "unit" in m.values):
                named.append(("measure_unit", u))
        for key, u in named:
            if not u.is_active:
                self.cell_error(plan, plan.record.row, key if self.sheet.has(key) else "lead_unit",
                                f"单位“{u.name}”已停用，不能再分派问题")

    def check_editable(self, plan: ProblemPlan) -> None:
        """Refuse, row and column named, what the workflow would refuse: edits to closed problems, edits by
        someone who is not the office, backward moves (plan_status)."""
        p = plan.existing
        assert p is not None
        measure_keys = {"measures", "measure_unit", "responsible_person", "deadline", "progress"}
        fields = bool(plan.values or plan.co_units is not None)
        measures = any(m.existing is None or m.values or m.progress for m in plan.measures)
        statuses = any(m.wanted_state for m in plan.measures) and plan.recorded_state is None
        if (fields or measures or statuses) and self.by is not None and not workflow.is_office(self.by):
            self.cell_error(plan, plan.record.row, plan.changes[0].key if plan.changes else "description",
                            f"只有作风办可以修改已有问题（{p.number}）")
            return
        blocked: list[tuple[str, int]] = []
        if fields and not workflow.STEPS[workflow.EDIT].sources >= {p.status}:
            blocked += [(c.key, c.row) for c in plan.changes if c.key not in measure_keys | {"closure", "status"}]
        if p.status not in workflow.STEPS[workflow.MEASURES].sources:
            blocked += [(c.key, c.row) for c in plan.changes if c.key in measure_keys]
            blocked += [("measures", m.record.row) for m in plan.measures if m.existing is None]
            if statuses:
                blocked += [(c.key, c.row) for c in plan.changes if c.key == "status"]
        for key, row in dict.fromkeys(blocked):
            self.cell_error(plan, row, key,
                            f"问题 {p.number} 当前状态为“{p.get_status_display()}”，不能再修改")

    def finish(self, plan: ProblemPlan) -> ProblemPlan:
        o = plan.outcome
        o.errors = list(dict.fromkeys(o.errors))
        if o.errors:
            o.status = ERROR
        elif plan.existing is None:
            o.status = NEW
            o.changes = {
                "牵头单位": ["", str(plan.values.get("lead_unit") or "")],
                "整改措施": ["", f"{len(plan.measures)} 项"],
                "状态": ["", status_label(plan.recorded_state)],
            }
        else:
            o.changes = {c.label: [c.old, c.new] for c in plan.changes}
            o.status = CONFLICT if o.conflicts else CHANGED if plan.changes else UNCHANGED
        return plan



__all__ = ["MeasurePlan", "Planner", "ProblemPlan", "derive_summary", "problems_of", "status_label"]
