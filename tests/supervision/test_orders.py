"""督办单 by hand: numbering per year (also under simultaneous issues), who may issue, reply and withdraw, who is
told, what a refusal leaves behind (nothing), the pages in scope, the register and its export."""

from __future__ import annotations

import datetime as dt
import io
import threading
from urllib.parse import unquote

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.models import DeadlineMode
from campaigns.workdays import add_working_days
from core.models import AuditEntry
from ledger import services as ledger_services
from ledger import workflow
from ledger.models import MeasureStatus, Problem
from notifications import crypto
from notifications.models import Channel, Effect, Level, Notification, Robot
from supervision import orders
from supervision.models import OrderLevel, OrderStatus, SupervisionOrder
from supervision.panels import register_panels
from tests.conftest import County, People
from tests.factories import UserFactory
from tests.ledger.factories import CampaignFactory, make_measure, make_problem
from units.models import Role, User

TODAY = timezone.localdate()
YEAR = TODAY.year
REQUIREMENTS = "请于回复期限前完成整改，并书面报送整改情况。"


@pytest.fixture(autouse=True)
def _order_panel() -> None:
    register_panels()  # SupervisionConfig.ready() does this; calling it again changes nothing


@pytest.fixture
def campaign(db):
    return CampaignFactory(code="ZF2026", order_reply_days=5)


def assigned(campaign, people: People, unit, *, summary: str = "窗口服务态度差",
             deadline: dt.date | None = dt.date(2022, 6, 30)) -> Problem:
    p = make_problem(campaign=campaign, by=people.office, lead_unit=unit, summary=summary, deadline=deadline)
    return workflow.assign(problem=p, by=people.office)


@pytest.fixture
def problem(campaign, people, county) -> Problem:
    return assigned(campaign, people, county.education)


@pytest.fixture
def circle(county: County) -> dict[str, User]:
    """The people around 县教育体育局 besides its liaison: its leader and its 分管领导."""
    return {
        "unit_leader": UserFactory(username="jtj-leader", full_name="教体局局长", unit=county.education,
                                   roles=[Role.LEADER]),
        "overseer": UserFactory(username="county-leader", full_name="副县长", unit=county.root, roles=[Role.LEADER],
                                overseen=[county.education]),
    }


def issue(problem: Problem, by, **values) -> SupervisionOrder:
    values.setdefault("level", OrderLevel.SUPERVISE)
    values.setdefault("requirements", REQUIREMENTS)
    return orders.order_issue(problem=problem, by=by, **values)


def login(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def snapshot() -> dict:
    """Everything an order step may write."""
    return {
        "orders": sorted(SupervisionOrder.objects.values_list("pk", "year", "seq", "status", "reply", "replied_by_id")),
        "notifications": Notification.objects.count(),
        "effects": Effect.objects.count(),
        "audit": AuditEntry.objects.exclude(action=AuditEntry.Action.DENIED).count(),
    }


def assert_refused(action, match: str, kind: str | None = None, error=workflow.WorkflowError) -> None:
    before = snapshot()
    with pytest.raises(error, match=match) as exc:
        action()
    if kind is not None:
        assert exc.value.kind == kind
    assert snapshot() == before


# ---- numbering ---------------------------------------------------------------------------------------------------

def test_orders_are_numbered_per_year(problem, people, campaign, county):
    # An order of last year does not move this year's numbers.
    SupervisionOrder.objects.create(problem=problem, year=YEAR - 1, seq=7, requirements="去年的督办单",
                                    reply_deadline=TODAY, issued_by=people.office, issued_at=timezone.now())
    other = assigned(campaign, people, county.finance, summary="资金拨付慢")

    first, second, third = issue(problem, people.office), issue(other, people.office), issue(problem, people.office)

    assert [o.number for o in (first, second, third)] == [f"督办〔{YEAR}〕{n}号" for n in (1, 2, 3)]
    assert (first.year, first.seq) == (YEAR, 1)
    assert first.status == OrderStatus.OPEN and first.issued_by == people.office


def test_the_number_prefix_comes_from_settings(problem, people, settings):
    settings.SUPERVISION_ORDER_PREFIX = "作风督"
    assert issue(problem, people.office).number == f"作风督〔{YEAR}〕1号"


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="simultaneous transactions need PostgreSQL; set DATABASE_URL to a PostgreSQL database to run this",
)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_simultaneous_issues_get_different_numbers(people, county):
    campaign = CampaignFactory(code="ZF2099")
    problems = [assigned(campaign, people, unit, summary=f"问题{i}")
                for i, unit in enumerate([county.education, county.finance, county.town, county.education_school])]
    start = threading.Barrier(len(problems), timeout=15)
    results: list[object] = [None] * len(problems)

    def run(i: int, p: Problem) -> None:
        try:
            office = User.objects.get(pk=people.office.pk)
            start.wait()
            results[i] = issue(p, office).number
        except BaseException as exc:  # noqa: B036  (kept for the assertion below)
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, p), daemon=True) for i, p in enumerate(problems)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    assert all(isinstance(r, str) for r in results), results
    assert sorted(results) == sorted(f"督办〔{YEAR}〕{n}号" for n in range(1, len(problems) + 1))  # type: ignore[type-var]


