"""Secrets at rest: robot webhook URLs and signing secrets are stored encrypted (Fernet) and shown only masked."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    key = settings.FIELD_ENCRYPTION_KEY
    if not key:
        # Derived from SECRET_KEY: stable for a deployment, different between deployments.
        digest = hashlib.sha256(("notifications.crypto:" + settings.SECRET_KEY).encode()).digest()
        key = base64.urlsafe_b64encode(digest).decode()
    return Fernet(key.encode() if isinstance(key, str) else key)


def encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode("utf-8")).decode("ascii") if text else ""


def decrypt(token: str) -> str:
    """The stored text; "" when nothing is stored. Raises ValueError in Chinese when the key has changed."""
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise ValueError("无法解密已保存的地址或密钥（加密密钥已更换？）：请重新填写。") from exc


def mask(text: str, *, keep: int = 4) -> str:
    """"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=••••••1a2b": the host and path, the credential hidden."""
    if not text:
        return ""
    head, sep, tail = text.partition("?")
    if not sep:
        return "••••••" + text[-keep:]
    return f"{head}?{tail.split('=', 1)[0]}=••••••{tail[-keep:]}" if "=" in tail else f"{head}?••••••{tail[-keep:]}"
