"""The daily sweep: find what is due, decide each item's level, tell each person once, in one digest.

Levels (from each campaign's policy, in working days when the campaign counts working days):
    提醒      inside the yellow window                         → the responsible unit's liaisons
    催办      from `urge_after_days` overdue (default 1)       → also the unit's leaders and its 分管领导
    督办      from `supervise_after_days` (default 7)          → also the office
    挂牌督办  from `listed_after_days` (default 30)            → as 督办, and the problem is marked 挂牌 (季通报)
    催报      a measure 推进中 with no progress for `report_stale_days` → the measure's unit's liaisons
A measure with its own deadline escalates on it, for its own unit; a measure without one follows the problem's.
A problem's level is its worst deadline's. An unanswered 督办单 escalates like a deadline on its reply date.
Only problems 整改中 are chased: a 待核查 problem's unit has done its part, and a 待分派 one has no unit yet.

The sweep runs on working days only (the campaign calendar: statutory holidays, 调休 and the office's overrides):
on a holiday it records that it did nothing, and what fell due then goes out on the next working day, when the
items are past their thresholds anyway.

It reads a fixed number of queries whatever the number of items (campaigns, the calendar, due problems, due
measures, stale measures, open 督办单, the people around the units, their preferences, the robots), and writes
every effect under its unique key (`notifications.services.effects_record`): a second run the same day, a second
beat or a redelivered task finds every key taken and adds nothing. Then the effects become one digest per person
(and robot) per channel, and the digests are sent.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, CampaignStatus, DeadlineMode
from campaigns.workdays import add_days, is_workday, overrides_map, working_days_between
from ledger import workflow
from ledger.models import Measure, MeasureStatus, Problem, ProblemStatus, ProgressEntry
from notifications import services as notify
from notifications.models import Channel, Delivery, DeliveryStatus, Level, Robot
from notifications.selectors import Circles, circles
from units.models import Unit, User

from .models import Escalation, OrderStatus, SupervisionOrder, Sweep, SweepStatus

logger = logging.getLogger(__name__)
WEEKDAYS = "一二三四五六日"
GROUPS = {Level.REPORT: "report", Level.REMIND: "due_soon"}  # the rest of the levels are "overdue"


@dataclass
class Policy:
    """A campaign's thresholds, with the day's yellow limit and the overdue days per deadline worked out once."""

    campaign_id: int
    working: bool
    today: dt.date
    yellow_limit: dt.date
    urge: int
    supervise: int
    listed: int
    report_days: int
    overrides: dict[dt.date, bool]
    _overdue: dict[dt.date, int] = field(default_factory=dict)

    @property
    def unit_word(self) -> str:
        return "个工作日" if self.working else "天"

    def overdue_days(self, deadline: dt.date) -> int:
        if deadline not in self._overdue:
            self._overdue[deadline] = (
                working_days_between(deadline, self.today, self.overrides) if self.working
                else (self.today - deadline).days
            )
        return self._overdue[deadline]

    def level(self, deadline: dt.date | None) -> tuple[int | None, int]:
        """(level, days): days overdue (positive) or left (zero or negative) for a deadline; None when not due."""
        if deadline is None:
            return None, 0
        if deadline < self.today:
            n = self.overdue_days(deadline)
            if n >= self.listed:
                return Level.LISTED, n
            if n >= self.supervise:
                return Level.SUPERVISE, n
            if n >= self.urge:
                return Level.URGE, n
            # Past the deadline by calendar, not yet by working days (a deadline on a holiday): still a reminder.
            return Level.REMIND, 0
        if deadline <= self.yellow_limit:
            return Level.REMIND, -(deadline - self.today).days
        return None, 0


def policy_for(campaign: Campaign, today: dt.date, overrides: dict[dt.date, bool]) -> Policy:
    working = campaign.deadline_mode == DeadlineMode.WORKING
    return Policy(
        campaign_id=campaign.pk, working=working, today=today,
        yellow_limit=add_days(today, campaign.yellow_window_days, working=working, overrides=overrides),
        urge=max(campaign.urge_after_days, 1), supervise=campaign.supervise_after_days,
        listed=campaign.listed_after_days, report_days=campaign.report_stale_days, overrides=overrides,
    )


@dataclass
class Item:
    """One thing to tell one unit about: a problem (its worst deadline for that unit), a stale measure, a 督办单."""

    ref: str
    unit_id: int
    level: int
    days: int
    deadline: dt.date | None
    problem_id: int
    number: str
    summary: str
    campaign_id: int
    kind: str  # "deadline", "report", "order"
    order_number: str = ""

    @property
    def group(self) -> str:
        if self.kind == "order":
            return "order"
        return GROUPS.get(Level(self.level), "overdue")


@dataclass
class Plan:
    day: dt.date
    working_day: bool
    items: list[Item] = field(default_factory=list)
    problem_levels: dict[int, tuple[int, int]] = field(default_factory=dict)  # problem → (level, overdue days)
    specs: list[notify.EffectSpec] = field(default_factory=list)
    # For the dry run's listing: recipient label → (channels, lines)
    people: dict[int, User] = field(default_factory=dict)
    robots: dict[int, Robot] = field(default_factory=dict)
    units: dict[int, Unit] = field(default_factory=dict)

    def level_counts(self) -> dict[str, int]:
        """{label: items}, the most pressing level first, 督办单 last."""
        counts: dict[tuple[int, str], int] = defaultdict(int)
        for it in self.items:
            key = (-1, "督办单待回复") if it.kind == "order" else (it.level, Level(it.level).label)
            counts[key] += 1
        return {label: n for (_, label), n in sorted(counts.items(), key=lambda kv: -kv[0][0])}


def _url_for_problem() -> Callable[[int], str]:
    template = reverse("ledger:problem_detail", args=[987654321])
    return lambda pk: template.replace("987654321", str(pk))


def _title(item: Item, units: dict[int, Unit], policy: Policy) -> str:
    unit = units.get(item.unit_id)
    head = f"【{unit.display_name}】" if unit else ""
    text = f"{head}{item.number}「{item.summary[:30]}」"
    if item.kind == "report":
        return f"{text}有整改措施超过 {policy.report_days} 天未填报进展"
    if item.kind == "order":
        when = f"回复期限 {item.deadline:%Y-%m-%d}" if item.deadline else ""
        state = f"已逾期{item.days}{policy.unit_word}" if item.days > 0 else (
            "今日到期" if item.days == 0 else f"剩余{-item.days}天")
        return f"{head}{item.order_number} 待回复（{item.number}），{when}，{state}"
    if item.days > 0:
        return f"{text}逾期{item.days}{policy.unit_word}（{Level(item.level).label}）"
    if item.deadline and item.deadline < policy.today:
        return f"{text}已过整改时限 {item.deadline:%Y-%m-%d}"
    left = -item.days
    return f"{text}{'今日到期' if left == 0 else f'剩余{left}天到期'}（整改时限 {item.deadline:%Y-%m-%d}）"


def _worse(a: Item | None, b: Item) -> bool:
    return a is None or (b.level, b.days) > (a.level, a.days)


def collect(day: dt.date) -> Plan:
    """What is due on `day`, with everyone to tell: reads only, a fixed number of queries."""
    overrides = overrides_map()
    plan = Plan(day=day, working_day=is_workday(day, overrides))
    campaigns = list(Campaign.objects.exclude(status=CampaignStatus.ENDED).select_related("robot"))
    if not plan.working_day or not campaigns:
        return plan
    policies = {c.pk: policy_for(c, day, overrides) for c in campaigns}
    latest = max(p.yellow_limit for p in policies.values())
    ids = list(policies)

    # Deadlines: the problems' own (for the lead unit) and the open measures' (for their units).
    best: dict[tuple[int, int], Item] = {}

    def consider(item: Item) -> None:
        key = (item.problem_id, item.unit_id)
        if _worse(best.get(key), item):
            best[key] = item

    problems = Problem.objects.filter(
        status=ProblemStatus.IN_PROGRESS, campaign_id__in=ids, deadline__lte=latest, lead_unit__isnull=False
    ).values_list("pk", "lead_unit_id", "deadline", "number", "summary", "campaign_id")
    for pk, unit_id, deadline, number, summary, cid in problems:
        level, days = policies[cid].level(deadline)
        if level is not None:
            consider(Item(f"problem:{pk}", unit_id, level, days, deadline, pk, number, summary, cid, "deadline"))
    measures = Measure.objects.filter(
        Q(deadline__lte=latest) | Q(deadline__isnull=True, problem__deadline__lte=latest),
        problem__status=ProblemStatus.IN_PROGRESS, problem__campaign_id__in=ids,
        status__in=[MeasureStatus.NOT_STARTED, MeasureStatus.IN_PROGRESS],
    ).values_list("problem_id", "unit_id", "deadline", "problem__deadline", "problem__number", "problem__summary",
                  "problem__campaign_id")
    for pid, unit_id, deadline, problem_deadline, number, summary, cid in measures:
        level, days = policies[cid].level(deadline or problem_deadline)
        if level is not None:
            consider(Item(f"problem:{pid}", unit_id, level, days, deadline or problem_deadline, pid, number,
                          summary, cid, "deadline"))
    plan.items.extend(best.values())
    for it in best.values():
        old = plan.problem_levels.get(it.problem_id)
        if old is None or (it.level, it.days) > old:
            plan.problem_levels[it.problem_id] = (it.level, it.days)

    # 催报: measures 推进中 whose last progress (or, without any, whose start) is older than the campaign allows.
    oldest_cut = day - dt.timedelta(days=min(p.report_days for p in policies.values()))
    last_progress = ProgressEntry.objects.filter(measure=OuterRef("pk")).order_by("-on").values("on")[:1]
    stale = Measure.objects.filter(
        status=MeasureStatus.IN_PROGRESS, problem__status=ProblemStatus.IN_PROGRESS, problem__campaign_id__in=ids,
        created_at__date__lte=oldest_cut,
    ).annotate(last=Subquery(last_progress)).filter(Q(last__isnull=True) | Q(last__lte=oldest_cut)).values_list(
        "pk", "problem_id", "unit_id", "last", "created_at", "problem__number", "problem__summary",
        "problem__campaign_id")
    for mid, pid, unit_id, last, created, number, summary, cid in stale:
        since = last or timezone.localdate(created)
        if (day - since).days >= policies[cid].report_days:
            plan.items.append(Item(f"measure:{mid}", unit_id, Level.REPORT, (day - since).days, None, pid, number,
                                   summary, cid, "report"))

    # 督办单 not answered: escalate on the reply date like a deadline (at least at the order's own level once due).
    orders = SupervisionOrder.objects.filter(
        status=OrderStatus.OPEN, reply_deadline__lte=latest, problem__campaign_id__in=ids,
        problem__lead_unit__isnull=False,
    ).values_list("pk", "year", "seq", "level", "reply_deadline", "problem_id", "problem__lead_unit_id",
                  "problem__number", "problem__summary", "problem__campaign_id")
    for oid, year, seq, order_level, reply_deadline, pid, unit_id, number, summary, cid in orders:
        level, days = policies[cid].level(reply_deadline)
        if level is None:
            continue
        if days > 0:
            level = max(level, order_level)
        number_text = SupervisionOrder(year=year, seq=seq).number
        plan.items.append(Item(f"order:{oid}", unit_id, level, days, reply_deadline, pid, number, summary, cid,
                               "order", order_number=number_text))
    _recipients(plan, {c.pk: c for c in campaigns}, policies)
    return plan


def _recipients(plan: Plan, campaigns: dict[int, Campaign], policies: dict[int, Policy]) -> None:
    """Turn items into effects: who hears of each (by level), on which channels, and which robots post them."""
    unit_ids = {it.unit_id for it in plan.items}
    if not unit_ids:
        return
    circle: Circles = circles(unit_ids)
    plan.units = {u.pk: u for u in Unit.objects.filter(pk__in=unit_ids)}
    unit_robots: dict[int, Robot] = {}
    for r in Robot.objects.filter(unit_id__in=unit_ids, is_enabled=True, disabled_reason="").order_by("id"):
        unit_robots.setdefault(r.unit_id, r)  # type: ignore[arg-type]
    everyone: dict[int, User] = {}
    for groups in (circle.liaisons, circle.leaders, circle.overseers):
        for users in groups.values():
            for u in users:
                everyone.setdefault(u.pk, u)
    for u in circle.office:
        everyone.setdefault(u.pk, u)
    chosen = notify.personal_channels(everyone.values())
    plan.people = everyone
    url_of = _url_for_problem()
    day = plan.day
    for it in plan.items:
        policy = policies[it.campaign_id]
        title = _title(it, plan.units, policy)
        url = url_of(it.problem_id)
        people: dict[int, User] = {u.pk: u for u in circle.liaisons.get(it.unit_id, [])}
        if it.level >= Level.URGE:
            for u in [*circle.leaders.get(it.unit_id, []), *circle.overseers.get(it.unit_id, [])]:
                people.setdefault(u.pk, u)
        if it.level >= Level.SUPERVISE:
            for u in circle.office:
                people.setdefault(u.pk, u)
        base = {"ref": it.ref, "level": it.level, "day": day, "group": it.group, "title": title, "url": url,
                "unit_id": it.unit_id, "batch": f"sweep:{day.isoformat()}"}
        for uid in people:
            for ch in notify.channels_for(chosen.get(uid, [Channel.INAPP]), it.level):
                plan.specs.append(notify.EffectSpec(channel=ch, recipient_id=uid, **base))  # type: ignore[arg-type]
        robots = [unit_robots.get(it.unit_id)]
        campaign_robot = campaigns[it.campaign_id].robot
        if it.level >= Level.SUPERVISE and it.kind != "report":
            robots.append(campaign_robot)
        for robot in robots:
            if robot is not None and notify.robot_usable(robot):
                plan.robots[robot.pk] = robot
                plan.specs.append(notify.EffectSpec(channel=robot.kind, robot_id=robot.pk, **base))  # type: ignore[arg-type]


# ---- running it ------------------------------------------------------------------------------------------------

@dataclass
class SweepResult:
    day: dt.date
    working_day: bool
    levels: dict[str, int]
    effects: int
    new_effects: int
    deliveries: list[int]
    listed: int
    dry_run: bool
    plan: Plan | None = None

    @property
    def ok(self) -> bool:
        return True

    def to_json(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "working_day": self.working_day, "levels": self.levels,
                "effects": self.effects, "new_effects": self.new_effects, "deliveries": len(self.deliveries),
                "listed": self.listed, "dry_run": self.dry_run}


def sweep_plan(*, day: dt.date) -> SweepResult:
    """The dry run: everything the sweep would send on `day`, writing nothing."""
    plan = collect(day)
    return SweepResult(day, plan.working_day, plan.level_counts(), len(plan.specs), 0, [], 0, True, plan)


@transaction.atomic
def sweep_record(*, day: dt.date) -> SweepResult:
    """Record the day's effects, escalations and 挂牌 marks, and gather the effects into digests. Safe to run any
    number of times: the Sweep row is locked for the run (a second sweep of the day waits, then finds every key
    taken); nothing is sent here."""
    now = timezone.now()
    sweep, _ = Sweep.objects.get_or_create(day=day)
    sweep = Sweep.objects.select_for_update().get(pk=sweep.pk)
    plan = collect(day)
    sweep.runs += 1
    sweep.started_at = sweep.started_at or now
    if not plan.working_day:
        sweep.status, sweep.finished_at = SweepStatus.SKIPPED, now
        sweep.counts = {"reason": "非工作日"}
        sweep.save()
        return SweepResult(day, False, {}, 0, 0, [], 0, False, plan)
    new = notify.effects_record(plan.specs)
    escalations = [
        Escalation(problem_id=pid, level=lv, reached_on=day, overdue_days=days)
        for pid, (level, days) in plan.problem_levels.items() for lv in (Level.URGE, Level.SUPERVISE, Level.LISTED)
        if lv <= level
    ]
    Escalation.objects.bulk_create(escalations, ignore_conflicts=True, batch_size=2000)
    to_list = [pid for pid, (level, _) in plan.problem_levels.items() if level >= Level.LISTED]
    listed = workflow.list_overdue(
        problem_ids=to_list, reason=f"逾期超过挂牌督办天数，{day:%Y-%m-%d}每日巡查自动挂牌督办", at=now,
    ) if to_list else 0
    label = f"{day.month}月{day.day}日督办提醒"
    composed = notify.digest_compose(batches=[f"sweep:{day.isoformat()}", notify.DIGEST], label=label)
    sweep.status, sweep.finished_at = SweepStatus.DONE, timezone.now()
    sweep.counts = {"levels": plan.level_counts(), "effects": len(plan.specs), "new_effects": new,
                    "deliveries": Delivery.objects.filter(batch=f"sweep:{day.isoformat()}").count(),
                    "listed": (sweep.counts or {}).get("listed", 0) + listed}
    sweep.save()
    return SweepResult(day, True, plan.level_counts(), len(plan.specs), new, composed.deliveries, listed, False, plan)


def sweep_and_send(*, day: dt.date | str | None = None) -> dict[str, Any]:
    """The beat's entry: record the day's sweep, then send its digests (and any other message due)."""
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    day = day or timezone.localdate()
    result = sweep_record(day=day)
    pending = list(Delivery.objects.filter(batch=f"sweep:{day.isoformat()}", status=DeliveryStatus.PENDING)
                   .values_list("pk", flat=True))
    stats = notify.deliveries_send(ids=pending)
    return {**result.to_json(), "sent": stats.sent, "failed": stats.failed, "deferred": stats.deferred}


def run_sweep_job(job: Any, *, progress: Any = None, day: str | None = None, **_: Any) -> SweepResult:
    """The office's 立即巡查 through the shared job engine."""
    day_value = dt.date.fromisoformat(day) if day else timezone.localdate()
    result = sweep_record(day=day_value)
    notify.queue_send(result.deliveries)
    return result


def weekday_text(day: dt.date) -> str:
    return f"星期{WEEKDAYS[day.weekday()]}"
