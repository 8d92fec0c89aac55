"""Every write to units and users goes through here: validated, atomic, audited."""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr

from core.audit import Action, audit_record, diff_fields

from .models import Role, Unit, User, UserRole

UNIT_FIELDS = ("code", "name", "short_name", "kind", "kind_label", "sort_order")


def unit_child_path(parent_path: str, pk: int) -> str:
    return f"{parent_path}{pk}/"


def _rebase_subtree(*, old_path: str, new_path: str) -> None:
    """Move a whole subtree to a new path prefix: one UPDATE, no recursion."""
    delta = new_path.count("/") - old_path.count("/")
    Unit.objects.filter(path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
        depth=F("depth") + delta,
    )


def _check_parent(unit: Unit | None, parent: Unit | None) -> None:
    if parent is None or unit is None or unit.pk is None:
        return
    if parent.pk == unit.pk or parent.path.startswith(unit.path):
        raise ValidationError({"parent": f"上级单位“{parent.name}”是“{unit.name}”本身或其下级，会形成循环。"})


@transaction.atomic
def unit_create(
    *, by: Any, code: str, name: str, parent: Unit | None, short_name: str = "", kind: str = "other",
    kind_label: str = "", sort_order: int = 0, ip: str | None = None,
) -> Unit:
    code = code.strip()
    if Unit.objects.filter(code=code).exists():
        raise ValidationError({"code": f"单位编码“{code}”已存在。"})
    unit = Unit(
        code=code, name=name.strip(), short_name=short_name.strip(), kind=kind, kind_label=kind_label,
        sort_order=sort_order, parent=parent,
    )
    unit.full_clean(exclude=["path"])
    unit.save()
    unit.path = unit_child_path(parent.path if parent else "", unit.pk)
    unit.depth = parent.depth + 1 if parent else 0
    unit.save(update_fields=["path", "depth"])
    audit_record(action=Action.CREATE, actor=by, obj=unit, changes={"code": code, "name": unit.name}, ip=ip)
    return unit


@transaction.atomic
def unit_update(*, unit: Unit, by: Any, ip: str | None = None, **values: Any) -> Unit:
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    parent = values.pop("parent", unit.parent)
    unknown = set(values) - set(UNIT_FIELDS)
    if unknown:
        raise ValueError(f"unknown unit fields: {sorted(unknown)}")
    changes = diff_fields(unit, values)
    if (parent.pk if parent else None) != unit.parent_id:
        _check_parent(unit, parent)
        changes["parent"] = [str(unit.parent or ""), str(parent or "")]
        old_path = unit.path
        new_path = unit_child_path(parent.path if parent else "", unit.pk)
        unit.parent = parent
        _rebase_subtree(old_path=old_path, new_path=new_path)
        unit.path, unit.depth = new_path, new_path.count("/") - 1
    for field, value in values.items():
        setattr(unit, field, value)
    unit.full_clean(exclude=["path"])
    unit.save()
    if changes:
        audit_record(action=Action.UPDATE, actor=by, obj=unit, changes=changes, ip=ip)
    return unit


@transaction.atomic
def unit_set_active(*, unit: Unit, active: bool, by: Any, ip: str | None = None) -> Unit:
    """Units are never deleted once anything refers to them; deactivating keeps their history."""
    if unit.is_active == active:
        return unit
    unit.is_active = active
    unit.save(update_fields=["is_active", "updated_at"])
    audit_record(action=Action.ACTIVATE if active else Action.DEACTIVATE, actor=by, obj=unit, ip=ip)
    return unit


def generate_initial_password(length: int = 12) -> str:
    """A random password that passes the complexity validators."""
    alphabet = string.ascii_letters + string.digits + "!@#%*"
    while True:
        pw = "".join(secrets.choice(alphabet) for _ in range(length))
        if (
            any(c.islower() for c in pw) and any(c.isupper() for c in pw)
            and any(c.isdigit() for c in pw) and any(c in "!@#%*" for c in pw)
        ):
            return pw


