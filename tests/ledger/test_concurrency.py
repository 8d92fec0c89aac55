"""Simultaneous requests on one problem or one import job: row locks, claims and run locks make them take turns.

Each call runs in its own thread with its own database connection; the calls start together (a barrier). Where the
order matters, the first call is held inside its transaction, just after it has taken its locks and read what it
decides on, until every other call is blocked on a lock or finished: the race window is real and the same on every
run. Without the locks these tests fail (the other call reads the old state and both go through).

Row and advisory locks exist on PostgreSQL only; on SQLite whole write transactions take turns instead
(BEGIN IMMEDIATE with a busy timeout, see config/settings/base.py), which the last test checks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection, connections

from core import jobs
from core.models import AuditEntry, Job
from ledger import workflow
from ledger.excel import importer
from ledger.models import (
    Measure,
    MeasureStatus,
    Problem,
    ProblemStatus,
    ReviewDecision,
    ReviewRound,
    Transition,
    TransitionAction,
)
from tests.factories import UserFactory
from tests.ledger.factories import CampaignFactory, make_measure, make_problem
from units.models import Role, User

from .test_import_ledger import office, rosters, sample  # noqa: F401  (fixtures)

S = ProblemStatus
WAIT = 15  # seconds; only reached when something is wrong
SAMPLE_SUMMARY = "新增 12，更新 0，未变 0，错误 0"

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row and advisory locks (SELECT … FOR UPDATE, pg_try_advisory_xact_lock) exist only on PostgreSQL; "
    "set DATABASE_URL to a PostgreSQL database to run these",
)
sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="checks SQLite's own locking (BEGIN IMMEDIATE and its busy timeout)"
)
pytestmark = pytest.mark.django_db(transaction=True)


# ---- running calls side by side ---------------------------------------------------------------------------------

@dataclass
class Outcome:
    value: Any = None
    error: BaseException | None = None


def _waiting_on_locks() -> int:
    """How many connections to this database wait for a lock another one holds."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return int(cursor.fetchone()[0])


def _until(condition: Callable[[], bool], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)


def _settled(others: Sequence[threading.Thread]) -> bool:
    """Every other call has finished or (PostgreSQL) waits on a lock. SQLite cannot tell; it is given a moment."""
    alive = sum(t.is_alive() for t in others)
    if alive == 0:
        return True
    if connection.vendor == "postgresql":
        return _waiting_on_locks() >= alive
    return False


def race(
    monkeypatch: pytest.MonkeyPatch, calls: Sequence[Callable[[], Any]], *,
    hold: tuple[ModuleType, str] | None = None, ordered: bool = False,
) -> list[Outcome]:
    """Run `calls` at once, each in a thread with its own connection (closed at the end).

    `hold` names a function called after the locks are taken: the first call to return from it stays there, in its
    open transaction, until every other call is blocked or finished. `ordered`: the first call is the one held; the
    others start once it is."""
    held, release, first = threading.Event(), threading.Event(), threading.Lock()
    holder: list[threading.Thread] = []
    if hold is not None:
        module, name = hold
        original = getattr(module, name)

        def holding(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            if first.acquire(blocking=False):
                holder.append(threading.current_thread())
                held.set()
                release.wait(WAIT)
            return result

        monkeypatch.setattr(module, name, holding)

    start = threading.Barrier(len(calls), timeout=WAIT)
    outcomes = [Outcome() for _ in calls]

    def run(i: int, call: Callable[[], Any]) -> None:
        try:
            start.wait()
            if ordered and i > 0:
                held.wait(WAIT)
            outcomes[i].value = call()
        except BaseException as exc:  # noqa: B036  (kept for the test to assert on)
            outcomes[i].error = exc
        finally:
            if ordered and i == 0:
                held.set()  # never leave the others waiting for a call that failed early
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c), name=f"race-{i}", daemon=True) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    if hold is not None:
        _until(lambda: held.is_set() or not any(t.is_alive() for t in threads))
        others = [t for t in threads if t not in holder]
        if connection.vendor == "postgresql":
            _until(lambda: _settled(others))
        else:
            _until(lambda: _settled(others), timeout=0.5)
        release.set()
    for t in threads:
        t.join(WAIT)
    assert not any(t.is_alive() for t in threads), "a call is still running: a lock was never released"
    return outcomes


