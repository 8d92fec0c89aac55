"""The site under its Content-Security-Policy in a real browser: every page of the office's and the admin's menus, the
dashboard's charts and a problem's page render without a single violation, and the check that says so does catch
an inline style or script (`csp_violations` in conftest.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from ledger.models import Problem
from tests.browser.test_smoke import log_in
from tests.reports.test_figures import timeline  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Pages no menu links; the role's menu gives the rest (ledger, reports, supervision, units, users, imports …).
PAGES = ["/", "/notifications/", "/notifications/preferences/"]


def menu_links(page: Page) -> list[str]:
    return page.get_by_test_id("nav-menu").locator("a").evaluate_all("els => els.map(a => a.getAttribute('href'))")


def visit(page: Page, base_url: str, path: str) -> None:
    response = page.goto(f"{base_url}{path}")
    assert response is not None and response.status == 200, path
    page.wait_for_load_state("load")


@pytest.mark.parametrize("username", ["office1", "admin1"])
def test_every_main_page_renders_without_a_violation(page: Page, live_server, timeline, csp_violations,  # noqa: F811
                                                     username):
    campaign, _ = timeline
    log_in(page, live_server.url, username)
    paths = [*PAGES, *(p for p in menu_links(page) if p not in PAGES)]
    must = {"office1": {"/ledger/", "/reports/", "/reports/dashboard/", "/supervision/orders/", "/ledger/import/",
                        "/units/"},
            "admin1": {"/ledger/", "/reports/", "/units/", "/units/users/", "/units/import/"}}[username]
    assert must <= set(paths), paths
    problem = Problem.objects.filter(campaign=campaign).order_by("pk").first()
    assert problem is not None
    paths.append(f"/ledger/{problem.pk}/")
    for path in paths:
        visit(page, live_server.url, path)
        assert not csp_violations, (path, csp_violations)

    # The dashboard's charts: ECharts draws under the policy (sizes set through CSSOM, not style attributes).
    visit(page, live_server.url, f"/reports/dashboard/?campaign={campaign.pk}&as_of=2022-05-31")
    page.wait_for_function(
        "() => window.echarts && ['chart-units', 'chart-trend'].every(id => {"
        "  const el = document.getElementById(id); return el && echarts.getInstanceByDom(el); })")
    page.locator("#chart-units canvas").first.hover()  # a tooltip is drawn too
    assert not csp_violations, csp_violations
    # The problem's page with its tabs and the htmx bell.
    visit(page, live_server.url, f"/ledger/{problem.pk}/")
    expect(page.get_by_test_id("bell")).to_be_visible()
    assert not csp_violations, csp_violations


PROVOKE = """(action) => new Promise((resolve) => {
    document.addEventListener("securitypolicyviolation", (e) => resolve(e.violatedDirective), {once: true});
    const actions = {
        style: () => document.body.setAttribute("style", "color: red"),
        element: () => {
            const s = document.createElement("style");
            s.textContent = "body { color: red }";
            document.head.appendChild(s);
        },
        script: () => {
            const s = document.createElement("script");
            s.textContent = "window.ran = 1";
            document.body.appendChild(s);
        },
        handler: () => {
            const b = document.createElement("button");
            b.setAttribute("onclick", "window.ran = 1");
            document.body.appendChild(b);
            b.click();
        },
    };
    actions[action]();
})"""


def provoke(page: Page, action: str) -> str:
    """Do `action` in the page (an inline style, a <style>, an inline script, an onclick) and return the directive
    the browser reports as violated."""
    directive: str = page.evaluate(PROVOKE, action)
    page.evaluate("() => 1")  # a round trip: the violation's console message has reached the test by now
    return directive


def test_the_check_catches_inline_style_and_script(page: Page, live_server, people, csp_violations):
    log_in(page, live_server.url, "office1")
    assert not csp_violations
    expected = {"style": "style-src-attr", "element": "style-src-elem", "script": "script-src-elem",
                "handler": "script-src-attr"}
    for action, directive in expected.items():
        assert provoke(page, action) == directive, action
        assert any(f'"directive": "{directive}"' in v for v in csp_violations), (action, csp_violations)
        csp_violations.clear()  # provoked on purpose: the test does not fail for them
    assert page.evaluate("() => window.ran") is None  # the injected script never ran
    assert page.evaluate("() => getComputedStyle(document.body).color") != "rgb(255, 0, 0)"