def _set_roles(user: User, roles: Iterable[str]) -> None:
    wanted = set(roles)
    bad = wanted - set(Role.values)
    if bad:
        raise ValidationError({"roles": f"未知角色：{'、'.join(sorted(bad))}"})
    UserRole.objects.filter(user=user).exclude(role__in=wanted).delete()
    have = set(UserRole.objects.filter(user=user).values_list("role", flat=True))
    UserRole.objects.bulk_create([UserRole(user=user, role=r) for r in sorted(wanted - have)])
    user.__dict__.pop("role_codes", None)


@transaction.atomic
def user_create(
    *, by: Any, username: str, full_name: str, unit: Unit | None, roles: Iterable[str], phone: str = "",
    email: str = "", overseen_units: Iterable[Unit] = (), password: str | None = None, ip: str | None = None,
) -> tuple[User, str | None]:
    """Create an account. Without a password, a one-time initial password is generated and returned;
    the user must change it at first login."""
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": f"登录名“{username}”已被使用。"})
    initial = None
    user = User(username=username, full_name=full_name, phone=phone, email=email, unit=unit)
    if password is None:
        initial = generate_initial_password()
        user.set_password(initial)
        user.must_change_password = True
    else:
        user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    roles = list(roles)
    _set_roles(user, roles)
    user.overseen_units.set(list(overseen_units))
    audit_record(
        action=Action.CREATE, actor=by, obj=user, ip=ip,
        changes={"unit": str(unit or ""), "roles": sorted(roles), "overseen_units": [str(u) for u in overseen_units]},
    )
    return user, initial


@transaction.atomic
def user_update(
    *, user: User, by: Any, roles: Iterable[str] | None = None, overseen_units: Iterable[Unit] | None = None,
    ip: str | None = None, **values: Any,
) -> User:
    allowed = {"full_name", "phone", "email", "unit"}
    unknown = set(values) - allowed
    if unknown:
        raise ValueError(f"unknown user fields: {sorted(unknown)}")
    changes: dict[str, Any] = diff_fields(user, values)
    for field, value in values.items():
        setattr(user, field, value)
    user.full_clean(exclude=["password"])
    user.save()
    if roles is not None:
        roles = sorted(set(roles))
        old = sorted(user.role_codes)
        if roles != old:
            changes["roles"] = [old, roles]
            _set_roles(user, roles)
    if overseen_units is not None:
        new_ids = sorted(u.pk for u in overseen_units)
        old_units = list(user.overseen_units.all())
        if new_ids != sorted(u.pk for u in old_units):
            changes["overseen_units"] = [[str(u) for u in old_units], [str(u) for u in overseen_units]]
            user.overseen_units.set(list(overseen_units))
    if changes:
        audit_record(action=Action.UPDATE, actor=by, obj=user, changes=changes, ip=ip)
    return user


@transaction.atomic
def user_set_active(*, user: User, active: bool, by: Any, ip: str | None = None) -> User:
    if by is not None and getattr(by, "pk", None) == user.pk and not active:
        raise ValidationError("不能停用自己的账号。")
    if user.is_active == active:
        return user
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit_record(action=Action.ACTIVATE if active else Action.DEACTIVATE, actor=by, obj=user, ip=ip)
    return user


@transaction.atomic
def user_change_password(*, user: User, new_password: str, ip: str | None = None) -> User:
    validate_password(new_password, user)
    user.set_password(new_password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    audit_record(action=Action.PASSWORD, actor=user, obj=user, ip=ip)
    return user


@transaction.atomic
def user_reset_password(*, user: User, by: Any, ip: str | None = None) -> str:
    """An admin issues a new one-time password."""
    initial = generate_initial_password()
    user.set_password(initial)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    audit_record(action=Action.PASSWORD, actor=by, obj=user, ip=ip, note="管理员重置初始密码")
    return initial


def depth_of(path: str) -> int:
    return path.count("/") - 1


__all__ = [
    "depth_of",
    "unit_child_path",
    "unit_create",
    "unit_set_active",
    "unit_update",
    "user_change_password",
    "user_create",
    "user_reset_password",
    "user_set_active",
    "user_update",
]
