"""Closure dashboards (the leader's 工作台, the office's whole jurisdiction), every number from `reports.figures`.

    board = build_dashboard(user, campaign, as_of)
    ids = drill_ids(user, Drill.parse("3:2026-11-30:overdue:unit:12"))

A dashboard counts the campaign's problems as they stood at the end of `as_of` whose lead unit at that moment lies
within the viewer's scope (and which the viewer may open today). Each number carries a `Drill`: the ledger list
filtered by it shows exactly the problems the number counts, because both call `scoped_snapshot`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from campaigns.models import Campaign, CampaignStatus, Source
from ledger.models import Problem, ProblemStatus
from units.models import Role, Unit, scope_paths

from .figures import (
    GREEN,
    RED,
    YELLOW,
    Figures,
    Group,
    Period,
    ProblemAtE,
    Snapshot,
    TrendPoint,
    by_category,
    by_reporting_unit,
    by_source,
    category_tops,
    closed_in_period,
    due_soon,
    lead_unit_paths,
    listed_at,
    monthly_trend,
    problem_light,
    rank_units,
    reporting_unit_of,
    reporting_units,
    snapshot,
    source_of,
    unit_lights,
)
from .selectors import default_campaign

S = ProblemStatus
SLOWEST = 10

# The figures a number may stand for, with their labels (the drill-down's banner says which).
FIGURES: dict[str, str] = {
    "total": "问题总数", "closed": "已销号", "pending_review": "待核查", "in_progress": "整改中",
    "long_term": "长期坚持", "overdue": "逾期", "on_time": "按期销号", "due": "应完成", "new": "本期新增",
    "red": "红灯", "yellow": "黄灯", "green": "绿灯", "listed": "挂牌督办", "closed_in_month": "当月销号",
}
DIMENSIONS = {"unit": "单位", "category": "类别", "source": "来源", "month": "月份"}


@dataclass(frozen=True)
class Drill:
    """What one number counts: a figure of a campaign at the end of a day, optionally within one unit row,
    category, source or month. Written into the ledger list's URL as `?drill=<campaign>:<day>:<figure>[:dim:key]`."""

    campaign_id: int
    as_of: dt.date
    figure: str
    dim: str = ""
    key: str = ""

    def __str__(self) -> str:
        parts = [str(self.campaign_id), self.as_of.isoformat(), self.figure]
        if self.dim:
            parts += [self.dim, self.key]
        return ":".join(parts)

    @classmethod
    def parse(cls, raw: str) -> Drill:
        parts = (raw or "").split(":")
        error = ValidationError(f"筛选条件“{raw}”无效，请从工作台重新点击进入。")
        if len(parts) not in (3, 5):
            raise error
        try:
            campaign_id = int(parts[0])
            as_of = dt.date.fromisoformat(parts[1])
        except ValueError:
            raise error from None
        figure = parts[2]
        dim, key = (parts[3], parts[4]) if len(parts) == 5 else ("", "")
        if figure not in FIGURES or (dim and dim not in DIMENSIONS):
            raise error
        if dim == "month":
            _month(key, error)
        elif dim and not key.isdigit():
            raise error
        return cls(campaign_id, as_of, figure, dim, key)


def _month(key: str, error: ValidationError) -> Period:
    try:
        year, month = (int(x) for x in key.split("-"))
        return Period.month(year, month)
    except ValueError:
        raise error from None


@dataclass
class Row:
    """One reporting unit of the dashboard's table."""

    unit: Unit
    figures: Figures
    rank: int | None
    light: str


@dataclass
class Dashboard:
    campaign: Campaign
    as_of: dt.date
    figures: Figures
    lights: dict[str, int]
    listed: int
    rows: list[Row]
    trend: list[TrendPoint]
    categories: list[Group]
    sources: list[Group]
    slowest: list[Row] = field(default_factory=list)

    def drill(self, figure: str, dim: str = "", key: object = "") -> str:
        return str(Drill(self.campaign.pk, self.as_of, figure, dim, str(key) if dim else ""))

    def drill_url(self, figure: str, dim: str = "", key: object = "") -> str:
        """The ledger list of exactly the problems this number counts."""
        return f"{reverse('ledger:problem_list')}?{urlencode({'drill': self.drill(figure, dim, key)})}"


