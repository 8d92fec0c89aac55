"""Login, lockout, logout, password change, the first-login password and the idle timeout."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.urls import reverse

from core.models import AuditEntry
from tests.conftest import PASSWORD
from units.services import user_reset_password

NEW_PASSWORD = "Xin-Mima2024"


def post_login(client, username, password, **extra):
    return client.post(reverse("login"), {"username": username, "password": password, **extra})


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


# ---------------------------------------------------------------- login


def test_login_page_is_chinese(client, db):
    response = client.get(reverse("login"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "登录名" in html and "密码" in html and "整改台账" in html
    assert '<html lang="zh-CN">' in html


def test_login_and_land_on_home(client, people):
    response = post_login(client, "liaison1", PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert logged_in(client)
    assert AuditEntry.objects.filter(action="login", actor=people.liaison).exists()


def test_login_follows_safe_next_only(client, people):
    response = post_login(client, "admin1", PASSWORD, next=reverse("units:user_list"))
    assert response["Location"] == reverse("units:user_list")
    client.logout()
    response = post_login(client, "admin1", PASSWORD, next="https://evil.example/")
    assert response["Location"] == reverse("home")


def test_wrong_password_says_so_in_chinese(client, people):
    response = post_login(client, "liaison1", "wrong")
    assert response.status_code == 200
    assert "登录名或密码不正确" in response.content.decode()
    assert not logged_in(client)
    assert AuditEntry.objects.filter(action="login_failed", note__contains="liaison1").exists()


def test_logged_in_user_visiting_login_goes_home(client, people):
    post_login(client, "liaison1", PASSWORD)
    assert client.get(reverse("login"))["Location"] == reverse("home")


# ---------------------------------------------------------------- lockout


def test_lockout_after_five_failures(client, people):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = post_login(client, "liaison1", "wrong")
        assert response.status_code == 200
    response = post_login(client, "liaison1", "wrong")
    html = response.content.decode()
    assert response.status_code in (403, 429)
    assert "账号已锁定" in html
    assert "连续 5 次密码错误" in html
    assert "60 分钟" in html

    # Even the right password is refused while locked.
    response = post_login(client, "liaison1", PASSWORD)
    assert "账号已锁定" in response.content.decode()
    assert not logged_in(client)


def test_lockout_is_per_account(client, people):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, "liaison1", "wrong")
    response = post_login(client, "liaison2", PASSWORD)
    assert response.status_code == 302 and logged_in(client)


def test_success_resets_the_failure_count(client, people):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        post_login(client, "liaison1", "wrong")
    assert post_login(client, "liaison1", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        post_login(client, "liaison1", "wrong")
    assert post_login(client, "liaison1", PASSWORD).status_code == 302


# ---------------------------------------------------------------- logout


def test_logout_is_post_only(client, people):
    post_login(client, "liaison1", PASSWORD)
    assert client.get(reverse("logout")).status_code == 405
    assert logged_in(client)
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert not logged_in(client)
    assert AuditEntry.objects.filter(action="logout", actor=people.liaison).exists()


# ---------------------------------------------------------------- password change


def test_password_change_requires_login(client, db):
    response = client.get(reverse("password_change"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_password_change_page_is_chinese(client, people):
    post_login(client, "liaison1", PASSWORD)
    html = client.get(reverse("password_change")).content.decode()
    assert "原密码" in html and "新密码" in html and "确认新密码" in html


def test_password_change_goes_through_the_service(client, people):
    post_login(client, "liaison1", PASSWORD)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302 and response["Location"] == reverse("password_change_done")
    assert logged_in(client)  # the session survives its own password change
    assert client.get(reverse("home")).status_code == 200
    people.liaison.refresh_from_db()
    assert people.liaison.check_password(NEW_PASSWORD)
    assert AuditEntry.objects.filter(action="password", actor=people.liaison, object_id=str(people.liaison.pk)).exists()
    assert "密码已修改" in client.get(reverse("password_change_done")).content.decode()


@pytest.mark.parametrize(
    ("old", "new1", "new2", "message"),
    [
        ("wrong", NEW_PASSWORD, NEW_PASSWORD, "原密码不正确"),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "两次输入的新密码不一致"),
        (PASSWORD, "12345678", "12345678", "密码"),
        (PASSWORD, "abcdefghij", "abcdefghij", "至少三类"),
    ],
)
def test_password_change_rejects_bad_input(client, people, old, new1, new2, message):
    post_login(client, "liaison1", PASSWORD)
    response = client.post(
        reverse("password_change"), {"old_password": old, "new_password1": new1, "new_password2": new2}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    people.liaison.refresh_from_db()
    assert people.liaison.check_password(PASSWORD)


# ---------------------------------------------------------------- first login with a one-time password


def test_must_change_password_redirects_everything_else(client, people):
    initial = user_reset_password(user=people.liaison, by=people.admin)
    response = post_login(client, "liaison1", initial)
    assert response.status_code == 302
    for url in (reverse("home"), reverse("units:unit_tree")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == reverse("password_change")
    page = client.get(reverse("password_change")).content.decode()
    assert "初始密码" in page
    assert 'data-testid="nav-menu"' not in page  # nothing else to go to yet

    response = client.post(
        reverse("password_change"),
        {"old_password": initial, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response["Location"] == reverse("password_change_done")
    people.liaison.refresh_from_db()
    assert not people.liaison.must_change_password
    assert client.get(reverse("units:unit_tree")).status_code == 200


def test_must_change_password_may_still_log_out(client, people):
    initial = user_reset_password(user=people.liaison, by=people.admin)
    post_login(client, "liaison1", initial)
    assert client.post(reverse("logout")).status_code == 302
    assert not logged_in(client)


# ---------------------------------------------------------------- idle timeout


def _age_session(client, seconds: int) -> None:
    session = client.session
    session["last_seen"] = int(time.time()) - seconds
    session.save()


def test_idle_timeout_logs_out(client, people):
    post_login(client, "liaison1", PASSWORD)
    assert client.get(reverse("home")).status_code == 200
    _age_session(client, settings.IDLE_TIMEOUT_SECONDS + 5)
    response = client.get(reverse("units:unit_tree"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={reverse('units:unit_tree')}"
    assert not logged_in(client)
    assert "长时间未操作" in client.get(response["Location"]).content.decode()


def test_activity_within_the_timeout_keeps_the_session(client, people):
    post_login(client, "liaison1", PASSWORD)
    client.get(reverse("home"))
    _age_session(client, settings.IDLE_TIMEOUT_SECONDS - 60)
    assert client.get(reverse("units:unit_tree")).status_code == 200
    assert logged_in(client)
    assert settings.IDLE_TIMEOUT_SECONDS == 30 * 60
