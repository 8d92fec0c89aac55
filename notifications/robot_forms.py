"""Forms of the robot pages. They check what a form can (required fields, a unit that exists); `robots` checks the
webhook against the configured base and saves.

The webhook URL and the signing secret are never written back into a page: their inputs render empty (also when a
form comes back with errors), and on an edit an empty input keeps what is stored."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q

from core.forms import CleanTextFormMixin
from units.models import Unit

from .models import ROBOT_CHANNELS, Channel, Robot
from .robots import KEEP, REASON_MAX_LENGTH, SECRET_MAX_LENGTH, WEBHOOK_MAX_LENGTH

KEEP_HELP = "留空则保持不变。"


class UnrenderedTextInput(forms.PasswordInput):
    """A plain text input (what is pasted can be read while typing) whose value is never rendered back."""

    input_type = "text"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={"autocomplete": "off", "spellcheck": "false", **(attrs or {})}, render_value=False)


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Unit) -> str:
        return f"{'　' * obj.depth}{obj.name}"


def _style(form: forms.BaseForm) -> None:
    for field in form.fields.values():
        w = field.widget
        if isinstance(w, forms.CheckboxInput):
            w.attrs.setdefault("class", "form-check-input")
        elif isinstance(w, forms.Select):
            w.attrs.setdefault("class", "form-select")
        else:
            w.attrs.setdefault("class", "form-control")


class RobotForm(CleanTextFormMixin, forms.Form):
    kind = forms.ChoiceField(
        label="类型", choices=[(c.value, c.label) for c in ROBOT_CHANNELS],
        error_messages={"required": "请选择机器人类型。", "invalid_choice": "机器人类型只能是企业微信或钉钉。"},
    )
    name = forms.CharField(
        label="名称", max_length=100, help_text="如“教体局整改工作群”，便于在列表中辨认。",
        error_messages={"required": "请填写机器人名称。", "max_length": "机器人名称不能超过 100 个字。"},
    )
    unit = UnitChoiceField(
        label="所属单位", queryset=Unit.objects.none(), required=False,
        empty_label="（不属于单位：专项行动工作群机器人）",
        help_text="单位的机器人接收该单位的提醒；不选单位的机器人可在专项行动中设为工作群机器人。",
        error_messages={"invalid_choice": "所选单位不存在或已停用，请重新选择。"},
    )
    webhook = forms.CharField(
        label="Webhook 地址", max_length=WEBHOOK_MAX_LENGTH, widget=UnrenderedTextInput(),
        help_text="在群设置的“群机器人”（钉钉为“机器人 → 自定义”）处复制完整地址。地址即凭证，保存后只显示部分。",
        error_messages={"required": "请填写 Webhook 地址。", "max_length": "Webhook 地址过长。"},
    )
    secret = forms.CharField(
        label="加签密钥", required=False, max_length=SECRET_MAX_LENGTH, widget=UnrenderedTextInput(),
        help_text="仅钉钉：机器人安全设置为“加签”时填写（SEC 开头的字符串）。",
        error_messages={"max_length": "加签密钥过长。"},
    )
    clear_secret = forms.BooleanField(label="清除已保存的加签密钥", required=False)
    keyword = forms.CharField(
        label="自定义关键词", required=False, max_length=50,
        help_text="仅钉钉：机器人安全设置为“自定义关键词”时填写其中一个；消息中没有时自动加在开头。",
        error_messages={"max_length": "自定义关键词不能超过 50 个字。"},
    )

    def __init__(self, data: Any = None, *, robot: Robot | None = None) -> None:
        initial = {"name": robot.name, "unit": robot.unit_id, "keyword": robot.keyword} if robot else None
        super().__init__(data, initial=initial)
        self.robot = robot
        current = Q(pk=robot.unit_id) if robot and robot.unit_id else Q(pk__in=[])
        unit_field = self.fields["unit"]
        assert isinstance(unit_field, forms.ModelChoiceField)
        unit_field.queryset = Unit.objects.filter(Q(is_active=True) | current).order_by("path")
        if robot is not None:
            del self.fields["kind"]
            self.fields["webhook"].required = False
            self.fields["webhook"].help_text = f"当前：{robot.webhook_hint or '（未设置）'}。{KEEP_HELP}"
            if robot.kind != Channel.DINGTALK:
                for name in ("secret", "clear_secret", "keyword"):
                    del self.fields[name]
            elif robot.secret_encrypted:
                self.fields["secret"].help_text = f"已设置。{KEEP_HELP}如已改为其他安全设置，请勾选下方“清除”。"
            else:
                del self.fields["clear_secret"]
        else:
            del self.fields["clear_secret"]
        _style(self)

    def create_values(self) -> dict[str, Any]:
        """The keyword arguments of `robots.robot_create` (after is_valid())."""
        d = self.cleaned_data
        return {"kind": d["kind"], "name": d["name"], "unit": d["unit"], "webhook": d["webhook"],
                "secret": d["secret"], "keyword": d["keyword"]}

    def update_values(self) -> dict[str, Any]:
        """The keyword arguments of `robots.robot_update` (after is_valid()): empty secret and webhook are kept."""
        d = self.cleaned_data
        secret: str | None = d.get("secret") or None
        if d.get("clear_secret") and not secret:
            secret = ""
        return {"name": d["name"], "unit": d["unit"] if "unit" in d else KEEP, "webhook": d["webhook"] or None,
                "secret": secret, "keyword": d.get("keyword")}


class DisableForm(CleanTextFormMixin, forms.Form):
    reason = forms.CharField(
        label="停用原因", max_length=REASON_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="如“工作群已解散”“机器人已更换”。停用后发往该机器人的消息不再发送。",
        error_messages={"required": "请填写停用原因。", "max_length": f"停用原因不能超过 {REASON_MAX_LENGTH} 个字。"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)