# ---- issuing -----------------------------------------------------------------------------------------------------

def test_the_reply_deadline_defaults_to_the_campaigns_days(problem, people, campaign):
    assert issue(problem, people.office).reply_deadline == TODAY + dt.timedelta(days=5)
    campaign.deadline_mode = DeadlineMode.WORKING
    campaign.save()
    problem.refresh_from_db()
    assert issue(problem, people.office).reply_deadline == add_working_days(TODAY, 5)
    assert issue(problem, people.office, reply_deadline=TODAY).reply_deadline == TODAY  # today is allowed


def test_issuing_is_audited(problem, people):
    order = issue(problem, people.office, level=OrderLevel.LISTED, ip="10.0.0.8")
    entry = AuditEntry.objects.get(object_id=str(order.pk), content_type__model="supervisionorder")
    assert entry.action == AuditEntry.Action.CREATE and entry.actor == people.office and entry.ip == "10.0.0.8"
    assert entry.changes["problem"] == problem.number and entry.changes["level"] == Level.LISTED
    assert order.title == "挂牌督办通知书"


def test_issuing_tells_the_lead_units_circle_in_app_at_once(problem, people, circle, county):
    robot = Robot.objects.create(kind=Channel.WECOM, name="教体局工作群", unit=county.education,
                                 webhook_encrypted=crypto.encrypt("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"))
    Robot.objects.create(kind=Channel.WECOM, name="已停用", unit=county.education, is_enabled=False,
                         webhook_encrypted=crypto.encrypt("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x"))

    order = issue(problem, people.office, reply_deadline=TODAY + dt.timedelta(days=3))

    told = set(Notification.objects.filter(title__contains="督办单：").values_list("recipient__username", flat=True))
    assert told == {people.liaison.username, "jtj-leader", "county-leader"}
    note = Notification.objects.get(recipient=people.liaison, title__contains="督办单：")
    deadline = TODAY + dt.timedelta(days=3)
    assert note.title == (f"督办〔{YEAR}〕1号 督办单：{problem.number}「窗口服务态度差」，"
                          f"请于{deadline:%Y-%m-%d}前回复")
    assert note.level == Level.SUPERVISE
    assert note.url == reverse("supervision:order_detail", args=[order.pk])
    robots = set(Effect.objects.filter(ref=f"order:{order.pk}", robot__isnull=False).values_list("robot", flat=True))
    assert robots == {robot.pk}
    assert not Notification.objects.filter(recipient__in=[people.sibling_liaison, people.leader]).exists()


def test_only_the_office_issues_and_only_on_an_assigned_problem(problem, people, campaign, county):
    for who in (people.liaison, people.leader, people.admin, people.outsider):
        assert_refused(lambda who=who: issue(problem, who), "只有作风办可以签发督办单", workflow.ROLE)
    draft = make_problem(campaign=campaign, by=people.office, lead_unit=county.education)
    assert_refused(lambda: issue(draft, people.office), "待分派", workflow.STATE)
    workflow.void(problem=problem, by=people.office, reason="重复录入")
    assert_refused(lambda: issue(problem, people.office), "已作废", workflow.STATE)


def test_an_order_may_be_issued_while_the_problem_waits_for_review(problem, people, county):
    m = make_measure(problem=problem, unit=county.education)
    ledger_services.progress_add(measure=m, by=people.liaison, text="完成", mark_status=MeasureStatus.DONE)
    workflow.apply(problem=problem, by=people.liaison, summary="已整改")
    assert issue(problem, people.office).problem.status == "pending_review"


