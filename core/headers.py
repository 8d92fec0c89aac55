"""Response headers every page of the site gets.

Pages and downloads show a ledger's problems, evidence and initial passwords: no browser or proxy keeps a copy of
them (`Cache-Control: no-store`), so the back button after logging out or a shared computer's cache shows nothing.
Static files are served by whitenoise before this middleware runs and keep their long cache lifetimes.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import add_never_cache_headers


class NoStoreMiddleware:
    """Every response of a view (and of the middleware after this one) is marked not to be stored."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        add_never_cache_headers(response)
        return response
