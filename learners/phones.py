"""Phone numbers as people type them, stored in international E.164 form (+33612345678).

A number typed without a country code (06 12 34 56 78) is read in the organisation's region
(settings.PHONE_DEFAULT_REGION). The `phonenumbers` library (Google's libphonenumber metadata) knows which
numbers a network can reach, which a regular expression cannot: an impossible number is refused.
"""

import phonenumbers
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


def normalise_phone(value: str, *, region: str | None = None) -> str:
    """The E.164 form of a typed phone number ("" for blank); raises ValidationError for an impossible one."""
    value = (value or "").strip()
    if not value:
        return ""
    region = region or settings.PHONE_DEFAULT_REGION
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            _(
                "“%(value)s” is not a phone number. Type it as dialled in the country, or with its country code "
                "(+33 6 12 34 56 78)."
            ),
            code="invalid_phone",
            params={"value": value},
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("“%(value)s” is not a number any phone network can reach: check the digits and the country code."),
            code="impossible_phone",
            params={"value": value},
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class PhoneFormField(forms.CharField):
    def __init__(self, **kwargs):
        # Room for spaces, dots and a country code as people type them; the stored value is shorter.
        kwargs["max_length"] = 32
        kwargs.setdefault(
            "help_text",
            _("With its country code (+33 6 12 34 56 78), or as dialled in the organisation's country."),
        )
        super().__init__(**kwargs)

    def clean(self, value):
        return normalise_phone(super().clean(value))


class PhoneNumberField(models.CharField):
    """A CharField holding E.164 or blank; forms accept national formats and normalise them."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 16)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return normalise_phone(value) if value else value

    def pre_save(self, model_instance, add):
        # Code that writes a national format without a form (imports, integrations) stores E.164 too;
        # a value phonenumbers cannot read is left for validation to report.
        value = getattr(model_instance, self.attname)
        try:
            value = normalise_phone(value) if value else value
        except ValidationError:
            return value
        setattr(model_instance, self.attname, value)
        return value

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": PhoneFormField, **kwargs})
