"""Ledger import: a preview that writes nothing, then an all-or-nothing import through the ledger's services.

    report = preview_ledger(upload, campaign="ZF2022")                  # problem by problem: 新增 / 更新 / 未变 / 错误
    report = apply_ledger(upload, campaign="ZF2022", by=office_user)    # one transaction; nothing if any error

Which problem a row is (upsert identity), in this order:
- the file has our 编号 column (an export of this system): the problem with that 编号; a blank 编号 is a new problem
  unless its 问题描述 matches one;
- otherwise the problem whose 序号 (seq) is the row's 序号, unless another problem has exactly the row's 问题描述;
- otherwise the problem with the same 问题描述; otherwise a new problem (numbered by the campaign's counter).

Only what the file carries is compared: a column the file lacks leaves the field as it is. A file is data, never a
decision: everything goes through the ledger's services and the workflow, with the importer's role checked as any
caller's. A new problem starts in the state its row records (`workflow.import_new`: one 台账导入 transition naming the
file and the row); an existing problem's state never comes from the file (a difference is shown as a notice), and
measure states change through `workflow.measure_set_status` while the problem is being rectified. A row exported
before the system changed its problem is stale (`ledger.excel.versions`): what the system changed since is a 冲突,
left as the system has it unless the user picks the file's value.
The status words and their mapping are tables in `ledger.excel.columns`; the comparing and checking is
`ledger.excel.planner`'s, which reads only.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from campaigns import services as campaign_services
from campaigns.models import Campaign, CampaignStatus
from core.audit import Action, audit_record
from core.import_report import (
    CHANGED,
    CONFLICT,
    ERROR,
    NEW,
    Progress,
    ProgressFn,
    RosterReport,
    RowOutcome,
    file_label,
)
from core.xlsx import XlsxError
from ledger import services, workflow
from ledger.models import ProblemStatus
from units.models import User

from .planner import Planner, ProblemPlan
from .reader import LedgerSheet, read_ledger
from .versions import RowVersion, read_versions

S = ProblemStatus


# ---- report ----------------------------------------------------------------------------------------------------

@dataclass
class LedgerReport(RosterReport):
    kind: str = "ledger"
    warnings: list[str] = field(default_factory=list)
    campaign: dict[str, Any] = field(default_factory=dict)  # {"code", "name", "exists"}
    measures: dict[str, int] = field(default_factory=lambda: {"new": 0, "changed": 0})

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "warnings": list(self.warnings), "campaign": dict(self.campaign),
                "measures": dict(self.measures)}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> LedgerReport:
        return cls(
            rows=[RowOutcome(**r) for r in d.get("rows", [])], file_errors=list(d.get("file_errors", [])),
            applied=bool(d.get("applied", False)), warnings=list(d.get("warnings", [])),
            campaign=dict(d.get("campaign", {})), measures=dict(d.get("measures", {"new": 0, "changed": 0})),
        )


@dataclass
class LedgerPlan:
    campaign: Campaign
    report: LedgerReport
    problems: list[ProblemPlan]


# ---- the two entry points --------------------------------------------------------------------------------------

def _title_name(title: str) -> str:
    name = re.sub(r"(问题)?(整改)?(工作)?台账(表)?$", "", title).strip()
    return name or title


def _campaign_for(code: str) -> Campaign | None:
    return Campaign.objects.filter(code__iexact=code.strip()).first()


def _plan(sheet: LedgerSheet, campaign: Campaign, *, by: Any, report: LedgerReport, progress: ProgressFn | None,
          today: dt.date, versions: dict[str, RowVersion], take_file: Collection[str] = ()) -> LedgerPlan:
    planner = Planner(sheet, campaign, by=by, today=today, versions=versions, take_file=take_file)
    plans = []
    for i, rec in enumerate(sheet.problems, start=1):
        plans.append(planner.plan(rec))
        if progress is not None and i % 50 == 0:
            progress(i, len(sheet.problems))
    report.rows = [p.outcome for p in plans]
    report.warnings.extend(sheet.warnings)
    if planner.ignored_categories:
        report.warnings.append(
            f"专项行动“{campaign.name}”还没有问题类别清单，{planner.ignored_categories} 个问题的「问题类别」未导入；"
            "导入类别清单后可再次导入本台账补上（已销号的问题除外）。"
        )
    if planner.closed_categories:
        report.warnings.append(
            f"{planner.closed_categories} 个已销号或已作废的问题在系统中没有问题类别，文件中的「问题类别」未补上"
            "（这些问题不能再修改）。"
        )
    if not sheet.problems:
        report.file_errors.append("文件中没有问题数据：表头下方的行都是空的。")
    ok = [p for p in plans if p.outcome.status != ERROR]
    report.measures = {
        "new": sum(1 for p in ok for m in p.measures if m.existing is None),
        "changed": sum(1 for p in ok for m in p.measures if m.existing is not None and (m.values or m.wanted_state)),
    }
    return LedgerPlan(campaign=campaign, report=report, problems=plans)


def _refuse_importer(by: Any, report: LedgerReport) -> bool:
    """The importer's role is asked as any caller's: a ledger comes in only by the office's hand."""
    if by is not None and not workflow.is_office(by):
        report.file_errors.append(f"{workflow.STEPS[workflow.A.IMPORT].who_message}（当前账号：{by}）")
        return True
    return False


