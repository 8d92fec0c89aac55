"""The 问题台账: problems, measures, progress with evidence, transitions, review rounds, look-back checks.

`status` fields are written only by `ledger.workflow`.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef
from django.utils import timezone

from campaigns.models import Campaign, Category, Source
from core.filetypes import INLINE_MIME_TYPES
from units.models import Unit, paths_q, scope_paths


class ProblemStatus(models.TextChoices):
    DRAFT = "draft", "待分派"
    IN_PROGRESS = "in_progress", "整改中"
    PENDING_REVIEW = "pending_review", "待核查"
    CLOSED = "closed", "已销号"
    VOIDED = "voided", "已作废"


OPEN_STATUSES = (ProblemStatus.DRAFT, ProblemStatus.IN_PROGRESS, ProblemStatus.PENDING_REVIEW)


class RectificationType(models.TextChoices):
    IMMEDIATE = "immediate", "立行立改"
    TIME_LIMITED = "time_limited", "限期整改"
    LONG_TERM = "long_term", "长期坚持"


class MeasureStatus(models.TextChoices):
    NOT_STARTED = "not_started", "未启动"
    IN_PROGRESS = "in_progress", "推进中"
    DONE = "done", "已完成"


class Light(models.TextChoices):
    RED = "red", "逾期"
    YELLOW = "yellow", "临期"
    GREEN = "green", "正常"
    NONE = "none", "—"


class Exemplar(models.TextChoices):
    """典型案例 for the 通报: a problem the office names as a positive or a negative example."""

    NONE = "", "无"
    POSITIVE = "positive", "正面"
    NEGATIVE = "negative", "反面"


class AccountabilityForm(models.TextChoices):
    """追责问责的方式, from the lightest."""

    REMINDER = "reminder", "提醒谈话"
    CRITICISM = "criticism", "批评教育"
    SELF_EXAMINATION = "self_examination", "责令检查"
    ADMONITION = "admonition", "诫勉"
    CIRCULATED = "circulated", "通报批评"
    ORGANIZATIONAL = "organizational", "组织处理"
    DISCIPLINARY = "disciplinary", "党纪政务处分"


class ProblemQuerySet(models.QuerySet["Problem"]):
    def visible_to(self, user: Any) -> ProblemQuerySet:
        """Office and admin: everything. Others: problems whose lead unit, a co-unit or a measure's unit lies in
        their subtrees; drafts (not yet assigned) stay with the office."""
        paths = scope_paths(user)
        if paths is None:
            return self.all()
        if not paths:
            return self.none()
        co = Problem.co_units.through.objects.filter(problem=OuterRef("pk")).filter(paths_q("unit__path", paths))
        meas = Measure.objects.filter(problem=OuterRef("pk")).filter(paths_q("unit__path", paths))
        return self.exclude(status=ProblemStatus.DRAFT).filter(
            paths_q("lead_unit__path", paths) | Exists(co) | Exists(meas)
        )

    def open(self) -> ProblemQuerySet:
        return self.filter(status__in=OPEN_STATUSES)


class Problem(models.Model):
    campaign = models.ForeignKey(Campaign, verbose_name="专项行动", on_delete=models.PROTECT, related_name="problems")
    seq = models.PositiveIntegerField("序号")
    number = models.CharField("编号", max_length=48, unique=True)
    # The office's own number from the ledger it kept (XC-2025-01-001): kept beside ours, searchable, exported, and
    # what a re-imported row is matched by.
    source_number = models.CharField("原编号", max_length=64, blank=True, db_index=True)
    summary = models.CharField("问题概述", max_length=300)
    description = models.TextField("具体表现", blank=True)
    source = models.ForeignKey(Source, verbose_name="问题来源", null=True, blank=True, on_delete=models.PROTECT)
    category = models.ForeignKey(Category, verbose_name="问题类别", null=True, blank=True, on_delete=models.PROTECT)
    discovered_on = models.DateField("发现日期", null=True, blank=True)
    found_by = models.ForeignKey(
        Unit, verbose_name="发现单位", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lead_unit = models.ForeignKey(
        Unit, verbose_name="牵头单位", null=True, blank=True, on_delete=models.PROTECT, related_name="led_problems"
    )
    co_units = models.ManyToManyField(Unit, verbose_name="配合单位", blank=True, related_name="co_problems")
    responsible_leader = models.CharField("责任领导", max_length=100, blank=True)
    responsible_person = models.CharField("责任人", max_length=100, blank=True)
    rectification_type = models.CharField(
        "整改类型", max_length=16, choices=RectificationType.choices, default=RectificationType.TIME_LIMITED
    )
    deadline = models.DateField("整改时限", null=True, blank=True, help_text="长期坚持的问题可不填")
    status = models.CharField(
        "状态", max_length=16, choices=ProblemStatus.choices, default=ProblemStatus.DRAFT, editable=False
    )
    # 阶段性销号: a long-term problem signed off for its current stage; it stays 长期坚持 in reports.
    stage_closed = models.BooleanField("阶段性销号", default=False, editable=False)
    closed_at = models.DateTimeField("销号时间", null=True, blank=True, editable=False)
    # 挂牌督办: set by the sweep when a problem is overdue past the campaign's threshold, or by the office by hand
    # (`workflow.set_listed`); named in the next 季通报.
    listed = models.BooleanField("挂牌督办", default=False, editable=False)
    listed_at = models.DateTimeField("挂牌时间", null=True, blank=True, editable=False)
    listed_reason = models.CharField("挂牌说明", max_length=300, blank=True, editable=False)
    # 典型案例: set by the office (`workflow.set_exemplar`), named in the 通报 with its note.
    exemplar = models.CharField("典型案例", max_length=16, choices=Exemplar.choices, default=Exemplar.NONE,
                                blank=True, editable=False)
    exemplar_note = models.CharField("典型案例说明", max_length=300, blank=True, editable=False)
    # Moves on with every change to the problem, its measures or its progress (`workflow.touch`); a ledger export
    # records it per row, so a re-imported row can be told stale.
    version = models.PositiveIntegerField("版本", default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("录入时间", auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProblemQuerySet.as_manager()

    class Meta:
        verbose_name = "问题"
        verbose_name_plural = "问题"
        ordering = ["campaign_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["campaign", "seq"], name="unique_problem_seq")]
        indexes = [
            models.Index(fields=["status", "deadline"], name="problem_status_deadline_idx"),
            models.Index(fields=["lead_unit", "status"], name="problem_unit_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.summary}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class Measure(models.Model):
    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="measures")
    seq = models.PositiveSmallIntegerField("序号", default=1)
    content = models.TextField("整改措施")
    unit = models.ForeignKey(Unit, verbose_name="责任单位", on_delete=models.PROTECT, related_name="measures")
    responsible_person = models.CharField("责任人", max_length=100, blank=True)
    deadline = models.DateField("完成时限", null=True, blank=True)
    is_long_term = models.BooleanField("长期坚持", default=False)
    status = models.CharField(
        "状态", max_length=16, choices=MeasureStatus.choices, default=MeasureStatus.NOT_STARTED, editable=False
    )
    completed_on = models.DateField("完成日期", null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "整改措施"
        verbose_name_plural = "整改措施"
        ordering = ["problem_id", "seq", "id"]
        indexes = [models.Index(fields=["status", "deadline"], name="measure_status_deadline_idx")]

    def __str__(self) -> str:
        return self.content[:60]


class ProgressEntry(models.Model):
    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="progress_entries")
    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="progress_entries")
    on = models.DateField("日期")
    text = models.TextField("整改进展")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "整改进展"
        verbose_name_plural = "整改进展"
        ordering = ["-on", "-id"]

    def __str__(self) -> str:
        return f"{self.on} {self.text[:40]}"


def evidence_upload_to(instance: Evidence, filename: str) -> str:
    """A random stored name: uploaded names can be longer than the file system allows (and are kept in
    `original_name` for the download)."""
    today = timezone.localdate()
    ext = os.path.splitext(filename)[1].lower()[:10]
    return f"evidence/{today:%Y/%m}/{instance.problem_id}/{uuid.uuid4().hex}{ext}"


class CurrentEvidenceManager(models.Manager["Evidence"]):
    """The 佐证材料 that count: every count, list and link starts here, so a removed file drops out of all of them.
    `Evidence.all_objects` still has the removed ones (the audit trail, the office's download)."""

    def get_queryset(self) -> models.QuerySet[Evidence]:
        return super().get_queryset().filter(removed_at__isnull=True)


class Evidence(models.Model):
    """佐证材料. Stored outside any public URL; downloaded only through a scoped view. `content_type` is the type
    the content was found to be on upload, never the one the browser sent. A wrong file is removed softly
    (`removed_at`): kept for the audit trail, counted nowhere."""

    progress = models.ForeignKey(ProgressEntry, on_delete=models.CASCADE, related_name="evidence")
    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to=evidence_upload_to, max_length=300)
    original_name = models.CharField("文件名", max_length=255)
    size = models.PositiveIntegerField("大小")
    content_type = models.CharField("文件类型", max_length=100, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField("删除时间", null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="删除人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    removal_reason = models.CharField("删除原因", max_length=200, blank=True)

    all_objects = models.Manager()  # removed files too (the default manager stays `objects`, see Meta)
    objects = CurrentEvidenceManager()

    class Meta:
        verbose_name = "佐证材料"
        verbose_name_plural = "佐证材料"
        ordering = ["id"]
        default_manager_name = "objects"

    def __str__(self) -> str:
        return self.original_name

    @property
    def viewable_inline(self) -> bool:
        """An image the browser may show (under the download's sandbox policy) rather than only download."""
        return self.content_type in INLINE_MIME_TYPES


class TransitionAction(models.TextChoices):
    CREATE = "create", "录入"
    IMPORT = "import", "台账导入"
    ASSIGN = "assign", "分派"
    APPLY = "apply", "申请销号"
    APPROVE = "approve", "核查通过"
    STAGE_APPROVE = "stage_approve", "阶段性销号"
    RETURN = "return", "退回"
    REOPEN = "reopen", "重新打开"
    VOID = "void", "作废"


class Transition(models.Model):
    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="transitions")
    action = models.CharField("操作", max_length=16, choices=TransitionAction.choices)
    from_status = models.CharField("原状态", max_length=16, choices=ProblemStatus.choices, blank=True)
    to_status = models.CharField("新状态", max_length=16, choices=ProblemStatus.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField("时间", db_index=True)
    reason = models.TextField("说明", blank=True)

    class Meta:
        verbose_name = "流转记录"
        verbose_name_plural = "流转记录"
        ordering = ["at", "id"]
        # A problem's state at a moment is its last transition by then (the report figures ask it of every problem).
        indexes = [models.Index(fields=["problem", "at", "id"], name="transition_problem_at_idx")]

    def __str__(self) -> str:
        return f"{self.problem_id} {self.get_action_display()} {self.at:%Y-%m-%d %H:%M}"


class ReviewDecision(models.TextChoices):
    PENDING = "pending", "待核查"
    APPROVED = "approved", "通过"
    STAGE_APPROVED = "stage_approved", "阶段性销号"
    RETURNED = "returned", "退回"
    VOIDED = "voided", "问题已作废"


class ReviewRound(models.Model):
    """One application for sign-off and the office's verdict on it."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="review_rounds")
    round_no = models.PositiveSmallIntegerField("轮次")
    summary = models.TextField("整改情况")
    evidence_count = models.PositiveIntegerField("佐证材料数", default=0)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    applied_at = models.DateTimeField("申请时间")
    decision = models.CharField(
        "核查结果", max_length=16, choices=ReviewDecision.choices, default=ReviewDecision.PENDING
    )
    opinion = models.TextField("核查意见", blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField("核查时间", null=True, blank=True)
    # 整改成效 the unit reports with its application: the 制度 made (one name a line) and the funds recovered.
    rules_made = models.TextField("建章立制", blank=True)
    funds_recovered = models.DecimalField("挽回经济损失（元）", max_digits=14, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = "核查轮次"
        verbose_name_plural = "核查轮次"
        ordering = ["problem_id", "round_no"]
        constraints = [models.UniqueConstraint(fields=["problem", "round_no"], name="unique_review_round")]

    def __str__(self) -> str:
        return f"{self.problem_id} 第{self.round_no}轮"


class LookbackResult(models.TextChoices):
    PENDING = "pending", "待检查"
    CONSOLIDATED = "consolidated", "巩固"
    RELAPSED = "relapsed", "反弹"


class LookbackCheck(models.Model):
    """回头看: a closed problem drawn into a sample and checked again."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="lookbacks")
    batch = models.CharField("抽查批次", max_length=100)
    method = models.CharField("抽取方式", max_length=100, blank=True)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    drawn_at = models.DateTimeField("抽取时间", auto_now_add=True)
    result = models.CharField("检查结果", max_length=16, choices=LookbackResult.choices, default=LookbackResult.PENDING)
    finding = models.TextField("检查情况", blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_at = models.DateTimeField("检查时间", null=True, blank=True)
    reopen_transition = models.OneToOneField(
        Transition, null=True, blank=True, on_delete=models.SET_NULL, related_name="lookback"
    )

    class Meta:
        verbose_name = "回头看检查"
        verbose_name_plural = "回头看检查"
        ordering = ["-drawn_at", "id"]

    def __str__(self) -> str:
        return f"{self.batch} {self.problem_id}"


class Accountability(models.Model):
    """追责问责: who was held to account for a problem, in which form, decided when and by whom. Entered by the
    office (`services.accountability_add`); counted in the 通报."""

    problem = models.ForeignKey(Problem, verbose_name="问题", on_delete=models.CASCADE, related_name="accountabilities")
    unit = models.ForeignKey(Unit, verbose_name="所在单位", on_delete=models.PROTECT, related_name="+")
    person = models.CharField("被问责人", max_length=50)
    post = models.CharField("职务", max_length=100)
    form = models.CharField("问责方式", max_length=20, choices=AccountabilityForm.choices)
    decided_on = models.DateField("决定日期")
    decided_by = models.CharField("决定机关", max_length=100)
    note = models.TextField("备注", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "追责问责"
        verbose_name_plural = "追责问责"
        ordering = ["problem_id", "decided_on", "id"]

    def __str__(self) -> str:
        return f"{self.person}（{self.post}）{self.get_form_display()}"


class ProblemFacts(models.Model):
    """A problem's deadline, lead unit and category as they stood from `since` until the next row: what reports read
    "as of a period's end". Written by `ledger.history.record_facts` at creation and at every change of them."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="facts")
    since = models.DateTimeField("起始时间")
    deadline = models.DateField("整改时限", null=True, blank=True)
    lead_unit = models.ForeignKey(Unit, verbose_name="牵头单位", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    category = models.ForeignKey(Category, verbose_name="问题类别", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")

    class Meta:
        verbose_name = "问题要素变化"
        verbose_name_plural = "问题要素变化"
        ordering = ["problem_id", "since", "id"]
        indexes = [models.Index(fields=["problem", "since"], name="problemfacts_problem_since_idx")]

    def __str__(self) -> str:
        return f"{self.problem_id} {self.since:%Y-%m-%d %H:%M}"
