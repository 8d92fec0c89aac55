"""Forms for the campaign pages. They check what a form can check (types, dates in order); the services
decide the rest and save."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet

from core.forms import CleanTextFormMixin
from notifications.models import Robot
from units.models import Unit

from .models import Campaign, CampaignStatus, Category, DeadlineMode, PhaseKind
from .selectors import in_tree_order
from .services import MONTHLY_REPORT_DAY_MAX, REPORT_DEPTH_MAX, YELLOW_WINDOW_MAX

DATE_WIDGET = {"type": "date", "class": "form-control"}
INVALID_DATE = "请输入有效的日期，如 2026-03-31。"


def _date_field(label: str, **kwargs: Any) -> forms.DateField:
    return forms.DateField(
        label=label, required=False, widget=forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d"),
        error_messages={"invalid": INVALID_DATE}, **kwargs,
    )


def _style(form: forms.BaseForm) -> None:
    """Bootstrap classes on every widget that has none yet."""
    for field in form.fields.values():
        w = field.widget
        if isinstance(w, forms.CheckboxInput):
            w.attrs.setdefault("class", "form-check-input")
        elif isinstance(w, forms.Select | forms.SelectMultiple):
            w.attrs.setdefault("class", "form-select")
        elif not isinstance(w, forms.RadioSelect | forms.HiddenInput):
            w.attrs.setdefault("class", "form-control")


class UnitTreeChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Unit) -> str:
        return f"{'　' * obj.depth}{obj.name}"


class CampaignForm(CleanTextFormMixin, forms.Form):
    name = forms.CharField(label="名称", max_length=200, error_messages={"required": "请填写专项行动名称。"})
    code = forms.CharField(
        label="编号", max_length=32, error_messages={"required": "请填写编号。"},
        help_text="用于生成问题编号，如 ZF2026 → ZF2026-0001；有问题后不能再修改。",
    )
    description = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    jurisdiction = UnitTreeChoiceField(
        label="覆盖范围", queryset=Unit.objects.none(), required=False,
        widget=forms.SelectMultiple(attrs={"size": 10}),
        help_text="选择纳入本次专项行动的单位（含其全部下级单位）；按住 Ctrl 可多选。",
        error_messages={"invalid_choice": "所选单位不可用。", "invalid_pk_value": "所选单位不可用。"},
    )
    start_date = _date_field("开始日期")
    end_date = _date_field("结束日期")
    status = forms.ChoiceField(label="状态", choices=CampaignStatus.choices, initial=CampaignStatus.PREPARING)
    yellow_window_days = forms.IntegerField(
        label="临期提醒天数", min_value=0, max_value=YELLOW_WINDOW_MAX, initial=7,
        help_text="距整改时限不足这些天时亮黄灯（临期）。",
    )
    deadline_mode = forms.ChoiceField(
        label="期限计算方式", choices=DeadlineMode.choices, initial=DeadlineMode.CALENDAR,
        help_text="按工作日计算时，法定节假日不计入，调休上班日计入。",
    )
    urge_after_days = forms.IntegerField(label="逾期转催办天数", min_value=1, max_value=365, initial=1,
                                         required=False)
    supervise_after_days = forms.IntegerField(label="逾期转督办天数", min_value=1, initial=7)
    listed_after_days = forms.IntegerField(label="逾期转挂牌督办天数", min_value=2, initial=30)
    monthly_report_day = forms.IntegerField(
        label="月调度日", min_value=1, max_value=MONTHLY_REPORT_DAY_MAX, initial=25, help_text="每月几日生成月调度。"
    )

    report_stale_days = forms.IntegerField(
        label="催报天数", min_value=1, max_value=365, initial=14, required=False,
        help_text="推进中的整改措施连续这些天未填报进展时，提醒责任单位填报（催报）。",
    )
    order_reply_days = forms.IntegerField(
        label="督办单回复期限天数", min_value=1, max_value=90, initial=5, required=False,
        help_text="签发督办单时默认的回复期限。",
    )
    robot = forms.ModelChoiceField(
        label="工作群机器人", queryset=Robot.objects.none(), required=False, empty_label="不推送",
        help_text="每日巡查后向专项行动工作群推送一条督办汇总（机器人由作风办在“群机器人”中添加）。",
    )
    reopen_days = forms.IntegerField(
        label="重新整改期限天数", min_value=1, max_value=365, initial=15, required=False,
        help_text="问题重新打开（回头看反弹）时，新的整改时限默认为今天起的天数（按期限计算方式）。",
    )

    report_units = UnitTreeChoiceField(
        label="报表统计单位", queryset=Unit.objects.none(), required=False,
        widget=forms.SelectMultiple(attrs={"size": 10}),
        help_text="月调度、季通报中逐行统计的单位（如各县直部门、乡镇街道），各自汇总其全部下级；"
                  "不选时按下面的报表统计层级。",
        error_messages={"invalid_choice": "所选单位不可用。", "invalid_pk_value": "所选单位不可用。"},
    )
    report_unit_depth = forms.IntegerField(
        label="报表统计层级", min_value=1, max_value=REPORT_DEPTH_MAX, initial=1, required=False,
        help_text="报表每一行统计单位的层级：1 为覆盖范围的直接下级（县直部门、乡镇街道），各自汇总其全部下级。",
    )
    honour_list_size = forms.IntegerField(label="红榜名次数", min_value=0, max_value=50, initial=5, required=False,
                                          help_text="排名前几名上红榜（并列名次全部上榜）。")
    black_list_size = forms.IntegerField(label="黑榜名次数", min_value=0, max_value=50, initial=3, required=False,
                                         help_text="排名后几名上黑榜（并列名次全部上榜）。")
    bulletin_agency = forms.CharField(label="通报发文机关代字", max_length=20, initial="作风办", required=False,
                                      help_text="季通报文号的机关代字，如“作风办〔2026〕5号”中的“作风办”。")
    bulletin_requirements = forms.CharField(
        label="下步工作要求", required=False, widget=forms.Textarea(attrs={"rows": 5}),
        help_text="季通报“五、下步工作要求”的内容，每段一行；留空时使用默认要求。",
    )

    POLICY = ("yellow_window_days", "deadline_mode", "urge_after_days", "supervise_after_days", "listed_after_days",
              "report_stale_days", "order_reply_days", "robot", "monthly_report_day", "reopen_days",
              "report_units", "report_unit_depth", "honour_list_size", "black_list_size", "bulletin_agency",
              "bulletin_requirements")

    def __init__(self, *args: Any, units: QuerySet[Unit] | None = None,
                 report_unit_choices: QuerySet[Unit] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["robot"].queryset = Robot.objects.filter(is_enabled=True)  # type: ignore[attr-defined]
        field = self.fields["jurisdiction"]
        field.queryset = units if units is not None else Unit.objects.none()  # type: ignore[attr-defined]
        # Offered in tree order (a path sorts by primary key, not by the roster's order); validated by the queryset.
        field.choices = [(u.pk, field.label_from_instance(u)) for u in in_tree_order(field.queryset)]  # type: ignore[attr-defined]
        rows = self.fields["report_units"]
        rows.queryset = report_unit_choices if report_unit_choices is not None else Unit.objects.none()  # type: ignore[attr-defined]
        rows.choices = [(u.pk, rows.label_from_instance(u)) for u in in_tree_order(rows.queryset)]  # type: ignore[attr-defined]
        for name in ("yellow_window_days", "urge_after_days", "supervise_after_days", "listed_after_days",
                     "report_stale_days", "order_reply_days", "monthly_report_day", "reopen_days"):
            self.fields[name].error_messages.update({
                "required": "请填写天数。", "invalid": "请输入整数。",
                "min_value": "不能小于 %(limit_value)s。", "max_value": "不能大于 %(limit_value)s。",
            })
        _style(self)

    def clean_report_unit_depth(self) -> int:
        return self.cleaned_data.get("report_unit_depth") or 1

    def clean_honour_list_size(self) -> int:
        value = self.cleaned_data.get("honour_list_size")
        return 5 if value is None else value

    def clean_black_list_size(self) -> int:
        value = self.cleaned_data.get("black_list_size")
        return 3 if value is None else value

    def clean_bulletin_agency(self) -> str:
        return (self.cleaned_data.get("bulletin_agency") or "").strip() or "作风办"

    def clean_reopen_days(self) -> int:
        return self.cleaned_data.get("reopen_days") or 15

    # Policy added after the first campaigns were set up: a form without them keeps the defaults.
    def clean_urge_after_days(self) -> int:
        return self.cleaned_data.get("urge_after_days") or 1

    def clean_report_stale_days(self) -> int:
        return self.cleaned_data.get("report_stale_days") or 14

    def clean_order_reply_days(self) -> int:
        return self.cleaned_data.get("order_reply_days") or 5

    def clean_code(self) -> str:
        return self.cleaned_data["code"].strip().upper()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "结束日期不能早于开始日期。")
        urge, supervise, listed = (
            data.get("urge_after_days"), data.get("supervise_after_days"), data.get("listed_after_days")
        )
        if urge and supervise and supervise <= urge:
            self.add_error("supervise_after_days", "逾期转督办天数应大于逾期转催办天数。")
        if supervise and listed and listed <= supervise:
            self.add_error("listed_after_days", "逾期转挂牌督办天数应大于逾期转督办天数。")
        return data

    def service_values(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k not in ("jurisdiction", "report_units")}

    @property
    def basic_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in ("name", "code", "status", "start_date", "end_date", "description")]

    @property
    def policy_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in self.POLICY]


class PhaseForm(CleanTextFormMixin, forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    kind = forms.ChoiceField(label="阶段", choices=[("", "——请选择——"), *PhaseKind.choices], required=False)
    name = forms.CharField(label="名称", max_length=100, required=False)
    start_date = _date_field("开始日期")
    deadline = _date_field("截止日期")
    note = forms.CharField(label="要求", max_length=300, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["placeholder"] = "默认同阶段类型"
        self.fields["note"].widget.attrs["placeholder"] = "如：3月13日前报问题台账"
        _style(self)
        for f in self.fields.values():
            css = f.widget.attrs.get("class", "")
            if css in ("form-control", "form-select"):
                f.widget.attrs["class"] = f"{css} {css}-sm"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("kind") and not data.get("DELETE"):
            self.add_error("kind", "请选择阶段类型。")
        start, deadline = data.get("start_date"), data.get("deadline")
        if start and deadline and deadline < start:
            self.add_error("deadline", "截止日期不能早于开始日期。")
        return data


class BasePhaseFormSet(forms.BaseFormSet):
    def phases(self) -> list[dict[str, Any]]:
        """The rows kept, in order, as the service takes them."""
        out = []
        for form in self.forms:
            if form.cleaned_data.get("DELETE") or not form.cleaned_data.get("kind"):
                continue  # deleted, or a blank extra row
            data = {k: form.cleaned_data.get(k) for k in ("kind", "name", "start_date", "deadline", "note")}
            if form.cleaned_data.get("id"):
                data["id"] = form.cleaned_data["id"]
            out.append(data)
        return out


# formset_factory returns a subclass of `formset`; the stubs say only BaseFormSet.
PhaseFormSet = cast(
    type[BasePhaseFormSet], forms.formset_factory(PhaseForm, formset=BasePhaseFormSet, extra=1, can_delete=True)
)


def phase_formset(data: Any = None, *, initial: list[dict[str, Any]] | None = None) -> BasePhaseFormSet:
    fs = PhaseFormSet(data, initial=initial, prefix="phases")
    for form in fs.forms:
        form.fields["DELETE"].label = "删除"
        form.fields["DELETE"].widget.attrs["class"] = "form-check-input"
    fs.empty_form.fields["DELETE"].widget.attrs["class"] = "form-check-input"
    return fs


class CategoryForm(CleanTextFormMixin, forms.Form):
    code = forms.CharField(label="类别编码", max_length=32, error_messages={"required": "请填写类别编码。"},
                           help_text="如 1、1.01；同一专项行动内不能重复。")
    name = forms.CharField(label="类别名称", max_length=200, error_messages={"required": "请填写类别名称。"})
    parent = forms.ModelChoiceField(
        label="上级类别", queryset=Category.objects.none(), required=False, empty_label="（无，作为一级类别）",
        error_messages={"invalid_choice": "所选上级类别不可用。"},
    )
    sort_order = forms.IntegerField(
        label="排序号", required=False, min_value=0, help_text="数字小的排在前面；留空排在同级最后。"
    )

    def __init__(self, *args: Any, parents: QuerySet[Category] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["parent"]
        field.queryset = parents if parents is not None else Category.objects.none()  # type: ignore[attr-defined]
        field.label_from_instance = lambda c: f"{c.code} {c.name}"  # type: ignore[attr-defined]
        _style(self)


class CategoryImportForm(CleanTextFormMixin, forms.Form):
    file = forms.FileField(
        label="Excel 文件",
        help_text="仅支持 .xlsx。列：类别编码、类别名称、上级类别编码（一级类别留空）；可有标题行。",
        error_messages={"required": "请选择要导入的文件。", "empty": "上传的文件是空的。"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs.update({"class": "form-control", "accept": ".xlsx"})


class CategoryCopyForm(CleanTextFormMixin, forms.Form):
    source: forms.ModelChoiceField[Campaign] = forms.ModelChoiceField(
        label="复制自", queryset=None, empty_label="——请选择专项行动——",
        error_messages={"required": "请选择要复制的专项行动。", "invalid_choice": "所选专项行动不可用。"},
    )

    def __init__(self, *args: Any, campaigns: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["source"]
        field.queryset = campaigns  # type: ignore[attr-defined]
        field.label_from_instance = lambda c: f"{c.name}（{c.code}，{c.category_count} 个类别）"  # type: ignore[attr-defined]
        _style(self)


class SourceForm(CleanTextFormMixin, forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(label="名称", max_length=50, required=False)
    is_active = forms.BooleanField(label="启用", required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["placeholder"] = "如：群众反映（12345/信访）"
        _style(self)
        self.fields["name"].widget.attrs["class"] = "form-control form-control-sm"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("id") and not (data.get("name") or "").strip():
            self.add_error("name", "请填写问题来源名称；不再使用的来源请取消“启用”。")
        return data


class BaseSourceFormSet(forms.BaseFormSet):
    def rows(self) -> list[dict[str, Any]]:
        out = []
        for form in self.forms:
            data = form.cleaned_data
            if not data.get("id") and not (data.get("name") or "").strip():
                continue  # a blank extra row
            out.append({"id": data.get("id"), "name": data.get("name", ""), "is_active": data.get("is_active")})
        return out


SourceFormSet = cast(type[BaseSourceFormSet], forms.formset_factory(SourceForm, formset=BaseSourceFormSet, extra=2))


def source_formset(data: Any = None, *, initial: list[dict[str, Any]] | None = None) -> BaseSourceFormSet:
    return SourceFormSet(data, initial=initial, prefix="sources")


class CalendarOverrideForm(CleanTextFormMixin, forms.Form):
    date = forms.DateField(
        label="日期", widget=forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d"),
        error_messages={"required": "请填写日期。", "invalid": INVALID_DATE},
    )
    is_workday = forms.TypedChoiceField(
        label="调整为", choices=[("1", "上班"), ("0", "休息")], coerce=lambda v: v == "1", initial="1",
        widget=forms.RadioSelect, error_messages={"required": "请选择上班或休息。"},
    )
    note = forms.CharField(label="说明", max_length=100, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["note"].widget.attrs["placeholder"] = "如：春节调休上班"
        _style(self)


class CalendarYearForm(CleanTextFormMixin, forms.Form):
    year = forms.IntegerField(required=False, min_value=2000, max_value=2100)
