"""Reads for the campaign pages (and for the ledger's forms) that are more than a filter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import chinese_calendar
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from units.models import Unit

from .models import CalendarOverride, Campaign, CampaignStatus, Category, Phase, Source
from .workdays import statutory_workday, uncovered_years


def campaign_list(viewer: Any) -> QuerySet[Campaign]:
    """The campaigns a user may see, with the counts the list shows."""
    return (
        Campaign.objects.visible_to(viewer)
        .annotate(
            problem_count=Count("problems", distinct=True),
            category_count=Count("categories", filter=Q(categories__is_active=True), distinct=True),
        )
        .prefetch_related("phases", "jurisdiction")
        .order_by("-start_date", "-id")
    )


def active_campaigns(viewer: Any) -> QuerySet[Campaign]:
    """Campaigns under way (进行中), newest first: what a problem form offers."""
    return Campaign.objects.visible_to(viewer).filter(status=CampaignStatus.ACTIVE).order_by("-start_date", "-id")


@dataclass
class CategoryNode:
    category: Category
    depth: int
    has_children: bool
    problem_count: int = 0

    @property
    def indent(self) -> str:
        return "\u3000" * self.depth


def categories_in_tree_order(categories: Iterable[Category]) -> list[CategoryNode]:
    """Categories (of one or several campaigns) flattened in display order: each campaign's in turn, parents before
    their children, siblings by sort order and code. Every select and list of categories shows them so."""
    cats = sorted(categories, key=lambda c: (c.campaign_id, c.sort_order, c.code))
    by_parent: dict[int | None, list[Category]] = {}
    present = {c.pk for c in cats}
    for c in cats:
        # A child whose parent is filtered out (inactive) is shown at the top rather than lost.
        by_parent.setdefault(c.parent_id if c.parent_id in present else None, []).append(c)
    rows: list[CategoryNode] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for c in by_parent.get(parent_id, []):
            rows.append(CategoryNode(c, depth, bool(by_parent.get(c.pk)), getattr(c, "problem_count", 0)))
            walk(c.pk, depth + 1)

    walk(None, 0)
    return rows


def category_tree(campaign: Campaign, *, active_only: bool = False) -> list[CategoryNode]:
    """The campaign's catalogue flattened in display order (parents before their children), with depths."""
    qs = Category.objects.filter(campaign=campaign).select_related("parent").annotate(problem_count=Count("problem"))
    if active_only:
        qs = qs.filter(is_active=True)
    return categories_in_tree_order(qs)


def set_category_choices(field: Any, label: Callable[[CategoryNode], str] | None = None) -> None:
    """Offer a category select's queryset in tree order, children indented under their heading (validation still
    goes by the queryset)."""
    label = label or (lambda n: f"{n.indent}{n.category}")
    nodes = categories_in_tree_order(field.queryset.select_related("campaign"))
    empty = [("", field.empty_label)] if field.empty_label is not None else []
    field.choices = [*empty, *((n.category.pk, label(n)) for n in nodes)]


def category_descendant_ids(category: Category) -> set[int]:
    """The category's descendants (not itself), from one query over its campaign's small tree."""
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Category.objects.filter(campaign_id=category.campaign_id).values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    found: set[int] = set()
    stack = list(children.get(category.pk, []))
    while stack:
        pk = stack.pop()
        if pk not in found:
            found.add(pk)
            stack.extend(children.get(pk, []))
    return found


def category_choices(campaign: Campaign) -> list[tuple[int, str]]:
    """Active categories as (id, indented label) for a select box, in tree order."""
    return [(n.category.pk, f"{n.indent}{n.category.code} {n.category.name}") for n in category_tree(
        campaign, active_only=True
    )]


def source_list(campaign: Campaign, *, active_only: bool = False) -> QuerySet[Source]:
    qs = Source.objects.filter(campaign=campaign).annotate(problem_count=Count("problem"))
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("sort_order", "id")


def current_phase(campaign: Campaign, today: dt.date | None = None) -> Phase | None:
    """The phase under way today: the first (in the phases' order) whose deadline has not passed, unless it has
    not started yet; None before the first phase, between phases and after the last."""
    today = today or timezone.localdate()
    for p in campaign.phases.all():
        if p.deadline is None or p.deadline >= today:
            return None if p.start_date and p.start_date > today else p
    return None


