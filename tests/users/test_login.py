"""Signing in at /login/: argon2 password hashes, lockout after five failures (django-axes), sign-ins in the
audit log, and a deactivated user's open session stops working."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from kehu.core.models import Event
from kehu.users import services
from kehu.users.models import User

pytestmark = pytest.mark.django_db

WRONG = "not-the-password"


def login(client: Client, username: str, password: str, ip: str = "10.0.0.1") -> Any:
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def rep(role_users: dict[str, User]) -> User:
    return role_users["rep"]


def test_login_page_exists_and_signs_in(rep: User, password: str) -> None:
    client = Client()
    assert client.get("/login/").status_code == 200
    response = login(client, "rep", password)
    assert response.status_code == 302
    assert signed_in(client)
    assert client.get("/").status_code == 200
    event = Event.objects.filter(verb="logged_in").latest("id")
    assert (event.actor, event.data["ip"]) == (rep, "10.0.0.1")


def test_wrong_password_does_not_sign_in(rep: User) -> None:
    client = Client()
    response = login(client, "rep", WRONG)
    assert response.status_code == 200  # the form again, with an error
    assert not signed_in(client)
    assert not Event.objects.filter(verb="logged_in").exists()


def test_passwords_are_hashed_with_argon2(settings: Any, team_tree: Any, user_factory: Any) -> None:
    from kehu import settings as kehu_settings

    settings.PASSWORD_HASHERS = kehu_settings.PASSWORD_HASHERS  # the project's own, not the tests' fast one
    user = user_factory(username="argon", team=team_tree["east"], roles=["sales_rep"], password="Argon-pass-2024!")
    stored = User.objects.get(pk=user.pk).password
    assert stored.startswith("argon2$")
    assert "Argon-pass-2024!" not in stored
    client = Client()
    login(client, "argon", "Argon-pass-2024!")
    assert signed_in(client)


def test_the_project_hashes_with_argon2_first() -> None:
    from kehu import settings as kehu_settings

    assert kehu_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_five_failures_lock_the_account_even_for_the_right_password(rep: User, password: str) -> None:
    client = Client()
    for _ in range(4):
        assert login(client, "rep", WRONG).status_code == 200
    locked = login(client, "rep", WRONG)  # the fifth failure
    assert locked.status_code == 429
    response = login(client, "rep", password)
    assert response.status_code == 429
    assert not signed_in(client)
    # the lock is per user name and address: another user, or the same user elsewhere, is not locked out
    other = Client()
    login(other, "rep_south", password)
    assert signed_in(other)
    elsewhere = Client()
    login(elsewhere, "rep", password, ip="10.0.0.2")
    assert signed_in(elsewhere)


def test_four_failures_then_success_resets_the_count(rep: User, password: str) -> None:
    client = Client()
    for _ in range(4):
        login(client, "rep", WRONG)
    login(client, "rep", password)
    assert signed_in(client)
    client.logout()
    for _ in range(4):
        login(client, "rep", WRONG)
    login(client, "rep", password)
    assert signed_in(client)


def test_deactivated_user_cannot_sign_in_and_their_session_stops_working(
    rep: User, password: str, superuser: User
) -> None:
    client = Client()
    login(client, "rep", password)
    assert client.get("/").status_code == 200
    services.update_user(actor=superuser, user=rep, values={"is_active": False})
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    again = Client()
    login(again, "rep", password)
    assert not signed_in(again)
