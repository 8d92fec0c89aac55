"""The request's context for the audit trail: its id and the client's address; and the entries written for every
request alike: a refusal (403) and a file sent to a signed-in user.

The id is the incoming X-Request-ID when a trusted proxy (settings.TRUSTED_PROXIES) sends a sane one, otherwise a
new one; it goes back in the response's X-Request-ID header, so a user's report, the proxy's log and the audit
trail name the same request.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from email.message import Message
from typing import Any
from urllib.parse import unquote

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase

from .audit import (
    Action,
    RequestContext,
    Result,
    audit_record,
    client_ip,
    current_request,
    is_trusted_proxy,
    parse_ip,
    request_context,
    trusted_proxies,
)

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
_PATH_MAX = 500  # characters of a path written in a note
_FILENAME_STAR = re.compile(r"filename\*\s*=\s*([\w.-]*)'[^']*'([^;\s]+)", re.IGNORECASE)


def _request_id(request: HttpRequest) -> str:
    incoming = str(request.META.get("HTTP_X_REQUEST_ID", "")).strip()
    if incoming and _SANE_REQUEST_ID.match(incoming) and is_trusted_proxy(parse_ip(request.META.get("REMOTE_ADDR"))):
        return incoming
    return uuid.uuid4().hex


def _signed_in(request: HttpRequest) -> Any:
    """The signed-in user, or None (also before authentication ran, e.g. for a static file)."""
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _where(request: HttpRequest) -> str:
    return f"{request.method} {request.path[:_PATH_MAX]}"


def attachment_name(response: HttpResponseBase) -> str | None:
    """The name of the file a response sends, or None when it sends no file (no attachment, not a FileResponse)."""
    disposition = str(response.get("Content-Disposition", ""))
    is_attachment = disposition.lower().lstrip().startswith("attachment")
    if not is_attachment and not isinstance(response, FileResponse):
        return None
    starred = _FILENAME_STAR.search(disposition)
    if starred:
        return unquote(starred.group(2), encoding=starred.group(1) or "utf-8", errors="replace")
    if disposition:
        message = Message()
        message["Content-Disposition"] = disposition
        name = message.get_filename()
        if name:
            return str(name)
    return str(getattr(response, "filename", "") or "") or "（未命名文件）"


class RequestContextMiddleware:
    """Binds the request's `RequestContext` while it is served, and writes the entries every request may need:
    DENIED (result 拒绝) for a PermissionDenied or any 403, and DOWNLOAD for a file sent to a signed-in user whose
    view recorded no EXPORT or DOWNLOAD itself; at most one of each per request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        trusted_proxies()  # a bad TRUSTED_PROXIES stops the server at start, not at a request

    def __call__(self, request: HttpRequest) -> HttpResponse:
        context = RequestContext(request_id=_request_id(request), ip=client_ip(request))
        with request_context(context):
            response = self.get_response(request)
            if not self._is_static(request):
                self._record(request, response, context)
        response[REQUEST_ID_HEADER] = context.request_id
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        # A view's PermissionDenied: recorded here with its reason; the 403 it becomes is then not recorded again.
        context = current_request()
        if isinstance(exception, PermissionDenied) and context is not None and not context.denial_recorded:
            reason = str(exception).strip()
            self._denied(request, reason)

    @staticmethod
    def _is_static(request: HttpRequest) -> bool:
        static = settings.STATIC_URL or ""
        return bool(static) and static.startswith("/") and request.path.startswith(static)

    @staticmethod
    def _denied(request: HttpRequest, reason: str = "") -> None:
        note = f"拒绝访问：{_where(request)}"
        if reason:
            note += f"（{reason}）"
        audit_record(action=Action.DENIED, actor=_signed_in(request), note=note, result=Result.DENIED)

    def _record(self, request: HttpRequest, response: HttpResponseBase, context: RequestContext) -> None:
        if response.status_code == 403:
            if not context.denial_recorded:
                self._denied(request)
            return
        if context.file_recorded or not 200 <= response.status_code < 300:
            return
        user = _signed_in(request)
        if user is None:
            return
        name = attachment_name(response)
        if name is not None:
            audit_record(action=Action.DOWNLOAD, actor=user, note=f"下载文件「{name}」：{_where(request)}")