def phase_warnings(campaign: Campaign) -> list[str]:
    """Dates that are allowed but probably mistaken: a phase ending outside the campaign, phases out of order."""
    warnings = []
    previous: Phase | None = None
    for p in campaign.phases.all():
        if p.deadline and campaign.end_date and p.deadline > campaign.end_date:
            warnings.append(f"阶段“{p}”的截止日期 {p.deadline:%Y-%m-%d} 晚于专项行动的结束日期。")
        if p.deadline and campaign.start_date and p.deadline < campaign.start_date:
            warnings.append(f"阶段“{p}”的截止日期 {p.deadline:%Y-%m-%d} 早于专项行动的开始日期。")
        if previous is not None and previous.deadline and p.deadline and p.deadline < previous.deadline:
            warnings.append(f"阶段“{p}”的截止日期早于前一阶段“{previous}”。")
        previous = p
    return warnings


def jurisdiction_choices(viewer: Any) -> QuerySet[Unit]:
    """Units a campaign may cover: active ones the user can see."""
    return Unit.objects.visible_to(viewer).active()


def in_tree_order(units: Iterable[Unit]) -> list[Unit]:
    """Units depth first, siblings by their sort order then name; a unit whose parent is absent is a root."""
    units = list(units)
    present = {u.pk for u in units}
    children: dict[int | None, list[Unit]] = {}
    for u in units:
        children.setdefault(u.parent_id if u.parent_id in present else None, []).append(u)
    out: list[Unit] = []
    stack = sorted(children.get(None, []), key=lambda u: (u.sort_order, u.name), reverse=True)
    while stack:
        u = stack.pop()
        out.append(u)
        stack.extend(sorted(children.get(u.pk, []), key=lambda c: (c.sort_order, c.name), reverse=True))
    return out


def other_campaigns_with_categories(campaign: Campaign, viewer: Any) -> QuerySet[Campaign]:
    return (
        Campaign.objects.visible_to(viewer)
        .exclude(pk=campaign.pk)
        .annotate(category_count=Count("categories"))
        .filter(category_count__gt=0)
        .order_by("-start_date", "-id")
    )


@dataclass
class OverrideRow:
    override: CalendarOverride
    statutory: bool | None  # what the holiday package says without the override; None: year not covered
    holiday: str  # the holiday's Chinese name, if the package knows one for the day

    @property
    def changes_anything(self) -> bool:
        return self.statutory is None or self.statutory != self.override.is_workday

    @property
    def statutory_label(self) -> str:
        if self.statutory is None:
            return "节假日数据未覆盖该年份"
        return ("上班" if self.statutory else "休息") + (f"（{self.holiday}）" if self.holiday else "")


HOLIDAY_NAMES = {
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节", "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节", "National Day": "国庆节", "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}


def statutory_day(day: dt.date) -> tuple[bool | None, str]:
    """Whether the national schedule makes `day` a working day (None for a year it does not cover), and the
    name of the holiday the day belongs to (a 调休 working day also carries it)."""
    try:
        working = bool(chinese_calendar.is_workday(day))
        _, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        working, name, _known = statutory_workday(day)
        return working, f"{name}，按法定节假日推算" if name else "按法定节假日推算"
    return working, HOLIDAY_NAMES.get(name or "", name or "")


def calendar_overrides(year: int | None = None) -> list[OverrideRow]:
    qs = CalendarOverride.objects.all()
    if year is not None:
        qs = qs.filter(date__year=year)
    return [OverrideRow(o, *statutory_day(o.date)) for o in qs.order_by("date")]


def calendar_notice(start: dt.date | None = None, end: dt.date | None = None) -> str:
    """A warning for the campaign and 节假日 pages when working days fall in a year whose official arrangement is
    not entered yet (by default this year and the next); "" when there is nothing to say."""
    today = timezone.localdate()
    years = uncovered_years(start or today, max(end or today, today.replace(month=12, day=31) + dt.timedelta(days=1)))
    if not years:
        return ""
    named = "、".join(f"{y}年" for y in years)
    return (f"{named}的国务院节假日调休安排尚未录入：系统暂按法定节假日（元旦、春节、清明、劳动节、端午、中秋、国庆）"
            "和周末计算工作日，调休上班、放假延长等安排公布后，请在“节假日调整”中录入。")
