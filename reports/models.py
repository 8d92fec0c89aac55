"""Built reports: one row per build of a period, kept beside the earlier builds (version 1, 2, …)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models

from campaigns.models import Campaign


class ReportKind(models.TextChoices):
    MONTHLY = "monthly", "月调度"
    QUARTERLY = "quarterly", "季通报"
    WEEKLY = "weekly", "周报"
    ADHOC = "adhoc", "临时"


class ReportStatus(models.TextChoices):
    BUILDING = "building", "生成中"
    READY = "ready", "已生成"
    FAILED = "failed", "失败"


class ReportRun(models.Model):
    campaign = models.ForeignKey(
        Campaign, verbose_name="专项行动", on_delete=models.PROTECT, related_name="report_runs"
    )
    kind = models.CharField("报表类型", max_length=16, choices=ReportKind.choices)
    period_label = models.CharField("期间", max_length=16, help_text="如 2022-05")
    period_start = models.DateField("期间开始")
    period_end = models.DateField("期间截止")
    as_of = models.DateField("统计截至", null=True, blank=True, help_text="数据截至哪一天（含当日），默认期间末日")
    version = models.PositiveIntegerField("版本", default=1)
    status = models.CharField("状态", max_length=16, choices=ReportStatus.choices, default=ReportStatus.BUILDING)
    file = models.FileField("文件", upload_to="reports/%Y/", blank=True)
    built_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="生成人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    built_at = models.DateTimeField("生成时间", null=True, blank=True)
    job = models.ForeignKey(
        "core.Job", verbose_name="后台任务", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    error = models.TextField("错误信息", blank=True)
    notes = models.TextField("说明", blank=True, help_text="生成时发现的口径说明，如本期之后才导入的问题")
    # 季通报: the 文号 (作风办〔2026〕5号), handed out once per period and kept by its later versions.
    doc_number = models.CharField("文号", max_length=50, blank=True)
    doc_year = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    doc_seq = models.PositiveIntegerField(null=True, blank=True, editable=False)
    attachment = models.FileField("附表", upload_to="reports/%Y/", blank=True)
    final_file = models.FileField("签发稿", upload_to="reports/final/%Y/", blank=True)
    final_uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    final_uploaded_at = models.DateTimeField("上传时间", null=True, blank=True)
    # A scheduled build is claimed once per campaign, kind and period, however many beats fire.
    schedule_key = models.CharField(max_length=80, null=True, blank=True, unique=True, editable=False)

    class Meta:
        verbose_name = "报表"
        verbose_name_plural = "报表"
        ordering = ["campaign_id", "kind", "-period_label", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "kind", "period_label", "version"],
                                    name="unique_report_run_version"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} {self.get_kind_display()} {self.period_label} 第{self.version}版"

    @property
    def counted_until(self) -> dt.date:
        """The last day the figures count: the as-of day, never past the period's end."""
        return min(self.as_of, self.period_end) if self.as_of else self.period_end
