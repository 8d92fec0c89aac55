"""Campaigns (专项行动): phases, policy, the category catalogue, the problem sources, working-day overrides."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from units.models import Unit

DEFAULT_SOURCES = ("自查自纠", "上级通报", "督查反馈", "巡视巡察", "审计监督", "明察暗访", "群众反映", "其他")


class CampaignStatus(models.TextChoices):
    PREPARING = "preparing", "筹备"
    ACTIVE = "active", "进行中"
    ENDED = "ended", "已结束"


class DeadlineMode(models.TextChoices):
    CALENDAR = "calendar", "自然日"
    WORKING = "working", "工作日"


class PhaseKind(models.TextChoices):
    INVESTIGATION = "investigation", "集中排查"
    RECTIFICATION = "rectification", "集中整改"
    DYNAMIC = "dynamic", "动态整改"
    LOOKBACK = "lookback", "回头看"


class CampaignQuerySet(models.QuerySet["Campaign"]):
    def visible_to(self, user: object) -> CampaignQuerySet:
        """Campaigns are county-wide: every user with a role may see their names."""
        if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
            return self.none()
        return self.all() if user.role_codes or user.is_superuser else self.none()  # type: ignore[attr-defined]


class Campaign(models.Model):
    name = models.CharField("名称", max_length=200)
    code = models.CharField("编号", max_length=32, unique=True, help_text="用于生成问题编号，如 ZF2022")
    description = models.TextField("说明", blank=True)
    jurisdiction = models.ManyToManyField(Unit, verbose_name="覆盖范围", blank=True, related_name="campaigns")
    start_date = models.DateField("开始日期", null=True, blank=True)
    end_date = models.DateField("结束日期", null=True, blank=True)
    status = models.CharField("状态", max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.PREPARING)
    # Policy
    yellow_window_days = models.PositiveSmallIntegerField("临期提醒天数", default=7)
    urge_after_days = models.PositiveSmallIntegerField("逾期转催办天数", default=1)
    supervise_after_days = models.PositiveSmallIntegerField("逾期转督办天数", default=7)
    listed_after_days = models.PositiveSmallIntegerField("逾期转挂牌督办天数", default=30)
    deadline_mode = models.CharField(
        "期限计算方式", max_length=16, choices=DeadlineMode.choices, default=DeadlineMode.CALENDAR
    )
    report_stale_days = models.PositiveSmallIntegerField(
        "催报天数", default=14, help_text="推进中的措施连续多少天未填报进展时，提醒责任单位填报"
    )
    order_reply_days = models.PositiveSmallIntegerField("督办单回复期限天数", default=5)
    robot = models.ForeignKey(
        "notifications.Robot", verbose_name="工作群机器人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="campaigns", help_text="每日巡查后向专项行动工作群推送一条汇总",
    )
    monthly_report_day = models.PositiveSmallIntegerField("月调度日", default=25)
    # Reports
    report_unit_depth = models.PositiveSmallIntegerField(
        "报表统计层级", default=1,
        help_text="报表中每一行统计单位所在的层级：1 为覆盖范围的直接下级（县直部门、乡镇街道）",
    )
    report_units = models.ManyToManyField(
        Unit, verbose_name="报表统计单位", blank=True, related_name="+",
        help_text="报表中逐行统计的单位（各自汇总其全部下级）；不选时按报表统计层级取覆盖范围下的单位",
    )
    honour_list_size = models.PositiveSmallIntegerField("红榜名次数", default=5)
    black_list_size = models.PositiveSmallIntegerField("黑榜名次数", default=3)
    bulletin_agency = models.CharField(
        "通报发文机关代字", max_length=20, default="作风办",
        help_text="季通报文号的机关代字，如“作风办〔2026〕5号”中的“作风办”",
    )
    bulletin_requirements = models.TextField(
        "下步工作要求", blank=True, help_text="季通报“五、下步工作要求”的内容；每段一行"
    )
    reopen_days = models.PositiveSmallIntegerField(
        "重新整改期限天数", default=15, help_text="问题重新打开（回头看反弹）时，新的整改时限默认为今天起的天数"
    )
    # Numbering: the last sequence number handed out; claimed under a row lock.
    last_problem_seq = models.PositiveIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        verbose_name = "专项行动"
        verbose_name_plural = "专项行动"
        ordering = ["-start_date", "-id"]

    def __str__(self) -> str:
        return self.name


class Phase(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="phases")
    kind = models.CharField("阶段", max_length=16, choices=PhaseKind.choices)
    name = models.CharField("名称", max_length=100, blank=True)
    start_date = models.DateField("开始日期", null=True, blank=True)
    deadline = models.DateField("截止日期", null=True, blank=True)
    note = models.CharField("要求", max_length=300, blank=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = "阶段"
        verbose_name_plural = "阶段"
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.name or self.get_kind_display()


class Category(models.Model):
    """One node of the campaign's 问题表现清单: a small tree (方面 → 具体表现)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="categories")
    code = models.CharField("类别编码", max_length=32)
    name = models.CharField("类别名称", max_length=200)
    parent = models.ForeignKey(
        "self", verbose_name="上级类别", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    sort_order = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "问题类别"
        verbose_name_plural = "问题类别"
        ordering = ["sort_order", "code"]
        constraints = [models.UniqueConstraint(fields=["campaign", "code"], name="unique_category_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Source(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="sources")
    name = models.CharField("问题来源", max_length=50)
    sort_order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField("启用", default=True)
    # Other words offices write for this source (县委巡察 for 巡视巡察), learnt when an import maps a word to it.
    aliases = models.JSONField("其他写法", default=list, blank=True)

    class Meta:
        verbose_name = "问题来源"
        verbose_name_plural = "问题来源"
        ordering = ["sort_order", "id"]
        constraints = [models.UniqueConstraint(fields=["campaign", "name"], name="unique_source_name")]

    def __str__(self) -> str:
        return self.name


class CalendarOverride(models.Model):
    """A day whose working status the holiday package does not know (a new year) or gets wrong."""

    date = models.DateField("日期", unique=True)
    is_workday = models.BooleanField("是否工作日")
    note = models.CharField("说明", max_length=100, blank=True, help_text="如：春节、国庆调休上班")

    class Meta:
        verbose_name = "节假日调整"
        verbose_name_plural = "节假日调整"
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'上班' if self.is_workday else '休息'} {self.note}"
