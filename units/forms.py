"""Forms for the account pages and the admin's unit, user, audit and roster pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm

from .models import Role, Unit

USERNAME_MAX_LENGTH = 150  # units.User.username


def axes_username(request: Any, credentials: dict[str, Any] | None = None) -> str | None:
    """AXES_USERNAME_CALLABLE: the login name django-axes records and locks, bounded to what an account can have."""
    data = credentials if credentials else getattr(request, "POST", {})
    username = data.get("username") if data else None
    return str(username)[:USERNAME_MAX_LENGTH] if username is not None else None


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "登录名或密码不正确。连续输错 %(limit)s 次，账号将被临时锁定。",
        "inactive": "该账号已停用，请联系系统管理员。",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "登录名"
        self.fields["username"].widget.attrs.update({"class": "form-control", "placeholder": "请输入登录名"})
        self.fields["password"].label = "密码"
        self.fields["password"].widget.attrs.update({"class": "form-control", "placeholder": "请输入密码"})

    def clean_username(self) -> str:
        # Django sets the field's max_length after the field was built, so its validator is not there: a longer name
        # would reach authenticate() and django-axes, whose failure record cannot hold it. No account has one.
        username: str = self.cleaned_data.get("username") or ""
        if len(username) > USERNAME_MAX_LENGTH:
            raise self.get_invalid_login_error()
        return username

    def get_invalid_login_error(self) -> forms.ValidationError:
        return forms.ValidationError(
            self.error_messages["invalid_login"],
            code="invalid_login",
            params={"limit": getattr(settings, "AXES_FAILURE_LIMIT", 5)},
        )


class ChinesePasswordChangeForm(PasswordChangeForm):
    """Django's form validates the old password and the new pair; saving goes through the service."""

    error_messages = {
        **PasswordChangeForm.error_messages,
        "password_incorrect": "原密码不正确，请重新输入。",
        "password_mismatch": "两次输入的新密码不一致。",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = {"old_password": "原密码", "new_password1": "新密码", "new_password2": "确认新密码"}
        for name, label in labels.items():
            self.fields[name].label = label
            self.fields[name].widget.attrs["class"] = "form-control"
        self.fields["new_password1"].help_text = (
            f"至少 {settings.PASSWORD_MIN_LENGTH} 位，不能全是数字，不能与登录名、姓名过于相似，不能与当前密码相同，"
            "须包含大写字母、小写字母、数字、符号中的至少三类。"
        )

    def save(self, commit: bool = True) -> Any:  # pragma: no cover - the view calls the service instead
        raise NotImplementedError("use units.services.user_change_password")


class UnitSearchForm(forms.Form):
    q = forms.CharField(label="搜索", required=False, max_length=100)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update(
            {"class": "form-control", "placeholder": "单位名称、简称或编码", "type": "search"}
        )


class UnitChoiceField(forms.ModelChoiceField):
    """Units indented by their depth, so a long select still reads as a tree."""

    def label_from_instance(self, obj: Any) -> str:
        return "\u3000" * obj.depth + obj.name


def model_choice_field(form: forms.BaseForm, name: str) -> forms.ModelChoiceField[Any]:
    """`form.fields[name]` typed as the ModelChoiceField (or ModelMultipleChoiceField) it was declared as, so its
    queryset and labels can be set per form."""
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField), f"{name} is not a model choice field"
    return field


def set_choice_labels(field: forms.ModelChoiceField[Any], label: Callable[[Any], str]) -> None:
    """Label this field's options with `label(obj)`: an instance-level label_from_instance."""
    # mypy reads this as replacing the class's method (self, obj); on the instance it is called as label(obj).
    field.label_from_instance = label  # type: ignore[method-assign, assignment]


STATUS_CHOICES = [("", "全部状态"), ("active", "启用"), ("inactive", "停用")]


class UserFilterForm(forms.Form):
    q = forms.CharField(label="关键字", required=False, max_length=100)
    unit = UnitChoiceField(label="单位", queryset=Unit.objects.none(), required=False, empty_label="全部单位")
    role = forms.ChoiceField(label="角色", required=False, choices=[("", "全部角色"), *Role.choices])
    status = forms.ChoiceField(label="状态", required=False, choices=STATUS_CHOICES)

    def __init__(self, *args: Any, units: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if units is not None:
            model_choice_field(self, "unit").queryset = units
        self.fields["q"].widget.attrs.update({"class": "form-control", "placeholder": "姓名、登录名或手机号"})
        for name in ("unit", "role", "status"):
            self.fields[name].widget.attrs["class"] = "form-select"


class RosterUploadForm(forms.Form):
    KIND_CHOICES = [("units", "单位名册"), ("users", "人员名册")]

    kind = forms.ChoiceField(label="名册类型", choices=KIND_CHOICES, widget=forms.RadioSelect, initial="units")
    file = forms.FileField(
        label="Excel 文件",
        help_text="仅支持 .xlsx 格式（Excel 2007 及以上，或 WPS 另存为 .xlsx）。",
        error_messages={"required": "请选择要上传的名册文件。", "empty": "上传的文件是空的。"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs.update({"class": "form-control", "accept": ".xlsx"})
        self.fields["kind"].widget.attrs["class"] = "form-check-input"

    def clean_file(self) -> Any:
        f = self.cleaned_data["file"]
        if not f.name.lower().endswith(".xlsx"):
            raise forms.ValidationError("只能上传 .xlsx 格式的 Excel 文件。")
        return f
