"""The ledger list's filter form: a plain form whose cleaned data is what `selectors.problem_list` reads.

Every choice offered is limited to what the viewer may see; a forged id simply fails validation.
"""

from __future__ import annotations

from html import escape
from typing import Any

from django import forms
from django.forms.models import ModelChoiceIterator
from django.forms.utils import flatatt
from django.utils.safestring import SafeString, mark_safe

from campaigns.models import Campaign, Category, Source
from campaigns.selectors import set_category_choices
from units.forms import model_choice_field
from units.http import parse_id
from units.models import Unit

from .models import Light, ProblemStatus, RectificationType

OPEN = "open"  # pseudo-status: every state that is not 已销号 / 已作废
STATUS_CHOICES = [("", "全部状态"), (OPEN, "未办结（待分派/整改中/待核查）"), *ProblemStatus.choices]
LIGHT_CHOICES = [("", "全部"), (Light.RED.value, "红灯（逾期）"), (Light.YELLOW.value, "黄灯（临期）"),
                 (Light.GREEN.value, "绿灯（正常）"), (Light.NONE.value, "已办结")]
LISTED_YES, LISTED_NO = "yes", "no"
LISTED_CHOICES = [("", "全部"), (LISTED_YES, "是"), (LISTED_NO, "否")]
SORT_CHOICES = [
    ("-number", "编号（新→旧）"),
    ("number", "编号（旧→新）"),
    ("deadline", "整改时限（早→晚）"),
    ("-deadline", "整改时限（晚→早）"),
    ("status", "状态"),
    ("-status", "状态（倒序）"),
    ("unit", "牵头单位"),
    ("-unit", "牵头单位（倒序）"),
]
DEFAULT_SORT = "-number"
PER_PAGE_CHOICES = [("20", "每页 20 条"), ("50", "每页 50 条"), ("100", "每页 100 条")]
DEFAULT_PER_PAGE = 20

_DATE = {"type": "date", "class": "form-control form-control-sm"}


