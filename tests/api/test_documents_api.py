"""/api/v1/products/, price-lists/, quotes/ (+ send, accept, decline, revise, pdf), orders/, contracts/ and
payments/ (+ receive): the same rules as the pages, the same gate (G1), the usual error format."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from kehu.core.models import Event
from kehu.sales.models import ContractFile, Payment, PriceList, Quote, SalesOrder
from kehu.sales.services import catalogue, documents
from kehu.users.models import User
from tests.api.conftest import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def cat(users: dict[str, User], root: User) -> dict[str, Any]:
    cny = PriceList.objects.get(currency="CNY", is_default=True)
    crm = catalogue.create_product(actor=root, data={"name": "客户管理软件", "sku": "CRM-1", "unit": "套"})
    odd = catalogue.create_product(actor=root, data={"name": "网关", "sku": "GW-1"})
    catalogue.set_prices(actor=root, price_list=cny, prices={crm: "1000"})
    return {"cny": cny, "crm": crm, "odd": odd}


def counts() -> tuple[int, int, int, int]:
    return (Quote.objects.count(), SalesOrder.objects.count(), Payment.objects.count(), Event.objects.count())


def new_quote(api: APIClient, customer: Any, cat: dict[str, Any], **extra: Any) -> Any:
    body = {
        "customer": customer.pk,
        "price_list": cat["cny"].pk,
        "lines": [{"product": cat["crm"].pk, "quantity": "2", "discount": "10"}],
        **extra,
    }
    return api.post("/api/v1/quotes/", body, format="json")


def test_quote_lifecycle_over_the_api(
    users: dict[str, User], client_for: Callable[[str], APIClient], cat: dict[str, Any]
) -> None:
    rep = client_for("rep")
    customer = make_customer(users["rep"])
    response = new_quote(rep, customer, cat, language="en")
    assert response.status_code == 201, response.json()
    quote = response.json()
    assert quote["number"].startswith(f"Q-{timezone.localdate().year}-")
    assert (quote["subtotal"], quote["discount_total"], quote["tax"], quote["total"]) == (
        "2000.00",
        "200.00",
        "234.00",
        "2034.00",
    )
    assert quote["lines"][0]["total"] == "1800.00"
    qid = quote["id"]
    patched = rep.patch(f"/api/v1/quotes/{qid}/", {"lines": [{"product": cat["crm"].pk, "quantity": 1}]}, format="json")
    assert patched.status_code == 200 and patched.json()["total"] == "1130.00"
    pdf = rep.get(f"/api/v1/quotes/{qid}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert rep.post(f"/api/v1/quotes/{qid}/send/").json()["status"] == "sent"
    refused = rep.patch(f"/api/v1/quotes/{qid}/", {"title": "x"}, format="json")
    assert refused.status_code == 400
    revised = rep.post(f"/api/v1/quotes/{qid}/revise/")
    assert revised.status_code == 201 and revised.json()["revision"] == 2
    rid = revised.json()["id"]
    rep.post(f"/api/v1/quotes/{rid}/send/")
    accepted = rep.post(f"/api/v1/quotes/{rid}/accept/")
    assert accepted.status_code == 200, accepted.json()
    body = accepted.json()
    assert body["quote"]["status"] == "accepted" and body["opportunity_won"] is None
    order = rep.get(f"/api/v1/orders/{body['order']}/").json()
    assert order["total"] == "1130.00" and order["quote"] == rid and len(order["lines"]) == 1


def test_bad_quote_input_over_the_api_changes_nothing(
    users: dict[str, User], client_for: Callable[[str], APIClient], cat: dict[str, Any]
) -> None:
    rep = client_for("rep")
    customer = make_customer(users["rep"])
    before = counts()
    negative = new_quote(rep, customer, cat, lines=[{"product": cat["crm"].pk, "quantity": "-1"}])
    assert negative.status_code == 400
    assert negative.json() == {"errors": {"lines.0.quantity": ["The quantity must be greater than zero."]}}
    missing = new_quote(rep, customer, cat, lines=[{"product": cat["odd"].pk, "quantity": "1"}])
    assert missing.json() == {
        "errors": {"lines.0.product": ["“网关” has no price in the price list “标准价 Standard (CNY)”."]}
    }
    assert counts() == before


def test_payments_over_the_api(
    users: dict[str, User], client_for: Callable[[str], APIClient], cat: dict[str, Any]
) -> None:
    customer = make_customer(users["rep"])
    quote = documents.create_quote(
        actor=users["rep"], data={"customer": customer}, lines=[{"product": cat["crm"], "quantity": 1}]
    )
    documents.send_quote(actor=users["rep"], quote=quote)
    order = documents.accept_quote(actor=users["rep"], quote=quote).order  # total ¥1,130.00
    finance = client_for("finance")
    before = counts()
    too_much = finance.post(
        "/api/v1/payments/", {"sales_order": order.pk, "amount": "2000", "status": "received"}, format="json"
    )
    assert too_much.status_code == 400
    assert too_much.json() == {
        "errors": {
            "amount": [
                f"The payment (¥2,000.00) is more than is left to plan or collect on {order.number}: ¥1,130.00 of "
                "¥1,130.00 (received ¥0.00, planned ¥0.00)."
            ]
        }
    }
    assert counts() == before
    planned = finance.post(
        "/api/v1/payments/",
        {"sales_order": order.pk, "amount": "500", "due_date": str(timezone.localdate().replace(year=2020))},
        format="json",
    )
    assert planned.status_code == 201 and planned.json()["overdue"] is True
    pid = planned.json()["id"]
    assert [p["id"] for p in finance.get("/api/v1/payments/?overdue=true").json()["results"]] == [pid]
    received = finance.post(f"/api/v1/payments/{pid}/receive/", {"method": "bank"}, format="json")
    assert received.status_code == 200 and received.json()["status"] == "received"
    assert finance.get("/api/v1/payments/?overdue=true").json()["results"] == []
    assert finance.get(f"/api/v1/orders/{order.pk}/").json()["paid_amount"] == "500.00"
    # G1: the service agent gets nothing, the other rep neither; the owner rep may read but not record
    agent = client_for("agent")
    assert agent.get("/api/v1/orders/").json()["results"] == []
    assert agent.get("/api/v1/payments/").json()["results"] == []
    assert agent.get("/api/v1/quotes/").json()["results"] == []
    assert agent.get(f"/api/v1/orders/{order.pk}/").status_code == 404
    assert agent.get(f"/api/v1/payments/{pid}/").status_code == 404
    assert agent.get(f"/api/v1/quotes/{quote.pk}/pdf/").status_code == 404
    assert client_for("rep2").get(f"/api/v1/orders/{order.pk}/").status_code == 404
    rep = client_for("rep")
    assert rep.get(f"/api/v1/payments/{pid}/").status_code == 200
    assert rep.post(
        "/api/v1/payments/", {"sales_order": order.pk, "amount": "1", "status": "received"}, format="json"
    ).status_code in (403, 404)
    events = agent.get("/api/v1/events/").json()["results"]
    assert not [e for e in events if e["object_type"] in ("sales.salesorder", "sales.payment", "sales.quote")]


def test_contract_dates_over_the_api(users: dict[str, User], client_for: Callable[[str], APIClient]) -> None:
    customer = make_customer(users["rep"])
    rep = client_for("rep")
    before = counts()
    response = rep.post(
        "/api/v1/contracts/",
        {"title": "合同", "customer": customer.pk, "start_date": "2026-05-01", "end_date": "2026-04-01"},
        format="json",
    )
    assert response.json() == {"errors": {"end_date": ["The contract cannot end before it starts."]}}
    assert counts() == before
    ok = rep.post(
        "/api/v1/contracts/", {"title": "合同", "customer": customer.pk, "start_date": "2026-05-01"}, format="json"
    )
    assert ok.status_code == 201 and ok.json()["number"].startswith("CT-")


def test_catalogue_over_the_api(client_for: Callable[[str], APIClient], cat: dict[str, Any]) -> None:
    admin, rep = client_for("admin"), client_for("rep")
    assert {p["sku"] for p in rep.get("/api/v1/products/").json()["results"]} == {"CRM-1", "GW-1"}
    assert rep.post("/api/v1/products/", {"name": "x", "sku": "X-1"}, format="json").status_code == 403
    dup = admin.post("/api/v1/products/", {"name": "x", "sku": "crm-1"}, format="json")
    assert dup.json() == {"errors": {"sku": ["Another product already has the SKU “crm-1”."]}}
    set_price = admin.post(
        f"/api/v1/price-lists/{cat['cny'].pk}/prices/",
        {"prices": [{"product": cat["odd"].pk, "price": "99.50"}]},
        format="json",
    )
    assert set_price.status_code == 200
    assert {i["sku"]: i["price"] for i in set_price.json()["items"]} == {"CRM-1": "1000.00", "GW-1": "99.50"}
    bad = admin.post("/api/v1/price-lists/", {"name": "坏", "currency": "RMB1"}, format="json")
    assert bad.status_code == 400


def test_contract_files_over_the_api(
    users: dict[str, User], client_for: Callable[[str], APIClient], settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    customer = make_customer(users["rep"])
    rep = client_for("rep")
    contract = rep.post(
        "/api/v1/contracts/", {"title": "合同", "customer": customer.pk, "start_date": "2026-05-01"}, format="json"
    ).json()
    url = f"/api/v1/contracts/{contract['id']}/files/"

    # not a PDF though it says so; no file at all: a message under "file", nothing stored
    fake = SimpleUploadedFile("签字版.pdf", b"<script>alert(1)</script>", content_type="application/pdf")
    bad = rep.post(url, {"file": fake}, format="multipart")
    assert bad.status_code == 400 and list(bad.json()["errors"]) == ["file"]
    assert rep.post(url, {}, format="multipart").json()["errors"]["file"]
    assert not ContractFile.objects.exists() and not [p for p in tmp_path.rglob("*") if p.is_file()]

    key = {"HTTP_IDEMPOTENCY_KEY": "upload-1"}
    ok = rep.post(url, {"file": SimpleUploadedFile("签字版.pdf", b"%PDF-1.4 signed")}, format="multipart", **key)
    assert ok.status_code == 201, ok.json()
    item = ok.json()
    # a retried upload of the same file is answered with the first response; another file under the key is refused
    again = rep.post(url, {"file": SimpleUploadedFile("签字版.pdf", b"%PDF-1.4 signed")}, format="multipart", **key)
    assert again.json() == item and again["Idempotent-Replayed"] == "true"
    other_file = SimpleUploadedFile("签字版.pdf", b"%PDF-1.4 other")
    assert rep.post(url, {"file": other_file}, format="multipart", **key).status_code == 422
    assert ContractFile.objects.count() == 1
    assert (item["name"], item["size"]) == ("签字版.pdf", 15)
    listed = rep.get(f"/api/v1/contracts/{contract['id']}/").json()["files"]
    assert [f["id"] for f in listed] == [item["id"]]

    download = rep.get(item["download"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 signed"
    assert "attachment" in download["Content-Disposition"]

    # outside the scope (another region's rep) or without contracts at all (service agent): 404, nothing changes
    for who in ("rep2", "agent"):
        other = client_for(who)
        assert other.get(item["download"]).status_code == 404
        assert other.delete(item["download"]).status_code == 404
        assert (
            other.post(url, {"file": SimpleUploadedFile("x.pdf", b"%PDF-1.4")}, format="multipart").status_code == 404
        )
    assert ContractFile.objects.count() == 1

    assert rep.delete(f"/api/v1/contracts/{contract['id']}/").status_code == 405  # a contract is never deleted
    assert rep.delete(item["download"]).status_code == 204
    assert not ContractFile.objects.exists()
    assert rep.get(item["download"]).status_code == 404


def test_quote_for_a_deal_is_in_the_deals_currency_over_the_api(
    users: dict[str, User], client_for: Callable[[str], APIClient], cat: dict[str, Any], root: User
) -> None:
    """A deal in EUR with no EUR price list: no quote in CNY at CNY prices, but a message naming EUR."""
    from kehu.sales import services

    rep = client_for("rep")
    customer = make_customer(users["rep"])
    opp = services.create_opportunity(
        actor=users["rep"],
        data={"name": "Berlin rollout", "customer": customer, "currency": "EUR"},
        lines=[{"product": cat["crm"], "quantity": 1, "unit_price": "120"}],
    )
    before = counts()
    response = rep.post("/api/v1/quotes/", {"opportunity": opp.pk}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "errors": {
            "price_list": [
                "There is no active price list in EUR, the currency of the deal “Berlin rollout”. Add one in "
                "Settings → Price lists, or change the deal’s currency."
            ]
        }
    }
    assert counts() == before
    eur = catalogue.create_price_list(actor=root, data={"name": "Europe", "currency": "EUR"})
    catalogue.set_prices(actor=root, price_list=eur, prices={cat["crm"]: "130"})
    before = counts()
    response = rep.post("/api/v1/quotes/", {"opportunity": opp.pk, "price_list": cat["cny"].pk}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["price_list"] == [
        "The deal “Berlin rollout” is in EUR; the price list “标准价 Standard” is in CNY. Choose a price list in EUR."
    ]
    assert counts() == before
    response = rep.post("/api/v1/quotes/", {"opportunity": opp.pk}, format="json")
    assert response.status_code == 201, response.json()
    assert (response.json()["currency"], response.json()["price_list"]) == ("EUR", eur.pk)


def test_cancelled_order_takes_no_payments_over_the_api(
    users: dict[str, User], client_for: Callable[[str], APIClient], cat: dict[str, Any]
) -> None:
    customer = make_customer(users["rep"])
    quote = documents.create_quote(
        actor=users["rep"], data={"customer": customer}, lines=[{"product": cat["crm"], "quantity": 1}]
    )
    documents.send_quote(actor=users["rep"], quote=quote)
    order = documents.accept_quote(actor=users["rep"], quote=quote).order
    finance = client_for("finance")
    planned = finance.post(
        "/api/v1/payments/",
        {"sales_order": order.pk, "amount": "500", "due_date": str(timezone.localdate().replace(year=2020))},
        format="json",
    ).json()
    assert finance.post(f"/api/v1/orders/{order.pk}/status/", {"status": "cancelled"}, format="json").status_code == 200
    assert finance.get(f"/api/v1/payments/{planned['id']}/").json()["status"] == "cancelled"
    assert finance.get("/api/v1/payments/?overdue=true").json()["results"] == []
    before = counts()
    response = finance.post(
        "/api/v1/payments/", {"sales_order": order.pk, "amount": "1", "status": "received"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"errors": {"sales_order": [f"Order {order.number} is cancelled; it takes no payments."]}}
    assert counts() == before
