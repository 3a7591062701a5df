"""`kehu createtoken USERNAME`: print a new API token for the user (shown once, stored hashed)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from kehu.users import services
from kehu.users.models import User


class Command(BaseCommand):
    help = "Create an API token for USERNAME and print it; send it as 'Authorization: Bearer <token>'."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="A label to recognise the token by later.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(_("There is no user named “%(username)s”.") % {"username": options["username"]})
        try:
            token = services.create_token(user=user, name=options["name"] or "createtoken")
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(token)
