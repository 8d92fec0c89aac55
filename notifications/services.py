"""Writes of the notification centre: record effects, gather them into digests, send, resend, read.

The exactly-once rule lives here. An effect is inserted under its unique key before anything is sent (a duplicate
insert is ignored); composers of one batch take turns and take the effects under row locks, so an effect is in one
digest and a person gets one digest per channel per batch;
a sender claims a pending delivery by a conditional update before calling the channel and marks it after. A
sender that dies between the call and the mark leaves the row `sending`; when its lease runs out it becomes
`unknown` (结果未知) and is never sent again by itself — the vendors' APIs are not idempotent — only by a person,
from the delivery log.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BigIntegerField, Case, F, Q, Value, When
from django.utils import timezone

from core.audit import Action, audit_record
from units.models import User

from . import channels, digest
from .models import (
    PERSONAL_CHANNELS,
    ROBOT_CHANNELS,
    Channel,
    ChannelSwitch,
    Delivery,
    DeliveryStatus,
    Effect,
    Level,
    Notification,
    Preference,
    Robot,
)

logger = logging.getLogger(__name__)
DS = DeliveryStatus
DIGEST = "digest"  # the batch of effects that wait for the next sweep's digest


# ---- who gets what on which channel ----------------------------------------------------------------------------

def enabled_channels() -> list[str]:
    """Channels this deployment offers and the office allows (in-app always)."""
    offered = [c for c in settings.NOTIFY_CHANNELS if c in Channel.values]
    refused = set(ChannelSwitch.objects.filter(allowed=False).values_list("channel", flat=True))
    return [c for c in offered if c == Channel.INAPP or c not in refused]


def personal_channels(users: Iterable[User]) -> dict[int, list[str]]:
    """{user id: the personal channels they receive on}: in-app always; email when they have an address and have not
    turned it off; SMS when they have a phone number and have not turned it off (for 督办 and above only — see
    `channels_for`). Two queries, whatever the number of users."""
    users = list(users)
    allowed = enabled_channels()
    prefs: dict[tuple[int, str], bool] = {
        (u, c): e for u, c, e in Preference.objects.filter(user__in=[u.pk for u in users]).values_list(
            "user_id", "channel", "enabled")
    }
    out: dict[int, list[str]] = {}
    for u in users:
        chosen = [Channel.INAPP.value]
        if Channel.EMAIL in allowed and u.email and prefs.get((u.pk, Channel.EMAIL), True):
            chosen.append(Channel.EMAIL.value)
        if Channel.SMS in allowed and u.phone and prefs.get((u.pk, Channel.SMS), True):
            chosen.append(Channel.SMS.value)
        out[u.pk] = chosen
    return out


def channels_for(chosen: Sequence[str], level: int) -> list[str]:
    """SMS is for 督办 and above only."""
    return [c for c in chosen if c != Channel.SMS or level >= Level.SUPERVISE]


def robot_usable(robot: Robot | None) -> bool:
    return bool(robot and robot.is_enabled and not robot.disabled_reason and robot.kind in enabled_channels())


# ---- effects ---------------------------------------------------------------------------------------------------

@dataclass
class EffectSpec:
    """An intended piece of news, before it is a row."""

    ref: str
    level: int
    channel: str
    day: dt.date
    group: str
    title: str
    url: str = ""
    recipient_id: int | None = None
    robot_id: int | None = None
    unit_id: int | None = None
    batch: str = DIGEST

    @property
    def key(self) -> str:
        who = f"u{self.recipient_id}" if self.recipient_id else f"r{self.robot_id}"
        return f"{self.ref}|{self.level}|{who}|{self.channel}|{self.day.isoformat()}"[:200]


def effects_record(specs: Sequence[EffectSpec]) -> int:
    """Insert the effects not yet recorded; a key already there (a second run, another worker) is left alone.
    Returns how many were new. Two queries for any number of effects."""
    by_key = {s.key: s for s in specs}
    if not by_key:
        return 0
    # Which keys are taken: by key for an event's few effects; for a sweep's many, every key of its day (a key holds
    # its day) in one query rather than a parameter per key.
    taken = Effect.objects.filter(key__in=list(by_key)) if len(by_key) <= 500 else Effect.objects.filter(
        day__in={s.day for s in specs})
    existing = set(taken.values_list("key", flat=True))
    rows = [
        Effect(key=k, channel=s.channel, recipient_id=s.recipient_id, robot_id=s.robot_id, unit_id=s.unit_id,
               day=s.day, ref=s.ref, group=s.group, level=s.level, title=s.title[:300], url=s.url[:300],
               batch=s.batch)
        for k, s in by_key.items() if k not in existing
    ]
    Effect.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)
    return len(rows)


# ---- digests ---------------------------------------------------------------------------------------------------

@dataclass
class ComposeResult:
    deliveries: list[int] = field(default_factory=list)
    effects: int = 0


def _target(effect: Effect) -> str:
    return f"u{effect.recipient_id}" if effect.recipient_id else f"r{effect.robot_id}"


def _lock_batches(batches: Sequence[str]) -> None:
    """Composers of one batch take turns (PostgreSQL: a transaction-level advisory lock per batch name, taken in
    sorted order; SQLite's write transactions take turns anyway). Row locks alone are not enough: two composers
    scanning at once with SKIP LOCKED would each take part of the rows and one person would get two digests."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for name in sorted(set(batches)):
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"notifications.digest:{name}"])


