"""Reads for the unit and user pages that are more than a filter. Every one starts from `visible_to`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from .models import Unit, User, UserRole

# (text, matched) pieces of a label, so templates can mark the matches without building HTML in Python.
Parts = list[tuple[str, bool]]


def highlight(text: str, query: str) -> Parts:
    """Split `text` into pieces, flagging every case-insensitive occurrence of `query`."""
    if not query or not text:
        return [(text, False)]
    parts: Parts = []
    lowered, needle = text.lower(), query.lower()
    start = 0
    while True:
        found = lowered.find(needle, start)
        if found < 0:
            break
        if found > start:
            parts.append((text[start:found], False))
        parts.append((text[found : found + len(needle)], True))
        start = found + len(needle)
    if start < len(text):
        parts.append((text[start:], False))
    return parts


@dataclass
class TreeNode:
    unit: Unit
    children: list[TreeNode] = field(default_factory=list)
    matched: bool = False
    expanded: bool = False
    name_parts: Parts = field(default_factory=list)
    short_parts: Parts = field(default_factory=list)
    code_parts: Parts = field(default_factory=list)


@dataclass
class TreeRow:
    """One line of the tree, flattened in display order; `closes` counts the groups that end after it."""

    node: TreeNode
    depth: int
    closes: int = 0

    @property
    def close_range(self) -> range:
        return range(self.closes)


@dataclass
class UnitTree:
    roots: list[TreeNode]
    rows: list[TreeRow]
    total: int
    matches: int
    query: str


def _matches(unit: Unit, needle: str) -> bool:
    return needle in unit.name.lower() or needle in unit.short_name.lower() or needle in unit.code.lower()


def build_unit_tree(units: list[Unit], query: str = "") -> UnitTree:
    """Nest units (ordered by path, so every parent comes before its children) into a forest.

    A unit whose parent is not in the list (outside the viewer's scope) becomes a root. With a query,
    matching units are flagged and every ancestor of a match is expanded; roots are expanded anyway.
    """
    query = query.strip()
    needle = query.lower()
    by_id: dict[int, TreeNode] = {}
    roots: list[TreeNode] = []
    matches = 0
    for unit in units:
        node = TreeNode(
            unit=unit,
            name_parts=highlight(unit.name, query),
            short_parts=highlight(unit.short_name, query) if unit.short_name != unit.name else [],
            code_parts=highlight(unit.code, query),
        )
        by_id[unit.pk] = node
        parent = by_id.get(unit.parent_id) if unit.parent_id else None
        if parent is None:
            roots.append(node)
        else:
            parent.children.append(node)
        if needle and _matches(unit, needle):
            node.matched = True
            matches += 1
            for ancestor_id in unit.ancestor_ids()[:-1]:
                ancestor = by_id.get(ancestor_id)
                if ancestor is not None:
                    ancestor.expanded = True

    def sort_key(n: TreeNode) -> tuple[int, int]:
        return (n.unit.sort_order, n.unit.pk)

    rows: list[TreeRow] = []

    def walk(node: TreeNode, depth: int) -> None:
        rows.append(TreeRow(node=node, depth=depth))
        if node.children:
            node.children.sort(key=sort_key)
            for child in node.children:
                walk(child, depth + 1)
            rows[-1].closes += 1

    roots.sort(key=sort_key)
    for root in roots:
        root.expanded = True
        walk(root, 0)
    return UnitTree(roots=roots, rows=rows, total=len(units), matches=matches, query=query)


def unit_tree_for(user: Any, query: str = "") -> UnitTree:
    """The viewer's scoped tree, read in one query."""
    units = list(
        Unit.objects.visible_to(user)
        .order_by("path")
        .only("id", "code", "name", "short_name", "kind", "parent_id", "path", "depth", "sort_order", "is_active")
    )
    return build_unit_tree(units, query)


def users_with_roles(qs: QuerySet[User]) -> QuerySet[User]:
    return qs.select_related("unit").prefetch_related(
        Prefetch("role_grants", queryset=UserRole.objects.order_by("role"))
    )


def user_list(
    *, viewer: Any, q: str = "", unit: Unit | None = None, role: str = "", status: str = ""
) -> QuerySet[User]:
    qs = User.objects.visible_to(viewer)
    if q:
        qs = qs.filter(Q(full_name__icontains=q) | Q(username__icontains=q) | Q(phone__icontains=q))
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    if role:
        qs = qs.filter(role_grants__role=role)
    if status == "active":
        qs = qs.filter(is_active=True)
    elif status == "inactive":
        qs = qs.filter(is_active=False)
    return users_with_roles(qs.distinct()).order_by("unit__path", "username")


# ---------------------------------------------------------------- roster import

ROW_TABS = (
    ("", "全部"), ("new", "新增"), ("changed", "更新"), ("unchanged", "未变"), ("conflict", "冲突"), ("error", "错误"),
)


def import_tabs(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The tabs of an import preview; 冲突 only when the preview found any."""
    counts = report.get("counts") or {}
    total = len(report.get("rows") or [])
    return [
        {"key": key, "label": label, "count": counts.get(key, 0) if key else total}
        for key, label in ROW_TABS if key != "conflict" or counts.get("conflict")
    ]


def import_rows(report: dict[str, Any], show: str = "") -> list[dict[str, Any]]:
    """The report's rows of one status (all with ""), each with its changes as (field, (old, new)) text pairs."""
    rows = []
    for row in report.get("rows") or []:
        if show and row.get("status") != show:
            continue
        changes = row.get("changes") or {}
        change_list = []
        for name, pair in changes.items():
            if isinstance(pair, list) and len(pair) == 2:
                change_list.append((name, (_display(pair[0]), _display(pair[1]))))
            else:
                change_list.append((name, ("", _display(pair))))
        rows.append({**row, "change_list": change_list})
    return rows


def import_preview_context(report: dict[str, Any], params: Any, page_size: int = 25) -> dict[str, Any]:
    """What an import job page shows of its preview: the tabs, the chosen tab and one page of its rows."""
    show = params.get("show", "")
    if show not in {key for key, _ in ROW_TABS}:
        show = ""
    page = Paginator(import_rows(report, show), page_size).get_page(params.get("page"))
    return {"report": report, "tabs": import_tabs(report), "show": show, "page_obj": page}


def _display(value: Any) -> str:
    if value in (None, "", [], {}):
        return "（空）"
    if isinstance(value, list):
        return "、".join(_display(v) for v in value)
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def locked_usernames(usernames: Iterable[str]) -> set[str]:
    """Of these login names, those django-axes holds locked now: its failures are counted per login name over all
    its records (one per address and browser), within the cool-off time."""
    cool_off = get_cool_off()
    attempts = AccessAttempt.objects.filter(username__in=list(usernames))
    if cool_off is not None:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
    return set(
        attempts.order_by().values("username").annotate(total=Sum("failures_since_start"))
        .filter(total__gte=settings.AXES_FAILURE_LIMIT).values_list("username", flat=True)
    )
