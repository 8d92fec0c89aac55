"""The notification centre's pages: the bell, the user's own messages, their channels, the office's switches and the
delivery log; and the home page's cards, each opening the list it counts. A user only ever reads or marks their own
messages; a forged id changes nothing."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from ledger import services as ledger_services
from ledger import workflow
from ledger.models import MeasureStatus
from notifications.models import ChannelSwitch, Delivery, Notification, Preference, Robot
from tests.ledger.factories import CampaignFactory, make_measure, make_problem

TODAY = timezone.localdate()
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def login(client, user):
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def url(name: str, *args) -> str:
    return reverse(f"notifications:{name}", args=args)


def note(user, title: str = "问题ZF2022-0001已分派给您单位", *, group: str = "event", level: int = 0,
         items: list | None = None, read: bool = False, url_: str = "") -> Notification:
    return Notification.objects.create(
        recipient=user, group=group, level=level, title=title, url=url_,
        items=items if items is not None else [{"text": title, "url": "/ledger/1/", "level": level}],
        read_at=timezone.now() if read else None,
    )


def delivery(key: str, *, recipient=None, robot=None, unit=None, channel: str = "email", status: str = "failed",
             subject: str = "每日提醒：您有1个问题逾期", **values) -> Delivery:
    return Delivery.objects.create(key=key, channel=channel, recipient=recipient, robot=robot, unit=unit,
                                   batch="b", subject=subject, body="正文", status=status, **values)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


# ---- the bell --------------------------------------------------------------------------------------------------

def bell(html: str) -> str:
    match = re.search(r'<a id="notification-bell".*?</a>', html, re.S)
    assert match, "no bell on the page"
    return match.group(0)


def test_the_bell_shows_the_users_own_unread_count_on_every_page(client, people):
    for i in range(3):
        note(people.liaison, f"消息{i}")
    note(people.liaison, "已读的消息", read=True)
    note(people.office, "作风办的消息")
    login(client, people.liaison)
    for page in (reverse("home"), reverse("ledger:my_tasks"), url("preferences")):
        html = bell(client.get(page).content.decode())
        assert 'aria-label="站内消息（3条未读）"' in html, page
        assert re.search(r'data-testid="bell-count"[^>]*>3</span>', html), page
        assert f'href="{url("list")}"' in html


def test_the_bell_has_no_badge_at_zero_and_says_99_plus_above_99(client, people):
    login(client, people.office)
    html = bell(client.get(reverse("home")).content.decode())
    assert 'aria-label="站内消息（0条未读）"' in html and "bell-count" not in html
    Notification.objects.bulk_create([Notification(recipient=people.office, group="overdue", level=3, title=f"第{i}条")
                                      for i in range(120)])
    html = bell(client.get(reverse("home")).content.decode())
    assert 'aria-label="站内消息（120条未读）"' in html and ">99+</span>" in html


def test_anonymous_users_see_no_bell_and_are_sent_to_log_in(client, people):
    assert "notification-bell" not in client.get(reverse("login")).content.decode()
    d = delivery("k1", recipient=people.liaison)
    n = note(people.liaison)
    for name, args, method in [
        ("list", (), "get"), ("mark_read", (), "post"), ("mark_all_read", (), "post"), ("open", (n.pk,), "get"),
        ("preferences", (), "get"), ("preferences", (), "post"), ("channels", (), "get"), ("channels", (), "post"),
        ("deliveries", (), "get"), ("deliveries_export", (), "get"), ("delivery_resend", (d.pk,), "post"),
    ]:
        response = getattr(client, method)(url(name, *args))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), name
    assert Delivery.objects.count() == 1 and Notification.objects.get().read_at is None


# ---- the list --------------------------------------------------------------------------------------------------

def test_the_list_shows_only_the_users_own_notifications_newest_first(client, people):
    older = note(people.liaison, "较早的通知")
    Notification.objects.filter(pk=older.pk).update(created_at=timezone.now() - dt.timedelta(days=2))
    digest = note(people.liaison, "每日提醒：您有2个问题逾期", group="overdue", level=3, items=[
        {"text": "ZF2022-0001 窗口推诿扯皮（逾期3天）", "url": "/ledger/1/", "level": 3},
        {"text": "ZF2022-0002 资金拨付慢（逾期8天）", "url": "/ledger/2/", "level": 4},
    ])
    note(people.sibling_liaison, "财政局的通知")
    login(client, people.liaison)
    response = client.get(url("list"))
    assert response.status_code == 200
    shown = [n.title for n in response.context["notifications"]]
    assert shown == ["每日提醒：您有2个问题逾期", "较早的通知"]
    html = response.content.decode()
    assert "财政局的通知" not in html
    # Each line links to its problem through `open` (which marks the item read), and shows its level.
    assert f'href="{url("open", digest.pk)}?line=1"' in html and f'href="{url("open", digest.pk)}?line=2"' in html
    assert "ZF2022-0002 资金拨付慢（逾期8天）" in html and "【督办】" in html
    assert "催办" in html and "逾期" in html  # the level badge and the group


def test_the_list_filters_unread_and_by_group_and_pages_by_20(client, people):
    note(people.liaison, "已读的通知", read=True)
    note(people.liaison, "临期提醒", group="due_soon", level=2)
    for i in range(22):
        note(people.liaison, f"督办单{i}", group="order", level=4)
    login(client, people.liaison)
    first = client.get(url("list"))
    assert len(first.context["notifications"]) == 20 and first.context["page_obj"].paginator.count == 24
    unread = client.get(url("list"), {"show": "unread"})
    assert unread.context["page_obj"].paginator.count == 23
    assert "已读的通知" not in unread.content.decode()
    due = client.get(url("list"), {"group": "due_soon"})
    assert [n.title for n in due.context["notifications"]] == ["临期提醒"]
    forged = client.get(url("list"), {"group": "<script>", "show": "x", "page": "999"})
    assert forged.status_code == 200 and forged.context["page_obj"].paginator.count == 24


def test_time_is_shown_in_local_time(client, people):
    n = note(people.liaison, "晚上的通知")
    utc = dt.datetime(2024, 5, 1, 16, 30, tzinfo=dt.UTC)  # 2024-05-02 00:30 in Asia/Shanghai
    Notification.objects.filter(pk=n.pk).update(created_at=utc)
    login(client, people.liaison)
    assert "2024-05-02 00:30" in client.get(url("list")).content.decode()


def test_mark_read_touches_only_the_users_own(client, people):
    mine, also_mine = note(people.liaison, "我的"), note(people.liaison, "我的另一条")
    theirs = note(people.sibling_liaison, "别人的")
    login(client, people.liaison)
    response = client.post(url("mark_read"), {"ids": [mine.pk, theirs.pk], "next": url("list")})
    assert response.status_code == 302 and response["Location"] == url("list")
    mine.refresh_from_db(), theirs.refresh_from_db(), also_mine.refresh_from_db()
    assert mine.read_at is not None and also_mine.read_at is None and theirs.read_at is None

    # A forged id alone: nothing changes, and the user is told in Chinese.
    response = client.post(url("mark_read"), {"ids": [theirs.pk]})
    assert response.status_code == 302
    assert messages_of(response) == ["没有找到要标为已读的消息。"]
    theirs.refresh_from_db()
    assert theirs.read_at is None
    for junk in (["abc"], [str(2**64)], ["１"], []):
        assert client.post(url("mark_read"), {"ids": junk}).status_code == 302
    assert Notification.objects.filter(recipient=people.sibling_liaison, read_at=None).count() == 1


def test_mark_all_read_touches_only_the_users_own(client, people):
    for i in range(3):
        note(people.liaison, f"我的{i}")
    theirs = note(people.office, "作风办的")
    login(client, people.liaison)
    response = client.post(url("mark_all_read"), {"next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == url("list")  # an outside `next` is ignored
    assert messages_of(response) == ["已将 3 条消息标为已读。"]
    assert not Notification.objects.filter(recipient=people.liaison, read_at=None).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_read_by_htmx_returns_the_item_and_the_new_bell(client, people):
    n = note(people.liaison, "待读")
    note(people.liaison, "另一条")
    login(client, people.liaison)
    response = client.post(url("mark_read"), {"ids": [n.pk], "next": url("list")}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="notification-{n.pk}"' in html and 'data-read="1"' in html and "标为已读" not in html
    assert 'hx-swap-oob="true"' in html and 'aria-label="站内消息（1条未读）"' in html
    assert "<html" not in html


def test_the_list_works_without_javascript(client, people):
    n = note(people.liaison, "待读")
    login(client, people.liaison)
    html = client.get(url("list")).content.decode()
    form = re.search(rf'<form method="post" action="{url("mark_read")}"[^>]*>.*?</form>', html, re.S)
    assert form and f'name="ids" value="{n.pk}"' in form.group(0)
    assert f'action="{url("mark_all_read")}"' in html


def test_open_marks_read_and_goes_to_the_link(client, people):
    n = note(people.liaison, "每日提醒", group="overdue", level=3, items=[
        {"text": "ZF2022-0001", "url": "/ledger/1/", "level": 3},
        {"text": "ZF2022-0002", "url": "/ledger/2/", "level": 3},
    ])
    login(client, people.liaison)
    response = client.get(url("open", n.pk), {"line": "2"})
    assert response.status_code == 302 and response["Location"] == "/ledger/2/"
    n.refresh_from_db()
    assert n.read_at is not None
    event = note(people.liaison, "问题已退回", url_="/ledger/7/")
    assert client.get(url("open", event.pk))["Location"] == "/ledger/7/"
    for bad in ("0", "3", "x", str(2**64)):
        response = client.get(url("open", n.pk), {"line": bad})
        assert response.status_code == 302 and response["Location"] == url("list"), bad


@pytest.mark.parametrize("target", [
    "https://evil.example/ledger/1/", "//evil.example/ledger/1/", "javascript:alert(1)", "/\\evil.example/",
    "ledger/1/",
])
def test_open_refuses_a_link_outside_the_site(client, people, target):
    n = note(people.liaison, "可疑链接", items=[{"text": "点我", "url": target, "level": 0}])
    login(client, people.liaison)
    response = client.get(url("open", n.pk), {"line": "1"})
    assert response.status_code == 302 and response["Location"] == url("list")
    assert messages_of(response) == ["该链接不是本系统的页面，已阻止跳转。"]


def test_open_is_404_for_another_users_notification(client, people):
    theirs = note(people.office, "作风办的")
    login(client, people.liaison)
    assert client.get(url("open", theirs.pk)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


# ---- preferences -----------------------------------------------------------------------------------------------

def test_preferences_show_the_channels_and_save_through_the_service(client, people):
    people.liaison.email = ""
    people.liaison.phone = "13800001234"
    people.liaison.save()
    login(client, people.liaison)
    html = client.get(url("preferences")).content.decode()
    assert "未填写邮箱" in html and "仅用于督办及以上" in html and "138****1234" in html
    assert 'id="pref-inapp" checked disabled' in html
    response = client.post(url("preferences"), {"sms": ""})
    assert response.status_code == 302
    assert Preference.objects.get(user=people.liaison, channel="sms").enabled is False
    assert not Preference.objects.filter(user=people.liaison, channel="email").exists()  # no address: not a choice
    client.post(url("preferences"), {"sms": "on"})
    assert Preference.objects.get(user=people.liaison, channel="sms").enabled is True


def test_preferences_refuse_a_channel_the_office_switched_off(client, people):
    ChannelSwitch.objects.create(channel="email", allowed=False)
    people.liaison.email = "jtj@sfx.gov.cn"
    people.liaison.save()
    login(client, people.liaison)
    html = client.get(url("preferences")).content.decode()
    assert 'name="email"' not in html and "电子邮件目前未开放" in html
    response = client.post(url("preferences"), {"sms": "on"})  # email left out: it would mean “off”
    assert response.status_code == 302
    assert not Preference.objects.filter(user=people.liaison, channel="email").exists()


# ---- channel switches ------------------------------------------------------------------------------------------

def test_channel_switches_are_the_offices(client, people, settings):
    settings.NOTIFY_CHANNELS = ["inapp", "email", "sms", "wecom"]
    for who in (people.liaison, people.leader, people.outsider):
        login(client, who)
        assert client.get(url("channels")).status_code == 403
        assert client.post(url("channels"), {"email": ""}).status_code == 403
    assert not ChannelSwitch.objects.exists()
    login(client, people.office)
    html = client.get(url("channels")).content.decode()
    assert 'name="email"' in html and 'name="wecom"' in html and 'name="inapp"' not in html
    assert 'name="dingtalk"' not in html and "钉钉" in html  # not offered by this deployment
    response = client.post(url("channels"), {"email": "on", "wecom": "on", "inapp": ""})
    assert response.status_code == 302
    assert dict(ChannelSwitch.objects.values_list("channel", "allowed")) == {"sms": False}
    login(client, people.admin)
    client.post(url("channels"), {"email": "on", "wecom": "on", "sms": "on"})
    assert dict(ChannelSwitch.objects.values_list("channel", "allowed")) == {"sms": True}


# ---- the delivery log ------------------------------------------------------------------------------------------

def test_the_delivery_log_is_the_offices(client, people):
    d = delivery("k1", recipient=people.liaison)
    for who in (people.liaison, people.sibling_liaison, people.leader, people.outsider):
        login(client, who)
        assert client.get(url("deliveries")).status_code == 403
        assert client.get(url("deliveries_export")).status_code == 403
        assert client.post(url("delivery_resend", d.pk)).status_code == 403
    assert Delivery.objects.count() == 1
    for who in (people.office, people.admin):
        login(client, who)
        assert client.get(url("deliveries")).status_code == 200


def test_the_delivery_log_filters(client, people, county):
    robot = Robot.objects.create(kind="wecom", name="教体局工作群", unit=county.education, webhook_encrypted="x")
    a = delivery("a", recipient=people.liaison, unit=county.education, status="failed", error="邮箱不存在")
    b = delivery("b", recipient=people.sibling_liaison, unit=county.finance, channel="sms", status="sent",
                 subject="督办提醒")
    c = delivery("c", robot=robot, unit=county.education_school, channel="wecom", status="unknown")
    old = delivery("d", recipient=people.leader, unit=county.finance, status="sent", subject="上周的提醒")
    Delivery.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=10))
    login(client, people.office)

    def shown(**params) -> set[int]:
        response = client.get(url("deliveries"), params)
        assert response.status_code == 200
        return {d.pk for d in response.context["page_obj"]}

    assert shown() == {a.pk, b.pk, c.pk, old.pk}
    assert shown(status="failed") == {a.pk}
    assert shown(channel="sms") == {b.pk}
    assert shown(unit=county.education.pk) == {a.pk, c.pk}  # with its subtree
    assert shown(q="财政局联络员") == {b.pk}
    assert shown(q="工作群") == {c.pk}
    assert shown(q="督办") == {b.pk}
    week_ago = (TODAY - dt.timedelta(days=7)).isoformat()
    assert shown(date_from=week_ago) == {a.pk, b.pk, c.pk}
    assert shown(date_to=week_ago) == {old.pk}
    # Nonsense filters are ignored with a message, never a server error.
    response = client.get(url("deliveries"), {"status": "x", "unit": str(2**64), "date_from": "2024-13-01",
                                              "date_to": "2024-02-30", "q": "\x00"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "筛选条件有误" in html and "邮箱不存在" in html
    assert "重发" in html  # failed and unknown rows offer it


def build_log(n: int, people, county) -> None:
    robot = Robot.objects.create(kind="dingtalk", name=f"机器人{n}", unit=county.town, webhook_encrypted="x")
    for i in range(n):
        delivery(f"{n}-{i}", recipient=[people.liaison, None][i % 2], robot=[None, robot][i % 2],
                 unit=[county.education, county.town][i % 2], channel=["email", "dingtalk"][i % 2],
                 status=["failed", "sent", "unknown", "pending"][i % 4], resent_from=None)


def test_the_delivery_log_runs_the_same_number_of_queries_at_5_and_40_rows(client, people, county,
                                                                            django_assert_num_queries):
    build_log(5, people, county)
    login(client, people.office)
    client.get(url("deliveries"))
    with CaptureQueriesContext(connection) as small:
        response = client.get(url("deliveries"))
    assert len(response.context["page_obj"]) == 5
    build_log(35, people, county)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url("deliveries"))
    assert len(response.context["page_obj"]) == 40


def test_resend_of_a_failed_row_creates_a_new_pending_delivery(client, people, county):
    failed = delivery("k1", recipient=people.liaison, unit=county.education, status="failed", attempts=5)
    login(client, people.office)
    back = url("deliveries") + "?status=failed"
    response = client.post(url("delivery_resend", failed.pk), {"next": back})
    assert response.status_code == 302 and response["Location"] == back
    copy = Delivery.objects.exclude(pk=failed.pk).get()
    assert copy.status == "pending" and copy.resent_from_id == failed.pk and copy.recipient == people.liaison
    assert copy.subject == failed.subject and copy.attempts == 0
    assert messages_of(response)[0].startswith("已重新发送")
    unknown = delivery("k2", recipient=people.liaison, status="unknown")
    client.post(url("delivery_resend", unknown.pk))
    assert Delivery.objects.filter(resent_from=unknown).count() == 1


@pytest.mark.parametrize("status", ["sent", "pending", "sending"])
def test_resend_refuses_a_row_that_did_not_fail(client, people, status):
    d = delivery("k1", recipient=people.liaison, status=status)
    login(client, people.office)
    response = client.post(url("delivery_resend", d.pk))
    assert response.status_code == 302
    assert messages_of(response) == ["只有“发送失败”或“结果未知”的消息可以重发。"]
    assert Delivery.objects.count() == 1
    assert client.post(url("delivery_resend", 999999)).status_code == 404
    assert client.get(url("delivery_resend", d.pk)).status_code == 405


def test_export_is_the_filtered_log_in_xlsx_with_chinese_headers(client, people, county):
    delivery("a", recipient=people.liaison, unit=county.education, status="failed", error="=HYPERLINK(\"x\")")
    delivery("b", recipient=people.sibling_liaison, unit=county.finance, status="sent", subject="督办提醒")
    login(client, people.office)
    response = client.get(url("deliveries_export"), {"status": "failed"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = list(ws.iter_rows(values_only=True))
    headers = rows[0]
    for h in ("时间", "渠道", "接收人（或机器人）", "单位", "标题", "状态", "尝试次数", "发送时间", "错误信息"):
        assert h in headers, headers
    assert len(rows) == 2
    row = dict(zip(headers, rows[1], strict=True))
    assert row["接收人（或机器人）"] == "教体局联络员" and row["状态"] == "发送失败" and row["渠道"] == "电子邮件"
    assert row["单位"] == "县教育体育局"
    assert not str(row["错误信息"]).startswith("=")  # never a formula


# ---- the home page's cards -------------------------------------------------------------------------------------

@pytest.fixture
def ledger_in_use(people, county):
    """Problems of every light and a pending one, led by 教体局 or 财政局, one co-led, one only with a measure."""
    campaign = CampaignFactory(code="ZF2022")

    def assigned(unit, days, **values):
        p = make_problem(campaign=campaign, by=people.office, lead_unit=unit, deadline=TODAY + dt.timedelta(days=days),
                         summary=f"{unit.short_name}问题{days}", **values)
        workflow.assign(problem=p, by=people.office)
        return p

    assigned(county.education, -5)
    assigned(county.education, 3)
    assigned(county.education, 30)
    assigned(county.education_school, -1)
    assigned(county.finance, -3, co_units=[county.education])
    assigned(county.finance, 2)
    only_measure = assigned(county.finance, -9)
    make_measure(problem=only_measure, unit=county.education, deadline=TODAY + dt.timedelta(days=20))
    pending = assigned(county.education, 10)
    m = make_measure(problem=pending, unit=county.education, deadline=TODAY + dt.timedelta(days=10))
    ledger_services.progress_add(measure=m, by=people.liaison, text="完成", mark_status=MeasureStatus.DONE)
    workflow.apply(problem=pending, by=people.liaison, summary="已整改")
    make_problem(campaign=campaign, by=people.office, lead_unit=county.education, summary="待分派")
    assigned(county.town, -2)


def card_links(html: str) -> dict[str, tuple[str, int]]:
    cards = re.findall(r'<a class="card[^"]*" data-card="(\w+)" href="([^"]+)">.*?data-count="\w+">(\d+)<', html, re.S)
    return {name: (href.replace("&amp;", "&"), int(n)) for name, href, n in cards}


def listed_count(response) -> int:
    if "tasks" in response.context:
        return response.context["tasks"].problem_total
    return response.context["page_obj"].paginator.count


@pytest.mark.parametrize("who", ["office", "admin", "leader", "liaison", "sibling_liaison"])
def test_each_home_card_opens_the_list_of_exactly_what_it_counts(client, people, county, ledger_in_use, who):
    user = getattr(people, who)
    login(client, user)
    cards = card_links(client.get(reverse("home")).content.decode())
    assert set(cards) == {"open", "red", "yellow", "pending"}
    assert cards["open"][1] > 0 and cards["red"][1] > 0
    for name, (href, count) in cards.items():
        response = client.get(href)
        assert response.status_code == 200, href
        assert listed_count(response) == count, f"{who} {name}: the card says {count}, {href} lists otherwise"
        if "tasks" in response.context:
            shown = response.content.decode()
            assert f'data-testid="task-problem-total">{count}<' in shown


def test_the_liaisons_filtered_tasks_show_the_filter_and_a_way_back(client, people, ledger_in_use):
    login(client, people.liaison)
    html = client.get(reverse("ledger:my_tasks"), {"light": "red"}).content.decode()
    assert "仅显示红灯（逾期）的问题和措施" in html and f'href="{reverse("ledger:my_tasks")}"' in html
    assert client.get(reverse("ledger:my_tasks"), {"light": "<b>", "status": "closed"}).context["tasks"].problem_total \
        == client.get(reverse("ledger:my_tasks")).context["tasks"].problem_total


def test_the_office_home_warns_of_stopped_robots_and_failed_messages(client, people, county):
    client.force_login(people.office, backend="django.contrib.auth.backends.ModelBackend")
    assert 'data-testid="delivery-alerts"' not in client.get("/").content.decode()
    Robot.objects.create(kind="wecom", name="教体局工作群", unit=county.education, webhook_encrypted="x",
                         is_enabled=False, disabled_reason="企业微信机器人地址无效（errcode 93000）")
    Delivery.objects.create(key="alert-1", channel="email", recipient=people.liaison, batch="b", subject="s",
                            body="b", status="failed")

    page = client.get("/").content.decode()

    assert "1 个群机器人因平台返回错误已停用" in page and "1 条消息发送失败或结果未知" in page
    client.force_login(people.liaison, backend="django.contrib.auth.backends.ModelBackend")
    assert 'data-testid="delivery-alerts"' not in client.get("/").content.decode()
