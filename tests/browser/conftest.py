"""Playwright against Debian's Chromium and Django's live server (a real thread, so a transactional database).

The live server sends the site's Content-Security-Policy, and every browser context a test opens reports each
violation of it (a `securitypolicyviolation` event, or Chromium's own console message about a refusal): a browser
test with any violation fails (`csp_violations`)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage

# Playwright's sync API runs an event loop in the test thread; Django's ORM would otherwise refuse to run there.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} not installed (apt-get install chromium fonts-noto-cjk)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "headless": True, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "locale": "zh-CN", "timezone_id": "Asia/Shanghai",
            "viewport": {"width": 1280, "height": 860}}


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the tests save their screenshots: a temporary folder, or docs/screenshots/ with `make screenshots`
    (SCREENSHOTS_DIR set), so an ordinary test run leaves the checkout untouched."""
    target = os.environ.get("SCREENSHOTS_DIR")
    path = Path(target) if target else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


VIOLATION = "CSP-VIOLATION "
# Runs in every page before its own scripts: each violation of the policy is written to the console, where the
# context's console listener collects it.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error("CSP-VIOLATION " + JSON.stringify({
    page: location.pathname + location.search, directive: e.violatedDirective, blocked: e.blockedURI,
    sample: e.sample, source: e.sourceFile, line: e.lineNumber,
  }));
}, true);
"""


def watch_policy(context: BrowserContext, found: list[str]) -> None:
    """Collect the policy violations of every page of `context` into `found`."""

    def on_console(message: ConsoleMessage) -> None:
        text = message.text
        if text.startswith(VIOLATION):
            found.append(json.dumps(json.loads(text[len(VIOLATION):]), ensure_ascii=False))
        elif message.type == "error" and "Content Security Policy" in text:
            found.append(text)

    context.add_init_script(REPORT_VIOLATIONS)
    context.on("console", on_console)


@pytest.fixture(autouse=True)
def csp_violations(request: pytest.FixtureRequest) -> Iterator[list[str]]:
    """The Content-Security-Policy violations of the test's pages; the test fails if any is left at its end (a test
    that provokes one on purpose asserts on it and clears the list)."""
    found: list[str] = []
    if "browser" not in request.keywords or not CHROMIUM.exists():
        yield found
        return
    from django.conf import settings

    assert settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["style-src"] == ["'self'"]  # the policy is on
    browser = request.getfixturevalue("browser")
    original = browser.new_context

    def new_context(*args: Any, **kwargs: Any) -> BrowserContext:
        context = original(*args, **kwargs)
        watch_policy(context, found)
        return context

    browser.new_context = new_context
    try:
        yield found
    finally:
        browser.new_context = original
    if found:
        pytest.fail("Content-Security-Policy violations:\n" + "\n".join(found), pytrace=False)