@pytest.mark.parametrize(("values", "field", "match"), [
    ({"requirements": "  "}, "requirements", "请填写督办要求"),
    ({"requirements": "含控制字符\x1b"}, "requirements", "控制字符"),
    ({"reply_deadline": TODAY - dt.timedelta(days=1)}, "reply_deadline", "不能早于今天"),
    ({"level": 9}, "level", "请选择督办级别"),
])
def test_bad_input_is_refused_by_field_and_writes_nothing(problem, people, values, field, match):
    before = snapshot()
    with pytest.raises(ValidationError, match=match) as exc:
        issue(problem, people.office, **values)
    assert field in exc.value.message_dict
    assert snapshot() == before


# ---- replying and withdrawing -----------------------------------------------------------------------------------

def test_the_lead_liaison_replies_and_the_office_is_told(problem, people):
    order = issue(problem, people.office)

    orders.order_reply(order=order, by=people.liaison, reply="已完成整改，制度已印发。")

    order.refresh_from_db()
    assert order.status == OrderStatus.REPLIED and order.replied_by == people.liaison and order.replied_at
    assert order.reply == "已完成整改，制度已印发。"
    note = Notification.objects.get(recipient=people.office, title__contains="已回复")
    assert note.title == f"督办〔{YEAR}〕1号 已回复：{problem.number}「窗口服务态度差」（教体局）"
    assert note.url == reverse("supervision:order_detail", args=[order.pk])
    assert_refused(lambda: orders.order_reply(order=order, by=people.liaison, reply="再回复一次"),
                   "已回复", workflow.STATE)


def test_a_liaison_of_a_unit_above_the_lead_unit_may_reply(campaign, people, county):
    order = issue(assigned(campaign, people, county.education_school), people.office)
    orders.order_reply(order=order, by=people.liaison, reply="一中已整改")
    assert SupervisionOrder.objects.get(pk=order.pk).status == OrderStatus.REPLIED


def test_only_a_lead_liaison_replies(problem, people, circle):
    order = issue(problem, people.office)
    for who in (people.office, people.leader, circle["unit_leader"], people.sibling_liaison, people.admin):
        assert_refused(lambda who=who: orders.order_reply(order=order, by=who, reply="代为回复"),
                       "只有牵头单位的联络员可以回复督办单", workflow.ROLE)
    assert_refused(lambda: orders.order_reply(order=order, by=people.liaison, reply=" "), "请填写回复内容",
                   error=ValidationError)


def test_the_office_withdraws_an_open_order(problem, people):
    order = issue(problem, people.office)
    assert_refused(lambda: orders.order_withdraw(order=order, by=people.liaison, reason="不需要了"),
                   "只有作风办可以撤销督办单", workflow.ROLE)
    assert_refused(lambda: orders.order_withdraw(order=order, by=people.office, reason=""), "请说明原因",
                   error=ValidationError)

    orders.order_withdraw(order=order, by=people.office, reason="问题已合并办理")

    order.refresh_from_db()
    assert order.status == OrderStatus.WITHDRAWN
    entry = AuditEntry.objects.filter(object_id=str(order.pk), content_type__model="supervisionorder").latest("id")
    assert entry.note == "问题已合并办理"
    assert Notification.objects.filter(recipient=people.liaison, title__contains="已撤销").exists()
    assert_refused(lambda: orders.order_reply(order=order, by=people.liaison, reply="已整改"), "已撤销",
                   workflow.STATE)
    assert_refused(lambda: orders.order_withdraw(order=order, by=people.office, reason="再撤一次"), "已撤销",
                   workflow.STATE)


# ---- the pages ---------------------------------------------------------------------------------------------------

def test_the_office_issues_from_the_problem_page(client, problem, people):
    login(client, people.office)
    page = client.get(reverse("ledger:problem_detail", args=[problem.pk]))
    assert reverse("supervision:order_issue", args=[problem.pk]) in page.content.decode()
    form = client.get(reverse("supervision:order_issue", args=[problem.pk]))
    assert form.status_code == 200
    assert form.context["form"].initial["reply_deadline"] == TODAY + dt.timedelta(days=5)

    response = client.post(reverse("supervision:order_issue", args=[problem.pk]), {
        "level": OrderLevel.URGE, "requirements": REQUIREMENTS,
        "reply_deadline": (TODAY + dt.timedelta(days=2)).isoformat(),
    }, follow=True)

    order = SupervisionOrder.objects.get()
    assert response.redirect_chain[-1][0] == reverse("ledger:problem_detail", args=[problem.pk]) + "#orders"
    assert f"已签发督办通知单 督办〔{YEAR}〕1号" in response.content.decode()
    assert order.level == OrderLevel.URGE and order.reply_deadline == TODAY + dt.timedelta(days=2)
    [panel] = response.context["panels"]
    assert [o.pk for o in panel["context"]["orders"]] == [order.pk]