@transaction.atomic
def digest_compose(*, batches: Sequence[str], label: str, channels_only: Sequence[str] | None = None,
                   name: str = "") -> ComposeResult:
    """Gather the waiting effects of these batches into one delivery per recipient (or robot) per channel.

    Composers of the same batch take turns (`_lock_batches`), and the effects are taken under row locks: a composer
    that comes second finds them gathered, so no effect is in two deliveries and no recipient gets two digests of
    one batch."""
    _lock_batches(batches)
    qs = Effect.objects.filter(delivery__isnull=True, batch__in=list(batches))
    if channels_only is not None:
        qs = qs.filter(channel__in=list(channels_only))
    effects = list(
        qs.select_for_update(skip_locked=True).order_by("id")
        .only("id", "channel", "recipient_id", "robot_id", "unit_id", "group", "level", "title", "url", "batch")
    )
    if not effects:
        return ComposeResult()
    groups: dict[tuple[str, str], list[Effect]] = defaultdict(list)
    for e in effects:
        groups[(e.channel, _target(e))].append(e)
    users = {u.pk: u for u in User.objects.filter(
        pk__in={e.recipient_id for e in effects if e.recipient_id}).select_related("unit")}
    robots = {r.pk: r for r in Robot.objects.filter(
        pk__in={e.robot_id for e in effects if e.robot_id}).select_related("unit")}
    batch = batches[0]
    deliveries: list[Delivery] = []
    members: list[list[Effect]] = []
    for (channel, target), items in groups.items():
        lines = [digest.Line(e.group, e.level, e.title, e.url) for e in items]
        user = users.get(items[0].recipient_id or 0)
        robot = robots.get(items[0].robot_id or 0)
        heading = f"{label}（{robot.unit.display_name if robot and robot.unit else (robot.name if robot else '')}）"
        who = (user.full_name or user.username) if user else ""
        address = (user.email if channel == Channel.EMAIL else user.phone if channel == Channel.SMS else "") \
            if user else ""
        deliveries.append(Delivery(
            key=f"{channel}|{target}|{batch}|e{items[0].pk}"[:200], channel=channel,
            recipient=user, robot=robot, unit_id=(robot.unit_id if robot else user.unit_id if user else None),
            address=address, batch=batch, level=max(e.level for e in items),
            subject=digest.subject(lines, batch_label=label),
            body=digest.render(channel, lines, name=name or who, heading=heading, link="/notifications/"),
            item_count=len(items),
        ))
        members.append(items)
    Delivery.objects.bulk_create(deliveries, batch_size=1000)
    _attach([(e.pk, d.pk) for d, items in zip(deliveries, members, strict=True) for e in items])
    return ComposeResult(deliveries=[d.pk for d in deliveries], effects=len(effects))


def _attach(pairs: Sequence[tuple[int, int]], *, chunk: int = 1000) -> None:
    """Set each effect's delivery: one UPDATE per thousand effects, with a CASE per delivery in it (Django's
    bulk_update builds a CASE branch per row, which took most of a large sweep's time)."""
    for i in range(0, len(pairs), chunk):
        part = pairs[i:i + chunk]
        by_delivery: dict[int, list[int]] = defaultdict(list)
        for effect_id, delivery_id in part:
            by_delivery[delivery_id].append(effect_id)
        Effect.objects.filter(pk__in=[e for e, _ in part]).update(delivery_id=Case(
            *[When(pk__in=ids, then=Value(d)) for d, ids in by_delivery.items()], output_field=BigIntegerField()))


# ---- sending ---------------------------------------------------------------------------------------------------

@dataclass
class SendStats:
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    unknown: int = 0

    def add(self, other: SendStats) -> None:
        self.sent += other.sent
        self.failed += other.failed
        self.deferred += other.deferred
        self.unknown += other.unknown


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 3600))


