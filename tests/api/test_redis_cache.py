"""Kehu with Redis as its cache (CACHE_URL=redis://…), the set-up for more than one worker process: the API's
rate limit and the reports' currency list live in Redis, so every process sees the same counters and the same
list. Runs against the real Redis on 127.0.0.1:6379 (database 15, emptied first); skipped where there is none,
except under KEHU_REQUIRE_SERVICES=1 (CI), where a missing Redis fails."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from rest_framework.test import APIClient

from kehu.sales import queries as sales_queries
from kehu.sales import services
from tests.api.conftest import make_customer

URL = os.environ.get("KEHU_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TOKEN_URL = "/api/v1/auth/token/"
pytestmark = pytest.mark.django_db


@pytest.fixture
def real_redis(settings: Any) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(URL)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("KEHU_REQUIRE_SERVICES"):
            pytest.fail(f"no Redis at {URL}")
        pytest.skip(f"no Redis at {URL}")
    client.flushdb()
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": URL}}
    yield client
    client.flushdb()
    client.close()


def _keys(client: redis.Redis, part: str) -> list[bytes]:
    return [k for k in client.keys("*") if part.encode() in k]


def test_the_token_rate_limit_is_counted_in_redis(real_redis: redis.Redis, users: Any) -> None:
    codes = [
        APIClient().post(TOKEN_URL, {"username": "", "password": ""}, format="json").status_code for _ in range(11)
    ]
    assert codes[:10] == [400] * 10 and codes[10] == 429
    # the counter is in Redis, where another worker process finds it: emptying Redis lets requests through again
    assert _keys(real_redis, "throttle")
    real_redis.flushdb()
    assert APIClient().post(TOKEN_URL, {"username": "", "password": ""}, format="json").status_code == 400


def test_the_report_currency_list_is_shared_and_dropped_when_a_new_currency_comes(
    real_redis: redis.Redis, users: Any, django_capture_on_commit_callbacks: Any
) -> None:
    rep = users["rep"]
    customer = make_customer(rep)
    services.create_opportunity(actor=rep, data={"name": "人民币单", "customer": customer, "amount": "100"})
    assert sales_queries.deal_currencies() == ["CNY"]
    assert _keys(real_redis, sales_queries.CURRENCIES_KEY)  # stored for every process

    with django_capture_on_commit_callbacks(execute=True):
        services.create_opportunity(
            actor=rep, data={"name": "美元单", "customer": customer, "amount": "10", "currency": "USD"}
        )
    assert not _keys(real_redis, sales_queries.CURRENCIES_KEY)  # dropped in Redis, not just in this process
    assert sales_queries.deal_currencies() == ["CNY", "USD"]