def test_a_bad_issue_form_is_shown_again_with_its_errors(client, problem, people):
    login(client, people.office)
    before = snapshot()
    response = client.post(reverse("supervision:order_issue", args=[problem.pk]), {
        "level": OrderLevel.SUPERVISE, "requirements": "", "reply_deadline": "2001-01-01"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"requirements", "reply_deadline"}
    assert snapshot() == before


def test_the_panel_lists_orders_with_the_overdue_in_red(client, problem, people):
    late = issue(problem, people.office, reply_deadline=TODAY)
    SupervisionOrder.objects.filter(pk=late.pk).update(reply_deadline=TODAY - dt.timedelta(days=1))
    issue(problem, people.office, level=OrderLevel.LISTED)
    login(client, people.liaison)
    html = client.get(reverse("ledger:problem_detail", args=[problem.pk])).content.decode()
    assert "逾期未回复" in html and "挂牌督办" in html and late.number in html
    assert reverse("supervision:order_issue", args=[problem.pk]) not in html  # the button is the office's
    row = html[html.index(f'data-order="{late.number}"'):]
    assert row.split(">", 1)[0].endswith('class="table-danger"')


def test_a_problem_without_orders_shows_no_panel_to_a_liaison(client, problem, people):
    login(client, people.liaison)
    assert client.get(reverse("ledger:problem_detail", args=[problem.pk])).context["panels"] == []


def test_a_liaison_cannot_issue(client, problem, people):
    login(client, people.liaison)
    before = snapshot()
    url = reverse("supervision:order_issue", args=[problem.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"level": 4, "requirements": REQUIREMENTS,
                             "reply_deadline": TODAY.isoformat()}).status_code == 403
    assert snapshot() == before


def test_issuing_on_a_draft_is_explained_on_the_problem_page(client, campaign, people, county):
    draft = make_problem(campaign=campaign, by=people.office, lead_unit=county.education)
    login(client, people.office)
    response = client.get(reverse("supervision:order_issue", args=[draft.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("ledger:problem_detail", args=[draft.pk])
    assert "不能签发督办单" in response.content.decode()


def test_orders_out_of_scope_are_not_found(client, problem, people):
    order = issue(problem, people.office)
    pages = [reverse(f"supervision:{name}", args=[order.pk]) for name in ("order_detail", "order_docx")]
    for who in (people.sibling_liaison, people.outsider, people.leader):
        login(client, who)
        for url in pages:
            assert client.get(url).status_code == 404, (who, url)
        assert client.post(reverse("supervision:order_reply", args=[order.pk]), {"reply": "x"}).status_code == 404
        assert client.get(reverse("supervision:order_issue", args=[problem.pk])).status_code == 404
    login(client, people.liaison)
    assert client.get(pages[0]).status_code == 200


def test_a_leader_in_scope_sees_the_order_but_cannot_reply(client, problem, people, circle):
    order = issue(problem, people.office)
    login(client, circle["unit_leader"])
    page = client.get(reverse("supervision:order_detail", args=[order.pk]))
    assert page.status_code == 200 and page.context["reply_form"] is None
    before = snapshot()
    assert client.post(reverse("supervision:order_reply", args=[order.pk]), {"reply": "代为回复"}).status_code == 403
    assert client.post(reverse("supervision:order_withdraw", args=[order.pk]), {"reason": "x"}).status_code == 403
    assert snapshot() == before


def test_the_liaison_replies_on_the_order_page(client, problem, people):
    order = issue(problem, people.office)
    login(client, people.liaison)
    url = reverse("supervision:order_detail", args=[order.pk])
    assert client.get(url).context["reply_form"] is not None
    empty = client.post(reverse("supervision:order_reply", args=[order.pk]), {"reply": ""})
    assert empty.status_code == 200 and "reply" in empty.context["reply_form"].errors

    response = client.post(reverse("supervision:order_reply", args=[order.pk]), {"reply": "已整改到位"}, follow=True)

    assert response.redirect_chain[-1][0] == url
    assert "已整改到位" in response.content.decode()
    assert SupervisionOrder.objects.get(pk=order.pk).status == OrderStatus.REPLIED
    again = client.post(reverse("supervision:order_reply", args=[order.pk]), {"reply": "再次回复"}, follow=True)
    assert "已回复" in again.content.decode() and SupervisionOrder.objects.get(pk=order.pk).reply == "已整改到位"


def test_the_office_withdraws_on_the_order_page(client, problem, people):
    order = issue(problem, people.office)
    login(client, people.office)
    empty = client.post(reverse("supervision:order_withdraw", args=[order.pk]), {"reason": ""})
    assert empty.status_code == 200 and empty.context["withdraw_form"].errors
    client.post(reverse("supervision:order_withdraw", args=[order.pk]), {"reason": "问题已合并"})
    assert SupervisionOrder.objects.get(pk=order.pk).status == OrderStatus.WITHDRAWN


def test_the_word_document_downloads_under_its_chinese_name(client, problem, people):
    order = issue(problem, people.office)
    login(client, people.liaison)
    response = client.get(reverse("supervision:order_docx", args=[order.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == f"督办〔{YEAR}〕1号.docx"
    assert response.content[:2] == b"PK"


# ---- the register ------------------------------------------------------------------------------------------------

@pytest.fixture
def register(problem, people, campaign, county):
    """Four orders: open, replied, withdrawn (县教育体育局), and one overdue for 县财政局 of last year."""
    fin = assigned(campaign, people, county.finance, summary="资金拨付慢")
    open_ = issue(problem, people.office)
    replied = issue(problem, people.office, level=OrderLevel.LISTED)
    orders.order_reply(order=replied, by=people.liaison, reply="已整改")
    withdrawn = issue(problem, people.office, level=OrderLevel.URGE)
    orders.order_withdraw(order=withdrawn, by=people.office, reason="合并办理")
    late = SupervisionOrder.objects.create(
        problem=fin, year=YEAR - 1, seq=9, requirements="去年的督办单", reply_deadline=TODAY - dt.timedelta(days=3),
        issued_by=people.office, issued_at=timezone.now())
    return {"open": open_, "replied": replied, "withdrawn": withdrawn, "late": late}


def shown(client, **params) -> list[str]:
    response = client.get(reverse("supervision:order_list"), params)
    assert response.status_code == 200
    return [o.number for o in response.context["page_obj"]]


def test_the_register_filters(client, people, county, register):
    login(client, people.office)
    r = {k: v.number for k, v in register.items()}
    assert shown(client) == [r["withdrawn"], r["replied"], r["open"], r["late"]]
    assert shown(client, status="open") == [r["open"], r["late"]]
    assert shown(client, status="overdue") == [r["late"]]
    assert shown(client, status="replied") == [r["replied"]]
    assert shown(client, status="withdrawn") == [r["withdrawn"]]
    assert shown(client, level=OrderLevel.LISTED) == [r["replied"]]
    assert shown(client, unit=county.finance.pk) == [r["late"]]
    assert shown(client, unit=county.root.pk) == [r["withdrawn"], r["replied"], r["open"], r["late"]]
    assert shown(client, year=YEAR - 1) == [r["late"]]
    assert shown(client, year=1999, status="nonsense") == shown(client)  # invalid filters are ignored
    html = client.get(reverse("supervision:order_list"), {"status": "overdue"}).content.decode()
    assert "逾期未回复" in html and reverse("ledger:problem_detail", args=[register["late"].problem_id]) in html


def test_the_register_is_the_offices(client, people, register):
    for who in (people.liaison, people.leader, people.sibling_liaison, people.outsider):
        login(client, who)
        assert client.get(reverse("supervision:order_list")).status_code == 403
        assert client.get(reverse("supervision:order_export")).status_code == 403


def test_the_register_exports_to_excel(client, people, register):
    login(client, people.office)
    response = client.get(reverse("supervision:order_export"), {"status": "open"})
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment;")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("督办单号", "文书名称", "督办级别", "问题编号")
    assert [row[0] for row in rows[1:]] == [register["open"].number, register["late"].number]
    assert rows[2][rows[0].index("状态")] == "逾期未回复"
    assert AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT, note__startswith="导出督办单台账").exists()


def test_the_register_runs_the_same_queries_for_more_rows(client, people, campaign, county, problem):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("supervision:order_list")).status_code == 200
        return len(ctx.captured_queries)

    login(client, people.office)
    issue(problem, people.office)
    client.get(reverse("supervision:order_list"))
    small = count()
    for i in range(6):
        orders.order_reply(order=issue(assigned(campaign, people, county.finance, summary=f"问题{i}"),
                                       people.office), by=people.sibling_liaison, reply="已整改")
    assert count() == small
