"""The dashboard in the browser: ECharts from our static files under the Content-Security-Policy (no violation),
a bar clicked opens the ledger list of exactly its problems, the table sorts, and a leader's dashboard on a
390 px phone without sideways scrolling."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_notifications import PHONE, log_in, no_sideways_scroll
from tests.reports.test_figures import on, timeline  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watch_console(page: Page) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


def listed(page: Page) -> int:
    return int(page.get_by_test_id("light-counts").locator('[data-count="total"]').inner_text())


def test_a_bar_opens_its_problems_and_the_table_sorts(page: Page, live_server, timeline, screenshot_dir):  # noqa: F811
    campaign, county = timeline
    errors = watch_console(page)
    log_in(page, live_server.url, "office1")
    page.goto(f"{live_server.url}/reports/dashboard/?campaign={campaign.pk}&as_of=2022-05-31")
    expect(page.get_by_test_id("tiles").locator('[data-tile="total"] .tile-value')).to_have_text("5")
    page.wait_for_function("() => window.echarts && echarts.getInstanceByDom(document.getElementById('chart-units'))")
    page.screenshot(path=str(screenshot_dir / "dashboard-timeline.png"), full_page=True)
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors

    # The first bar of the units chart (县教育体育局, 3 problems): clicked where ECharts drew it, once its entry
    # animation is over (a bar still growing is not yet under the pointer).
    page.wait_for_timeout(1500)
    point = page.evaluate("""() => {
        const el = document.getElementById('chart-units');
        el.scrollIntoView({block: 'center'});
        const chart = echarts.getInstanceByDom(el);
        const value = chart.getOption().series[0].data[0];
        const [x, y] = chart.convertToPixel({seriesIndex: 0}, [value / 4, 0]);
        const box = el.getBoundingClientRect();
        return {x: box.left + x, y: box.top + y};
    }""")
    page.mouse.click(point["x"], point["y"])
    expect(page.get_by_test_id("drill")).to_contain_text("县教育体育局")
    assert listed(page) == 3

    page.go_back()
    table = page.get_by_test_id("unit-table")
    table.get_by_role("button", name="问题总数").click()
    expect(table.locator("tbody tr").first.locator("td").nth(2)).to_have_text("0")  # ascending: none first
    table.get_by_role("button", name="问题总数").click()
    expect(table.locator("tbody tr").first).to_contain_text("教体局")
    assert not errors, errors


def test_a_leaders_dashboard_on_a_phone(page: Page, live_server, timeline, screenshot_dir):  # noqa: F811
    campaign, _ = timeline
    page.set_viewport_size(PHONE)
    errors = watch_console(page)
    log_in(page, live_server.url, "leader1")
    page.goto(f"{live_server.url}/reports/dashboard/?campaign={campaign.pk}&as_of=2022-05-31")
    expect(page.get_by_test_id("tiles").locator('[data-tile="total"] .tile-value')).to_have_text("2")
    page.wait_for_function("() => window.echarts && echarts.getInstanceByDom(document.getElementById('chart-trend'))")
    no_sideways_scroll(page)
    page.get_by_test_id("tiles").locator('[data-tile="overdue"]').click()
    expect(page.get_by_test_id("drill")).to_contain_text("逾期")
    assert listed(page) == 0
    assert not errors, errors


@pytest.fixture
def demo(django_capture_on_commit_callbacks):
    import io

    from django.core.management import call_command

    call_command("load_demo", stdout=io.StringIO())


def demo_log_in(page: Page, base_url: str, username: str) -> None:
    from units.demo import DEMO_PASSWORD

    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("登录名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    if "/accounts/password" in page.url:  # a first login may ask for a new password
        pytest.skip("the demo account asks for a new password")


def render_pages(path: str, out: Path, stem: str) -> int | None:
    """The Word file as LibreOffice prints it (PDF): its first three pages as `<stem>-1.png` … and the first
    landscape page (the 附件) as `<stem>-annex.png`; returns the number of pages (None without LibreOffice)."""
    soffice, pdftoppm = shutil.which("soffice"), shutil.which("pdftoppm")
    if not soffice or not pdftoppm:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copy(path, work / "doc.docx")
        subprocess.run([soffice, f"-env:UserInstallation=file://{work}/profile", "--headless", "--convert-to", "pdf",
                        "--outdir", str(work), str(work / "doc.docx")], check=True, capture_output=True, timeout=180)
        subprocess.run([pdftoppm, "-png", "-r", "70", str(work / "doc.pdf"), str(work / "page")], check=True,
                       timeout=120)
        pngs = sorted(work.glob("page-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        for i, png in enumerate(pngs[:3], start=1):
            shutil.copy(png, out / f"{stem}-{i}.png")
        for png in pngs:
            with png.open("rb") as fh:
                head = fh.read(24)
            width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
            if width > height:
                shutil.copy(png, out / f"{stem}-annex.png")
                break
        else:
            raise AssertionError("the 附件 is not on a landscape page")
        return len(pngs)


def test_the_demo_dashboards_and_last_months_reports_from_the_browser(page: Page, live_server, demo,
                                                                       screenshot_dir):
    import datetime as dt

    from django.utils import timezone

    from reports.models import ReportRun, ReportStatus

    errors = watch_console(page)
    demo_log_in(page, live_server.url, "office")
    page.goto(f"{live_server.url}/reports/dashboard/")
    page.wait_for_function("() => window.echarts && echarts.getInstanceByDom(document.getElementById('chart-trend'))")
    page.wait_for_timeout(600)  # the charts' entry animation
    page.screenshot(path=str(screenshot_dir / "dashboard-office.png"), full_page=True)
    total = int(page.get_by_test_id("tiles").locator('[data-tile="overdue"] .tile-value').inner_text())
    page.get_by_test_id("tiles").locator('[data-tile="overdue"]').click()
    assert listed(page) == total

    # Last month's 月调度 and last quarter's 季通报, from the build form.
    today = timezone.localdate()
    last_month = today.replace(day=1) - dt.timedelta(days=1)
    quarter = (today.month - 1) // 3
    label_q = f"{today.year}Q{quarter}" if quarter else f"{today.year - 1}Q4"
    for kind, label in (("monthly", f"{last_month:%Y-%m}"), ("quarterly", label_q)):
        page.goto(f"{live_server.url}/reports/")
        form = page.get_by_test_id("build-form")
        form.get_by_label("报表类型").select_option(kind)
        form.get_by_label("期间").fill(label)
        form.get_by_role("button", name="生成报表").click()
        expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "ready", timeout=60_000)
        expect(page.get_by_test_id("download-file")).to_be_visible()
    runs = {r.kind: r for r in ReportRun.objects.filter(status=ReportStatus.READY)}
    assert runs["quarterly"].doc_number and runs["quarterly"].attachment
    page.screenshot(path=str(screenshot_dir / "report-run.png"), full_page=True)
    pages = render_pages(runs["quarterly"].file.path, screenshot_dir, "bulletin")
    if pages is not None:
        assert pages >= 2  # the 通报 and its 附件 on a page of its own
    assert not errors, errors

    page.context.clear_cookies()
    demo_log_in(page, live_server.url, "leader")
    expect(page.get_by_test_id("home-dashboard")).to_be_visible()
    page.goto(f"{live_server.url}/reports/dashboard/")
    page.wait_for_function("() => window.echarts && echarts.getInstanceByDom(document.getElementById('chart-units'))")
    page.wait_for_timeout(600)
    page.screenshot(path=str(screenshot_dir / "dashboard-leader.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.reload()
    page.wait_for_function("() => window.echarts && echarts.getInstanceByDom(document.getElementById('chart-units'))")
    no_sideways_scroll(page)
    page.screenshot(path=str(screenshot_dir / "dashboard-leader-390.png"), full_page=False)
