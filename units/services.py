"""Every write to units and users goes through here: validated, atomic, audited."""

from __future__ import annotations

import logging
import os
import secrets
import string
from collections.abc import Callable, Collection, Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.module_loading import import_string

from . import tasks
from .audit import Action, audit_record, diff_fields
from .models import ImportJob, Role, Unit, User, UserRole
from .xlsx import XlsxError, count_rows

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
    "IMPORTERS",
    "depth_of",
    "import_job_apply",
    "import_job_create",
    "import_job_forget_passwords",
    "import_job_preview",
    "import_job_run_apply",
    "import_job_run_preview",
    "register_importer",
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


# --------------------------------------------------------------------------------------------------------------
# Import jobs: an uploaded .xlsx goes uploaded → previewing → previewed → applying → done (or failed).
# Small files run inline; files with more than IMPORT_BACKGROUND_ROWS rows run as Celery tasks with progress.

logger = logging.getLogger(__name__)

# kind → (preview, apply), each a callable or its dotted path (resolved when used, so that importers living in
# other apps register without import cycles). Signatures, with the job's `options` as extra keyword arguments:
#   preview(file, *, progress=None, **options) -> report
#   apply(file, *, by, ip=None, deactivate_unit_ids=(), progress=None, **options) -> report
# A report has `ok` (no error found) and `to_json()` (stored as job.report), like units.roster.RosterReport.
Importer = Callable[..., Any] | str
IMPORTERS: dict[str, tuple[Importer, Importer]] = {
    ImportJob.Kind.UNITS: ("units.roster.preview_units", "units.roster.apply_units"),
    ImportJob.Kind.USERS: ("units.roster.preview_users", "units.roster.apply_users"),
}


def register_importer(kind: str, preview: Importer, apply: Importer) -> None:
    """Make `kind` importable through ImportJob (e.g. the ledger import registers "ledger" here)."""
    IMPORTERS[kind] = (preview, apply)


def _importer(kind: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    try:
        preview, apply = IMPORTERS[kind]
    except KeyError:
        raise ValidationError(f"不支持的导入类型：{kind}") from None
    return (
        import_string(preview) if isinstance(preview, str) else preview,
        import_string(apply) if isinstance(apply, str) else apply,
    )


def import_job_create(*, kind: str, upload: Any, by: Any, options: dict[str, Any] | None = None) -> ImportJob:
    """Store an uploaded .xlsx as a new job after the cheap checks (name, size, archive); nothing is read yet."""
    if kind not in IMPORTERS:
        raise ValidationError(f"不支持的导入类型：{kind}")
    name = os.path.basename(str(getattr(upload, "name", "") or ""))
    if not name.lower().endswith(".xlsx"):
        raise ValidationError("只能上传 Excel（.xlsx）文件；.xls 等格式请先在 Excel 或 WPS 中另存为 .xlsx。")
    size = getattr(upload, "size", None)
    limit = settings.XLSX_MAX_UPLOAD_BYTES
    if isinstance(size, int) and size > limit:
        raise ValidationError(f"文件过大：超过 {limit // (1024 * 1024)} MB 的上限，请拆分后分批导入。")
    try:
        total_rows = count_rows(upload)  # also refuses non-xlsx files and zip bombs
    except XlsxError as exc:
        raise ValidationError(exc.message) from exc
    if hasattr(upload, "seek"):
        upload.seek(0)
    job = ImportJob(
        kind=kind, original_name=name[:255], uploaded_by=by if getattr(by, "pk", None) else None,
        options=options or {}, total_rows=total_rows,
    )
    job.file.save(name, upload if isinstance(upload, File) else File(upload, name=name), save=False)
    job.save()
    return job


# Each new account's initial password is hashed with PBKDF2 (about half a second of CPU): more than a few would
# hold the request for too long, so such a users import is confirmed in the background whatever its size.
INLINE_NEW_ACCOUNTS = 10


def _in_background(job: ImportJob) -> bool:
    return job.total_rows > settings.IMPORT_BACKGROUND_ROWS


def _apply_in_background(job: ImportJob) -> bool:
    new_accounts = (job.report.get("counts") or {}).get("new", 0) if job.kind == ImportJob.Kind.USERS else 0
    return _in_background(job) or new_accounts > INLINE_NEW_ACCOUNTS


def import_job_preview(*, job: ImportJob) -> ImportJob:
    """Check the file row by row against the database (writes nothing but the job's report)."""
    claimed = ImportJob.objects.filter(
        pk=job.pk, status__in=[ImportJob.Status.UPLOADED, ImportJob.Status.PREVIEWED, ImportJob.Status.FAILED]
    ).update(status=ImportJob.Status.PREVIEWING, progress=0, error="", report={})
    if claimed:
        if _in_background(job):
            job_id = job.pk
            transaction.on_commit(lambda: tasks.preview_import_job.delay(job_id))
        else:
            import_job_run_preview(job_id=job.pk)
    job.refresh_from_db()
    return job


def import_job_apply(
    *, job: ImportJob, by: Any, ip: str | None = None, deactivate_unit_ids: Collection[int] = ()
) -> ImportJob:
    """Confirm a previewed job. Only from 待确认 with no error; a second confirmation does nothing."""
    job.refresh_from_db()
    if job.status in (ImportJob.Status.APPLYING, ImportJob.Status.DONE):
        return job
    if job.status != ImportJob.Status.PREVIEWED:
        raise ValidationError("只有预检完成的导入任务才能确认导入。")
    if not job.can_apply:
        raise ValidationError("预检发现错误，不能导入；请修改文件后重新上传。")
    # Claim the job: of two confirmations racing, exactly one moves it on.
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PREVIEWED).update(
        status=ImportJob.Status.APPLYING, progress=0
    )
    if claimed:
        ids = sorted({int(i) for i in deactivate_unit_ids})
        by_id = by.pk if getattr(by, "pk", None) else None
        if _apply_in_background(job):
            job_id = job.pk
            transaction.on_commit(lambda: tasks.apply_import_job.delay(job_id, by_id, ip, ids))
        else:
            import_job_run_apply(job_id=job.pk, by_id=by_id, ip=ip, deactivate_unit_ids=ids)
    job.refresh_from_db()
    return job