def charts(board: Dashboard) -> dict[str, Any]:
    """What the charts draw (the page's JSON block), with the drill-down URL of every bar."""
    url = board.drill_url
    ranked = [r for r in board.rows if r.figures.total]
    return {
        "units": {"names": [r.unit.display_name for r in ranked],
                  "rates": [round((r.figures.closure_rate or 0) * 100, 1) for r in ranked],
                  "totals": [r.figures.total for r in ranked],
                  "urls": [url("total", "unit", r.unit.pk) for r in ranked]},
        "trend": {"months": [t.label for t in board.trend], "new": [t.new for t in board.trend],
                  "closed": [t.closed for t in board.trend],
                  "rates": [None if t.closure_rate is None else round(t.closure_rate * 100, 1) for t in board.trend],
                  "new_urls": [url("new", "month", t.label) for t in board.trend],
                  "closed_urls": [url("closed_in_month", "month", t.label) for t in board.trend]},
        "category": {"names": [g.label for g in board.categories],
                     "totals": [g.figures.total for g in board.categories],
                     "urls": [url("total", "category", g.key) for g in board.categories]},
        "source": {"names": [g.label for g in board.sources], "totals": [g.figures.total for g in board.sources],
                   "urls": [url("total", "source", g.key) for g in board.sources]},
    }


def period_for(as_of: dt.date) -> Period:
    """The dashboard's period: the month of `as_of`, counted up to it (本期新增 is this month's)."""
    return Period.month(as_of.year, as_of.month).until(as_of)


def scoped_snapshot(user: Any, campaign: Campaign, period: Period) -> Snapshot:
    """The campaign's counted problems at the period's end whose lead unit then lay within the user's scope and
    which the user may open now: the population of every dashboard number and of its drill-down."""
    snap = snapshot(campaign, period)
    paths = scope_paths(user)
    if paths is None:
        return snap
    unit_paths = lead_unit_paths(snap)
    in_scope = [p.problem_id for p in snap.problems
                if any(unit_paths.get(p.lead_unit_id or 0, "\0").startswith(s) for s in paths)]
    visible = set(Problem.objects.visible_to(user).filter(campaign=campaign).values_list("pk", flat=True))
    return snap.only(visible.intersection(in_scope))


def _rows(user: Any, snap: Snapshot) -> list[Row]:
    units = reporting_units(snap.campaign)
    table = by_reporting_unit(snap, units)
    paths = scope_paths(user)
    if paths is not None:
        # A viewer's rows: the reporting units holding their scope, or lying within it.
        units = [u for u in units if table[u.pk].total
                 or any(u.path.startswith(s) or s.startswith(u.path) for s in paths)]
    lights = unit_lights(snap, units, table)
    ranks = {r.unit_id: r.rank for r in rank_units({u.pk: table[u.pk] for u in units})}
    rows = [Row(u, table[u.pk], ranks.get(u.pk), lights[u.pk]) for u in units]
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0, r.unit.sort_order, r.unit.path))
    return rows


def build_dashboard(user: Any, campaign: Campaign, as_of: dt.date | None = None) -> Dashboard:
    """The dashboard of `campaign` as it stood at the end of `as_of` (today), within the user's scope."""
    as_of = min(as_of or timezone.localdate(), timezone.localdate())
    snap = scoped_snapshot(user, campaign, period_for(as_of))
    figures = snap.figures()
    soon = {p.problem_id for p in due_soon(snap)}
    lights = {RED: 0, YELLOW: 0, GREEN: 0}
    for p in snap.problems:
        if p.state == S.IN_PROGRESS:
            lights[problem_light(p, soon)] += 1
    rows = _rows(user, snap)
    ranked = [r for r in rows if r.rank is not None]
    slowest = sorted(ranked, key=lambda r: (-(r.rank or 0), r.unit.sort_order, r.unit.path))[:SLOWEST]
    trend = monthly_trend(campaign, as_of, problem_ids=[p.problem_id for p in snap.problems]
                          if scope_paths(user) is not None else None)
    listed = len(listed_at(snap, open_only=True))
    return Dashboard(campaign=campaign, as_of=as_of, figures=figures, lights=lights, listed=listed, rows=rows,
                     trend=trend, categories=by_category(snap), sources=by_source(snap), slowest=slowest)


