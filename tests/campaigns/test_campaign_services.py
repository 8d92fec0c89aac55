"""Creating and editing campaigns, their phases and policy, through the services the pages call."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from campaigns import selectors, services
from campaigns.models import DEFAULT_SOURCES, Campaign, CampaignStatus, DeadlineMode, PhaseKind
from core.models import AuditEntry
from tests.ledger.factories import make_problem


def test_create_offers_the_four_phases_and_the_default_sources(people, county):
    c = services.campaign_create(
        by=people.office, name="  兴“十风”治“十弊”  ", code="SF2024", jurisdiction=[county.root],
        start_date=dt.date(2024, 3, 1), end_date=dt.date(2024, 12, 31), yellow_window_days=5,
        deadline_mode=DeadlineMode.WORKING,
    )
    c.refresh_from_db()
    assert c.name == "兴“十风”治“十弊”" and c.created_by == people.office
    assert c.status == CampaignStatus.PREPARING and c.yellow_window_days == 5 and c.deadline_mode == "working"
    assert [p.kind for p in c.phases.all()] == [
        PhaseKind.INVESTIGATION, PhaseKind.RECTIFICATION, PhaseKind.DYNAMIC, PhaseKind.LOOKBACK
    ]
    assert [str(p) for p in c.phases.all()] == ["集中排查", "集中整改", "动态整改", "回头看"]
    assert list(c.sources.values_list("name", flat=True)) == list(DEFAULT_SOURCES)
    assert list(c.jurisdiction.all()) == [county.root]
    entry = AuditEntry.objects.get(object_id=str(c.pk), content_type__model="campaign")
    assert entry.action == AuditEntry.Action.CREATE and entry.actor == people.office
    assert entry.changes["code"] == "SF2024"


def test_create_takes_given_phases_in_order(people):
    c = services.campaign_create(
        by=people.admin, name="作风整顿", code="ZF2022",
        phases=[
            {"kind": PhaseKind.INVESTIGATION, "name": "", "deadline": dt.date(2022, 3, 13), "note": "报问题台账"},
            {"kind": PhaseKind.RECTIFICATION, "name": "集中整改阶段", "deadline": dt.date(2022, 6, 30)},
        ],
    )
    assert [(p.kind, str(p), p.deadline) for p in c.phases.all()] == [
        ("investigation", "集中排查", dt.date(2022, 3, 13)),
        ("rectification", "集中整改阶段", dt.date(2022, 6, 30)),
    ]


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"start_date": dt.date(2026, 5, 1), "end_date": dt.date(2026, 4, 30)}, "end_date", "结束日期不能早于开始日期"),
        ({"code": "ZF 2026"}, "code", "只能由字母、数字"),
        ({"code": ""}, "code", "请填写编号"),
        ({"name": "  "}, "name", "请填写专项行动名称"),
        ({"yellow_window_days": 61}, "yellow_window_days", "0 到 60"),
        ({"supervise_after_days": 0}, "supervise_after_days", "至少为 1 天"),
        ({"supervise_after_days": 10, "listed_after_days": 10}, "listed_after_days", "应大于"),
        ({"monthly_report_day": 31}, "monthly_report_day", "1 日到 28 日"),
        ({"deadline_mode": "lunar"}, "deadline_mode", "未知"),
    ],
)
def test_create_refuses_bad_values_in_chinese(people, values, field, message):
    kwargs = {"name": "作风整顿", "code": "ZF2026", **values}
    with pytest.raises(ValidationError) as exc:
        services.campaign_create(by=people.office, **kwargs)
    assert message in " ".join(exc.value.message_dict[field])
    assert not Campaign.objects.exists()


def test_code_must_be_unique_case_insensitively(people):
    services.campaign_create(by=people.office, name="甲", code="ZF2026")
    with pytest.raises(ValidationError, match="已被专项行动“甲”使用"):
        services.campaign_create(by=people.office, name="乙", code="zf2026")


def test_phase_deadline_before_its_start_is_refused(people):
    with pytest.raises(ValidationError, match="截止日期不能早于开始日期"):
        services.campaign_create(
            by=people.office, name="甲", code="ZF2026",
            phases=[{"kind": "investigation", "start_date": dt.date(2026, 3, 5), "deadline": dt.date(2026, 3, 1)}],
        )
    assert not Campaign.objects.exists()


@pytest.mark.parametrize("who", ["liaison", "leader", "outsider"])
def test_only_office_and_admin_may_write(people, who, campaign):
    user = getattr(people, who)
    with pytest.raises(PermissionDenied):
        services.campaign_create(by=user, name="甲", code="X1")
    with pytest.raises(PermissionDenied):
        services.campaign_update(campaign=campaign, by=user, name="改名")
    with pytest.raises(PermissionDenied):
        services.phases_set(campaign=campaign, by=user, phases=[])
    campaign.refresh_from_db()
    assert campaign.name == "深化机关作风整顿"


def test_jurisdiction_keeps_roots_and_refuses_inactive_units(people, county):
    c = services.campaign_create(
        by=people.office, name="甲", code="A1", jurisdiction=[county.education, county.education_school, county.town]
    )
    assert set(c.jurisdiction.all()) == {county.education, county.town}
    county.finance.is_active = False
    county.finance.save()
    with pytest.raises(ValidationError, match="已停用"):
        services.campaign_update(campaign=c, by=people.office, jurisdiction=[county.finance])


def test_update_records_what_changed(people, campaign):
    services.campaign_update(
        campaign=campaign, by=people.admin, status=CampaignStatus.ACTIVE, yellow_window_days=3,
        name="深化机关作风整顿",
    )
    campaign.refresh_from_db()
    assert campaign.status == "active" and campaign.yellow_window_days == 3
    entry = AuditEntry.objects.filter(object_id=str(campaign.pk), action=AuditEntry.Action.UPDATE).get()
    assert entry.changes == {"status": ["preparing", "active"], "yellow_window_days": [7, 3]}


def test_unchanged_update_writes_no_audit_entry(people, campaign):
    services.campaign_update(campaign=campaign, by=people.office, name=campaign.name)
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.UPDATE).exists()


def test_code_is_frozen_once_problems_are_numbered_with_it(people, county, campaign):
    services.campaign_update(campaign=campaign, by=people.office, code="ZF2026A")
    make_problem(campaign=campaign, by=people.office, lead_unit=county.education)
    with pytest.raises(ValidationError, match="不能再修改编号"):
        services.campaign_update(campaign=campaign, by=people.office, code="ZF2026B")
    services.campaign_update(campaign=campaign, by=people.office, code="ZF2026A", name="新名称")
    campaign.refresh_from_db()
    assert campaign.code == "ZF2026A" and campaign.name == "新名称"


def test_phases_set_keeps_updates_removes_and_orders(people, campaign):
    first, second, third, fourth = campaign.phases.all()
    services.phases_set(
        campaign=campaign, by=people.office,
        phases=[
            {"id": second.pk, "kind": "rectification", "name": "", "deadline": dt.date(2026, 6, 30)},
            {"id": first.pk, "kind": "investigation", "name": "", "deadline": dt.date(2026, 3, 13), "note": "报台账"},
            {"kind": "lookback", "name": "第二轮回头看", "deadline": dt.date(2026, 12, 20)},
        ],
    )
    phases = list(campaign.phases.all())
    assert [p.pk for p in phases[:2]] == [second.pk, first.pk]
    assert [str(p) for p in phases] == ["集中整改", "集中排查", "第二轮回头看"]
    assert phases[1].note == "报台账"
    assert not campaign.phases.filter(pk__in=[third.pk, fourth.pk]).exists()
    entry = AuditEntry.objects.get(action=AuditEntry.Action.UPDATE, object_id=str(campaign.pk))
    assert "phases" in entry.changes


def test_phases_need_a_kind(people, campaign):
    with pytest.raises(ValidationError, match="请选择阶段类型"):
        services.phases_set(campaign=campaign, by=people.office, phases=[{"kind": "", "name": "其他"}])
    assert campaign.phases.count() == 4


@pytest.mark.django_db
def test_deadline_from_counts_calendar_or_working_days():
    start = dt.date(2024, 9, 27)
    assert services.deadline_from(start=start, n=10, working=False) == dt.date(2024, 10, 7)
    assert services.deadline_from(start=start, n=10, working=True) == dt.date(2024, 10, 16)
    with pytest.raises(ValidationError):
        services.deadline_from(start=start, n=-1, working=True)


def test_jurisdiction_is_offered_in_tree_order(people, county):
    county.finance.sort_order = -1  # first among the root's children, though created after 教体局
    county.finance.save()
    units = selectors.in_tree_order(selectors.jurisdiction_choices(people.office))
    codes = [u.code for u in units]
    assert codes[:2] == ["ROOT", "CZJ"]
    assert codes.index("JTJ") + 1 == codes.index("YZ")  # a child right after its parent
    assert codes.index("CGJD") + 1 == codes.index("HPSQ")
    assert [u.code for u in selectors.in_tree_order(selectors.jurisdiction_choices(people.liaison))] == ["JTJ", "YZ"]


def test_current_phase_and_phase_warnings(people):
    c = services.campaign_create(
        by=people.office, name="甲", code="A1", start_date=dt.date(2026, 3, 1), end_date=dt.date(2026, 12, 31),
        phases=[
            {"kind": "investigation", "start_date": dt.date(2026, 3, 1), "deadline": dt.date(2026, 3, 31)},
            {"kind": "rectification", "start_date": dt.date(2026, 4, 1), "deadline": dt.date(2026, 6, 30)},
            {"kind": "dynamic", "deadline": dt.date(2026, 5, 31)},
            {"kind": "lookback", "start_date": dt.date(2026, 12, 1), "deadline": dt.date(2027, 1, 15)},
        ],
    )
    kinds = {d: getattr(selectors.current_phase(c, d), "kind", None) for d in (
        dt.date(2026, 2, 20), dt.date(2026, 3, 31), dt.date(2026, 4, 1), dt.date(2026, 7, 1), dt.date(2027, 2, 1)
    )}
    assert kinds == {
        dt.date(2026, 2, 20): None, dt.date(2026, 3, 31): "investigation",
        dt.date(2026, 4, 1): "rectification", dt.date(2026, 7, 1): None, dt.date(2027, 2, 1): None,
    }
    warnings = selectors.phase_warnings(c)
    assert warnings == [
        "阶段“动态整改”的截止日期早于前一阶段“集中整改”。",
        "阶段“回头看”的截止日期 2027-01-15 晚于专项行动的结束日期。",
    ]
