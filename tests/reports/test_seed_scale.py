"""The province-scale data set (`reports.scale.seed`, `manage.py seed_scale`) at a small size: its history agrees
with the present rows the way the workflow would have left them, and the report figures read it back."""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from campaigns.models import Campaign
from ledger.models import (
    Measure,
    MeasureStatus,
    Problem,
    ProblemFacts,
    ProblemStatus,
    ReviewDecision,
    ReviewRound,
    Transition,
    TransitionAction,
)
from ledger.workflow import STEPS
from reports.figures import Period, snapshot
from reports.scale import seed
from units.models import Unit

S = ProblemStatus
A = TransitionAction
UNITS, PROBLEMS, MEASURES = 200, 2000, 6000


@pytest.fixture
def campaign(db: None) -> Campaign:
    return seed(units=UNITS, problems=PROBLEMS, measures=MEASURES, seed=7, code="SC")


def problems_of(campaign: Campaign) -> dict[int, Problem]:
    return {p.pk: p for p in Problem.objects.filter(campaign=campaign)}


def test_sizes_and_campaign(campaign):
    root = campaign.jurisdiction.get()
    assert root.parent_id is None
    assert Unit.objects.filter(path__startswith=root.path).count() == UNITS
    problems = Problem.objects.filter(campaign=campaign)
    assert problems.count() == PROBLEMS and campaign.last_problem_seq == PROBLEMS
    assert sorted(problems.values_list("seq", flat=True)) == list(range(1, PROBLEMS + 1))
    assert len(set(problems.values_list("number", flat=True))) == PROBLEMS
    assert Measure.objects.filter(problem__campaign=campaign).count() == MEASURES
    assert set(problems.values_list("status", flat=True)) == set(S.values)
    assert campaign.categories.count() and campaign.sources.count()


def test_unit_paths_and_depths_follow_parents(campaign):
    root = campaign.jurisdiction.get()
    units = {u.pk: u for u in Unit.objects.filter(path__startswith=root.path)}
    for u in units.values():
        parent = units.get(u.parent_id) if u.parent_id else None
        assert u.path == f"{parent.path if parent else ''}{u.pk}/"
        assert u.depth == (parent.depth + 1 if parent else 0) == u.path.count("/") - 1
    assert max(u.depth for u in units.values()) == 4
    with_children = {u.parent_id for u in units.values()}
    leads = set(Problem.objects.filter(campaign=campaign).values_list("lead_unit_id", flat=True))
    assert leads and not leads & with_children  # problems are led at the leaves


def test_transitions_follow_the_workflow_to_the_present_status(campaign):
    problems = problems_of(campaign)
    start_of_today = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time.min))
    history = defaultdict(list)
    for t in Transition.objects.filter(problem__campaign=campaign).order_by("at", "id"):
        history[t.problem_id].append(t)
    assert set(history) == set(problems)
    actions = set()
    for pk, steps in history.items():
        first = steps[0]
        assert (first.action, first.from_status, first.to_status) == (A.CREATE, "", S.DRAFT)
        for before, t in zip(steps, steps[1:], strict=False):
            step = STEPS[t.action]
            assert t.from_status == before.to_status and t.from_status in step.sources and t.to_status == step.to
            assert t.at > before.at
            actions.add(t.action)
        assert steps[-1].to_status == problems[pk].status
        assert steps[-1].at < start_of_today
        p = problems[pk]
        if p.status == S.CLOSED:
            assert p.closed_at == steps[-1].at and p.stage_closed == (steps[-1].action == A.STAGE_APPROVE)
        else:
            assert p.closed_at is None and not p.stage_closed
    assert actions == {A.ASSIGN, A.APPLY, A.APPROVE, A.STAGE_APPROVE, A.RETURN, A.REOPEN, A.VOID}


def test_latest_facts_are_the_present_deadline_lead_unit_and_category(campaign):
    problems = problems_of(campaign)
    facts = defaultdict(list)
    for f in ProblemFacts.objects.filter(problem__campaign=campaign).order_by("since", "id"):
        facts[f.problem_id].append(f)
    created = dict(Transition.objects.filter(problem__campaign=campaign, action=A.CREATE)
                   .values_list("problem_id", "at"))
    assert set(facts) == set(problems)
    for pk, rows in facts.items():
        p, last = problems[pk], rows[-1]
        assert (last.deadline, last.lead_unit_id, last.category_id) == (p.deadline, p.lead_unit_id, p.category_id)
        assert rows[0].since == created[pk]
        assert all(a.since < b.since for a, b in zip(rows, rows[1:], strict=False))
    assert sum(len(rows) > 1 for rows in facts.values()) > PROBLEMS // 20  # re-dated, reassigned, reopened


