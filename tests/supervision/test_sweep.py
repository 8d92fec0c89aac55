"""The daily sweep: levels, recipients, holidays, digests, exactly-once recording and a constant number of queries."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.models import CalendarOverride, DeadlineMode
from ledger import services as ledger_services
from ledger import workflow
from ledger.models import MeasureStatus, Problem
from notifications import crypto
from notifications import services as notify
from notifications.models import Channel, Delivery, Effect, Level, Notification, Robot
from supervision import sweep
from supervision.models import Escalation, SupervisionOrder, Sweep, SweepStatus
from tests.conftest import County, People
from tests.factories import UnitFactory, UserFactory
from tests.ledger.factories import CampaignFactory, make_measure, make_problem
from units.models import Role, User

FRIDAY = dt.date(2022, 6, 10)


@pytest.fixture
def circle(county: County, people: People) -> dict[str, User]:
    """Around 县教育体育局: its liaison (people.liaison), its leader and its 分管领导 (a county leader)."""
    people.liaison.email = "liaison1@example.cn"
    people.liaison.phone = "13800000001"
    people.liaison.save()
    people.office.email = "office1@example.cn"
    people.office.save()
    return {
        "unit_leader": UserFactory(username="jtj-leader", full_name="教体局局长", unit=county.education,
                                   roles=[Role.LEADER], email="leader@example.cn"),
        "overseer": UserFactory(username="county-leader", full_name="副县长", unit=county.root, roles=[Role.LEADER],
                                overseen=[county.education]),
    }


def assigned(campaign, people: People, unit, deadline: dt.date | None, **values) -> Problem:
    p = make_problem(campaign=campaign, by=people.office, lead_unit=unit, deadline=deadline, **values)
    return workflow.assign(problem=p, by=people.office)


def recipients_of(ref: str, *, channel: str = Channel.INAPP) -> set[str]:
    return set(Effect.objects.filter(ref=ref, channel=channel).values_list("recipient__username", flat=True))


def swept():
    return Effect.objects.filter(batch__startswith="sweep:")


def levels_of(ref: str) -> set[int]:
    return set(Effect.objects.filter(ref=ref).values_list("level", flat=True))


# ---- levels and who hears of them -------------------------------------------------------------------------------

def test_each_level_reaches_its_circle_on_a_calendar_day_campaign(county, people, circle):
    campaign = CampaignFactory(deadline_mode=DeadlineMode.CALENDAR)
    soon = assigned(campaign, people, county.education, FRIDAY + dt.timedelta(days=5))
    urge = assigned(campaign, people, county.education, FRIDAY - dt.timedelta(days=1))
    supervise = assigned(campaign, people, county.education, FRIDAY - dt.timedelta(days=7))
    listed = assigned(campaign, people, county.education, FRIDAY - dt.timedelta(days=30))
    green = assigned(campaign, people, county.education, FRIDAY + dt.timedelta(days=30))

    result = sweep.sweep_record(day=FRIDAY)

    assert result.levels == {"提醒": 1, "催办": 1, "督办": 1, "挂牌督办": 1}
    office = {people.office.username}
    assert recipients_of(f"problem:{soon.pk}") == {"liaison1"}
    assert levels_of(f"problem:{soon.pk}") == {Level.REMIND}
    assert recipients_of(f"problem:{urge.pk}") == {"liaison1", "jtj-leader", "county-leader"}
    assert levels_of(f"problem:{urge.pk}") == {Level.URGE}
    assert recipients_of(f"problem:{supervise.pk}") == {"liaison1", "jtj-leader", "county-leader", *office}
    assert recipients_of(f"problem:{listed.pk}") == {"liaison1", "jtj-leader", "county-leader", *office}
    assert levels_of(f"problem:{listed.pk}") == {Level.LISTED}
    assert not Effect.objects.filter(ref=f"problem:{green.pk}").exists()
    # The sibling unit's liaison hears of none of it.
    assert not Effect.objects.filter(recipient=people.sibling_liaison).exists()

    listed.refresh_from_db()
    supervise.refresh_from_db()
    assert listed.listed and "每日巡查自动挂牌督办" in listed.listed_reason
    assert not supervise.listed
    assert set(Escalation.objects.filter(problem=listed).values_list("level", flat=True)) == {
        Level.URGE, Level.SUPERVISE, Level.LISTED}
    assert set(Escalation.objects.filter(problem=supervise).values_list("level", flat=True)) == {
        Level.URGE, Level.SUPERVISE}


def test_problems_not_in_progress_are_not_chased(county, people, circle):
    campaign = CampaignFactory()
    draft = make_problem(campaign=campaign, by=people.office, lead_unit=county.education,
                         deadline=FRIDAY - dt.timedelta(days=40))
    pending = assigned(campaign, people, county.education, FRIDAY - dt.timedelta(days=40))
    m = make_measure(problem=pending, unit=county.education, deadline=FRIDAY - dt.timedelta(days=40))
    workflow.measure_set_status(measure=m, by=people.office, status=MeasureStatus.DONE)
    ledger_services.progress_add(measure=m, by=people.liaison, on=FRIDAY, text="已完成整改")
    workflow.apply(problem=pending, by=people.liaison, summary="整改完毕")
    no_deadline = assigned(campaign, people, county.education, None, rectification_type="long_term")

    result = sweep.sweep_record(day=FRIDAY)

    assert result.effects == 0
    assert not Effect.objects.filter(ref__in=[f"problem:{p.pk}" for p in (draft, pending, no_deadline)]).exists()


def test_a_measure_with_its_own_deadline_escalates_for_its_own_unit(county, people, circle):
    campaign = CampaignFactory()
    problem = assigned(campaign, people, county.education, FRIDAY + dt.timedelta(days=60))
    make_measure(problem=problem, unit=county.finance, deadline=FRIDAY - dt.timedelta(days=10))

    sweep.sweep_record(day=FRIDAY)

    effects = Effect.objects.filter(ref=f"problem:{problem.pk}", channel=Channel.INAPP)
    assert set(effects.values_list("recipient__username", flat=True)) >= {"liaison2"}
    assert "liaison1" not in set(effects.values_list("recipient__username", flat=True))
    assert set(effects.filter(recipient=people.sibling_liaison).values_list("level", flat=True)) == {Level.SUPERVISE}
    # The problem's level is its worst measure's.
    assert set(Escalation.objects.filter(problem=problem).values_list("level", flat=True)) == {
        Level.URGE, Level.SUPERVISE}


def test_a_done_measure_does_not_escalate(county, people, circle):
    campaign = CampaignFactory()
    problem = assigned(campaign, people, county.education, FRIDAY + dt.timedelta(days=60))
    m = make_measure(problem=problem, unit=county.finance, deadline=FRIDAY - dt.timedelta(days=10))
    workflow.measure_set_status(measure=m, by=people.office, status=MeasureStatus.DONE)

    assert sweep.sweep_record(day=FRIDAY).effects == 0


# ---- working days and holidays ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("mode", "deadline", "day", "level", "days"),
    [
        # 国庆 2024: 10月1日–7日 off, 9月29日 (Sunday) and 10月12日 (Saturday) are make-up working days.
        (DeadlineMode.WORKING, dt.date(2024, 9, 30), dt.date(2024, 10, 8), Level.URGE, 1),
        (DeadlineMode.CALENDAR, dt.date(2024, 9, 30), dt.date(2024, 10, 8), Level.SUPERVISE, 8),
        (DeadlineMode.WORKING, dt.date(2024, 9, 27), dt.date(2024, 10, 12), Level.SUPERVISE, 7),
        # 春节 2025: 1月28日–2月4日 off, 1月26日 (Sunday) and 2月8日 (Saturday) are make-up working days.
        (DeadlineMode.WORKING, dt.date(2025, 1, 27), dt.date(2025, 2, 5), Level.URGE, 1),
        (DeadlineMode.CALENDAR, dt.date(2025, 1, 27), dt.date(2025, 2, 5), Level.SUPERVISE, 9),
        (DeadlineMode.WORKING, dt.date(2025, 1, 10), dt.date(2025, 2, 8), Level.SUPERVISE, 16),
    ],
)
def test_levels_across_holidays_count_as_the_campaign_says(county, people, circle, mode, deadline, day, level,
                                                           days):
    campaign = CampaignFactory(deadline_mode=mode)
    problem = assigned(campaign, people, county.education, deadline)

    plan = sweep.collect(day)

    assert plan.working_day
    [item] = [it for it in plan.items if it.problem_id == problem.pk]
    assert (item.level, item.days) == (level, days)


@pytest.mark.parametrize("holiday", [dt.date(2024, 10, 1), dt.date(2024, 10, 7), dt.date(2025, 1, 29),
                                     dt.date(2025, 2, 1), dt.date(2022, 6, 11)])
def test_nothing_is_sent_on_a_holiday_or_a_weekend(county, people, circle, holiday):
    campaign = CampaignFactory()
    assigned(campaign, people, county.education, holiday - dt.timedelta(days=3))
    mail.outbox.clear()

    result = sweep.sweep_and_send(day=holiday)

    assert result["working_day"] is False
    assert not swept().exists() and not Delivery.objects.filter(batch__startswith="sweep:").exists()
    assert not mail.outbox
    assert Sweep.objects.get(day=holiday).status == SweepStatus.SKIPPED


def test_what_fell_due_on_a_holiday_goes_out_on_the_next_working_day(county, people, circle):
    campaign = CampaignFactory(deadline_mode=DeadlineMode.CALENDAR)
    problem = assigned(campaign, people, county.education, dt.date(2024, 10, 2))  # in the 国庆 holiday
    for day in (dt.date(2024, 10, 3), dt.date(2024, 10, 5), dt.date(2024, 10, 7)):
        sweep.sweep_and_send(day=day)
    assert not swept().exists()

    sweep.sweep_and_send(day=dt.date(2024, 10, 8))

    assert levels_of(f"problem:{problem.pk}") == {Level.URGE}
    assert Notification.objects.filter(recipient=people.liaison, group="overdue").count() == 1


def test_the_office_overrides_decide_a_working_day(county, people, circle):
    campaign = CampaignFactory()
    problem = assigned(campaign, people, county.education, FRIDAY - dt.timedelta(days=3))
    CalendarOverride.objects.create(date=FRIDAY, is_workday=False, note="临时放假")

    assert sweep.sweep_record(day=FRIDAY).working_day is False
    assert not Effect.objects.filter(ref=f"problem:{problem.pk}").exists()


# ---- 催报 and 督办单 -----------------------------------------------------------------------------------------------

def test_a_measure_without_progress_for_k_days_gets_a_reminder_to_report(county, people, circle):
    start = dt.datetime(2026, 3, 2, 9, tzinfo=timezone.get_current_timezone())
    with time_machine.travel(start, tick=False):
        campaign = CampaignFactory(report_stale_days=14, start_date=dt.date(2026, 3, 1),
                                   end_date=dt.date(2026, 12, 31))
        problem = assigned(campaign, people, county.education, dt.date(2026, 9, 30))
        quiet = make_measure(problem=problem, unit=county.finance, deadline=dt.date(2026, 9, 30))
        busy = make_measure(problem=problem, unit=county.education, deadline=dt.date(2026, 9, 30))
        for m in (quiet, busy):
            workflow.measure_set_status(measure=m, by=people.office, status=MeasureStatus.IN_PROGRESS)
    ledger_services.progress_add(measure=busy, by=people.liaison, on=dt.date(2026, 3, 12), text="召开专题会议")

    day = dt.date(2026, 3, 20)  # Friday: 18 days after the start, 8 after the busy measure's progress
    plan = sweep.collect(day)

    reports = [it for it in plan.items if it.kind == "report"]
    assert [(it.ref, it.unit_id) for it in reports] == [(f"measure:{quiet.pk}", county.finance.pk)]
    sweep.sweep_record(day=day)
    assert recipients_of(f"measure:{quiet.pk}") == {"liaison2"}
    assert levels_of(f"measure:{quiet.pk}") == {Level.REPORT}


def test_an_unanswered_order_escalates_like_a_deadline(county, people, circle):
    campaign = CampaignFactory()
    problem = assigned(campaign, people, county.education, FRIDAY + dt.timedelta(days=40))
    order = SupervisionOrder.objects.create(
        problem=problem, year=2022, seq=3, level=Level.SUPERVISE, requirements="限期整改到位",
        reply_deadline=FRIDAY - dt.timedelta(days=2), issued_by=people.office, issued_at=timezone.now(),
    )
    answered = SupervisionOrder.objects.create(
        problem=problem, year=2022, seq=4, level=Level.SUPERVISE, requirements="限期整改到位", status="replied",
        reply_deadline=FRIDAY - dt.timedelta(days=2), issued_by=people.office, issued_at=timezone.now(),
    )

    sweep.sweep_record(day=FRIDAY)

    effects = Effect.objects.filter(ref=f"order:{order.pk}", channel=Channel.INAPP)
    assert set(effects.values_list("group", flat=True)) == {"order"}
    # Two days late is a 催办 by the policy, but an unanswered 督办单 stays at least at its own level.
    assert set(effects.values_list("level", flat=True)) == {Level.SUPERVISE}
    assert "督办〔2022〕3号" in effects.first().title
    assert not Effect.objects.filter(ref=f"order:{answered.pk}").exists()
    notify.deliveries_send()
    [note] = Notification.objects.filter(recipient=people.liaison, group__in=["order", "overdue"])
    assert "1个督办单待回复" in note.title


# ---- digests and channels ---------------------------------------------------------------------------------------

def test_one_digest_per_person_and_channel_lists_every_item(county, people, circle):
    campaign = CampaignFactory()
    for n in range(3):
        assigned(campaign, people, county.education, FRIDAY - dt.timedelta(days=2 + n), summary=f"逾期问题{n}")
    for n in range(2):
        assigned(campaign, people, county.education, FRIDAY + dt.timedelta(days=2 + n), summary=f"临期问题{n}")
    mail.outbox.clear()

    sweep.sweep_and_send(day=FRIDAY)

    [note] = Notification.objects.filter(recipient=people.liaison, group="overdue")
    assert note.title.endswith("您有3个问题逾期、2个临期")
    assert len(note.items) == 5 and all(i["url"].startswith("/ledger/") for i in note.items)
    to_liaison = [m for m in mail.outbox if m.to == ["liaison1@example.cn"]]
    assert len(to_liaison) == 1
    assert "您有3个问题逾期、2个临期" in to_liaison[0].body and "逾期问题2" in to_liaison[0].body
    assert "http://testserver/ledger/" in to_liaison[0].body
    assert Delivery.objects.filter(recipient=people.liaison, channel=Channel.EMAIL).count() == 1


def test_sms_carries_only_supervise_and_above(county, people, circle):
    campaign = CampaignFactory()
    assigned(campaign, people, county.education, FRIDAY - dt.timedelta(days=2))  # 催办
    sweep.sweep_record(day=FRIDAY)
    assert not Effect.objects.filter(channel=Channel.SMS).exists()

    assigned(campaign, people, county.education, FRIDAY - dt.timedelta(days=8))  # 督办
    sweep.sweep_record(day=FRIDAY + dt.timedelta(days=3))
    sms = Delivery.objects.get(channel=Channel.SMS, recipient=people.liaison)
    assert sms.level >= Level.SUPERVISE and sms.address == "13800000001"
    assert "http" not in sms.body  # SMS templates may not carry links


def test_a_unit_robot_gets_one_message_per_sweep(county, people, circle):
    campaign = CampaignFactory()
    robot = Robot.objects.create(kind=Channel.WECOM, name="教体局工作群", unit=county.education,
                                 webhook_encrypted=crypto.encrypt("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"))
    for n in range(4):
        assigned(campaign, people, county.education, FRIDAY - dt.timedelta(days=1 + 10 * n))

    sweep.sweep_record(day=FRIDAY)

    [message] = Delivery.objects.filter(robot=robot)
    assert message.item_count == 4 and message.channel == Channel.WECOM
    assert message.body.startswith("### ") and "您有" in message.body


def test_a_user_who_turned_email_off_gets_none(county, people, circle):
    campaign = CampaignFactory()
    assigned(campaign, people, county.education, FRIDAY - dt.timedelta(days=2))
    notify.preference_set(user=people.liaison, channel=Channel.EMAIL, enabled=False)

    sweep.sweep_record(day=FRIDAY)

    assert recipients_of(Effect.objects.first().ref, channel=Channel.EMAIL) == {"jtj-leader"}


# ---- exactly once -------------------------------------------------------------------------------------------------

def test_running_the_sweep_twice_records_and_sends_nothing_the_second_time(county, people, circle):
    campaign = CampaignFactory()
    for n in range(6):
        assigned(campaign, people, county.education, FRIDAY - dt.timedelta(days=1 + 7 * n))
    mail.outbox.clear()

    first = sweep.sweep_and_send(day=FRIDAY)
    effects, deliveries, emails = swept().count(), Delivery.objects.count(), len(mail.outbox)
    second = sweep.sweep_and_send(day=FRIDAY)

    assert first["new_effects"] == effects > 0
    assert first["sent"] == Delivery.objects.filter(batch=f"sweep:{FRIDAY.isoformat()}").count() > 0
    assert second["new_effects"] == 0 and second["sent"] == 0 and second["listed"] == 0
    assert (swept().count(), Delivery.objects.count(), len(mail.outbox)) == (effects, deliveries, emails)
    assert Sweep.objects.get(day=FRIDAY).runs == 2
    # The next working day is a new day: the same items are told again, once.
    sweep.sweep_and_send(day=FRIDAY + dt.timedelta(days=3))
    assert Notification.objects.filter(recipient=people.liaison, group="overdue").count() == 2


def test_a_second_composer_finds_nothing_to_gather(county, people, circle):
    campaign = CampaignFactory()
    assigned(campaign, people, county.education, FRIDAY - dt.timedelta(days=3))
    sweep.sweep_record(day=FRIDAY)
    count = Delivery.objects.count()

    again = notify.digest_compose(batches=[f"sweep:{FRIDAY.isoformat()}", notify.DIGEST], label="x")

    assert again.deliveries == [] and Delivery.objects.count() == count


def test_a_delivery_whose_sender_died_is_never_sent_again_by_itself(county, people, circle):
    campaign = CampaignFactory()
    assigned(campaign, people, county.education, FRIDAY - dt.timedelta(days=3))
    sweep.sweep_record(day=FRIDAY)
    email = Delivery.objects.filter(channel=Channel.EMAIL).first()
    now = timezone.now()
    # A sender claimed it (pending → sending) and died before marking it.
    assert notify._claim(email.pk, now)
    mail.outbox.clear()

    notify.deliveries_send(now=now + dt.timedelta(hours=1))

    email.refresh_from_db()
    assert email.status == "unknown" and "无法确认" in email.error
    assert not [m for m in mail.outbox if m.to == [email.address]]
    copy = notify.delivery_resend(delivery=email, by=people.office)
    assert copy.status == "pending" and copy.resent_from == email


def test_a_failing_email_is_retried_with_backoff_then_failed(county, people, circle, settings):
    settings.EMAIL_BACKEND = "tests.supervision.test_sweep.BrokenBackend"
    settings.NOTIFY_MAX_ATTEMPTS = 3
    campaign = CampaignFactory()
    assigned(campaign, people, county.education, FRIDAY - dt.timedelta(days=3))
    sweep.sweep_record(day=FRIDAY)
    email = Delivery.objects.filter(channel=Channel.EMAIL, recipient=people.liaison).get()
    now = timezone.now()

    notify.deliveries_send(ids=[email.pk], now=now)
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("pending", 1)
    assert email.next_attempt_at == now + dt.timedelta(seconds=60)
    notify.deliveries_send(ids=[email.pk], now=now + dt.timedelta(seconds=30))  # not yet due
    email.refresh_from_db()
    assert email.attempts == 1
    notify.deliveries_send(ids=[email.pk], now=now + dt.timedelta(seconds=61))
    notify.deliveries_send(ids=[email.pk], now=now + dt.timedelta(seconds=200))
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("failed", 3) and "邮件发送失败" in email.error


class BrokenBackend:
    def __init__(self, *args, **kwargs) -> None:
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("连接被拒绝")


# ---- events ---------------------------------------------------------------------------------------------------------

def test_events_are_in_app_at_once_and_on_channels_in_the_next_digest(county, people, circle):
    campaign = CampaignFactory()
    problem = make_problem(campaign=campaign, by=people.office, lead_unit=county.education, deadline=FRIDAY)
    mail.outbox.clear()

    workflow.assign(problem=problem, by=people.office, co_units=[county.finance])

    assert Notification.objects.filter(recipient=people.liaison, title__startswith="新分派问题").count() == 1
    assert Notification.objects.filter(recipient=people.sibling_liaison).count() == 1  # the co-unit
    assert not mail.outbox  # email waits for the digest
    sweep.sweep_and_send(day=FRIDAY)
    [email] = [m for m in mail.outbox if m.to == ["liaison1@example.cn"]]
    assert "新分派问题" in email.body and "临期" in email.body


def test_a_return_tells_the_lead_liaisons_with_the_opinion(county, people, circle):
    campaign = CampaignFactory()
    problem = assigned(campaign, people, county.education, FRIDAY)
    m = make_measure(problem=problem, unit=county.education)
    workflow.measure_set_status(measure=m, by=people.office, status=MeasureStatus.DONE)
    ledger_services.progress_add(measure=m, by=people.liaison, on=FRIDAY, text="已整改")
    workflow.apply(problem=problem, by=people.liaison, summary="整改完毕")

    workflow.return_(problem=problem, by=people.office, opinion="佐证材料不全，请补充会议记录")

    note = Notification.objects.filter(recipient=people.liaison).order_by("-id").first()
    assert "退回" in note.title and "佐证材料不全" in note.title
    assert note.url == f"/ledger/{problem.pk}/"


# ---- a constant number of queries --------------------------------------------------------------------------------

def _queries(fn) -> int:
    """Statements run, a bulk insert or update counted once: the database driver splits one into batches by its
    parameter limit (999 on SQLite), which is not a query per item."""
    with CaptureQueriesContext(connection) as ctx:
        fn()
    count, previous = 0, ""
    for q in ctx.captured_queries:
        head = " ".join(q["sql"].split()[:5])
        bulk = head.startswith(("INSERT", "UPDATE"))
        if not (bulk and head == previous):
            count += 1
        previous = head if bulk else ""
    return count


def _county_with(n: int, county: County, people: People) -> None:
    campaign = CampaignFactory()
    units = [UnitFactory(parent=county.root) for _ in range(max(n // 5, 1))]
    for i, unit in enumerate(units):
        UserFactory(unit=unit, roles=[Role.LIAISON], email=f"l{i}@example.cn")
    for i in range(n):
        unit = units[i % len(units)]
        p = assigned(campaign, people, unit, FRIDAY - dt.timedelta(days=(i % 4) * 12 - 3))
        make_measure(problem=p, unit=units[(i + 1) % len(units)], deadline=FRIDAY - dt.timedelta(days=i % 40))


@pytest.mark.parametrize("what", ["collect", "record"])
def test_the_sweep_runs_the_same_number_of_queries_at_5_and_40_items(db, county, people, what):
    counts = []
    for n in (5, 40):
        Problem.objects.all().delete()
        _county_with(n, county, people)
        day = FRIDAY + dt.timedelta(days=7 * len(counts))
        fn = (lambda d=day: sweep.collect(d)) if what == "collect" else (lambda d=day: sweep.sweep_record(day=d))
        counts.append(_queries(fn))
    assert counts[0] == counts[1], counts


# ---- the command ---------------------------------------------------------------------------------------------------

def test_send_reminders_dry_run_lists_levels_and_recipients_and_writes_nothing(county, people, circle):
    campaign = CampaignFactory()
    assigned(campaign, people, county.education, FRIDAY - dt.timedelta(days=8), summary="食堂账目不清")
    out = StringIO()

    call_command("send_reminders", "--date", "2022-06-10", "--dry-run", stdout=out)

    text = out.getvalue()
    assert "2022-06-10（星期五）每日督办巡查（试运行" in text
    assert "督办：1 项" in text
    assert "教体局联络员（教体局）" in text and "食堂账目不清" in text
    assert not swept().exists() and not Sweep.objects.exists()


def test_send_reminders_twice_sends_nothing_the_second_time(county, people, circle):
    campaign = CampaignFactory()
    assigned(campaign, people, county.education, FRIDAY - dt.timedelta(days=8))
    call_command("send_reminders", "--date", "2022-06-10", stdout=StringIO())
    out = StringIO()

    call_command("send_reminders", "--date", "2022-06-10", stdout=out)

    assert "其中新增 0 条" in out.getvalue() and "未重复发送" in out.getvalue()


def test_send_reminders_refuses_a_wrong_date(db):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="日期格式不正确：2022-13-01"):
        call_command("send_reminders", "--date", "2022-13-01")


def test_send_reminders_on_the_shared_ledger(db, shared_data: Path, tmp_path):
    call_command("import_units", str(shared_data / "units_roster.xlsx"), stdout=StringIO())
    call_command("import_users", str(shared_data / "users_roster.xlsx"), stdout=StringIO())
    call_command("import_ledger", str(shared_data / "problem_ledger.xlsx"), "--campaign", "ZF2022",
                 stdout=StringIO())
    out = StringIO()

    call_command("send_reminders", "--date", "2022-06-10", "--dry-run", stdout=out)
    assert "挂牌督办：" in out.getvalue() and "按接收人：" in out.getvalue()
    call_command("send_reminders", "--date", "2022-06-10", stdout=StringIO())
    first = (Effect.objects.count(), Delivery.objects.count(), Notification.objects.count())
    again = StringIO()
    call_command("send_reminders", "--date", "2022-06-10", stdout=again)

    assert first[0] > 0 and "其中新增 0 条" in again.getvalue()
    assert (Effect.objects.count(), Delivery.objects.count(), Notification.objects.count()) == first
