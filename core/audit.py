"""The audit trail: one function writes every entry, for units, users, logins and the ledger alike."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.http import HttpRequest

from .models import AuditEntry

Action = AuditEntry.Action


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    ip = forwarded.split(",")[0].strip() if forwarded else request.META.get("REMOTE_ADDR", "")
    return ip or None


def _jsonable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return value


def diff_fields(obj: models.Model, values: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for each value that differs from the object's current one."""
    changes: dict[str, list[Any]] = {}
    for field, new in values.items():
        old = getattr(obj, field)
        if old != new:
            changes[field] = [_jsonable(old), _jsonable(new)]
    return changes


def _entry(
    *, action: str, actor: Any, obj: models.Model | None, changes: Mapping[str, Any] | None, ip: str | None, note: str
) -> AuditEntry:
    actor_obj = actor if actor is not None and getattr(actor, "pk", None) else None
    return AuditEntry(
        action=action,
        actor=actor_obj,
        actor_name=str(actor_obj) if actor_obj else "系统",
        content_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:300] if obj is not None else "",
        changes={k: _jsonable(v) for k, v in (changes or {}).items()},
        ip=ip,
        note=note,
    )


def audit_record(
    *,
    action: str,
    actor: Any = None,
    obj: models.Model | None = None,
    changes: Mapping[str, Any] | None = None,
    ip: str | None = None,
    note: str = "",
) -> AuditEntry:
    entry = _entry(action=action, actor=actor, obj=obj, changes=changes, ip=ip, note=note)
    entry.save()
    return entry


def audit_record_many(
    *, action: str, actor: Any, items: Iterable[tuple[models.Model, Mapping[str, Any]]], ip: str | None = None,
    note: str = "",
) -> int:
    """One entry per object, written in bulk (imports touch thousands of rows)."""
    entries = [_entry(action=action, actor=actor, obj=o, changes=c, ip=ip, note=note) for o, c in items]
    AuditEntry.objects.bulk_create(entries, batch_size=1000)
    return len(entries)


def history_for(obj: models.Model) -> models.QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
    ).select_related("actor")
