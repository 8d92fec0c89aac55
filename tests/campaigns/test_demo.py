"""The demo campaign ZF2026 and its ledger (ledger/demo.py), loaded by `manage.py load_demo` after the county."""

from __future__ import annotations

from collections import Counter
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from campaigns.models import Campaign, Category
from core.models import AuditEntry
from ledger import demo as ledger_demo
from ledger.lights import problem_light
from ledger.models import Evidence, Light, LookbackCheck, Problem, ProblemStatus, Transition
from units import demo as units_demo
from units.models import User


def run(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_demo_campaign_has_problems_in_every_state(settings, tmp_path):
    out = run()
    assert "ZF2026" in out
    c = Campaign.objects.get(code="ZF2026")
    assert c.name == "2026年深化机关作风整顿" and c.status == "active"
    assert [str(p) for p in c.phases.all()] == ["集中排查", "集中整改", "动态整改", "回头看"]
    assert Category.objects.filter(campaign=c).count() == len(ledger_demo.CATEGORIES)
    assert Category.objects.filter(campaign=c, parent__isnull=True).count() == 5
    problems = list(Problem.objects.filter(campaign=c).select_related("campaign"))
    assert 35 <= len(problems) <= 45
    states = Counter(p.status for p in problems)
    assert set(states) == set(ProblemStatus.values)
    assert states[ProblemStatus.VOIDED] == 1
    assert any(p.stage_closed for p in problems)
    open_lights = Counter(problem_light(p).light for p in problems if p.status == ProblemStatus.IN_PROGRESS)
    assert {Light.RED, Light.YELLOW, Light.GREEN} <= set(open_lights)
    # every status came through the workflow: each non-draft problem has the transitions that led to it
    for p in problems:
        last = Transition.objects.filter(problem=p).order_by("-id").first()
        assert last.to_status == p.status
    assert Problem.objects.filter(campaign=c, review_rounds__decision="returned").exists()
    assert LookbackCheck.objects.filter(result="relapsed", reopen_transition__isnull=False).count() == 1
    assert Evidence.objects.filter(problem__campaign=c).exists()
    assert Problem.objects.filter(campaign=c, measures__progress_entries__isnull=False).distinct().count() >= 20
    # spread across units, sources and categories
    assert len({p.lead_unit_id for p in problems}) >= 10
    assert len({p.source_id for p in problems}) >= 6
    assert len({p.category_id for p in problems}) >= 12


@pytest.mark.django_db
def test_demo_is_idempotent_and_resets(settings, tmp_path):
    settings.DEBUG = True
    run()
    counts = (Problem.objects.count(), Transition.objects.count(), AuditEntry.objects.count())
    assert "已存在" in run()
    assert (Problem.objects.count(), Transition.objects.count()) == counts[:2]
    files = [Path(ev.file.path) for ev in Evidence.objects.all()]
    assert files and all(f.exists() for f in files)
    run("--reset")
    assert Campaign.objects.filter(code="ZF2026").count() == 1
    assert Problem.objects.count() == counts[0]
    assert not any(f.exists() for f in files)  # the old evidence files went with their problems


def test_demo_skips_without_the_county_or_the_office_account(county):
    out = StringIO()
    ledger_demo.load_demo(out)  # a county, but not the demo one
    assert "跳过" in out.getvalue()
    units_demo.load_units_and_accounts(StringIO())
    User.objects.filter(username="office").update(is_active=False)
    ledger_demo.load_demo(out)
    assert out.getvalue().count("跳过") == 2
    assert not Campaign.objects.filter(code="ZF2026").exists()
