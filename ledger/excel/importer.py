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
from campaigns.models import DEFAULT_SOURCES, Campaign, CampaignStatus, Category, Source
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
from core.mappings import saved_lookup
from core.xlsx import HeaderError, XlsxError
from ledger import services, workflow
from ledger.models import ProblemStatus
from units.models import User

from . import LEDGER_KIND
from .planner import Planner, ProblemPlan
from .reader import LedgerSheet, read_ledger
from .versions import RowVersion, read_versions
from .vocab import Vocabulary

S = ProblemStatus


# ---- report ----------------------------------------------------------------------------------------------------

@dataclass
class LedgerReport(RosterReport):
    kind: str = "ledger"
    campaign: dict[str, Any] = field(default_factory=dict)  # {"code", "name", "exists"}
    measures: dict[str, int] = field(default_factory=lambda: {"new": 0, "changed": 0})
    # The file's words that matched nothing, and the decisions on them (`vocab.WordChoice.to_json`).
    vocab: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {"sources": [], "categories": []})
    new_categories: list[dict[str, str]] = field(default_factory=list)  # a catalogue built from the file
    new_sources: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "campaign": dict(self.campaign), "measures": dict(self.measures),
                "vocab": dict(self.vocab), "new_categories": list(self.new_categories),
                "new_sources": list(self.new_sources)}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> LedgerReport:
        return cls(
            rows=[RowOutcome(**r) for r in d.get("rows", [])], file_errors=list(d.get("file_errors", [])),
            applied=bool(d.get("applied", False)), **cls._mapping_json(d),
            campaign=dict(d.get("campaign", {})), measures=dict(d.get("measures", {"new": 0, "changed": 0})),
            vocab=dict(d.get("vocab") or {"sources": [], "categories": []}),
            new_categories=list(d.get("new_categories", [])), new_sources=list(d.get("new_sources", [])),
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


@dataclass
class Words:
    """The user's decisions on the file's words and columns (a job's options, or a command line's)."""

    mapping: dict[str, str] | None = None  # column letter → key; None: automatic (or a mapping saved for the headers)
    sheet: str | None = None
    sources: dict[str, str] = field(default_factory=dict)  # word → an existing source, or "+" to add it
    categories: dict[str, str] = field(default_factory=dict)
    add_sources: bool = False
    add_categories: bool = False
    build_catalogue: bool = True  # a campaign without a catalogue gets one from the file (the command line asks)

    @classmethod
    def of(cls, options: dict[str, Any]) -> Words:
        return cls(
            mapping=options.get("mapping"), sheet=options.get("sheet") or None,
            sources=dict(options.get("sources") or {}), categories=dict(options.get("categories") or {}),
            add_sources=bool(options.get("add_sources")), add_categories=bool(options.get("add_categories")),
            build_catalogue=bool(options.get("build_catalogue", True)),
        )


def _vocabulary(sheet: LedgerSheet, campaign: Campaign, words: Words) -> Vocabulary:
    if campaign.pk:
        sources: list[Source] = list(Source.objects.filter(campaign=campaign))
        categories = list(Category.objects.filter(campaign=campaign).select_related("parent"))
    else:  # the campaign the import will create: the default sources, no catalogue
        sources, categories = [Source(campaign=campaign, name=n) for n in DEFAULT_SOURCES], []
    return Vocabulary(campaign, sheet, sources=sources, categories=categories, source_choices=words.sources,
                      category_choices=words.categories, add_sources=words.add_sources,
                      add_categories=words.add_categories)


def _number_column_is_theirs(report: LedgerReport, sheet: LedgerSheet, count: int) -> None:
    """A 编号 column holding the office's own numbers is the 原编号: shown so in the mapping, and said."""
    letter = sheet.header.letters.get("number")
    for c in report.columns:
        if c["letter"] == letter and c["key"] == "number":
            c.update(key="source_number", label="原编号")
            report.warnings.append(
                f"「{c['header']}」列（{letter}列）的 {count} 个编号不是本系统的编号，已作为原编号保存；系统另行编号。"
            )


def _plan(sheet: LedgerSheet, campaign: Campaign, vocab: Vocabulary, *, by: Any, report: LedgerReport,
          progress: ProgressFn | None, today: dt.date, versions: dict[str, RowVersion],
          take_file: Collection[str] = (), build_catalogue: bool = True) -> LedgerPlan:
    planner = Planner(sheet, campaign, vocab, by=by, today=today, versions=versions, take_file=take_file)
    plans = []
    for i, rec in enumerate(sheet.problems, start=1):
        plans.append(planner.plan(rec))
        if progress is not None and i % 50 == 0:
            progress(i, len(sheet.problems))
    report.rows = [p.outcome for p in plans]
    report.warnings.extend(sheet.warnings)
    report.vocab = vocab.to_json()
    report.new_categories = [c.to_json() for c in vocab.new_categories]
    report.new_sources = list(vocab.new_sources)
    report.pending = vocab.pending
    if vocab.new_categories and not vocab.had_catalogue:
        message = (f"专项行动“{campaign.name}”还没有问题表现清单：将按文件中的「问题类别」新建 "
                   f"{len(vocab.new_categories)} "
                   "个类别（见“新建的问题类别”），问题归入对应类别。")
        if build_catalogue:
            report.warnings.append(message)
        else:
            report.pending.append(f"{message}如同意，请加 --add-categories。")
    if planner.source_numbers:
        _number_column_is_theirs(report, sheet, planner.source_numbers)
    if vocab.codes_only:
        report.warnings.append(
            f"专项行动“{campaign.name}”还没有问题表现清单，{vocab.codes_only} 个问题的「问题类别」只写了类别编码，"
            "无法据此"
            "建立清单，未导入；导入类别清单后可再次导入本台账补上（已销号的问题除外）。"
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


def _read(file: Any, report: LedgerReport, words: Words) -> tuple[LedgerSheet | None, dict[str, RowVersion]]:
    try:
        sheet = read_ledger(file, mapping=words.mapping, sheet=words.sheet, saved=saved_lookup(LEDGER_KIND))
    except HeaderError as exc:
        report.take_header(exc.header, exc.sheet)
        report.file_errors.append(exc.message)
        return None, {}
    except XlsxError as exc:
        report.file_errors.append(exc.message)
        return None, {}
    report.take_header(sheet.header, sheet.sheet)
    return sheet, read_versions(file)


def preview_ledger(
    file: Any, *, campaign: str, campaign_name: str = "", by: Any = None, user_id: int | None = None,
    progress: ProgressFn | None = None, take_file: Collection[str] = (), **options: Any,
) -> LedgerReport:
    """Read a ledger and check it against the campaign (which need not exist yet). Never writes.

    `by` (or, from an Job's options, `user_id`) is who will confirm: changes to existing problems are checked
    against their role as the import will check them. `options` are `Words`' fields: the column mapping and the
    decisions on the file's sources and categories."""
    if by is None and user_id:
        by = User.objects.filter(pk=user_id).first()
    words = Words.of(options)
    steps = Progress(progress)
    report = LedgerReport()
    if _refuse_importer(by, report):
        return report
    sheet, versions = _read(file, report, words)
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
    _plan(sheet, existing, _vocabulary(sheet, existing, words), by=by, report=report,
          progress=steps.phase(0.5, 1.0), today=timezone.localdate(), versions=versions, take_file=take_file,
          build_catalogue=words.build_catalogue)
    steps.finish()
    return report


class _Abort(Exception):
    def __init__(self, report: LedgerReport) -> None:
        self.report = report


def apply_ledger(
    file: Any, *, campaign: str, campaign_name: str = "", by: Any, ip: str | None = None,
    progress: ProgressFn | None = None, dry_run: bool = False, take_file: Collection[str] = (),
    confirmed: Collection[str] = (), **options: Any,
) -> LedgerReport:
    """Import a ledger in one transaction (creating the campaign when it does not exist); if the report has any
    error, nothing is written. `dry_run` only previews. `take_file`: the conflicts ("编号|字段") where the user
    picked the file's value over the system's. `confirmed`: the ids of the preview's confirmations the user gave
    (a catalogue built from the file). `options` as `preview_ledger`'s."""
    if dry_run:
        return preview_ledger(file, campaign=campaign, campaign_name=campaign_name, by=by, progress=progress,
                              take_file=take_file, **options)
    words = Words.of(options)
    steps = Progress(progress)
    reading = LedgerReport()
    if _refuse_importer(by, reading):
        return reading
    sheet, versions = _read(file, reading, words)
    if sheet is None:
        return reading
    report = LedgerReport()
    report.take_reading(reading)
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
            vocab = _vocabulary(sheet, target, words)
            plan = _plan(sheet, target, vocab, by=by, report=report, progress=steps.phase(0.3, 0.4), today=today,
                         versions=versions, take_file=take_file, build_catalogue=words.build_catalogue)
            report.unconfirmed(confirmed)
            if not report.ok:
                raise _Abort(report)
            if vocab.new_sources or vocab.learnt or vocab.new_categories:
                # What was decided is written first; the plan is then made again against it, so that every word
                # names a saved source or category.
                vocab.write(by=by, ip=ip)
                report = LedgerReport(campaign=report.campaign)
                report.take_reading(reading)
                plan = _plan(sheet, target, _vocabulary(sheet, target, words), by=by, report=report,
                             progress=steps.phase(0.4, 0.5), today=today, versions=versions, take_file=take_file,
                             build_catalogue=words.build_catalogue)
                report.new_categories = [c.to_json() for c in vocab.new_categories]
                report.new_sources = list(vocab.new_sources)
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
