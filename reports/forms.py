from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from campaigns.models import Campaign

from .models import ReportKind

_DATE = {"type": "date", "class": "form-control"}


class BuildForm(forms.Form):
    campaign = forms.ModelChoiceField(label="专项行动", queryset=Campaign.objects.none(), empty_label=None,
                                      error_messages={"invalid_choice": "所选专项行动不存在或无权操作。"})
    kind = forms.ChoiceField(label="报表类型", choices=[(k.value, k.label) for k in
                                                      (ReportKind.MONTHLY, ReportKind.QUARTERLY, ReportKind.WEEKLY)],
                             error_messages={"invalid_choice": "不支持的报表类型。"})
    period = forms.CharField(label="期间", max_length=16,
                             help_text="月调度如 2026-11；季通报如 2026Q3；周报如 2026-W48。",
                             error_messages={"required": "请填写期间。"})
    as_of = forms.DateField(label="统计截至", required=False, widget=forms.DateInput(attrs=_DATE),
                            help_text="留空则统计到期间最后一天（期间未结束时统计到今天）。",
                            error_messages={"invalid": "请输入有效的日期。"})

    def __init__(self, *args: Any, campaigns: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns  # type: ignore[attr-defined]
        self.fields["campaign"].widget.attrs["class"] = "form-select"
        self.fields["kind"].widget.attrs["class"] = "form-select"
        self.fields["period"].widget.attrs.update({"class": "form-control", "placeholder": last_month_label()})


def last_month_label(today: dt.date | None = None) -> str:
    today = today or timezone.localdate()
    before = today.replace(day=1) - dt.timedelta(days=1)
    return f"{before.year:04d}-{before.month:02d}"


class DashboardForm(forms.Form):
    campaign = forms.ModelChoiceField(label="专项行动", queryset=Campaign.objects.none(), required=False,
                                      empty_label=None)
    as_of = forms.DateField(label="截至日期", required=False, widget=forms.DateInput(attrs=_DATE),
                            error_messages={"invalid": "请输入有效的日期。"})

    def __init__(self, *args: Any, campaigns: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns  # type: ignore[attr-defined]
        self.fields["campaign"].widget.attrs["class"] = "form-select form-select-sm"
        self.fields["as_of"].widget.attrs["class"] = "form-control form-control-sm"

    def clean_as_of(self) -> dt.date | None:
        value = self.cleaned_data.get("as_of")
        if value and value > timezone.localdate():
            raise forms.ValidationError("截至日期不能晚于今天。")
        return value


class FinalForm(forms.Form):
    file = forms.FileField(label="签发稿", error_messages={"required": "请选择签发稿文件。"},
                           help_text="在 Word 或 WPS 中修改、签发后的定稿（.docx、.doc、.wps、.ofd 或扫描的 .pdf）。")
