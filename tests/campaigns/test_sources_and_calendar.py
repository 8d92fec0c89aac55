"""Problem sources and the working-day overrides (节假日调整)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from campaigns import services, workdays
from campaigns.models import CalendarOverride, Source
from core.models import AuditEntry
from tests.ledger.factories import make_problem


def listing(campaign) -> list[tuple[str, bool]]:
    return list(Source.objects.filter(campaign=campaign).order_by("sort_order", "id").values_list("name", "is_active"))


def rows_of(campaign) -> list[dict]:
    return [{"id": s.pk, "name": s.name, "is_active": s.is_active}
            for s in Source.objects.filter(campaign=campaign).order_by("sort_order", "id")]


def test_rename_reorder_add_and_deactivate(people, campaign):
    rows = rows_of(campaign)
    rows[6]["name"] = "群众反映（12345/信访）"
    rows[7]["is_active"] = False
    rows.insert(0, rows.pop(3))  # 巡视巡察 first
    rows.append({"id": None, "name": "网络舆情", "is_active": True})
    services.sources_set(campaign=campaign, by=people.office, rows=rows)
    assert listing(campaign) == [
        ("巡视巡察", True), ("自查自纠", True), ("上级通报", True), ("督查反馈", True), ("审计监督", True),
        ("明察暗访", True), ("群众反映（12345/信访）", True), ("其他", False), ("网络舆情", True),
    ]
    entry = AuditEntry.objects.get(action=AuditEntry.Action.UPDATE, object_id=str(campaign.pk))
    assert "其他（停用）" in entry.changes["sources"][1]


def test_left_out_sources_are_deactivated_not_deleted(people, county, campaign):
    used = Source.objects.get(campaign=campaign, name="明察暗访")
    p = make_problem(campaign=campaign, by=people.office, lead_unit=county.education, source=used)
    services.sources_set(campaign=campaign, by=people.office, rows=[{"name": "自查自纠"}])
    assert Source.objects.filter(campaign=campaign).count() == 8
    assert listing(campaign)[0] == ("自查自纠", True)
    assert set(Source.objects.filter(campaign=campaign, is_active=True).values_list("name", flat=True)) == {"自查自纠"}
    p.refresh_from_db()
    assert p.source == used
    # naming a left-out source again brings it back rather than duplicating it
    services.sources_set(campaign=campaign, by=people.office, rows=[{"name": "自查自纠"}, {"name": "明察暗访"}])
    assert Source.objects.get(campaign=campaign, name="明察暗访").pk == used.pk


def test_swapping_two_names_works(people, campaign):
    rows = rows_of(campaign)
    rows[0]["name"], rows[1]["name"] = rows[1]["name"], rows[0]["name"]
    services.sources_set(campaign=campaign, by=people.office, rows=rows)
    assert [n for n, _ in listing(campaign)][:2] == ["上级通报", "自查自纠"]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"name": "甲"}, {"name": "甲"}], "与第1行重复"),
        ([{"name": ""}], "请填写问题来源名称"),
        ([{"name": "甲", "is_active": False}], "至少保留一个启用的问题来源"),
        ([{"name": "甲" * 51}], "不能超过 50 个字符"),
    ],
)
def test_bad_source_lists_are_refused(people, campaign, rows, message):
    before = listing(campaign)
    with pytest.raises(ValidationError, match=message):
        services.sources_set(campaign=campaign, by=people.office, rows=rows)
    assert listing(campaign) == before


def test_a_source_of_another_campaign_cannot_be_touched(people, campaign):
    other = services.campaign_create(by=people.office, name="别的", code="OTHER")
    foreign = Source.objects.filter(campaign=other).first()
    with pytest.raises(ValidationError, match="不属于该专项行动"):
        services.sources_set(campaign=campaign, by=people.office, rows=[{"id": foreign.pk, "name": "改"}])


def test_sources_need_office_or_admin(people, campaign):
    with pytest.raises(PermissionDenied):
        services.sources_set(campaign=campaign, by=people.liaison, rows=[{"name": "甲"}])


# ---- calendar overrides ------------------------------------------------------------------------------------------

def test_override_changes_working_day_arithmetic_and_is_audited(people):
    start = dt.date(2024, 9, 27)
    assert services.deadline_from(start=start, n=10, working=True) == dt.date(2024, 10, 16)
    services.calendar_override_set(by=people.office, date=dt.date(2024, 10, 8), is_workday=False, note="本地调整")
    assert not workdays.is_workday(dt.date(2024, 10, 8))
    assert services.deadline_from(start=start, n=10, working=True) == dt.date(2024, 10, 17)
    # setting the same date again updates it
    o = services.calendar_override_set(by=people.admin, date=dt.date(2024, 10, 8), is_workday=True, note="恢复")
    assert CalendarOverride.objects.count() == 1 and o.note == "恢复"
    services.calendar_override_delete(override=o, by=people.office)
    assert not CalendarOverride.objects.exists()
    actions = list(AuditEntry.objects.filter(content_type__model="calendaroverride").values_list("action", flat=True))
    assert sorted(actions) == ["create", "delete", "update"]


def test_a_year_the_package_does_not_know_uses_weekdays_and_overrides(people):
    # 2027 is beyond chinese-calendar 1.11: weekdays work until the office enters the schedule
    assert workdays.is_workday(dt.date(2027, 1, 4))
    services.calendar_override_set(by=people.office, date=dt.date(2027, 1, 4), is_workday=False, note="元旦调休")
    assert not workdays.is_workday(dt.date(2027, 1, 4))


def test_overrides_need_office_or_admin(people):
    with pytest.raises(PermissionDenied):
        services.calendar_override_set(by=people.leader, date=dt.date(2027, 1, 4), is_workday=False)
    assert not CalendarOverride.objects.exists()


# ---- a year past what the holiday package knows -------------------------------------------------------------------

def test_a_year_the_package_does_not_cover_keeps_the_statutory_holidays(db):
    import datetime as dt

    from campaigns import workdays

    assert workdays.last_covered_year() == 2026
    assert not workdays.is_workday(dt.date(2027, 1, 1), {})  # 元旦 is a day off, though a Friday
    assert not workdays.is_workday(dt.date(2027, 2, 8), {})  # 春节 (a Monday)
    assert not workdays.is_workday(dt.date(2027, 10, 1), {})  # 国庆
    assert workdays.is_workday(dt.date(2027, 1, 4), {})  # an ordinary Monday
    assert not workdays.is_workday(dt.date(2027, 1, 9), {})  # a Saturday
    # the office's overrides still win (e.g. the notice's 调休 make-up day)
    assert workdays.is_workday(dt.date(2027, 1, 9), {dt.date(2027, 1, 9): True})
    # counting working days across 元旦 2027 skips it
    assert workdays.add_working_days(dt.date(2026, 12, 31), 1) == dt.date(2027, 1, 4)


def test_the_pages_say_the_years_arrangement_is_not_entered_yet(client, people):
    import datetime as dt

    import time_machine
    from django.urls import reverse

    from campaigns import selectors, services
    from tests.ledger.factories import CampaignFactory

    campaign = CampaignFactory(start_date=dt.date(2026, 9, 1), end_date=dt.date(2027, 6, 30))
    client.force_login(people.office, backend="django.contrib.auth.backends.ModelBackend")
    with time_machine.travel(dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC), tick=False):
        assert "2027年的国务院节假日调休安排尚未录入" in selectors.calendar_notice()
        for page in (reverse("campaigns:calendar"), reverse("campaigns:campaign_detail", args=[campaign.pk])):
            assert "2027年的国务院节假日调休安排尚未录入" in client.get(page).content.decode(), page
        services.calendar_override_set(by=people.office, date=dt.date(2027, 2, 7), is_workday=True, note="调休上班")
        assert selectors.calendar_notice() == ""
