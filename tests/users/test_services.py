"""Users, teams and tokens: the team tree and moving sub-trees, password rules, deactivation ending tokens
and sessions at once, and the language setting."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory
from django.utils import translation
from rest_framework.exceptions import AuthenticationFailed

from kehu.core import permissions
from kehu.core.models import Event
from kehu.customers.models import Customer
from kehu.users import services
from kehu.users.authentication import BearerTokenAuthentication
from kehu.users.models import ApiToken, Role, Team, User

pytestmark = pytest.mark.django_db


def path_of(team: Team) -> str:
    return Team.objects.get(pk=team.pk).path


def test_team_tree_paths(team_tree: dict[str, Team]) -> None:
    sales, east, shanghai, south = (team_tree[k] for k in ("sales", "east", "shanghai", "south"))
    assert path_of(sales) == f"/{sales.pk}/"
    assert path_of(east) == f"/{sales.pk}/{east.pk}/"
    assert path_of(shanghai) == f"/{sales.pk}/{east.pk}/{shanghai.pk}/"
    assert path_of(south) == f"/{sales.pk}/{south.pk}/"
    assert Team.objects.get(pk=shanghai.pk).depth == 2


def test_moving_a_subtree_moves_its_descendants_and_the_gate_follows(
    team_tree: dict[str, Team], role_users: dict[str, User], customer_factory: Any, superuser: User, fresh: Any
) -> None:
    east, shanghai, hq = team_tree["east"], team_tree["shanghai"], team_tree["hq"]
    customer_factory(owner=role_users["rep_sh"], name="上海组的客户")
    assert "上海组的客户" in set(
        permissions.visible(Customer, fresh(role_users["manager"])).values_list("name", flat=True)
    )

    changes = services.update_team(actor=superuser, team=east, name="华东区", parent=hq, lead=None)
    assert changes["parent"] == [team_tree["sales"].pk, hq.pk]
    assert path_of(east) == f"/{hq.pk}/{east.pk}/"
    assert path_of(shanghai) == f"/{hq.pk}/{east.pk}/{shanghai.pk}/"
    assert path_of(team_tree["south"]) == f"/{team_tree['sales'].pk}/{team_tree['south'].pk}/"
    # 销售部's manager no longer sees the moved sub-tree; 华东区's manager still sees 上海组
    visible_to = lambda who: set(  # noqa: E731
        permissions.visible(Customer, fresh(role_users[who])).values_list("name", flat=True)
    )
    assert "上海组的客户" not in visible_to("manager")
    assert "上海组的客户" in visible_to("east_manager")
    assert Event.objects.filter(content_type__model="team", object_id=east.pk, verb="updated").exists()


def test_a_team_cannot_move_under_itself_or_its_descendants(team_tree: dict[str, Team], superuser: User) -> None:
    sales, shanghai = team_tree["sales"], team_tree["shanghai"]
    for parent in (sales, team_tree["east"], shanghai):
        with pytest.raises(ValidationError) as exc:
            services.update_team(actor=superuser, team=sales, name="销售部", parent=parent, lead=None)
        assert "parent" in exc.value.message_dict
    sales.refresh_from_db()
    assert sales.parent is None and path_of(sales) == f"/{sales.pk}/"
    assert path_of(shanghai).startswith(f"/{sales.pk}/")


def test_a_team_with_members_or_sub_teams_cannot_be_deleted(
    team_tree: dict[str, Team], role_users: dict[str, User], superuser: User
) -> None:
    with pytest.raises(ValidationError):
        services.delete_team(actor=superuser, team=team_tree["sales"])  # sub-teams
    with pytest.raises(ValidationError):
        services.delete_team(actor=superuser, team=team_tree["south"])  # a member
    empty = services.create_team(actor=superuser, name="空部门", parent=team_tree["sales"])
    services.delete_team(actor=superuser, team=empty)
    assert not Team.objects.filter(pk=empty.pk).exists()


def test_team_changes_need_the_permission(team_tree: dict[str, Team], role_users: dict[str, User]) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.create_team(actor=role_users["manager"], name="私设部门", parent=team_tree["sales"])
    assert not Team.objects.filter(name="私设部门").exists()


@pytest.mark.parametrize(
    ("password", "why"),
    [("123", "too short"), ("12345678901", "numeric"), ("password123", "common"), ("newperson1x", "like the name")],
)
def test_create_user_validates_the_password(superuser: User, password: str, why: str) -> None:
    with pytest.raises(ValidationError) as exc:
        services.create_user(
            actor=superuser,
            data={"username": "newperson1x", "email": "newperson1x@example.com"},
            password=password,
            roles=[],
        )
    assert "password" in exc.value.message_dict, why
    assert not User.objects.filter(username="newperson1x").exists()


def test_password_rules_answer_in_the_users_language(superuser: User) -> None:
    """Every rule's message is in Chinese for a Chinese user, the length rule included."""
    for password in ("ab1", "12345678901", "password123"):
        with translation.override("zh-hans"), pytest.raises(ValidationError) as exc:
            services.create_user(actor=superuser, data={"username": "lisi9"}, password=password, roles=[])
        for message in exc.value.message_dict["password"]:
            assert re.search(r"[\u4e00-\u9fff]", message), message
            assert not re.search(r"[A-Za-z]{4,}", message), message