class QuickSelect(forms.Select):
    """A select whose options are rendered in Python. Django renders each option through a template, about a third
    of a millisecond apiece: a third of a second for a county's thousand units, on every page that offers them."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        final = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        if self.allow_multiple_selected:
            final["multiple"] = True
        chosen = {str(v) for v in self.format_value(value)}
        options = []
        for v, label in self.choices:
            v = str(v)
            selected = " selected" if v in chosen else ""
            options.append(f'<option value="{escape(v)}"{selected}>{escape(str(label))}</option>')
        return mark_safe(f"<select{flatatt(final)}>{''.join(options)}</select>")  # every part escaped above


class QuickSelectMultiple(QuickSelect):
    allow_multiple_selected = True

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return forms.SelectMultiple.value_from_datadict(self, data, files, name)  # type: ignore[arg-type]

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return False  # an empty multiple select sends nothing at all


# What a unit select needs; the timestamps and the rest stay in the database.
UNIT_CHOICE_FIELDS = ("id", "code", "name", "short_name", "parent_id", "path", "depth", "sort_order", "is_active")


def unit_choices(qs: Any) -> Any:
    return qs.order_by("path").only(*UNIT_CHOICE_FIELDS)


def unit_label(unit: Unit) -> str:
    """Units indented by their depth in the tree, so a long select still reads as a tree."""
    return _label(unit.depth, unit.display_name, unit.is_active)


def _label(depth: int, name: str, active: bool) -> str:
    return f"{'　' * depth}{name}{'' if active else '（已停用）'}"


class UnitChoiceIterator(ModelChoiceIterator):
    """Choices straight from a values() query: no model instance per unit."""

    def __iter__(self) -> Any:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        rows = self.queryset.values_list("pk", "depth", "short_name", "name", "is_active")
        for pk, depth, short, name, active in rows:
            yield (pk, _label(depth, short or name, active))


class UnitChoiceField(forms.ModelChoiceField):
    widget = QuickSelect
    iterator = UnitChoiceIterator

    def label_from_instance(self, obj: Any) -> str:
        return unit_label(obj)


class UnitMultipleChoiceField(forms.ModelMultipleChoiceField):
    widget = QuickSelectMultiple
    iterator = UnitChoiceIterator

    def label_from_instance(self, obj: Any) -> str:
        return unit_label(obj)


class ProblemFilterForm(forms.Form):
    q = forms.CharField(label="关键字", required=False, max_length=100)
    campaign = forms.ModelChoiceField(label="专项行动", queryset=Campaign.objects.none(), required=False,
                                      empty_label="全部专项行动")
    unit = UnitChoiceField(label="牵头单位（含下级）", queryset=Unit.objects.none(), required=False,
                           empty_label="全部单位")
    source = forms.ChoiceField(label="问题来源", required=False)
    category = forms.ModelChoiceField(label="问题类别", queryset=Category.objects.none(), required=False,
                                      empty_label="全部类别")
    status = forms.ChoiceField(label="状态", required=False, choices=STATUS_CHOICES)
    light = forms.ChoiceField(label="红黄绿灯", required=False, choices=LIGHT_CHOICES)
    rectification_type = forms.ChoiceField(label="整改类型", required=False,
                                           choices=[("", "全部类型"), *RectificationType.choices])
    listed = forms.ChoiceField(label="挂牌督办", required=False, choices=LISTED_CHOICES)
    deadline_from = forms.DateField(label="整改时限自", required=False, widget=forms.DateInput(attrs=_DATE))
    deadline_to = forms.DateField(label="至", required=False, widget=forms.DateInput(attrs=_DATE))
    sort = forms.ChoiceField(label="排序", required=False, choices=SORT_CHOICES)
    per_page = forms.TypedChoiceField(label="每页", required=False, choices=PER_PAGE_CHOICES, coerce=int,
                                      empty_value=DEFAULT_PER_PAGE)  # type: ignore[arg-type]  # stubs: str only

    def __init__(self, *args: Any, user: Any, campaigns: list[Campaign] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        campaign_qs = Campaign.objects.visible_to(user).order_by("-start_date", "-id")
        campaign_field = model_choice_field(self, "campaign")
        campaign_field.queryset = campaign_qs
        if campaigns is not None:
            # Reuse the list already read for the lights instead of reading the campaigns again.
            campaign_field.choices = [("", "全部专项行动"), *((c.pk, c.name) for c in campaigns)]
        model_choice_field(self, "unit").queryset = unit_choices(Unit.objects.visible_to(user))
        picked = self._picked_campaign()
        sources = Source.objects.all() if picked is None else Source.objects.filter(campaign_id=picked)
        names = list(dict.fromkeys(sources.order_by("sort_order", "name").values_list("name", flat=True)))
        source_field = self.fields["source"]
        assert isinstance(source_field, forms.ChoiceField)
        source_field.choices = [("", "全部来源"), *((n, n) for n in names)]
        categories = Category.objects.select_related("campaign").order_by("campaign_id", "sort_order", "code")
        if picked is not None:
            categories = categories.filter(campaign_id=picked)
        category_field = model_choice_field(self, "category")
        category_field.queryset = categories
        set_category_choices(
            category_field,
            (lambda n: f"{n.indent}{n.category}") if picked is not None
            else (lambda n: f"{n.category.campaign.code} · {n.indent}{n.category}"),
        )
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.Select | QuickSelect):
                widget.attrs.setdefault("class", "form-select form-select-sm")
            elif name not in ("deadline_from", "deadline_to"):
                widget.attrs.setdefault("class", "form-control form-control-sm")
        self.fields["q"].widget.attrs.update({"placeholder": "编号、原编号、概述或具体表现", "type": "search"})
        self.fields["deadline_from"].error_messages["invalid"] = "请输入有效的日期。"
        self.fields["deadline_to"].error_messages["invalid"] = "请输入有效的日期。"

    def _picked_campaign(self) -> int | None:
        return parse_id(self.data.get("campaign")) if self.is_bound else None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("deadline_from"), data.get("deadline_to")
        if start and end and start > end:
            self.add_error("deadline_to", "截止日期不能早于起始日期。")
        return data

    def params(self) -> dict[str, Any]:
        """The valid filters (an invalid field is ignored, and its error shown), with defaults filled in."""
        if self.is_bound:
            self.is_valid()
            data = dict(getattr(self, "cleaned_data", {}))
        else:
            data = {}
        data["sort"] = data.get("sort") or DEFAULT_SORT
        data["per_page"] = data.get("per_page") or DEFAULT_PER_PAGE
        return data

    @property
    def active_count(self) -> int:
        """How many filters narrow the list (for the “已筛选” hint)."""
        if not self.is_bound or not hasattr(self, "cleaned_data"):
            return 0
        skip = {"sort", "per_page"}
        return sum(1 for k, v in self.cleaned_data.items() if k not in skip and v not in (None, "", []))
