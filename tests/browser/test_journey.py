"""One problem's whole life through the browser, as the office and a liaison click through the real pages:
campaign → problem → assign → two measures → progress with an evidence file → apply → returned with an opinion →
apply again → approved (已销号) → 回头看 finds 反弹 → reopened; the timeline shows every step.

Afterwards a few more problems are added through the services so the screenshots of the ledger list, the problem
page and the liaison's 待办 (docs/screenshots/) show a ledger in use."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from campaigns.models import Campaign
from ledger import services, workflow
from ledger.models import MeasureStatus, Problem, ProblemStatus
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TODAY = timezone.localdate()


@pytest.fixture
def accounts(people):
    return people


@pytest.fixture(autouse=True)
def patient_expect():
    """A long journey on a busy machine: give each wait more time than the default five seconds."""
    expect.set_options(timeout=15_000)
    yield
    expect.set_options(timeout=5_000)


@pytest.fixture
def evidence_file(tmp_path) -> Path:
    path = tmp_path / "整改前后对比.pdf"
    path.write_bytes(b"%PDF-1.4\n% evidence of the rectification\n%%EOF\n")
    return path


def open_as(browser: Browser, context_args: dict, base_url: str, username: str) -> Page:
    """A browser window of its own for one user, logged in through the login page; confirmations accepted."""
    page = browser.new_context(**context_args).new_page()
    page.set_default_timeout(15_000)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("登录名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{base_url}/")
    return page


def menu(page: Page, label: str) -> None:
    page.get_by_test_id("nav-menu").get_by_role("link", name=label, exact=True).click()


def expect_status(page: Page, label: str) -> None:
    expect(page.get_by_test_id("problem-status")).to_have_text(label)


def test_problem_journey_from_campaign_to_relapse(browser: Browser, browser_context_args, live_server, accounts,
                                                  county, evidence_file, screenshot_dir):
    base = live_server.url
    office = open_as(browser, browser_context_args, base, "office1")
    liaison = open_as(browser, browser_context_args, base, "liaison1")

    # ---- the office creates a campaign ----
    menu(office, "专项行动")
    office.get_by_role("link", name="新建专项行动").click()
    office.get_by_label("名称").fill("深化机关作风整顿专项行动")
    office.get_by_label("编号").fill("ZF2026")
    office.get_by_label("开始日期").fill(f"{TODAY.year}-01-01")
    office.get_by_label("状态").select_option(label="进行中")
    office.get_by_role("button", name="保存").click()
    expect(office.get_by_role("heading", name="深化机关作风整顿专项行动")).to_be_visible()

    # ---- … and a problem in it, with a deadline of 10 working days ----
    menu(office, "问题台账")
    office.get_by_role("link", name="录入问题").click()
    office.get_by_label("问题概述").fill("政务服务窗口工作人员推诿扯皮、办事效率低")
    office.get_by_label("具体表现").fill("群众反映办理入学手续需多次往返，窗口人员相互推诿。")
    office.get_by_label("问题来源").select_option(label="群众反映")
    office.get_by_label("牵头单位").select_option(value=str(county.education.pk))
    office.get_by_label("按工作日计算").check()
    office.get_by_label("工作日数").fill("10")
    expect(office.locator("[data-mode-panel=workdays]")).to_contain_text("个工作日，即")
    office.get_by_test_id("save-problem").click()
    expect(office.locator(".alert-success")).to_contain_text("已录入问题 ZF2026-0001")
    expect_status(office, "待分派")
    problem = Problem.objects.get(number="ZF2026-0001")
    assert problem.deadline and problem.deadline > TODAY

    # ---- … and assigns it from the ledger list ----
    menu(office, "问题台账")
    row = office.get_by_test_id("problem-table").locator("tr[data-number='ZF2026-0001']")
    row.get_by_role("checkbox").check()
    office.get_by_role("button", name="分派所选").click()
    expect(office.get_by_test_id("assign-problems")).to_contain_text("ZF2026-0001")
    office.get_by_label("分派说明").fill("请教体局牵头整改")
    office.get_by_test_id("confirm-assign").click()
    expect(office.locator(".alert-success")).to_contain_text("已分派 1 个问题")
    expect_status(office, "整改中")

    # ---- the liaison finds it in 本单位待办 and adds two measures ----
    menu(liaison, "本单位待办")
    task = liaison.get_by_test_id("task-problems").locator("tr[data-number='ZF2026-0001']")
    expect(task).to_contain_text("牵头")
    task.get_by_role("link", name="添加措施").click()
    liaison.get_by_label("整改措施").fill("建立首问负责制和一次性告知制度")
    liaison.get_by_label("完成时限", exact=True).fill((TODAY + dt.timedelta(days=5)).isoformat())
    liaison.get_by_role("button", name="保存并继续添加").click()
    expect(liaison.locator(".alert-success")).to_contain_text("已添加整改措施1")
    liaison.get_by_label("整改措施").fill("开展窗口作风专项培训，持续跟踪回访")
    liaison.get_by_label("长期坚持").check()
    liaison.get_by_test_id("save-measure").click()
    expect(liaison.locator(".alert-success")).to_contain_text("已添加整改措施2")
    expect(liaison.get_by_test_id("measures").locator("[data-measure]")).to_have_count(2)

    # ---- progress on both, the first with an evidence file, through the inline (htmx) form ----
    m1, m2 = problem.measures.order_by("seq")
    item = liaison.locator(f"#measure-{m1.pk}")
    item.get_by_role("link", name="填报进展").click()
    form = item.get_by_test_id("progress-form")
    expect(form).to_be_visible()
    form.get_by_label("整改进展").fill("已印发《首问负责制实施办法》，窗口张贴一次性告知清单。")
    form.get_by_label("措施状态").select_option(label="已完成")
    form.get_by_label("佐证材料").set_input_files(str(evidence_file))
    form.get_by_test_id("save-progress").click()
    expect(liaison.locator(".alert-success")).to_contain_text("上传佐证材料 1 份")
    expect(liaison.get_by_role("link", name="整改前后对比.pdf").first).to_be_visible()

    item = liaison.locator(f"#measure-{m2.pk}")
    item.get_by_role("link", name="填报进展").click()
    form = item.get_by_test_id("progress-form")
    form.get_by_label("整改进展").fill("已组织两期培训，阶段目标完成。")
    form.get_by_label("措施状态").select_option(label="已完成")
    form.get_by_test_id("save-progress").click()
    expect(liaison.locator(".alert-success")).to_contain_text("已填报措施2的进展")

    # ---- … and applies for sign-off ----
    liaison.get_by_test_id("problem-actions").get_by_role("link", name="申请销号").click()
    expect(liaison.get_by_test_id("apply-blockers")).to_have_count(0)
    liaison.get_by_label("整改情况说明").fill("两项措施均已落实，制度已印发。")
    liaison.get_by_test_id("submit-apply").click()
    expect(liaison.locator(".alert-success")).to_contain_text("已提交销号申请（第1轮）")
    expect_status(liaison, "待核查")

    # ---- the office returns it with an opinion ----
    menu(office, "待核查")
    card = office.get_by_test_id("review-queue").locator("[data-number='ZF2026-0001']")
    expect(card).to_contain_text("两项措施均已落实")
    card.get_by_label("核查意见").fill("佐证材料不全，请补充培训签到表。")
    card.get_by_role("button", name="退回").click()
    expect(office.locator(".alert-success")).to_contain_text("已退回问题 ZF2026-0001")
    expect(office.get_by_test_id("review-queue")).to_contain_text("暂无待核查的销号申请")

    # ---- the liaison sees 退回重改 at the head of 待办, reports new progress, and applies again ----
    menu(liaison, "本单位待办")
    first = liaison.get_by_test_id("task-problems").locator("tbody tr").first
    expect(first).to_contain_text("退回重改")
    expect(first).to_contain_text("佐证材料不全，请补充培训签到表。")
    first.get_by_role("link", name="查看").click()
    expect_status(liaison, "整改中")
    expect(liaison.get_by_test_id("review-rounds")).to_contain_text("佐证材料不全，请补充培训签到表。")
    item = liaison.locator(f"#measure-{m2.pk}")
    item.get_by_role("link", name="填报进展").click()
    form = item.get_by_test_id("progress-form")
    form.get_by_label("整改进展").fill("已补充两期培训的签到表。")
    form.get_by_test_id("save-progress").click()
    expect(liaison.locator(".alert-success")).to_contain_text("已填报措施2的进展")
    liaison.get_by_test_id("problem-actions").get_by_role("link", name="申请销号").click()
    liaison.get_by_label("整改情况说明").fill("已补充培训签到表，两项措施均已落实。")
    liaison.get_by_test_id("submit-apply").click()
    expect(liaison.locator(".alert-success")).to_contain_text("第2轮")

    # ---- the office approves: 已销号 ----
    menu(office, "待核查")
    card = office.get_by_test_id("review-queue").locator("[data-number='ZF2026-0001']")
    card.get_by_label("核查意见").fill("整改到位，同意销号。")
    card.get_by_role("button", name="通过销号").click()
    expect(office.locator(".alert-success")).to_contain_text("核查通过，已销号")
    office.goto(f"{base}/ledger/{problem.pk}/")
    expect_status(office, "已销号")

    # ---- 回头看 finds a relapse: the problem reopens ----
    menu(office, "回头看")
    office.get_by_role("link", name="抽取样本").click()
    office.get_by_label("专项行动").select_option(label="深化机关作风整顿专项行动")
    office.get_by_label("抽查批次").fill("第一批回头看")
    office.get_by_label("随机抽取 N 个").check()
    office.get_by_label("抽取数量").fill("5")
    office.get_by_test_id("draw").click()
    expect(office.locator(".alert-success")).to_contain_text("已抽取 1 个已销号问题")
    office.get_by_test_id("lookback-table").locator("tr[data-number='ZF2026-0001']").get_by_role(
        "link", name="记录结果").click()
    office.get_by_label("反弹").check()
    office.get_by_label("检查情况").fill("暗访发现窗口再次出现推诿现象。")
    expect(office.get_by_label("新的整改时限")).not_to_have_value("")  # the campaign's 重新整改期限 from today
    office.get_by_test_id("save-lookback").click()
    expect(office.locator(".alert-warning")).to_contain_text("问题已重新打开")
    expect_status(office, "整改中")

    # ---- the timeline lists every step, in order ----
    titles = [t.strip() for t in office.get_by_test_id("timeline").locator(".timeline-title").all_inner_texts()]
    assert titles == [
        "录入", "分派", "添加整改措施 · 措施1", "添加整改措施 · 措施2", "填报进展 · 措施1", "填报进展 · 措施2",
        "申请销号（第1轮）", "退回（第1轮）", "填报进展 · 措施2", "申请销号（第2轮）", "核查通过（第2轮）",
        "回头看 · 反弹", "重新打开",
    ], titles
    timeline = office.get_by_test_id("timeline")
    expect(timeline).to_contain_text("佐证材料不全，请补充培训签到表。")
    expect(timeline).to_contain_text("暗访发现窗口再次出现推诿现象。")
    expect(timeline.get_by_role("link", name="整改前后对比.pdf")).to_be_visible()
    problem.refresh_from_db()
    assert problem.status == ProblemStatus.IN_PROGRESS

    # the evidence downloads through the scoped view
    with office.expect_download() as download:
        timeline.get_by_role("link", name="整改前后对比.pdf").click()
    assert download.value.suggested_filename == "整改前后对比.pdf"

    # ---- screenshots, with a few more problems so the pages look like a ledger in use ----
    seed_ledger(accounts, county)
    menu(office, "问题台账")
    expect(office.get_by_test_id("problem-table")).to_contain_text("ZF2026-0001")
    office.screenshot(path=str(screenshot_dir / "ledger-list.png"), full_page=True)
    office.goto(f"{base}/ledger/{problem.pk}/")
    office.screenshot(path=str(screenshot_dir / "problem-page.png"), full_page=True)
    menu(liaison, "本单位待办")
    expect(liaison.get_by_test_id("task-problems")).to_contain_text("ZF2026-0001")
    liaison.screenshot(path=str(screenshot_dir / "liaison-todo.png"), full_page=True)
    for page in (office, liaison):
        page.context.close()


SEED = [
    # summary, lead unit attribute, days to the deadline, co-unit attributes, assigned?
    ("会议文件多、督查检查考核过频，基层负担重", "finance", -12, ["education"], True),
    ("惠企资金拨付流程繁琐、时限长", "finance", 4, [], True),
    ("学校食堂招标程序不规范", "education_school", -3, [], True),
    ("办学许可审批材料重复提交", "education", 3, ["finance"], True),
    ("社区服务热线接听不及时", "village", 25, [], True),
    ("乡镇干部下村走访流于形式", "town", 40, [], True),
    ("教师培训经费使用不规范", "education", 60, [], True),
    ("部门网站信息更新不及时", "finance", 30, [], False),
]


def seed_ledger(people, county) -> None:
    campaign = Campaign.objects.get(code="ZF2026")
    sources = list(campaign.sources.all())
    for i, (summary, unit, days, co, assigned) in enumerate(SEED):
        p = services.problem_create(
            campaign=campaign, by=people.office, summary=summary, lead_unit=getattr(county, unit),
            deadline=TODAY + dt.timedelta(days=days), source=sources[i % len(sources)],
            co_units=[getattr(county, c) for c in co],
        )
        if assigned:
            workflow.assign(problem=p, by=people.office)
            services.measure_create(problem=p, by=people.office, content="制定整改方案并逐项落实",
                                    unit=getattr(county, unit), deadline=p.deadline)
    done = services.problem_create(campaign=campaign, by=people.office, summary="公务接待超标准问题",
                                   lead_unit=county.education, deadline=TODAY - dt.timedelta(days=20))
    workflow.assign(problem=done, by=people.office)
    m = services.measure_create(problem=done, by=people.office, content="清退超标准接待费用",
                                unit=county.education, deadline=done.deadline)
    services.progress_add(measure=m, by=people.liaison, text="已清退", mark_status=MeasureStatus.DONE)
    workflow.apply(problem=done, by=people.liaison, summary="已整改到位")
    workflow.approve(problem=done, by=people.office, opinion="同意")
    # The journey's own problem: the liaison's to-do row links to it.
    assert re.match(r"ZF2026-\d{4}", done.number)
