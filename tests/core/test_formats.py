"""Amounts read the same way in both languages: grouped by thousands with a comma, as Chinese invoices and
finance reports write them (Django's own zh-hans formats would print 1234567 with no separator)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation
from django.utils.formats import number_format


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_amounts_are_grouped_by_thousands(language: str) -> None:
    with translation.override(language):
        assert number_format(Decimal("1234567.5"), 2, force_grouping=True) == "1,234,567.50"
        rendered = Template('{{ v|floatformat:"0g" }} · {{ v|floatformat:"2g" }}').render(
            Context({"v": Decimal("98765432.1")})
        )
        assert rendered == "98,765,432 · 98,765,432.10"


def test_months_ago_read_as_a_count_not_a_months_name_in_chinese() -> None:
    """Django's own catalogue says "2 月" (February) for two months; Kehu's says "2 个月"."""
    import datetime as dt

    from django.utils import timesince, timezone, translation

    with translation.override("zh-hans"):
        text = timesince.timesince(timezone.now() - dt.timedelta(days=75))
    assert text.replace("\xa0", " ").startswith("2 个月"), text  # Django joins with a no-break space
