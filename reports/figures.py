"""The report figures, as of a period's end, computed from the recorded history: the one place they are defined.

A period's end E is the last moment of its last day (Asia/Shanghai). A problem's state at E is the to-state of its
last transition at or before E; its deadline, lead unit and category are those `ledger.history` recorded as
standing at E. A problem with no transition by E did not exist yet. The definitions follow the office's rules:

    问题总数   counted problems: state at E neither 待分派 nor 已作废
    本期新增   counted problems whose first assignment (分派, or a 台账导入 into an assigned state) is in the period
    已销号     state 已销号 (阶段性销号 included)          待核查 / 整改中: by state
    长期坚持   counted problems of type 长期坚持 (whatever their state)
    逾期       state 整改中 and the deadline at E before E's date (no deadline: never; 待核查: not overdue)
    按期销号   已销号, and the approved application was made on or before the deadline it had then
    应完成     已销号 at E, or the deadline at E on or before E's date
    整改率 = 已销号 ÷ 问题总数; 按期整改率 = 按期销号 ÷ 应完成; 逾期率 = 逾期 ÷ 问题总数 (an empty population: None)

Each row of a unit table is a reporting unit: a child of the campaign's jurisdiction roots, rolling up its
subtree; a problem counts for its lead unit at E only.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Max, Min, OuterRef, Q, Subquery
from django.utils import timezone

from campaigns.models import Campaign, Category, DeadlineMode, Source
from campaigns.workdays import add_days, overrides_map, working_days_between
from ledger.history import facts_at
from ledger.models import (
    Problem,
    ProblemFacts,
    ProblemStatus,
    RectificationType,
    ReviewDecision,
    ReviewRound,
    Transition,
    TransitionAction,
)
from units.models import Unit

S = ProblemStatus
ASSIGNED_STATES = (S.IN_PROGRESS, S.PENDING_REVIEW, S.CLOSED)


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    @property
    def end_moment(self) -> dt.datetime:
        """E: the last moment of the last day, Asia/Shanghai."""
        return timezone.make_aware(dt.datetime.combine(self.end, dt.time.max), timezone.get_current_timezone())

    @property
    def start_moment(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.start, dt.time.min), timezone.get_current_timezone())

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        start = dt.date(year, month, 1)
        nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
        return cls(start, nxt - dt.timedelta(days=1))

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        first = cls.month(year, 3 * quarter - 2)
        return cls(first.start, cls.month(year, 3 * quarter).end)

    @classmethod
    def week(cls, year: int, week: int) -> Period:
        """ISO week `week` of `year` (Monday to Sunday)."""
        start = dt.date.fromisocalendar(year, week, 1)
        return cls(start, start + dt.timedelta(days=6))

    def previous_month(self) -> Period:
        before = self.start - dt.timedelta(days=1)
        return Period.month(before.year, before.month)

    def until(self, day: dt.date | None) -> Period:
        """The same period counted only up to `day` (a report built before the period's end)."""
        return self if day is None or day >= self.end else Period(self.start, max(day, self.start))

    def previous(self, kind: str) -> Period:
        """The period before, of the same kind ("monthly", "quarterly", "weekly"); a month otherwise."""
        before = self.start - dt.timedelta(days=1)
        if kind == "quarterly":
            return Period.quarter(before.year, (before.month - 1) // 3 + 1)
        if kind == "weekly":
            return Period(self.start - dt.timedelta(days=7), self.start - dt.timedelta(days=1))
        return Period.month(before.year, before.month)


@dataclass(frozen=True)
class ProblemAtE:
    """One counted problem as it stood at E."""

    problem_id: int
    state: str
    deadline: dt.date | None
    lead_unit_id: int | None
    category_id: int | None
    long_term: bool
    new_in_period: bool
    on_time: bool
    overdue_days: int  # 0 unless overdue

    @property
    def overdue(self) -> bool:
        return self.overdue_days > 0


def rate(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else numerator / denominator


def rate_text(value: float | None) -> str:
    """95.0%, or "—" for an empty population (never 0% or 100%)."""
    return "—" if value is None else f"{value * 100:.1f}%"


@dataclass
class Figures:
    total: int = 0
    new: int = 0
    closed: int = 0
    pending_review: int = 0
    in_progress: int = 0
    long_term: int = 0
    overdue: int = 0
    on_time: int = 0
    due: int = 0

    def add(self, p: ProblemAtE, period_end: dt.date) -> None:
        self.total += 1
        self.new += p.new_in_period
        self.closed += p.state == S.CLOSED
        self.pending_review += p.state == S.PENDING_REVIEW
        self.in_progress += p.state == S.IN_PROGRESS
        self.long_term += p.long_term
        self.overdue += p.overdue
        self.on_time += p.on_time
        self.due += p.state == S.CLOSED or (p.deadline is not None and p.deadline <= period_end)

    @property
    def closure_rate(self) -> float | None:
        return rate(self.closed, self.total)

    @property
    def on_time_rate(self) -> float | None:
        return rate(self.on_time, self.due)

    @property
    def overdue_rate(self) -> float | None:
        return rate(self.overdue, self.total)


@dataclass
class Snapshot:
    """Every counted problem of a campaign at E, and the figures over them."""

    campaign: Campaign
    period: Period
    problems: list[ProblemAtE] = field(default_factory=list)

    def figures(self, problems: Iterable[ProblemAtE] | None = None) -> Figures:
        out = Figures()
        for p in self.problems if problems is None else problems:
            out.add(p, self.period.end)
        return out

    def only(self, ids: Iterable[int]) -> Snapshot:
        """The same moment, restricted to these problems (a viewer's scope)."""
        keep = set(ids)
        return Snapshot(self.campaign, self.period, [p for p in self.problems if p.problem_id in keep])

    def by(self, key: str) -> dict[int | None, Figures]:
        groups: dict[int | None, Figures] = defaultdict(Figures)
        for p in self.problems:
            groups[getattr(p, key)].add(p, self.period.end)
        return dict(groups)


def snapshot(campaign: Campaign, period: Period) -> Snapshot:
    """The campaign's counted problems as they stood at the period's end (a fixed number of queries)."""
    end = period.end_moment
    last = Transition.objects.filter(problem=OuterRef("pk"), at__lte=end).order_by("-at", "-id")
    rows = list(
        Problem.objects.filter(campaign=campaign)
        .annotate(state=Subquery(last.values("to_status")[:1]))
        .exclude(state__isnull=True)
        .exclude(state__in=[S.DRAFT, S.VOIDED])
        .values_list("pk", "state", "rectification_type")
    )
    counted = {pk for pk, _, _ in rows}
    # The campaign names the problems in the queries below (not a list of ids, which a large ledger would make a
    # statement of hundreds of thousands of parameters); rows of problems not counted are dropped here.
    facts = facts_at(end, campaign_id=campaign.pk)
    first_assigned = dict(
        Transition.objects.filter(problem__campaign=campaign, to_status__in=ASSIGNED_STATES,
                                  action__in=[TransitionAction.ASSIGN, TransitionAction.IMPORT], at__lte=end)
        .values("problem_id").annotate(first=Min("at")).values_list("problem_id", "first")
    )
    # The application approved (at or before E) that closed each problem, with the deadline it had when made:
    # one query, the deadline read from the facts standing at the application's moment.
    when_applied = ProblemFacts.objects.filter(problem=OuterRef("problem_id"), since__lte=OuterRef("applied_at"))
    approved: dict[int, tuple[dt.datetime, dt.date | None]] = {}
    for pid, applied_at, deadline in (
            ReviewRound.objects.filter(
                problem__campaign=campaign, decision__in=[ReviewDecision.APPROVED, ReviewDecision.STAGE_APPROVED],
                reviewed_at__lte=end)
            .annotate(deadline_then=Subquery(when_applied.order_by("-since", "-id").values("deadline")[:1]))
            .order_by("problem_id", "reviewed_at", "id").values_list("problem_id", "applied_at", "deadline_then")):
        if pid in counted:
            approved[pid] = (applied_at, deadline)  # the last approval by E is the one that closed it
    working = campaign.deadline_mode == DeadlineMode.WORKING
    overrides = overrides_map() if working else {}
    snap = Snapshot(campaign, period)
    for pk, state, kind in rows:
        f = facts.get(pk)
        deadline = f.deadline if f else None
        overdue_days = 0
        if state == S.IN_PROGRESS and deadline is not None and deadline < period.end:
            overdue_days = (working_days_between(deadline, period.end, overrides) if working
                            else (period.end - deadline).days)
            overdue_days = max(overdue_days, 1)
        first = first_assigned.get(pk)
        applied, applied_deadline = approved.get(pk, (None, None))
        on_time = (state == S.CLOSED and applied is not None and applied_deadline is not None
                   and timezone.localdate(applied) <= applied_deadline)
        snap.problems.append(ProblemAtE(
            problem_id=pk, state=state, deadline=deadline, lead_unit_id=f.lead_unit_id if f else None,
            category_id=f.category_id if f else None, long_term=kind == RectificationType.LONG_TERM,
            new_in_period=first is not None and period.start_moment <= first <= end,
            on_time=on_time, overdue_days=overdue_days,
        ))
    return snap


def reporting_units(campaign: Campaign) -> list[Unit]:
    """The rows of a unit table: the campaign's chosen 报表统计单位, or else the units `report_unit_depth` levels
    below its jurisdiction roots (by default their children); abolished ones included, in the roster's order."""
    chosen = list(campaign.report_units.order_by("sort_order", "path"))
    if chosen:
        return chosen
    depth = max(getattr(campaign, "report_unit_depth", 1) or 1, 1)
    roots = list(campaign.jurisdiction.all())
    if not roots:
        return []
    q = Q()
    for root in roots:
        q |= Q(path__startswith=root.path, depth=root.depth + depth)
    return list(Unit.objects.filter(q).order_by("sort_order", "path"))


def reporting_unit_of(units: Iterable[Unit], unit_paths: dict[int, str]) -> dict[int, int]:
    """{unit id: the reporting unit whose subtree holds it}, by the ids on each unit's path (no pass over the
    reporting units per problem)."""
    reporting = {u.pk for u in units}
    out: dict[int, int] = {}
    for uid, path in unit_paths.items():
        for ancestor in path.strip("/").split("/"):
            if ancestor and int(ancestor) in reporting:
                out[uid] = int(ancestor)
                break
    return out


def lead_unit_paths(snap: Snapshot) -> dict[int, str]:
    return dict(Unit.objects.filter(pk__in={p.lead_unit_id for p in snap.problems if p.lead_unit_id})
                .values_list("pk", "path"))


def by_reporting_unit(snap: Snapshot, units: list[Unit]) -> dict[int, Figures]:
    """Each reporting unit's figures, rolling up its subtree (a problem counts for its lead unit at E only)."""
    owner = reporting_unit_of(units, lead_unit_paths(snap))
    out = {u.pk: Figures() for u in units}
    for p in snap.problems:
        row = owner.get(p.lead_unit_id or 0)
        if row is not None:
            out[row].add(p, snap.period.end)
    return out


@dataclass(frozen=True)
class Ranked:
    unit_id: int
    rank: int  # 1 for the best; equal keys share a rank (1, 1, 3)
    rank_from_bottom: int  # 1 for the worst, likewise


def _rank_key(f: Figures) -> tuple[float, float, int]:
    return (-(f.closure_rate or 0.0), -(f.on_time_rate or 0.0), f.overdue)


def rank_units(figures: dict[int, Figures]) -> list[Ranked]:
    """By 整改率 (high first), then 按期整改率 (high first), then 逾期 (few first); equal keys share a rank;
    units with no counted problems are not ranked."""
    keys = {uid: _rank_key(f) for uid, f in figures.items() if f.total}
    out = [
        Ranked(uid, 1 + sum(other < k for other in keys.values()), 1 + sum(other > k for other in keys.values()))
        for uid, k in keys.items()
    ]
    return sorted(out, key=lambda r: (r.rank, r.unit_id))


def honour_and_black_lists(ranking: list[Ranked], *, top: int = 5, bottom: int = 3) -> tuple[list[int], list[int]]:
    """红榜 = the units ranked within the first `top`, 黑榜 = those within the last `bottom` (a tie at a cut-off
    puts every tied unit on the list); a unit on the 红榜 is not also on the 黑榜."""
    red = [r.unit_id for r in ranking if r.rank <= top]
    black = [r.unit_id for r in ranking if r.rank_from_bottom <= bottom and r.unit_id not in red]
    return red, black


def category_tops(campaign: Campaign) -> tuple[dict[int, Category], dict[int, int]]:
    """The catalogue's top-level categories (方面), and each category's top-level ancestor: a problem counts in
    the 方面 its category at E lies under."""
    cats = list(Category.objects.filter(campaign=campaign).only("pk", "parent_id", "name", "code", "sort_order"))
    parent = {c.pk: c.parent_id for c in cats}
    roots = {c.pk: c for c in cats if c.parent_id is None}
    top: dict[int, int] = {}
    for c in cats:
        node, hops = c.pk, 0
        while parent.get(node) is not None and hops < len(cats):
            node, hops = parent[node], hops + 1  # type: ignore[assignment]
        top[c.pk] = node
    return roots, top


@dataclass(frozen=True)
class Group:
    """The figures of one 方面 of the catalogue or one source; `key` is its id (0: none)."""

    key: int
    label: str
    figures: Figures


def by_category(snap: Snapshot) -> list[Group]:
    """By the catalogue's top level (方面) the categories stood under at E, in the catalogue's order; problems
    without a category last, as 未分类."""
    roots, top = category_tops(snap.campaign)
    table: dict[int, Figures] = defaultdict(Figures)
    for p in snap.problems:
        table[top.get(p.category_id or 0, 0)].add(p, snap.period.end)
    order = sorted((c for c in roots.values() if c.pk in table), key=lambda c: (c.sort_order, c.code))
    out = [Group(c.pk, c.name, table[c.pk]) for c in order]
    return out + ([Group(0, "未分类", table[0])] if 0 in table else [])


def source_of(snap: Snapshot) -> dict[int, int]:
    """{problem id: its source's id (0: none)} for the campaign's problems (the source as it is now)."""
    return {pk: sid or 0 for pk, sid in Problem.objects.filter(campaign=snap.campaign).values_list("pk", "source_id")}


def by_source(snap: Snapshot) -> list[Group]:
    """By source, in the campaign's order of its sources; problems without one last, as 未填来源."""
    of = source_of(snap)
    table: dict[int, Figures] = defaultdict(Figures)
    for p in snap.problems:
        table[of.get(p.problem_id, 0)].add(p, snap.period.end)
    sources = Source.objects.filter(pk__in=[k for k in table if k]).order_by("sort_order", "name")
    out = [Group(src.pk, src.name, table[src.pk]) for src in sources]
    return out + ([Group(0, "未填来源", table[0])] if 0 in table else [])


def campaign_began(campaign: Campaign, default: dt.date) -> dt.date:
    """The day of the campaign's first recorded step (`default` before it has any)."""
    first = Transition.objects.filter(problem__campaign=campaign).aggregate(first=Min("at"))["first"]
    return timezone.localdate(first) if first else default


def closed_in_period(snap: Snapshot) -> dict[int, dt.datetime]:
    """The problems 已销号 at E whose closing step (their last one to 已销号 by E) falls within the period."""
    closed = {p.problem_id for p in snap.problems if p.state == S.CLOSED}
    last = (Transition.objects.filter(problem__campaign=snap.campaign, to_status=S.CLOSED,
                                      at__lte=snap.period.end_moment)
            .values("problem_id").annotate(last=Max("at")).values_list("problem_id", "last"))
    return {pid: at for pid, at in last if pid in closed and at >= snap.period.start_moment}


# ---- 亮灯, 连续上黑榜 and the monthly trend ------------------------------------------------------------------------

RED, YELLOW, GREEN = "红", "黄", "绿"


def due_soon(snap: Snapshot) -> list[ProblemAtE]:
    """整改中 at E and due within the campaign's yellow window after E (not yet overdue)."""
    campaign = snap.campaign
    working = campaign.deadline_mode == DeadlineMode.WORKING
    limit = add_days(snap.period.end, campaign.yellow_window_days, working=working,
                     overrides=overrides_map() if working else None)
    return [p for p in snap.problems
            if p.state == S.IN_PROGRESS and p.deadline is not None and snap.period.end <= p.deadline <= limit]


def problem_light(p: ProblemAtE, soon: set[int]) -> str:
    return RED if p.overdue else YELLOW if p.problem_id in soon else GREEN


def unit_lights(snap: Snapshot, units: list[Unit], table: dict[int, Figures]) -> dict[int, str]:
    """红: an overdue problem at E; 黄: none overdue, but one 整改中 due within the yellow window after E; else 绿."""
    soon = by_reporting_unit(Snapshot(snap.campaign, snap.period, due_soon(snap)), units)
    return {u.pk: RED if table[u.pk].overdue else YELLOW if soon[u.pk].total else GREEN for u in units}


def black_list(campaign: Campaign, snap: Snapshot, units: list[Unit]) -> tuple[list[int], list[int]]:
    """(红榜, 黑榜) of a snapshot by the campaign's list sizes."""
    ranking = rank_units(by_reporting_unit(snap, units))
    return honour_and_black_lists(ranking, top=campaign.honour_list_size, bottom=campaign.black_list_size)


def black_list_streaks(campaign: Campaign, period: Period, kind: str, units: list[Unit], *,
                       current: list[int] | None = None, limit: int = 12) -> dict[int, int]:
    """How many periods in a row (this one included) each unit has been on the 黑榜; 0 when not on it now.
    Looks back at most `limit` periods, and no further than the campaign's first problem."""
    on_list = set(current if current is not None else black_list(campaign, snapshot(campaign, period), units)[1])
    streak = {uid: 1 for uid in on_list}
    alive = set(on_list)
    earliest = campaign_began(campaign, period.start)
    before = period
    for _ in range(limit - 1):
        if not alive:
            break
        before = before.previous(kind)
        if before.end < earliest:
            break
        listed = set(black_list(campaign, snapshot(campaign, before), units)[1])
        for uid in list(alive):
            if uid in listed:
                streak[uid] += 1
            else:
                alive.discard(uid)
    return {u.pk: streak.get(u.pk, 0) for u in units}


@dataclass(frozen=True)
class TrendPoint:
    label: str  # "2026-05"
    period: Period
    new: int  # first assigned within the month (counted at the month's end)
    closed: int  # 已销号 at the month's end whose closing step fell within the month
    total: int  # 问题总数 at the month's end
    closed_total: int  # 已销号 at the month's end

    @property
    def closure_rate(self) -> float | None:
        return rate(self.closed_total, self.total)


def monthly_trend(campaign: Campaign, until: dt.date, *, months: int = 12,
                  problem_ids: Iterable[int] | None = None) -> list[TrendPoint]:
    """New, closed and the cumulative 整改率 at each month's end (the last month counted up to `until`), from
    one pass over the campaign's transitions: the same definitions as `snapshot`, without reading the facts."""
    last = Period.month(until.year, until.month).until(until)
    periods = [last]
    earliest = campaign_began(campaign, until)
    while len(periods) < months and periods[-1].start > earliest:
        periods.append(periods[-1].previous_month())
    periods.reverse()
    qs = Transition.objects.filter(problem__campaign=campaign, at__lte=last.end_moment)
    only = set(problem_ids) if problem_ids is not None else None
    rows = qs.order_by("problem_id", "at", "id").values_list("problem_id", "at", "to_status", "action").iterator(
        chunk_size=20000)
    ends = [p.end_moment for p in periods]
    starts = [p.start_moment for p in periods]
    new = [0] * len(periods)
    closed = [0] * len(periods)
    total = [0] * len(periods)
    closed_total = [0] * len(periods)
    counted = {S.IN_PROGRESS, S.PENDING_REVIEW, S.CLOSED}

    def settle(history: list[tuple[dt.datetime, str, str]]) -> None:
        first_assign = next((at for at, to, action in history
                             if to in ASSIGNED_STATES and action in (TransitionAction.ASSIGN, TransitionAction.IMPORT)),
                            None)
        j = 0
        state = None
        closed_at = None
        for i, end in enumerate(ends):
            while j < len(history) and history[j][0] <= end:
                at, state, _ = history[j]
                if state == S.CLOSED:
                    closed_at = at
                j += 1
            if state not in counted:
                continue
            total[i] += 1
            if first_assign is not None and starts[i] <= first_assign <= end:
                new[i] += 1
            if state == S.CLOSED:
                closed_total[i] += 1
                if closed_at is not None and closed_at >= starts[i]:
                    closed[i] += 1

    current: int | None = None
    history: list[tuple[dt.datetime, str, str]] = []
    for pid, at, to, action in rows:
        if only is not None and pid not in only:
            continue
        if pid != current:
            if history:
                settle(history)
            current, history = pid, []
        history.append((at, to, action))
    if history:
        settle(history)
    return [TrendPoint(f"{p.start.year:04d}-{p.start.month:02d}", p, new[i], closed[i], total[i], closed_total[i])
            for i, p in enumerate(periods)]


# ---- escalation as it stood at E ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Supervised:
    level: str  # 催办 / 督办 / 挂牌督办, or ""
    orders: tuple[str, ...]  # 督办〔2026〕3号, issued on or before E (not withdrawn)


def supervision_at(snap: Snapshot, ids: Iterable[int]) -> dict[int, Supervised]:
    """Each problem's highest escalation level reached by E (the sweep's record, a 督办单's level or the 挂牌督办
    mark made by then) and the 督办单 issued to it by E (two queries and the listing marks)."""
    from notifications.models import Level
    from supervision.models import Escalation, OrderLevel, OrderStatus, SupervisionOrder

    ids = list(ids)
    level: dict[int, int] = {}
    for pid, lv in Escalation.objects.filter(problem_id__in=ids, reached_on__lte=snap.period.end).values_list(
            "problem_id", "level"):
        level[pid] = max(level.get(pid, 0), lv)
    orders: dict[int, list[str]] = defaultdict(list)
    for order in (SupervisionOrder.objects.filter(problem_id__in=ids, issued_at__lte=snap.period.end_moment)
                  .exclude(status=OrderStatus.WITHDRAWN).order_by("year", "seq")):
        orders[order.problem_id].append(order.number)
        level[order.problem_id] = max(level.get(order.problem_id, 0), int(order.level))
    for pid in Problem.objects.filter(pk__in=ids, listed=True, listed_at__lte=snap.period.end_moment).values_list(
            "pk", flat=True):
        level[pid] = max(level.get(pid, 0), int(OrderLevel.LISTED))
    labels = {int(v): str(lbl) for v, lbl in Level.choices}
    return {pid: Supervised(labels.get(level.get(pid, 0), "") if level.get(pid, 0) >= Level.URGE else "",
                            tuple(orders.get(pid, ()))) for pid in ids}


def listed_at(snap: Snapshot, *, open_only: bool = False) -> set[int]:
    """挂牌督办 at E: counted problems carrying the mark, set on or before E (the mark as it is now); with
    `open_only`, those not 已销号 at E."""
    counted = {p.problem_id for p in snap.problems if not (open_only and p.state == S.CLOSED)}
    return {pk for pk in Problem.objects.filter(campaign=snap.campaign, listed=True,
                                                listed_at__lte=snap.period.end_moment).values_list("pk", flat=True)
            if pk in counted}
