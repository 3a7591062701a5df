"""Users (read), teams, roles and custom field definitions through the API; settings are for administrators."""

from __future__ import annotations

from typing import Any

import pytest

from kehu.core.models import CustomFieldDefinition
from kehu.users.models import Role, Team

pytestmark = pytest.mark.django_db


def test_users_are_read_only(users: Any, rep_api: Any, admin_api: Any) -> None:
    names = [u["username"] for u in rep_api.get("/api/v1/users/?ordering=username&page_size=200").json()["results"]]
    assert names == sorted(names) and "rep2" in names
    assert "password" not in rep_api.get(f"/api/v1/users/{users['rep2'].pk}/").json()
    assert admin_api.post("/api/v1/users/", {"username": "x"}).status_code == 405
    assert admin_api.delete(f"/api/v1/users/{users['rep'].pk}/").status_code == 405
    assert [u["username"] for u in rep_api.get(f"/api/v1/users/?team={users['rep'].team_id}").json()["results"]] == [
        "rep"
    ]


def test_team_crud(users: Any, teams: Any, admin_api: Any, rep_api: Any) -> None:
    r = admin_api.post("/api/v1/teams/", {"name": "华南区 South", "parent": teams["sales"].pk})
    assert r.status_code == 201, r.json()
    pk = r.json()["id"]
    assert r.json()["path"] == f"{teams['sales'].path}{pk}/"
    r = admin_api.patch(f"/api/v1/teams/{pk}/", {"parent": None, "lead": users["manager"].pk})
    assert r.status_code == 200 and r.json()["path"] == f"/{pk}/" and r.json()["lead"] == users["manager"].pk
    r = admin_api.patch(f"/api/v1/teams/{teams['sales'].pk}/", {"parent": teams["east"].pk})
    assert r.status_code == 400 and "parent" in r.json()["errors"]
    assert rep_api.post("/api/v1/teams/", {"name": "x"}).status_code == 403
    assert rep_api.get(f"/api/v1/teams/{pk}/").status_code == 200
    assert admin_api.delete(f"/api/v1/teams/{teams['sales'].pk}/").status_code == 400  # has members
    assert admin_api.delete(f"/api/v1/teams/{pk}/").status_code == 204
    assert not Team.objects.filter(pk=pk).exists()


def test_roles_admin_only(users: Any, admin_api: Any, rep_api: Any) -> None:
    role = Role.objects.get(code="sales_rep")
    assert rep_api.get("/api/v1/roles/").json()["results"] == []
    assert rep_api.get(f"/api/v1/roles/{role.pk}/").status_code == 404
    assert rep_api.post("/api/v1/roles/", {"code": "x", "name_en": "x", "name_zh": "x"}).status_code == 403

    body = {
        "code": "auditor",
        "name_en": "Auditor",
        "name_zh": "审计",
        "permissions": [
            {
                "object_type": "customers.customer",
                "actions": ["view"],
                "scope": "all",
                "field_rules": {"bank_account": "hidden"},
            }
        ],
    }
    r = admin_api.post("/api/v1/roles/", body)
    assert r.status_code == 201, r.json()
    pk = r.json()["id"]
    assert r.json()["permissions"][0]["field_rules"] == {"bank_account": "hidden"}
    bad = {**body, "code": "auditor2", "permissions": [{"object_type": "nope", "actions": ["view"], "scope": "all"}]}
    assert admin_api.post("/api/v1/roles/", bad).status_code == 400
    bad = {**body, "code": "auditor3", "permissions": [{**body["permissions"][0], "scope": "galaxy"}]}
    assert admin_api.post("/api/v1/roles/", bad).status_code == 400
    assert admin_api.post("/api/v1/roles/", body).status_code == 400  # code taken
    r = admin_api.patch(f"/api/v1/roles/{pk}/", {"description": "Reads everything"})
    assert r.status_code == 200 and len(r.json()["permissions"]) == 1
    r = admin_api.patch(f"/api/v1/roles/{pk}/", {"permissions": []})
    assert r.status_code == 200 and r.json()["permissions"] == []
    assert admin_api.delete(f"/api/v1/roles/{pk}/").status_code == 204
    assert not Role.objects.filter(pk=pk).exists()


def test_custom_field_definitions(users: Any, admin_api: Any, rep_api: Any) -> None:
    body = {
        "object_type": "sales.lead",
        "name": "budget",
        "label_en": "Budget",
        "label_zh": "预算",
        "type": "choice",
        "choices": [{"value": "low", "label_en": "Low", "label_zh": "低"}, {"value": "high"}],
    }
    r = admin_api.post("/api/v1/custom-fields/", body)
    assert r.status_code == 201, r.json()
    pk = r.json()["id"]
    assert rep_api.get("/api/v1/custom-fields/").json()["results"] == []
    assert rep_api.post("/api/v1/custom-fields/", {**body, "name": "b2"}).status_code == 403
    assert admin_api.post("/api/v1/custom-fields/", body).status_code == 400  # key taken
    assert admin_api.post("/api/v1/custom-fields/", {**body, "name": "c", "choices": []}).status_code == 400
    r = admin_api.patch(f"/api/v1/custom-fields/{pk}/", {"type": "text"})
    assert r.status_code == 400 and "type" in r.json()["errors"]
    r = admin_api.patch(f"/api/v1/custom-fields/{pk}/", {"label_en": "Budget level"})
    assert r.status_code == 200 and r.json()["label_en"] == "Budget level"
    # the field is usable on leads at once
    r = rep_api.post("/api/v1/leads/", {"name": "孙丽", "custom": {"budget": "high"}})
    assert r.status_code == 201 and r.json()["custom"] == {"budget": "high"}
    assert rep_api.post("/api/v1/leads/", {"name": "孙丽", "custom": {"budget": "huge"}}).status_code == 400
    assert admin_api.delete(f"/api/v1/custom-fields/{pk}/").status_code == 204
    assert not CustomFieldDefinition.objects.exists()


def test_tags(users: Any, admin_api: Any, rep_api: Any) -> None:
    r = rep_api.post("/api/v1/tags/", {"name": "渠道", "color": "info"})
    assert r.status_code == 201
    pk = r.json()["id"]
    assert rep_api.post("/api/v1/tags/", {"name": "渠道"}).status_code == 400
    assert rep_api.patch(f"/api/v1/tags/{pk}/", {"color": "danger"}).status_code == 403
    assert admin_api.patch(f"/api/v1/tags/{pk}/", {"color": "danger"}).json()["color"] == "danger"
    assert [t["name"] for t in rep_api.get("/api/v1/tags/?name=渠道").json()["results"]] == ["渠道"]
    assert admin_api.delete(f"/api/v1/tags/{pk}/").status_code == 204
