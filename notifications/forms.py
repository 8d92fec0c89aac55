"""Forms of the notification centre: the list's filters, marking read, a user's channels, the office's switches and
the delivery log's filters. They validate and offer only what the user may choose; saving is the services' job."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from units.forms import model_choice_field
from units.http import parse_ids
from units.models import Unit

from .models import Channel, ChannelSwitch, DeliveryStatus, Notification, Preference

# The groups a notification falls into, as the list's filter names them (the digest's groups, see digest.py).
GROUP_CHOICES = [
    ("event", "通知"),
    ("overdue", "逾期"),
    ("due_soon", "临期"),
    ("order", "督办单"),
    ("report", "催报"),
]
GROUP_LABELS = dict(GROUP_CHOICES)
UNREAD = "unread"

_DATE = {"type": "date", "class": "form-control form-control-sm"}


def _style(form: forms.BaseForm, *, small: bool = True) -> None:
    size = " form-select-sm" if small else ""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", f"form-select{size}")
        elif not isinstance(widget, forms.MultipleHiddenInput):
            widget.attrs.setdefault("class", "form-control form-control-sm" if small else "form-control")


class NotificationFilterForm(forms.Form):
    show = forms.ChoiceField(label="显示", required=False, choices=[("", "全部"), (UNREAD, "未读")])
    group = forms.ChoiceField(label="类别", required=False, choices=[("", "全部类别"), *GROUP_CHOICES])

    def params(self) -> dict[str, Any]:
        """The valid filters; an invalid value (a forged query string) is ignored."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return {"unread": data.get("show") == UNREAD, "group": data.get("group") or ""}


class MarkReadForm(forms.Form):
    """The notifications to mark read: only the user's own ids are accepted; any other id is simply dropped, so a
    forged id changes nothing."""

    ids = forms.Field(required=False, widget=forms.MultipleHiddenInput)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_ids(self) -> list[int]:
        raw = self.cleaned_data.get("ids") or []
        wanted = parse_ids([v for v in raw if isinstance(v, str)])
        own = list(Notification.objects.filter(recipient=self.user, pk__in=wanted).values_list("pk", flat=True))
        if not own:
            raise forms.ValidationError("没有找到要标为已读的消息。")
        return own


# ---- a user's own channels -------------------------------------------------------------------------------------

PREFERENCE_CHANNELS = (Channel.EMAIL, Channel.SMS)


class PreferenceForm(forms.Form):
    """One checkbox per personal channel the deployment offers and the office allows (email, SMS). In-app is always
    on and is not a field; a channel without an address is shown but cannot be chosen."""

    def __init__(self, *args: Any, user: Any, allowed: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        chosen = dict(Preference.objects.filter(user=user).values_list("channel", "enabled"))
        self.current: dict[str, bool] = {}
        for channel in PREFERENCE_CHANNELS:
            if channel not in allowed:
                continue
            address = user.email if channel == Channel.EMAIL else user.phone
            self.current[channel.value] = bool(chosen.get(channel.value, True))
            field = forms.BooleanField(label=f"接收{channel.label}", required=False,
                                       initial=self.current[channel.value], disabled=not address)
            field.widget.attrs["class"] = "form-check-input"
            self.fields[channel.value] = field

    def rows(self) -> list[dict[str, Any]]:
        """What the page shows per channel: the field and the address it goes to."""
        out = []
        for name in self.fields:
            channel = Channel(name)
            if channel == Channel.EMAIL:
                address = self.user.email or ""
                note = "" if address else "未填写邮箱，无法接收邮件；请联系系统管理员补充。"
                scope = "每日汇总及事件通知"
            else:
                address = _masked_phone(self.user.phone)
                note = "" if address else "未填写手机号，无法接收短信；请联系系统管理员补充。"
                scope = "仅用于督办及以上"
            out.append({"field": self[name], "channel": channel, "address": address, "note": note, "scope": scope})
        return out

    def changes(self) -> dict[str, bool]:
        """{channel: enabled} for the choices that differ from what is stored (or the default)."""
        return {name: bool(self.cleaned_data.get(name)) for name, field in self.fields.items()
                if not field.disabled and bool(self.cleaned_data.get(name)) != self.current[name]}


def _masked_phone(phone: str) -> str:
    if not phone:
        return ""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 11 else phone


# ---- the office's switches -------------------------------------------------------------------------------------

def offered_channels() -> list[Channel]:
    """The channels this deployment has switched on (NOTIFY_CHANNELS), in-app first."""
    offered = {c for c in settings.NOTIFY_CHANNELS if c in Channel.values}
    return [c for c in Channel if c in offered or c == Channel.INAPP]


class ChannelSwitchForm(forms.Form):
    """Whether users may use each channel the deployment offers; in-app cannot be switched off and is not a field."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        refused = set(ChannelSwitch.objects.filter(allowed=False).values_list("channel", flat=True))
        self.current: dict[str, bool] = {}
        for channel in offered_channels():
            if channel == Channel.INAPP:
                continue
            self.current[channel.value] = channel.value not in refused
            field = forms.BooleanField(label=f"允许使用{channel.label}", required=False,
                                       initial=self.current[channel.value])
            field.widget.attrs.update({"class": "form-check-input", "role": "switch"})
            self.fields[channel.value] = field

    def rows(self) -> list[dict[str, Any]]:
        return [{"field": self[name], "channel": Channel(name)} for name in self.fields]

    def changes(self) -> dict[str, bool]:
        return {name: bool(self.cleaned_data.get(name)) for name in self.fields
                if bool(self.cleaned_data.get(name)) != self.current[name]}


# ---- the delivery log ------------------------------------------------------------------------------------------

class DeliveryUnitField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return "\u3000" * obj.depth + (obj.short_name or obj.name)


class DeliveryFilterForm(forms.Form):
    status = forms.ChoiceField(label="状态", required=False, choices=[("", "全部状态"), *DeliveryStatus.choices])
    channel = forms.ChoiceField(label="渠道", required=False, choices=[("", "全部渠道"), *Channel.choices])
    unit = DeliveryUnitField(label="单位（含下级）", queryset=Unit.objects.none(), required=False,
                             empty_label="全部单位")
    date_from = forms.DateField(label="起始日期", required=False, widget=forms.DateInput(attrs=_DATE))
    date_to = forms.DateField(label="截止日期", required=False, widget=forms.DateInput(attrs=_DATE))
    q = forms.CharField(label="搜索", required=False, max_length=100)

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "unit").queryset = units
        _style(self)
        self.fields["q"].widget.attrs.update({"placeholder": "接收人姓名、机器人或标题", "type": "search"})
        for name in ("date_from", "date_to"):
            self.fields[name].error_messages["invalid"] = "请输入有效的日期。"
        model_choice_field(self, "unit").error_messages["invalid_choice"] = "请选择列表中的单位。"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "截止日期不能早于起始日期。")
        return data

    def params(self) -> dict[str, Any]:
        """The valid filters; an invalid field is ignored (and its error shown)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {k: v for k, v in getattr(self, "cleaned_data", {}).items() if v not in (None, "")}

    @property
    def active_count(self) -> int:
        return len(self.params())


__all__ = [
    "GROUP_CHOICES",
    "GROUP_LABELS",
    "ChannelSwitchForm",
    "DeliveryFilterForm",
    "MarkReadForm",
    "NotificationFilterForm",
    "PreferenceForm",
    "offered_channels",
]
