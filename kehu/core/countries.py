"""Countries of customers and leads: the ISO 3166 code is stored, the name is shown in the user's language
(django-countries), with China first and the names Chinese usage expects for Taiwan, Hong Kong and Macao
(settings: COUNTRIES_FIRST, COUNTRIES_OVERRIDE)."""

from __future__ import annotations

from django_countries import countries


def country_choices() -> list[tuple[str, str]]:
    """(code, name) for every country, in the active language's order; read on each use, so a form or a
    filter shows the names in the language of the request."""
    return [(c.code, str(c.name)) for c in countries]
