"""The audit page (admins only): search by who, unit (with its subunits), action, result and dates; pages; 导出 Excel
of what was found, with Chinese columns, itself recorded."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.urls import reverse

from core.audit import Action, Result, audit_record
from core.models import AuditEntry
from tests.conftest import PASSWORD
from units.navigation import menu_for
from units.services import unit_update

SHANGHAI = ZoneInfo("Asia/Shanghai")
LIST = "core:audit_list"
EXPORT = "core:audit_export"
COLUMNS = ["时间", "操作人", "单位", "操作", "结果", "对象", "说明", "来源地址", "请求编号"]


def login(client, user):
    # Signing in is itself an entry (of today): the searches by date below name days of March 2026.
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def found(client, **params) -> list[AuditEntry]:
    response = client.get(reverse(LIST), params)
    assert response.status_code == 200
    return list(response.context["page_obj"].paginator.object_list)


def sheet(response) -> list[list]:
    ws = openpyxl.load_workbook(io.BytesIO(response.content)).active
    return [list(row) for row in ws.iter_rows(values_only=True)]


@pytest.fixture
def trail(people, county):
    """Entries by the admin (作风办), the liaison (教体局), a school's user (under 教体局) and a failed login."""
    from tests.factories import UserFactory

    teacher = UserFactory(username="teacher1", full_name="一中教师", unit=county.education_school)
    at = dt.datetime(2026, 3, 1, 10, 0, tzinfo=SHANGHAI)
    with time_machine.travel(at, tick=False):
        unit_update(unit=county.finance, by=people.admin, short_name="财政")
    with time_machine.travel(at + dt.timedelta(days=1), tick=False):
        audit_record(action=Action.LOGIN, actor=people.liaison, obj=people.liaison, ip="10.1.2.3")
    with time_machine.travel(at + dt.timedelta(days=2), tick=False):
        audit_record(action=Action.DENIED, actor=teacher, note="拒绝访问：GET /audit/", result=Result.DENIED)
    with time_machine.travel(at + dt.timedelta(days=3), tick=False):
        audit_record(action=Action.LOGIN_FAILED, note="用户名：liaison1", result=Result.FAILURE)
    return teacher


# ---- who may open it -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [LIST, EXPORT])
def test_anonymous_is_sent_to_login(client, people, name):
    url = reverse(name)
    response = client.get(url)
    assert response.status_code == 302 and response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize("who", ["outsider", "office", "liaison", "sibling_liaison", "leader"])
@pytest.mark.parametrize("name", [LIST, EXPORT])
def test_other_roles_are_refused(client, people, who, name):
    response = login(client, getattr(people, who)).get(reverse(name))
    assert response.status_code == 403 and "无权访问" in response.content.decode()
    assert not AuditEntry.objects.filter(action__in=[Action.EXPORT, Action.DOWNLOAD]).exists()


@pytest.mark.parametrize("name", [LIST, EXPORT])
def test_posting_is_not_allowed(client, people, name):
    assert login(client, people.admin).post(reverse(name)).status_code == 405


def test_the_admin_s_menu_leads_here(client, people):
    items = {i["label"]: i for i in menu_for(people.admin, reverse(LIST))}
    assert items["操作日志"]["url"] == reverse(LIST) == "/audit/"
    assert items["操作日志"]["active"]
    assert "操作日志" not in {i["label"] for i in menu_for(people.office, "/")}


# ---- the search ------------------------------------------------------------------------------------------------

def test_the_page_shows_every_column_in_chinese(client, people, trail):
    response = login(client, people.admin).get(reverse(LIST))
    html = response.content.decode()
    for header in ("时间", "操作人", "单位", "操作", "结果", "对象", "内容", "来源地址", "请求编号"):
        assert f"<th>{header}</th>" in html
    assert "单位简称" in html and "财政局 → 财政" in html
    assert "拒绝" in html and "失败" in html and "10.1.2.3" in html
    assert 'data-testid="audit-export"' in html


