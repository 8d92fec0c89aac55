"""Every write to units and users goes through here: validated, atomic, audited."""

from __future__ import annotations

import datetime as dt
import secrets
import string
from collections.abc import Iterable
from typing import Any

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone

from core.audit import Action, audit_record, audit_record_many, diff_fields
from core.models import Job

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


SAME_PASSWORD = "新密码不能与当前密码相同，请另设一个。"


def generate_initial_password(length: int = 12) -> str:
    """A random password that passes the complexity validators."""
    alphabet = string.ascii_letters + string.digits + "!@#%*"
    while True:
        # A letter or digit first: a cell that begins with @ would be escaped in the password sheet.
        pw = secrets.choice(string.ascii_letters + string.digits) + "".join(
            secrets.choice(alphabet) for _ in range(length - 1))
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
    fields = ["is_active"]
    if not active:
        user.session_version += 1  # every session signed in before ends: reactivating does not bring them back
        fields.append("session_version")
    user.save(update_fields=fields)
    audit_record(action=Action.ACTIVATE if active else Action.DEACTIVATE, actor=by, obj=user, ip=ip,
                 note="" if active else "该账号的全部会话已结束")
    return user


@transaction.atomic
def user_change_password(*, user: User, new_password: str, ip: str | None = None) -> User:
    if user.check_password(new_password):  # the initial password on a forced change, the current one otherwise
        raise ValidationError(SAME_PASSWORD, code="password_reused")
    validate_password(new_password, user)
    user.set_password(new_password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    audit_record(action=Action.PASSWORD, actor=user, obj=user, ip=ip)
    return user


@transaction.atomic
def user_unlock(*, user: User, by: Any, ip: str | None = None) -> int:
    """End a lockout after too many failed logins: the failures counted against the login name are cleared."""
    cleared = int(axes_reset(username=user.username) or 0)
    audit_record(action=Action.UNLOCK, actor=by, obj=user, ip=ip, note=f"清除登录失败记录 {cleared} 条")
    return cleared


@transaction.atomic
def user_reset_password(*, user: User, by: Any, ip: str | None = None) -> str:
    """An admin issues a new one-time password."""
    initial = generate_initial_password()
    user.set_password(initial)
    user.must_change_password = True
    user.session_version += 1
    user.save(update_fields=["password", "must_change_password", "session_version"])
    audit_record(action=Action.PASSWORD, actor=by, obj=user, ip=ip, note="管理员重置初始密码")
    return initial


def depth_of(path: str) -> int:
    return path.count("/") - 1


# ---- initial passwords of a users import ------------------------------------------------------------------------
# The job's report holds them in clear (the accounts' hashes are set) until the first download or
# INITIAL_PASSWORD_TTL_HOURS, whichever comes first; then only the login names stay, so that an admin can issue new
# ones to the accounts that have not yet changed theirs.

PASSWORDS = "initial_passwords"
CLEARED = "passwords_cleared"  # {"at": ISO time, "reason": "downloaded" | "expired", "accounts": [login names]}


def _clear_passwords(job: Job, reason: str) -> list[dict[str, str]]:
    report = dict(job.report or {})
    taken = list(report.get(PASSWORDS) or [])
    accounts = sorted({*(item.get("username", "") for item in taken), *(report.get(CLEARED) or {}).get("accounts", [])})
    report[PASSWORDS] = []
    report[CLEARED] = {"at": timezone.now().isoformat(), "reason": reason, "accounts": [a for a in accounts if a]}
    report.pop("passwords_issued_at", None)
    job.report = report
    job.save(update_fields=["report"])
    return taken


@transaction.atomic
def initial_passwords_take(*, job: Job, by: Any, ip: str | None = None) -> list[dict[str, str]]:
    """The first download: the passwords leave the job with it. A second one gets nothing."""
    job = Job.objects.select_for_update().get(pk=job.pk)
    if not (job.report or {}).get(PASSWORDS):
        return []
    taken = _clear_passwords(job, "downloaded")
    audit_record(action=Action.EXPORT, actor=by, obj=job, ip=ip,
                 note=f"下载新账号初始密码表（{len(taken)} 个账号），系统已删除")
    return taken


def _issued_at(job: Job) -> dt.datetime:
    at = (job.report or {}).get("passwords_issued_at")
    return dt.datetime.fromisoformat(at) if at else (job.finished_at or job.created_at)


def initial_passwords_purge(*, now: dt.datetime | None = None) -> int:
    """Clear the passwords nobody downloaded within INITIAL_PASSWORD_TTL_HOURS; the number of jobs cleared.
    Safe to run twice or at once: each job is locked and looked at again before it is cleared."""
    deadline = (now or timezone.now()) - dt.timedelta(hours=settings.INITIAL_PASSWORD_TTL_HOURS)
    cleared = 0
    waiting = [pk for pk, report in Job.objects.filter(kind="users").values_list("pk", "report")
               if (report or {}).get(PASSWORDS)]  # a users import is a rare job: read them all
    for pk in waiting:
        with transaction.atomic():
            job = Job.objects.select_for_update().get(pk=pk)
            passwords = (job.report or {}).get(PASSWORDS)
            if not passwords or _issued_at(job) > deadline:
                continue
            _clear_passwords(job, "expired")
            audit_record(action=Action.UPDATE, obj=job, note=(
                f"新账号初始密码（{len(passwords)} 个）超过 {settings.INITIAL_PASSWORD_TTL_HOURS} 小时未下载，已清除"))
            cleared += 1
    return cleared


@transaction.atomic
def initial_passwords_reissue(*, job: Job, by: Any, ip: str | None = None) -> int:
    """New one-time passwords for the accounts this import created that still wait for their first change; they
    are kept on the job to be downloaded once, like the first ones. The number of accounts."""
    job = Job.objects.select_for_update().get(pk=job.pk)
    report = dict(job.report or {})
    if report.get(PASSWORDS):
        raise ValidationError("初始密码表还没有下载，请先下载，无需重新生成。")
    names = (report.get(CLEARED) or {}).get("accounts", [])
    users = list(User.objects.filter(username__in=names, is_active=True, must_change_password=True).order_by("id"))
    if not users:
        raise ValidationError("本次导入新建的账号都已修改过密码（或已停用），无需重新生成初始密码。")
    issued = []
    for user in users:
        password = generate_initial_password()
        user.set_password(password)
        user.session_version += 1
        issued.append({"username": user.username, "full_name": user.full_name, "password": password})
    User.objects.bulk_update(users, ["password", "session_version"])
    audit_record_many(action=Action.PASSWORD, actor=by, ip=ip, note="管理员重新生成导入账号的初始密码",
                      items=[(u, {}) for u in users])
    report[PASSWORDS] = issued
    report["passwords_issued_at"] = timezone.now().isoformat()
    job.report = report
    job.save(update_fields=["report"])
    audit_record(action=Action.UPDATE, actor=by, obj=job, ip=ip, note=f"重新生成 {len(users)} 个账号的初始密码")
    return len(users)


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
    "user_unlock",
    "initial_passwords_purge",
    "initial_passwords_reissue",
    "initial_passwords_take",
    "user_update",
]
