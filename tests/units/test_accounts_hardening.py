"""Passwords, sessions, lockout and initial passwords as an inspection expects them."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.password_validation import get_default_password_validators, validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEntry, Job
from tests.conftest import PASSWORD
from tests.factories import UserFactory
from units import services
from units.forms import axes_username
from units.models import User
from units.selectors import locked_usernames
from units.tasks import purge_initial_passwords

ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")
CJK = re.compile(r"[\u4e00-\u9fff]")


def sign_in(client, username: str, password: str = PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password})


def signed_in(client) -> bool:
    response = client.get(reverse("home"))
    return response.status_code == 200


# ---- passwords --------------------------------------------------------------------------------------------------

def test_a_forced_change_refuses_the_initial_password_as_the_new_one(client, people):
    initial = services.user_reset_password(user=people.liaison, by=people.admin)
    sign_in(client, "liaison1", initial)
    response = client.post(reverse("password_change"), {
        "old_password": initial, "new_password1": initial, "new_password2": initial,
    })
    assert response.status_code == 200
    assert "新密码不能与当前密码相同" in response.content.decode()
    people.liaison.refresh_from_db()
    assert people.liaison.must_change_password and people.liaison.check_password(initial)


def test_a_voluntary_change_refuses_the_current_password(people):
    with pytest.raises(ValidationError, match="新密码不能与当前密码相同"):
        services.user_change_password(user=people.office, new_password=PASSWORD)
    services.user_change_password(user=people.office, new_password="Another#2026pass")
    assert people.office.check_password("Another#2026pass")


@pytest.mark.parametrize("password", ["Ab1!", "12345678901", "password", "liaison1ab", "Passw0rd"])
def test_every_password_validator_speaks_chinese(people, password):
    with pytest.raises(ValidationError) as caught:
        validate_password(password, people.liaison)
    for message in caught.value.messages:
        assert CJK.search(message) and not ENGLISH_WORD.search(message), message


def test_every_password_validator_help_text_is_chinese():
    validators = get_default_password_validators()
    assert len(validators) == len(settings.AUTH_PASSWORD_VALIDATORS) == 5
    for validator in validators:
        text = validator.get_help_text()
        assert CJK.search(text) and not ENGLISH_WORD.search(text), (validator, text)


def test_the_similarity_validator_names_what_the_password_resembles(people):
    with pytest.raises(ValidationError, match="密码与登录名过于相似"):
        validate_password("Liaison1!", people.liaison)


# ---- sessions ---------------------------------------------------------------------------------------------------

def test_deactivating_a_user_ends_their_sessions_for_good(client, people):
    sign_in(client, "liaison1")
    assert signed_in(client)

    services.user_set_active(user=people.liaison, active=False, by=people.admin)
    services.user_set_active(user=people.liaison, active=True, by=people.admin)  # within the idle window

    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    sign_in(client, "liaison1")  # the account itself works again
    assert signed_in(client)


def test_a_password_reset_by_an_admin_ends_the_sessions_too(client, people):
    sign_in(client, "liaison1")
    services.user_reset_password(user=people.liaison, by=people.admin)
    assert client.get(reverse("home")).status_code == 302


def test_sessions_signed_in_before_any_deactivation_stay_valid(client, people):
    """The session hash is Django's own until an account's sessions are first ended."""
    sign_in(client, "office1")
    user = User.objects.get(username="office1")
    assert user.session_version == 0
    assert signed_in(client)


# ---- the login form and lockout ------------------------------------------------------------------------------------

def test_an_over_long_login_name_is_refused_without_reaching_the_lockout_records(client, people):
    response = sign_in(client, "a" * 100_000, "x")
    assert response.status_code == 200
    assert "登录名或密码不正确" in response.content.decode()
    assert not AccessAttempt.objects.exists()


def test_axes_is_never_given_more_than_an_account_can_have():
    assert axes_username(None, {"username": "b" * 100_000}) == "b" * 150
    assert axes_username(None, {"username": "office1"}) == "office1"
    assert axes_username(None, {}) is None


def lock(client, username: str) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, username, "wrong-password")


def test_an_admin_sees_the_lock_and_unlocks_it(client, people):
    lock(client, "liaison1")
    assert sign_in(client, "liaison1").status_code == 429  # locked: even the right password is refused

    client.force_login(people.admin, backend="django.contrib.auth.backends.ModelBackend")
    listing = client.get(reverse("units:user_list")).content.decode()
    assert listing.count('data-testid="locked-badge"') == 1
    url = reverse("units:user_unlock", args=[people.liaison.pk])
    assert "确认解锁" in client.get(url).content.decode()
    response = client.post(url)
    assert response.status_code == 302
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.UNLOCK).get()
    assert entry.actor == people.admin and entry.object_repr == str(people.liaison)
    assert 'data-testid="locked-badge"' not in client.get(reverse("units:user_list")).content.decode()

    client.logout()
    sign_in(client, "liaison1")
    assert signed_in(client)


def test_only_admins_unlock(client, people):
    lock(client, "liaison1")
    client.force_login(people.office, backend="django.contrib.auth.backends.ModelBackend")
    assert client.post(reverse("units:user_unlock", args=[people.liaison.pk])).status_code == 403
    assert AccessAttempt.objects.filter(username="liaison1").exists()


# ---- initial passwords of a users import ------------------------------------------------------------------------

@pytest.fixture
def users_job(people, county):
    new = [UserFactory(username=f"138000000{i:02d}", unit=county.education, must_change_password=True)
           for i in range(3)]
    job = Job.objects.create(
        kind="users", owner=people.admin, status=Job.Status.DONE, finished_at=timezone.now(),
        report={"initial_passwords": [{"username": u.username, "full_name": u.full_name, "password": "Init#1234"}
                                      for u in new]},
    )
    return job, new


def test_the_first_download_takes_the_passwords_away(client, people, users_job):
    job, _ = users_job
    client.force_login(people.admin, backend="django.contrib.auth.backends.ModelBackend")
    first = client.post(reverse("units:import_passwords", args=[job.pk]))
    assert first.status_code == 200 and first["Content-Type"].startswith("application/vnd.openxmlformats")
    job.refresh_from_db()
    assert job.report["initial_passwords"] == []
    assert job.report["passwords_cleared"]["reason"] == "downloaded"
    assert "Init#1234" not in str(job.report)
    assert client.post(reverse("units:import_passwords", args=[job.pk])).status_code == 302


def test_passwords_nobody_downloaded_are_cleared_after_the_time_to_live(people, users_job, time_machine):
    job, _ = users_job
    time_machine.move_to(timezone.now() + dt.timedelta(hours=settings.INITIAL_PASSWORD_TTL_HOURS - 1))
    assert purge_initial_passwords() == 0
    job.refresh_from_db()
    assert len(job.report["initial_passwords"]) == 3

    time_machine.move_to(timezone.now() + dt.timedelta(hours=2))
    assert purge_initial_passwords() == 1
    assert purge_initial_passwords() == 0  # a second run (a second beat) clears nothing twice
    job.refresh_from_db()
    assert job.report["initial_passwords"] == [] and "Init#1234" not in str(job.report)
    assert job.report["passwords_cleared"]["reason"] == "expired"
    assert AuditEntry.objects.filter(note__contains="小时未下载，已清除").count() == 1


def test_the_job_page_says_when_they_were_cleared_and_offers_new_ones(client, people, users_job, time_machine):
    job, new = users_job
    time_machine.move_to(timezone.now() + dt.timedelta(hours=25))
    purge_initial_passwords()
    services.user_change_password(user=new[0], new_password="Changed#2026x")  # this one has its own now

    client.force_login(people.admin, backend="django.contrib.auth.backends.ModelBackend")
    page = client.get(reverse("units:import_job", args=[job.pk])).content.decode()
    assert "超过24小时未下载" in page and "重新生成初始密码" in page

    response = client.post(reverse("units:import_passwords_reissue", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    issued = {item["username"]: item["password"] for item in job.report["initial_passwords"]}
    assert set(issued) == {new[1].username, new[2].username}
    for user in new[1:]:
        user.refresh_from_db()
        assert user.check_password(issued[user.username]) and user.must_change_password
    new[0].refresh_from_db()
    assert new[0].check_password("Changed#2026x")
    assert AuditEntry.objects.filter(action=AuditEntry.Action.PASSWORD, note__contains="重新生成").count() == 2

    again = client.post(reverse("units:import_passwords_reissue", args=[job.pk]))  # not yet downloaded
    assert again.status_code == 302
    assert "请先下载" in " ".join(str(m) for m in again.wsgi_request._messages)


def test_a_lock_counted_over_two_browsers_shows_on_the_user_list(client, people):
    """django-axes keeps one record per address and browser; the lock is their sum."""
    limit = settings.AXES_FAILURE_LIMIT
    for agent, n in (("浏览器甲", limit - 2), ("浏览器乙", 2)):
        for _ in range(n):
            client.post(reverse("login"), {"username": "liaison1", "password": "wrong"}, HTTP_USER_AGENT=agent)
    assert AccessAttempt.objects.filter(username="liaison1").count() == 2
    assert locked_usernames(["liaison1", "office1"]) == {"liaison1"}


def test_the_django_admin_refuses_the_current_password_and_ends_sessions(client, people):
    people.admin.is_superuser = people.admin.is_staff = True
    people.admin.save()
    sign_in(client, "liaison1")
    admin = client.__class__()
    admin.force_login(people.admin, backend="django.contrib.auth.backends.ModelBackend")
    url = reverse("admin:auth_user_password_change",
                  args=[people.liaison.pk])
    same = admin.post(url, {"password1": PASSWORD, "password2": PASSWORD, "usable_password": "true"})
    assert same.status_code == 200 and "新密码不能与当前密码相同" in same.content.decode()
    assert signed_in(client)
    admin.post(url, {"password1": "Brand#New2026", "password2": "Brand#New2026", "usable_password": "true"})
    people.liaison.refresh_from_db()
    assert people.liaison.check_password("Brand#New2026")
    assert client.get(reverse("home")).status_code == 302
