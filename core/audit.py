"""The audit trail: one function writes every entry, for units, users, logins and the ledger alike.

Every entry carries who, when, from which address, in which request and with what result. The request's id and
the client's address come from the request being served (`RequestContext`, bound by
`core.middleware.RequestContextMiddleware`) when the caller gives none. The trail is only added to
(`core.models.AuditEntry`); entries past the retention period leave through `audit_prune` alone.

Entries are shown in Chinese through one registry of labels (`audit_label`) and one renderer (`change_lines`).
A key's label is, in this order: the key itself when it is already Chinese; a label registered for the entry's
model; the Chinese verbose name of the model's field of that name; a project-wide label; the key as a last resort
(which the tests refuse). This module is the ground floor: models of other apps are named by their
"app_label.model" strings and resolved through the app registry, never imported.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import ipaddress
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured, ValidationError
from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone

from .models import AuditEntry

Action = AuditEntry.Action
Result = AuditEntry.Result

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# ---- the client's address ---------------------------------------------------------------------------------------

_ADDRESS_MAX = 64  # longer text is no address (an IPv6 address with a port and brackets is at most 47 characters)


def parse_ip(text: str | None) -> IPAddress | None:
    """`text` as an IP address, or None. Accepts what proxies write: "[2001:db8::1]:443" and "203.0.113.5:443"
    lose their port; an IPv4-mapped IPv6 address reads as the IPv4 one; a zone ("fe80::1%eth0") is dropped, since
    the database's address type has none."""
    if not text or len(text) > _ADDRESS_MAX:
        return None
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    text = text.partition("%")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def valid_ip(text: str | None) -> str | None:
    """The address in `text` as the database stores it, or None for anything that is not one."""
    address = parse_ip(text)
    return str(address) if address is not None else None


@functools.lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"TRUSTED_PROXIES 中的“{entry}”不是有效的 IP 地址或网段（如 10.0.0.1 或 10.0.0.0/24）。"
            ) from None
    return tuple(networks)


def trusted_proxies() -> tuple[IPNetwork, ...]:
    """settings.TRUSTED_PROXIES as networks (an address is a network of one); ImproperlyConfigured for a bad entry."""
    value: Any = getattr(settings, "TRUSTED_PROXIES", None) or ()
    if isinstance(value, str):
        value = value.split(",")
    return _networks(tuple(str(v).strip() for v in value if str(v).strip()))


