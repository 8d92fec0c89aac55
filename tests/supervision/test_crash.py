"""The daily sweep with a real Celery worker on Redis: killed in the middle of sending and started again, sent
three times at once, or fired by two beats, every person still hears of every item once.

A worker process (tests/supervision/worker_settings.py: not eager, Redis, the test database, a 10 s visibility
timeout, a 5 s delivery lease, a slow file mail backend) runs `supervision.tasks.daily_sweep` for a fixed working
day over 50 units (a liaison and a leader each, five 分管领导, two office users) and 500 problems 整改中 at every
level. What must hold whatever happened to the worker:

- one effect per (item, level, recipient, channel, day), exactly the ones `supervision.sweep.collect` plans;
- one delivery per recipient and channel for the day's batch, each claimed once (attempts == 1);
- every delivery sent, except the ones in flight when the worker died, which end 结果未知 and are never sent again;
- one in-app digest per recipient; every email (its Message-ID carries the delivery key) received at most once,
  exactly once for a delivery marked sent.

Runs on PostgreSQL with REDIS_URL set and reachable (as in CI); skipped otherwise.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.db import connection

from campaigns.models import Campaign
from ledger.models import Problem, ProblemStatus
from notifications.channels.email import message_id
from notifications.models import Channel, Delivery, DeliveryStatus, Effect, Level, Notification
from notifications.services import deliveries_reap
from supervision.models import Sweep
from supervision.sweep import Plan, collect
from tests.ledger.factories import CampaignFactory
from units.models import Role, Unit, User, UserRole
from units.services import unit_child_path

ROOT = Path(__file__).resolve().parent.parent.parent
DAY = dt.date(2026, 3, 10)  # a Tuesday, a working day
BATCH = f"sweep:{DAY.isoformat()}"
TASK = "supervision.tasks.daily_sweep"
UNITS, OVERSEERS, OFFICE = 50, 5, 2
# Days from DAY to each of a unit's ten deadlines: not due, 提醒 ×2, 催办 ×2, 督办 ×3, 挂牌督办 ×2 (calendar days,
# the campaign's default thresholds: yellow 7, 催办 1, 督办 7, 挂牌 30).
OFFSETS = (20, 6, 0, -1, -3, -7, -12, -29, -30, -75)
BROKER_DB = 5  # a Redis database of these tests' own; each test also has a queue of its own
WAIT = 45  # seconds; only reached when something is wrong
DS = DeliveryStatus


def _broker_url() -> str:
    parts = urlsplit(settings.REDIS_URL)
    return urlunsplit((parts.scheme, parts.netloc, f"/{BROKER_DB}", parts.query, parts.fragment))


def _skip_reason() -> str:
    if connection.vendor != "postgresql":
        return "a worker process needs a database it can share: set DATABASE_URL to PostgreSQL"
    if not getattr(settings, "REDIS_URL", ""):
        return "set REDIS_URL (e.g. redis://127.0.0.1:6379/0) to run the worker on Redis"
    try:
        redis.Redis.from_url(_broker_url(), socket_connect_timeout=1, socket_timeout=1).ping()
    except redis.RedisError as exc:
        return f"Redis at REDIS_URL is not reachable: {exc}"
    return ""


SKIP = _skip_reason()
pytestmark = [pytest.mark.skipif(bool(SKIP), reason=SKIP or "-"), pytest.mark.django_db(transaction=True)]


# ---- the county ------------------------------------------------------------------------------------------------

def build_county() -> Campaign:
    """50 units of 10 problems each, 整改中 with deadlines at every level, and the people around them, in bulk."""
    root = Unit.objects.create(code="CR-ROOT", name="示范县", short_name="示范县")
    root.path = unit_child_path("", root.pk)
    root.save(update_fields=["path"])
    children = Unit.objects.bulk_create(
        [Unit(code="CR-ZFB", name="县作风建设工作领导小组办公室", short_name="作风办", parent=root, depth=1)]
        + [Unit(code=f"CR-{i:02d}", name=f"县直部门{i:02d}", short_name=f"部门{i:02d}", parent=root, depth=1)
           for i in range(1, UNITS + 1)]
    )
    for unit in children:
        unit.path = unit_child_path(root.path, unit.pk)
    Unit.objects.bulk_update(children, ["path"])
    office_unit, units = children[0], children[1:]

    def person(username: str, unit: Unit, name: str) -> User:
        return User(username=username, full_name=name, unit=unit, email=f"{username}@county.example", password="!")

    people: list[tuple[User, str]] = []
    for i, unit in enumerate(units, start=1):
        people += [(person(f"liaison{i:02d}", unit, f"联络员{i:02d}"), Role.LIAISON),
                   (person(f"leader{i:02d}", unit, f"领导{i:02d}"), Role.LEADER)]
    people += [(person(f"overseer{i}", root, f"分管县领导{i}"), Role.LEADER) for i in range(1, OVERSEERS + 1)]
    people += [(person(f"office{i}", office_unit, f"作风办干部{i}"), Role.OFFICE) for i in range(1, OFFICE + 1)]
    users = User.objects.bulk_create([u for u, _ in people])
    UserRole.objects.bulk_create([UserRole(user=u, role=r) for u, (_, r) in zip(users, people, strict=True)])
    overseers = [u for u in users if u.username.startswith("overseer")]
    per = UNITS // OVERSEERS
    User.overseen_units.through.objects.bulk_create([
        User.overseen_units.through(user_id=o.pk, unit_id=unit.pk)
        for n, o in enumerate(overseers) for unit in units[n * per:(n + 1) * per]
    ])

    campaign = CampaignFactory(code="ZF2026", name="深化机关作风整顿专项行动", start_date=dt.date(2026, 1, 1),
                               end_date=dt.date(2026, 12, 31))
    problems = [
        Problem(campaign=campaign, seq=seq, number=f"ZF2026-{seq:04d}", summary=f"作风问题第{seq}条：窗口办事推诿扯皮",
                lead_unit=unit, deadline=DAY + dt.timedelta(days=offset), status=ProblemStatus.IN_PROGRESS)
        for seq, (unit, offset) in enumerate(((u, o) for u in units for o in OFFSETS), start=1)
    ]
    Problem.objects.bulk_create(problems)
    Campaign.objects.filter(pk=campaign.pk).update(last_problem_seq=len(problems))
    return campaign


# ---- processes -------------------------------------------------------------------------------------------------

def wait_for(condition: Callable[[], Any], *, timeout: float = WAIT, step: float = 0.05, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what or condition}")
        time.sleep(step)


def _alive(pgid: int) -> list[int]:
    """The processes of a group that still run (a killed child whose parent died may linger as a zombie)."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # state, ppid, pgrp, …
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(entry.name))
    return alive


