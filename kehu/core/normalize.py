"""Normalised forms of e-mails, phone numbers and social handles, with translated errors."""

from __future__ import annotations

import re

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


# WeChat IDs: 6–20 letters, digits, "_" or "-", starting with a letter (WeChat's own rule); many people
# give their mobile number instead, which WeChat also finds them by.
_WECHAT = re.compile(r"[a-z][a-z0-9_-]{5,19}")
_DIGITS = re.compile(r"\+?[0-9]{5,15}")
_QQ = re.compile(r"[1-9][0-9]{4,11}")
_ACCOUNT = re.compile(r"[a-z0-9_.@-]{1,64}")  # WeCom / DingTalk account ids
# LinkedIn: a profile or company address, or the profile's public id (3–100 letters, digits, "-", "_").
_LINKEDIN_URL = re.compile(r"(?:https?://)?(?:[a-z]{2,3}\.)?linkedin\.com/(in|company)/([^/?#\s]+)/?(?:[?#].*)?")
_LINKEDIN_ID = re.compile(r"[\w-]{3,100}")


def social(kind: str, value: str) -> str:
    """The searchable form of a social identity, or a ValidationError that says what the network accepts."""
    norm = handle(value)
    if kind == "wechat":
        if not (_WECHAT.fullmatch(norm) or _DIGITS.fullmatch(norm)):
            raise ValidationError(
                _(
                    "“%(value)s” is not a WeChat ID: use 6–20 letters, digits, “_” or “-” starting with a letter, "
                    "or a mobile number."
                )
                % {"value": value.strip()}
            )
    elif kind == "qq":
        if not _QQ.fullmatch(norm):
            raise ValidationError(_("“%(value)s” is not a QQ number: use 5–12 digits.") % {"value": value.strip()})
    elif kind == "linkedin":
        url = _LINKEDIN_URL.fullmatch(norm)
        if url:
            norm = url.group(2) if url.group(1) == "in" else f"company/{url.group(2)}"
        elif not _LINKEDIN_ID.fullmatch(norm):
            raise ValidationError(
                _(
                    "“%(value)s” is not a LinkedIn profile: give its address (linkedin.com/in/…) "
                    "or its public id (letters, digits and “-”)."
                )
                % {"value": value.strip()}
            )
    elif not _ACCOUNT.fullmatch(norm):
        raise ValidationError(
            _("“%(value)s” is not an account id: use letters, digits, “_”, “-”, “.” or “@”.") % {"value": value.strip()}
        )
    return norm


def channel(kind: str, value: str) -> str:
    if kind == "email":
        return email(value)
    if kind in ("phone", "whatsapp"):
        return phone(value)
    return social(kind, value)