def deliveries_reap(*, now: dt.datetime | None = None) -> int:
    """A delivery still 发送中 after its lease: its sender died after (or while) calling the channel. Whether the
    message went out is not known; it is marked so and left for a person to resend."""
    now = now or timezone.now()
    return Delivery.objects.filter(status=DS.SENDING, lease_until__lt=now).update(
        status=DS.UNKNOWN, lease_until=None,
        error="发送进程中断，无法确认是否已送达；如需补发，请在发送记录中手动重发。",
    )


def _due(now: dt.datetime) -> Q:
    return Q(status=DS.PENDING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))


def _claim(delivery_id: int, now: dt.datetime) -> bool:
    """pending → sending, with a lease; exactly one caller wins."""
    return Delivery.objects.filter(_due(now), pk=delivery_id).update(
        status=DS.SENDING, attempts=F("attempts") + 1, last_attempt_at=now,
        lease_until=now + dt.timedelta(seconds=settings.DELIVERY_LEASE_SECONDS),
    ) == 1


def _finish(delivery: Delivery, outcome: channels.Outcome, now: dt.datetime) -> SendStats:
    stats = SendStats()
    if outcome.ok:
        Delivery.objects.filter(pk=delivery.pk, status=DS.SENDING).update(
            status=DS.SENT, sent_at=now, lease_until=None, error="", vendor_ref=outcome.vendor_ref[:100])
        stats.sent = 1
        return stats
    if outcome.unknown:
        Delivery.objects.filter(pk=delivery.pk, status=DS.SENDING).update(
            status=DS.UNKNOWN, lease_until=None, error=outcome.error[:500])
        stats.unknown = 1
        return stats
    attempts = Delivery.objects.filter(pk=delivery.pk).values_list("attempts", flat=True).first() or 1
    give_up = outcome.permanent or attempts >= settings.NOTIFY_MAX_ATTEMPTS
    if give_up:
        Delivery.objects.filter(pk=delivery.pk, status=DS.SENDING).update(
            status=DS.FAILED, lease_until=None, error=outcome.error[:500])
        stats.failed = 1
    else:
        wait = dt.timedelta(seconds=outcome.retry_after) if outcome.retry_after else _backoff(attempts)
        # A rate limit is the platform asking to wait, not a failed attempt: it does not count towards the limit.
        counted = F("attempts") - 1 if outcome.retry_after else F("attempts")
        Delivery.objects.filter(pk=delivery.pk, status=DS.SENDING).update(
            status=DS.PENDING, lease_until=None, next_attempt_at=now + wait, error=outcome.error[:500],
            attempts=counted)
        stats.deferred = 1
    return stats


def _defer(delivery_id: int, *, until: dt.datetime, reason: str) -> SendStats:
    """Put a claimed delivery back without counting the attempt (a robot's minute is full, or it is suspended)."""
    Delivery.objects.filter(pk=delivery_id, status=DS.SENDING).update(
        status=DS.PENDING, lease_until=None, next_attempt_at=until, attempts=F("attempts") - 1, error=reason[:500])
    return SendStats(deferred=1)


def delivery_send(*, delivery_id: int, now: dt.datetime | None = None) -> SendStats:
    """Claim one delivery and send it. In-app messages are written in the same transaction as the claim."""
    from . import robots  # the robots module builds on this one's rows

    now = now or timezone.now()
    channel = Delivery.objects.filter(pk=delivery_id).values_list("channel", flat=True).first()
    if channel is None:
        return SendStats()
    if channel == Channel.INAPP:
        with transaction.atomic():
            if not _claim(delivery_id, now):
                return SendStats()
            delivery = Delivery.objects.get(pk=delivery_id)
            outcome = channels.get(Channel.INAPP).send(delivery)
            return _finish(delivery, outcome, now)
    if not _claim(delivery_id, now):
        return SendStats()
    delivery = Delivery.objects.select_related("robot", "recipient").get(pk=delivery_id)
    if channel in ROBOT_CHANNELS:
        slot = robots.reserve(delivery, now=now)
        if not slot.ok:
            if slot.fail:
                return _finish(delivery, channels.Outcome(ok=False, permanent=True, error=slot.reason), now)
            return _defer(delivery_id, until=slot.until or now + dt.timedelta(seconds=60), reason=slot.reason)
    try:
        outcome = channels.get(channel).send(delivery)
    except Exception as exc:  # a channel's bug or an unexpected network error: retried, never lost
        logger.exception("delivery %s failed", delivery_id)
        outcome = channels.Outcome(ok=False, error=f"发送异常：{exc}"[:500])
    if channel in ROBOT_CHANNELS and delivery.robot is not None:
        robots.record_outcome(delivery.robot, outcome, now=now)
    return _finish(delivery, outcome, now)


