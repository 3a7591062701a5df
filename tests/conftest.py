"""Fixtures every test module can use: a team tree, a user per seed role, and the record factories.

    销售部 (sales) → 华东区 (east) → 上海组 (shanghai)
                  → 华南区 (south)
    总部 (hq): administrator, marketing, service agent, finance

Records are made through the services (tests/factories), so they carry events and search entries like
real ones. Directories with their own conftest (api/, web/) may define fixtures of the same name; theirs win.

Prefer `django_capture_on_commit_callbacks` to `django_db(transaction=True)` for on-commit behaviour: a
transactional test ends with a flush that empties the roles and pick lists the migrations seeded, and under
`pytest -n 2 --dist loadfile` later files in the same worker would then run without them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache

from kehu.users.models import Team, User
from tests.factories import (
    PASSWORD,
    ContactFactory,
    CustomerFactory,
    LeadFactory,
    TeamFactory,
    UserFactory,
    operator,
)

FAST_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",  # fast for tests; argon2 is tested in tests/users/test_login.py
    "django.contrib.auth.hashers.Argon2PasswordHasher",  # still verifies argon2 hashes made elsewhere
]

# username → (seed role code or None, team key or None)
ROLE_USERS: dict[str, tuple[str | None, str | None]] = {
    "admin": ("administrator", "hq"),
    "manager": ("sales_manager", "sales"),
    "east_manager": ("sales_manager", "east"),
    "rep": ("sales_rep", "east"),
    "rep_sh": ("sales_rep", "shanghai"),
    "rep_south": ("sales_rep", "south"),
    "marketing": ("marketing", "hq"),
    "agent": ("service_agent", "hq"),
    "finance": ("finance", "hq"),
    "nobody": (None, "east"),  # signed in, no role at all
}


@pytest.fixture(autouse=True)
def _fast_and_fresh(settings: Any) -> None:
    settings.PASSWORD_HASHERS = FAST_HASHERS
    settings.LANGUAGE_CODE = "en"
    cache.clear()  # throttle and lockout counters kept in the cache


@pytest.fixture
def superuser(db: Any) -> User:
    return operator()


@pytest.fixture
def team_tree(superuser: User) -> dict[str, Team]:
    hq = TeamFactory(name="总部")
    sales = TeamFactory(name="销售部")
    east = TeamFactory(name="华东区", parent=sales)
    south = TeamFactory(name="华南区", parent=sales)
    shanghai = TeamFactory(name="上海组", parent=east)
    return {"hq": hq, "sales": sales, "east": east, "south": south, "shanghai": shanghai}


@pytest.fixture
def role_users(team_tree: dict[str, Team]) -> dict[str, User]:
    """One user per seed role (two sales managers and three reps in different teams) and one with no role."""
    return {
        username: UserFactory(username=username, team=team_tree[team] if team else None, roles=[role] if role else [])
        for username, (role, team) in ROLE_USERS.items()
    }


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def team_factory(db: Any) -> type[TeamFactory]:
    return TeamFactory


@pytest.fixture
def user_factory(db: Any) -> type[UserFactory]:
    return UserFactory


@pytest.fixture
def customer_factory(db: Any) -> type[CustomerFactory]:
    return CustomerFactory


@pytest.fixture
def contact_factory(db: Any) -> type[ContactFactory]:
    return ContactFactory


@pytest.fixture
def lead_factory(db: Any) -> type[LeadFactory]:
    return LeadFactory


@pytest.fixture
def fresh() -> Callable[[User], User]:
    """The user re-read from the database, as the next request would see them (no cached policies)."""

    def reload(user: User) -> User:
        return User.objects.get(pk=user.pk)

    return reload


@pytest.fixture
def run_jobs(monkeypatch: Any) -> Callable[[], int]:
    """Run the queued background tasks as `kehu db_worker --batch` does — the worker's own loop over the
    database queue — and return how many ran. Enqueueing happens on commit: start the job inside
    `django_capture_on_commit_callbacks(execute=True)`."""
    from django_tasks_db.management.commands import db_worker

    # the loop closes stale connections between tasks, which would end the test's transaction
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)

    def run() -> int:
        worker = db_worker.Worker(
            queue_names=["default"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="test-worker",
            excluded_queue_names=[],
        )
        worker.run()
        return worker._run_tasks

    return run
