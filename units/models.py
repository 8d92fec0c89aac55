"""Units (单位) as a materialized-path tree, and the people in them."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.crypto import salted_hmac

if TYPE_CHECKING:
    from collections.abc import Iterable


class Role(models.TextChoices):
    ADMIN = "admin", "系统管理员"
    OFFICE = "office", "作风办"
    LIAISON = "liaison", "联络员"
    LEADER = "leader", "领导"


class RosterKind(models.TextChoices):
    """The two roster files an admin imports (job kinds of `core.jobs`)."""

    UNITS = "units", "单位名册"
    USERS = "users", "人员名册"


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
    # A roster listed the unit without a code (垂直管理、驻县单位 often have none): the code is the system's own,
    # later rosters find the unit by its full name, and the first one that gives a code sets it.
    code_is_internal = models.BooleanField("系统生成编码", default=False)
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
    # Raised to end every session of the account at once (deactivation, a password reset by an admin): the value is
    # part of the hash each session carries, so no session signed in before still verifies, whatever the engine.
    session_version = models.PositiveIntegerField("会话版本", default=0, editable=False)

    objects: ClassVar[AppUserManager] = AppUserManager()

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"
        ordering = ["unit__path", "id"]

    def __str__(self) -> str:
        return self.full_name or self.username

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        if not self.session_version:  # Django's own hash, so sessions from before the first raise stay valid
            return super()._get_session_auth_hash(secret=secret)  # type: ignore[misc]
        value = f"{self.password}:{self.session_version}"
        return salted_hmac("units.User.get_session_auth_hash", value, secret=secret, algorithm="sha256").hexdigest()

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
