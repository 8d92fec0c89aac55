"""Drill-downs into the ledger list: `?drill=…` narrows the list to the problems one number elsewhere counts.

The ledger does not know what a dashboard number means; the app that shows the number registers a resolver
(`register`), and the list asks it for the problems (`resolve`). The list's count then equals the number, because
both come from the same code.

    register(lambda user, raw: ("截至11月30日 · 逾期", [3, 7, 9]))
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

Resolver = Callable[[Any, str], tuple[str, Sequence[int]]]
_RESOLVERS: list[Resolver] = []
MAX_LENGTH = 200


def register(resolver: Resolver) -> None:
    if resolver not in _RESOLVERS:
        _RESOLVERS.append(resolver)


def resolve(user: Any, raw: str) -> tuple[str, list[int]]:
    """(what the drill counts, the problem ids); a malformed or unknown drill is a ValidationError."""
    raw = (raw or "").strip()
    if not raw or len(raw) > MAX_LENGTH or not _RESOLVERS:
        raise ValidationError("筛选条件无效，请从工作台重新点击进入。")
    label, ids = _RESOLVERS[0](user, raw)
    return label, [int(i) for i in ids]


def only_ids(qs: QuerySet[Any], ids: Sequence[int]) -> QuerySet[Any]:
    """Rows whose primary key is among `ids`, however many: one bound parameter (a JSON array on SQLite, an
    array on PostgreSQL), not one per id."""
    if connection.vendor == "postgresql":
        return qs.filter(pk__in=RawSQL("SELECT unnest(%s::bigint[])", (list(ids),)))  # noqa: S611
    return qs.filter(pk__in=RawSQL("SELECT value FROM json_each(%s)", (json.dumps(list(ids)),)))  # noqa: S611
