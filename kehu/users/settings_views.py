"""Kehu's own settings pages for administrators: users, teams, roles, custom fields and pick lists."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from kehu.core import permissions


def require_admin(request: HttpRequest, object_type: str = "users.user", action: str = "change") -> None:
    if not permissions.can(request.user, object_type, action):
        raise Http404


@login_required
def index(request: HttpRequest) -> HttpResponse:
    require_admin(request)
    return render(request, "users/settings/index.html", {})