def succeeded(outcomes: Sequence[Outcome]) -> list[Outcome]:
    return [o for o in outcomes if o.error is None]


def refused(outcomes: Sequence[Outcome]) -> list[workflow.WorkflowError]:
    errors = [o.error for o in outcomes if o.error is not None]
    unexpected = [e for e in errors if not isinstance(e, workflow.WorkflowError)]
    assert not unexpected, f"failed other than by a refusal: {unexpected!r}"
    return [e for e in errors if isinstance(e, workflow.WorkflowError)]


def one_went_through(outcomes: Sequence[Outcome]) -> list[workflow.WorkflowError]:
    """Exactly one call succeeded and every other was refused by the workflow; returns the refusals."""
    errors = refused(outcomes)
    done = len(succeeded(outcomes))
    assert done == 1, f"{done} of {len(outcomes)} calls went through: they did not wait for one another"
    return errors


def fresh(user: User) -> User:
    """Each thread works with its own copy of a user (roles and unit are cached on the instance)."""
    return User.objects.select_related("unit").get(pk=user.pk)


# ---- setup ------------------------------------------------------------------------------------------------------

@pytest.fixture
def campaign(db):
    return CampaignFactory(code="ZF2026")


@pytest.fixture
def ready(people, county, campaign) -> tuple[Problem, Measure]:
    """In progress, its one measure done: ready to apply."""
    p = workflow.assign(problem=make_problem(campaign=campaign, by=people.office, lead_unit=county.education),
                        by=people.office)
    m = make_measure(problem=p, unit=county.education)
    workflow.measure_set_status(measure=m, by=people.liaison, status=MeasureStatus.DONE)
    return p, m


@pytest.fixture
def pending(people, ready) -> Problem:
    p, _ = ready
    workflow.apply(problem=p, by=people.liaison, summary="已建立首问负责制")
    return p


@pytest.fixture
def second_office(people) -> User:
    """A second office clerk, so the two decisions are by different people."""
    return UserFactory(username="office2", full_name="作风办干部二", unit=people.office.unit, roles=[Role.OFFICE])


def counts(problem: Problem) -> dict[str, int]:
    return {
        "transitions": Transition.objects.filter(problem=problem).count(),
        "audit_transitions": AuditEntry.objects.filter(
            action=AuditEntry.Action.TRANSITION, object_id=str(problem.pk)
        ).count(),
    }


# ---- two reviewers decide one application at once -----------------------------------------------------------------

@postgres_only
@pytest.mark.parametrize("second", ["return", "approve"])
def test_two_reviewers_deciding_one_round_at_once_one_decides_the_other_is_refused(
    monkeypatch, people, second_office, pending, second
):
    before = counts(pending)
    decide_second = (
        (lambda: workflow.return_(problem=pending, by=fresh(second_office), opinion="佐证材料不足"))
        if second == "return" else (lambda: workflow.approve(problem=pending, by=fresh(second_office), opinion="同意"))
    )

    outcomes = race(
        monkeypatch,
        [lambda: workflow.approve(problem=pending, by=fresh(people.office), opinion="同意销号"), decide_second],
        hold=(workflow, "_open_round"), ordered=True,
    )

    [error] = one_went_through(outcomes)
    assert outcomes[0].error is None
    verb = "退回" if second == "return" else "核查销号"
    assert (error.kind, error.message) == (workflow.STATE, f"问题 {pending.number} 当前状态为“已销号”，不能{verb}。")
    p = Problem.objects.get(pk=pending.pk)
    assert p.status == S.CLOSED
    [rr] = ReviewRound.objects.filter(problem=p)
    assert (rr.decision, rr.opinion, rr.reviewed_by) == (ReviewDecision.APPROVED, "同意销号", people.office)
    assert counts(p) == {k: v + 1 for k, v in before.items()}
    assert Transition.objects.filter(problem=p).order_by("-id").first().action == TransitionAction.APPROVE


