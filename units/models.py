"""Units (单位) as a materialized-path tree, the people in them, and the audit trail."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    from collections.abc import Iterable


class Role(models.TextChoices):
    ADMIN = "admin", "系统管理员"
    OFFICE = "office", "作风办"
    LIAISON = "liaison", "联络员"
    LEADER = "leader", "领导"


class UnitKind(models.TextChoices):
    PARTY = "party", "党委部门"
    GOVERNMENT = "government", "政府部门"
    TOWNSHIP = "township", "乡镇街道"
    INSTITUTION = "institution", "事业单位"
    STATE_ENTERPRISE = "state_enterprise", "国有企业"
    MASS_ORGANIZATION = "mass_organization", "群团组织"
    OTHER = "other", "其他"


def paths_q(field: str, paths: Iterable[str]) -> Q:
    """A Q matching rows whose `field` (a unit path) lies in any of the given subtrees."""
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(**{f"{field}__startswith": p})
    return q


def minimal_paths(paths: Iterable[str]) -> list[str]:
    """Drop paths already covered by an ancestor path in the same list."""
    result: list[str] = []
    for p in sorted(set(paths), key=len):
        if not any(p.startswith(kept) for kept in result):
            result.append(p)
    return result


class UnitQuerySet(models.QuerySet["Unit"]):
    def active(self) -> UnitQuerySet:
        return self.filter(is_active=True)

    def subtree_of(self, unit: Unit) -> UnitQuerySet:
        """The unit and all its descendants: one query on the path prefix."""
        return self.filter(path__startswith=unit.path)

    def visible_to(self, user: Any) -> UnitQuerySet:
        paths = scope_paths(user)
        if paths is None:
            return self.all()
        return self.filter(paths_q("path", paths))


class Unit(models.Model):
    code = models.CharField("单位编码", max_length=64, unique=True)
    name = models.CharField("单位名称", max_length=200, db_index=True)
    short_name = models.CharField("单位简称", max_length=100, blank=True)
    kind = models.CharField("单位类型", max_length=32, choices=UnitKind.choices, default=UnitKind.OTHER)
    kind_label = models.CharField("名册中的类型", max_length=50, blank=True, help_text="名册原文，如“县委工作机关”")
    parent = models.ForeignKey(
        "self", verbose_name="上级单位", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # Materialized path of primary keys, e.g. "1/17/203/"; a subtree is one prefix query.
    path = models.CharField(max_length=1000, editable=False, default="")
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    sort_order = models.IntegerField("排序号", default=0)
    is_active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UnitQuerySet.as_manager()

    class Meta:
        verbose_name = "单位"
        verbose_name_plural = "单位"
        ordering = ["path"]
        indexes = [models.Index(fields=["path"], name="unit_path_idx", opclasses=["varchar_pattern_ops"])]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return self.short_name or self.name

    def is_descendant_of(self, other: Unit) -> bool:
        return self.path.startswith(other.path)

    def ancestor_ids(self) -> list[int]:
        return [int(x) for x in self.path.strip("/").split("/") if x]


class UserQuerySet(models.QuerySet["User"]):
    def with_role(self, role: str) -> UserQuerySet:
        return self.filter(role_grants__role=role)

    def visible_to(self, user: Any) -> UserQuerySet:
        paths = scope_paths(user)
        if paths is None:
            return self.all()
        return self.filter(paths_q("unit__path", paths))


class AppUserManager(UserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    pass


class User(AbstractUser):
    full_name = models.CharField("姓名", max_length=50, blank=True)
    phone = models.CharField("手机号", max_length=20, blank=True, db_index=True)
    unit = models.ForeignKey(
        Unit, verbose_name="所属单位", null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    overseen_units = models.ManyToManyField(Unit, verbose_name="分管单位", blank=True, related_name="overseers")
    must_change_password = models.BooleanField("首次登录须改密码", default=False)

    objects: ClassVar[AppUserManager] = AppUserManager()

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"
        ordering = ["unit__path", "id"]

    def __str__(self) -> str:
        return self.full_name or self.username

    @cached_property
    def role_codes(self) -> frozenset[str]:
        if not self.pk:
            return frozenset()
        return frozenset(self.role_grants.values_list("role", flat=True))

    def has_role(self, *roles: str) -> bool:
        return self.is_superuser and Role.ADMIN in roles or bool(self.role_codes.intersection(roles))

    @property
    def role_labels(self) -> list[str]:
        return [Role(r).label for r in Role.values if r in self.role_codes]

    @property
    def is_admin(self) -> bool:
        return self.is_superuser or Role.ADMIN in self.role_codes

    @property
    def is_office(self) -> bool:
        return Role.OFFICE in self.role_codes

    @property
    def sees_everything(self) -> bool:
        return self.is_admin or self.is_office


class UserRole(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField("角色", max_length=16, choices=Role.choices)

    class Meta:
        verbose_name = "用户角色"
        verbose_name_plural = "用户角色"
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="unique_user_role")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"


def scope_paths(user: Any) -> list[str] | None:
    """The unit subtrees a user may see: None means everything (admin, office); [] means nothing.

    This is the one place data scope is decided; every `visible_to` in the project calls it.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    if user.sees_everything:
        return None
    paths: list[str] = []
    if user.unit_id and user.has_role(Role.LIAISON, Role.LEADER):
        paths.append(user.unit.path)
    if user.has_role(Role.LEADER):
        paths.extend(user.overseen_units.values_list("path", flat=True))
    return minimal_paths(paths)


class AuditEntry(models.Model):
    """Who did what to which object, when and from where. Written only through `units.audit`."""

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

    class Meta:
        verbose_name = "操作日志"
        verbose_name_plural = "操作日志"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.get_action_display()} {self.object_repr}"


class ImportJob(models.Model):
    """One uploaded Excel file on its way in: uploaded → previewed (row by row) → applied, all or nothing."""

    class Kind(models.TextChoices):
        UNITS = "units", "单位名册"
        USERS = "users", "人员名册"
        LEDGER = "ledger", "问题台账"

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "已上传"
        PREVIEWING = "previewing", "预检中"
        PREVIEWED = "previewed", "待确认"
        APPLYING = "applying", "导入中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    kind = models.CharField("导入类型", max_length=16, choices=Kind.choices)
    file = models.FileField("文件", upload_to="imports/%Y/%m/")
    original_name = models.CharField("原文件名", max_length=255)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", null=True, on_delete=models.SET_NULL,
        related_name="import_jobs",
    )
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.UPLOADED)
    progress = models.PositiveSmallIntegerField("进度（%）", default=0, validators=[MaxValueValidator(100)])
    total_rows = models.PositiveIntegerField("行数", default=0)
    # RosterReport.to_json() (or the ledger's equivalent): the preview, then the result of the import.
    report = models.JSONField("预检与导入结果", default=dict, blank=True)
    error = models.TextField("错误信息", blank=True)
    options = models.JSONField("导入参数", default=dict, blank=True)

    class Meta:
        verbose_name = "导入任务"
        verbose_name_plural = "导入任务"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.original_name}"

    @property
    def is_running(self) -> bool:
        return self.status in (self.Status.PREVIEWING, self.Status.APPLYING)

    @property
    def can_apply(self) -> bool:
        """Only a previewed job whose preview found no error may be confirmed."""
        counts = self.report.get("counts") or {}
        return (
            self.status == self.Status.PREVIEWED
            and not self.report.get("file_errors")
            and not counts.get("error")
            and bool(self.report)
        )
