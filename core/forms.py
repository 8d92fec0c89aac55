"""Form helpers shared by the apps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError

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


__all__ = ["CleanTextFormMixin"]
