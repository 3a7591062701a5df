"""Settings pages for administrators: users, teams, roles, custom fields and pick lists."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.test import Client, RequestFactory
from rest_framework.exceptions import AuthenticationFailed

from kehu.core.models import CustomFieldDefinition, Event, PicklistOption
from kehu.customers import services as customer_services
from kehu.users import services
from kehu.users.authentication import BearerTokenAuthentication
from kehu.users.models import Role, RolePermission, Team, User

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "Ordentlich-Lang-2024!"


def make_user(username: str, role: str, team: Team | None = None, **extra: Any) -> User:
    extra.setdefault("language", "en")
    user = User.objects.create_user(username=username, password=GOOD_PASSWORD, team=team, **extra)
    user.roles.add(Role.objects.get(code=role))
    return user


@pytest.fixture
def admin() -> User:
    """An administrator by role (not a superuser), so the pages are gated by the seed role."""
    return make_user("boss", "administrator", display_name="Boss")


@pytest.fixture
def sales(admin: User) -> Team:
    return services.create_team(actor=admin, name="销售部")


@pytest.fixture
def east(admin: User, sales: Team) -> Team:
    return services.create_team(actor=admin, name="华东区", parent=sales)


@pytest.fixture
def rep(east: Team) -> User:
    return make_user("rep1", "sales_rep", east, display_name="Rep One")


@pytest.fixture
def client_admin(admin: User) -> Client:
    c = Client()
    c.force_login(admin)
    return c


@pytest.fixture
def client_rep(rep: User) -> Client:
    c = Client()
    c.force_login(rep)
    return c


def role_post(role: Role, **changes: Any) -> dict[str, Any]:
    """The POST the role page sends for `role` as it stands, with `changes` applied on top."""
    data: dict[str, Any] = {"name_en": role.name_en, "name_zh": role.name_zh, "description": role.description}
    for p in role.permissions.all():
        data[f"act:{p.object_type}"] = list(p.actions)
        data[f"scope:{p.object_type}"] = p.scope
        for field, rule in p.field_rules.items():
            data[f"rule:{p.object_type}:{field}"] = rule
    data.update(changes)
    return data


def settings_urls(admin: User, rep: User, east: Team) -> list[str]:
    defn = CustomFieldDefinition.objects.create(
        object_type="customers.customer", name="tier", label_en="Tier", label_zh="等级", type="text"
    )
    option = PicklistOption.objects.filter(list="industry").first()
    assert option is not None
    role = Role.objects.get(code="sales_rep")
    return [
        "/settings/",
        "/settings/users/",
        "/settings/users/?q=rep&active=1",
        "/settings/users/new/",
        f"/settings/users/{rep.pk}/",
        f"/settings/users/{rep.pk}/password/",
        f"/settings/users/{rep.pk}/active/",
        "/settings/teams/",
        "/settings/teams/new/",
        f"/settings/teams/{east.pk}/",
        f"/settings/teams/{east.pk}/delete/",
        "/settings/roles/",
        "/settings/roles/new/",
        f"/settings/roles/{role.pk}/",
        f"/settings/roles/{role.pk}/delete/",
        "/settings/fields/",
        "/settings/fields/new/",
        f"/settings/fields/{defn.pk}/",
        f"/settings/fields/{defn.pk}/delete/",
        "/settings/picklists/",
        "/settings/picklists/industry/new/",
        f"/settings/picklists/options/{option.pk}/",
    ]


# --------------------------------------------------------------------------- access


def test_every_page_renders_for_an_administrator(client_admin: Client, admin: User, rep: User, east: Team) -> None:
    for url in settings_urls(admin, rep, east):
        response = client_admin.get(url)
        assert response.status_code == 200, url
        assert b'class="page-head"' in response.content, url


def test_a_sales_rep_gets_404_on_every_settings_url(client_rep: Client, admin: User, rep: User, east: Team) -> None:
    urls = settings_urls(admin, rep, east)
    option = PicklistOption.objects.filter(list="industry").first()
    assert option is not None
    for url in [*urls, f"/settings/picklists/options/{option.pk}/toggle/"]:
        assert client_rep.get(url).status_code == 404, url
        assert client_rep.post(url, {"name": "x", "username": "x"}).status_code == 404, url
    option.refresh_from_db()
    assert option.active
    assert not Team.objects.filter(name="x").exists()
    assert b"/settings/" not in client_rep.get("/").content


def test_sidebar_shows_settings_to_the_administrator(client_admin: Client) -> None:
    assert b'href="/settings/"' in client_admin.get("/").content


# --------------------------------------------------------------------------- users


def test_create_user_with_team_roles_and_password(client_admin: Client, east: Team) -> None:
    manager = Role.objects.get(code="sales_manager")
    response = client_admin.post(
        "/settings/users/new/",
        {
            "username": "wang.fang",
            "display_name": "王芳",
            "email": "wang.fang@example.com",
            "phone": "138 1234 5678",
            "team": east.pk,
            "roles": [manager.pk],
            "language": "en",
            "password": GOOD_PASSWORD,
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="wang.fang")
    assert user.team == east
    assert list(user.roles.all()) == [manager]
    assert user.phone == "+8613812345678"
    assert user.check_password(GOOD_PASSWORD)
    assert Event.objects.filter(verb="created", object_id=user.pk, object_repr="王芳").exists()
    listing = client_admin.get("/settings/users/?q=王").content.decode()
    assert "wang.fang" in listing and "rep1" not in listing


def test_duplicate_user_name_shows_the_message_and_saves_nothing(client_admin: Client, rep: User) -> None:
    before = User.objects.count()
    response = client_admin.post(
        "/settings/users/new/",
        {"username": "REP1", "language": "zh-hans", "password": GOOD_PASSWORD},
    )
    assert response.status_code == 200
    assert "A user with that user name already exists." in response.content.decode()
    assert User.objects.count() == before


def test_weak_password_shows_the_message_and_saves_nothing(client_admin: Client) -> None:
    response = client_admin.post(
        "/settings/users/new/", {"username": "newbie", "language": "zh-hans", "password": "123"}
    )
    assert response.status_code == 200
    assert "This password is too short" in response.content.decode()
    assert not User.objects.filter(username="newbie").exists()


def test_bad_phone_is_named_next_to_the_field(client_admin: Client) -> None:
    response = client_admin.post(
        "/settings/users/new/",
        {"username": "newbie", "language": "zh-hans", "password": GOOD_PASSWORD, "phone": "12"},
    )
    assert "is not a valid phone number" in response.content.decode()
    assert not User.objects.filter(username="newbie").exists()


def test_edit_user_changes_team_and_roles(client_admin: Client, rep: User, sales: Team) -> None:
    finance = Role.objects.get(code="finance")
    response = client_admin.post(
        f"/settings/users/{rep.pk}/",
        {"username": "rep1", "display_name": "Rep Uno", "team": sales.pk, "roles": [finance.pk], "language": "en"},
    )
    assert response.status_code == 302
    rep.refresh_from_db()
    assert (rep.display_name, rep.team, list(rep.roles.all())) == ("Rep Uno", sales, [finance])


def test_reset_password(client_admin: Client, rep: User) -> None:
    weak = client_admin.post(f"/settings/users/{rep.pk}/password/", {"password": "abc", "password2": "abc"})
    assert weak.status_code == 200 and "This password is too short" in weak.content.decode()
    new = "Neues-Passwort-77!"
    differ = client_admin.post(f"/settings/users/{rep.pk}/password/", {"password": new, "password2": new + "x"})
    assert "The two passwords differ." in differ.content.decode()
    rep.refresh_from_db()
    assert rep.check_password(GOOD_PASSWORD)
    ok = client_admin.post(f"/settings/users/{rep.pk}/password/", {"password": new, "password2": new})
    assert ok.status_code == 302
    rep.refresh_from_db()
    assert rep.check_password(new)


def test_deactivating_a_user_logs_their_session_out_and_stops_tokens(
    client_admin: Client, client_rep: Client, rep: User
) -> None:
    token = services.create_token(user=rep, name="erp")
    assert client_rep.get("/customers/").status_code == 200
    confirm = client_admin.get(f"/settings/users/{rep.pk}/active/")
    assert "API tokens stop working" in confirm.content.decode()
    assert client_admin.post(f"/settings/users/{rep.pk}/active/").status_code == 302
    rep.refresh_from_db()
    assert not rep.is_active
    assert not [s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(rep.pk)]
    response = client_rep.get("/customers/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    request = RequestFactory().get("/api/v1/customers/", HTTP_AUTHORIZATION=f"Bearer {token}")
    with pytest.raises(AuthenticationFailed):
        BearerTokenAuthentication().authenticate(request)
    assert Event.objects.filter(verb="deactivated", object_id=rep.pk).exists()
    # … and back again
    assert client_admin.post(f"/settings/users/{rep.pk}/active/").status_code == 302
    rep.refresh_from_db()
    assert rep.is_active


def test_an_administrator_cannot_deactivate_themselves(client_admin: Client, admin: User) -> None:
    response = client_admin.post(f"/settings/users/{admin.pk}/active/", follow=True)
    assert "You cannot deactivate your own account." in response.content.decode()
    admin.refresh_from_db()
    assert admin.is_active


def test_user_list_filters_by_team_role_and_status(client_admin: Client, rep: User, sales: Team) -> None:
    other = make_user("finance1", "finance", sales)
    services.update_user(actor=User.objects.get(username="boss"), user=other, values={"is_active": False})
    by_team = client_admin.get(f"/settings/users/?team={sales.pk}").content.decode()
    assert "rep1" in by_team and "finance1" in by_team and "boss" not in by_team  # sub-teams included
    role = Role.objects.get(code="finance")
    by_role = client_admin.get(f"/settings/users/?role={role.pk}").content.decode()
    assert "finance1" in by_role and "rep1" not in by_role
    active = client_admin.get("/settings/users/?active=1").content.decode()
    assert "rep1" in active and "finance1" not in active
    empty = client_admin.get("/settings/users/?q=nobody-at-all").content.decode()
    assert "No user matches these filters." in empty


# --------------------------------------------------------------------------- teams


def test_creating_a_team_under_another_builds_the_tree(client_admin: Client) -> None:
    assert client_admin.post("/settings/teams/new/", {"name": "销售部"}).status_code == 302
    sales = Team.objects.get(name="销售部")
    assert client_admin.post("/settings/teams/new/", {"name": "华东区", "parent": sales.pk}).status_code == 302
    east = Team.objects.get(name="华东区")
    assert client_admin.post("/settings/teams/new/", {"name": "上海组", "parent": east.pk}).status_code == 302
    shanghai = Team.objects.get(name="上海组")
    assert east.parent == sales
    assert shanghai.path == f"/{sales.pk}/{east.pk}/{shanghai.pk}/"
    page = client_admin.get("/settings/teams/").content.decode()
    assert page.index("销售部") < page.index("华东区") < page.index("上海组")
    assert "calc(1rem + 2 * 1.5rem)" in page  # 上海组 is indented two levels


def test_a_team_cannot_move_under_its_own_child(client_admin: Client, sales: Team, east: Team) -> None:
    response = client_admin.post(f"/settings/teams/{sales.pk}/", {"name": "销售部", "parent": east.pk})
    assert response.status_code == 200
    assert "A team cannot sit under itself or one of its sub-teams." in response.content.decode()
    sales.refresh_from_db()
    assert sales.parent is None and sales.path == f"/{sales.pk}/"


def test_team_lead_and_rename(client_admin: Client, east: Team, rep: User) -> None:
    response = client_admin.post(f"/settings/teams/{east.pk}/", {"name": "华东大区", "lead": rep.pk, "parent": ""})
    assert response.status_code == 302
    east.refresh_from_db()
    assert (east.name, east.lead, east.parent) == ("华东大区", rep, None)
    assert east.path == f"/{east.pk}/"
    assert "Rep One" in client_admin.get("/settings/teams/").content.decode()


def test_deleting_a_team_with_members_or_sub_teams_is_refused(
    client_admin: Client, sales: Team, east: Team, rep: User
) -> None:
    for team in (sales, east):
        page = client_admin.post(f"/settings/teams/{team.pk}/delete/", follow=True).content.decode()
        assert "Move this team&#x27;s members and sub-teams elsewhere first." in page
    assert Team.objects.count() == 2
    empty = Team.objects.create(name="客服部", path="/")
    assert client_admin.post(f"/settings/teams/{empty.pk}/delete/").status_code == 302
    assert not Team.objects.filter(pk=empty.pk).exists()


# --------------------------------------------------------------------------- roles


def test_giving_sales_reps_team_scope_shows_a_teammates_customer(
    client_admin: Client, client_rep: Client, east: Team
) -> None:
    mate = make_user("rep2", "sales_rep", east)
    customer_services.create_customer(actor=mate, data={"name": "同事的客户有限公司"})
    assert "同事的客户有限公司" not in client_rep.get("/customers/").content.decode()

    role = Role.objects.get(code="sales_rep")
    response = client_admin.post(f"/settings/roles/{role.pk}/", role_post(role, **{"scope:customers.customer": "team"}))
    assert response.status_code == 302
    grant = RolePermission.objects.get(role=role, object_type="customers.customer")
    assert grant.scope == "team"
    assert grant.field_rules == {"credit_limit": "hidden", "payment_terms": "hidden", "bank_account": "hidden"}
    assert "同事的客户有限公司" in client_rep.get("/customers/").content.decode()


def test_role_field_rules_and_actions_round_trip(client_admin: Client) -> None:
    role = Role.objects.get(code="marketing")
    data = role_post(role, **{"rule:sales.lead:phone": "hidden", "rule:sales.lead:email": "readonly"})
    data["act:customers.tag"] = ["view"]
    data["scope:customers.tag"] = "all"
    assert client_admin.post(f"/settings/roles/{role.pk}/", data).status_code == 302
    lead = RolePermission.objects.get(role=role, object_type="sales.lead")
    assert lead.field_rules == {"phone": "hidden", "email": "readonly"}
    assert RolePermission.objects.get(role=role, object_type="customers.tag").actions == ["view"]
    page = client_admin.get(f"/settings/roles/{role.pk}/").content.decode()
    assert 'name="rule:sales.lead:phone" value="hidden" checked' in page


def test_a_grant_without_view_is_refused(client_admin: Client) -> None:
    role = Role.objects.get(code="sales_rep")
    before = list(RolePermission.objects.filter(role=role).values_list("object_type", "actions", "scope"))
    data = role_post(role, **{"act:customers.customer": ["change"]})
    response = client_admin.post(f"/settings/roles/{role.pk}/", data)
    assert response.status_code == 200
    assert "Every other action needs “View” as well." in response.content.decode()
    assert list(RolePermission.objects.filter(role=role).values_list("object_type", "actions", "scope")) == before


def test_create_a_role_and_give_it_to_a_user(client_admin: Client, rep: User) -> None:
    data = {
        "code": "key_account",
        "name_en": "Key account manager",
        "name_zh": "大客户经理",
        "description": "",
        "act:customers.customer": ["view", "change"],
        "scope:customers.customer": "all",
    }
    assert client_admin.post("/settings/roles/new/", data).status_code == 302
    role = Role.objects.get(code="key_account")
    assert role.permissions.get().actions == ["change", "view"]
    duplicate = client_admin.post("/settings/roles/new/", data)
    assert "A role with the code “key_account” already exists." in duplicate.content.decode()
    assert Role.objects.filter(code="key_account").count() == 1


def test_seed_role_descriptions_read_in_the_users_language_until_changed(client_admin: Client, admin: User) -> None:
    User.objects.filter(pk=admin.pk).update(language="zh-hans")
    page = client_admin.get("/settings/roles/").content.decode()
    assert "全部权限，包括用户、角色和系统设置。" in page
    assert "Everything, including users, roles and settings." not in page

    role = Role.objects.get(code="administrator")
    editor = client_admin.get(f"/settings/roles/{role.pk}/").content.decode()
    assert 'value="全部权限，包括用户、角色和系统设置。"' in editor
    unchanged = role_post(role, description="全部权限，包括用户、角色和系统设置。")
    assert client_admin.post(f"/settings/roles/{role.pk}/", unchanged).status_code == 302
    role.refresh_from_db()
    assert role.description == "Everything, including users, roles and settings."  # English readers keep theirs
    edited = role_post(role, description="全部权限（含审计）")
    assert client_admin.post(f"/settings/roles/{role.pk}/", edited).status_code == 302
    role.refresh_from_db()
    assert role.description == "全部权限（含审计）"

    Role.objects.filter(code="finance").update(description="Our own words <b>here</b>")
    page = client_admin.get("/settings/roles/").content.decode()
    assert "Our own words &lt;b&gt;here&lt;/b&gt;" in page  # shown as typed, and as text


def test_a_role_nobody_holds_can_be_deleted_and_a_held_one_cannot(client_admin: Client, rep: User) -> None:
    sales_rep = Role.objects.get(code="sales_rep")
    assert rep.roles.filter(pk=sales_rep.pk).exists()
    page = client_admin.get(f"/settings/roles/{sales_rep.pk}/delete/").content.decode()
    assert "1 user holds this role." in page and "disabled" in page and str(rep) in page
    refused = client_admin.post(f"/settings/roles/{sales_rep.pk}/delete/", follow=True).content.decode()
    assert "1 user still holds this role. Give them another role first" in refused
    assert Role.objects.filter(pk=sales_rep.pk).exists() and sales_rep.permissions.exists()

    spare = Role.objects.create(code="temp", name_en="Temporary", name_zh="临时")
    RolePermission.objects.create(role=spare, object_type="customers.customer", actions=["view"], scope="own")
    assert f"/settings/roles/{spare.pk}/delete/" in client_admin.get(f"/settings/roles/{spare.pk}/").content.decode()
    assert client_admin.post(f"/settings/roles/{spare.pk}/delete/").status_code == 302
    assert not Role.objects.filter(code="temp").exists() and not RolePermission.objects.filter(role_id=spare.pk)
    assert Event.objects.filter(object_id=spare.pk, verb="deleted", content_type__model="role").exists()


# --------------------------------------------------------------------------- custom fields


FIELD = {
    "object_type": "customers.customer",
    "name": "tier",
    "label_en": "Tier",
    "label_zh": "等级",
    "type": "choice",
    "help_text": "",
    "order": 1,
    "choices": "vip | VIP | 贵宾\nnormal | Normal",
}


def test_create_a_choice_field(client_admin: Client) -> None:
    assert client_admin.post("/settings/fields/new/", FIELD).status_code == 302
    defn = CustomFieldDefinition.objects.get(name="tier")
    assert defn.choices == [
        {"value": "vip", "label_en": "VIP", "label_zh": "贵宾"},
        {"value": "normal", "label_en": "Normal", "label_zh": "Normal"},
    ]
    page = client_admin.get("/settings/fields/").content.decode()
    assert "cf_tier" in page and "Tier" in page


def test_a_choice_field_without_choices_is_refused(client_admin: Client) -> None:
    response = client_admin.post("/settings/fields/new/", {**FIELD, "choices": "  \n"})
    assert response.status_code == 200
    assert "Give at least one choice." in response.content.decode()
    assert not CustomFieldDefinition.objects.exists()


def test_a_duplicate_custom_field_key_is_refused(client_admin: Client) -> None:
    assert client_admin.post("/settings/fields/new/", FIELD).status_code == 302
    response = client_admin.post("/settings/fields/new/", {**FIELD, "label_en": "Other"})
    assert response.status_code == 200
    assert "This object type already has a field with key “tier”." in response.content.decode()
    assert CustomFieldDefinition.objects.count() == 1
    # the same key on another object type is fine
    assert client_admin.post("/settings/fields/new/", {**FIELD, "object_type": "sales.lead"}).status_code == 302


def test_bad_key_and_choice_lines_are_named(client_admin: Client) -> None:
    response = client_admin.post("/settings/fields/new/", {**FIELD, "name": "9 Tier", "choices": "a | b | c | d"})
    page = response.content.decode()
    assert "Start with a letter" in page and "Line 1:" in page
    assert not CustomFieldDefinition.objects.exists()


def test_edit_keeps_type_and_key_and_delete_keeps_values(client_admin: Client, admin: User) -> None:
    client_admin.post("/settings/fields/new/", FIELD)
    defn = CustomFieldDefinition.objects.get(name="tier")
    customer = customer_services.create_customer(actor=admin, data={"name": "Acme"}, custom={"tier": "vip"})
    form = client_admin.get(f"/settings/fields/{defn.pk}/").content.decode()
    assert 'value="Tier"' in form and "vip | VIP | 贵宾" in form
    response = client_admin.post(
        f"/settings/fields/{defn.pk}/", {**FIELD, "name": "level", "type": "text", "label_en": "Level"}
    )
    assert response.status_code == 302
    defn.refresh_from_db()
    assert (defn.name, defn.type, defn.label_en) == ("tier", "choice", "Level")
    confirm = client_admin.get(f"/settings/fields/{defn.pk}/delete/").content.decode()
    assert "stay stored on the records and in their change history" in confirm
    assert client_admin.post(f"/settings/fields/{defn.pk}/delete/").status_code == 302
    assert not CustomFieldDefinition.objects.exists()
    customer.refresh_from_db()
    assert customer.custom == {"tier": "vip"}


# --------------------------------------------------------------------------- pick lists


def test_pick_list_add_edit_and_deactivate(client_admin: Client) -> None:
    response = client_admin.post(
        "/settings/picklists/industry/new/",
        {"value": "agriculture", "label_en": "Agriculture", "label_zh": "农业", "order": 20},
    )
    assert response.status_code == 302
    option = PicklistOption.objects.get(list="industry", value="agriculture")
    duplicate = client_admin.post(
        "/settings/picklists/industry/new/", {"value": "agriculture", "label_en": "X", "label_zh": "X", "order": 1}
    )
    assert "This pick list already has the value “agriculture”." in duplicate.content.decode()
    assert PicklistOption.objects.filter(value="agriculture").count() == 1
    edited = client_admin.post(
        f"/settings/picklists/options/{option.pk}/",
        {"value": "farming", "label_en": "Farming", "label_zh": "农业", "order": 3},
    )
    assert edited.status_code == 302
    option.refresh_from_db()
    assert (option.value, option.label_en, option.order) == ("agriculture", "Farming", 3)
    assert client_admin.post(f"/settings/picklists/options/{option.pk}/toggle/").status_code == 302
    option.refresh_from_db()
    assert not option.active
    page = client_admin.get("/settings/picklists/").content.decode()
    assert "Farming" in page and "Activate" in page
    assert client_admin.get("/settings/picklists/nonsense/new/").status_code == 404
