"""SMS (督办 and above only) behind a pluggable backend: SMS_BACKEND names a class with `send(phone, text, key)`.

The default logs the message. Counties send through 阿里云, 腾讯云 or the carrier's 云MAS gateway; the request
shapes of the first two are below (their SDKs sign the request; template variables may not carry links). Neither
API is idempotent — a retried request sends again — so the claim in `notifications.services` is what keeps a
message single; our key travels as OutId / SessionContext and comes back in delivery receipts.

阿里云 SendSms (dysmsapi, 2017-05-25):
    PhoneNumbers="13800000000"            comma-separated, up to 1,000
    SignName=settings.SMS_SIGN_NAME       the approved signature, e.g. "某某县作风办"
    TemplateCode=settings.SMS_TEMPLATE_CODE   e.g. "SMS_123456789", text "${name}：${summary}，请及时登录系统办理。"
    TemplateParam='{"name": "张三", "summary": "您有3个问题逾期"}'   a JSON string of named values
    OutId=<delivery key hash>             echoed in receipts
  success: {"Code": "OK", "BizId": "..."}; other Codes are errors (isv.BUSINESS_LIMIT_CONTROL = the per-number cap).

腾讯云 SendSms (sms 2021-01-11):
    PhoneNumberSet=["+8613800000000"]     E.164, up to 200
    SmsSdkAppId=settings.SMS_SDK_APP_ID, SignName=settings.SMS_SIGN_NAME, TemplateId=settings.SMS_TEMPLATE_CODE
    TemplateParamSet=["张三", "您有3个问题逾期"]   positional strings, not named
    SessionContext=<delivery key hash>   echoed back
  success: SendStatusSet[0].Code == "Ok", with SerialNo.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from notifications.models import Delivery

from . import Outcome

logger = logging.getLogger("notifications.sms")


@dataclass(frozen=True)
class SmsResult:
    ok: bool
    vendor_ref: str = ""
    error: str = ""
    permanent: bool = False


class SmsBackend(Protocol):
    def send(self, *, phone: str, name: str, summary: str, key: str) -> SmsResult: ...


def out_id(delivery: Delivery) -> str:
    return hashlib.sha256(delivery.key.encode()).hexdigest()[:32]


class LoggingSmsBackend:
    """Writes the message to the log (the default until a vendor is configured)."""

    def send(self, *, phone: str, name: str, summary: str, key: str) -> SmsResult:
        logger.info("SMS to %s (%s): %s [%s]", phone, name, summary, key)
        return SmsResult(ok=True, vendor_ref=f"log-{key[:12]}")


def aliyun_request(*, phone: str, name: str, summary: str, key: str) -> dict[str, Any]:
    """The parameters of 阿里云 SendSms for one message (signed and posted by the vendor's SDK)."""
    return {
        "PhoneNumbers": phone, "SignName": settings.SMS_SIGN_NAME, "TemplateCode": settings.SMS_TEMPLATE_CODE,
        "TemplateParam": json.dumps({"name": name, "summary": summary}, ensure_ascii=False), "OutId": key,
    }


def tencent_request(*, phone: str, name: str, summary: str, key: str) -> dict[str, Any]:
    """The parameters of 腾讯云 SendSms for one message (signed and posted by the vendor's SDK)."""
    e164 = phone if phone.startswith("+") else "+86" + phone
    return {
        "PhoneNumberSet": [e164], "SmsSdkAppId": settings.SMS_SDK_APP_ID, "SignName": settings.SMS_SIGN_NAME,
        "TemplateId": settings.SMS_TEMPLATE_CODE, "TemplateParamSet": [name, summary], "SessionContext": key,
    }


class SmsSender:
    code = "sms"

    def send(self, delivery: Delivery) -> Outcome:
        if not delivery.address:
            return Outcome(ok=False, permanent=True, error="接收人没有手机号。")
        backend: SmsBackend = import_string(settings.SMS_BACKEND)()
        name = str(delivery.recipient) if delivery.recipient else ""
        result = backend.send(phone=delivery.address, name=name, summary=delivery.body, key=out_id(delivery))
        return Outcome(ok=result.ok, vendor_ref=result.vendor_ref, error=result.error, permanent=result.permanent)