def test_review_rounds_match_the_applications_and_decisions(campaign):
    problems = problems_of(campaign)
    rounds = defaultdict(list)
    for r in ReviewRound.objects.filter(problem__campaign=campaign).order_by("round_no"):
        rounds[r.problem_id].append(r)
    history = defaultdict(list)
    for t in Transition.objects.filter(problem__campaign=campaign).order_by("at", "id"):
        history[t.problem_id].append(t)
    decisions = {A.APPROVE: ReviewDecision.APPROVED, A.STAGE_APPROVE: ReviewDecision.STAGE_APPROVED,
                 A.RETURN: ReviewDecision.RETURNED, A.VOID: ReviewDecision.VOIDED}
    for pk, steps in history.items():
        applied = [(i, t) for i, t in enumerate(steps) if t.action == A.APPLY]
        got = rounds.get(pk, [])
        assert [r.round_no for r in got] == list(range(1, len(applied) + 1))
        for r, (i, t) in zip(got, applied, strict=True):
            assert r.applied_at == t.at
            after = steps[i + 1] if i + 1 < len(steps) else None
            if after is None:
                assert (r.decision, r.reviewed_at) == (ReviewDecision.PENDING, None)
            else:
                assert (r.decision, r.reviewed_at) == (decisions[after.action], after.at)
        if problems[pk].status == S.CLOSED:
            assert got[-1].decision in (ReviewDecision.APPROVED, ReviewDecision.STAGE_APPROVED)
            assert got[-1].applied_at <= got[-1].reviewed_at == problems[pk].closed_at
    open_measures = Measure.objects.filter(problem__campaign=campaign, problem__status__in=[S.CLOSED, S.PENDING_REVIEW]
                                           ).exclude(status=MeasureStatus.DONE)
    assert not open_measures.exists()


def test_report_figures_count_the_present_rows(campaign):
    today = timezone.localdate()
    problems = Problem.objects.filter(campaign=campaign)
    counted = problems.exclude(status__in=[S.DRAFT, S.VOIDED])
    figures = snapshot(campaign, Period.month(today.year, today.month)).figures()
    assert figures.total == counted.count()
    assert (figures.closed, figures.pending_review, figures.in_progress) == (
        counted.filter(status=S.CLOSED).count(), counted.filter(status=S.PENDING_REVIEW).count(),
        counted.filter(status=S.IN_PROGRESS).count())
    # As of today: overdue is 整改中 past its deadline; some are, most are not.
    now = snapshot(campaign, Period.month(today.year, today.month).until(today)).figures()
    overdue = counted.filter(status=S.IN_PROGRESS, deadline__lt=today).count()
    assert now.overdue == overdue and 0 < overdue < now.in_progress
    assert 0 < now.on_time < now.closed
    # The problems marked 挂牌督办 are the long overdue ones.
    listed = problems.filter(listed=True)
    assert listed.exists() and not listed.exclude(status=S.IN_PROGRESS).exists()
    assert not listed.filter(deadline__gte=today - dt.timedelta(days=30)).exists()


def fingerprint(campaign: Campaign) -> list[tuple]:
    root = campaign.jurisdiction.get()
    offset = root.pk
    return [
        (p.seq, p.status, p.rectification_type, p.deadline, p.lead_unit_id - offset, p.category.code,
         p.source.name, p.measures.count())
        for p in Problem.objects.filter(campaign=campaign).select_related("category", "source").order_by("seq")
    ]


@pytest.mark.django_db
def test_same_seed_same_data():
    a = fingerprint(seed(units=60, problems=300, measures=900, seed=3, code="A"))
    b = fingerprint(seed(units=60, problems=300, measures=900, seed=3, code="B"))
    c = fingerprint(seed(units=60, problems=300, measures=900, seed=4, code="C"))
    assert a == b and a != c


@pytest.mark.django_db
def test_command_seeds_and_refuses_a_code_in_use():
    out = io.StringIO()
    call_command("seed_scale", "--units", "40", "--problems", "50", "--measures", "120", "--campaign", "CMD",
                 "--seed", "2", stdout=out)
    text = out.getvalue()
    assert "单位：40 个" in text and "完成：专项行动 CMD" in text
    campaign = Campaign.objects.get(code="CMD")
    assert campaign.problems.count() == 50
    with pytest.raises(CommandError, match="专项行动编号“cmd”已存在"):
        call_command("seed_scale", "--units", "40", "--problems", "5", "--campaign", "cmd", stdout=io.StringIO())
    with pytest.raises(CommandError, match="单位数不能少于"):
        call_command("seed_scale", "--units", "5", "--campaign", "OTHER", stdout=io.StringIO())
    assert not Campaign.objects.filter(code="OTHER").exists()