class _ProgressSaver:
    """Saves a job's progress now and then (every `step` percent), never backwards.

    During the import's transaction, progress written through the same connection would stay invisible to the
    browser until the commit; on PostgreSQL it goes through a separate connection instead.
    """

    def __init__(self, job_id: int, *, step: int = 2) -> None:
        self.job_id = job_id
        self.step = step
        self.last = 0
        self._side: Any = None

    def __call__(self, done: int, total: int) -> None:
        pct = min(99, done * 100 // total) if total > 0 else 0  # 100 is written with the final status
        if pct < self.last + self.step:
            return
        self.last = pct
        if connection.vendor == "postgresql" and connection.in_atomic_block:
            if self._side is None:
                self._side = connections.create_connection(DEFAULT_DB_ALIAS)
            with self._side.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {ImportJob._meta.db_table} SET progress = %s WHERE id = %s AND progress < %s",
                    [pct, self.job_id, pct],
                )
        else:
            ImportJob.objects.filter(pk=self.job_id, progress__lt=pct).update(progress=pct)

    def close(self) -> None:
        if self._side is not None:
            self._side.close()
            self._side = None


def _job_file(job: ImportJob) -> File:
    """The stored upload, named as the admin's file was (the name goes into audit notes)."""
    job.file.open("rb")
    return File(job.file.file, name=job.original_name)


def _fail(job_id: int, message: str) -> None:
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportJob.Status.FAILED, error=message, finished_at=timezone.now()
    )


def import_job_run_preview(*, job_id: int) -> None:
    """The preview itself, for a job already claimed (status 预检中); called inline or by the Celery task."""
    job = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.PREVIEWING).first()
    if job is None:
        return
    saver = _ProgressSaver(job_id)
    try:
        preview, _ = _importer(job.kind)  # inside: a worker without the kind registered fails the job
        upload = _job_file(job)
        with upload:
            report = preview(upload, progress=saver, **job.options)
    except Exception as exc:
        logger.exception("preview of import job %s failed", job_id)
        _fail(job_id, f"预检时发生系统错误（{type(exc).__name__}），请联系技术人员。")
        return
    finally:
        saver.close()
    ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.PREVIEWING).update(
        status=ImportJob.Status.PREVIEWED, progress=100, report=report.to_json()
    )


def import_job_run_apply(
    *, job_id: int, by_id: int | None, ip: str | None = None, deactivate_unit_ids: Collection[int] = ()
) -> None:
    """The import itself, for a job already claimed (status 导入中); called inline or by the Celery task.

    The rows and the job's final status commit together, so a task that runs again after a crash finds the
    job done, or finds nothing written."""
    job = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.APPLYING).first()
    if job is None:
        return
    by = User.objects.filter(pk=by_id).first() if by_id else None
    saver = _ProgressSaver(job_id)
    try:
        _, apply = _importer(job.kind)
        upload = _job_file(job)
        with upload, transaction.atomic():
            report = apply(
                upload, by=by, ip=ip, deactivate_unit_ids=list(deactivate_unit_ids), progress=saver, **job.options
            )
            # With errors nothing was written: back to 待确认 with the new findings (the data changed since the
            # preview); the admin sees them and cannot confirm.
            status = ImportJob.Status.DONE if report.ok else ImportJob.Status.PREVIEWED
            ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.APPLYING).update(
                status=status, progress=100, report=report.to_json(),
                finished_at=timezone.now() if report.ok else None,
            )
    except Exception as exc:
        logger.exception("import job %s failed", job_id)
        _fail(job_id, f"导入时发生系统错误（{type(exc).__name__}），数据未做任何修改，请联系技术人员。")
    finally:
        saver.close()


def import_job_forget_passwords(*, job: ImportJob) -> ImportJob:
    """Drop the new accounts' initial passwords from a finished job once the admin has taken them."""
    if job.report.get("initial_passwords"):
        job.report = {**job.report, "initial_passwords": []}
        job.save(update_fields=["report"])
    return job