def deliveries_send(*, ids: Sequence[int] | None = None, limit: int = 500,
                    now: dt.datetime | None = None) -> SendStats:
    """Send what is due: the given deliveries, or every pending one whose time has come (oldest first)."""
    now = now or timezone.now()
    deliveries_reap(now=now)
    qs = Delivery.objects.filter(_due(now))
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    stats = SendStats()
    for pk in list(qs.order_by("id").values_list("pk", flat=True)[:limit]):
        stats.add(delivery_send(delivery_id=pk, now=now))
    return stats


@transaction.atomic
def delivery_resend(*, delivery: Delivery, by: Any, ip: str | None = None) -> Delivery:
    """A person sends a failed (or unknown) message again: a new delivery of the same effects, recorded."""
    delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.status not in (DS.FAILED, DS.UNKNOWN):
        raise ValueError(f"只有“{DS.FAILED.label}”或“{DS.UNKNOWN.label}”的消息可以重发。")
    count = delivery.resends.count() + 1
    copy = Delivery.objects.create(
        key=f"{delivery.key}|resend{count}"[:200], channel=delivery.channel, recipient=delivery.recipient,
        robot=delivery.robot, unit=delivery.unit, address=delivery.address, batch=delivery.batch,
        level=delivery.level, subject=delivery.subject, body=delivery.body, item_count=delivery.item_count,
        resent_from=delivery,
    )
    audit_record(action=Action.CREATE, actor=by, obj=copy, ip=ip, note=f"重发消息（原记录 {delivery.pk}）",
                 changes={"channel": delivery.get_channel_display(), "subject": delivery.subject})
    transaction.on_commit(lambda: _queue_send([copy.pk]))
    return copy


def _queue_send(ids: Sequence[int]) -> None:
    from . import tasks

    tasks.send_deliveries.delay(list(ids))


def queue_send(ids: Sequence[int]) -> None:
    """Send these deliveries after the current transaction commits."""
    ids = list(ids)
    if ids:
        transaction.on_commit(lambda: _queue_send(ids))


# ---- events ----------------------------------------------------------------------------------------------------

@transaction.atomic
def notify(
    *, ref: str, title: str, url: str, recipients: Iterable[User], level: int = Level.INFO, group: str = "event",
    unit_id: int | None = None, robot: Robot | None = None, at: dt.datetime | None = None,
) -> int:
    """An event (分派, 退回, 销号, 重新打开, a 督办单 and its reply): in-app at once, on the recipients' other channels
    (and the unit's robot, when given) in the next digest. Once per event and recipient, however often called."""
    day = timezone.localdate(at) if at else timezone.localdate()
    people = {u.pk: u for u in recipients if u is not None and u.is_active}
    chosen = personal_channels(people.values())
    now_batch = f"now:{ref}"
    specs = []
    for uid, chans in chosen.items():
        for c in channels_for(chans, level):
            specs.append(EffectSpec(ref=ref, level=level, channel=c, day=day, group=group, title=title, url=url,
                                    recipient_id=uid, unit_id=people[uid].unit_id,
                                    batch=now_batch if c == Channel.INAPP else DIGEST))
    if robot_usable(robot) and robot is not None:
        specs.append(EffectSpec(ref=ref, level=level, channel=robot.kind, day=day, group=group, title=title, url=url,
                                robot_id=robot.pk, unit_id=robot.unit_id))
    new = effects_record(specs)
    result = digest_compose(batches=[now_batch], label="通知", channels_only=[Channel.INAPP])
    for pk in result.deliveries:
        # In-app is a row in this transaction: it appears with the event, or not at all if the event rolls back.
        delivery_send(delivery_id=pk)
    return new


# ---- the notification centre -----------------------------------------------------------------------------------

def notification_mark_read(*, user: Any, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (these ids, or all); another user's ids are simply not theirs."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())


@transaction.atomic
def preference_set(*, user: Any, channel: str, enabled: bool) -> Preference:
    if channel not in PERSONAL_CHANNELS or channel == Channel.INAPP:
        raise ValueError("站内消息不能关闭；短信、邮件之外的渠道由作风办按单位设置。")
    if channel not in enabled_channels():
        raise ValueError(f"“{Channel(channel).label}”未开放，不能选择。")
    pref, _ = Preference.objects.update_or_create(user=user, channel=channel, defaults={"enabled": enabled})
    audit_record(action=Action.UPDATE, actor=user, obj=pref, changes={"enabled": enabled})
    return pref


@transaction.atomic
def channel_switch_set(*, channel: str, allowed: bool, by: Any, ip: str | None = None) -> ChannelSwitch:
    if channel == Channel.INAPP:
        raise ValueError("站内消息始终开启。")
    sw, _ = ChannelSwitch.objects.update_or_create(channel=channel, defaults={"allowed": allowed, "updated_by": by})
    audit_record(action=Action.UPDATE, actor=by, obj=sw, ip=ip, changes={"allowed": allowed})
    return sw
