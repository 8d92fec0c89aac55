"""The ledger's events, told to the people the domain names (in-app at once, other channels in the next digest).

分派 → the lead unit's and co-units' liaisons; 退回 → the lead unit's liaisons, with the opinion; 销号 → the lead
unit's liaisons; 重新打开 → the lead unit's liaisons and leaders. Called inside the transition's transaction, so
a refused or rolled-back step tells nobody; each event is told once per recipient (its key is the transition).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.urls import reverse

from notifications import services as notify_services
from notifications.models import Level
from notifications.selectors import circles
from units.models import User

from .models import Problem, Transition, TransitionAction

A = TransitionAction


def _people(*groups: Iterable[User]) -> list[User]:
    seen: dict[int, User] = {}
    for g in groups:
        for u in g:
            seen.setdefault(u.pk, u)
    return list(seen.values())


def transition_notify(problem: Problem, t: Transition) -> int:
    lead = problem.lead_unit_id
    if lead is None:
        return 0
    url = reverse("ledger:problem_detail", args=[problem.pk])
    head = f"{problem.number}「{problem.summary[:40]}」"
    if t.action == A.ASSIGN:
        co = list(problem.co_units.values_list("pk", flat=True))
        c = circles([lead, *co])
        people = _people(c.liaisons[lead], *(c.liaisons[u] for u in co))
        deadline = f"，整改时限 {problem.deadline:%Y-%m-%d}" if problem.deadline else ""
        title = f"新分派问题：{head}{deadline}"
        level = Level.INFO
    elif t.action == A.RETURN:
        c = circles([lead])
        people = c.liaisons[lead]
        title = f"销号申请被退回：{head}。核查意见：{t.reason[:80]}"
        level = Level.REMIND
    elif t.action in (A.APPROVE, A.STAGE_APPROVE):
        c = circles([lead])
        people = c.liaisons[lead]
        title = f"{'阶段性销号' if t.action == A.STAGE_APPROVE else '已销号'}：{head}"
        level = Level.INFO
    elif t.action == A.REOPEN:
        c = circles([lead])
        people = _people(c.liaisons[lead], c.leaders[lead])
        deadline = f"，新的整改时限 {problem.deadline:%Y-%m-%d}" if problem.deadline else ""
        title = f"问题重新打开：{head}{deadline}。原因：{t.reason[:80]}"
        level = Level.REMIND
    else:
        return 0
    return notify_services.notify(ref=f"transition:{t.pk}", title=title, url=url, recipients=people, level=level,
                                  unit_id=lead, at=t.at)
