from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_htmx.middleware import HtmxDetails

_LAST_SEEN = "last_seen"


class HtmxHttpRequest(HttpRequest):
    """A request as django_htmx's HtmxMiddleware (in settings.MIDDLEWARE) leaves it; for views' annotations."""

    htmx: HtmxDetails


class IdleTimeoutMiddleware:
    """Log a user out after IDLE_TIMEOUT_SECONDS without a request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            last = request.session.get(_LAST_SEEN)
            if last is not None and now - int(last) > settings.IDLE_TIMEOUT_SECONDS:
                logout(request)
                messages.info(request, "长时间未操作，已自动退出，请重新登录。")
                return redirect(f"{reverse('login')}?next={request.path}")
            request.session[_LAST_SEEN] = now
        return self.get_response(request)


class PasswordChangeRequiredMiddleware:
    """Accounts with a one-time initial password may do nothing but change it."""

    allowed_names = ("password_change", "password_change_done", "logout")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and getattr(user, "must_change_password", False):
            allowed = {reverse(n) for n in self.allowed_names}
            if request.path not in allowed and not request.path.startswith(settings.STATIC_URL):
                messages.warning(request, "首次登录请先修改初始密码。")
                return redirect("password_change")
        return self.get_response(request)