def test_team_names_are_unique_among_siblings(superuser: User, team_tree: dict[str, Team]) -> None:
    sales = team_tree["sales"]
    existing = sales.children.first()
    assert existing is not None
    with pytest.raises(ValidationError) as exc:
        services.create_team(actor=superuser, name=f" {existing.name} ", parent=sales)
    assert "name" in exc.value.message_dict
    assert sales.children.filter(name=existing.name).count() == 1
    other = services.create_team(actor=superuser, name="临时组", parent=sales)
    with pytest.raises(ValidationError):
        services.update_team(actor=superuser, team=other, name=existing.name, parent=sales, lead=None)
    other.refresh_from_db()
    assert other.name == "临时组"
    services.create_team(actor=superuser, name=existing.name, parent=other)  # the same name elsewhere is fine


def test_create_user_refuses_a_taken_user_name_in_any_case(role_users: dict[str, User], superuser: User) -> None:
    with pytest.raises(ValidationError) as exc:
        services.create_user(actor=superuser, data={"username": "REP"}, password="Another-pass-2024!", roles=[])
    assert "username" in exc.value.message_dict
    assert User.objects.filter(username__iexact="rep").count() == 1


def test_create_user_stores_roles_and_records_the_event(superuser: User, team_tree: dict[str, Team]) -> None:
    user = services.create_user(
        actor=superuser,
        data={"username": "wangfang", "display_name": "王芳", "team": team_tree["south"]},
        password="Wang-Fang-2024!",
        roles=[Role.objects.get(code="sales_rep")],
    )
    assert user.check_password("Wang-Fang-2024!")
    assert list(user.roles.values_list("code", flat=True)) == ["sales_rep"]
    event = Event.objects.get(content_type__model="user", object_id=user.pk, verb="created")
    assert "password" not in event.changes
    assert event.actor == superuser


def test_a_rep_cannot_create_users(role_users: dict[str, User]) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.create_user(
            actor=role_users["rep"], data={"username": "sneaky"}, password="Sneaky-pass-2024!", roles=[]
        )
    assert not User.objects.filter(username="sneaky").exists()


