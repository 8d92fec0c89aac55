"""Forms for the ledger's pages. They validate input and offer only choices in the user's scope; saving is the
services' and the workflow's business (`ledger.services`, `ledger.workflow`, `ledger.lookback`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import Q
from django.utils import timezone

from campaigns.models import Campaign, CampaignStatus, Category, Source
from campaigns.selectors import set_category_choices
from campaigns.workdays import add_working_days
from core.forms import CleanTextFormMixin
from units.forms import model_choice_field
from units.models import Unit

from .filters import QuickSelect, QuickSelectMultiple, UnitChoiceField, UnitMultipleChoiceField, unit_choices
from .models import AccountabilityForm, LookbackResult, Measure, MeasureStatus, Problem, RectificationType
from .services import (
    EVIDENCE_EXTENSIONS,
    EVIDENCE_MAX_BYTES,
    EVIDENCE_REASON_MAX,
    MEASURE_FIELDS,
    PROBLEM_FIELDS,
    validate_evidence_file,
)

DATE_ATTRS = {"type": "date", "class": "form-control"}


def _date_field(label: str, *, required: bool = False, help_text: str = "") -> forms.DateField:
    return forms.DateField(
        label=label, required=required, help_text=help_text,
        widget=forms.DateInput(attrs=DATE_ATTRS, format="%Y-%m-%d"),
        error_messages={"invalid": "请输入有效的日期。", "required": f"请填写{label}。"},
    )


def _style(form: forms.Form) -> None:
    """Bootstrap classes on every widget that has none yet."""
    for field in form.fields.values():
        w = field.widget
        if isinstance(w, forms.RadioSelect | forms.CheckboxSelectMultiple):
            w.attrs.setdefault("class", "form-check-input")
        elif isinstance(w, forms.CheckboxInput):
            w.attrs.setdefault("class", "form-check-input")
        elif isinstance(w, forms.Select | forms.SelectMultiple | QuickSelect | QuickSelectMultiple):
            w.attrs.setdefault("class", "form-select")
        else:
            w.attrs.setdefault("class", "form-control")


# ---- the deadline, given as a date or as N working days from a date ---------------------------------------------

class DeadlineFields(CleanTextFormMixin, forms.Form):
    """A small two-mode input: 指定日期, or N 个工作日 counted from a date (statutory holidays and 调休 known).

    `deadline_required` says whether a blank deadline is an error; the result is in cleaned_data["deadline"]."""

    DATE, WORKDAYS = "date", "workdays"
    deadline_required = False

    deadline_mode = forms.ChoiceField(
        label="整改时限", choices=[(DATE, "指定日期"), (WORKDAYS, "按工作日计算")], initial=DATE,
        widget=forms.RadioSelect, required=False,
    )
    deadline = _date_field("整改时限")
    deadline_days = forms.IntegerField(
        label="工作日数", required=False, min_value=1, max_value=730,
        error_messages={"min_value": "工作日数至少为 1。", "max_value": "工作日数不能超过 730。",
                        "invalid": "请输入整数。"},
    )
    deadline_start = _date_field("起算日期", help_text="不含起算当天；留空则从今天起算。")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("deadline_days", "deadline_start"):
            self.fields[name].widget.attrs["data-workdays-input"] = ""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("deadline_mode") == self.WORKDAYS:
            days = data.get("deadline_days")
            if days:
                start = data.get("deadline_start") or timezone.localdate()
                try:
                    data["deadline"] = add_working_days(start, days)
                except (OverflowError, ValueError):  # past 9999-12-31
                    self.add_error("deadline_start", "日期超出范围")
            elif "deadline_days" not in self.errors:
                self.add_error("deadline_days", "请填写工作日数。")
        if self.deadline_required and not data.get("deadline") and not self.errors:
            self.add_error("deadline", "请填写整改时限。")
        return data


# ---- problems --------------------------------------------------------------------------------------------------

class CampaignPickForm(CleanTextFormMixin, forms.Form):
    campaign = forms.ModelChoiceField(label="专项行动", queryset=Campaign.objects.none(), empty_label="请选择专项行动",
                                      error_messages={"required": "请选择专项行动。",
                                                      "invalid_choice": "请选择有效的专项行动。"})

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "campaign").queryset = Campaign.objects.visible_to(user).order_by("-start_date", "-id")
        _style(self)


class ProblemForm(DeadlineFields):
    """The facts of a problem (ledger.services.PROBLEM_FIELDS plus co-units), for the office."""

    summary = forms.CharField(label="问题概述", max_length=300,
                              error_messages={"required": "请填写问题概述。", "max_length": "问题概述不能超过300字。"})
    description = forms.CharField(label="具体表现", required=False, widget=forms.Textarea(attrs={"rows": 4}))
    source = forms.ModelChoiceField(label="问题来源", queryset=Source.objects.none(), required=False,
                                    empty_label="（未指定）")
    category = forms.ModelChoiceField(label="问题类别", queryset=Category.objects.none(), required=False,
                                      empty_label="（未指定）")
    discovered_on = _date_field("发现日期")
    found_by = UnitChoiceField(label="发现单位", queryset=Unit.objects.none(), required=False, empty_label="（未指定）")
    lead_unit = UnitChoiceField(label="牵头单位", queryset=Unit.objects.none(), required=False,
                                empty_label="（暂不指定，分派时再定）")
    co_units = UnitMultipleChoiceField(
        label="配合单位", queryset=Unit.objects.none(), required=False,
        widget=QuickSelectMultiple(attrs={"size": 6}), help_text="可按住 Ctrl 多选。",
    )
    responsible_leader = forms.CharField(label="责任领导", max_length=100, required=False)
    responsible_person = forms.CharField(label="责任人", max_length=100, required=False)
    rectification_type = forms.ChoiceField(label="整改类型", choices=RectificationType.choices,
                                           initial=RectificationType.TIME_LIMITED)
    source_number = forms.CharField(label="原编号", max_length=64, required=False,
                                    help_text="本单位台账中的问题编号（如有），可用于检索和再次导入时对应。")

    field_order = [
        "source_number", "summary", "description", "source", "category", "discovered_on", "found_by", "lead_unit",
        "co_units", "responsible_leader", "responsible_person", "rectification_type",
        "deadline_mode", "deadline", "deadline_days", "deadline_start",
    ]

    def __init__(self, *args: Any, user: Any, campaign: Campaign, instance: Problem | None = None,
                 **kwargs: Any) -> None:
        if instance is not None and "initial" not in kwargs:
            initial = {name: getattr(instance, name) for name in PROBLEM_FIELDS}
            initial["co_units"] = list(instance.co_units.all())
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        self.campaign, self.instance = campaign, instance
        units = Unit.objects.visible_to(user).active()
        if instance is not None:
            # A unit deactivated since it was chosen stays selectable on this problem, so editing keeps it.
            current = [pk for pk in (instance.lead_unit_id, instance.found_by_id) if pk]
            units = units | Unit.objects.filter(Q(pk__in=current) | Q(co_problems=instance))
        for name in ("found_by", "lead_unit", "co_units"):
            model_choice_field(self, name).queryset = unit_choices(units.distinct())
        model_choice_field(self, "source").queryset = Source.objects.filter(campaign=campaign).filter(
            is_active=True
        ) | Source.objects.filter(pk=getattr(instance, "source_id", None) or 0)
        category = model_choice_field(self, "category")
        category.queryset = (
            Category.objects.filter(campaign=campaign).filter(is_active=True)
            | Category.objects.filter(pk=getattr(instance, "category_id", None) or 0)
        )
        set_category_choices(category)
        self.fields["deadline"].label = "整改时限（日期）"
        self.fields["deadline"].help_text = "长期坚持的问题可不填。"
        _style(self)

    def values(self) -> dict[str, Any]:
        """Keyword arguments for services.problem_create / problem_update."""
        data = self.cleaned_data
        values = {name: data.get(name) for name in PROBLEM_FIELDS}
        for name in ("source_number", "summary", "description", "responsible_leader", "responsible_person"):
            values[name] = (values[name] or "").strip()
        values["co_units"] = list(data.get("co_units") or [])
        return values


class AssignForm(DeadlineFields):
    """Assign several drafts at once; the lead unit and the deadline fill in only what a draft lacks or change
    it for all of them."""

    lead_unit = UnitChoiceField(label="牵头单位", queryset=Unit.objects.none(), required=False,
                                empty_label="（沿用各问题已填的牵头单位）")
    reason = forms.CharField(label="分派说明", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    field_order = ["lead_unit", "deadline_mode", "deadline", "deadline_days", "deadline_start", "reason"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "lead_unit").queryset = unit_choices(Unit.objects.visible_to(user).active())
        self.fields["deadline"].label = "整改时限（日期）"
        self.fields["deadline"].help_text = "留空则沿用各问题已填的整改时限。"
        _style(self)


# ---- review, void, reopen --------------------------------------------------------------------------------------

class ReviewForm(CleanTextFormMixin, forms.Form):
    APPROVE, STAGE, RETURN = "approve", "stage_approve", "return"
    decision = forms.ChoiceField(
        label="核查结果", choices=[(APPROVE, "核查通过，予以销号"), (STAGE, "阶段性销号"), (RETURN, "退回整改")],
        error_messages={"required": "请选择核查结果。", "invalid_choice": "请选择有效的核查结果。"},
    )
    opinion = forms.CharField(label="核查意见", required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == self.RETURN and not (data.get("opinion") or "").strip():
            self.add_error("opinion", "退回时请填写核查意见。")
        return data


def _reopen_deadline_field(default: Any) -> forms.DateField:
    field = _date_field("新的整改时限", required=True,
                        help_text="重新打开后按此时限整改；默认按本专项行动的重新整改期限计算。")
    field.initial = default
    return field


def _clean_reopen_deadline(form: forms.Form) -> None:
    d = form.cleaned_data.get("deadline")
    if d is not None and d < timezone.localdate():
        form.add_error("deadline", "新的整改时限不能早于今天。")


class ReasonForm(CleanTextFormMixin, forms.Form):
    """作废 and 重新打开: a reason; reopening also asks for the new deadline (`reopen_deadline` is its default)."""

    reason = forms.CharField(label="原因", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={"required": "请说明原因。"})

    def __init__(self, *args: Any, reopen_deadline: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if reopen_deadline is not None:
            self.fields["deadline"] = _reopen_deadline_field(reopen_deadline)
        _style(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        _clean_reopen_deadline(self)
        return data


# ---- measures, progress, applying ------------------------------------------------------------------------------

class MeasureForm(CleanTextFormMixin, forms.Form):
    content = forms.CharField(label="整改措施", widget=forms.Textarea(attrs={"rows": 3}),
                              error_messages={"required": "请填写整改措施内容。"})
    unit = UnitChoiceField(label="责任单位", queryset=Unit.objects.none(),
                           error_messages={"required": "请选择责任单位。", "invalid_choice": "请选择有效的责任单位。"})
    responsible_person = forms.CharField(label="责任人", max_length=100, required=False)
    deadline = _date_field("完成时限")
    is_long_term = forms.BooleanField(label="长期坚持（无固定完成时限）", required=False)

    def __init__(self, *args: Any, problem: Problem, instance: Measure | None = None, **kwargs: Any) -> None:
        if instance is not None:
            kwargs.setdefault("initial", {name: getattr(instance, name) for name in MEASURE_FIELDS})
        else:
            kwargs.setdefault("initial", {"unit": problem.lead_unit_id, "deadline": problem.deadline,
                                          "is_long_term": problem.rectification_type == RectificationType.LONG_TERM})
        super().__init__(*args, **kwargs)
        self.instance = instance
        # The lead unit (with its subtree) and the co-units: the units this problem concerns.
        lead = problem.lead_unit
        units = Unit.objects.active().filter(pk__in=problem.co_units.values("pk"))
        if lead is not None:
            units = units | Unit.objects.active().filter(path__startswith=lead.path)
        if instance is not None:
            # A unit deactivated since it was chosen stays selectable on this measure, so editing keeps it.
            units = units | Unit.objects.filter(pk=instance.unit_id)
        model_choice_field(self, "unit").queryset = unit_choices(units)
        _style(self)

    def values(self) -> dict[str, Any]:
        """Keyword arguments for services.measure_create / measure_update."""
        data = self.cleaned_data
        return {
            "content": data["content"], "unit": data["unit"],
            "responsible_person": (data.get("responsible_person") or "").strip(),
            "deadline": data.get("deadline"), "is_long_term": bool(data.get("is_long_term")),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("is_long_term") and not data.get("deadline") and "deadline" not in self.errors:
            self.add_error("deadline", "请填写完成时限，或勾选“长期坚持”。")
        return data


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class ProgressForm(CleanTextFormMixin, forms.Form):
    on = _date_field("进展日期", required=True)
    text = forms.CharField(label="整改进展", widget=forms.Textarea(attrs={"rows": 3}),
                           error_messages={"required": "请填写整改进展。"})
    # The form metaclass takes declared fields out of the class, so self.files stays the uploaded files' dict.
    files = MultipleFileField(  # type: ignore[assignment]
        label="佐证材料", required=False,
        help_text="可多选；支持 PDF、图片、Word、Excel、PowerPoint、WPS、OFD，"
                  f"单个文件不超过 {EVIDENCE_MAX_BYTES // 2**20} MB，文件内容须与扩展名相符。",
    )
    mark_status = forms.ChoiceField(
        label="措施状态", required=False,
        choices=[("", "保持不变"), (MeasureStatus.IN_PROGRESS.value, "推进中"), (MeasureStatus.DONE.value, "已完成")],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.fields["files"].widget.attrs["accept"] = ",".join(sorted(EVIDENCE_EXTENSIONS))
        _style(self)

    def clean_on(self) -> dt.date:
        on = self.cleaned_data["on"]
        if on > timezone.localdate():
            raise forms.ValidationError("进展日期不能晚于今天。")
        return on

    def clean_files(self) -> list[Any]:
        files = self.cleaned_data.get("files") or []
        errors = []
        for f in files:
            try:
                validate_evidence_file(f)
            except forms.ValidationError as exc:
                errors.extend(exc.messages)
        if errors:
            raise forms.ValidationError(errors)
        return files


class EvidenceRemoveForm(CleanTextFormMixin, forms.Form):
    """删除佐证材料: why the file is taken out (kept with it for the audit trail)."""

    reason = forms.CharField(
        label="删除原因", max_length=EVIDENCE_REASON_MAX, widget=forms.TextInput(),
        help_text="如：上传错了文件、文件不清晰需重新上传",
        error_messages={"required": "请填写删除原因。",
                        "max_length": f"删除原因不能超过{EVIDENCE_REASON_MAX}个字。"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)


class ApplyForm(CleanTextFormMixin, forms.Form):
    summary = forms.CharField(label="整改情况说明", max_length=5000, widget=forms.Textarea(attrs={"rows": 5}),
                              error_messages={"required": "请填写整改情况说明。"})
    rules_made = forms.CharField(label="建章立制", max_length=5000, required=False,
                                 widget=forms.Textarea(attrs={"rows": 3}),
                                 help_text="整改中制定或完善的制度名称，每行一项；没有可不填")
    funds_recovered = forms.DecimalField(
        label="挽回经济损失（元）", required=False, min_value=0, max_digits=14, decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0"}), help_text="没有可不填",
        error_messages={"invalid": "请输入有效的金额。", "min_value": "挽回经济损失不能为负数。",
                        "max_digits": "挽回经济损失金额过大，请核对。",
                        "max_decimal_places": "金额最多保留两位小数。",
                        "max_whole_digits": "挽回经济损失金额过大，请核对。"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)


class AccountabilityRecordForm(CleanTextFormMixin, forms.Form):
    """登记追责问责; `services.accountability_add` checks it all again."""

    unit = UnitChoiceField(label="所在单位", queryset=Unit.objects.none(),
                           error_messages={"required": "请选择所在单位。", "invalid_choice": "请选择有效的单位。"})
    person = forms.CharField(label="被问责人", max_length=50, error_messages={"required": "请填写被问责人。"})
    post = forms.CharField(label="职务", max_length=100, error_messages={"required": "请填写职务。"})
    form = forms.ChoiceField(label="问责方式", choices=[("", "请选择问责方式"), *AccountabilityForm.choices],
                             error_messages={"required": "请选择问责方式。", "invalid_choice": "请选择问责方式。"})
    decided_on = _date_field("决定日期", required=True)
    decided_by = forms.CharField(label="决定机关", max_length=100, error_messages={"required": "请填写决定机关。"})
    note = forms.CharField(label="备注", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, problem: Problem, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"unit": problem.lead_unit_id})
        super().__init__(*args, **kwargs)
        model_choice_field(self, "unit").queryset = unit_choices(Unit.objects.active())
        _style(self)

    def clean_decided_on(self) -> dt.date:
        value: dt.date = self.cleaned_data["decided_on"]
        if value > timezone.localdate():
            raise forms.ValidationError("决定日期不能晚于今天。")
        return value


# ---- 回头看 ------------------------------------------------------------------------------------------------------

class LookbackDrawForm(CleanTextFormMixin, forms.Form):
    BY_UNIT, BY_CATEGORY, RANDOM, ALL = "unit", "category", "random", "all"
    campaign = forms.ModelChoiceField(label="专项行动", queryset=Campaign.objects.none(), empty_label="请选择专项行动",
                                      error_messages={"required": "请选择专项行动。"})
    batch = forms.CharField(label="抽查批次", max_length=100, error_messages={"required": "请填写抽查批次名称。"},
                            help_text="如：2022年第三季度回头看")
    method = forms.ChoiceField(
        label="抽取方式", widget=forms.RadioSelect, initial=RANDOM,
        choices=[(RANDOM, "随机抽取 N 个"), (BY_UNIT, "按单位（含下级）"), (BY_CATEGORY, "按问题类别"),
                 (ALL, "全部已销号问题")],
    )
    unit = UnitChoiceField(label="单位", queryset=Unit.objects.none(), required=False, empty_label="（不限）")
    category = forms.ModelChoiceField(label="问题类别", queryset=Category.objects.none(), required=False,
                                      empty_label="（不限）")
    count = forms.IntegerField(label="抽取数量", required=False, min_value=1, max_value=10000,
                               error_messages={"min_value": "抽取数量须大于 0。"})

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        campaigns = Campaign.objects.visible_to(user).order_by("-start_date", "-id")
        model_choice_field(self, "campaign").queryset = campaigns
        running = list(campaigns.exclude(status=CampaignStatus.ENDED).values_list("pk", flat=True)[:2])
        if len(running) == 1:
            self.fields["campaign"].initial = running[0]
        model_choice_field(self, "unit").queryset = unit_choices(Unit.objects.visible_to(user))
        category = model_choice_field(self, "category")
        category.queryset = Category.objects.all()
        set_category_choices(category, lambda n: f"{n.category.campaign.code} · {n.indent}{n.category}")
        _style(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        method = data.get("method")
        if method == self.BY_UNIT and not data.get("unit"):
            self.add_error("unit", "按单位抽取时请选择单位。")
        if method == self.BY_CATEGORY:
            cat, campaign = data.get("category"), data.get("campaign")
            if not cat:
                self.add_error("category", "按类别抽取时请选择问题类别。")
            elif campaign and cat.campaign_id != campaign.pk:
                self.add_error("category", "该类别不属于所选专项行动。")
        if method == self.RANDOM and not data.get("count"):
            self.add_error("count", "随机抽取时请填写抽取数量。")
        return data

    def draw_kwargs(self) -> dict[str, Any]:
        data, method = self.cleaned_data, self.cleaned_data["method"]
        return {
            "campaign": data["campaign"],
            "batch": data["batch"],
            "unit": data.get("unit") if method == self.BY_UNIT else None,
            "category": data.get("category") if method == self.BY_CATEGORY else None,
            "count": data.get("count") if method == self.RANDOM else None,
        }


class LookbackRecordForm(CleanTextFormMixin, forms.Form):
    result = forms.ChoiceField(
        label="检查结果", widget=forms.RadioSelect,
        choices=[(LookbackResult.CONSOLIDATED.value, "巩固（整改成果保持良好）"),
                 (LookbackResult.RELAPSED.value, "反弹（问题再次出现，重新打开整改）")],
        error_messages={"required": "请选择检查结果：巩固或反弹。"},
    )
    finding = forms.CharField(label="检查情况", required=False, max_length=5000,
                              widget=forms.Textarea(attrs={"rows": 4}), help_text="认定反弹时必填。")

    def __init__(self, *args: Any, reopen_deadline: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = _reopen_deadline_field(reopen_deadline)
        field.required = False
        field.help_text = "认定反弹时问题重新打开，按此时限重新整改；默认按本专项行动的重新整改期限计算。"
        self.fields["deadline"] = field
        _style(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("result") == LookbackResult.RELAPSED and not (data.get("finding") or "").strip():
            self.add_error("finding", "认定反弹时请填写检查发现的问题。")
        _clean_reopen_deadline(self)
        return data
