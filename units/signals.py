"""Logins, failed logins, lockouts and logouts in the audit trail: one entry per attempt."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from core.audit import Action, Result, audit_record, client_ip

USERNAME_MAX = 100  # characters of a typed login name kept in the note


def _username(value: Any) -> str:
    return str(value or "")[:USERNAME_MAX]


@receiver(user_logged_in)
def _on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_record(action=Action.LOGIN, actor=user, obj=user, ip=client_ip(request))


@receiver(user_logged_out)
def _on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_record(action=Action.LOGOUT, actor=user, obj=user, ip=client_ip(request))


@receiver(user_login_failed)
def _on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    if getattr(request, "axes_locked_out", False):
        return  # the lockout's own entry (below) records this attempt
    audit_record(
        action=Action.LOGIN_FAILED, ip=client_ip(request), note=f"用户名：{_username(credentials.get('username'))}",
        result=Result.FAILURE,
    )


@receiver(user_locked_out)
def _on_locked_out(sender: Any, request: Any = None, username: Any = None, **kwargs: Any) -> None:
    # Sent by django-axes for the attempt that locks the account and for every attempt while it is locked.
    limit = getattr(settings, "AXES_FAILURE_LIMIT", 5)
    audit_record(
        action=Action.LOGIN_FAILED, ip=client_ip(request),
        note=f"用户名：{_username(username)}；账号已锁定（连续 {limit} 次登录失败），本次登录被拒绝",
        result=Result.FAILURE,
    )
