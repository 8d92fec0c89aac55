"""The campaign pages: who may open what (every view refuses an outsider), and the office's edits end to end."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.urls import reverse

from campaigns import services
from campaigns.models import CalendarOverride, Campaign, Category, Source
from campaigns.views import IMPORT_SESSION_KEY
from tests.campaigns.xlsx import HEADER, upload

# (url name, needs a campaign, needs a category, is a write)
VIEWS = [
    ("campaign_list", False, False, False),
    ("campaign_create", False, False, True),
    ("campaign_detail", True, False, False),
    ("campaign_edit", True, False, True),
    ("category_list", True, False, False),
    ("category_create", True, False, True),
    ("category_edit", True, True, True),
    ("category_toggle_active", True, True, True),
    ("category_import", True, False, True),
    ("category_copy", True, False, True),
    ("category_export", True, False, False),
    ("sources", True, False, False),
    ("calendar", False, False, False),
]
POST_ONLY = [("category_import_confirm", True), ("calendar_delete", False)]


@pytest.fixture
def category(people, campaign) -> Category:
    return services.category_create(campaign=campaign, by=people.office, code="1", name="政治责任方面")


@pytest.fixture
def override(people) -> CalendarOverride:
    return services.calendar_override_set(by=people.office, date=dt.date(2027, 1, 4), is_workday=False)


def url_of(name, has_campaign, has_category, campaign, category):
    args = [campaign.pk] if has_campaign else []
    if has_category:
        args.append(category.pk)
    return reverse(f"campaigns:{name}", args=args)


@pytest.mark.parametrize(("name", "has_campaign", "has_category", "write"), VIEWS)
def test_outsider_is_refused_everywhere(login, people, campaign, category, name, has_campaign, has_category, write):
    client = login(people.outsider)
    url = url_of(name, has_campaign, has_category, campaign, category)
    assert client.get(url).status_code == 403
    assert client.post(url, {}).status_code in (403, 405)


@pytest.mark.parametrize(("name", "has_campaign"), POST_ONLY)
def test_outsider_and_liaison_are_refused_post_only_views(login, people, campaign, override, name, has_campaign):
    url = reverse(f"campaigns:{name}", args=[campaign.pk if has_campaign else override.pk])
    for who in ("outsider", "liaison", "leader"):
        assert login(getattr(people, who)).post(url).status_code == 403
    assert CalendarOverride.objects.filter(pk=override.pk).exists()


@pytest.mark.parametrize(("name", "has_campaign", "has_category", "write"), VIEWS)
def test_anonymous_is_sent_to_login(client, campaign, category, name, has_campaign, has_category, write):
    response = client.get(url_of(name, has_campaign, has_category, campaign, category))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("who", ["liaison", "leader"])
@pytest.mark.parametrize(("name", "has_campaign", "has_category", "write"), VIEWS)
def test_other_roles_read_but_do_not_write(login, people, campaign, category, who, name, has_campaign, has_category,
                                           write):
    client = login(getattr(people, who))
    url = url_of(name, has_campaign, has_category, campaign, category)
    assert client.get(url).status_code == (403 if write else 200)
    if not write and name not in ("category_export",):
        assert client.post(url, {}).status_code in (403, 405)


@pytest.mark.parametrize("who", ["office", "admin"])
@pytest.mark.parametrize(("name", "has_campaign", "has_category", "write"), VIEWS)
def test_office_and_admin_open_every_page(login, people, campaign, category, who, name, has_campaign, has_category,
                                          write):
    response = login(getattr(people, who)).get(url_of(name, has_campaign, has_category, campaign, category))
    assert response.status_code == 200


def test_unknown_campaign_or_foreign_category_is_404(login, people, campaign, category):
    client = login(people.office)
    assert client.get(reverse("campaigns:campaign_detail", args=[campaign.pk + 100])).status_code == 404
    other = services.campaign_create(by=people.office, name="别的", code="OTHER")
    url = reverse("campaigns:category_edit", args=[other.pk, category.pk])
    assert client.get(url).status_code == 404


def test_list_shows_campaigns_and_the_create_button_only_to_managers(login, people, campaign):
    page = login(people.liaison).get(reverse("campaigns:campaign_list")).content.decode()
    assert "深化机关作风整顿" in page and reverse("campaigns:campaign_create") not in page
    page = login(people.office).get(reverse("campaigns:campaign_list")).content.decode()
    assert reverse("campaigns:campaign_create") in page


def test_nav_links_to_the_campaign_list(login, people):
    page = login(people.office).get(reverse("home")).content.decode()
    assert f'href="{reverse("campaigns:campaign_list")}"' in page


# ---- create and edit ---------------------------------------------------------------------------------------------

def campaign_post(**overrides):
    data = {
        "name": "2027年作风建设", "code": "zf2027", "description": "", "status": "preparing",
        "start_date": "2027-03-01", "end_date": "2027-12-31", "yellow_window_days": "7",
        "deadline_mode": "working", "supervise_after_days": "7", "listed_after_days": "30",
        "monthly_report_day": "25",
        "phases-TOTAL_FORMS": "5", "phases-INITIAL_FORMS": "4", "phases-MIN_NUM_FORMS": "0",
        "phases-MAX_NUM_FORMS": "1000",
    }
    kinds = ["investigation", "rectification", "dynamic", "lookback"]
    for i, kind in enumerate(kinds):
        data[f"phases-{i}-kind"] = kind
        data[f"phases-{i}-name"] = ""
    data["phases-0-deadline"] = "2027-03-13"
    data["phases-0-note"] = "3月13日前报问题台账"
    data["phases-3-DELETE"] = "on"
    data.update(overrides)
    return data


def test_office_creates_a_campaign_with_phases(login, people, county):
    client = login(people.office)
    page = client.get(reverse("campaigns:campaign_create")).content.decode()
    for label in ("集中排查", "集中整改", "动态整改", "回头看"):
        assert label in page
    response = client.post(reverse("campaigns:campaign_create"), campaign_post(jurisdiction=[str(county.root.pk)]))
    c = Campaign.objects.get(code="ZF2027")
    assert response.status_code == 302 and response["Location"] == reverse("campaigns:campaign_detail", args=[c.pk])
    assert c.deadline_mode == "working" and list(c.jurisdiction.all()) == [county.root]
    assert [(str(p), p.deadline) for p in c.phases.all()] == [
        ("集中排查", dt.date(2027, 3, 13)), ("集中整改", None), ("动态整改", None)
    ]
    assert c.sources.count() == 8
    detail = client.get(response["Location"]).content.decode()
    assert "3月13日前报问题台账" in detail and "示范县" in detail


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"end_date": "2027-02-01"}, "结束日期不能早于开始日期"),
        ({"start_date": "2027-02-30"}, "请输入有效的日期"),
        ({"listed_after_days": "5"}, "逾期转挂牌督办天数应大于逾期转督办天数"),
        ({"phases-1-start_date": "2027-07-01", "phases-1-deadline": "2027-06-30"}, "截止日期不能早于开始日期"),
        ({"phases-2-kind": ""}, "请选择阶段类型"),
        ({"code": "ZF 2027"}, "只能由字母、数字"),
    ],
)
def test_create_form_shows_chinese_errors(login, people, overrides, message):
    response = login(people.office).post(reverse("campaigns:campaign_create"), campaign_post(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Campaign.objects.filter(code="ZF2027").exists()


def test_a_blank_extra_phase_row_is_ignored(login, people):
    data = campaign_post()
    data.pop("phases-3-DELETE")
    data["phases-4-kind"] = ""
    login(people.office).post(reverse("campaigns:campaign_create"), data)
    assert Campaign.objects.get(code="ZF2027").phases.count() == 4


def test_office_edits_policy_and_phases(login, people, campaign, county):
    client = login(people.office)
    phases = list(campaign.phases.all())
    data = campaign_post(name="深化机关作风整顿（修订）", code="ZF2026", jurisdiction=[str(county.town.pk)],
                         status="active", yellow_window_days="5")
    data["phases-INITIAL_FORMS"] = "4"
    for i, p in enumerate(phases):
        data[f"phases-{i}-id"] = str(p.pk)
    response = client.post(reverse("campaigns:campaign_edit", args=[campaign.pk]), data)
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.name == "深化机关作风整顿（修订）" and campaign.status == "active"
    assert campaign.yellow_window_days == 5 and list(campaign.jurisdiction.all()) == [county.town]
    kept = list(campaign.phases.all())
    assert [p.pk for p in kept] == [p.pk for p in phases[:3]]
    assert kept[0].deadline == dt.date(2027, 3, 13)


def test_edit_form_is_prefilled(login, people, campaign):
    page = login(people.office).get(reverse("campaigns:campaign_edit", args=[campaign.pk])).content.decode()
    assert 'value="ZF2026"' in page and 'value="2026-03-01"' in page


# ---- categories ------------------------------------------------------------------------------------------------

def test_category_import_previews_then_applies_on_confirmation(login, people, campaign, shared_data):
    client = login(people.office)
    url = reverse("campaigns:category_import", args=[campaign.pk])
    with open(shared_data / "categories.xlsx", "rb") as fh:
        response = client.post(url, {"file": fh})
    page = response.content.decode()
    assert response.status_code == 200 and "新增 20" in page and "确认导入" in page
    assert not Category.objects.filter(campaign=campaign).exists()
    response = client.post(reverse("campaigns:category_import_confirm", args=[campaign.pk]))
    assert response.status_code == 302
    assert Category.objects.filter(campaign=campaign).count() == 20
    assert IMPORT_SESSION_KEY not in client.session
    listing = client.get(reverse("campaigns:category_list", args=[campaign.pk])).content.decode()
    assert "违规吃喝、违规收送礼品礼金" in listing


def test_category_import_with_errors_shows_them_and_cannot_be_confirmed(login, people, campaign):
    client = login(people.office)
    bad = upload([("2026年问题表现清单",), HEADER, ("1", "政治责任方面", ""), ("1.01", "", "1"), ("1.02", "甲", "9")])
    page = client.post(reverse("campaigns:category_import", args=[campaign.pk]), {"file": bad}).content.decode()
    assert "第4行「类别名称」列：不能为空" in page
    assert "第5行「上级类别编码」列：上级类别“9”不存在" in page
    assert "确认导入" not in page
    response = client.post(reverse("campaigns:category_import_confirm", args=[campaign.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("campaigns:category_import",
                                                                            args=[campaign.pk])
    assert not Category.objects.exists()


def test_category_import_of_a_non_excel_file_says_so(login, people, campaign):
    client = login(people.office)
    fake = io.BytesIO(b"not a spreadsheet")
    fake.name = "清单.xls"
    page = client.post(reverse("campaigns:category_import", args=[campaign.pk]), {"file": fake}).content.decode()
    assert "不是有效的 Excel" in page


def test_pending_import_belongs_to_its_campaign(login, people, campaign):
    client = login(people.office)
    other = services.campaign_create(by=people.office, name="别的", code="OTHER")
    client.post(reverse("campaigns:category_import", args=[campaign.pk]), {"file": upload([HEADER, ("1", "甲", "")])})
    client.post(reverse("campaigns:category_import_confirm", args=[other.pk]))
    assert not Category.objects.exists()


def test_category_pages_create_edit_and_deactivate(login, people, campaign, category):
    client = login(people.office)
    response = client.post(reverse("campaigns:category_create", args=[campaign.pk]),
                           {"code": "1.01", "name": "学用两张皮", "parent": str(category.pk)})
    assert response.status_code == 302
    child = Category.objects.get(code="1.01")
    assert child.parent == category
    page = client.post(reverse("campaigns:category_create", args=[campaign.pk]),
                       {"code": "1.01", "name": "重复"}).content.decode()
    assert "类别编码“1.01”已存在" in page
    # the edit form does not offer the category itself or its descendants as parents
    page = client.get(reverse("campaigns:category_edit", args=[campaign.pk, category.pk])).content.decode()
    assert f'value="{child.pk}"' not in page
    response = client.post(reverse("campaigns:category_edit", args=[campaign.pk, category.pk]),
                           {"code": "1", "name": "政治责任", "parent": str(child.pk)})
    assert "所选上级类别不可用" in response.content.decode()
    client.post(reverse("campaigns:category_edit", args=[campaign.pk, child.pk]),
                {"code": "1.01", "name": "学用“两张皮”", "parent": ""})
    child.refresh_from_db()
    assert child.name == "学用“两张皮”" and child.parent is None and child.sort_order == 10
    page = client.get(reverse("campaigns:category_toggle_active", args=[campaign.pk, category.pk])).content.decode()
    assert "确认停用" in page
    client.post(reverse("campaigns:category_toggle_active", args=[campaign.pk, category.pk]), {"active": "0"})
    category.refresh_from_db()
    assert not category.is_active


def test_category_copy_page(login, people, campaign, category):
    client = login(people.office)
    target = services.campaign_create(by=people.office, name="2027年作风建设", code="ZF2027")
    response = client.post(reverse("campaigns:category_copy", args=[target.pk]), {"source": str(campaign.pk)})
    assert response.status_code == 302
    assert list(Category.objects.filter(campaign=target).values_list("code", "name")) == [("1", "政治责任方面")]
    # a campaign without categories is not offered
    empty = services.campaign_create(by=people.office, name="空", code="EMPTY")
    response = client.post(reverse("campaigns:category_copy", args=[target.pk]), {"source": str(empty.pk)})
    assert "所选专项行动不可用" in response.content.decode()


def test_category_export_is_an_xlsx_in_the_import_layout(login, people, campaign, category):
    response = login(people.liaison).get(reverse("campaigns:category_export", args=[campaign.pk]))
    assert response.status_code == 200
    assert "ZF2026" in response["Content-Disposition"]
    ws = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert [c.value for c in ws[1]][:3] == list(HEADER)
    assert [c.value for c in ws[2]][:2] == ["1", "政治责任方面"]


# ---- sources and calendar ---------------------------------------------------------------------------------------

def sources_post(campaign, changes=None, extra=None):
    items = list(Source.objects.filter(campaign=campaign).order_by("sort_order", "id"))
    rows = [{"id": str(s.pk), "name": s.name, "is_active": "on"} for s in items]
    for i, values in (changes or {}).items():
        rows[i].update(values)
    rows += extra or []
    data = {"sources-TOTAL_FORMS": str(len(rows)), "sources-INITIAL_FORMS": str(len(items)),
            "sources-MIN_NUM_FORMS": "0", "sources-MAX_NUM_FORMS": "1000"}
    for i, row in enumerate(rows):
        for k, v in row.items():
            if v is not None:
                data[f"sources-{i}-{k}"] = v
    return data


def test_office_edits_sources(login, people, campaign):
    client = login(people.office)
    url = reverse("campaigns:sources", args=[campaign.pk])
    data = sources_post(campaign, changes={6: {"name": "群众反映（12345/信访）"}, 7: {"is_active": None}},
                        extra=[{"name": "网络舆情", "is_active": "on"}, {"name": "", "is_active": "on"}])
    assert client.post(url, data).status_code == 302
    names = dict(Source.objects.filter(campaign=campaign).values_list("name", "is_active"))
    assert names["群众反映（12345/信访）"] and not names["其他"] and names["网络舆情"]
    assert len(names) == 9
    page = client.post(url, sources_post(campaign, changes={1: {"name": "自查自纠"}})).content.decode()
    assert "与第1行重复" in page


def test_liaison_sees_sources_read_only(login, people, campaign):
    page = login(people.liaison).get(reverse("campaigns:sources", args=[campaign.pk])).content.decode()
    assert "自查自纠" in page and "sources-TOTAL_FORMS" not in page


def test_calendar_page_adds_and_deletes_overrides(login, people):
    client = login(people.office)
    url = reverse("campaigns:calendar")
    response = client.post(url, {"date": "2024-10-08", "is_workday": "0", "note": "本地调整"})
    assert response.status_code == 302
    o = CalendarOverride.objects.get()
    assert o.date == dt.date(2024, 10, 8) and not o.is_workday
    page = client.get(url, {"start": "2024-09-27", "n": "10"}).content.decode()
    assert "本地调整" in page and "上班（国庆节）" not in page
    assert "2024-10-17" in page  # 10 working days, one more because of the override
    assert "2024-10-07" in page  # 10 calendar days
    page = client.post(url, {"date": "", "is_workday": "1"}).content.decode()
    assert "请填写日期" in page
    client.post(reverse("campaigns:calendar_delete", args=[o.pk]))
    assert not CalendarOverride.objects.exists()


def test_calendar_shows_the_statutory_day_for_comparison(login, people):
    services.calendar_override_set(by=people.office, date=dt.date(2024, 9, 29), is_workday=True, note="调休上班")
    page = login(people.leader).get(reverse("campaigns:calendar")).content.decode()
    assert "上班（国庆节）" in page and "与法定安排相同" in page
    assert "添加或修改一天" not in page


def test_a_phase_ending_after_the_campaign_is_saved_with_a_warning(login, people):
    client = login(people.office)
    response = client.post(reverse("campaigns:campaign_create"), campaign_post(**{"phases-2-deadline": "2028-01-15"}),
                           follow=True)
    page = response.content.decode()
    assert Campaign.objects.filter(code="ZF2027").exists()
    assert "阶段“动态整改”的截止日期 2028-01-15 晚于专项行动的结束日期" in page
