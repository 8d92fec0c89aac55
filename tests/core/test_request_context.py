"""Every request has an id, sent back in X-Request-ID; entries written while it is served carry that id and the
client's address; an incoming id is believed only from a trusted proxy; the context ends with the response."""

from __future__ import annotations

import re

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from core.audit import Action, RequestContext, audit_record, current_request, request_context
from core.middleware import RequestContextMiddleware
from core.models import AuditEntry
from tests.conftest import PASSWORD

GENERATED = re.compile(r"^[0-9a-f]{32}$")


def login_post(client, **headers):
    return client.post(reverse("login"), {"username": "liaison1", "password": PASSWORD}, headers=headers)


def test_each_response_names_its_request(client, people):
    first = client.get(reverse("login"))["X-Request-ID"]
    second = client.get(reverse("login"))["X-Request-ID"]
    assert GENERATED.match(first) and GENERATED.match(second) and first != second


def test_entries_written_in_a_request_carry_its_id_and_address(client, people):
    response = login_post(client)
    entry = AuditEntry.objects.get(action=Action.LOGIN)
    assert entry.request_id == response["X-Request-ID"]
    assert entry.ip == "127.0.0.1"
    assert AuditEntry.objects.filter(request_id=entry.request_id).count() == 1


def test_an_incoming_id_from_a_client_is_not_believed(client, people, settings):
    settings.TRUSTED_PROXIES = []
    response = login_post(client, **{"X-Request-ID": "forged-id-123"})
    assert response["X-Request-ID"] != "forged-id-123" and GENERATED.match(response["X-Request-ID"])
    assert AuditEntry.objects.get(action=Action.LOGIN).request_id == response["X-Request-ID"]


def test_a_trusted_proxy_s_id_is_kept(client, people, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    response = login_post(client, **{"X-Request-ID": "nginx-5f2c9a.01"})
    assert response["X-Request-ID"] == "nginx-5f2c9a.01"
    assert AuditEntry.objects.get(action=Action.LOGIN).request_id == "nginx-5f2c9a.01"


@pytest.mark.parametrize("incoming", ["", " ", "a" * 65, "<script>", "id with spaces", "-leading", "编号1", "a\x00b"])
def test_an_insane_id_even_from_a_trusted_proxy_is_replaced(client, people, settings, incoming):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    response = client.get(reverse("login"), headers={"X-Request-ID": incoming})
    assert response.status_code == 200 and GENERATED.match(response["X-Request-ID"])


def test_the_context_is_gone_after_the_response(client, people):
    seen = []

    def view(request):
        seen.append(current_request())
        return HttpResponse("ok")

    response = RequestContextMiddleware(view)(RequestFactory().get("/"))
    assert seen[0] is not None and seen[0].request_id == response["X-Request-ID"]
    assert current_request() is None


def test_the_context_is_gone_after_an_error(db):
    def view(request):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        RequestContextMiddleware(view)(RequestFactory().get("/"))
    assert current_request() is None


def test_outside_a_request_entries_have_no_id_and_the_system_as_actor(db):
    entry = audit_record(action=Action.EXPORT, note="命令行导出")
    assert entry.request_id == "" and entry.ip is None and entry.actor_name == "系统"


def test_an_address_given_by_the_caller_wins_and_is_checked(db):
    with request_context(RequestContext(request_id="r1", ip="198.51.100.7")):
        given = audit_record(action=Action.UPDATE, ip="203.0.113.66")
        from_request = audit_record(action=Action.UPDATE)
        nonsense = audit_record(action=Action.UPDATE, ip="not-an-ip")
        anonymous = audit_record(action=Action.DENIED)
    assert (given.ip, given.request_id) == ("203.0.113.66", "r1")
    assert from_request.ip == "198.51.100.7"
    assert nonsense.ip is None
    assert anonymous.actor_name == "未登录用户"
