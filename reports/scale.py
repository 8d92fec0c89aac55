"""A province-scale data set for one campaign: the unit tree, a year of problems with their measures, and the history
the reports read (transitions, the facts standing at each moment, review rounds), consistent with one another.

    campaign = seed(units=20_000, problems=200_000, measures=600_000, seed=1)

The tree: the province (覆盖范围) → provincial departments and cities → city departments and counties → county
departments and towns → villages and communities. Problems are led by units at the leaves and spread over the last
twelve months in every state; each one's transitions follow the workflow's table (`ledger.workflow.STEPS`: the
state each action leads to and starts from), its last transition leads to its present status, its last facts row
holds its present deadline, lead unit and category, and every application for sign-off has its review round. Some
problems were returned once, some reopened, some re-dated (延期) or given another lead unit; the long overdue ones
carry the 挂牌督办 mark.

The rows are written in bulk, not through the services: at this size the services' one-problem-at-a-time checks and
audit entries would take hours, and `bulk_create` (every field of every row prepared by the ORM, and at most 999
parameters a statement on SQLite) minutes. `_insert` prepares only the dates and times and hands whole batches to
the driver. Everything is one transaction: an interrupted run leaves nothing behind. The database assigns every
primary key; problems are read back by their sequence numbers.

The same `seed` and the same day give the same data; dates are relative to `today`.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.db.models import CharField, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from campaigns import services as campaign_services
from campaigns.models import DEFAULT_SOURCES, Campaign, CampaignStatus, Category, Source
from ledger.demo import CATEGORIES
from ledger.models import (
    Measure,
    MeasureStatus,
    Problem,
    ProblemFacts,
    ProblemStatus,
    RectificationType,
    ReviewDecision,
    ReviewRound,
    Transition,
    TransitionAction,
)
from ledger.workflow import STEPS
from units.models import Unit, UnitKind

S = ProblemStatus
A = TransitionAction
M = MeasureStatus

UNITS, PROBLEMS, MEASURES = 20_000, 200_000, 600_000
DEFAULT_CODE = "SCALE"
MIN_UNITS = 30
BATCH = 5_000  # rows a statement
CHUNK = 5_000  # problems generated, written and read back at a time
DAYS = 365  # the window: problems were entered over the year before `today`
MINUTES = 1440
WORK_START, WORK_END = 8 * 60 + 30, 18 * 60  # steps are taken in office hours
REOPEN_DAYS = 15
LISTED_AFTER = 30

# What problems have come to a year in.
STATUS_WEIGHTS = ((S.DRAFT, 3), (S.IN_PROGRESS, 42), (S.PENDING_REVIEW, 8), (S.CLOSED, 44), (S.VOIDED, 3))
KIND_WEIGHTS = ((RectificationType.TIME_LIMITED, 65), (RectificationType.IMMEDIATE, 25),
                (RectificationType.LONG_TERM, 10))
SOURCE_WEIGHTS = (30, 15, 20, 8, 7, 10, 8, 2)  # in the order of DEFAULT_SOURCES

DEPARTMENTS = (
    "发展和改革", "教育", "科学技术", "工业和信息化", "民族宗教事务", "公安", "民政", "司法", "财政",
    "人力资源和社会保障", "自然资源", "生态环境", "住房和城乡建设", "交通运输", "水利", "农业农村", "商务",
    "文化和旅游", "卫生健康", "退役军人事务", "应急管理", "审计", "国有资产监督管理", "市场监督管理", "广播电视",
    "体育", "统计", "医疗保障", "林业", "乡村振兴", "信访", "政务服务和大数据管理", "机关事务管理",
    "粮食和物资储备", "人民防空", "地方金融监督管理", "城市管理", "行政审批服务", "药品监督管理", "能源", "数据",
    "知识产权", "地震", "气象", "档案",
)
FIRST = "东西南北清平安宁永兴华丰长云德泰和新临江青白金石龙凤桃柳松梅"
SECOND = "州阳山川原宁平江河城林溪桥湖丘岭田坪源洲"
PLACES = tuple(a + b for a in FIRST for b in SECOND if a != b)
PEOPLE = ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周婷", "吴刚", "徐丽", "孙浩", "马超",
          "朱琳", "胡军", "郭敏", "何静", "林涛", "高峰", "罗佳")
LEADERS = ("主要负责同志", "分管副职", "党组书记", "分管领导", "主任", "局长")
MEASURE_TEXTS = (
    "召开专题会议研究部署，明确责任人和完成时限",
    "建立问题清单、任务清单、责任清单，逐项对账销号",
    "对相关人员开展批评教育和约谈提醒",
    "修订完善相关制度，堵塞管理漏洞",
    "开展专项排查，举一反三整改同类问题",
    "公开办事流程和时限，接受群众监督",
    "压减文件会议和督查检查考核事项",
    "建立长效机制，定期回访评估整改成效",
)
APPLY_TEXT = "各项整改措施已完成，相关制度已建立，佐证材料已上传，申请销号。"
RETURN_TEXT = "佐证材料不足，整改成效不明显，请补充后重新申请。"
APPROVE_TEXT = "整改到位，同意销号。"
REOPEN_TEXT = "回头看发现问题反弹，重新整改。"
VOID_TEXT = "与已登记问题重复，作废。"
LISTED_TEXT = f"逾期超过{LISTED_AFTER}天未完成整改，挂牌督办。"
REASONS: dict[str, str] = {A.APPLY: APPLY_TEXT, A.RETURN: RETURN_TEXT, A.APPROVE: APPROVE_TEXT,
                           A.STAGE_APPROVE: APPROVE_TEXT, A.REOPEN: REOPEN_TEXT, A.VOID: VOID_TEXT}
DECISIONS: dict[str, str] = {A.RETURN: ReviewDecision.RETURNED, A.APPROVE: ReviewDecision.APPROVED,
                             A.STAGE_APPROVE: ReviewDecision.STAGE_APPROVED, A.VOID: ReviewDecision.VOIDED}


class Writer(Protocol):
    def write(self, msg: str, /) -> Any: ...


# ---- writing in bulk ---------------------------------------------------------------------------------------------

def _insert(model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    """INSERT `rows` (tuples in the order of `columns`, attribute names) into `model`'s table, BATCH rows a
    statement. The columns not given take their field's default (the time now for auto_now fields); dates and times
    are prepared for the database, everything else goes to the driver as it is."""
    if not rows:
        return 0
    meta = model._meta
    given = [cast("models.Field[Any, Any]", meta.get_field(c)) for c in columns]
    now = timezone.now()
    rest: list[tuple[models.Field[Any, Any], Any]] = []
    for f in meta.concrete_fields:
        if f.primary_key or f in given:
            continue
        value = now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default()
        if value is None and not f.null:
            raise ValueError(f"{meta.label}.{f.attname} needs a value")
        rest.append((f, value))
    fields = given + [f for f, _ in rest]
    ops = connection.ops
    adapt_datetime: Callable[[Any], Any] = ops.adapt_datetimefield_value
    if connection.vendor == "sqlite":
        # What the backend's adapter does to an aware datetime, without its checks (a third of the time here).
        tz = connection.timezone

        def adapt_datetime(value: dt.datetime) -> str:
            return str(value.astimezone(tz).replace(tzinfo=None))

    adapt: list[Callable[[Any], Any] | None] = []
    for f in given:
        kind = f.get_internal_type()
        adapt.append(adapt_datetime if kind == "DateTimeField"
                     else ops.adapt_datefield_value if kind == "DateField" else None)
    fixed = tuple(f.get_db_prep_save(v, connection) if v is not None else None for f, v in rest)
    dated = [i for i, a in enumerate(adapt) if a is not None]

    def prepared(row: Sequence[Any]) -> tuple[Any, ...]:
        if not dated:
            return (*row, *fixed)
        out = list(row)
        for i in dated:
            if out[i] is not None:
                out[i] = adapt[i](out[i])  # type: ignore[misc]
        return (*out, *fixed)

    quote = ops.quote_name
    head = f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) VALUES "
    one = f"({', '.join(['%s'] * len(fields))})"
    size = min(BATCH, max(1, 60_000 // len(fields)))  # within every driver's limit on parameters
    with connection.cursor() as cursor:
        for start in range(0, len(rows), size):
            batch = [prepared(r) for r in rows[start:start + size]]
            if connection.vendor == "sqlite":
                cursor.executemany(head + one, batch)
            else:
                cursor.execute(head + ", ".join([one] * len(batch)), [v for r in batch for v in r])
    return len(rows)


# ---- the unit tree -----------------------------------------------------------------------------------------------

@dataclass
class _Node:
    parent: int | None  # index of the parent node
    name: str
    short: str
    kind: str
    label: str
    sort_order: int
    depth: int
    leaf: bool = True


def _places(rng: random.Random, n: int) -> list[str]:
    """n distinct two-character place names (numbered when there are more than the syllables give)."""
    picked = rng.sample(PLACES, min(n, len(PLACES)))
    return picked + [f"{PLACES[i % len(PLACES)]}{i // len(PLACES) + 1}" for i in range(len(PLACES), n)]


def _departments(n: int) -> list[str]:
    return [DEPARTMENTS[i % len(DEPARTMENTS)] + ("" if i < len(DEPARTMENTS) else str(i // len(DEPARTMENTS) + 1))
            for i in range(n)]


def tree_plan(n: int, rng: random.Random) -> list[_Node]:
    """Exactly n units, parents before children: 1 province, its departments and cities, each city's departments and
    counties, each county's departments and towns, the rest as villages and communities spread over the towns."""
    if n < MIN_UNITS:
        raise ValidationError(f"单位数不能少于 {MIN_UNITS} 个。")
    n_prov = min(max(n // 500, 2), len(DEPARTMENTS))
    n_city = min(max(n // 1400, 2), 21)
    n_county = min(max(n // 2000, 2), 12)
    n_city_dept = min(max(n // 500, 2), len(DEPARTMENTS))
    fixed = 1 + n_prov + n_city + n_city * (n_county + n_city_dept)
    rest = n - fixed
    while rest < 4 * n_city * n_county:  # a small tree: fewer departments, so that every county has a town or two
        if n_city_dept > 1:
            n_city_dept -= 1
        elif n_prov > 1:
            n_prov -= 1
        else:
            n_county -= 1
        fixed = 1 + n_prov + n_city + n_city * (n_county + n_city_dept)
        rest = n - fixed
    counties_total = n_city * n_county
    per_county = min(70, max(2, rest // counties_total // 2))
    n_town = max(1, per_county // 3)

    nodes = [_Node(None, "示范省", "示范省", UnitKind.OTHER, "省", 0, 0)]

    def add(parent: int, name: str, short: str, kind: str, label: str, order: int) -> int:
        nodes[parent].leaf = False
        nodes.append(_Node(parent, name, short, kind, label, order, nodes[parent].depth + 1))
        return len(nodes) - 1

    order = 0
    for d in _departments(n_prov):
        order += 10
        add(0, f"示范省{d}厅", f"省{d}厅", UnitKind.GOVERNMENT, "省政府工作部门", order)
    cities = []
    for place in _places(rng, n_city):
        order += 10
        cities.append(add(0, f"{place}市", f"{place}市", UnitKind.OTHER, "设区的市", order))
    counties = []
    for city in cities:
        city_name = nodes[city].name
        for i, d in enumerate(_departments(n_city_dept), start=1):
            add(city, f"{city_name}{d}局", f"{d}局", UnitKind.GOVERNMENT, "市政府工作部门", i * 10)
        for i, place in enumerate(_places(rng, n_county), start=n_city_dept + 1):
            short = f"{place}{'区' if i % 4 == 0 else '县'}"
            counties.append(add(city, f"{city_name}{short}", short, UnitKind.OTHER, "县（市、区）", i * 10))
    budget = n - len(nodes)
    level3 = min(budget, per_county * len(counties))
    towns = []
    for k, county in enumerate(counties):
        here = level3 // len(counties) + (k < level3 % len(counties))
        county_name = nodes[county].name
        n_dept = max(0, here - n_town)
        for i, d in enumerate(_departments(n_dept), start=1):
            add(county, f"{county_name}{d}局", f"{d}局", UnitKind.GOVERNMENT, "县政府工作部门", i * 10)
        for i, place in enumerate(_places(rng, here - n_dept), start=n_dept + 1):
            short = f"{place}街道" if i % 5 == 0 else f"{place}乡" if i % 7 == 0 else f"{place}镇"
            towns.append(add(county, f"{county_name}{short}", short, UnitKind.TOWNSHIP, "乡镇（街道）", i * 10))
    budget = n - len(nodes)
    for k, town in enumerate(towns):
        here = budget // len(towns) + (k < budget % len(towns))
        town_name = nodes[town].name
        for i, place in enumerate(_places(rng, here), start=1):
            short = f"{place}社区" if town_name.endswith("街道") or i % 6 == 0 else f"{place}村"
            add(town, f"{town_name}{short}", short, UnitKind.TOWNSHIP, "村（社区）", i * 10)
    assert len(nodes) == n, (len(nodes), n)
    return nodes


def _create_units(nodes: list[_Node], code: str) -> list[Unit]:
    """The tree, one level at a time (a child's parent has its key by then). Each level's paths are then written by
    one UPDATE from the parents' paths: a `bulk_update` of 20,000 paths takes thirty times as long."""
    made: dict[int, Unit] = {}
    by_depth: dict[int, list[int]] = {}
    for i, node in enumerate(nodes):
        by_depth.setdefault(node.depth, []).append(i)
    parent_path = Subquery(Unit.objects.filter(pk=OuterRef("parent_id")).values("path")[:1])
    for depth in sorted(by_depth):
        level = by_depth[depth]
        parents = [made[p] if (p := nodes[i].parent) is not None else None for i in level]
        units = Unit.objects.bulk_create([
            Unit(code=f"{code}-U{i + 1:06d}", name=nodes[i].name, short_name=nodes[i].short, kind=nodes[i].kind,
                 kind_label=nodes[i].label, sort_order=nodes[i].sort_order, depth=depth, parent=parent)
            for i, parent in zip(level, parents, strict=True)
        ], batch_size=BATCH)
        for i, unit, parent in zip(level, units, parents, strict=True):
            unit.path = f"{parent.path if parent is not None else ''}{unit.pk}/"
            made[i] = unit
        pks = [u.pk for u in units]
        written = Unit.objects.filter(pk__gte=min(pks), pk__lte=max(pks), depth=depth,
                                      code__startswith=f"{code}-U").update(
            path=Concat(parent_path, Cast("pk", CharField()), Value("/")) if depth else Concat(
                Cast("pk", CharField()), Value("/")))
        assert written == len(units), (written, len(units))
    return [made[i] for i in range(len(nodes))]


# ---- one problem's life ------------------------------------------------------------------------------------------

@dataclass
class _Plan:
    seq: int
    status: str
    kind: str
    source: int
    category: int
    lead: int  # at creation
    co_unit: int | None
    created_day: int  # days after the window's first day
    events: list[tuple[str, int]] = field(default_factory=list)  # (action, minute after the window's start)
    facts: list[tuple[int, int | None, int, int]] = field(default_factory=list)  # (minute, deadline day, lead, cat)
    listed_at: int | None = None
    measures: int = 0


def _weighted(rng: random.Random, table: Sequence[tuple[str, int]]) -> str:
    total = sum(w for _, w in table)
    r = rng.random() * total
    for value, w in table:
        r -= w
        if r < 0:
            return value
    return table[-1][0]


def _chain(rng: random.Random, status: str, kind: str, allowed: int | None) -> tuple[list[str], list[int]]:
    """The actions a problem went through to reach `status`, with their days after its creation."""
    actions: list[str] = [A.CREATE]
    days = [0]

    def step(action: str, lo: int, hi: int) -> None:
        actions.append(action)
        days.append(days[-1] + rng.randint(lo, hi))

    def work() -> int:
        return max(3, int((allowed if allowed is not None else 150) * (0.3 + 0.8 * rng.random())))

    if status == S.DRAFT:
        return actions, days
    if status == S.VOIDED and rng.random() < 0.4:
        step(A.VOID, 1, 30)  # void while still a draft
        return actions, days
    step(A.ASSIGN, 0, 5)
    approve = A.STAGE_APPROVE if kind == RectificationType.LONG_TERM and rng.random() < 0.7 else A.APPROVE
    if status == S.VOIDED:
        step(A.VOID, 5, 90)
    elif status == S.IN_PROGRESS:
        r = rng.random()
        if r < 0.10:
            w = work()
            step(A.APPLY, w, w)
            step(A.RETURN, 1, 10)
        elif r < 0.14:
            w = work()
            step(A.APPLY, w, w)
            step(approve, 1, 10)
            step(A.REOPEN, 20, 120)
    else:  # 待核查 or 已销号
        w = work()
        step(A.APPLY, w, w)
        if rng.random() < 0.15:
            step(A.RETURN, 1, 10)
            step(A.APPLY, 5, 30)
        if status == S.CLOSED:
            step(approve, 1, 10)
    return actions, days


def _tod(rng: random.Random) -> int:
    return rng.randint(WORK_START, WORK_END)


def _plan(rng: random.Random, seq: int, leaves: Sequence[int], sources: Sequence[int],
          categories: Sequence[int]) -> _Plan:
    status = _weighted(rng, STATUS_WEIGHTS)
    kind = _weighted(rng, KIND_WEIGHTS)
    allowed = (rng.randint(7, 30) if kind == RectificationType.IMMEDIATE
               else rng.randint(30, 180) if kind == RectificationType.TIME_LIMITED else None)
    actions, days = _chain(rng, status, kind, allowed)
    last_day = DAYS - 1
    span = days[-1]
    room = last_day - span
    if room < 0:  # a long life squeezed into the year
        days = [d * last_day // span for d in days]
        room = 0
    if status == S.DRAFT:
        start = last_day - rng.randint(0, 20)
    elif status == S.PENDING_REVIEW:
        start = max(0, room - rng.randint(0, 25))
    else:
        start = rng.randint(0, room)
    lead = rng.choice(leaves)
    co = rng.choice(leaves) if rng.random() < 0.2 else None
    src = sources[min(int(_weighted(rng, [(str(i), w) for i, w in enumerate(SOURCE_WEIGHTS)])), len(sources) - 1)]
    plan = _Plan(seq, status, kind, src, rng.choice(categories), lead, co if co != lead else None, start)
    t = -1
    for action, d in zip(actions, days, strict=True):
        at = (start + d) * MINUTES + _tod(rng)
        if at <= t:
            at = t + rng.randint(3, 40)
        plan.events.append((action, at))
        t = at

    # The facts: at creation, then each change (改派, 延期, the new deadline of a reopened problem), in time order.
    deadline = start + allowed if allowed is not None else None
    created = plan.events[0][1]
    changes: list[tuple[int, str, int]] = []
    assigned = next((at for a, at in plan.events if a == A.ASSIGN), None)
    last = plan.events[-1][1]
    if assigned is not None and last > assigned and rng.random() < 0.05:
        changes.append((rng.randint(assigned, last), "lead", rng.choice(leaves)))
    for a, at in plan.events:
        if a == A.REOPEN:
            changes.append((at, "deadline", at // MINUTES + REOPEN_DAYS))
    changes.sort()
    current_deadline = deadline
    for _, what, value in changes:
        if what == "deadline":
            current_deadline = value
    if (status == S.IN_PROGRESS and current_deadline is not None and current_deadline < DAYS
            and rng.random() < 0.7):
        # 延期: the office granted more time around the deadline.
        since = max(changes[-1][0] if changes else created, last,
                    (current_deadline - rng.randint(0, 7)) * MINUTES + _tod(rng)) + rng.randint(3, 40)
        since = min(since, DAYS * MINUTES - 1)
        changes.append((since, "deadline", DAYS + rng.randint(5, 120)))
    facts: list[tuple[int, int | None, int, int]] = [(created, deadline, lead, plan.category)]
    for at, what, value in changes:
        before, dl, u, c = facts[-1]
        at = max(at, before + 1)
        facts.append((at, value, u, c) if what == "deadline" else (at, dl, value, c))
    plan.facts = facts
    final_deadline = facts[-1][1]
    if status == S.IN_PROGRESS and final_deadline is not None and final_deadline + LISTED_AFTER < DAYS:
        plan.listed_at = (final_deadline + LISTED_AFTER + 1) * MINUTES + 8 * 60
    return plan


def _measure_counts(rng: random.Random, n: int, total: int) -> list[int]:
    """How many measures each of n problems has: about total/n each, adding up to exactly `total`."""
    if n == 0:
        return []
    avg = max(total // n, 1)
    low = 1 if total >= n else 0
    counts = [rng.randint(max(low, avg - 2), avg + 2) for _ in range(n)]
    diff = total - sum(counts)
    while diff:
        i = rng.randrange(n)
        if diff > 0:
            counts[i] += 1
            diff -= 1
        elif counts[i] > low:
            counts[i] -= 1
            diff += 1
    return counts


# ---- the data set ------------------------------------------------------------------------------------------------

@dataclass
class _Counts:
    transitions: int = 0
    facts: int = 0
    rounds: int = 0
    measures: int = 0
    co_units: int = 0


PROBLEM_COLUMNS = (
    "campaign_id", "seq", "number", "summary", "description", "source_id", "category_id", "discovered_on",
    "lead_unit_id", "responsible_leader", "responsible_person", "rectification_type", "deadline", "status",
    "stage_closed", "closed_at", "listed", "listed_at", "listed_reason", "version", "created_at", "updated_at",
)
MEASURE_COLUMNS = ("problem_id", "seq", "content", "unit_id", "responsible_person", "deadline", "is_long_term",
                   "status", "completed_on", "created_at", "updated_at")
TRANSITION_COLUMNS = ("problem_id", "action", "from_status", "to_status", "at", "reason")
FACTS_COLUMNS = ("problem_id", "since", "deadline", "lead_unit_id", "category_id")
ROUND_COLUMNS = ("problem_id", "round_no", "summary", "applied_at", "decision", "opinion", "reviewed_at")


@dataclass(frozen=True)
class _Names:
    units: dict[int, str]
    categories: dict[int, str]
    sources: dict[int, str]


class _Clock:
    """Minutes and days after the window's start as aware datetimes and dates."""

    def __init__(self, first_day: dt.date) -> None:
        self.first_day = first_day
        self.start = timezone.make_aware(dt.datetime.combine(first_day, dt.time.min), timezone.get_current_timezone())

    def at(self, minute: int) -> dt.datetime:
        return self.start + dt.timedelta(minutes=minute)

    def day(self, day: int) -> dt.date:
        return self.first_day + dt.timedelta(days=day)


def _write_chunk(plans: list[_Plan], counts: list[int], campaign: Campaign, code: str, clock: _Clock,
                 names: _Names, rng: random.Random, out: _Counts) -> None:
    problem_rows = []
    for plan in plans:
        status = plan.status
        _, deadline, lead, category = plan.facts[-1]
        closed_at = next((at for a, at in reversed(plan.events) if a in (A.APPROVE, A.STAGE_APPROVE)), None)
        if status != S.CLOSED:
            closed_at = None
        stage = status == S.CLOSED and plan.events[-1][0] == A.STAGE_APPROVE
        updated = max(plan.events[-1][1], plan.facts[-1][0])
        category_name, unit_name = names.categories[category], names.units[lead]
        problem_rows.append((
            campaign.pk, plan.seq, f"{code}-{plan.seq:04d}", f"{unit_name}：{category_name}"[:300],
            f"经{names.sources[plan.source]}发现，{unit_name}存在“{category_name}”问题，需限期整改。",
            plan.source, category, clock.day(max(plan.created_day - rng.randint(0, 10), 0)), lead,
            rng.choice(LEADERS), rng.choice(PEOPLE), plan.kind,
            clock.day(deadline) if deadline is not None else None, status, stage,
            clock.at(closed_at) if closed_at is not None else None, plan.listed_at is not None,
            clock.at(plan.listed_at) if plan.listed_at is not None else None,
            LISTED_TEXT if plan.listed_at is not None else "", len(plan.events) + len(plan.facts),
            clock.at(plan.events[0][1]), clock.at(updated),
        ))
    _insert(Problem, PROBLEM_COLUMNS, problem_rows)
    pks = dict(Problem.objects.filter(campaign=campaign, seq__gte=plans[0].seq, seq__lte=plans[-1].seq)
               .values_list("seq", "pk"))

    transitions, facts, rounds, measures, co_units = [], [], [], [], []
    for plan, n_measures in zip(plans, counts, strict=True):
        pk = pks[plan.seq]
        state = ""
        open_round: list[Any] | None = None
        applies: list[int] = []
        for action, at in plan.events:
            to = S.DRAFT if action == A.CREATE else STEPS[action].to
            assert to is not None and (action == A.CREATE or state in STEPS[action].sources), (action, state)
            transitions.append((pk, action, state, to, clock.at(at), REASONS.get(action, "")))
            if action == A.APPLY:
                applies.append(at)
                open_round = [pk, len(applies), APPLY_TEXT, clock.at(at), ReviewDecision.PENDING, "", None]
                rounds.append(open_round)
            elif action in DECISIONS and open_round is not None:
                open_round[4], open_round[5], open_round[6] = DECISIONS[action], REASONS[action], clock.at(at)
                open_round = None
            state = to
        assert state == plan.status, (state, plan.status)
        for since, deadline, lead, category in plan.facts:
            facts.append((pk, clock.at(since), clock.day(deadline) if deadline is not None else None, lead,
                          category))
        if plan.co_unit is not None:
            co_units.append((pk, plan.co_unit))

        _, deadline, lead, _ = plan.facts[-1]
        events = dict(plan.events)
        begun = events.get(A.ASSIGN, plan.events[0][1])
        begun_day = begun // MINUTES
        reopened = A.REOPEN in events
        long_term = plan.kind == RectificationType.LONG_TERM
        for j in range(1, n_measures + 1):
            unit = lead if j == 1 or plan.co_unit is None or rng.random() < 0.5 else plan.co_unit
            m_deadline = None if long_term or deadline is None else max(plan.created_day,
                                                                          deadline - rng.randint(0, 15))
            completed = None
            if plan.status in (S.CLOSED, S.PENDING_REVIEW):
                m_status = M.DONE
                completed = max(begun_day, applies[-1] // MINUTES - rng.randint(0, 10))
            elif plan.status == S.IN_PROGRESS:
                m_status = M.IN_PROGRESS if reopened else rng.choice(
                    (M.NOT_STARTED, M.IN_PROGRESS, M.IN_PROGRESS, M.IN_PROGRESS, M.DONE, M.DONE))
                if m_status == M.DONE:
                    completed = rng.randint(begun_day, DAYS - 1)
            elif plan.status == S.VOIDED:
                m_status = rng.choice((M.NOT_STARTED, M.IN_PROGRESS))
            else:
                m_status = M.NOT_STARTED
            measures.append((
                pk, j, f"{j}.{MEASURE_TEXTS[(plan.seq + j) % len(MEASURE_TEXTS)]}", unit, rng.choice(PEOPLE),
                clock.day(m_deadline) if m_deadline is not None else None, long_term, m_status,
                clock.day(completed) if completed is not None else None, clock.at(begun + j),
                clock.at(max(plan.events[-1][1], begun + j)),
            ))
    out.transitions += _insert(Transition, TRANSITION_COLUMNS, transitions)
    out.facts += _insert(ProblemFacts, FACTS_COLUMNS, facts)
    out.rounds += _insert(ReviewRound, ROUND_COLUMNS, rounds)
    out.measures += _insert(Measure, MEASURE_COLUMNS, measures)
    out.co_units += _insert(Problem.co_units.through, ("problem_id", "unit_id"), co_units)


def _say(stdout: Writer | None, text: str) -> None:
    if stdout is not None:
        stdout.write(text + "\n")
        flush = getattr(stdout, "flush", None)
        if callable(flush):
            flush()


def _analyze() -> None:
    """Fresh statistics for the query planner on the tables filled: the reports' plans at this size depend on them,
    and autovacuum may be off or not have run yet."""
    tables = [m._meta.db_table for m in (Unit, Problem, Problem.co_units.through, Measure, Transition, ProblemFacts,
                                         ReviewRound)]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


def check_free(code: str) -> None:
    """Refuse a campaign code in use (or whose unit codes or problem numbers are)."""
    if Campaign.objects.filter(code__iexact=code).exists():
        raise ValidationError(f"专项行动编号“{code}”已存在，请用 --campaign 换一个编号。")
    if Unit.objects.filter(code__startswith=f"{code}-U").exists():
        raise ValidationError(f"已有以“{code}-U”开头的单位编码，请用 --campaign 换一个编号。")
    if Problem.objects.filter(number__startswith=f"{code}-").exists():
        raise ValidationError(f"已有以“{code}-”开头的问题编号，请用 --campaign 换一个编号。")


def seed(*, units: int = UNITS, problems: int = PROBLEMS, measures: int = MEASURES, seed: int = 1,
         code: str = DEFAULT_CODE, today: dt.date | None = None, stdout: Writer | None = None) -> Campaign:
    """Generate the data set (see the module's docstring) in one transaction and return its campaign. Raises
    ValidationError (in Chinese) when the code is taken or a size is out of range."""
    if problems < 0 or measures < 0:
        raise ValidationError("问题数和措施数不能为负数。")
    today = today or timezone.localdate()
    rng = random.Random(seed)
    clock = _Clock(today - dt.timedelta(days=DAYS))
    began = time.perf_counter()

    def elapsed() -> str:
        return f"{time.perf_counter() - began:.1f} 秒"

    with transaction.atomic():
        check_free(code)
        nodes = tree_plan(units, rng)
        made = _create_units(nodes, code)
        depth = max(n.depth for n in nodes)
        _say(stdout, f"单位：{len(made):,} 个，{depth + 1} 级（{elapsed()}）")
        campaign = campaign_services.campaign_create(
            by=None, name=f"{made[0].name}深化作风建设专项行动（{code}）", code=code,
            description="全省范围查摆作风问题、建立台账、限期整改、逐项销号。", jurisdiction=[made[0]],
            start_date=clock.first_day, status=CampaignStatus.ACTIVE, sources=DEFAULT_SOURCES,
        )
        by_code: dict[str, Category] = {}
        for cat_code, name, parent in CATEGORIES:
            by_code[cat_code] = campaign_services.category_create(
                campaign=campaign, by=None, code=cat_code, name=name, parent=by_code.get(parent))
        categories = [c.pk for c in by_code.values() if c.parent_id is not None]
        source_rows = list(Source.objects.filter(campaign=campaign).order_by("sort_order"))
        sources = [s.pk for s in source_rows]
        names = _Names({u.pk: u.name for u in made}, {c.pk: c.name for c in by_code.values()},
                       {s.pk: s.name for s in source_rows})
        leaves = [made[i].pk for i, n in enumerate(nodes) if n.leaf]
        _say(stdout, f"专项行动：{campaign.name}，问题类别 {len(by_code)} 个、来源 {len(sources)} 个；"
                     f"牵头单位取自 {len(leaves):,} 个末级单位")

        counts = _measure_counts(rng, problems, measures)
        out = _Counts()
        step = max(problems // 10, CHUNK)
        shown = 0
        for first in range(1, problems + 1, CHUNK):
            plans = [_plan(rng, seq, leaves, sources, categories)
                     for seq in range(first, min(first + CHUNK, problems + 1))]
            _write_chunk(plans, counts[first - 1:first - 1 + len(plans)], campaign, code, clock, names, rng, out)
            done = plans[-1].seq
            if done - shown >= step or done == problems:
                shown = done
                _say(stdout, f"问题：{done:,} / {problems:,}（措施 {out.measures:,} 项，"
                             f"流转记录 {out.transitions:,} 条，要素记录 {out.facts:,} 条，"
                             f"核查轮次 {out.rounds:,} 轮；{elapsed()}）")
        Campaign.objects.filter(pk=campaign.pk).update(last_problem_seq=problems)
        campaign.last_problem_seq = problems
        _analyze()
        _say(stdout, f"已更新查询统计信息（{elapsed()}）")
    _say(stdout, f"完成：专项行动 {code}，单位 {units:,} 个，问题 {problems:,} 个，整改措施 {out.measures:,} 项，"
                 f"流转记录 {out.transitions:,} 条，要素记录 {out.facts:,} 条，核查轮次 {out.rounds:,} 轮，"
                 f"配合单位 {out.co_units:,} 个；用时 {elapsed()}。")
    return campaign