@postgres_only
def test_two_approvals_started_together_record_one_decision(monkeypatch, people, second_office, pending):
    before = counts(pending)

    outcomes = race(monkeypatch, [
        lambda: workflow.approve(problem=pending, by=fresh(people.office), opinion="同意销号"),
        lambda: workflow.approve(problem=pending, by=fresh(second_office), opinion="同意"),
    ], hold=(workflow, "_open_round"))

    [error] = one_went_through(outcomes)
    assert (error.kind, error.message) == (workflow.STATE, f"问题 {pending.number} 当前状态为“已销号”，不能核查销号。")
    [rr] = ReviewRound.objects.filter(problem=pending)
    assert rr.decision == ReviewDecision.APPROVED
    assert counts(pending) == {k: v + 1 for k, v in before.items()}


# ---- an application racing a measure set back to 推进中 -----------------------------------------------------------

@postgres_only
@pytest.mark.parametrize("first", ["apply", "measure"])
def test_apply_racing_a_measure_reopened_never_leaves_a_pending_problem_with_unfinished_work(
    monkeypatch, people, ready, first
):
    problem, measure = ready
    apply = lambda: workflow.apply(problem=problem, by=fresh(people.liaison), summary="措施已全部完成")  # noqa: E731
    reopen_measure = lambda: workflow.measure_set_status(  # noqa: E731
        measure=measure, by=fresh(people.liaison), status=MeasureStatus.IN_PROGRESS, note="发现问题反弹"
    )
    if first == "apply":
        outcomes = race(monkeypatch, [apply, reopen_measure], hold=(workflow, "apply_blockers"), ordered=True)
    else:
        outcomes = race(monkeypatch, [reopen_measure, apply], hold=(workflow, "_set_measure_status"), ordered=True)

    p = Problem.objects.get(pk=problem.pk)
    statuses = set(Measure.objects.filter(problem=p).values_list("status", flat=True))
    assert not (p.status == S.PENDING_REVIEW and statuses != {MeasureStatus.DONE}), (
        f"the problem is 待核查 with a measure {sorted(MeasureStatus(s).label for s in statuses)}"
    )
    [error] = one_went_through(outcomes)
    assert outcomes[0].error is None
    if first == "apply":
        # applied first: the measure waited for it, then found the problem 待核查
        assert (p.status, statuses) == (S.PENDING_REVIEW, {MeasureStatus.DONE})
        assert (error.kind, error.message) == (
            workflow.STATE, f"问题 {p.number} 当前状态为“待核查”，不能修改措施状态。"
        )
        assert ReviewRound.objects.filter(problem=p).count() == 1
    else:
        # the measure first: the application waited for it, then found work unfinished
        assert (p.status, statuses) == (S.IN_PROGRESS, {MeasureStatus.IN_PROGRESS})
        assert error.kind == workflow.INPUT and error.message.startswith("还不能申请销号：")
        assert "推进中" in error.message
        assert not ReviewRound.objects.filter(problem=p).exists()


# ---- one import job confirmed twice at once ---------------------------------------------------------------------

@pytest.fixture
def ledger_job(office, sample):  # noqa: F811
    """A previewed ledger import of the shared sample (12 new problems) into an existing campaign."""
    CampaignFactory(code="ZF2022", name="示范县2022年“改进作风、狠抓落实”年")
    upload = SimpleUploadedFile(sample.name, Path(sample).read_bytes(), content_type="application/octet-stream")
    job = jobs.job_preview(job=jobs.job_import_create(kind="ledger", upload=upload, by=office,
                                                      options={"campaign": "ZF2022"}))
    assert job.status == Job.Status.PREVIEWED and job.can_apply and job.report["summary"] == SAMPLE_SUMMARY
    return job


