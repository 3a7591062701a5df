"""Exports through the API: POST /api/v1/exports/ answers 202 with a job, /api/v1/jobs/{id}/ follows it, and its
`download` hands over the file — the same gate as the Export menu: rows in scope, readable fields only."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from kehu.core.models import Job
from kehu.customers import services as customer_services
from kehu.users.models import User
from tests.api.conftest import finance_customer, make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


def start(api: APIClient, capture: Any, **body: Any) -> Any:
    with capture(execute=True):
        return api.post("/api/v1/exports/", body, format="json")


def test_export_job_and_download(
    users: dict[str, User],
    client_for: Callable[[str], APIClient],
    django_capture_on_commit_callbacks: Any,
    run_jobs: Callable[[], int],
) -> None:
    make_customer(users["rep"], "East Retained", lifecycle_stage="retained")
    make_customer(users["rep"], "East Prospect", lifecycle_stage="prospect")
    make_customer(users["admin"], "HQ Retained", lifecycle_stage="retained")
    api = client_for("manager")
    response = start(
        api,
        django_capture_on_commit_callbacks,
        object_type="customers.customer",
        query="lifecycle_stage=retained&cols=name",
    )
    assert response.status_code == 202, response.json()
    job = response.json()
    assert (job["status"], job["download"], job["kind"]) == ("queued", None, "export")
    run_jobs()
    done = api.get(f"/api/v1/jobs/{job['id']}/").json()
    assert (done["status"], done["done"], done["total"], done["percent"]) == ("done", 1, 1, 100)
    assert done["download"].endswith(f"/api/v1/jobs/{job['id']}/download/")
    file = api.get(done["download"])
    assert file.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(file.streaming_content).decode("utf-8-sig"))))
    assert rows == [["ID", "Name"], [rows[1][0], "East Retained"]]
    assert [j["id"] for j in api.get("/api/v1/jobs/").json()] == [job["id"]]


def test_hidden_fields_and_other_peoples_jobs(
    users: dict[str, User],
    client_for: Callable[[str], APIClient],
    django_capture_on_commit_callbacks: Any,
    run_jobs: Callable[[], int],
) -> None:
    finance_customer(users)
    marketer = client_for("marketer")
    job = start(marketer, django_capture_on_commit_callbacks, object_type="customers.customer", columns="all").json()
    run_jobs()
    body = b"".join(marketer.get(f"/api/v1/jobs/{job['id']}/download/").streaming_content).decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(body)))
    assert "Name" in header and not {"Credit limit", "Payment terms", "Bank account"} & set(header)
    other = client_for("admin")
    assert other.get(f"/api/v1/jobs/{job['id']}/").status_code == 404
    assert other.get(f"/api/v1/jobs/{job['id']}/download/").status_code == 404
    assert other.get("/api/v1/jobs/").json() == []


def test_bad_export_requests_are_named_per_field(
    users: dict[str, User], client_for: Callable[[str], APIClient], django_capture_on_commit_callbacks: Any
) -> None:
    api = client_for("manager")
    cases = [
        ({"object_type": "customers.customer", "format": "pdf"}, "format"),
        ({"object_type": "customers.customer", "query": "credit_limitx=1"}, "query"),
        ({"object_type": "nothing.here"}, "object_type"),
        ({"object_type": "customers.customer", "colour": "red"}, "colour"),
    ]
    for body, field in cases:
        response = start(api, django_capture_on_commit_callbacks, **body)
        assert response.status_code == 400, body
        assert field in response.json()["errors"], response.json()
    assert "Cannot filter on “credit_limitx”." in str(
        start(api, django_capture_on_commit_callbacks, object_type="customers.customer", query="credit_limitx=1").json()
    )
    refused = start(client_for("rep"), django_capture_on_commit_callbacks, object_type="customers.customer")
    assert refused.status_code == 403
    assert not Job.objects.exists()


def test_a_retried_export_with_the_same_key_starts_one_job(
    users: dict[str, User], client_for: Callable[[str], APIClient], django_capture_on_commit_callbacks: Any
) -> None:
    api = client_for("manager")
    api.credentials(HTTP_AUTHORIZATION=api._credentials["HTTP_AUTHORIZATION"], HTTP_IDEMPOTENCY_KEY="export-1")
    first = start(api, django_capture_on_commit_callbacks, object_type="customers.customer")
    again = start(api, django_capture_on_commit_callbacks, object_type="customers.customer")
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert Job.objects.count() == 1


def test_customer_changes_after_the_request_are_in_the_file(
    users: dict[str, User],
    client_for: Callable[[str], APIClient],
    django_capture_on_commit_callbacks: Any,
    run_jobs: Callable[[], int],
) -> None:
    """The job reads the list when it runs, through the gate as it is then."""
    customer = make_customer(users["rep"], "Before")
    api = client_for("manager")
    job = start(api, django_capture_on_commit_callbacks, object_type="customers.customer", query="cols=name").json()
    customer_services.update_customer(actor=users["rep"], customer=customer, values={"name": "After"})
    run_jobs()
    body = b"".join(api.get(f"/api/v1/jobs/{job['id']}/download/").streaming_content).decode("utf-8-sig")
    assert "After" in body and "Before" not in body
