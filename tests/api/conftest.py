"""Shared API fixtures: a user per seed role in a two-level team tree, and clients holding their tokens.

Sales (销售部) → East (华东区) and North (华北区); HQ (总部) for everyone else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from kehu.customers import services as customer_services
from kehu.sales import services as sales_services
from kehu.users import services as user_services
from kehu.users.models import Role, Team, User

PASSWORD = "Kehu-test-pass-2024!"


@pytest.fixture(autouse=True)
def _fast_and_fresh(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.LANGUAGE_CODE = "en"
    cache.clear()  # throttle counters


@pytest.fixture
def root(db: Any) -> User:
    """The operator account that sets the company up (as `kehu createsuperuser` would)."""
    return User.objects.create_superuser("root", "root@example.com", PASSWORD)


@pytest.fixture
def teams(root: User) -> dict[str, Team]:
    hq = user_services.create_team(actor=root, name="总部 HQ")
    sales = user_services.create_team(actor=root, name="销售部 Sales")
    east = user_services.create_team(actor=root, name="华东区 East", parent=sales)
    north = user_services.create_team(actor=root, name="华北区 North", parent=sales)
    return {"hq": hq, "sales": sales, "east": east, "north": north}


USERS = {
    # username: (role code, team)
    "admin": ("administrator", "hq"),
    "manager": ("sales_manager", "sales"),
    "rep": ("sales_rep", "east"),
    "rep2": ("sales_rep", "north"),
    "marketer": ("marketing", "hq"),
    "agent": ("service_agent", "hq"),
    "finance": ("finance", "hq"),
}


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
def client_for(users: dict[str, User]) -> Callable[[str], APIClient]:
    """An API client authenticated with a fresh bearer token of the named user."""

    def make(username: str) -> APIClient:
        client = APIClient()
        token = user_services.create_token(user=User.objects.get(username=username))
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT_LANGUAGE="en")
        return client

    return make


@pytest.fixture
def admin_api(client_for: Callable[[str], APIClient]) -> APIClient:
    return client_for("admin")


@pytest.fixture
def rep_api(client_for: Callable[[str], APIClient]) -> APIClient:
    return client_for("rep")


def make_customer(owner: User, name: str = "上海示例科技有限公司", **data: Any) -> Any:
    return customer_services.create_customer(actor=owner, data={"name": name, **data})


def make_lead(owner: User, name: str = "张伟", **data: Any) -> Any:
    return sales_services.create_lead(actor=owner, data={"name": name, **data})


def finance_customer(users: dict[str, User], owner: str = "rep") -> Any:
    """A customer of `owner` whose finance fields were filled in by finance."""
    customer = make_customer(users[owner], name="杭州财务样例有限公司")
    customer_services.update_customer(
        actor=users["finance"],
        customer=customer,
        values={"credit_limit": "50000.00", "payment_terms": "30 days", "bank_account": "6222 0000 1111"},
    )
    return customer