@dataclass
class Celeries:
    """Worker and beat processes of one test, each in a process group of its own, all on one queue."""

    tmp: Path
    queue: str
    broker_url: str
    env: dict[str, str]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: dict[int, Path] = field(default_factory=dict)

    def start(self, name: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = self.tmp / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", *args], cwd=ROOT, env={**self.env, **(env or {})},
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        self.procs.append(proc)
        self.logs[proc.pid] = log
        return proc

    def log(self, proc: subprocess.Popen[bytes]) -> str:
        return self.logs[proc.pid].read_text(errors="replace")

    def start_worker(self, name: str) -> subprocess.Popen[bytes]:
        proc = self.start(name, "worker", "-P", "prefork", "-c", "2", "--loglevel=INFO", "-Q", self.queue,
                          "-n", f"{name}-{self.queue}@%h", "--without-gossip", "--without-mingle",
                          "--without-heartbeat")
        wait_for(lambda: " ready." in self.log(proc) or proc.poll() is not None, timeout=60,
                 what=f"worker {name} to start")
        assert proc.poll() is None, f"worker {name} exited:\n{self.log(proc)[-3000:]}"
        return proc

    def start_beat(self, name: str, *, every: float) -> subprocess.Popen[bytes]:
        return self.start(name, "beat", "--loglevel=INFO", "-S", "celery.beat:PersistentScheduler",
                          "-s", str(self.tmp / f"{name}-schedule"),
                          env={"ZG_WORKER_BEAT_EVERY": str(every), "ZG_WORKER_BEAT_DAY": DAY.isoformat()})

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGKILL the whole group (the worker and its pool processes) at once, and wait until none runs."""
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        wait_for(lambda: not _alive(proc.pid), timeout=10, what="the killed worker's processes to end")

    def stop(self, proc: subprocess.Popen[bytes], *, grace: float = 15) -> None:
        """A warm shutdown (SIGTERM to the group), SIGKILL after the grace."""
        if not _alive(proc.pid):
            proc.poll()
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=grace)
            wait_for(lambda: not _alive(proc.pid), timeout=grace, what="the processes to stop")
        except (subprocess.TimeoutExpired, AssertionError):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def sender(self) -> Celery:
        app = Celery(f"sender-{self.queue}", broker=self.broker_url, set_as_current=False, fixups=[])
        app.conf.update(task_default_queue=self.queue, task_serializer="json", accept_content=["json"])
        return app

    def send(self, day: dt.date = DAY) -> str:
        app = self.sender()
        try:
            return app.send_task(TASK, args=[day.isoformat()]).id
        finally:
            app.close()

    def cleanup(self) -> None:
        for proc in self.procs:
            try:
                self.stop(proc, grace=5)
            except ProcessLookupError:
                pass
        client = redis.Redis.from_url(self.broker_url)
        for key in client.scan_iter(match=f"*{self.queue}*"):
            client.delete(key)
        for tag, payload in client.hgetall("unacked").items():  # a killed worker's message, not yet restored
            if self.queue in payload.decode(errors="replace"):
                client.hdel("unacked", tag)
                client.zrem("unacked_index", tag)
        client.close()


@pytest.fixture
def celeries(transactional_db: None, tmp_path: Path) -> Iterator[Celeries]:
    """Torn down before the test database is flushed: no worker is left holding a connection to it."""
    queue = f"crash-{uuid.uuid4().hex[:12]}"
    mail_log = tmp_path / "mail.log"
    mail_log.touch()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.supervision.worker_settings",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])),
        "ZG_WORKER_DB_NAME": connection.settings_dict["NAME"],
        "ZG_WORKER_BROKER_URL": _broker_url(),
        "ZG_WORKER_QUEUE": queue,
        "ZG_WORKER_MAIL_LOG": str(mail_log),
    }
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    harness = Celeries(tmp=tmp_path, queue=queue, broker_url=_broker_url(), env=env)
    try:
        yield harness
    finally:
        harness.cleanup()


# ---- what must hold ----------------------------------------------------------------------------------------------

def batch_state() -> Counter[str]:
    return Counter(Delivery.objects.filter(batch=BATCH).values_list("status", flat=True))


def unfinished() -> int:
    return Delivery.objects.filter(batch=BATCH, status__in=[DS.PENDING, DS.SENDING]).count()


def planned_deliveries(plan: Plan) -> set[tuple[str, int]]:
    return {(s.channel, s.recipient_id) for s in plan.specs if s.recipient_id}


def mail_lines(celeries: Celeries) -> list[tuple[str, str]]:
    text = (celeries.tmp / "mail.log").read_text()
    return [(mid, to) for mid, to, _pid in (line.split("\t") for line in text.splitlines() if line)]


def task_counts(log: str) -> tuple[int, int]:
    received = len(re.findall(rf"Task {re.escape(TASK)}\[[^\]]+\] received", log))
    succeeded = len(re.findall(rf"Task {re.escape(TASK)}\[[^\]]+\] succeeded", log))
    return received, succeeded


def assert_exactly_once(plan: Plan, celeries: Celeries, *, in_flight: set[int]) -> dict[str, int]:
    """Check every exactly-once property of the day's sweep; returns the figures (also put in every message)."""
    deliveries = list(Delivery.objects.filter(batch=BATCH).values(
        "pk", "key", "channel", "recipient_id", "robot_id", "address", "status", "attempts"))
    effects = list(Effect.objects.filter(day=DAY).values_list(
        "key", "ref", "level", "recipient_id", "robot_id", "channel", "day", "delivery_id"))
    notes = Counter(Notification.objects.filter(delivery__batch=BATCH).values_list("recipient_id", flat=True))
    mails = mail_lines(celeries)
    by_mid = Counter(mid for mid, _ in mails)
    by_address = Counter(to for _, to in mails)
    status = Counter(d["status"] for d in deliveries)
    figures = {
        "planned effects": len(plan.specs), "effects": len(effects), "deliveries": len(deliveries),
        "sent": status[DS.SENT], "unknown": status[DS.UNKNOWN], "in flight at the kill": len(in_flight),
        "emails": len(mails), "in-app": sum(notes.values()),
        "sweep runs": Sweep.objects.filter(day=DAY).values_list("runs", flat=True).first() or 0,
    }
    say = f" [{', '.join(f'{k} {v}' for k, v in figures.items())}]"

    # Effects: one per key, exactly the planned ones, each in one of the batch's deliveries.
    planned = {s.key for s in plan.specs}
    assert len(effects) == len(planned), "effects recorded ≠ effects planned" + say
    assert {e[0] for e in effects} == planned, "effects recorded are not the planned ones" + say
    twice = [k for k, n in Counter(e[1:7] for e in effects).items() if n > 1]
    assert not twice, f"an (item, level, recipient, channel, day) recorded twice: {twice[:3]}" + say
    batch_ids = {d["pk"] for d in deliveries}
    assert all(e[7] in batch_ids for e in effects), "an effect is in no delivery of the batch" + say

    # Deliveries: one per recipient and channel, claimed once each.
    per_target = Counter((d["channel"], d["recipient_id"], d["robot_id"]) for d in deliveries)
    assert max(per_target.values()) == 1, "a recipient has two deliveries on one channel" + say
    assert {(c, r) for c, r, _ in per_target} == planned_deliveries(plan), "deliveries ≠ planned recipients" + say
    claimed_twice = [d["pk"] for d in deliveries if d["attempts"] != 1]
    assert not claimed_twice, f"deliveries claimed more than once (sent twice?): {claimed_twice[:5]}" + say

    # Every delivery sent, except those in flight when the worker died: unknown, never sent again.
    unknown = {d["pk"] for d in deliveries if d["status"] == DS.UNKNOWN}
    assert unknown == in_flight, f"unknown {sorted(unknown)} ≠ in flight at the kill {sorted(in_flight)}" + say
    assert status[DS.SENT] + status[DS.UNKNOWN] == len(deliveries), f"deliveries not finished: {status}" + say

    # In-app: one digest per recipient, for every in-app delivery (an in-app send is one transaction: never unknown).
    inapp = {d["recipient_id"] for d in deliveries if d["channel"] == Channel.INAPP}
    assert set(notes) == inapp and max(notes.values()) == 1, "in-app digests ≠ one per recipient" + say

    # Email: at most once per delivery key, exactly once when marked sent, nothing that is not a delivery's.
    emails = {message_id(Delivery(key=d["key"])): d for d in deliveries if d["channel"] == Channel.EMAIL}
    assert set(by_mid) <= set(emails), "an email with no delivery behind it" + say
    assert max(by_mid.values(), default=0) <= 1, f"an email received twice: {by_mid.most_common(3)}" + say
    assert max(by_address.values(), default=0) <= 1, f"a person emailed twice: {by_address.most_common(3)}" + say
    for mid, d in emails.items():
        if d["status"] == DS.SENT:
            assert by_mid[mid] == 1, f"delivery {d['pk']} marked sent, its email not received" + say
    return figures


def report(capsys: pytest.CaptureFixture[str], title: str, figures: dict[str, int]) -> None:
    with capsys.disabled():
        print(f"\n{title}: " + ", ".join(f"{k} {v}" for k, v in figures.items()), flush=True)


# ---- the tests -------------------------------------------------------------------------------------------------

def test_a_worker_killed_mid_sweep_and_started_again_sends_each_digest_once(
    celeries: Celeries, capsys: pytest.CaptureFixture[str]
) -> None:
    build_county()
    plan = collect(DAY)
    total = len(planned_deliveries(plan))
    assert plan.working_day and total > 200
    assert {it.level for it in plan.items} == {Level.REMIND, Level.URGE, Level.SUPERVISE, Level.LISTED}

    first = celeries.start_worker("worker-1")
    celeries.send()
    wait_for(lambda: batch_state()[DS.SENT] >= total // 4, what="a quarter of the digests to be sent")
    celeries.kill(first)
    time.sleep(0.3)  # the database ends the dead connections' transactions
    state = batch_state()
    in_flight = set(Delivery.objects.filter(batch=BATCH, status=DS.SENDING).values_list("pk", flat=True))
    assert 0 < state[DS.SENT] < total, f"the kill did not land mid-sweep: {dict(state)} of {total}"
    assert len(in_flight) <= 1, f"one task sends one delivery at a time, {len(in_flight)} were in flight"
    assert task_counts(celeries.log(first)) == (1, 0), "the first worker should have died running the sweep"

    second = celeries.start_worker("worker-2")  # the message comes back once its visibility timeout has passed

    def finished() -> bool:
        if task_counts(celeries.log(second))[1] < 1:
            return False
        deliveries_reap()  # what send_pending does every minute: a dead sender's lease runs out → 结果未知
        return unfinished() == 0

    wait_for(finished, timeout=60, step=0.2, what="the redelivered sweep to finish every delivery")
    figures = assert_exactly_once(plan, celeries, in_flight=in_flight)
    figures["sent before the kill"] = state[DS.SENT]
    report(capsys, "killed mid-sweep and restarted", figures)
    assert figures["sweep runs"] >= 2, f"the killed sweep was not run again: {figures}"


def test_the_same_days_sweep_sent_three_times_at_once_sends_each_digest_once(
    celeries: Celeries, capsys: pytest.CaptureFixture[str]
) -> None:
    build_county()
    plan = collect(DAY)
    # Each message run once (a run longer than the visibility timeout would be delivered again, harmlessly).
    celeries.env.update(ZG_WORKER_MAIL_DELAY="0.02", ZG_WORKER_VISIBILITY="120")
    worker = celeries.start_worker("worker")
    # A second process (as a second beat on another host would) and two sends at the same moment.
    other = celeries.start("call", "call", TASK, "--args", json.dumps([DAY.isoformat()]))
    apps = [celeries.sender() for _ in range(2)]
    for app in apps:
        app.connection_for_write().ensure_connection(max_retries=3)
    barrier = threading.Barrier(len(apps))
    ids: list[str] = []

    def send(app: Celery) -> None:
        barrier.wait()
        ids.append(app.send_task(TASK, args=[DAY.isoformat()]).id)

    threads = [threading.Thread(target=send, args=(app,)) for app in apps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    for app in apps:
        app.close()
    other.wait(timeout=60)
    assert other.returncode == 0 and len(ids) == 2, celeries.log(other)

    def finished() -> bool:
        return task_counts(celeries.log(worker))[1] >= 3 and unfinished() == 0

    wait_for(finished, timeout=60, step=0.2, what="three sweeps to finish")
    figures = assert_exactly_once(plan, celeries, in_flight=set())
    report(capsys, "three sweeps of one day at once", figures)
    assert figures["sweep runs"] == 3, figures


def test_two_beats_firing_the_sweep_every_two_seconds_send_each_digest_once(
    celeries: Celeries, capsys: pytest.CaptureFixture[str]
) -> None:
    build_county()
    plan = collect(DAY)
    celeries.env.update(ZG_WORKER_MAIL_DELAY="0", ZG_WORKER_VISIBILITY="120")
    worker = celeries.start_worker("worker")
    beats = [celeries.start_beat(name, every=2) for name in ("beat-a", "beat-b")]

    def sends(beat: subprocess.Popen[bytes]) -> int:
        return celeries.log(beat).count(f"Sending due task supervision.daily_sweep ({TASK})")

    wait_for(lambda: all(sends(b) >= 2 for b in beats), timeout=40, step=0.2, what="each beat to fire twice")
    for beat in beats:
        celeries.stop(beat)
    fired = sum(sends(b) for b in beats)

    def finished() -> bool:
        return task_counts(celeries.log(worker))[1] >= fired and unfinished() == 0

    wait_for(finished, timeout=60, step=0.2, what=f"the {fired} sweeps the beats fired to finish")
    figures = assert_exactly_once(plan, celeries, in_flight=set())
    figures["beat sends"] = fired
    report(capsys, "two beats", figures)
    assert figures["sweep runs"] == fired == task_counts(celeries.log(worker))[0], figures