def _read(file: Any, report: LedgerReport) -> tuple[LedgerSheet | None, dict[str, RowVersion]]:
    try:
        sheet = read_ledger(file)
    except XlsxError as exc:
        report.file_errors.append(exc.message)
        return None, {}
    return sheet, read_versions(file)


def preview_ledger(
    file: Any, *, campaign: str, campaign_name: str = "", by: Any = None, user_id: int | None = None,
    progress: ProgressFn | None = None, take_file: Collection[str] = (), **_: Any,
) -> LedgerReport:
    """Read a ledger and check it against the campaign (which need not exist yet). Never writes.

    `by` (or, from an Job's options, `user_id`) is who will confirm: changes to existing problems are checked
    against their role as the import will check them."""
    if by is None and user_id:
        by = User.objects.filter(pk=user_id).first()
    steps = Progress(progress)
    report = LedgerReport()
    if _refuse_importer(by, report):
        return report
    sheet, versions = _read(file, report)
    steps.phase(0.0, 0.5)
    if sheet is None:
        return report
    existing = _campaign_for(campaign)
    if existing is None:
        if not campaign_services.CODE_RE.match(campaign.strip()):
            report.file_errors.append("专项行动编号只能由字母、数字、“-”和“_”组成，如 ZF2022。")
            return report
        name = campaign_name.strip() or _title_name(sheet.title) or campaign.strip()
        existing = Campaign(code=campaign.strip(), name=name)
        report.warnings.append(f"专项行动 {existing.code} 尚不存在，导入时将新建（名称：{name}）。")
    report.campaign = {"code": existing.code, "name": existing.name, "exists": bool(existing.pk)}
    _plan(sheet, existing, by=by, report=report, progress=steps.phase(0.5, 1.0), today=timezone.localdate(),
          versions=versions, take_file=take_file)
    steps.finish()
    return report


class _Abort(Exception):
    def __init__(self, report: LedgerReport) -> None:
        self.report = report


