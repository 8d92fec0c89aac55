"""The audit trail: one function writes every entry, for units, users, logins and the ledger alike.

Entries are shown in Chinese through one registry of labels (`audit_label`) and one renderer (`change_lines`).
A key's label is, in this order: the key itself when it is already Chinese; a label registered for the entry's
model; the Chinese verbose name of the model's field of that name; a project-wide label; the key as a last resort
(which the tests refuse). This module is the ground floor: models of other apps are named by their
"app_label.model" strings and resolved through the app registry, never imported.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.http import HttpRequest
from django.utils import timezone

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


# ---- labels ----------------------------------------------------------------------------------------------------

# Keys that mean the same on any object.
DEFAULT_LABELS: dict[str, str] = {
    "action": "操作",
    "status": "状态",
    "number": "编号",
    "code": "编码",
    "name": "名称",
    "summary": "问题概述",
    "description": "具体表现",
    "problem": "问题",
    "measure": "措施",
    "text": "内容",
    "content": "内容",
    "files": "佐证材料",
    "unit": "单位",
    "co_units": "配合单位",
    "lead_unit": "牵头单位",
    "parent": "上级",
    "campaign": "专项行动",
    "category": "问题类别",
    "source": "问题来源",
    "sources": "问题来源",
    "phases": "工作阶段",
    "jurisdiction": "覆盖范围",
    "deadline": "时限",
    "date": "日期",
    "note": "说明",
    "reason": "理由",
    "opinion": "核查意见",
    "is_active": "启用",
    "sort_order": "排序号",
    "roles": "角色",
    "overseen_units": "分管单位",
    "username": "用户名",
    "full_name": "姓名",
    "phone": "手机号",
    "email": "邮箱",
}

# Per model, the keys that are not its own fields (or whose field has no Chinese verbose name).
MODEL_LABELS: dict[str, dict[str, str]] = {
    "units.unit": {"parent": "上级单位"},
    "units.user": {"roles": "角色"},
    "campaigns.campaign": {"phases": "工作阶段", "sources": "问题来源"},
    "campaigns.category": {"campaign": "专项行动", "parent": "上级类别"},
    "ledger.problem": {"action": "操作"},
    "ledger.measure": {"problem": "所属问题"},
    "ledger.progressentry": {"measure": "整改措施", "problem": "所属问题", "files": "佐证材料"},
}

# Where the labels of a key's codes come from, when the key is not a field with choices of the entry's model:
# pairs of (code, label), or "app_label.model.field" for that field's choices.
ChoiceSource = str | Sequence[tuple[Any, Any]]
MODEL_CHOICES: dict[str, dict[str, ChoiceSource]] = {
    "units.user": {"roles": "units.userrole.role"},
}

_labels: dict[str, dict[str, str]] = {"": dict(DEFAULT_LABELS), **{k: dict(v) for k, v in MODEL_LABELS.items()}}
_choices: dict[str, dict[str, ChoiceSource]] = {k: dict(v) for k, v in MODEL_CHOICES.items()}

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
EMPTY = "（空）"
SHORT_TEXT = 80  # characters of one value shown before it is cut (the whole text is kept for a tooltip)


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


ModelRef = type[models.Model] | str | None


def _model_key(model: ModelRef) -> str:
    """The registry's key of a model class or "app_label.model" label; "" for none (the project-wide table)."""
    if model is None:
        return ""
    if isinstance(model, str):
        return model.lower()
    return model._meta.label_lower


def _model_class(model: ModelRef) -> type[models.Model] | None:
    if model is None or not isinstance(model, str):
        return model
    try:
        return apps.get_model(model)
    except (LookupError, ValueError):
        return None


