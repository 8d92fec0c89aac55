"""The notification centre in the browser: the bell and its count, the list (marked read in place), the delivery
log with a resend, and a liaison's 待办 and messages on a 390 px phone without sideways scrolling."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from ledger import services, workflow
from notifications.models import Delivery, Notification, Robot
from tests.conftest import PASSWORD
from tests.ledger.factories import CampaignFactory, make_measure, make_problem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TODAY = timezone.localdate()
PHONE = {"width": 390, "height": 844}


def log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("登录名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{base_url}/")


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px screen"


@pytest.fixture
def ledger(people, county):
    """A few problems for 教体局, of every light, with measures; long texts, as offices write them."""
    campaign = CampaignFactory(code="ZF2026", name="深化机关作风整顿专项行动")
    rows = [
        ("会议文件多、督查检查考核过频，基层干部疲于迎检，没有精力抓落实", -6),
        ("学校食堂招标程序不规范，食材采购未按规定公开比选", 3),
        ("办学许可审批材料重复提交，群众反映“来回跑、多头跑”", 25),
    ]
    problems = []
    for summary, days in rows:
        p = make_problem(campaign=campaign, by=people.office, lead_unit=county.education, summary=summary,
                         deadline=TODAY + dt.timedelta(days=days), co_units=[county.finance])
        workflow.assign(problem=p, by=people.office)
        m = make_measure(problem=p, unit=county.education, content="制定整改方案，明确责任人和完成时限，逐项销号",
                         deadline=p.deadline)
        services.progress_add(measure=m, by=people.liaison, text="已召开专题会议部署整改")
        problems.append(p)
    return problems


@pytest.fixture
def messages_for(people, county, ledger):
    now = timezone.now()
    p1, p2, p3 = ledger

    def add(user, title, *, group="event", level=0, items=None, minutes=0, read=False, url=""):
        n = Notification.objects.create(
            recipient=user, group=group, level=level, title=title, url=url,
            items=items if items is not None else [{"text": title, "url": url, "level": level}],
            read_at=now if read else None,
        )
        Notification.objects.filter(pk=n.pk).update(created_at=now - dt.timedelta(minutes=minutes))
        return n

    for user in (people.liaison, people.office):
        add(user, "每日提醒：您有1个问题逾期、1个临期", group="overdue", level=3, items=[
            {"text": f"{p1.number} {p1.summary}（逾期6天）", "url": f"/ledger/{p1.pk}/", "level": 3},
            {"text": f"{p2.number} {p2.summary}（还剩3天）", "url": f"/ledger/{p2.pk}/", "level": 2},
        ])
        add(user, f"督办单：请于5个工作日内报送{p1.number}整改情况", group="order", level=4, minutes=30,
            url=f"/ledger/{p1.pk}/")
        add(user, f"问题{p3.number}已分派给您单位", minutes=90, url=f"/ledger/{p3.pk}/")
        add(user, "三月份月调度数据请于本周五前报送", group="report", level=1, minutes=600, read=True)
    robot = Robot.objects.create(kind="wecom", name="教体局整改工作群", unit=county.education, webhook_encrypted="x")
    rows = [
        ("email", people.liaison, None, "sent", "", "每日提醒：您有1个问题逾期、1个临期"),
        ("sms", people.liaison, None, "failed", "短信网关返回：号码格式错误（isv.MOBILE_NUMBER_ILLEGAL）",
         "督办提醒：ZF2026-0001已逾期6天"),
        ("wecom", None, robot, "unknown", "发送进程中断，无法确认是否已送达；如需补发，请在发送记录中手动重发。",
         "教体局整改工作群：您有1个问题逾期"),
        ("inapp", people.office, None, "sent", "", "每日提醒：您有1个问题逾期"),
        ("email", people.sibling_liaison, None, "pending", "", "问题已分派给您单位"),
    ]
    for i, (channel, user, bot, status, error, subject) in enumerate(rows):
        Delivery.objects.create(
            key=f"k{i}", channel=channel, recipient=user, robot=bot, unit=user.unit if user else robot.unit,
            address={"email": "jtj@sfx.gov.cn", "sms": "13800001234"}.get(channel, ""), batch="sweep:1",
            subject=subject, body=f"{subject}\n\n详见系统：http://testserver/notifications/", status=status,
            attempts=0 if status == "pending" else (5 if status == "failed" else 1), error=error,
            sent_at=timezone.now() if status == "sent" else None,
        )
    return ledger


def test_the_bell_and_the_notification_list(page: Page, live_server, messages_for, screenshot_dir):
    log_in(page, live_server.url, "office1")
    bell = page.get_by_test_id("bell")
    expect(bell).to_have_attribute("aria-label", "站内消息（3条未读）")
    expect(page.get_by_test_id("bell-count")).to_have_text("3")
    page.screenshot(path=str(screenshot_dir / "bell.png"))

    bell.click()
    expect(page.get_by_role("heading", name="站内消息")).to_be_visible()
    items = page.get_by_test_id("notification")
    expect(items).to_have_count(4)
    expect(items.first).to_contain_text("每日提醒：您有1个问题逾期、1个临期")
    page.screenshot(path=str(screenshot_dir / "notifications.png"), full_page=True)

    # 标为已读 in place (htmx): the item turns read and the bell counts one less.
    items.nth(1).get_by_role("button", name="标为已读").click()
    expect(items.nth(1)).to_have_attribute("data-read", "1")
    expect(page.get_by_test_id("bell-count")).to_have_text("2")
    # Opening a line goes to its problem and marks the digest read.
    overdue = messages_for[0]
    items.first.get_by_role("link", name=overdue.number).click()
    expect(page).to_have_url(f"{live_server.url}/ledger/{overdue.pk}/")
    expect(page.get_by_test_id("bell-count")).to_have_text("1")


def test_the_delivery_log_and_a_resend(page: Page, live_server, messages_for, screenshot_dir):
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, live_server.url, "office1")
    page.goto(f"{live_server.url}/notifications/deliveries/")
    table = page.get_by_test_id("delivery-table")
    expect(table.locator("tbody tr")).to_have_count(Delivery.objects.count())
    expect(table).to_contain_text("号码格式错误")
    page.screenshot(path=str(screenshot_dir / "deliveries.png"), full_page=True)

    page.get_by_label("状态").select_option("failed")
    page.get_by_role("button", name="筛选").click()
    expect(table.locator("tbody tr")).to_have_count(1)
    table.get_by_role("button", name="重发").click()
    expect(page.locator(".alert-success")).to_contain_text("已重新发送")
    assert Delivery.objects.filter(resent_from__isnull=False).count() == 1


def test_a_liaison_on_a_phone(page: Page, live_server, messages_for, screenshot_dir):
    page.set_viewport_size(PHONE)
    log_in(page, live_server.url, "liaison1")
    no_sideways_scroll(page)
    mine = Notification.objects.filter(recipient__username="liaison1")
    unread = mine.filter(read_at=None).count()  # the assignments' own notices come on top of the fixture's
    expect(page.get_by_test_id("bell-count")).to_have_text(str(unread))

    page.goto(f"{live_server.url}/ledger/tasks/")
    cards = page.get_by_test_id("task-problem-cards")
    expect(cards).to_be_visible()
    expect(page.get_by_test_id("task-problems")).to_be_hidden()
    expect(cards.locator("[data-number]")).to_have_count(3)
    add = cards.locator("[data-number]").first.get_by_role("link", name="添加措施")
    expect(add).to_be_visible()
    box = add.bounding_box()
    assert box is not None and box["width"] > 300  # a full-width button, easy to tap
    no_sideways_scroll(page)
    page.screenshot(path=str(screenshot_dir / "liaison-tasks-390.png"), full_page=True)

    page.get_by_test_id("bell").click()
    items = page.get_by_test_id("notification")
    expect(items).to_have_count(mine.count())
    no_sideways_scroll(page)
    page.screenshot(path=str(screenshot_dir / "liaison-notifications-390.png"), full_page=True)
    button = items.first.get_by_role("button", name="标为已读")
    box = button.bounding_box()
    assert box is not None and box["width"] > 300
    button.click()
    expect(items.first).to_have_attribute("data-read", "1")
    expect(page.get_by_test_id("bell-count")).to_have_text(str(unread - 1))
    no_sideways_scroll(page)


def test_preferences_and_channel_switches(page: Page, live_server, people, screenshot_dir):
    from notifications.models import ChannelSwitch, Preference

    people.liaison.email = "jtj@sfx.gov.cn"
    people.liaison.phone = "13800001234"
    people.liaison.save()
    log_in(page, live_server.url, "office1")
    page.goto(f"{live_server.url}/notifications/channels/")
    page.get_by_label("允许使用短信").uncheck()
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".alert-success")).to_contain_text("渠道开关已保存")
    assert ChannelSwitch.objects.get(channel="sms").allowed is False
    page.screenshot(path=str(screenshot_dir / "notification-channels.png"), full_page=True)

    page.get_by_role("button", name="退出").click()
    page.set_viewport_size(PHONE)
    log_in(page, live_server.url, "liaison1")
    page.goto(f"{live_server.url}/notifications/preferences/")
    expect(page.get_by_test_id("address-email")).to_contain_text("jtj@sfx.gov.cn")
    expect(page.get_by_test_id("closed-channels")).to_contain_text("短信")
    page.get_by_label("接收电子邮件").uncheck()
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".alert-success")).to_contain_text("通知设置已保存")
    assert Preference.objects.get(user=people.liaison, channel="email").enabled is False
    no_sideways_scroll(page)
    page.screenshot(path=str(screenshot_dir / "notification-preferences-390.png"), full_page=True)