def is_trusted_proxy(address: IPAddress | None) -> bool:
    return address is not None and any(address in network for network in trusted_proxies())


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address, or None when it cannot be told.

    REMOTE_ADDR is the client unless it is one of settings.TRUSTED_PROXIES. Only then is X-Forwarded-For read:
    from the right, past the trusted proxies' own hops, the first other hop is the client (what the client sent
    itself stands further left and is never believed). A hop that is no address there gives None, not a guess.
    """
    if request is None:
        return None
    remote = parse_ip(request.META.get("REMOTE_ADDR"))
    if not is_trusted_proxy(remote):
        return str(remote) if remote is not None else None
    client = remote
    for hop in reversed(str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")):
        if not hop.strip():
            continue
        address = parse_ip(hop)
        if address is None:
            return None
        client = address
        if not is_trusted_proxy(address):
            break
    return str(client)


# ---- the request being served -----------------------------------------------------------------------------------

@dataclass
class RequestContext:
    """The request being served, as the audit trail needs it: its id and the client's address; and whether an
    entry already recorded the file it sends or the refusal it answers (so the middleware writes no second one)."""

    request_id: str
    ip: str | None
    file_recorded: bool = False
    denial_recorded: bool = False


# Request metadata, like a logging correlation id: it fills the request id and address of entries written while
# the request is served. It is not a "current user": who acted is always passed to `audit_record` explicitly.
_request_context: ContextVar[RequestContext | None] = ContextVar("audit_request_context", default=None)


def current_request() -> RequestContext | None:
    return _request_context.get()


@contextmanager
def request_context(context: RequestContext) -> Iterator[RequestContext]:
    """Bind `context` while the request is served; it is unbound again afterwards, whatever happens."""
    token = _request_context.set(context)
    try:
        yield context
    finally:
        _request_context.reset(token)


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


def _clean_text(text: str, limit: int | None = None) -> str:
    # A NUL cannot be stored in PostgreSQL's text; a path or a name typed by a visitor may hold one.
    text = text.replace("\x00", "")
    return text[:limit] if limit is not None else text


def _entry(
    *, action: str, actor: Any, obj: models.Model | None, changes: Mapping[str, Any] | None, ip: str | None, note: str,
    result: str, context: RequestContext | None,
) -> AuditEntry:
    actor_obj = actor if actor is not None and getattr(actor, "pk", None) else None
    if actor_obj is not None:
        actor_name = str(actor_obj)
    else:
        actor_name = "未登录用户" if context is not None else "系统"
    if ip is None and context is not None:
        ip = context.ip
    return AuditEntry(
        action=action,
        actor=actor_obj,
        actor_name=_clean_text(actor_name, 150),
        content_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=_clean_text(str(obj), 300) if obj is not None else "",
        changes={k: _jsonable(v) for k, v in (changes or {}).items()},
        ip=valid_ip(ip),
        note=_clean_text(note),
        result=result,
        request_id=context.request_id if context is not None else "",
    )


def _mark(context: RequestContext | None, action: str) -> None:
    if context is None:
        return
    if action in (Action.EXPORT, Action.DOWNLOAD):
        context.file_recorded = True
    elif action == Action.DENIED:
        context.denial_recorded = True


def audit_record(
    *,
    action: str,
    actor: Any = None,
    obj: models.Model | None = None,
    changes: Mapping[str, Any] | None = None,
    ip: str | None = None,
    note: str = "",
    result: str = Result.SUCCESS,
) -> AuditEntry:
    """Write one entry. Within a request, the request's id (and, unless given, the client's address) come from it;
    an EXPORT or DOWNLOAD entry tells the middleware that the file this request sends is already recorded."""
    context = current_request()
    entry = _entry(action=action, actor=actor, obj=obj, changes=changes, ip=ip, note=note, result=result,
                   context=context)
    entry.save()
    _mark(context, action)
    return entry


def audit_record_many(
    *, action: str, actor: Any, items: Iterable[tuple[models.Model, Mapping[str, Any]]], ip: str | None = None,
    note: str = "", result: str = Result.SUCCESS,
) -> int:
    """One entry per object, written in bulk (imports touch thousands of rows)."""
    context = current_request()
    entries = [
        _entry(action=action, actor=actor, obj=o, changes=c, ip=ip, note=note, result=result, context=context)
        for o, c in items
    ]
    AuditEntry.objects.bulk_create(entries, batch_size=1000)
    if entries:
        _mark(context, action)
    return len(entries)


# ---- retention --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PruneResult:
    days: int
    before: dt.datetime  # entries older than this (local midnight) are the ones removed
    count: int
    dry_run: bool


def _delete_entries_before(before: dt.datetime) -> int:
    """The only way entries leave the trail: one DELETE of those older than `before`, past the queryset's refusal
    (`AuditEntryQuerySet.delete`). Called by `audit_prune` alone, which records that it ran."""
    old = AuditEntry.objects.filter(at__lt=before)
    return old._raw_delete(old.db)


@transaction.atomic
def audit_prune(*, days: int | None = None, dry_run: bool = False, by: Any = None) -> PruneResult:
    """Remove the entries older than `days` (settings.AUDIT_RETENTION_DAYS when not given; never fewer) and record
    how many went and up to when. The cut is at local midnight, so every entry of the last `days` whole days stays.
    `dry_run` counts only and records nothing."""
    keep = int(settings.AUDIT_RETENTION_DAYS)
    days = keep if days is None else days
    if days < keep:
        raise ValidationError(
            f"保留天数不能少于 {keep} 天（系统设置 AUDIT_RETENTION_DAYS），现为 {days} 天。", code="too_short"
        )
    start = timezone.localdate() - dt.timedelta(days=days)
    before = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    if dry_run:
        return PruneResult(days, before, AuditEntry.objects.filter(at__lt=before).count(), True)
    count = _delete_entries_before(before)
    audit_record(
        action=Action.PRUNE, actor=by,
        note=f"清理 {start:%Y-%m-%d} 之前（保留 {days} 天）的操作日志 {count} 条",
        changes={"保留天数": days, "清理截止": start.isoformat(), "清理条数": count},
    )
    return PruneResult(days, before, count, False)


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