def register_audit_labels(
    model_or_label: ModelRef, labels: Mapping[str, str], *, choices: Mapping[str, ChoiceSource] | None = None
) -> None:
    """Add labels (and where codes' labels come from) for keys an app writes: for one model, given as a class or
    "app_label.model", or project-wide with None. Called from an app's `ready()`; a later call wins."""
    key = _model_key(model_or_label)
    _labels.setdefault(key, {}).update(labels)
    if choices:
        _choices.setdefault(key, {}).update(choices)


def _model_field(model: type[models.Model] | None, key: str) -> Any:
    if model is None:
        return None
    try:
        return model._meta.get_field(key)
    except FieldDoesNotExist:
        return None


def audit_label(key: str, model: ModelRef = None) -> str:
    """The Chinese label of a key of `changes` on an entry about `model` (a class, "app_label.model" or None)."""
    if has_cjk(key):
        return key
    registered = _labels.get(_model_key(model), {}).get(key)
    if registered:
        return registered
    verbose = str(getattr(_model_field(_model_class(model), key), "verbose_name", "") or "")
    if has_cjk(verbose):
        return verbose
    return _labels[""].get(key, key)


def _choice_labels(key: str, model: ModelRef) -> dict[str, str]:
    source: Any = _choices.get(_model_key(model), {}).get(key)
    if source is None:
        field = _model_field(_model_class(model), key)
        source = getattr(field, "flatchoices", None) if getattr(field, "choices", None) else None
    elif isinstance(source, str):
        app_model, _, field_name = source.rpartition(".")
        field = _model_field(_model_class(app_model), field_name)
        source = getattr(field, "flatchoices", None)
    return {str(code): str(label) for code, label in source or ()}


_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


def _datetime_text(value: dt.datetime) -> str:
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.strftime("%Y-%m-%d %H:%M")


def format_value(value: Any, choices: Mapping[str, str] | None = None) -> str:
    """One recorded value as the trail shows it: 是/否, lists joined with 、, dates and local times, codes by label."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if isinstance(value, list | tuple):
        return "、".join(format_value(v, choices) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{k}：{format_value(v, choices)}" for k, v in value.items())
    if isinstance(value, dt.datetime):
        return _datetime_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    if choices and text in choices:
        return choices[text]
    if isinstance(value, str) and _ISO_DATETIME.match(text):
        try:
            return _datetime_text(dt.datetime.fromisoformat(text))
        except ValueError:
            return text
    return text


def _shorten(text: str) -> str:
    return text if len(text) <= SHORT_TEXT else text[: SHORT_TEXT - 1] + "…"


class ChangeLine(tuple[str, str]):
    """(label, text) of one recorded change; `full` is the text before long values were cut."""

    full: str

    def __new__(cls, label: str, text: str, full: str = "") -> ChangeLine:
        line = super().__new__(cls, (label, text))
        line.full = full or text
        return line

    @property
    def label(self) -> str:
        return self[0]

    @property
    def text(self) -> str:
        return self[1]

    @property
    def shortened(self) -> bool:
        return self.full != self.text


def _is_pair(action: str, value: Any) -> bool:
    # A creation records plain values (a list of two roles is two roles); anything else records [old, new].
    return action != Action.CREATE and isinstance(value, list) and len(value) == 2


def change_lines(entry: AuditEntry) -> list[ChangeLine]:
    """The entry's changes in Chinese, in the order recorded: `[old, new]` as "old → new", other values as they are."""
    model: ModelRef = None
    if entry.content_type_id:
        ct = ContentType.objects.get_for_id(entry.content_type_id)  # cached: no query per entry
        model = f"{ct.app_label}.{ct.model}"
    lines = []
    for key, value in (entry.changes or {}).items():
        choices = _choice_labels(key, model)
        if _is_pair(entry.action, value):
            old, new = format_value(value[0], choices), format_value(value[1], choices)
            lines.append(ChangeLine(audit_label(key, model), f"{_shorten(old)} → {_shorten(new)}", f"{old} → {new}"))
        else:
            text = format_value(value, choices)
            lines.append(ChangeLine(audit_label(key, model), _shorten(text), text))
    return lines
