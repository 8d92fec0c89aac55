"""Background jobs: one engine for every app's long work (imports now; reports and reminders register theirs).

An app registers a kind when it loads:

    register_importer("ledger", "问题台账", preview="ledger.excel.importer.preview_ledger",
                      apply="ledger.excel.importer.apply_ledger")
    register_runner("monthly_report", "月调度", run="reports.services.build_monthly")

Imports go uploaded → previewing → previewed → applying → done (or failed); other kinds queued → running → done.
Small imports run inline, larger ones as Celery tasks with progress. Every run is claimed by a conditional update,
so a second confirmation, a redelivered message or a duplicated beat does nothing; a running job holds a lease
that its progress renews, and `job_reap` queues a job whose worker died once more, then fails it in Chinese.

Signatures, with the job's `options` as extra keyword arguments:
    preview(file, *, progress=None, **options) -> report
    apply(file, *, by, ip=None, progress=None, **options, **params) -> report
    run(job, *, progress=None, **options) -> report
A report has `ok` (no error found) and `to_json()` (stored as job.report), like core.import_report.ImportReport.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from . import tasks
from .models import JOB_KIND_LABELS, Job
from .xlsx import XlsxError, count_rows

logger = logging.getLogger(__name__)
Callback = Callable[..., Any] | str
S = Job.Status

CRASHED = "后台任务中断：处理它的进程意外退出，重试一次后仍未完成。"
CRASHED_APPLY = CRASHED + "导入没有完成，数据未做任何修改；请重新预检后再确认导入。"
CRASHED_PREVIEW = CRASHED + "请重新上传文件。"


@dataclass(frozen=True)
class Kind:
    kind: str
    label: str
    preview: Callback | None = None
    apply: Callback | None = None
    run: Callback | None = None
    background_always: Callable[[Job], bool] | None = None  # e.g. a users import with many new passwords


KINDS: dict[str, Kind] = {}


def register_kind(kind: Kind) -> None:
    KINDS[kind.kind] = kind
    JOB_KIND_LABELS[kind.kind] = kind.label


def register_importer(
    kind: str, label: str, *, preview: Callback, apply: Callback,
    background_always: Callable[[Job], bool] | None = None,
) -> None:
    register_kind(Kind(kind, label, preview=preview, apply=apply, background_always=background_always))


def register_runner(kind: str, label: str, *, run: Callback) -> None:
    register_kind(Kind(kind, label, run=run))


def kind_label(kind: str) -> str:
    return JOB_KIND_LABELS.get(kind, kind)


def _resolve(fn: Callback | None, kind: str, what: str) -> Callable[..., Any]:
    if fn is None:
        raise ValidationError(f"任务类型“{kind_label(kind)}”不支持{what}。")
    return import_string(fn) if isinstance(fn, str) else fn


def _kind(kind: str) -> Kind:
    try:
        return KINDS[kind]
    except KeyError:
        raise ValidationError(f"不支持的任务类型：{kind}") from None


# ---- leases ----------------------------------------------------------------------------------------------------

def _lease() -> dt.datetime:
    return timezone.now() + dt.timedelta(seconds=settings.JOB_LEASE_SECONDS)


def _claim(job_id: int, *, from_statuses: list[str], to: str, step: dict[str, Any], **extra: Any) -> bool:
    """Move a job into a running state, exactly once among racing callers; starts its lease."""
    return bool(
        Job.objects.filter(pk=job_id, status__in=from_statuses).update(
            status=to, progress=0, lease_until=_lease(), attempts=1, step=step, **extra
        )
    )


class ProgressSaver:
    """Saves a job's progress now and then (every `step` percent, never backwards) and renews its lease.

    During an import's transaction, progress written through the same connection would stay invisible to the
    browser (and to the reaper) until the commit; on PostgreSQL it goes through a separate connection instead.
    """

    def __init__(self, job_id: int, *, step: int = 2) -> None:
        self.job_id = job_id
        self.step = step
        self.last = 0
        self.renewed = timezone.now()
        self._side: Any = None

    def __call__(self, done: int, total: int) -> None:
        pct = min(99, done * 100 // total) if total > 0 else 0  # 100 is written with the final status
        renew = (timezone.now() - self.renewed).total_seconds() > settings.JOB_LEASE_SECONDS / 3
        if pct < self.last + self.step and not renew:
            return
        self.last = max(self.last, pct)
        self.renewed = timezone.now()
        lease = _lease()
        if connection.vendor == "postgresql" and connection.in_atomic_block:
            if self._side is None:
                self._side = connections.create_connection(DEFAULT_DB_ALIAS)
            with self._side.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {Job._meta.db_table} SET progress = GREATEST(progress, %s), lease_until = %s "
                    "WHERE id = %s",
                    [self.last, lease, self.job_id],
                )
        else:
            Job.objects.filter(pk=self.job_id, status__in=Job.RUNNING_STATUSES).update(lease_until=lease)
            Job.objects.filter(pk=self.job_id, progress__lt=self.last).update(progress=self.last)

    def close(self) -> None:
        if self._side is not None:
            self._side.close()
            self._side = None


def _fail(job_id: int, message: str) -> None:
    Job.objects.filter(pk=job_id).update(status=S.FAILED, error=message, finished_at=timezone.now(), lease_until=None)


# ---- imports ---------------------------------------------------------------------------------------------------

def job_import_create(*, kind: str, upload: Any, by: Any, options: dict[str, Any] | None = None) -> Job:
    """Store an uploaded .xlsx as a new job after the cheap checks (name, size, archive); nothing is read yet."""
    spec = KINDS.get(kind)
    if spec is None or spec.preview is None:
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
    job = Job(
        kind=kind, original_name=name[:255], owner=by if getattr(by, "pk", None) else None,
        options=options or {}, total_rows=total_rows,
    )
    job.file.save(name, upload if isinstance(upload, File) else File(upload, name=name), save=False)
    job.save()
    return job


def _in_background(job: Job) -> bool:
    return job.total_rows > settings.IMPORT_BACKGROUND_ROWS


def job_preview(*, job: Job) -> Job:
    """Check the file row by row against the database (writes nothing but the job's report)."""
    step = {"task": "preview", "args": [job.pk]}
    claimed = _claim(job.pk, from_statuses=[S.UPLOADED, S.PREVIEWED, S.FAILED], to=S.PREVIEWING, step=step,
                     error="", report={})
    if claimed:
        if _in_background(job):
            job_id = job.pk
            transaction.on_commit(lambda: tasks.preview_job.delay(job_id))
        else:
            job_run_preview(job_id=job.pk)
    job.refresh_from_db()
    return job


def job_repreview(*, job: Job, options: dict[str, Any]) -> Job:
    """Preview a job again with changed options (a column mapping, decisions on the file's words): only before it
    is imported. The options merge into the job's."""
    job.refresh_from_db()
    if job.status not in (S.PREVIEWED, S.FAILED):
        raise ValidationError("只有预检完成、尚未导入的任务才能修改列映射后重新预检。")
    Job.objects.filter(pk=job.pk, status=job.status).update(options={**job.options, **options})
    job.refresh_from_db()
    return job_preview(job=job)


def job_apply(*, job: Job, by: Any, ip: str | None = None, params: dict[str, Any] | None = None) -> Job:
    """Confirm a previewed job. Only from 待确认 with no error; a second confirmation does nothing.

    `params` are the confirmation's own choices (e.g. units to deactivate, conflicts resolved), JSON only."""
    job.refresh_from_db()
    if job.status in (S.APPLYING, S.DONE):
        return job
    if job.status != S.PREVIEWED:
        raise ValidationError("只有预检完成的导入任务才能确认导入。")
    if not job.can_apply:
        raise ValidationError("预检发现错误，不能导入；请修改文件后重新上传。")
    by_id = by.pk if getattr(by, "pk", None) else None
    params = dict(params or {})
    step = {"task": "apply", "args": [job.pk, by_id, ip, params]}
    if _claim(job.pk, from_statuses=[S.PREVIEWED], to=S.APPLYING, step=step):
        spec = _kind(job.kind)
        background = _in_background(job) or bool(spec.background_always and spec.background_always(job))
        if background:
            job_id = job.pk
            transaction.on_commit(lambda: tasks.apply_job.delay(job_id, by_id, ip, params))
        else:
            job_run_apply(job_id=job.pk, by_id=by_id, ip=ip, params=params)
    job.refresh_from_db()
    return job


def _job_file(job: Job) -> File:
    """The stored upload, named as the user's file was (the name goes into audit notes)."""
    job.file.open("rb")
    return File(job.file.file, name=job.original_name)


def job_run_preview(*, job_id: int) -> None:
    """The preview itself, for a job already claimed (预检中); called inline or by the Celery task."""
    job = Job.objects.filter(pk=job_id, status=S.PREVIEWING).first()
    if job is None:
        return
    saver = ProgressSaver(job_id)
    try:
        preview = _resolve(_kind(job.kind).preview, job.kind, "预检")
        upload = _job_file(job)
        with upload:
            report = preview(upload, progress=saver, **job.options)
    except Exception as exc:
        logger.exception("preview of job %s failed", job_id)
        _fail(job_id, f"预检时发生系统错误（{type(exc).__name__}），请联系技术人员。")
        return
    finally:
        saver.close()
    Job.objects.filter(pk=job_id, status=S.PREVIEWING).update(
        status=S.PREVIEWED, progress=100, report=report.to_json(), lease_until=None
    )


_RUN_LOCK_SPACE = 7301  # the first key of the job engine's advisory locks


def _run_lock(job_id: int) -> bool:
    """Hold, until this transaction ends, the right to run this job's apply. Not a row lock on the job: its progress
    and lease are written meanwhile through a second connection. On SQLite the write lock serialises runs anyway."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [_RUN_LOCK_SPACE, job_id])
        return bool(cursor.fetchone()[0])


def job_run_apply(
    *, job_id: int, by_id: int | None, ip: str | None = None, params: dict[str, Any] | None = None
) -> None:
    """The import itself, for a job already claimed (导入中); called inline or by the Celery task.

    The rows and the job's final status commit together, under the job's run lock: a run that starts again after
    a crash finds the job done or nothing written, and a second run beside a live one does nothing."""
    saver = ProgressSaver(job_id)
    try:
        with transaction.atomic():
            if not _run_lock(job_id):
                return  # another worker is running it (a message delivered twice)
            job = Job.objects.filter(pk=job_id, status=S.APPLYING).first()
            if job is None:
                return  # done already
            by = get_user_model().objects.filter(pk=by_id).first() if by_id else None
            apply = _resolve(_kind(job.kind).apply, job.kind, "导入")
            upload = _job_file(job)
            with upload:
                report = apply(upload, by=by, ip=ip, progress=saver, **job.options, **(params or {}))
            # With errors nothing was written: back to 待确认 with the new findings (the data changed since the
            # preview); the user sees them and cannot confirm.
            status = S.DONE if report.ok else S.PREVIEWED
            Job.objects.filter(pk=job_id, status=S.APPLYING).update(
                status=status, progress=100, report=report.to_json(), lease_until=None,
                finished_at=timezone.now() if report.ok else None,
            )
    except Exception as exc:
        logger.exception("job %s failed", job_id)
        _fail(job_id, f"导入时发生系统错误（{type(exc).__name__}），数据未做任何修改，请联系技术人员。")
    finally:
        saver.close()


# ---- other kinds -----------------------------------------------------------------------------------------------

def job_start(*, kind: str, by: Any, options: dict[str, Any] | None = None, inline: bool = False) -> Job:
    """Queue a job of a runner kind (a report build, a sweep); `inline` runs it in this process."""
    spec = _kind(kind)
    _resolve(spec.run, kind, "运行")
    job = Job.objects.create(kind=kind, owner=by if getattr(by, "pk", None) else None, options=options or {},
                             status=S.QUEUED)
    if inline:
        job_run(job_id=job.pk)
    else:
        job_id = job.pk
        transaction.on_commit(lambda: tasks.run_job.delay(job_id))
    job.refresh_from_db()
    return job


def job_run(*, job_id: int) -> None:
    """Run a queued job of a runner kind once; a redelivered message finds it claimed or done and does nothing."""
    if not _claim(job_id, from_statuses=[S.QUEUED], to=S.RUNNING, step={"task": "run", "args": [job_id]}):
        return
    _run_claimed(job_id)


def _run_claimed(job_id: int) -> None:
    job = Job.objects.get(pk=job_id)
    saver = ProgressSaver(job_id)
    try:
        run = _resolve(_kind(job.kind).run, job.kind, "运行")
        report = run(job, progress=saver, **job.options)
        Job.objects.filter(pk=job_id, status=S.RUNNING).update(
            status=S.DONE if getattr(report, "ok", True) else S.FAILED, progress=100, lease_until=None,
            report=report.to_json() if hasattr(report, "to_json") else (report or {}), finished_at=timezone.now(),
        )
    except Exception as exc:
        logger.exception("job %s failed", job_id)
        _fail(job_id, f"后台任务发生系统错误（{type(exc).__name__}），请联系技术人员。")
    finally:
        saver.close()


# ---- crashed workers -------------------------------------------------------------------------------------------

def job_reap(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Jobs whose lease ran out (their worker died): started again once, then failed with a Chinese message.

    Each expired job is taken by a conditional update on its lease, so two reapers never both restart it."""
    now = now or timezone.now()
    expired = Job.objects.filter(status__in=Job.RUNNING_STATUSES, lease_until__lt=now)
    requeued = failed = 0
    for job in expired.only("pk", "status", "attempts", "lease_until", "step"):
        again = Q(pk=job.pk, lease_until=job.lease_until, status=job.status)
        if job.attempts < settings.JOB_MAX_ATTEMPTS and job.step.get("task"):
            if Job.objects.filter(again).update(attempts=F("attempts") + 1, lease_until=_lease()):
                requeued += 1
                _send_again(job.step)
            continue
        message = CRASHED_APPLY if job.status == S.APPLYING else CRASHED_PREVIEW if job.status == S.PREVIEWING \
            else CRASHED
        if Job.objects.filter(again).update(status=S.FAILED, error=message, finished_at=now, lease_until=None):
            failed += 1
    # A queued runner job whose message never reached the broker (its sender died between the commit and the
    # publish) or was lost with a broker: sent again once a lease has passed. Running it claims it from 排队中,
    # so a message that does arrive twice runs it once.
    stale = now - dt.timedelta(seconds=settings.JOB_LEASE_SECONDS)
    resent = 0
    for pk in Job.objects.filter(status=S.QUEUED, created_at__lt=stale, attempts=0).values_list("pk", flat=True):
        if Job.objects.filter(pk=pk, status=S.QUEUED, attempts=0).update(attempts=1):
            resent += 1
            transaction.on_commit(lambda pk=pk: tasks.run_job.delay(pk))  # type: ignore[misc]
    return {"requeued": requeued, "failed": failed, "resent": resent}


def _send_again(step: dict[str, Any]) -> None:
    task = {"preview": tasks.preview_job, "apply": tasks.apply_job}.get(step["task"], tasks.resume_job)
    args = list(step.get("args", []))
    transaction.on_commit(lambda: task.delay(*args))


def job_resume(*, job_id: int) -> None:
    """A runner job started again by the reaper (it is still 运行中, with a fresh lease)."""
    if Job.objects.filter(pk=job_id, status=S.RUNNING).exists():
        _run_claimed(job_id)


def job_forget(*, job: Job, key: str) -> Job:
    """Drop one part of a finished job's report (e.g. initial passwords once taken)."""
    if job.report.get(key):
        job.report = {**job.report, key: []}
        job.save(update_fields=["report"])
    return job


__all__ = [
    "KINDS",
    "Kind",
    "ProgressSaver",
    "job_apply",
    "job_forget",
    "job_import_create",
    "job_preview",
    "job_reap",
    "job_resume",
    "job_run",
    "job_run_apply",
    "job_run_preview",
    "job_start",
    "kind_label",
    "register_importer",
    "register_kind",
    "register_runner",
]
