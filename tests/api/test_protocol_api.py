"""API conventions: ETag / If-Match, Idempotency-Key, 413, unknown parameters, 401, the event feed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from kehu.core.models import Event, IdempotencyRecord
from kehu.customers import services as customer_services
from kehu.customers.models import Customer
from tests.api.conftest import finance_customer, make_customer

pytestmark = pytest.mark.django_db
URL = "/api/v1/customers/"


def test_etag_and_if_match(users: Any, rep_api: Any) -> None:
    customer = make_customer(users["rep"])
    r = rep_api.get(f"{URL}{customer.pk}/")
    tag = r["ETag"]
    assert tag == '"1"'
    r = rep_api.patch(f"{URL}{customer.pk}/", {"city": "上海"}, HTTP_IF_MATCH=tag)
    assert r.status_code == 200 and r["ETag"] == '"2"'
    # someone else's save made our tag stale: 412, nothing written
    r = rep_api.patch(f"{URL}{customer.pk}/", {"city": "杭州"}, HTTP_IF_MATCH=tag)
    assert r.status_code == 412
    assert list(r.json()["errors"]) == ["__all__"]
    assert rep_api.put(f"{URL}{customer.pk}/", {"name": "x"}, HTTP_IF_MATCH=tag).status_code == 412
    customer.refresh_from_db()
    assert customer.city == "上海"
    # a weak tag or * match too; without If-Match the write is unconditional
    assert rep_api.patch(f"{URL}{customer.pk}/", {"city": "南京"}, HTTP_IF_MATCH='W/"2"').status_code == 200
    assert rep_api.patch(f"{URL}{customer.pk}/", {"city": "苏州"}, HTTP_IF_MATCH="*").status_code == 200
    assert rep_api.patch(f"{URL}{customer.pk}/", {"city": "无锡"}).status_code == 200


def test_delete_with_stale_if_match_is_412(users: Any, admin_api: Any) -> None:
    customer = make_customer(users["admin"])
    customer_services.update_customer(actor=users["admin"], customer=customer, values={"city": "x"})
    assert admin_api.delete(f"{URL}{customer.pk}/", HTTP_IF_MATCH='"1"').status_code == 412
    assert admin_api.delete(f"{URL}{customer.pk}/", HTTP_IF_MATCH='"2"').status_code == 204


def test_idempotency_key_replays_the_first_response(users: Any, rep_api: Any) -> None:
    body = {"name": "幂等客户", "tags": ["a"]}
    first = rep_api.post(URL, body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201
    again = rep_api.post(URL, body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Customer.objects.filter(name="幂等客户").count() == 1
    # the same key with another body is refused
    other = rep_api.post(URL, {"name": "另一个"}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 422 and "__all__" in other.json()["errors"]
    assert not Customer.objects.filter(name="另一个").exists()
    # keys belong to their user
    rep2 = APIClient()
    from kehu.users import services as user_services

    rep2.credentials(HTTP_AUTHORIZATION="Bearer " + user_services.create_token(user=users["rep2"]))
    assert rep2.post(URL, body, HTTP_IDEMPOTENCY_KEY="k-1").status_code == 201
    assert Customer.objects.filter(name="幂等客户").count() == 2
    assert IdempotencyRecord.objects.count() == 2


def test_failed_post_is_not_stored(rep_api: Any) -> None:
    assert rep_api.post(URL, {"name": ""}, HTTP_IDEMPOTENCY_KEY="k-2").status_code == 400
    assert rep_api.post(URL, {"name": "ok"}, HTTP_IDEMPOTENCY_KEY="k-2").status_code == 201


def test_idempotent_action(users: Any, client_for: Any) -> None:
    customer = make_customer(users["rep"])
    api = client_for("manager")
    for _ in range(2):
        r = api.post(f"{URL}{customer.pk}/assign/", {"owner": users["rep2"].pk}, HTTP_IDEMPOTENCY_KEY="assign-1")
        assert r.status_code == 200
    assert Event.objects.filter(object_id=customer.pk, verb="assigned").count() == 1


def test_body_over_one_mebibyte_is_413(rep_api: Any) -> None:
    body = json.dumps({"name": "x", "description": "长" * (600 * 1024)})
    r = rep_api.generic("POST", URL, body, content_type="application/json")
    assert r.status_code == 413
    assert "__all__" in r.json()["errors"]
    assert not Customer.objects.exists()


def test_unknown_query_parameter_on_detail(users: Any, rep_api: Any) -> None:
    customer = make_customer(users["rep"])
    r = rep_api.get(f"{URL}{customer.pk}/?expand=all")
    assert r.status_code == 400 and r.json()["errors"] == {"expand": ["Unknown query parameter."]}


def test_unauthenticated_and_bad_token_are_401(db: Any) -> None:
    anon = APIClient()
    r = anon.get(URL)
    assert r.status_code == 401 and "__all__" in r.json()["errors"]
    anon.credentials(HTTP_AUTHORIZATION="Bearer kehu_wrong")
    assert anon.get(URL).status_code == 401


def test_session_authentication_works(users: Any) -> None:
    client = APIClient()
    client.force_login(users["rep"])
    assert client.get("/api/v1/me/").json()["username"] == "rep"


def test_me(rep_api: Any, users: Any) -> None:
    body = rep_api.get("/api/v1/me/").json()
    assert body["id"] == users["rep"].pk and body["team"] == users["rep"].team_id


# --------------------------------------------------------------------------- events feed


def _feed(api: Any, after: int = 0) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    url: str | None = f"/api/v1/events/?after={after}&page_size=5"
    while url:
        r = api.get(url)
        assert r.status_code == 200, r.json()
        out += r.json()["results"]
        url = r.json()["next"]
    return out


def test_events_feed_by_cursor_in_id_order(users: Any, rep_api: Any) -> None:
    customer = make_customer(users["rep"])
    events = _feed(rep_api)
    ids = [e["id"] for e in events]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    mine = [e for e in events if e["object_type"] == "customers.customer"]
    assert [(e["object_id"], e["verb"]) for e in mine] == [(customer.pk, "created")]
    # only what came after the cursor
    customer_services.update_customer(actor=users["rep"], customer=customer, values={"city": "成都"})
    newer = _feed(rep_api, after=ids[-1])
    assert [(e["verb"], e["changes"]) for e in newer] == [("updated", {"city": ["", "成都"]})]


def test_events_feed_hides_records_out_of_scope(users: Any, rep_api: Any) -> None:
    theirs = make_customer(users["rep2"])
    assert not [e for e in _feed(rep_api) if e["object_type"] == "customers.customer" and e["object_id"] == theirs.pk]


def test_events_feed_masks_hidden_fields(users: Any, rep_api: Any, client_for: Any) -> None:
    customer = finance_customer(users)
    rep_events = [
        e for e in _feed(rep_api) if e["object_id"] == customer.pk and e["object_type"] == "customers.customer"
    ]
    finance_update = [e for e in rep_events if e["actor"] == users["finance"].pk]
    assert finance_update and all(
        not ({"credit_limit", "payment_terms", "bank_account"} & set(e["changes"])) for e in rep_events
    )
    assert "50000" not in json.dumps(rep_events)
    fin_events = [e for e in _feed(client_for("finance")) if e["object_id"] == customer.pk]
    assert any("credit_limit" in e["changes"] for e in fin_events)


def test_events_feed_bad_cursor(rep_api: Any) -> None:
    assert rep_api.get("/api/v1/events/?after=abc").status_code == 400
    assert rep_api.get("/api/v1/events/?since=1").status_code == 400
