"""The ground floor every app stands on: the audit trail and background jobs.

Nothing here knows about units, campaigns or problems; apps register what they need (job kinds, audit labels).
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator
from django.db import models


class AuditTrailIsAppendOnly(Exception):
    """An entry of the audit trail was about to be changed or removed: the trail is only ever added to."""

    def __init__(self, what: str = "修改或删除") -> None:
        super().__init__(f"操作日志只能追加，不能{what}（过期日志由 prune_audit 命令按保留期限清理）。")


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    """Reads and inserts only: `update()` and `delete()` refuse (and so does `bulk_update`, which updates)."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise AuditTrailIsAppendOnly("修改")

    def delete(self) -> NoReturn:
        raise AuditTrailIsAppendOnly("删除")


class AuditEntry(models.Model):
    """Who did what to which object, when, from where, in which request and with what result.

    Written only through `core.audit`, and only added to: saving an existing entry, deleting one and the queryset's
    `update()`/`delete()` all raise `AuditTrailIsAppendOnly`. Entries past the retention period leave through
    `core.audit.audit_prune` alone.
    """

    class Action(models.TextChoices):
        CREATE = "create", "新建"
        UPDATE = "update", "修改"
        DEACTIVATE = "deactivate", "停用"
        ACTIVATE = "activate", "启用"
        DELETE = "delete", "删除"
        IMPORT = "import", "导入"
        EXPORT = "export", "导出"
        TRANSITION = "transition", "流转"
        LOGIN = "login", "登录"
        LOGIN_FAILED = "login_failed", "登录失败"
        LOGOUT = "logout", "退出"
        PASSWORD = "password", "修改密码"
        DOWNLOAD = "download", "下载"
        DENIED = "denied", "拒绝访问"
        UNLOCK = "unlock", "解锁"
        PRUNE = "prune", "清理日志"

    class Result(models.TextChoices):
        SUCCESS = "success", "成功"
        FAILURE = "failure", "失败"
        DENIED = "denied", "拒绝"

    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField("操作人", max_length=150, blank=True)
    action = models.CharField("操作", max_length=20, choices=Action.choices)
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField("对象", max_length=300, blank=True)
    changes = models.JSONField("变更内容", default=dict, blank=True)
    ip = models.GenericIPAddressField("来源地址", null=True, blank=True)
    note = models.TextField("说明", blank=True)
    result = models.CharField("结果", max_length=8, choices=Result.choices, default=Result.SUCCESS)
    # The id of the request that wrote the entry (also sent back in its X-Request-ID header); blank for commands
    # and background tasks.
    request_id = models.CharField("请求编号", max_length=64, blank=True, db_index=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = "操作日志"
        verbose_name_plural = "操作日志"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.get_action_display()} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditTrailIsAppendOnly("修改")
        # Always a whole insert, never an update: a new entry given the id of an existing one fails instead of
        # overwriting it.
        super().save(force_insert=True, using=kwargs.get("using"))

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AuditTrailIsAppendOnly("删除")


# kind → its Chinese name; filled by `core.jobs.register_kind` as apps load.
JOB_KIND_LABELS: dict[str, str] = {}


class Job(models.Model):
    """One piece of background work of a registered kind (an import, a report build, a sweep), with progress.

    Import kinds go uploaded → previewing → previewed → applying → done; other kinds queued → running → done.
    A running job holds a lease that its worker renews; a job whose lease ran out (its worker died) is queued
    again once and then failed with a Chinese message (`core.jobs.job_reap`), never left running for ever.
    """

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "已上传"
        PREVIEWING = "previewing", "预检中"
        PREVIEWED = "previewed", "待确认"
        APPLYING = "applying", "导入中"
        QUEUED = "queued", "排队中"
        RUNNING = "running", "运行中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    RUNNING_STATUSES = (Status.PREVIEWING, Status.APPLYING, Status.RUNNING)

    kind = models.CharField("任务类型", max_length=32)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发起人", null=True, on_delete=models.SET_NULL, related_name="jobs",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.UPLOADED)
    progress = models.PositiveSmallIntegerField("进度（%）", default=0, validators=[MaxValueValidator(100)])
    # The uploaded file (imports) and the file built (reports, exports).
    file = models.FileField("文件", upload_to="imports/%Y/%m/", blank=True)
    original_name = models.CharField("原文件名", max_length=255, blank=True)
    result_file = models.FileField("结果文件", upload_to="jobs/%Y/%m/", blank=True)
    total_rows = models.PositiveIntegerField("行数", default=0)
    # The kind's report (an import's preview, then its result) as JSON.
    report = models.JSONField("结果", default=dict, blank=True)
    error = models.TextField("错误信息", blank=True)
    options = models.JSONField("参数", default=dict, blank=True)
    # What the running step needs to be started again after a crash: the task's name and arguments.
    step = models.JSONField("当前步骤", default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField("执行次数", default=0)
    lease_until = models.DateTimeField("租约到期", null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = "后台任务"
        verbose_name_plural = "后台任务"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["kind", "status"], name="job_kind_status_idx")]

    def __str__(self) -> str:
        return f"{self.kind_label}：{self.original_name or self.pk}"

    @property
    def kind_label(self) -> str:
        return JOB_KIND_LABELS.get(self.kind, self.kind)

    @property
    def is_running(self) -> bool:
        return self.status in self.RUNNING_STATUSES or self.status == self.Status.QUEUED

    @property
    def can_apply(self) -> bool:
        """Only a previewed job whose preview found no error may be confirmed."""
        counts = self.report.get("counts") or {}
        return (
            self.status == self.Status.PREVIEWED
            and not self.report.get("file_errors")
            and not counts.get("error")
            and not self.report.get("conflicts_open")
            and not self.report.get("pending")
            and bool(self.report)
        )


class ImportMapping(models.Model):
    """A column mapping an admin saved for a file layout: offered again for a file with the same headers."""

    kind = models.CharField("文件类型", max_length=32)
    name = models.CharField("名称", max_length=100)
    signature = models.CharField("表头特征", max_length=40, db_index=True)
    headers = models.JSONField("表头", default=list)
    mapping = models.JSONField("列映射", default=dict, help_text="列字母 → 字段（空为不导入）")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="保存人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("保存时间", auto_now_add=True)
    used_at = models.DateTimeField("最近使用", auto_now=True)

    class Meta:
        verbose_name = "列映射"
        verbose_name_plural = "列映射"
        ordering = ["-used_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["kind", "name"], name="unique_import_mapping_name")]

    def __str__(self) -> str:
        return self.name
