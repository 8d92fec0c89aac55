"""A form is saved once, however many times it is posted.

Every create form carries a one-time token (`{% submission_token %}` from the `submissions` tag library, beside
`{% csrf_token %}`). The first POST that carries a token claims it; another POST with the same token — a double
click, a form sent again from the browser's history, a retry of a slow request — is not passed to the view: the
user is sent back to the page with a notice, and nothing is written twice.

The claim is an atomic `cache.add` (Redis when REDIS_URL is set, so every process of a deployment sees it). A request
that ends in an error (an exception or a 4xx/5xx answer) gives its token back, so that the user may send the form
again; a form shown again with its errors carries a new token, since the tag draws one at every rendering.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRefresh

FIELD = "_submission"
KEY = "submission:{}"
TIMEOUT = 24 * 3600  # a form left open longer than a day is not guarded any more: the token has expired
TOKEN = re.compile(r"[A-Za-z0-9_-]{22,64}")
DUPLICATE = "这份表单已经提交过，没有重复保存。"


def new_token() -> str:
    return secrets.token_urlsafe(24)


def _back(request: HttpRequest) -> str:
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(referer, {request.get_host()}, require_https=request.is_secure()):
        return referer
    return request.path


class SubmissionGuardMiddleware:
    """Refuses the second POST of a form token; placed after the authentication and message middleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code >= 400:
            _release(request)  # nothing was saved: the same form may be sent again
        return response

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        if request.method != "POST":
            return None
        token = request.POST.get(FIELD, "")
        if not token or not TOKEN.fullmatch(token):
            return None  # a form without a token (or a forged one) is left to the view and its own checks
        key = KEY.format(token)
        if cache.add(key, getattr(request.user, "pk", None) or 0, TIMEOUT):
            request._submission_key = key  # type: ignore[attr-defined]
            return None
        messages.warning(request, DUPLICATE)
        if getattr(request, "htmx", False):
            return HttpResponseClientRefresh()
        return HttpResponseRedirect(_back(request), status=303)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        _release(request)


def _release(request: HttpRequest) -> None:
    key = getattr(request, "_submission_key", None)
    if key:
        cache.delete(key)
        request._submission_key = None  # type: ignore[attr-defined]
