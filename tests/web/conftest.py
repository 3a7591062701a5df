"""Fixtures of the web UI tests: a user per seed role in a two-level team tree, and logged-in test clients.

Sales (销售部) → East (华东区) and North (华北区); East → Hangzhou (杭州组), a sub-team; HQ (总部) for the rest.
The manager leads Sales and so sees East, North and Hangzhou.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from kehu.users import services as user_services
from kehu.users.models import Role, Team, User

PASSWORD = "Kehu-web-pass-2024!"

USERS = {
    # username: (role code, team)
    "admin": ("administrator", "hq"),
    "manager": ("sales_manager", "sales"),
    "rep": ("sales_rep", "east"),
    "rep_hz": ("sales_rep", "hangzhou"),
    "rep2": ("sales_rep", "north"),
    "marketer": ("marketing", "hq"),
    "agent": ("service_agent", "hq"),
    "finance": ("finance", "hq"),
}


@pytest.fixture(autouse=True)
def _fast_and_fresh(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()


@pytest.fixture
def root(db: Any) -> User:
    return User.objects.create_superuser("root", "root@example.com", PASSWORD, language="en")


@pytest.fixture
def teams(root: User) -> dict[str, Team]:
    hq = user_services.create_team(actor=root, name="总部 HQ")
    sales = user_services.create_team(actor=root, name="销售部 Sales")
    east = user_services.create_team(actor=root, name="华东区 East", parent=sales)
    hangzhou = user_services.create_team(actor=root, name="杭州组 Hangzhou", parent=east)
    north = user_services.create_team(actor=root, name="华北区 North", parent=sales)
    return {"hq": hq, "sales": sales, "east": east, "hangzhou": hangzhou, "north": north}


@pytest.fixture
def users(root: User, teams: dict[str, Team]) -> dict[str, User]:
    out = {}
    for username, (role, team) in USERS.items():
        out[username] = user_services.create_user(
            actor=root,
            data={"username": username, "display_name": username.title(), "team": teams[team], "language": "en"},
            password=PASSWORD,
            roles=[Role.objects.get(code=role)],
        )
    return out


@pytest.fixture
def login(users: dict[str, User]) -> Callable[[str], Client]:
    """A test client signed in as the named user (English unless the user's setting says otherwise)."""

    def make(username: str) -> Client:
        client = Client()
        client.force_login(User.objects.get(username=username))
        return client

    return make