def test_by_user_name_or_login(client, people, trail):
    client = login(client, people.admin)
    assert {(e.action, e.actor) for e in found(client, user="管理员")} == {
        (Action.UPDATE, people.admin), (Action.LOGIN, people.admin),
    }
    assert {e.actor for e in found(client, user="teacher1")} == {trail}
    # a failed login has no actor: it is found by the login name typed
    assert {(e.action, e.actor_id) for e in found(client, user="liaison1")} == {
        (Action.LOGIN, people.liaison.pk), (Action.LOGIN_FAILED, None),
    }
    assert found(client, user="无此人") == []


def test_by_unit_with_its_subunits(client, people, county, trail):
    client = login(client, people.admin)
    assert {e.actor for e in found(client, unit=county.education.pk)} == {people.liaison, trail}
    assert {e.actor for e in found(client, unit=county.education_school.pk)} == {trail}
    assert {e.actor for e in found(client, unit=county.office_unit.pk)} == {people.admin}
    assert found(client, unit=county.town.pk) == []


def test_by_action_and_result(client, people, trail):
    client = login(client, people.admin)
    assert [e.action for e in found(client, action="update")] == [Action.UPDATE]
    assert [e.action for e in found(client, result="denied")] == [Action.DENIED]
    assert [e.action for e in found(client, result="failure")] == [Action.LOGIN_FAILED]
    assert found(client, action="login", result="failure") == []


def test_by_dates_both_included_in_local_time(client, people, trail):
    client = login(client, people.admin)
    assert [e.action for e in found(client, date_from="2026-03-02", date_to="2026-03-03")] == [
        Action.DENIED, Action.LOGIN,
    ]
    assert [e.action for e in found(client, date_from="2026-03-04", date_to="2026-03-31")] == [Action.LOGIN_FAILED]
    assert [e.action for e in found(client, date_to="2026-03-01")] == [Action.UPDATE]
    assert found(client, date_from="2026-03-05", date_to="2026-03-31") == []


@pytest.mark.parametrize("params, message", [
    ({"date_from": "2026-03-05", "date_to": "2026-03-01"}, "起始日期不能晚于截止日期。"),
    ({"date_from": "2026-02-30"}, "「起始日期」请填写有效的日期，如 2026-01-31。"),
    ({"date_to": "9999-12-31"}, "「截止日期」须在 2000-01-01 至 2099-12-31 之间。"),
    ({"date_from": "0001-01-01"}, "「起始日期」须在 2000-01-01 至 2099-12-31 之间。"),
    ({"unit": "999999"}, "「单位」请从列表中选择。"),
    ({"unit": "abc"}, "「单位」请从列表中选择。"),
    ({"action": "hack"}, "「操作」请从列表中选择。"),
    ({"result": "ok"}, "「结果」请从列表中选择。"),
    ({"user": "x" * 151}, "「操作人」不能超过 150 个字。"),
    ({"user": "张\x00三"}, "「操作人」含有不可见的控制字符"),
    ({"user": "张\x1b三"}, "「操作人」含有不可见的控制字符"),
])
def test_a_bad_search_says_what_is_wrong_and_shows_nothing(client, people, trail, params, message):
    response = login(client, people.admin).get(reverse(LIST), params)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert response.context["page_obj"].paginator.count == 0
    assert "筛选条件有误，未显示记录" in response.content.decode()


@pytest.mark.parametrize("number", ["2", "999", "abc", "-1", "\x00"])
def test_pages_keep_the_search(client, people, number):
    for i in range(30):
        audit_record(action=Action.UPDATE, actor=people.admin, note=f"第{i}条")
    audit_record(action=Action.LOGIN, actor=people.admin)
    response = login(client, people.admin).get(reverse(LIST), {"action": "update", "page": number})
    assert response.status_code == 200
    page_obj = response.context["page_obj"]
    assert page_obj.paginator.count == 30 and len(page_obj.object_list) in (25, 5)
    if page_obj.has_previous():
        assert "action=update" in response.content.decode()


