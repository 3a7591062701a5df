"""`kehu search_reindex`: rewrite the search entries of existing records.

Run it after an upgrade that changes what a search entry holds — here, entries written before the line
under a hit was stored as field → value parts (those show only their type until rewritten) and before
customer names carried the key the lead duplicate check looks up. Safe to run while Kehu serves: each
batch is replaced in its own transaction.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from kehu.core import search


class Command(BaseCommand):
    help = "Rewrite the search entries of existing records (all searchable types, or those named)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("types", nargs="*", help="Object types such as customers.customer (default: all).")
        parser.add_argument("--batch-size", type=int, default=2000, help="Records per transaction (default 2,000).")

    def handle(self, *args: Any, **opts: Any) -> None:
        known = search.searchable_types()
        unknown = [t for t in opts["types"] if t not in known]
        if unknown:
            raise CommandError(_("Not a searchable type: %(types)s.") % {"types": ", ".join(unknown)})
        n = search.reindex(opts["types"] or None, batch_size=opts["batch_size"])
        self.stdout.write(_("Indexed %(n)d records.") % {"n": n})
