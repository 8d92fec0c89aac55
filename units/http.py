"""Reading raw request values safely, for every app's views: a `next` to go back to, an id, a bit of free text.

Each helper answers "not usable" (the default, None, "") for anything malformed, so a forged or mistyped value
is ignored instead of reaching `redirect()`, `int()` or the database.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

# The largest primary key any of our databases stores (a signed 64-bit integer) has 19 digits.
MAX_ID = 2**63 - 1
_MAX_ID_DIGITS = len(str(MAX_ID))


def safe_next(request: HttpRequest, default: str) -> str:
    """The `next` of a POST or GET if it is a path on this site ("/…", not "//…"), otherwise `default`.

    Redirect to the result with HttpResponseRedirect, not `redirect()`: a bare word given to `redirect()` is taken
    for a URL name."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if (
        target.startswith("/")
        and not target.startswith("//")
        and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                            require_https=request.is_secure())
    ):
        return target
    return default


def parse_id(value: Any) -> int | None:
    """A primary key written in ASCII digits, 0 < n < 2**63; None for anything else.

    `str.isdigit()` alone also accepts "²" (which `int()` refuses) and "١" or "１" (which `int()` reads), and a
    number too large for the database makes the query itself fail."""
    if not isinstance(value, str) or not value or len(value) > _MAX_ID_DIGITS:
        return None
    if not (value.isascii() and value.isdigit()):
        return None
    n = int(value)
    return n if 0 < n <= MAX_ID else None


def parse_ids(values: list[str]) -> list[int]:
    """The valid ids among `values`, sorted and without repeats."""
    return sorted({n for n in map(parse_id, values) if n is not None})


def query_text(params: Any, name: str, max_length: int) -> str:
    """A free-text parameter, trimmed, without NUL characters (PostgreSQL refuses them in text) and cut to
    `max_length`. Prefer a form's CharField where there is a form: it refuses NUL with a message."""
    value = params.get(name, "")
    if not isinstance(value, str):
        return ""
    return value.replace("\x00", "").strip()[:max_length]
