"""Normalised forms of e-mails, phone numbers and social handles, with translated errors."""

from __future__ import annotations

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _


def email(value: str) -> str:
    value = (value or "").strip()
    try:
        validate_email(value)
    except ValidationError as exc:
        raise ValidationError(_("“%(value)s” is not a valid e-mail address.") % {"value": value}) from exc
    local, _at, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}".lower()


def phone(value: str, region: str | None = None) -> str:
    """E.164 (+8613812345678); ValidationError naming the value when it is not a possible number."""
    raw = (value or "").strip()
    try:
        num = phonenumbers.parse(raw, region or settings.KEHU_PHONE_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("“%(value)s” is not a valid phone number.") % {"value": raw}) from exc
    if not phonenumbers.is_valid_number(num):
        raise ValidationError(_("“%(value)s” is not a valid phone number.") % {"value": raw})
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


def phone_display(e164: str) -> str:
    try:
        num = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return e164
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if phonenumbers.region_code_for_number(num) == settings.KEHU_PHONE_REGION
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(num, fmt)


def handle(value: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError(_("Enter a value."))
    if any(c.isspace() for c in value):
        raise ValidationError(_("“%(value)s” must not contain spaces.") % {"value": value})
    return value.lstrip("@").lower()


def channel(kind: str, value: str) -> str:
    if kind == "email":
        return email(value)
    if kind in ("phone", "whatsapp"):
        return phone(value)
    return handle(value)
