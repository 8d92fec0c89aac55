"""A measure's status changes only through the workflow, and every change leaves an audit entry.

Each path that can move `Measure.status` (the measure's own status form, a progress entry that marks it, the page
behind it, reopening the problem, a ledger import of new problems and of existing ones) runs with the workflow's one
assignment (`workflow._set_measure_status`) and its public entry (`workflow.measure_set_status`) watched. Every
status the database shows afterwards must be one those calls wrote, from inside the workflow, with its audit entry:
a status written by a raw `.update()` or `.save()` elsewhere, or the private assignment called from outside the
workflow (skipping its lock and its rules), fails the test.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEntry
from ledger import services, workflow
from ledger.excel.importer import apply_ledger
from ledger.models import Measure, MeasureStatus, Problem, ProblemStatus
from tests.ledger.factories import CampaignFactory, make_measure, make_problem

from .test_import_ledger import office, one_problem, rosters, sample  # noqa: F401  (fixtures, a file helper)

M = MeasureStatus
NEW_MEASURE_STATUS = Measure._meta.get_field("status").default


@dataclass(frozen=True)
class Write:
    measure_id: int
    old: str
    new: str
    caller_module: str
    caller: str


@dataclass
class StatusWatch:
    writes: list[Write] = field(default_factory=list)
    entries: list[tuple[int, str]] = field(default_factory=list)  # (measure, status) asked of measure_set_status
    before: dict[int, str] = field(default_factory=dict)

    def start(self) -> None:
        self.writes.clear()
        self.entries.clear()
        self.before = dict(Measure.objects.values_list("pk", "status"))
        self._audit_from = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0

    def check(self) -> dict[int, tuple[str, str]]:
        """Assert that every status change since `start` was the workflow's, with its audit entry; returns the
        changes seen in the database (measure: (before, after))."""
        after = dict(Measure.objects.values_list("pk", "status"))
        changed = {
            pk: (self.before.get(pk, NEW_MEASURE_STATUS), status) for pk, status in after.items()
            if status != self.before.get(pk, NEW_MEASURE_STATUS)
        }
        written: dict[int, str] = {}
        for w in self.writes:
            where = w.caller_module
            assert where == workflow.__name__, f"measure {w.measure_id}'s status assigned by {where}"
            written[w.measure_id] = w.new
        for pk, status in after.items():
            expected = written.get(pk, self.before.get(pk, NEW_MEASURE_STATUS))
            assert status == expected, (
                f"measure {pk} is “{M(status).label}” in the database; through the workflow it is “{M(expected).label}”"
            )
        measure_type = ContentType.objects.get_for_model(Measure)
        audited = [
            (int(e.object_id), e.changes["status"]) for e in AuditEntry.objects.filter(
                id__gt=self._audit_from, content_type=measure_type, changes__has_key="status"
            ).order_by("id")
        ]
        assert audited == [
            (w.measure_id, [M(w.old).label, M(w.new).label]) for w in self.writes if w.old != w.new
        ]
        return changed

    def via_measure_set_status(self) -> bool:
        """Every assignment went through the public entry (the one other code may call)."""
        return all(w.caller == "measure_set_status" for w in self.writes) and sorted(
            (w.measure_id, w.new) for w in self.writes
        ) == sorted(self.entries)


@pytest.fixture
def watch(db, monkeypatch) -> Iterator[StatusWatch]:
    w = StatusWatch()
    assign, entry = workflow._set_measure_status, workflow.measure_set_status

    def watched_assign(measure: Measure, *, status: str, **kwargs: Any) -> None:
        caller = sys._getframe(1)
        w.writes.append(Write(measure.pk, measure.status, status, caller.f_globals["__name__"],
                              caller.f_code.co_name))
        return assign(measure, status=status, **kwargs)

    def watched_entry(*, measure: Measure, status: str, **kwargs: Any) -> Measure:
        w.entries.append((measure.pk, status))
        return entry(measure=measure, status=status, **kwargs)

    monkeypatch.setattr(workflow, "_set_measure_status", watched_assign)
    monkeypatch.setattr(workflow, "measure_set_status", watched_entry)
    w.start()
    yield w


@pytest.fixture
def campaign(db):
    return CampaignFactory(code="ZF2026")


@pytest.fixture
def measure(people, county, campaign) -> Measure:
    p = workflow.assign(problem=make_problem(campaign=campaign, by=people.office, lead_unit=county.education),
                        by=people.office)
    return make_measure(problem=p, unit=county.education)


def run(watch: StatusWatch, step: Callable[[], Any]) -> dict[int, tuple[str, str]]:
    watch.start()
    step()
    return watch.check()


# ---- the paths --------------------------------------------------------------------------------------------------

def test_the_measure_status_form(watch, people, measure):
    changed = run(watch, lambda: workflow.measure_set_status(measure=measure, by=people.liaison, status=M.DONE))
    assert changed == {measure.pk: (M.NOT_STARTED, M.DONE)}
    assert watch.via_measure_set_status()


def test_a_progress_entry_that_marks_the_measure(watch, people, measure):
    changed = run(watch, lambda: services.progress_add(measure=measure, by=people.liaison, text="已推进一半",
                                                       mark_status=M.IN_PROGRESS))
    assert changed == {measure.pk: (M.NOT_STARTED, M.IN_PROGRESS)}
    assert watch.via_measure_set_status()

    changed = run(watch, lambda: services.progress_add(measure=measure, by=people.liaison, text="全部完成",
                                                       mark_status=M.DONE))
    assert changed == {measure.pk: (M.IN_PROGRESS, M.DONE)}
    assert watch.via_measure_set_status()
    assert Measure.objects.get(pk=measure.pk).completed_on == timezone.localdate()


def test_a_progress_entry_without_a_mark_leaves_the_status(watch, people, measure):
    assert run(watch, lambda: services.progress_add(measure=measure, by=people.liaison, text="持续推进")) == {}
    assert watch.writes == []


def test_the_progress_page(watch, client, people, measure):
    client.force_login(people.liaison, backend="django.contrib.auth.backends.ModelBackend")
    url = reverse("ledger:progress_add", args=[measure.pk])
    data = {"on": timezone.localdate().isoformat(), "text": "制度已印发", "mark_status": M.DONE}

    changed = run(watch, lambda: client.post(url, data))

    assert changed == {measure.pk: (M.NOT_STARTED, M.DONE)}
    assert watch.via_measure_set_status()


def test_reopening_a_closed_problem(watch, people, measure):
    problem = measure.problem
    workflow.measure_set_status(measure=measure, by=people.liaison, status=M.DONE)
    workflow.apply(problem=problem, by=people.liaison, summary="措施已完成")
    workflow.approve(problem=problem, by=people.office, opinion="同意销号")

    changed = run(watch, lambda: workflow.reopen(problem=problem, by=people.office, reason="回头看发现反弹",
                                                 deadline=timezone.localdate() + dt.timedelta(days=30)))

    assert changed == {measure.pk: (M.DONE, M.IN_PROGRESS)}
    assert [w.caller for w in watch.writes] == ["reopen"]  # the transition itself, under the problem's lock


def test_a_ledger_import_of_new_problems(watch, office, sample):  # noqa: F811
    report = None

    def do() -> None:
        nonlocal report
        report = apply_ledger(sample, campaign="ZF2022", by=office)

    changed = run(watch, do)

    assert report.ok and report.applied
    assert changed and {after for _, after in changed.values()} <= {M.IN_PROGRESS, M.DONE}
    assert {w.caller for w in watch.writes} == {"import_new"}  # each new problem's recorded state, in one step


def test_a_ledger_import_that_moves_an_existing_measure(watch, office, tmp_path):  # noqa: F811
    assert apply_ledger(one_problem(tmp_path / "1.xlsx", 整改状态="正在推进"), campaign="ZF2022", by=office).ok
    p = Problem.objects.get(campaign__code="ZF2022", seq=1)
    [m] = p.measures.all()
    assert (p.status, m.status) == (ProblemStatus.IN_PROGRESS, M.IN_PROGRESS)

    changed = run(watch, lambda: apply_ledger(one_problem(tmp_path / "2.xlsx", 整改状态="已完成"),
                                              campaign="ZF2022", by=office))

    assert changed == {m.pk: (M.IN_PROGRESS, M.DONE)}
    assert watch.via_measure_set_status()


# ---- the guard itself -------------------------------------------------------------------------------------------

def test_a_status_written_around_the_workflow_is_caught(watch, people, measure):
    watch.start()
    Measure.objects.filter(pk=measure.pk).update(status=M.DONE)
    with pytest.raises(AssertionError, match="in the database; through the workflow it is"):
        watch.check()


def test_the_private_assignment_called_from_outside_the_workflow_is_caught(watch, people, measure):
    watch.start()
    workflow._set_measure_status(measure, by=people.liaison, status=M.DONE)
    with pytest.raises(AssertionError, match="status assigned by tests.ledger.test_workflow_guard"):
        watch.check()

