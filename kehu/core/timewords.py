"""Words of Django's "time since" that Kehu translates itself.

Django's zh-hans catalogue renders "%(num)d month" as "%(num)d 月", which reads as a month's name ("2 月" is
February): a timeline entry of ten weeks ago said "2月，2周前". Kehu's own catalogue comes first, so naming the
message here (never evaluated; only for `make messages`) gives it the reading "2 个月".
"""

from __future__ import annotations

from django.utils.translation import ngettext_lazy

MESSAGES = (ngettext_lazy("%(num)d month", "%(num)d months", "num"),)
