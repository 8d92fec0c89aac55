"""Two sweeps, two composers, two senders at once: every effect, digest and message exactly once.

Each call runs in a thread with its own connection (see tests/ledger/test_concurrency.py for `race`); the first
call is held inside its transaction just after taking its locks, until the others are blocked or done. On
PostgreSQL these exercise the row locks (the sweep's day row, SKIP LOCKED on effects) and the conditional claim of
a delivery; on SQLite whole write transactions take turns."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.core import mail

from ledger import workflow
from notifications import services as notify
from notifications.models import Channel, Delivery, Effect, Notification
from supervision import sweep
from tests.factories import UserFactory
from tests.ledger.factories import CampaignFactory, make_problem
from tests.ledger.test_concurrency import race, succeeded
from units.models import Role

pytestmark = pytest.mark.django_db(transaction=True)
FRIDAY = dt.date(2022, 6, 10)


@pytest.fixture
def overdue(county, people):
    people.liaison.email = "liaison1@example.cn"
    people.liaison.save()
    UserFactory(username="jtj-2", unit=county.education, roles=[Role.LIAISON], email="l2@example.cn")
    campaign = CampaignFactory()
    for n in range(8):
        p = make_problem(campaign=campaign, by=people.office, lead_unit=county.education,
                         deadline=FRIDAY - dt.timedelta(days=1 + 5 * n))
        workflow.assign(problem=p, by=people.office)
    return campaign


def _one_per_key() -> None:
    per_target = Counter(Delivery.objects.filter(batch=f"sweep:{FRIDAY.isoformat()}")
                         .values_list("channel", "recipient_id", "robot_id"))
    assert per_target and max(per_target.values()) == 1, per_target
    assert Effect.objects.filter(batch__startswith="sweep:", delivery__isnull=True).count() == 0


def test_two_sweeps_of_one_day_at_once_record_everything_once(monkeypatch, overdue):
    outcomes = race(monkeypatch, [lambda: sweep.sweep_record(day=FRIDAY)] * 2, hold=(notify, "effects_record"))

    results = [o.value for o in succeeded(outcomes)]
    assert len(results) == 2, [o.error for o in outcomes]
    assert sorted(r.new_effects for r in results)[0] == 0
    assert sum(r.new_effects for r in results) == Effect.objects.filter(batch__startswith="sweep:").count() > 0
    _one_per_key()


def test_two_composers_at_once_never_share_or_split_a_digest(monkeypatch, overdue):
    plan = sweep.collect(FRIDAY)
    notify.effects_record(plan.specs)
    batches = [f"sweep:{FRIDAY.isoformat()}"]

    outcomes = race(monkeypatch, [lambda: notify.digest_compose(batches=batches, label="t")] * 2,
                    hold=(notify, "_target"))

    made = sorted(len(o.value.deliveries) for o in succeeded(outcomes))
    assert len(made) == 2 and made[0] == 0 and made[1] > 0
    _one_per_key()


def test_two_senders_at_once_send_each_message_once(monkeypatch, overdue):
    sweep.sweep_record(day=FRIDAY)
    mail.outbox.clear()
    pending = Delivery.objects.filter(status="pending").count()
    sent_before = Delivery.objects.filter(status="sent").count()  # the events' in-app notices

    outcomes = race(monkeypatch, [lambda: notify.deliveries_send()] * 3)

    stats = [o.value for o in succeeded(outcomes)]
    assert len(stats) == 3 and sum(s.sent for s in stats) == pending
    assert Delivery.objects.filter(status="sent").count() == sent_before + pending
    ids = Counter(m.extra_headers["Message-ID"] for m in mail.outbox)
    assert len(ids) == Delivery.objects.filter(channel=Channel.EMAIL).count() and max(ids.values()) == 1
    per_person = Counter(Notification.objects.filter(group="overdue").values_list("recipient_id", flat=True))
    assert per_person and max(per_person.values()) == 1
