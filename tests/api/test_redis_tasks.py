"""Kehu with Redis carrying its background work (KEHU_TASKS=redis, the RQ backend), the set-up for several
machines: an export started through the API is queued in the real Redis on 127.0.0.1:6379 (database 15,
emptied first) and run by an RQ worker, with the same job row, progress and file as with the database queue.
Skipped where there is no Redis, except under KEHU_REQUIRE_SERVICES=1 (CI), where a missing Redis fails."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from rest_framework.test import APIClient

from kehu.core.models import Job
from kehu.users.models import User
from tests.api.conftest import make_customer

URL = os.environ.get("KEHU_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
pytestmark = pytest.mark.django_db


@pytest.fixture
def rq_backend(settings: Any, tmp_path: Any) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(URL)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("KEHU_REQUIRE_SERVICES"):
            pytest.fail(f"no Redis at {URL}")
        pytest.skip(f"no Redis at {URL}")
    client.flushdb()
    settings.MEDIA_ROOT = tmp_path
    settings.RQ_QUEUES = {"default": {"URL": URL}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.backend.RQBackend", "QUEUES": ["default"]}}
    yield client
    client.flushdb()
    client.close()


def test_an_export_queued_in_redis_is_run_by_an_rq_worker(
    rq_backend: redis.Redis,
    users: dict[str, User],
    client_for: Callable[[str], APIClient],
    django_capture_on_commit_callbacks: Any,
) -> None:
    import django_rq
    from django_tasks_rq.backend import Job as TaskJob
    from rq import SimpleWorker

    make_customer(users["rep"], "Redis Queued Co")
    api = client_for("manager")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/exports/", {"object_type": "customers.customer", "query": "cols=name"}, format="json"
        )
    assert response.status_code == 202
    queue = django_rq.get_queue("default", job_class=TaskJob)
    assert queue.count == 1  # waiting in Redis, not run by the request
    assert Job.objects.get().status == Job.Status.QUEUED

    # a worker in this process (SimpleWorker: no fork), so it reads the test's database transaction
    worker = SimpleWorker([queue], connection=queue.connection, job_class=TaskJob)
    assert worker.work(burst=True)
    job = Job.objects.get()
    assert (job.status, job.done) == (Job.Status.DONE, 1)
    body = b"".join(api.get(f"/api/v1/jobs/{job.pk}/download/").streaming_content).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(body)))[1][1] == "Redis Queued Co"
    assert queue.count == 0
