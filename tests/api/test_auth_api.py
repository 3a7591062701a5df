"""Tokens: POST /api/v1/auth/token/, `kehu createtoken`, and deactivation ending a token at once."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from kehu.users import services as user_services
from kehu.users.models import ApiToken
from tests.api.conftest import PASSWORD

pytestmark = pytest.mark.django_db
TOKEN_URL = "/api/v1/auth/token/"


def test_token_for_username_and_password(users: Any) -> None:
    r = APIClient().post(TOKEN_URL, {"username": "rep", "password": PASSWORD}, format="json")
    assert r.status_code == 201
    token = r.json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/me/").json()["username"] == "rep"
    assert ApiToken.objects.filter(user=users["rep"]).count() == 1
    assert token not in str(list(ApiToken.objects.values_list("digest", "prefix")))  # stored hashed


def test_wrong_credentials_do_not_say_which(users: Any) -> None:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    wrong_password = client.post(TOKEN_URL, {"username": "rep", "password": "nope"}, format="json")
    wrong_user = client.post(TOKEN_URL, {"username": "nobody", "password": PASSWORD}, format="json")
    assert wrong_password.status_code == wrong_user.status_code == 400
    assert wrong_password.json() == wrong_user.json()
    assert list(wrong_password.json()["errors"]) == ["__all__"]
    assert not ApiToken.objects.exists()


def test_wrong_credentials_message_is_translated(users: Any) -> None:
    en = APIClient(HTTP_ACCEPT_LANGUAGE="en").post(TOKEN_URL, {"username": "rep", "password": "x"}, format="json")
    zh = APIClient(HTTP_ACCEPT_LANGUAGE="zh-hans").post(TOKEN_URL, {"username": "rep", "password": "x"}, format="json")
    assert en.json()["errors"]["__all__"] == ["The user name or password is not correct."]
    assert zh.status_code == 400 and zh.json()["errors"]["__all__"]


def test_repeated_failures_lock_out(users: Any, settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    client = APIClient()
    codes = [
        client.post(TOKEN_URL, {"username": "rep", "password": "bad"}, format="json").status_code for _ in range(3)
    ]
    assert codes[-1] == 429
    r = client.post(TOKEN_URL, {"username": "rep", "password": PASSWORD}, format="json")
    assert r.status_code == 429 and r["Content-Type"].startswith("application/json")
    assert not ApiToken.objects.exists()


def test_token_endpoint_is_throttled(users: Any, settings: Any) -> None:
    client = APIClient()
    codes = [client.post(TOKEN_URL, {"username": "", "password": ""}, format="json").status_code for _ in range(11)]
    assert codes[:10] == [400] * 10 and codes[10] == 429


def test_deactivated_users_token_is_refused_at_once(users: Any, root: Any, rep_api: Any) -> None:
    assert rep_api.get("/api/v1/me/").status_code == 200
    user_services.update_user(actor=root, user=users["rep"], values={"is_active": False})
    r = rep_api.get("/api/v1/me/")
    assert r.status_code == 401
    r = APIClient().post(TOKEN_URL, {"username": "rep", "password": PASSWORD}, format="json")
    assert r.status_code == 400


def test_createtoken_command(users: Any) -> None:
    out = io.StringIO()
    call_command("createtoken", "marketer", stdout=out)
    token = out.getvalue().strip()
    assert token.startswith("kehu_")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/me/").json()["username"] == "marketer"
    with pytest.raises(CommandError):
        call_command("createtoken", "nobody", stdout=io.StringIO())
