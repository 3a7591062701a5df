"""`kehu import_maven [--path DIR] [--actor USERNAME]`: import the Maven CRM sales data set.

Idempotent: a second run over the same files changes nothing and says so. Prints what was created,
updated, left unchanged and skipped, and every flaw found in the data (README.md → "Import the Maven CRM
data set").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from kehu.dataio import maven
from kehu.dataio.services import ImportReport, import_maven
from kehu.users.models import User


class Command(BaseCommand):
    help = "Import the Maven CRM sales data set (accounts, products, sales teams, opportunities)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--path",
            type=Path,
            default=None,
            help="Folder holding the CSV files (default: the maven-crm folder of KEHU_DATASETS).",
        )
        parser.add_argument(
            "--actor",
            default="",
            help="User name the changes are recorded under (default: the first active superuser).",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        path: Path = opts["path"] or Path(settings.DATASETS_DIR) / "maven-crm"
        actor = self._actor(opts["actor"])
        try:
            report = import_maven(path, actor=actor)
        except maven.DatasetMissing as exc:
            raise CommandError(str(exc)) from exc
        except PermissionDenied as exc:
            msg = _("%(user)s may not import these records: %(error)s") % {"user": actor, "error": exc}
            raise CommandError(msg) from exc
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self._print(report, path)

    def _actor(self, username: str) -> User:
        if username:
            user = User.objects.filter(username=username, is_active=True).first()
            if user is None:
                raise CommandError(_("No active user named “%(name)s”.") % {"name": username})
            return user
        user = User.objects.filter(is_superuser=True, is_active=True).order_by("id").first()
        if user is None:
            raise CommandError(_("Create an administrator first (kehu createsuperuser), or name a user with --actor."))
        return user

    def _print(self, report: ImportReport, path: Path) -> None:
        w = self.stdout.write
        w(_("Maven CRM data set: %(path)s (data as of %(day)s)") % {"path": path, "day": report.snapshot})
        kinds = sorted(set(report.created) | set(report.updated) | set(report.unchanged) | set(report.skipped))
        w("")
        w(f"{_('record'):<20}{_('created'):>10}{_('updated'):>10}{_('unchanged'):>11}{_('skipped'):>10}")
        for kind in kinds:
            w(
                f"{kind:<20}{report.created[kind]:>10,}{report.updated[kind]:>10,}"
                f"{report.unchanged[kind]:>11,}{report.skipped[kind]:>10,}"
            )
        w("")
        if report.flaws:
            w(_("Flaws found in the data (%(n)d kinds):") % {"n": len(report.flaws)})
            for flaw in report.flaws:
                examples = ", ".join(flaw.examples)
                w(f"  {flaw.count:>6,} × {flaw.message}")
                if examples:
                    w("           " + _("e.g. %(examples)s") % {"examples": examples})
            w("")
        if report.changed:
            w(self.style.SUCCESS(_("Imported in %(seconds).1f s.") % {"seconds": report.seconds}))
        else:
            w(self.style.SUCCESS(_("Nothing changed: the data set was already imported.")))
