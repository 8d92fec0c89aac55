"""Supervision (督办): the daily sweep's record, the levels problems have reached, and 督办单 issued by hand."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ledger.models import Problem
from notifications.models import Level


class SweepStatus(models.TextChoices):
    RUNNING = "running", "运行中"
    DONE = "done", "已完成"
    SKIPPED = "skipped", "非工作日，未发送"
    FAILED = "failed", "失败"


class Sweep(models.Model):
    """One day's sweep. Run again the same day (a second beat, a retry, a person), it plans the same effects,
    whose unique keys let nothing through twice; this row only records when and what it found."""

    day = models.DateField("日期", unique=True)
    status = models.CharField("状态", max_length=16, choices=SweepStatus.choices, default=SweepStatus.RUNNING)
    runs = models.PositiveSmallIntegerField("运行次数", default=0)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    # {"levels": {"催办": 12, ...}, "effects": n, "new_effects": n, "deliveries": n, "listed": n}
    counts = models.JSONField("统计", default=dict, blank=True)
    error = models.TextField("错误信息", blank=True)

    class Meta:
        verbose_name = "每日督办巡查"
        verbose_name_plural = "每日督办巡查"
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"{self.day} {self.get_status_display()}"


class Escalation(models.Model):
    """The first day a problem reached a level (催办, 督办, 挂牌督办): the escalation history, one row per level."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="escalations")
    level = models.PositiveSmallIntegerField("级别", choices=Level.choices)
    reached_on = models.DateField("达到日期")
    overdue_days = models.IntegerField("逾期天数", default=0)

    class Meta:
        verbose_name = "督办升级记录"
        verbose_name_plural = "督办升级记录"
        ordering = ["problem_id", "level"]
        constraints = [models.UniqueConstraint(fields=["problem", "level"], name="unique_escalation_level")]

    def __str__(self) -> str:
        return f"{self.problem_id} {self.get_level_display()} {self.reached_on}"


class OrderLevel(models.IntegerChoices):
    URGE = Level.URGE, "催办"
    SUPERVISE = Level.SUPERVISE, "督办"
    LISTED = Level.LISTED, "挂牌督办"


ORDER_TITLES = {OrderLevel.URGE: "督办通知单", OrderLevel.SUPERVISE: "督办单", OrderLevel.LISTED: "挂牌督办通知书"}


class OrderStatus(models.TextChoices):
    OPEN = "open", "待回复"
    REPLIED = "replied", "已回复"
    WITHDRAWN = "withdrawn", "已撤销"


class SupervisionOrder(models.Model):
    """督办单: issued by the office on a problem, numbered 督办〔2026〕3号 per year, answered by the lead unit."""

    problem = models.ForeignKey(Problem, verbose_name="问题", on_delete=models.PROTECT, related_name="orders")
    year = models.PositiveSmallIntegerField("年度")
    seq = models.PositiveIntegerField("序号")
    level = models.PositiveSmallIntegerField("督办级别", choices=OrderLevel.choices, default=OrderLevel.SUPERVISE)
    requirements = models.TextField("督办要求")
    reply_deadline = models.DateField("回复期限")
    status = models.CharField("状态", max_length=16, choices=OrderStatus.choices, default=OrderStatus.OPEN)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="签发人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    issued_at = models.DateTimeField("签发时间")
    reply = models.TextField("回复内容", blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="回复人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    replied_at = models.DateTimeField("回复时间", null=True, blank=True)

    class Meta:
        verbose_name = "督办单"
        verbose_name_plural = "督办单"
        ordering = ["-year", "-seq"]
        constraints = [models.UniqueConstraint(fields=["year", "seq"], name="unique_order_number")]
        indexes = [models.Index(fields=["status", "reply_deadline"], name="order_status_deadline_idx")]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"{settings.SUPERVISION_ORDER_PREFIX}〔{self.year}〕{self.seq}号"

    @property
    def title(self) -> str:
        return ORDER_TITLES.get(OrderLevel(self.level), "督办单")
