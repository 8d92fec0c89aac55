"""Form helpers shared by the apps, and the audit trail's filter."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator

from .models import AuditEntry
from .text import TEXT_MAX, check_text

if TYPE_CHECKING:
    _FormBase = forms.BaseForm
else:
    _FormBase = object


class CleanTextFormMixin(_FormBase):
    """Refuse text with control characters XML cannot hold, or longer than `text_max_length`, in every field.

    Put it before the form class: ``class MeasureForm(CleanTextFormMixin, forms.ModelForm)``. Each offending field
    gets its own error naming it, so nothing a user types can later break an Excel export.
    """

    text_max_length: int | None = TEXT_MAX

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        for name, value in list(self.cleaned_data.items()):
            texts = [v for v in value if isinstance(v, str)] if isinstance(value, list | tuple) else [value]
            field = self.fields.get(name)
            label = str(field.label) if field is not None and field.label else "此项"
            try:
                for text in texts:
                    check_text(text, label=label, max_length=self.text_max_length)
            except ValidationError as exc:
                self.add_error(name, exc)
        return cleaned


class IndentedChoiceField(forms.ModelChoiceField):
    """Units indented by their depth, so a long select still reads as a tree."""

    def label_from_instance(self, obj: Any) -> str:
        return "\u3000" * int(getattr(obj, "depth", 0) or 0) + str(obj)


# The dates a search may name: the trail holds nothing older, and the database's time type nothing beyond.
AUDIT_DATE_MIN = dt.date(2000, 1, 1)
AUDIT_DATE_MAX = dt.date(2099, 12, 31)


class AuditFilterForm(CleanTextFormMixin, forms.Form):
    """The audit page's search: who (name or login), the actor's unit and its subunits, action, result, dates."""

    text_max_length = None

    user = forms.CharField(
        label="操作人", required=False, max_length=150,
        error_messages={"max_length": "「操作人」不能超过 %(limit_value)d 个字。"},
    )
    unit = IndentedChoiceField(
        label="单位", queryset=None, required=False, empty_label="全部单位",
        error_messages={"invalid_choice": "「单位」请从列表中选择。"},
    )
    action = forms.ChoiceField(
        label="操作", required=False, choices=[("", "全部操作"), *AuditEntry.Action.choices],
        error_messages={"invalid_choice": "「操作」请从列表中选择。"},
    )
    result = forms.ChoiceField(
        label="结果", required=False, choices=[("", "全部结果"), *AuditEntry.Result.choices],
        error_messages={"invalid_choice": "「结果」请从列表中选择。"},
    )
    date_from = forms.DateField(
        label="起始日期", required=False, widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "「起始日期」请填写有效的日期，如 2026-01-31。"},
    )
    date_to = forms.DateField(
        label="截止日期", required=False, widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "「截止日期」请填写有效的日期，如 2026-01-31。"},
    )

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        """`units`: the units to choose among (a queryset of units.Unit, which this module does not import)."""
        super().__init__(*args, **kwargs)
        unit = self.fields["unit"]
        assert isinstance(unit, forms.ModelChoiceField)
        unit.queryset = units
        user = self.fields["user"]
        user.validators = [
            v for v in user.validators if not isinstance(v, ProhibitNullCharactersValidator)
        ] + [ProhibitNullCharactersValidator(message="「操作人」含有不可见的控制字符，请删除后重新查询。")]
        user.widget.attrs.update({"class": "form-control", "placeholder": "姓名或登录名"})
        for name in ("unit", "action", "result"):
            self.fields[name].widget.attrs["class"] = "form-select"
        for name in ("date_from", "date_to"):
            self.fields[name].widget.attrs.update(
                {"class": "form-control", "min": AUDIT_DATE_MIN.isoformat(), "max": AUDIT_DATE_MAX.isoformat()}
            )

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        data = self.cleaned_data
        for name in ("date_from", "date_to"):
            day = data.get(name)
            if day is not None and not AUDIT_DATE_MIN <= day <= AUDIT_DATE_MAX:
                self.add_error(name, ValidationError(
                    "「%(label)s」须在 %(min)s 至 %(max)s 之间。", code="out_of_range",
                    params={"label": self.fields[name].label, "min": AUDIT_DATE_MIN, "max": AUDIT_DATE_MAX},
                ))
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise ValidationError("起始日期不能晚于截止日期。", code="reversed_dates")
        return cleaned

    def filters(self) -> dict[str, Any]:
        """The cleaned search as `core.selectors.audit_list` takes it (call after `is_valid()`)."""
        data = self.cleaned_data
        return {name: data.get(name) or ("" if name in ("user", "action", "result") else None)
                for name in ("user", "unit", "action", "result", "date_from", "date_to")}

    def summary(self) -> str:
        """The search in words, for the export's audit entry: "操作人：张三；单位：县教育体育局（含下属单位）…"."""
        data = self.cleaned_data
        parts = []
        if data.get("user"):
            parts.append(f"操作人：{data['user']}")
        if data.get("unit") is not None:
            parts.append(f"单位：{data['unit']}（含下属单位）")
        if data.get("action"):
            parts.append(f"操作：{AuditEntry.Action(data['action']).label}")
        if data.get("result"):
            parts.append(f"结果：{AuditEntry.Result(data['result']).label}")
        if data.get("date_from") or data.get("date_to"):
            start, end = data.get("date_from"), data.get("date_to")
            parts.append(f"日期：{start or '不限'} 至 {end or '不限'}")
        return "；".join(parts) or "全部"


__all__ = ["AuditFilterForm", "CleanTextFormMixin", "IndentedChoiceField"]