def count_imports(monkeypatch) -> list[int]:
    """Count the runs of the ledger import (the job engine resolves it by name at run time)."""
    runs: list[int] = []
    original = importer.apply_ledger

    def counted(*args: Any, **kwargs: Any) -> Any:
        runs.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(importer, "apply_ledger", counted)
    return runs


def assert_imported_once(job: Job, runs: list[int]) -> None:
    job.refresh_from_db()
    assert (job.status, job.error) == (Job.Status.DONE, "")
    assert job.report["summary"] == SAMPLE_SUMMARY
    assert len(runs) == 1, f"the import ran {len(runs)} times"
    assert Problem.objects.filter(campaign__code="ZF2022").count() == 12
    assert Transition.objects.filter(action=TransitionAction.IMPORT).count() == 12


@postgres_only
def test_two_confirmations_of_one_job_at_once_import_its_rows_once(monkeypatch, office, ledger_job):  # noqa: F811
    """Both confirmations have read the job as 待确认; the second claims it only after the first has finished."""
    runs = count_imports(monkeypatch)
    both_read, first_done = threading.Barrier(2, timeout=WAIT), threading.Event()
    turn = threading.Lock()
    first: list[threading.Thread] = []
    original = jobs._claim

    def claim_after_reading(job_id: int, **kwargs: Any) -> bool:
        both_read.wait()
        if turn.acquire(blocking=False):
            first.append(threading.current_thread())
        else:
            first_done.wait(WAIT)
        return original(job_id, **kwargs)

    monkeypatch.setattr(jobs, "_claim", claim_after_reading)

    def confirm() -> Job:
        try:
            return jobs.job_apply(job=Job.objects.get(pk=ledger_job.pk), by=fresh(office))
        finally:
            if threading.current_thread() in first:
                first_done.set()

    outcomes = race(monkeypatch, [confirm, confirm])

    assert [o.error for o in outcomes] == [None, None]
    assert {o.value.status for o in outcomes} == {Job.Status.DONE}
    assert_imported_once(ledger_job, runs)


@postgres_only
def test_a_second_run_beside_a_live_one_does_nothing(monkeypatch, office, ledger_job):  # noqa: F811
    """A message delivered twice runs a job whose import is still going on: the second run finds it taken."""
    assert jobs._claim(ledger_job.pk, from_statuses=[Job.Status.PREVIEWED], to=Job.Status.APPLYING,
                       step={"task": "apply", "args": [ledger_job.pk, office.pk, None, {}]})
    runs = count_imports(monkeypatch)
    run = lambda: jobs.job_run_apply(job_id=ledger_job.pk, by_id=office.pk)  # noqa: E731

    outcomes = race(monkeypatch, [run, run], hold=(importer, "apply_ledger"), ordered=True)

    assert [o.error for o in outcomes] == [None, None]
    assert_imported_once(ledger_job, runs)


# ---- SQLite: writers wait their turn ----------------------------------------------------------------------------

@sqlite_only
def test_four_simultaneous_applications_on_sqlite_one_succeeds_three_are_refused(monkeypatch, people, ready):
    problem, _ = ready

    def application(n: int) -> Callable[[], Any]:
        return lambda: workflow.apply(problem=problem, by=fresh(people.liaison), summary=f"第{n}次提交")

    outcomes = race(monkeypatch, [application(n) for n in range(1, 5)], hold=(workflow, "apply_blockers"))

    failed = [o.error for o in outcomes if isinstance(o.error, OperationalError)]
    assert not failed, f"{len(failed)} of 4 failed instead of waiting: {failed[0]}"
    errors = one_went_through(outcomes)
    assert [(e.kind, e.message) for e in errors] == [
        (workflow.STATE, f"问题 {problem.number} 当前状态为“待核查”，不能申请销号。")
    ] * 3
    assert ReviewRound.objects.filter(problem=problem).count() == 1
    assert Transition.objects.filter(problem=problem, action=TransitionAction.APPLY).count() == 1