def apply_ledger(
    file: Any, *, campaign: str, campaign_name: str = "", by: Any, ip: str | None = None,
    progress: ProgressFn | None = None, dry_run: bool = False, take_file: Collection[str] = (), **_: Any,
) -> LedgerReport:
    """Import a ledger in one transaction (creating the campaign when it does not exist); if the report has any
    error, nothing is written. `dry_run` only previews. `take_file`: the conflicts ("编号|字段") where the user
    picked the file's value over the system's."""
    if dry_run:
        return preview_ledger(file, campaign=campaign, campaign_name=campaign_name, by=by, progress=progress,
                              take_file=take_file)
    steps = Progress(progress)
    report = LedgerReport()
    if _refuse_importer(by, report):
        return report
    sheet, versions = _read(file, report)
    if sheet is None:
        return report
    steps.phase(0.0, 0.3)
    today = timezone.localdate()
    try:
        with transaction.atomic():
            target = _campaign_for(campaign)
            created = target is None
            if target is None:
                name = campaign_name.strip() or _title_name(sheet.title) or campaign.strip()
                try:
                    target = campaign_services.campaign_create(
                        by=by, name=name, code=campaign.strip(), status=CampaignStatus.ACTIVE, ip=ip
                    )
                except Exception as exc:  # ValidationError / PermissionDenied, shown as they are
                    report.file_errors.append("无法新建专项行动：" + "；".join(getattr(exc, "messages", [str(exc)])))
                    raise _Abort(report) from exc
            target = Campaign.objects.select_for_update().get(pk=target.pk)  # one import per campaign at a time
            report.campaign = {"code": target.code, "name": target.name, "exists": not created}
            plan = _plan(sheet, target, by=by, report=report, progress=steps.phase(0.3, 0.5), today=today,
                         versions=versions, take_file=take_file)
            if not report.ok:
                raise _Abort(report)
            _write(plan, by=by, ip=ip, today=today, source=file_label(file), progress=steps.phase(0.5, 1.0))
            report.applied = True
            audit_record(action=Action.IMPORT, actor=by, obj=target, ip=ip,
                         note=f"导入问题台账{file_label(file)}：{report.summary_line()}")
    except _Abort as abort:
        return abort.report
    steps.finish()
    return report


# ---- writing ----------------------------------------------------------------------------------------------------

def _write(plan: LedgerPlan, *, by: Any, ip: str | None, today: dt.date, source: str,
           progress: ProgressFn | None) -> None:
    campaign_plans = [p for p in plan.problems if p.outcome.status in (NEW, CHANGED, CONFLICT)]
    for i, pp in enumerate(campaign_plans, start=1):
        try:
            with transaction.atomic():
                _write_problem(pp, campaign=plan.campaign, by=by, ip=ip, today=today,
                               note=f"台账导入：{source}第{pp.record.row}行")
        except (workflow.WorkflowError, ValidationError) as exc:
            messages = getattr(exc, "messages", None) or [str(exc)]
            pp.outcome.errors.append(f"第{pp.record.row}行：" + "；".join(messages))
            pp.outcome.status = ERROR
            raise _Abort(plan.report) from exc
        if progress is not None:
            progress(i, len(campaign_plans))


def _write_problem(pp: ProblemPlan, *, campaign: Campaign, by: Any, ip: str | None, today: dt.date,
                   note: str) -> None:
    """One row, through the services and the workflow as any other caller: the importer's role is checked."""
    p = pp.existing
    if p is None:
        p = services.problem_create(
            campaign=campaign, by=by, summary=pp.summary, co_units=pp.co_units or [], imported=True, ip=ip,
            note=note, **pp.values,
        )
        pp.outcome.key = p.number
        states: dict[int, str] = {}
        entries: dict[int, str] = {}
        for mp in pp.measures:
            m = services.measure_create(problem=p, by=by, ip=ip, note=note, **mp.values)
            if mp.wanted_state:
                states[m.pk] = mp.wanted_state
            if mp.progress:
                entries[m.pk] = mp.progress
        workflow.import_new(problem=p, by=by, status=pp.recorded_state or S.DRAFT, note=note, measure_states=states,
                            progress=entries, on=today, ip=ip)
        return
    if pp.values or pp.co_units is not None:
        p = services.problem_update(problem=p, by=by, co_units=pp.co_units, ip=ip, note=note, **pp.values)
    for mp in pp.measures:
        if mp.existing is None:
            m = services.measure_create(problem=p, by=by, ip=ip, note=note, **mp.values)
        elif mp.values:
            m = services.measure_update(measure=mp.existing, by=by, ip=ip, note=note, **mp.values)
        else:
            m = mp.existing
        if mp.progress:
            services.progress_add(measure=m, by=by, text=mp.progress, on=today, ip=ip, note=note)
        if mp.wanted_state:
            workflow.measure_set_status(measure=m, by=by, status=mp.wanted_state, ip=ip, note=note)


__all__ = ["LedgerReport", "apply_ledger", "preview_ledger"]
