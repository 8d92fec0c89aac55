"""Each role logs in through the login page, finds its own menu and its own part of the unit tree."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook
from playwright.sync_api import Page, expect

from core.jobs import job_import_create, job_run_preview
from core.models import Job
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ALL_CODES = {"ROOT", "ZFB", "JTJ", "YZ", "CZJ", "CGJD", "HPSQ"}

# role: (username, menu items it must see, menu items it must not see, unit codes in its tree)
ROLES = {
    "admin": ("admin1", {"工作台", "单位", "用户", "名册导入", "操作日志"}, set(), ALL_CODES),
    "office": ("office1", {"工作台", "单位"}, {"用户", "名册导入", "操作日志"}, ALL_CODES),
    "liaison": ("liaison1", {"工作台", "单位"}, {"用户", "名册导入", "操作日志"}, {"JTJ", "YZ"}),
    "leader": ("leader1", {"工作台", "单位"}, {"用户", "名册导入", "操作日志"}, {"CZJ", "CGJD", "HPSQ"}),
}


@pytest.fixture
def accounts(people):
    return people


def log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    expect(page.get_by_role("heading", name="整改台账")).to_be_visible()
    page.get_by_label("登录名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{base_url}/")


def menu_labels(page: Page) -> set[str]:
    return {t.strip() for t in page.get_by_test_id("nav-menu").get_by_role("link").all_inner_texts()}


def tree_codes(page: Page) -> set[str]:
    return set(page.locator("#unit-tree [data-unit-code]").evaluate_all("els => els.map(e => e.dataset.unitCode)"))


@pytest.mark.parametrize("role", list(ROLES))
def test_role_logs_in_and_sees_its_menu_and_tree(page: Page, live_server, accounts, role):
    username, must_see, must_not_see, codes = ROLES[role]
    log_in(page, live_server.url, username)
    expect(page.get_by_test_id("current-user")).to_contain_text(getattr(accounts, role).full_name)

    labels = menu_labels(page)
    assert must_see <= labels, labels
    assert not (must_not_see & labels), labels

    page.get_by_test_id("nav-menu").get_by_role("link", name="单位", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/units/")
    expect(page.get_by_role("heading", name="单位", exact=True)).to_be_visible()
    assert tree_codes(page) == codes

    # Log out with the navbar's button (a POST).
    page.get_by_role("button", name="退出").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_admin_tree_expand_collapse_search_and_screenshot(page: Page, live_server, accounts, screenshot_dir):
    log_in(page, live_server.url, "admin1")
    page.goto(f"{live_server.url}/units/")
    school = page.locator('[data-unit-code="YZ"]')
    expect(school).to_be_hidden()  # below the root, the tree starts folded

    page.get_by_role("button", name="全部展开").click()
    expect(school).to_be_visible()
    page.get_by_role("button", name="全部折叠").click()
    expect(school).to_be_hidden()

    page.get_by_placeholder("单位名称、简称或编码").fill("一高")
    page.get_by_role("button", name="搜索").click()
    expect(page.get_by_test_id("match-count")).to_have_text("1")
    expect(school).to_be_visible()  # its ancestors were opened
    expect(school.locator("mark")).to_have_text("一高")

    page.goto(f"{live_server.url}/units/")
    page.get_by_role("button", name="全部展开").click()
    page.screenshot(path=str(screenshot_dir / "unit-tree.png"), full_page=True)


def test_liaison_cannot_open_admin_pages(page: Page, live_server, accounts):
    log_in(page, live_server.url, "liaison1")
    response = page.goto(f"{live_server.url}/units/users/")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="无权访问")).to_be_visible()


def test_admin_imports_the_unit_roster(page: Page, live_server, accounts, shared_data, settings, tmp_path):
    log_in(page, live_server.url, "admin1")
    page.get_by_test_id("nav-menu").get_by_role("link", name="名册导入", exact=True).click()
    page.get_by_label("单位名册").check()
    page.get_by_label("Excel 文件").set_input_files(str(shared_data / "units_roster.xlsx"))
    page.get_by_role("button", name="上传并预检").click()

    expect(page.get_by_test_id("job-status")).to_have_text("待确认")
    expect(page.get_by_test_id("count-new")).to_have_text("84")
    expect(page.get_by_test_id("missing-list")).to_contain_text("县财政局")
    page.get_by_test_id("row-tabs").get_by_role("link", name=re.compile("新增")).click()
    expect(page.get_by_test_id("row-table")).to_contain_text("县委办公室")

    page.get_by_role("button", name="确认导入").click()  # opens the confirmation dialog
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("新增 84 条")
    dialog.get_by_test_id("apply-submit").click()
    expect(page.get_by_test_id("job-status")).to_have_text("已完成")
    expect(page.get_by_test_id("done-summary")).to_contain_text("导入完成")


def test_job_page_polls_progress_until_the_job_stops(page: Page, live_server, accounts, settings, tmp_path):
    wb = Workbook()
    wb.active.append(["单位编码", "单位名称"])
    wb.active.append(["A1", "甲单位"])
    buffer = io.BytesIO()
    wb.save(buffer)
    job = job_import_create(
        kind="units", upload=SimpleUploadedFile("名册.xlsx", buffer.getvalue()), by=accounts.admin
    )
    Job.objects.filter(pk=job.pk).update(status=Job.Status.PREVIEWING, progress=30)

    log_in(page, live_server.url, "admin1")
    page.goto(f"{live_server.url}/units/import/{job.pk}/")
    expect(page.get_by_test_id("progress-value")).to_have_text("30%")
    Job.objects.filter(pk=job.pk).update(progress=70)
    expect(page.get_by_test_id("progress-value")).to_have_text("70%")  # htmx polled the partial

    job_run_preview(job_id=job.pk)  # the worker finishes: the page reloads itself
    expect(page.get_by_test_id("job-status")).to_have_text("待确认")
    expect(page.get_by_test_id("count-new")).to_have_text("1")