def bearer(token: str) -> Any:
    return RequestFactory().get("/api/v1/customers/", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_deactivation_ends_tokens_and_sessions(role_users: dict[str, User], superuser: User) -> None:
    rep = role_users["rep"]
    token = services.create_token(user=rep, name="laptop")
    auth = BearerTokenAuthentication()
    user, _tok = auth.authenticate(bearer(token))
    assert user == rep
    assert ApiToken.objects.get(user=rep).digest != token  # only the hash is stored
    with pytest.raises(AuthenticationFailed):
        auth.authenticate(bearer(token + "x"))

    client = Client()
    client.force_login(rep)
    other = Client()
    other.force_login(role_users["rep_south"])
    assert client.get("/").status_code == 200
    assert Session.objects.count() == 2

    services.update_user(actor=superuser, user=rep, values={"is_active": False})
    with pytest.raises(AuthenticationFailed):
        auth.authenticate(bearer(token))
    assert Session.objects.count() == 1  # the rep's session is gone, the other user's stays
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert other.get("/").status_code == 200
    assert Event.objects.filter(content_type__model="user", object_id=rep.pk, verb="deactivated").exists()
    # and no new token for a deactivated user
    with pytest.raises(ValidationError):
        services.create_token(user=User.objects.get(pk=rep.pk))


def test_revoked_token_stops_working(role_users: dict[str, User]) -> None:
    rep = role_users["rep"]
    token = services.create_token(user=rep)
    services.revoke_token(actor=rep, token=ApiToken.objects.get(user=rep))
    with pytest.raises(AuthenticationFailed):
        BearerTokenAuthentication().authenticate(bearer(token))


def test_the_last_administrator_cannot_be_deactivated(role_users: dict[str, User], superuser: User) -> None:
    services.update_user(actor=superuser, user=role_users["admin"], values={"is_active": False})
    with pytest.raises(ValidationError):
        services.update_user(actor=superuser, user=superuser, values={"is_active": False})
    assert User.objects.get(pk=superuser.pk).is_active


def test_set_language(role_users: dict[str, User]) -> None:
    rep = role_users["rep"]
    assert rep.language == "en"
    services.set_language(user=rep, language="zh-hans")
    assert User.objects.get(pk=rep.pk).language == "zh-hans"
    event = Event.objects.filter(content_type__model="user", object_id=rep.pk, verb="updated").latest("id")
    assert event.changes == {"language": ["en", "zh-hans"]}
    count = Event.objects.count()
    services.set_language(user=rep, language="zh-hans")  # no change, no event
    assert Event.objects.count() == count
    with pytest.raises(ValidationError) as exc:
        services.set_language(user=rep, language="fr")
    assert "language" in exc.value.message_dict
    assert User.objects.get(pk=rep.pk).language == "zh-hans"


def test_set_password_checks_rules_and_rights(role_users: dict[str, User]) -> None:
    from django.core.exceptions import PermissionDenied

    rep = role_users["rep"]
    with pytest.raises(ValidationError):
        services.set_password(actor=rep, user=rep, password="123")
    with pytest.raises(PermissionDenied):
        services.set_password(actor=rep, user=role_users["rep_south"], password="Taken-over-2024!")
    services.set_password(actor=rep, user=rep, password="My-new-pass-2024!")
    assert User.objects.get(pk=rep.pk).check_password("My-new-pass-2024!")
    assert User.objects.get(pk=role_users["rep_south"].pk).check_password("Kehu-test-pass-2024!")


def test_deactivation_deletes_tokens_so_reactivation_does_not_revive_them(
    role_users: dict[str, User], superuser: User
) -> None:
    rep = role_users["rep"]
    token = services.create_token(user=rep, name="laptop")
    other = services.create_token(user=role_users["rep_south"], name="other")
    prefix = ApiToken.objects.get(user=rep).prefix
    auth = BearerTokenAuthentication()

    services.update_user(actor=superuser, user=rep, values={"is_active": False})

    assert not ApiToken.objects.filter(user=rep).exists()
    event = Event.objects.get(content_type__model="user", object_id=rep.pk, verb="deactivated")
    assert event.data == {"tokens_revoked": [prefix]} and event.actor == superuser
    services.update_user(actor=superuser, user=User.objects.get(pk=rep.pk), values={"is_active": True})
    with pytest.raises(AuthenticationFailed):
        auth.authenticate(bearer(token))  # the old token stays dead after reactivation
    user, _tok = auth.authenticate(bearer(other))  # another user's token is untouched
    assert user == role_users["rep_south"]
