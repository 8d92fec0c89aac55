"""The headers every page gets: a Content-Security-Policy without inline script or style (a response that sets its
own policy keeps it), never framed, and `Cache-Control: no-store` on pages and downloads while static files stay
cacheable. And the templates hold nothing the policy would block."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse

from config.urls import urlpatterns as site_urls
from ledger import services, workflow
from tests.ledger.factories import CampaignFactory, CategoryFactory, make_measure, make_problem

SANDBOX = "sandbox; default-src 'none'"


def sandboxed(request: HttpRequest) -> HttpResponse:
    """A view that sets its own policy, as the evidence downloads do."""
    response = HttpResponse(b"%PDF-1.4", content_type="application/pdf")
    response["Content-Security-Policy"] = SANDBOX
    return response


urlpatterns = [path("test-sandboxed/", sandboxed), *site_urls]


def policy(response: HttpResponse) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    out: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def no_store(response: HttpResponse) -> bool:
    return "no-store" in response.get("Cache-Control", "")


@pytest.fixture
def problem(people, county):
    campaign = CampaignFactory()
    CategoryFactory(campaign=campaign, code="A1", name="服务态度")
    p = make_problem(campaign=campaign, by=people.office, lead_unit=county.education)
    workflow.assign(problem=p, by=people.office)
    measure = make_measure(problem=p, unit=county.education)
    pdf = SimpleUploadedFile("制度.pdf", b"%PDF-1.4 evidence", content_type="application/pdf")
    entry = services.progress_add(measure=measure, by=people.liaison, text="已印发", files=[pdf])
    return p, entry.evidence.get()


# ---- Content-Security-Policy -------------------------------------------------------------------------------------

def test_pages_get_a_policy_without_inline_script_or_style(client, people, problem):
    p, _ = problem
    client.force_login(people.office)
    for url in (reverse("home"), reverse("ledger:problem_list"), reverse("ledger:problem_detail", args=[p.pk])):
        response = client.get(url)
        assert response.status_code == 200, url
        csp = policy(response)
        nonce = re.fullmatch(r"'nonce-([^']+)'", csp["script-src"][1]).group(1)
        assert csp["default-src"] == ["'self'"]
        assert csp["script-src"] == ["'self'", f"'nonce-{nonce}'"]
        assert csp["style-src"] == ["'self'"]
        assert csp["img-src"] == ["'self'", "data:"]
        assert (csp["object-src"], csp["base-uri"], csp["form-action"]) == (["'none'"], ["'self'"], ["'self'"])
        assert csp["frame-ancestors"] == ["'none'"] and response["X-Frame-Options"] == "DENY"
        assert "unsafe-inline" not in response["Content-Security-Policy"]
        assert "unsafe-eval" not in response["Content-Security-Policy"]
        html = response.content.decode()
        scripts = re.findall(r"<script\b[^>]*>", html)
        assert f'<script nonce="{nonce}" src="/static/js/app.js">' in scripts, url
        for tag in scripts:  # our static files, or data; a nonce, where there is one, is this response's
            assert re.search(r'\ssrc="/static/', tag) or 'type="application/json"' in tag, (url, tag)
            assert "nonce=" not in tag or f'nonce="{nonce}"' in tag, (url, tag)


def test_every_request_gets_its_own_nonce(client, people):
    client.force_login(people.office)
    first, second = (policy(client.get(reverse("home")))["script-src"][1] for _ in range(2))
    assert first != second


def test_the_login_page_has_the_policy_too(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert policy(response)["style-src"] == ["'self'"]


@pytest.mark.urls(__name__)
def test_a_response_that_sets_its_own_policy_keeps_it(client, people):
    client.force_login(people.office)
    response = client.get("/test-sandboxed/")
    assert response["Content-Security-Policy"] == SANDBOX
    assert no_store(response)


def test_evidence_files_keep_their_sandbox(client, people, problem):
    _, evidence = problem
    client.force_login(people.office)
    response = client.get(reverse("ledger:evidence_download", args=[evidence.pk]))
    assert response.status_code == 200
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert "nonce-" not in response["Content-Security-Policy"]


def test_htmx_injects_no_style_and_evaluates_no_script(client, people):
    client.force_login(people.office)
    html = client.get(reverse("home")).content.decode()
    config = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", html).group(1)
    assert '"includeIndicatorStyles": false' in config and '"allowEval": false' in config
    assert '"allowScriptTags": false' in config
    css = (Path(django_settings.BASE_DIR) / "static" / "css" / "app.css").read_text()
    assert ".htmx-indicator" in css  # the styles htmx would otherwise inject


TEMPLATES = Path(django_settings.BASE_DIR) / "templates"
BLOCKED = {
    "a style attribute": re.compile(r"\sstyle\s*=", re.I),
    "a <style> element": re.compile(r"<style\b", re.I),
    "an inline event handler": re.compile(r"\son[a-z]+\s*=\s*[\"']", re.I),
    "a javascript: URL": re.compile(r"javascript:", re.I),
    "an inline script": re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I),
}


def test_no_template_holds_what_the_policy_blocks():
    found = [
        f"{t.relative_to(TEMPLATES)}: {what}"
        for t in sorted(TEMPLATES.rglob("*.html"))
        for what, pattern in BLOCKED.items()
        if pattern.search(t.read_text(encoding="utf-8"))
    ]
    assert not found, found


def test_json_script_blocks_are_data(client, people):
    """The dashboard's figures travel in a json_script block: data the browser never runs."""
    from django.template import Context, Template

    html = Template('{{ value|json_script:"d" }}').render(Context({"value": {"a": "</script><b>"}}))
    assert html.startswith('<script id="d" type="application/json">') and "</script><b>" not in html


# ---- Cache-Control ------------------------------------------------------------------------------------------------

def test_pages_are_not_stored(client, people, problem):
    p, _ = problem
    assert no_store(client.get(reverse("login")))
    client.force_login(people.office)
    for url in (reverse("home"), reverse("ledger:problem_list"), reverse("ledger:problem_detail", args=[p.pk]),
                reverse("campaigns:campaign_list")):
        response = client.get(url)
        assert response.status_code == 200 and no_store(response), url
        assert "private" in response["Cache-Control"] and "max-age=0" in response["Cache-Control"]


def test_downloads_are_not_stored(client, people, problem):
    p, evidence = problem
    client.force_login(people.office)
    downloads = {
        "佐证材料": reverse("ledger:evidence_download", args=[evidence.pk]),
        "台账导出": reverse("ledger:problem_export"),
        "问题类别导出": reverse("campaigns:category_export", args=[p.campaign.pk]),
    }
    for name, url in downloads.items():
        response = client.get(url)
        assert response.status_code == 200, name
        assert response["Content-Disposition"].startswith("attachment"), name
        assert no_store(response), name


def test_static_files_stay_cacheable(client, settings):
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    response = client.get(f"{settings.STATIC_URL}css/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
