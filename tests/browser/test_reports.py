"""The dashboard in the browser: ECharts from our static files under the Content-Security-Policy (no violation),
a bar clicked opens the ledger list of exactly its problems, the table sorts, and a leader's dashboard on a
390 px phone without sideways scrolling."""

from __future__ import annotations

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

    # The first bar of the units chart (县教育体育局, 3 problems): clicked where ECharts drew it.
    point = page.evaluate("""() => {
        const el = document.getElementById('chart-units');
        const chart = echarts.getInstanceByDom(el);
        const value = chart.getOption().series[0].data[0];
        const [x, y] = chart.convertToPixel({seriesIndex: 0}, [value / 2, 0]);
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
