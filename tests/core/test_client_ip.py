"""The client's address in the audit trail: REMOTE_ADDR unless it is a trusted proxy; then the right-most hop of
X-Forwarded-For that is not one; a valid address or none, never what a client wrote into the header."""

from __future__ import annotations

import os

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import RequestFactory
from django.urls import reverse

from core.audit import client_ip, trusted_proxies, valid_ip
from core.middleware import RequestContextMiddleware
from core.models import AuditEntry
from tests.conftest import PASSWORD


def request(remote: str | None = "198.51.100.7", forwarded: str | None = None):
    meta = {}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    req = RequestFactory().get("/", **meta)
    if remote is None:
        del req.META["REMOTE_ADDR"]
    else:
        req.META["REMOTE_ADDR"] = remote
    return req


# ---- without trusted proxies (the default): REMOTE_ADDR is the client ------------------------------------------

def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert client_ip(request("198.51.100.7", "203.0.113.66")) == "198.51.100.7"
    assert client_ip(request("198.51.100.7", "not-an-ip")) == "198.51.100.7"
    assert client_ip(request("198.51.100.7")) == "198.51.100.7"


@pytest.mark.parametrize("remote", ["", "not-an-ip", "unix:/run/gunicorn.sock", "1.2.3.4.5", "x" * 5000])
def test_an_unreadable_remote_address_is_none(settings, remote):
    settings.TRUSTED_PROXIES = []
    assert client_ip(request(remote)) is None


def test_no_request_and_no_remote_address_are_none(settings):
    assert client_ip(None) is None
    assert client_ip(request(None)) is None


# ---- behind trusted proxies -------------------------------------------------------------------------------------

def test_behind_a_trusted_proxy_the_last_hop_is_the_client(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.5"]
    assert client_ip(request("10.0.0.5", "203.0.113.66")) == "203.0.113.66"


def test_what_the_client_wrote_to_the_left_is_not_believed(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.5"]
    # The client sent "X-Forwarded-For: 192.0.2.1"; the proxy appended the address it saw.
    assert client_ip(request("10.0.0.5", "192.0.2.1, 203.0.113.66")) == "203.0.113.66"


def test_a_chain_of_trusted_proxies_is_skipped_from_the_right(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24", "172.16.0.1"]
    chain = "192.0.2.1, 203.0.113.66, 10.0.0.9, 172.16.0.1"
    assert client_ip(request("10.0.0.5", chain)) == "203.0.113.66"


def test_when_every_hop_is_a_trusted_proxy_the_left_most_is_taken(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip(request("10.0.0.5", "10.1.1.1, 10.2.2.2")) == "10.1.1.1"
    assert client_ip(request("10.0.0.5")) == "10.0.0.5"  # the proxy's own request (a health check)


@pytest.mark.parametrize("hop", ["not-an-ip", "unknown", "203.0.113.666", "'; DROP TABLE x; --", "\x00"])
def test_an_unreadable_client_hop_gives_no_address(settings, hop):
    settings.TRUSTED_PROXIES = ["10.0.0.5"]
    assert client_ip(request("10.0.0.5", f"192.0.2.1, {hop}")) is None


def test_an_untrusted_remote_address_is_the_client_whatever_the_header(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.5"]
    assert client_ip(request("198.51.100.7", "203.0.113.66")) == "198.51.100.7"


def test_proxies_and_clients_over_ipv6(settings):
    settings.TRUSTED_PROXIES = ["2001:db8:ffff::/48"]
    assert client_ip(request("2001:db8:ffff::1", "2001:db8:1::7")) == "2001:db8:1::7"
    assert client_ip(request("2001:db8:ffff::1", "[2001:db8:1::7]:51000")) == "2001:db8:1::7"
    assert client_ip(request("2001:db8:ffff::1", "203.0.113.66:51000")) == "203.0.113.66"
    # an IPv4 proxy address is not inside an IPv6 network
    assert client_ip(request("10.0.0.5", "203.0.113.66")) == "10.0.0.5"


def test_addresses_are_stored_in_one_form():
    assert valid_ip("::ffff:203.0.113.66") == "203.0.113.66"
    assert valid_ip("fe80::1%eth0") == "fe80::1"
    assert valid_ip(" 203.0.113.66 ") == "203.0.113.66"
    assert valid_ip("999.1.1.1") is None and valid_ip("") is None and valid_ip(None) is None


def test_a_bad_trusted_proxy_setting_stops_the_server_in_chinese(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.5", "proxy.example"]
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES 中的“proxy.example”不是有效的"):
        trusted_proxies()
    with pytest.raises(ImproperlyConfigured):
        RequestContextMiddleware(lambda r: None)  # type: ignore[arg-type, return-value]


def test_trusted_proxies_may_be_one_comma_separated_string(settings):
    settings.TRUSTED_PROXIES = "10.0.0.5, 10.0.1.0/24"
    assert client_ip(request("10.0.1.9", "203.0.113.66")) == "203.0.113.66"


# ---- logins: the audited address ------------------------------------------------------------------------------

def login_entries():
    return list(AuditEntry.objects.filter(action__in=["login", "login_failed"]).order_by("id"))


@pytest.mark.parametrize("forwarded", ["203.0.113.66", "not-an-ip", "1.2.3.4, not-an-ip", "\x00"])
def test_a_forged_header_changes_neither_the_login_nor_its_address(client, people, settings, forwarded):
    settings.TRUSTED_PROXIES = []
    headers = {"X-Forwarded-For": forwarded}
    failed = client.post(reverse("login"), {"username": "liaison1", "password": "wrong"}, headers=headers)
    assert failed.status_code == 200
    ok = client.post(reverse("login"), {"username": "liaison1", "password": PASSWORD}, headers=headers)
    assert ok.status_code == 302
    entries = login_entries()
    assert [(e.action, e.result, e.ip) for e in entries] == [
        ("login_failed", "failure", "127.0.0.1"), ("login", "success", "127.0.0.1"),
    ]


@pytest.mark.parametrize("forwarded, expected", [("203.0.113.66", "203.0.113.66"), ("not-an-ip", None)])
def test_a_login_through_a_trusted_proxy_is_audited_from_the_client(client, people, settings, forwarded, expected):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    headers = {"X-Forwarded-For": forwarded}
    assert client.post(reverse("login"), {"username": "liaison1", "password": "wrong"}, headers=headers)
    assert client.post(reverse("login"), {"username": "liaison1", "password": PASSWORD}, headers=headers)
    assert [e.ip for e in login_entries()] == [expected, expected]


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="PostgreSQL's inet type")
def test_a_forged_header_never_reaches_postgresql_inet(client, people, settings):
    """PostgreSQL refused "not-an-ip" for the inet column ("invalid input syntax for type inet"): a 500."""
    assert connection.vendor == "postgresql"
    for trusted in ([], ["127.0.0.1"]):
        settings.TRUSTED_PROXIES = trusted
        headers = {"X-Forwarded-For": "not-an-ip"}
        assert client.post(reverse("login"), {"username": "liaison1", "password": "wrong"},
                           headers=headers).status_code == 200
        assert client.post(reverse("login"), {"username": "liaison1", "password": PASSWORD},
                           headers=headers).status_code == 302
        client.post(reverse("logout"), headers=headers)
    assert AuditEntry.objects.filter(action="login_failed").count() == 2
    assert AuditEntry.objects.filter(action="login").count() == 2
