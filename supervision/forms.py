"""Forms of the 督办单 pages. They check input and offer only choices in the user's scope; writing is
`supervision.orders`'s business."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from core.forms import CleanTextFormMixin
from core.text import TEXT_MAX
from ledger.filters import UnitChoiceField, unit_choices
from ledger.models import Problem
from units.forms import model_choice_field
from units.models import Unit

from .models import OrderLevel
from .selectors import STATUS_FILTER_CHOICES

DATE_ATTRS = {"type": "date", "class": "form-control"}
DEFAULT_REQUIREMENTS = (
    "请你单位高度重视，主要负责同志亲自研究部署，对照问题逐项制定整改措施，明确责任人和完成时限，"
    "在回复期限前将整改落实情况书面报送，并在整改台账系统中及时填报整改进展和佐证材料。"
)


def _style(form: forms.BaseForm) -> None:
    for field in form.fields.values():
        w = field.widget
        if isinstance(w, forms.RadioSelect):
            w.attrs.setdefault("class", "form-check-input")
        elif isinstance(w, forms.Select):
            w.attrs.setdefault("class", "form-select")
        else:
            w.attrs.setdefault("class", "form-control")


class OrderIssueForm(CleanTextFormMixin, forms.Form):
    level = forms.TypedChoiceField(
        label="督办级别", choices=OrderLevel.choices, coerce=int, widget=forms.RadioSelect,
        error_messages={"required": "请选择督办级别。", "invalid_choice": "请选择有效的督办级别。"},
    )
    requirements = forms.CharField(
        label="督办要求", max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "请填写督办要求。"},
    )
    reply_deadline = forms.DateField(
        label="回复期限", widget=forms.DateInput(attrs=DATE_ATTRS, format="%Y-%m-%d"),
        error_messages={"required": "请填写回复期限。", "invalid": "请输入有效的日期。"},
    )

    def __init__(self, *args: Any, problem: Problem, reply_deadline: dt.date, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {
            "level": OrderLevel.LISTED if problem.listed else OrderLevel.SUPERVISE,
            "requirements": DEFAULT_REQUIREMENTS,
            "reply_deadline": reply_deadline,
        })
        super().__init__(*args, **kwargs)
        self.fields["reply_deadline"].help_text = (
            f"默认按本专项行动的督办单回复期限（{problem.campaign.order_reply_days}"
            f"{'个工作日' if problem.campaign.deadline_mode == 'working' else '天'}）计算。"
        )
        _style(self)

    def clean_reply_deadline(self) -> dt.date:
        day: dt.date = self.cleaned_data["reply_deadline"]
        if day < timezone.localdate():
            raise forms.ValidationError("回复期限不能早于今天。")
        return day


class OrderReplyForm(CleanTextFormMixin, forms.Form):
    reply = forms.CharField(
        label="回复内容", max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 5}),
        help_text="写明已采取的整改措施、取得的成效和下步安排；整改进展和佐证材料请在问题页填报。",
        error_messages={"required": "请填写回复内容。"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)


class OrderWithdrawForm(CleanTextFormMixin, forms.Form):
    reason = forms.CharField(
        label="撤销原因", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "撤销时请说明原因。"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)


class OrderFilterForm(forms.Form):
    """The register's filters; an invalid value is ignored (and its error shown)."""

    status = forms.ChoiceField(label="状态", required=False, choices=STATUS_FILTER_CHOICES)
    level = forms.TypedChoiceField(label="督办级别", required=False, coerce=int, empty_value=None,
                                   choices=[("", "全部级别"), *OrderLevel.choices])
    unit = UnitChoiceField(label="牵头单位（含下级）", queryset=Unit.objects.none(), required=False,
                           empty_label="全部单位")
    year = forms.TypedChoiceField(label="年度", required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, user: Any, years: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "unit").queryset = unit_choices(Unit.objects.visible_to(user))
        year = self.fields["year"]
        assert isinstance(year, forms.TypedChoiceField)
        year.choices = [("", "全部年度"), *((y, f"{y}年") for y in years)]
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-select form-select-sm")

    def params(self) -> dict[str, Any]:
        if not self.is_bound:
            return {}
        self.is_valid()
        return {k: v for k, v in getattr(self, "cleaned_data", {}).items() if v not in (None, "")}


__all__ = ["OrderFilterForm", "OrderIssueForm", "OrderReplyForm", "OrderWithdrawForm"]
