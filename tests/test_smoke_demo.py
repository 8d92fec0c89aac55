"""The demo county as `make run` serves it: every role logs in with the documented password and its main pages
render. Marked smoke, so CI runs it on the embedded default (SQLite) as well as on PostgreSQL."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from ledger.models import Problem, ProblemStatus
from units.demo import DEMO_PASSWORD

PAGES = {
    "admin": ["home", "units:unit_tree", "units:user_list", "units:import_start", "core:audit_list",
              "campaigns:campaign_list", "ledger:problem_list"],
    "office": ["home", "ledger:problem_list", "ledger:review_queue", "ledger:lookback_list", "ledger:problem_create",
               "campaigns:campaign_list", "campaigns:calendar", "ledger:import_start", "units:unit_tree"],
    "liaison": ["home", "ledger:my_tasks", "ledger:problem_list", "units:unit_tree"],
    "leader": ["home", "ledger:problem_list", "units:unit_tree"],
}


@pytest.fixture
def demo(db):
    call_command("load_demo", stdout=io.StringIO())


@pytest.mark.smoke
@pytest.mark.parametrize("username", sorted(PAGES))
def test_demo_accounts_log_in_and_their_pages_render(client, demo, username):
    response = client.post(reverse("login"), {"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302, f"{username} could not log in"
    for name in PAGES[username]:
        page = client.get(reverse(name))
        assert page.status_code == 200, f"{username}: {name} answered {page.status_code}"
    visible = Problem.objects.visible_to(response.wsgi_request.user)
    problem = visible.exclude(status=ProblemStatus.DRAFT).first()
    assert problem is not None, f"{username} sees no problem of the demo ledger"
    detail = client.get(reverse("ledger:problem_detail", args=[problem.pk]))
    assert detail.status_code == 200 and problem.number in detail.content.decode()


@pytest.mark.smoke
def test_embedded_default_uses_the_filesystem_broker_without_redis(settings):
    from config.settings import base

    if base.REDIS_URL:
        pytest.skip("REDIS_URL is set: the real broker is in use")
    assert base.CELERY_BROKER_URL == "filesystem://"
    opts = base.CELERY_BROKER_TRANSPORT_OPTIONS
    assert opts["data_folder_in"] == opts["data_folder_out"]
