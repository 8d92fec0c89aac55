from __future__ import annotations

import re
from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    def validate(self, password: str, user: Any = None) -> None:
        if len(password) < self.min_length:
            raise ValidationError(f"密码太短，至少需要 {self.min_length} 位。", code="password_too_short")

    def get_help_text(self) -> str:
        return f"至少 {self.min_length} 位。"


class UserAttributeSimilarityValidator(password_validation.UserAttributeSimilarityValidator):
    LABELS = {"username": "登录名", "first_name": "名", "last_name": "姓", "email": "电子邮箱", "full_name": "姓名",
              "phone": "手机号"}

    def __init__(self, user_attributes: Any = ("username", "full_name", "phone", "email"),
                 max_similarity: float = 0.7) -> None:
        super().__init__(user_attributes=user_attributes, max_similarity=max_similarity)

    def validate(self, password: str, user: Any = None) -> None:
        for attribute in self.user_attributes:  # one at a time, to name the one that is too close
            one = password_validation.UserAttributeSimilarityValidator((attribute,), self.max_similarity)
            try:
                one.validate(password, user)
            except ValidationError as exc:
                label = self.LABELS.get(attribute, "账号信息")
                raise ValidationError(f"密码与{label}过于相似。", code="password_too_similar") from exc

    def get_help_text(self) -> str:
        return "不能与登录名、姓名、手机号、电子邮箱过于相似。"


class CommonPasswordValidator(password_validation.CommonPasswordValidator):
    def validate(self, password: str, user: Any = None) -> None:
        if password.lower().strip() in self.passwords:
            raise ValidationError("这个密码太常见，容易被猜中，请另设一个。", code="password_too_common")

    def get_help_text(self) -> str:
        return "不能是常见密码。"


class NumericPasswordValidator(password_validation.NumericPasswordValidator):
    def validate(self, password: str, user: Any = None) -> None:
        if password.isdigit():
            raise ValidationError("密码不能全是数字。", code="password_entirely_numeric")

    def get_help_text(self) -> str:
        return "不能全是数字。"


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
