"""What a problem's deadline, lead unit and category were at a given moment (`ProblemFacts`).

Every write that can change them (录入, 修改, 分派, 重新打开, 台账导入) calls `record_facts` after saving; a row is
added only when one of the three differs from the last row. Reports ask `facts_at` for the values at a period's
end instead of reading today's rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from .models import Problem, ProblemFacts


@dataclass(frozen=True)
class Facts:
    deadline: dt.date | None
    lead_unit_id: int | None
    category_id: int | None


def record_facts(problem: Problem, *, at: dt.datetime | None = None) -> bool:
    """Record the problem's present deadline, lead unit and category from `at` (now) if they changed."""
    current = Facts(problem.deadline, problem.lead_unit_id, problem.category_id)
    last = ProblemFacts.objects.filter(problem_id=problem.pk).order_by("-since", "-id").first()
    if last is not None and Facts(last.deadline, last.lead_unit_id, last.category_id) == current:
        return False
    since = at or timezone.now()
    if last is not None and since < last.since:
        since = last.since  # a step dated before the last recorded change still comes after it
    ProblemFacts.objects.create(problem_id=problem.pk, since=since, deadline=current.deadline,
                                lead_unit_id=current.lead_unit_id, category_id=current.category_id)
    return True


def facts_at(moment: dt.datetime, problem_ids: Iterable[int] | None = None, *,
             campaign_id: int | None = None) -> dict[int, Facts]:
    """{problem id: its facts at `moment`} for the problems that existed then (one query), of these problems or of
    one campaign's (a campaign's whole ledger is better named by the campaign than by a list of ids)."""
    latest = ProblemFacts.objects.filter(problem=OuterRef("problem"), since__lte=moment).order_by("-since", "-id")
    qs = ProblemFacts.objects.filter(since__lte=moment, pk=Subquery(latest.values("pk")[:1]))
    if campaign_id is not None:
        qs = qs.filter(problem__campaign_id=campaign_id)
    if problem_ids is not None:
        qs = qs.filter(problem_id__in=list(problem_ids))
    return {pid: Facts(d, u, c) for pid, d, u, c in qs.values_list("problem_id", "deadline", "lead_unit_id",
                                                                  "category_id")}
