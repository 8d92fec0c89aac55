"""回头看: draw a sample of closed problems and record 巩固 or 反弹.

A relapse reopens the problem and links the finding."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.db import transaction
from django.utils import timezone

from campaigns.models import Campaign, Category
from campaigns.selectors import category_descendant_ids
from core.audit import Action, audit_record
from units.models import Unit

from . import workflow
from .models import LookbackCheck, LookbackResult, Problem, ProblemStatus


def lookback_candidates(
    *, campaign: Campaign, unit: Unit | None = None, category: Category | None = None
) -> Any:
    """Closed problems of the campaign not already waiting in an unchecked sample."""
    qs = Problem.objects.filter(campaign=campaign, status=ProblemStatus.CLOSED).exclude(
        lookbacks__result=LookbackResult.PENDING
    )
    if unit is not None:
        qs = qs.filter(lead_unit__path__startswith=unit.path)
    if category is not None:
        qs = qs.filter(category_id__in={category.pk, *category_descendant_ids(category)})
    return qs


@transaction.atomic
def lookback_draw(
    *, campaign: Campaign, by: Any, batch: str, unit: Unit | None = None, category: Category | None = None,
    count: int | None = None, seed: int | None = None, ip: str | None = None,
) -> list[LookbackCheck]:
    """Draw a sample: every closed problem of a unit or category, or `count` of them at random."""
    if not workflow.is_office(by):
        raise workflow.WorkflowError("只有作风办可以组织回头看。")
    batch = (batch or "").strip()
    if not batch:
        raise workflow.WorkflowError("请填写抽查批次名称。")
    ids = list(lookback_candidates(campaign=campaign, unit=unit, category=category).values_list("pk", flat=True))
    if count is not None:
        if count <= 0:
            raise workflow.WorkflowError("抽取数量须大于 0。")
        ids = random.Random(seed).sample(ids, min(count, len(ids)))  # noqa: S311  (sampling, not security)
    if not ids:
        raise workflow.WorkflowError("没有符合条件的已销号问题可供抽查。")
    parts = [p for p in (f"单位：{unit}" if unit else "", f"类别：{category}" if category else "",
                         f"随机{count}个" if count else "") if p]
    method = "；".join(parts) or "全部已销号问题"
    checks = LookbackCheck.objects.bulk_create(
        [LookbackCheck(problem_id=pk, batch=batch, method=method, drawn_by=by) for pk in sorted(ids)]
    )
    audit_record(action=Action.CREATE, actor=by, obj=campaign, ip=ip,
                 note=f"回头看抽取“{batch}”{len(checks)}个问题（{method}）")
    return checks


@transaction.atomic
def lookback_record(
    *, check: LookbackCheck, by: Any, result: str, finding: str = "", deadline: dt.date | None = None,
    ip: str | None = None,
) -> LookbackCheck:
    """巩固 closes the check; 反弹 also reopens the problem, and the reopening links back to this check."""
    check = LookbackCheck.objects.select_for_update(of=("self",)).select_related("problem").get(pk=check.pk)
    if not workflow.is_office(by):
        raise workflow.WorkflowError("只有作风办可以记录回头看结果。")
    if check.result != LookbackResult.PENDING:
        raise workflow.WorkflowError("该问题的回头看结果已记录。")
    if result not in (LookbackResult.CONSOLIDATED, LookbackResult.RELAPSED):
        raise workflow.WorkflowError("请选择检查结果：巩固或反弹。")
    finding = (finding or "").strip()
    if result == LookbackResult.RELAPSED:
        if not finding:
            raise workflow.WorkflowError("认定反弹时请填写检查发现的问题。")
        if check.problem.status == ProblemStatus.CLOSED:
            check.reopen_transition = workflow.reopen(
                problem=check.problem, by=by, reason=f"回头看（{check.batch}）发现反弹：{finding}", deadline=deadline,
                ip=ip,
            )
        # else: the office reopened it by hand since the draw; the relapse is recorded without a second reopening
    check.result, check.finding, check.checked_by, check.checked_at = result, finding, by, timezone.now()
    check.save()
    audit_record(action=Action.UPDATE, actor=by, obj=check.problem, ip=ip,
                 changes={"回头看": [LookbackResult.PENDING.label, LookbackResult(result).label]}, note=finding)
    return check
