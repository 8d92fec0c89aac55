from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError


class ComplexityValidator:
    """At least three of: lower case, upper case, digits, symbols."""

    message = "密码须包含大写字母、小写字母、数字、符号中的至少三类。"

    def validate(self, password: str, user: Any = None) -> None:
        classes = [r"[a-z]", r"[A-Z]", r"[0-9]", r"[^a-zA-Z0-9]"]
        if sum(1 for c in classes if re.search(c, password)) < 3:
            raise ValidationError(self.message, code="password_too_simple")

    def get_help_text(self) -> str:
        return self.message


# 统一社会信用代码 (GB 32100-2015): 18 characters; the last is a check character.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def uscc_check_char(first17: str) -> str | None:
    """The check character for the first 17 characters, or None if one of them is not allowed."""
    total = 0
    for ch, w in zip(first17, USCC_WEIGHTS, strict=True):
        idx = USCC_ALPHABET.find(ch)
        if idx < 0:
            return None
        total += idx * w
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_is_valid(code: str) -> bool:
    if len(code) != 18:
        return False
    expected = uscc_check_char(code[:17])
    return expected is not None and expected == code[17]
