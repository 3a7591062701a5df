"""/api/v1/activities/ and /api/v1/tasks/: the gate on lists, details and writes; related-record filters."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from kehu.activities import services
from kehu.activities.models import Activity, Task
from kehu.users import services as user_services
from kehu.users.models import User

pytestmark = pytest.mark.django_db


def api(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {user_services.create_token(user=user)}", HTTP_ACCEPT_LANGUAGE="en")
    return client


def test_log_list_and_filter_follow_ups(users: dict[str, User], records: dict[str, Any]) -> None:
    rep = api(users["rep"])
    response = rep.post(
        "/api/v1/activities/", {"kind": "call", "subject": "电话", "contact": records["contact"].pk}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["customer"] == records["customer"].pk and body["owner"] == users["rep"].pk
    services.log_activity(actor=users["rep"], data={"subject": "线索沟通", "lead": records["lead"]})
    by_customer = rep.get("/api/v1/activities/", {"customer": records["customer"].pk}).json()["results"]
    assert [a["subject"] for a in by_customer] == ["电话"]
    assert [a["subject"] for a in rep.get("/api/v1/activities/", {"lead": records["lead"].pk}).json()["results"]] == [
        "线索沟通"
    ]
    assert api(users["rep_south"]).get("/api/v1/activities/").json()["results"] == []
    assert api(users["rep_south"]).get(f"/api/v1/activities/{body['id']}/").status_code == 404


def test_bad_input_and_hidden_records(users: dict[str, User], records: dict[str, Any]) -> None:
    rep = api(users["rep"])
    response = rep.post("/api/v1/activities/", {"kind": "call", "customer": records["customer"].pk}, format="json")
    assert response.status_code == 400 and "subject" in response.json()["errors"]
    response = rep.post("/api/v1/activities/", {"subject": "孤立"}, format="json")
    assert response.status_code == 400 and "__all__" in response.json()["errors"]
    south = api(users["rep_south"])
    response = south.post("/api/v1/activities/", {"subject": "x", "customer": records["customer"].pk}, format="json")
    assert response.status_code == 400 and "customer" in response.json()["errors"]
    past = (timezone.localdate() - dt.timedelta(days=3)).isoformat()
    response = rep.post(
        "/api/v1/activities/",
        {"subject": "x", "customer": records["customer"].pk, "next_follow_up": past},
        format="json",
    )
    assert response.status_code == 400 and "next_follow_up" in response.json()["errors"]
    assert not Activity.objects.exists()


def test_tasks_assign_complete_and_permissions(users: dict[str, User], records: dict[str, Any]) -> None:
    manager = api(users["east_manager"])
    due = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = manager.post(
        "/api/v1/tasks/",
        {"title": "报价", "due_date": due, "owner": users["rep"].pk, "opportunity": records["opportunity"].pk},
        format="json",
    )
    assert response.status_code == 201, response.json()
    task = response.json()
    assert (task["owner"], task["assigned_by"], task["customer"]) == (
        users["rep"].pk,
        users["east_manager"].pk,
        records["customer"].pk,
    )
    response = manager.post("/api/v1/tasks/", {"title": "越界", "owner": users["rep_south"].pk}, format="json")
    assert response.status_code == 400  # outside the east manager's scope (not even visible as a choice)
    rep = api(users["rep"])
    response = rep.post("/api/v1/tasks/", {"title": "代办", "owner": users["rep_sh"].pk}, format="json")
    assert response.status_code == 400 and "owner" in response.json()["errors"]
    assert [
        t["title"] for t in rep.get("/api/v1/tasks/", {"opportunity": records["opportunity"].pk}).json()["results"]
    ] == ["报价"]
    assert api(users["rep_south"]).post(f"/api/v1/tasks/{task['id']}/complete/").status_code == 404
    response = rep.post(f"/api/v1/tasks/{task['id']}/complete/")
    assert response.status_code == 200 and response.json()["status"] == "done" and response.json()["completed_at"]
    response = rep.post(f"/api/v1/tasks/{task['id']}/reopen/")
    assert response.json()["status"] == "open" and response.json()["completed_at"] is None
    assert rep.delete(f"/api/v1/tasks/{task['id']}/").status_code == 403  # reps may not delete
    assert manager.delete(f"/api/v1/tasks/{task['id']}/").status_code == 204
    assert not Task.objects.exists()


def test_no_role_no_access(users: dict[str, User]) -> None:
    nobody = api(users["nobody"])
    assert nobody.get("/api/v1/tasks/").json()["results"] == []
    assert nobody.post("/api/v1/tasks/", {"title": "x"}, format="json").status_code == 403