def leader_home(user: Any) -> Dashboard | None:
    """A leader's 工作台: the running campaign's dashboard within their scope (None for others, and for the office,
    whose 工作台 has its own cards)."""
    if not (user and user.is_authenticated and user.has_role(Role.LEADER)) or user.has_role(Role.OFFICE):
        return None
    campaign = default_campaign(user)
    return build_dashboard(user, campaign) if campaign and campaign.status == CampaignStatus.ACTIVE else None


def _figure_matches(figure: str, p: ProblemAtE, end: dt.date, soon: set[int], listed: set[int],
                    closed_now: set[int]) -> bool:
    if figure in ("red", "yellow", "green"):
        return p.state == S.IN_PROGRESS and problem_light(p, soon) == {"red": RED, "yellow": YELLOW,
                                                                        "green": GREEN}[figure]
    if figure == "listed":
        return p.problem_id in listed
    if figure == "closed_in_month":
        return p.problem_id in closed_now
    one = Figures()
    one.add(p, end)
    return bool(getattr(one, figure))


def drill_ids(user: Any, drill: Drill) -> tuple[str, list[int]]:
    """The problems one dashboard number counts, and the banner saying what they are (a forged or out-of-scope
    drill gives a ValidationError, or no problems)."""
    campaign = Campaign.objects.visible_to(user).filter(pk=drill.campaign_id).first()
    if campaign is None:
        raise ValidationError("该专项行动不存在或无权查看。")
    as_of = min(drill.as_of, timezone.localdate())
    period = period_for(as_of)
    if drill.dim == "month":
        month = _month(drill.key, ValidationError("月份无效。"))
        period = month.until(as_of)
    snap = scoped_snapshot(user, campaign, period)
    problems = snap.problems
    label = [f"{campaign.name} · 截至{as_of.year}年{as_of.month}月{as_of.day}日"]
    if drill.dim == "unit":
        unit = Unit.objects.filter(pk=int(drill.key)).first()
        owner = reporting_unit_of([unit] if unit else [], lead_unit_paths(snap))
        problems = [p for p in problems if owner.get(p.lead_unit_id or 0) == int(drill.key)]
        label.append(unit.name if unit else "（单位不存在）")
    elif drill.dim == "category":
        roots, top = category_tops(campaign)
        key = int(drill.key)
        problems = [p for p in problems if top.get(p.category_id or 0, 0) == key]
        label.append(roots[key].name if key in roots else "未分类")
    elif drill.dim == "source":
        key = int(drill.key)
        of = source_of(snap)
        problems = [p for p in problems if of.get(p.problem_id, 0) == key]
        name = Source.objects.filter(pk=key).values_list("name", flat=True).first() if key else None
        label.append(name or "未填来源")
    elif drill.dim == "month":
        label.append(f"{period.end.year}年{period.end.month}月")
    soon = {p.problem_id for p in due_soon(snap)}
    listed = listed_at(snap, open_only=True) if drill.figure == "listed" else set()
    closed_now = set(closed_in_period(snap)) if drill.figure == "closed_in_month" else set()
    ids = [p.problem_id for p in problems
           if _figure_matches(drill.figure, p, snap.period.end, soon, listed, closed_now)]
    label.append(FIGURES[drill.figure])
    return " · ".join(label), ids


def resolve_drill(user: Any, raw: str) -> tuple[str, list[int]]:
    """The ledger list's resolver for `?drill=…` (registered by the app)."""
    return drill_ids(user, Drill.parse(raw))