def test_the_page_s_queries_do_not_grow_with_its_rows(client, people, trail, django_assert_max_num_queries):
    client = login(client, people.admin)
    client.get(reverse(LIST))  # warm the content type cache
    for i in range(20):
        audit_record(action=Action.UPDATE, actor=people.liaison, obj=people.liaison, note=f"第{i}条")
    with django_assert_max_num_queries(12):
        assert client.get(reverse(LIST)).status_code == 200


# ---- the export ------------------------------------------------------------------------------------------------

def test_export_writes_the_search_with_chinese_columns(client, people, county, trail):
    response = login(client, people.admin).get(reverse(EXPORT), {"unit": county.education.pk, "page": "2"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    rows = sheet(response)
    assert rows[0] == COLUMNS
    by_actor = {row[1]: row for row in rows[1:]}
    assert set(by_actor) == {"教体局联络员（liaison1）", "一中教师（teacher1）"}
    login_row = by_actor["教体局联络员（liaison1）"]
    assert login_row[0] == "2026-03-02 10:00:00"
    assert login_row[2:6] == ["县教育体育局", "登录", "成功", "用户 教体局联络员"]
    assert login_row[7] == "10.1.2.3"
    denied_row = by_actor["一中教师（teacher1）"]
    assert denied_row[2:5] == ["县第一高级中学", "拒绝访问", "拒绝"] and denied_row[6] == "拒绝访问：GET /audit/"


def test_export_shows_the_changes_and_the_request(client, people, trail):
    response = login(client, people.admin).get(reverse(EXPORT), {"action": "update"})
    [header, row] = sheet(response)
    assert row[1] == "管理员（admin1）" and row[3:6] == ["修改", "成功", "单位 县财政局"]
    assert "单位简称：财政局 → 财政" in row[6]
    assert row[8] in (None, "")  # written outside a request


def test_export_is_recorded_once_with_its_search(client, people, county, trail):
    response = login(client, people.admin).get(reverse(EXPORT), {"result": "denied", "unit": county.education.pk})
    [entry] = AuditEntry.objects.filter(action__in=[Action.EXPORT, Action.DOWNLOAD])
    assert entry.action == Action.EXPORT and entry.actor == people.admin
    assert entry.note == "导出操作日志 1 条（筛选条件：单位：县教育体育局（含下属单位）；结果：拒绝）"
    assert entry.request_id == response["X-Request-ID"]


def test_a_bad_search_exports_nothing(client, people, trail):
    client = login(client, people.admin)
    response = client.get(reverse(EXPORT), {"date_from": "2026-03-05", "date_to": "2026-03-01"})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse(LIST)}?date_from=2026-03-05&date_to=2026-03-01"
    page = client.get(response["Location"]).content.decode()
    assert "筛选条件有误，未导出" in page and "起始日期不能晚于截止日期" in page
    assert not AuditEntry.objects.filter(action__in=[Action.EXPORT, Action.DOWNLOAD]).exists()


def test_too_many_entries_ask_for_a_narrower_search(client, people, trail, monkeypatch):
    from core import views

    monkeypatch.setattr(views, "EXPORT_MAX_ROWS", 3)
    client = login(client, people.admin)
    response = client.get(reverse(EXPORT))
    assert response.status_code == 302
    assert "超过单次导出上限 3 条" in client.get(response["Location"]).content.decode()
    assert not AuditEntry.objects.filter(action=Action.EXPORT).exists()
    assert client.get(reverse(EXPORT), {"action": "login"}).status_code == 200


def test_the_login_page_records_reach_the_page(client, people):
    """End to end: a failed login, seen by the admin with its result, address and request id."""
    failed = client.post(reverse("login"), {"username": "leader1", "password": "wrong"})
    response = login(client, people.admin).get(reverse(LIST), {"user": "leader1", "result": "failure"})
    html = response.content.decode()
    assert failed["X-Request-ID"] in html and "127.0.0.1" in html and "登录失败" in html
    assert PASSWORD not in html
